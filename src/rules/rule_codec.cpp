// Rule codec. Every member of Rule (and of the structs it holds) is named
// once, in the members() lists below; encoding and decoding walk the same
// list. Integers are zigzag varints, strings and lists are length-prefixed.
#include "rules/rule_codec.h"

#include <cstdint>
#include <map>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace vigil {
namespace {

constexpr std::uint8_t kFormat = 1;

// A member added to Rule changes its size: this fails until the member is
// added to members(Rule) below (and kFormat is raised), so no rule loaded from
// the cache silently lacks it. Sizes as libstdc++ on x86-64 lays them out
// (the build CI runs); other standard libraries skip the check.
#if defined(__GLIBCXX__) && defined(__x86_64__)
static_assert(sizeof(Rule) == 872, "Rule changed: add the new member to members() in rule_codec.cpp, raise kFormat");
#endif

template <typename T>
struct is_vector : std::false_type {};
template <typename T>
struct is_vector<std::vector<T>> : std::true_type {};
template <typename T>
struct is_optional : std::false_type {};
template <typename T>
struct is_optional<std::optional<T>> : std::true_type {};

template <typename T, typename U>
concept Unqualified = std::is_same_v<std::remove_const_t<T>, U>;

// The members of each struct, in their encoded order.
auto members(Unqualified<ThreatEntry> auto& e) { return std::tie(e.id, e.name, e.reference); }
auto members(Unqualified<ThreatTechnique> auto& t) { return std::tie(t.technique, t.subtechniques); }
auto members(Unqualified<Threat> auto& t) { return std::tie(t.framework, t.tactic, t.techniques); }
auto members(Unqualified<AlertSuppression> auto& s) {
  return std::tie(s.group_by, s.duration_ns, s.missing_fields_strategy);
}
auto members(Unqualified<SourcePos> auto& p) { return std::tie(p.line, p.column, p.offset); }
auto members(Unqualified<RarityCondition> auto& c) {
  return std::tie(c.fields, c.scope, c.population, c.max_count, c.pos);
}
auto members(Unqualified<Rule> auto& r) {
  return std::tie(r.file, r.query_pos, r.query_multiline_literal, r.rule_id, r.name, r.description, r.severity,
                  r.risk_score, r.type, r.language, r.query, r.interval_ns, r.lookback_ns, r.from, r.interval,
                  r.max_signals, r.version, r.tags, r.index, r.references, r.false_positives, r.author, r.license,
                  r.note, r.building_block_type, r.timestamp_override, r.threat, r.exceptions_list,
                  r.alert_suppression, r.new_terms_fields, r.new_terms_history_window_start, r.new_terms_history_ns,
                  r.rarity, r.extra);
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
      std::apply([this](const auto&... m) { ((*this)(m), ...); }, members(v));
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
      std::apply([this](auto&... m) { ((*this)(m), ...); }, members(v));
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
