// Rule: one detection rule as Elastic's detection-rules TOML describes it
// ([metadata], [rule], [[rule.threat]]). The symbolic form: the loader fills
// it, detect/ compiles its query. Keys vigil does not interpret are kept (as
// JSON) so nothing a rule author wrote is dropped.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace vigil {

struct ThreatEntry {  // one ATT&CK reference: tactic, technique or sub-technique
  std::string id;
  std::string name;
  std::string reference;
  bool operator==(const ThreatEntry&) const = default;
};

struct ThreatTechnique {
  ThreatEntry technique;
  std::vector<ThreatEntry> subtechniques;
  bool operator==(const ThreatTechnique&) const = default;
};

struct Threat {
  std::string framework = "MITRE ATT&CK";
  ThreatEntry tactic;
  std::vector<ThreatTechnique> techniques;
  bool operator==(const Threat&) const = default;
};

struct AlertSuppression {
  std::vector<std::string> group_by;
  std::int64_t duration_ns = 0;  // 0: per rule execution
  std::string missing_fields_strategy = "suppress";  // or "doNotSuppress"
  bool operator==(const AlertSuppression&) const = default;
};

// [rule.threshold] of a threshold rule: per schedule window, the matching
// events grouped by `fields` (none: one group); a group alerts when it holds
// at least `value` events and, with a cardinality field, at least
// `cardinality_value` distinct values of it.
struct ThresholdSpec {
  std::vector<std::string> fields;
  std::int64_t value = 1;
  std::string cardinality_field;
  std::int64_t cardinality_value = 0;
  bool operator==(const ThresholdSpec&) const = default;
};

// A rarity condition (vigil's `[[vigil.rarity]]` tables, docs/baselines.md):
// an event in the population (it has every field; and matches `population`
// when given) takes part in the rule only if the combination of its values
// of `fields` was seen at most `max_count` times before in that scope (the
// baseline plus earlier events of the same run).
struct RarityCondition {
  std::vector<std::string> fields;  // 1-3 fields whose value combination is the term
  std::string scope = "host";       // host (per host.name), user (per user.name) or fleet
  std::string population;           // optional EQL event query: which events count and are tested
  int max_count = 0;                // 0: first time seen
  SourcePos pos;                    // the [[vigil.rarity]] table in the rule file
  bool operator==(const RarityCondition&) const = default;
};

// A Sigma correlation rule (Sigma correlation specification 2.1): how the
// matches of the rules it names are counted or put in order, per group of
// field values, within a time span (detect/correlation.h runs it).
struct CorrelationCondition {
  std::string op;  // gt, gte, lt, lte, eq, neq
  double value = 0;
  bool operator==(const CorrelationCondition&) const = default;
};

struct CorrelationSpec {
  std::string type;                 // event_count, value_count, value_sum, value_avg, temporal, temporal_ordered
  std::vector<std::string> rules;   // the rules it correlates, by id or name, as written
  std::vector<SourcePos> rule_pos;  // where each is written (errors point there)
  std::vector<std::string> group_by;
  std::int64_t timespan_ns = 0;
  std::vector<std::string> fields;  // condition.field (value_*): one or more
  std::vector<CorrelationCondition> condition;  // all must hold; empty (temporal): every rule
  // aliases: alias name → (rule name → field name in that rule's events).
  std::map<std::string, std::map<std::string, std::string>> aliases;
  bool generate = false;  // the rules it names alert on their own too
  bool operator==(const CorrelationSpec&) const = default;
};

struct Rule {
  // Where it came from.
  std::string file;
  SourcePos query_pos;  // first character of the query text in the file
  bool query_multiline_literal = false;  // ''' string: file columns map 1:1 after the first line

  // [rule]
  std::string rule_id;
  std::string name;
  std::string description;
  std::string severity = "low";  // low, medium, high, critical
  int risk_score = 21;
  std::string type;      // eql, query, new_terms, esql, threshold, ...
  std::string language;  // eql, kuery, esql, lucene
  std::string query;
  std::int64_t interval_ns = 5LL * 60 * 1000000000;  // Elastic's default: 5m
  std::int64_t lookback_ns = 6LL * 60 * 1000000000;  // from = now-6m by default
  std::string from = "now-6m";
  std::string interval = "5m";
  int max_signals = 100;
  int version = 1;
  std::vector<std::string> tags;
  std::vector<std::string> index;
  std::vector<std::string> references;
  std::vector<std::string> false_positives;
  std::vector<std::string> author;
  std::string license;
  std::string note;
  std::string building_block_type;
  std::string timestamp_override;
  std::vector<Threat> threat;
  std::vector<std::string> exceptions_list;  // ids of shared exception lists
  std::optional<AlertSuppression> alert_suppression;
  std::vector<std::string> new_terms_fields;
  std::string new_terms_history_window_start;
  std::int64_t new_terms_history_ns = 0;  // now-7d → 7 days
  std::optional<ThresholdSpec> threshold;
  std::vector<RarityCondition> rarity;    // [[vigil.rarity]]

  // The language the rule was written in: "elastic" (detection-rules TOML)
  // or "sigma" (YAML, translated to `query` by rules/sigma.cpp).
  std::string format = "elastic";
  // Sigma rules have no schedule: each detection is an alert, as in the
  // Sigma engines (Hayabusa, Chainsaw); `hunt`'s Elastic timing skips them.
  bool scheduled = true;
  // type "sigma_correlation": what it correlates (no query of its own).
  std::optional<CorrelationSpec> correlation;

  // [metadata] and every key not interpreted above: dotted key → JSON value.
  std::map<std::string, std::string> extra;

  bool operator==(const Rule&) const = default;
};

// "5m", "30s", "1h", "2d" → nanoseconds.
std::optional<std::int64_t> parse_rule_duration(std::string_view text);

}  // namespace vigil
