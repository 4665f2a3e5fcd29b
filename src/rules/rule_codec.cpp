// Rule codec. Every member of Rule (and of the structs it holds) is named
// once, in the visit functions below; encoding and decoding walk the same
// list. Integers are zigzag varints, strings and lists are length-prefixed.
#include "rules/rule_codec.h"

#include <cstdint>
#include <map>
#include <type_traits>
#include <utility>
#include <vector>

namespace vigil {
namespace {

constexpr std::uint8_t kFormat = 1;

// A member added to Rule changes its size: this fails until the member is
// added to visit(Rule) below (and kFormat is raised), so no rule loaded from
// the cache silently lacks it. Sizes as libstdc++ on x86-64 lays them out.
static_assert(sizeof(Rule) == 872, "Rule changed: add the new member to visit() in rule_codec.cpp, raise kFormat");

template <typename T>
struct is_vector : std::false_type {};
template <typename T>
struct is_vector<std::vector<T>> : std::true_type {};
template <typename T>
struct is_optional : std::false_type {};
template <typename T>
struct is_optional<std::optional<T>> : std::true_type {};

template <typename Io, typename E>
void visit(Io& io, E& e)
  requires std::is_same_v<std::remove_const_t<E>, ThreatEntry>
{
  io(e.id);
  io(e.name);
  io(e.reference);
}

template <typename Io, typename T>
void visit(Io& io, T& t)
  requires std::is_same_v<std::remove_const_t<T>, ThreatTechnique>
{
  io(t.technique);
  io(t.subtechniques);
}

template <typename Io, typename T>
void visit(Io& io, T& t)
  requires std::is_same_v<std::remove_const_t<T>, Threat>
{
  io(t.framework);
  io(t.tactic);
  io(t.techniques);
}

template <typename Io, typename S>
void visit(Io& io, S& s)
  requires std::is_same_v<std::remove_const_t<S>, AlertSuppression>
{
  io(s.group_by);
  io(s.duration_ns);
  io(s.missing_fields_strategy);
}

template <typename Io, typename P>
void visit(Io& io, P& p)
  requires std::is_same_v<std::remove_const_t<P>, SourcePos>
{
  io(p.line);
  io(p.column);
  io(p.offset);
}

template <typename Io, typename C>
void visit(Io& io, C& c)
  requires std::is_same_v<std::remove_const_t<C>, RarityCondition>
{
  io(c.fields);
  io(c.scope);
  io(c.population);
  io(c.max_count);
  io(c.pos);
}

template <typename Io, typename R>
void visit(Io& io, R& r)
  requires std::is_same_v<std::remove_const_t<R>, Rule>
{
  io(r.file);
  io(r.query_pos);
  io(r.query_multiline_literal);
  io(r.rule_id);
  io(r.name);
  io(r.description);
  io(r.severity);
  io(r.risk_score);
  io(r.type);
  io(r.language);
  io(r.query);
  io(r.interval_ns);
  io(r.lookback_ns);
  io(r.from);
  io(r.interval);
  io(r.max_signals);
  io(r.version);
  io(r.tags);
  io(r.index);
  io(r.references);
  io(r.false_positives);
  io(r.author);
  io(r.license);
  io(r.note);
  io(r.building_block_type);
  io(r.timestamp_override);
  io(r.threat);
  io(r.exceptions_list);
  io(r.alert_suppression);
  io(r.new_terms_fields);
  io(r.new_terms_history_window_start);
  io(r.new_terms_history_ns);
  io(r.rarity);
  io(r.extra);
}

class Encoder {
 public:
  explicit Encoder(std::string& out) : out_(out) {}

  template <typename T>
  void operator()(const T& v) {
    if constexpr (std::is_same_v<T, std::string>) {
      varint(v.size());
      out_ += v;
    } else if constexpr (std::is_same_v<T, bool>) {
      out_.push_back(v ? 1 : 0);
    } else if constexpr (std::is_integral_v<T>) {
      const auto s = static_cast<std::int64_t>(v);
      varint((static_cast<std::uint64_t>(s) << 1) ^ static_cast<std::uint64_t>(s >> 63));  // zigzag
    } else if constexpr (is_vector<T>::value) {
      varint(v.size());
      for (const auto& item : v) (*this)(item);
    } else if constexpr (is_optional<T>::value) {
      (*this)(v.has_value());
      if (v) (*this)(*v);
    } else if constexpr (std::is_same_v<T, std::map<std::string, std::string>>) {
      varint(v.size());
      for (const auto& [key, value] : v) {
        (*this)(key);
        (*this)(value);
      }
    } else {
      visit(*this, v);
    }
  }

 private:
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  std::string& out_;
};

class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool at_end() const { return in_.empty(); }

  template <typename T>
  void operator()(T& v) {
    if (!ok_) return;
    if constexpr (std::is_same_v<T, std::string>) {
      std::uint64_t n = varint();
      if (n > in_.size()) return fail();
      v.assign(in_.substr(0, n));
      in_.remove_prefix(n);
    } else if constexpr (std::is_same_v<T, bool>) {
      if (in_.empty() || static_cast<std::uint8_t>(in_[0]) > 1) return fail();
      v = in_[0] == 1;
      in_.remove_prefix(1);
    } else if constexpr (std::is_integral_v<T>) {
      std::uint64_t z = varint();
      const auto s = static_cast<std::int64_t>((z >> 1) ^ (~(z & 1) + 1));
      if (!std::in_range<T>(s)) return fail();
      v = static_cast<T>(s);
    } else if constexpr (is_vector<T>::value) {
      std::uint64_t n = varint();
      if (n > in_.size()) return fail();  // every item takes at least one byte
      v.resize(n);
      for (auto& item : v) (*this)(item);
    } else if constexpr (is_optional<T>::value) {
      bool present = false;
      (*this)(present);
      if (!present) {
        v.reset();
        return;
      }
      v.emplace();
      (*this)(*v);
    } else if constexpr (std::is_same_v<T, std::map<std::string, std::string>>) {
      std::uint64_t n = varint();
      if (n > in_.size()) return fail();
      v.clear();
      for (std::uint64_t i = 0; i < n && ok_; ++i) {
        std::string key, value;
        (*this)(key);
        (*this)(value);
        v.emplace(std::move(key), std::move(value));
      }
    } else {
      visit(*this, v);
    }
  }

 private:
  void fail() { ok_ = false; }
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (in_.empty()) break;
      const auto b = static_cast<std::uint8_t>(in_[0]);
      in_.remove_prefix(1);
      v |= std::uint64_t{b & 0x7fu} << shift;
      if (!(b & 0x80)) return v;
    }
    fail();
    return 0;
  }
  std::string_view in_;
  bool ok_ = true;
};

}  // namespace

std::string encode_rule(const Rule& rule) {
  std::string out(1, static_cast<char>(kFormat));
  Encoder encoder(out);
  encoder(rule);
  return out;
}

std::optional<Rule> decode_rule(std::string_view bytes) {
  if (bytes.empty() || static_cast<std::uint8_t>(bytes[0]) != kFormat) return std::nullopt;
  Decoder decoder(bytes.substr(1));
  Rule rule;
  decoder(rule);
  if (!decoder.ok() || !decoder.at_end()) return std::nullopt;
  return rule;
}

}  // namespace vigil
