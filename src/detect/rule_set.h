// RuleSet: rules compiled together. All queries register their fields in one
// FieldRegistry (the union is the reader's projection), and a RuleIndex says
// which rules an event can match, so most rules never run on most events.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/field_registry.h"
#include "detect/rarity.h"
#include "detect/rule_index.h"
#include "eql/compiler.h"
#include "esql/event_row.h"
#include "esql/plan.h"
#include "rules/rule.h"
#include "rules/rule_loader.h"

namespace vigil {

struct CompiledRule {
  const Rule* rule;
  eql::CompiledAnyQuery query;
  // rule.timestamp_override (e.g. event.ingested): the time the schedule sees
  // for an event that has it; others fall back to @timestamp, as in Elastic.
  std::optional<FieldId> timestamp_override;
  // [[vigil.rarity]] conditions: a spec of RuleSet::rarity_specs and this rule's threshold.
  struct Rarity {
    std::size_t spec;
    int max_count;
  };
  std::vector<Rarity> rarity;
  // new_terms rules: the spec holding the rule's history (its fields, fleet-wide, its query as population).
  std::optional<std::size_t> new_terms_spec;
  // threshold rules: rule.threshold's fields, interned (the reader decodes them).
  struct Threshold {
    std::vector<FieldId> fields;
    std::optional<FieldId> cardinality_field;
  };
  std::optional<Threshold> threshold;
  // ES|QL rules: the compiled plan (`query` is its prefilter) and how events become its rows.
  struct Esql {
    std::shared_ptr<const esql::Plan> plan;
    std::shared_ptr<const esql::EventRows> rows;
  };
  std::optional<Esql> esql;

  // Sigma correlation rules (rule->correlation; no query): the rules they
  // correlate, in the order written, and where each one's events hold the
  // group-by and value fields.
  struct CorrelationRef {
    std::size_t rule = 0;  // index into RuleSet::compiled: a detection rule or another correlation
    // Per group-by field, the fields to read on the rule's events (the first
    // one present wins; see sigma_field_paths). Empty for a correlation.
    std::vector<std::vector<FieldId>> group_fields;
    // A correlation's matches: per group-by field, the position of the same
    // field in that correlation's own group-by.
    std::vector<std::size_t> inner_group;
    std::vector<std::vector<FieldId>> value_fields;  // condition.field(s) (value_* correlations)
  };
  std::vector<CorrelationRef> correlates;
  // The correlations this rule's matches go to: (index into compiled, position in its rules list).
  std::vector<std::pair<std::size_t, std::size_t>> feeds;
  // Named by correlations none of which says `generate: true`: its matches
  // feed them and make no alert of their own (Sigma's default).
  bool silent = false;
};

struct RuleSet {
  FieldRegistry fields;
  FieldId category_field = 0;  // event.category (or the configured field): the index key
  std::vector<Rule> rules;  // never resized after compile_rules: CompiledRule points into it
  std::vector<CompiledRule> compiled;
  std::vector<RuleDiagnostic> diagnostics;  // rules that failed to load or compile (and warnings)
  std::size_t failed() const {
    std::size_t n = 0;
    for (const auto& d : diagnostics) n += !d.warning;
    return n;
  }
  std::vector<const Rule*> unsupported;     // rule types this version does not run (esql, machine_learning, ...)
  // Rarity specs of all rules (shared when rules define the same one), and
  // the population queries they own.
  std::vector<RaritySpec> rarity_specs;
  std::vector<std::unique_ptr<eql::Program>> populations;
  std::size_t files = 0;
  std::size_t test_case_files = 0;  // rule test cases found in the rule paths (skipped)
  std::size_t sigma_files = 0;      // of `files`: Sigma YAML
  std::size_t sigma_skipped = 0;    // Sigma documents not run (a warning in diagnostics says why)

  // Which rules (indexes into `compiled`) an event can match.
  std::unique_ptr<RuleIndex> index;
};

// Loads and compiles every rule under `paths`. Problems go to diagnostics,
// with positions in the rule file (EQL errors point into the query there).
// Rule files are parsed on `threads` threads (0: one per core), unless
// `cache` holds them already.
std::unique_ptr<RuleSet> compile_rules(const std::vector<std::string>& paths, const eql::CompileOptions& options = {},
                                       unsigned threads = 0, ParsedRuleCache* cache = nullptr,
                                       const RuleLoadOptions& load = {});

// A diagnostic in the compiler format ("error:" or "warning:"), with its caret line.
std::string format_rule_diagnostic(const RuleDiagnostic& d);

// The line and column of `pos` in `text` as a byte offset (for carets).
std::uint32_t offset_of(std::string_view text, std::uint32_t line, std::uint32_t column);

}  // namespace vigil
