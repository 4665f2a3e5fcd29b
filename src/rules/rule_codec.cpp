// Rule codec. Every member of Rule (and of the structs it holds) is named
// once, in the members() lists below; encoding and decoding walk the same
// list. Integers are zigzag varints, strings and lists are length-prefixed.
#include "rules/rule_codec.h"

#include <cstdint>
#include <tuple>

#include "core/codec.h"

namespace vigil {
namespace {
constexpr std::uint8_t kFormat = 4;
}  // namespace

// A member added to Rule changes its size: this fails until the member is
// added to members(Rule) below (and kFormat is raised), so no rule loaded from
// the cache silently lacks it. Sizes as libstdc++ on x86-64 lays them out
// (the build CI runs); other standard libraries skip the check.
#if defined(__GLIBCXX__) && defined(__x86_64__)
static_assert(sizeof(Rule) == 1216, "Rule changed: add the new member to members() in rule_codec.cpp, raise kFormat");
#endif

// The members of each struct, in their encoded order.
auto members(Unqualified<ThreatEntry> auto& e) { return std::tie(e.id, e.name, e.reference); }
auto members(Unqualified<ThreatTechnique> auto& t) { return std::tie(t.technique, t.subtechniques); }
auto members(Unqualified<Threat> auto& t) { return std::tie(t.framework, t.tactic, t.techniques); }
auto members(Unqualified<AlertSuppression> auto& s) {
  return std::tie(s.group_by, s.duration_ns, s.missing_fields_strategy);
}
auto members(Unqualified<ThresholdSpec> auto& t) {
  return std::tie(t.fields, t.value, t.cardinality_field, t.cardinality_value);
}
auto members(Unqualified<SourcePos> auto& p) { return std::tie(p.line, p.column, p.offset); }
auto members(Unqualified<RarityCondition> auto& c) {
  return std::tie(c.fields, c.scope, c.population, c.max_count, c.pos);
}
auto members(Unqualified<CorrelationCondition> auto& c) { return std::tie(c.op, c.value); }
auto members(Unqualified<CorrelationSpec> auto& c) {
  return std::tie(c.type, c.rules, c.rule_pos, c.group_by, c.timespan_ns, c.fields, c.condition, c.aliases, c.generate);
}
auto members(Unqualified<Rule> auto& r) {
  return std::tie(r.file, r.query_pos, r.query_multiline_literal, r.rule_id, r.name, r.description, r.severity,
                  r.risk_score, r.type, r.language, r.query, r.interval_ns, r.lookback_ns, r.from, r.interval,
                  r.max_signals, r.version, r.tags, r.index, r.references, r.false_positives, r.author, r.license,
                  r.note, r.building_block_type, r.timestamp_override, r.threat, r.exceptions_list,
                  r.alert_suppression, r.new_terms_fields, r.new_terms_history_window_start, r.new_terms_history_ns,
                  r.threshold, r.rarity, r.format, r.scheduled, r.correlation, r.extra);
}

auto members(Unqualified<Error> auto& e) { return std::tie(e.code, e.message, e.pos, e.length); }
auto members(Unqualified<SigmaFilter> auto& f) {
  return std::tie(f.title, f.id, f.file, f.pos, f.any, f.rules, f.rule_pos, f.product, f.category, f.service,
                  f.condition);
}
auto members(Unqualified<SigmaFile> auto& f) { return std::tie(f.rules, f.filters, f.errors, f.skipped); }

namespace {
template <typename T>
std::string encode_one(const T& value) {
  std::string out(1, static_cast<char>(kFormat));
  Encoder encoder(out);
  encoder(value);
  return out;
}

template <typename T>
std::optional<T> decode_one(std::string_view bytes) {
  if (bytes.empty() || static_cast<std::uint8_t>(bytes[0]) != kFormat) return std::nullopt;
  Decoder decoder(bytes.substr(1));
  T value;
  decoder(value);
  if (!decoder.ok() || !decoder.at_end()) return std::nullopt;
  return value;
}
}  // namespace

std::string encode_rule(const Rule& rule) { return encode_one(rule); }
std::optional<Rule> decode_rule(std::string_view bytes) { return decode_one<Rule>(bytes); }
std::string encode_sigma_file(const SigmaFile& file) { return encode_one(file); }
std::optional<SigmaFile> decode_sigma_file(std::string_view bytes) { return decode_one<SigmaFile>(bytes); }

}  // namespace vigil
