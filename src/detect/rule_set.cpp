// Compiling a rule set, with EQL error positions translated into the file.
#include "detect/rule_set.h"

#include "rules/kql.h"

#include <algorithm>
#include <fstream>
#include <set>

namespace vigil {

std::uint32_t offset_of(std::string_view text, std::uint32_t line, std::uint32_t column) {
  std::size_t at = 0;
  for (std::uint32_t l = 1; l < line; ++l) {
    std::size_t nl = text.find('\n', at);
    if (nl == std::string_view::npos) return static_cast<std::uint32_t>(text.size());
    at = nl + 1;
  }
  return static_cast<std::uint32_t>(std::min(text.size(), at + (column > 0 ? column - 1 : 0)));
}

std::string format_rule_diagnostic(const RuleDiagnostic& d) {
  std::string text = format_error(d.error, d.file, d.text);
  if (d.warning) {
    std::size_t at = text.find(": error: ");
    if (at != std::string::npos) text.replace(at, 9, ": warning: ");
  }
  return text;
}

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// An error positioned in the rule's query text, moved to the rule file.
RuleDiagnostic query_diagnostic(const Rule& rule, Error e) {
  std::uint32_t line = rule.query_pos.line + e.pos.line - 1;
  std::uint32_t column = e.pos.line == 1 ? rule.query_pos.column + e.pos.column - 1 : e.pos.column;
  std::string text = read_file(rule.file);
  e.pos = {line, column, offset_of(text, line, column)};
  return {rule.file, std::move(e), std::move(text)};
}

}  // namespace

std::unique_ptr<RuleSet> compile_rules(const std::vector<std::string>& paths, const eql::CompileOptions& options) {
  auto set = std::make_unique<RuleSet>();
  set->category_field = set->fields.intern(options.event_category_field);
  set->index = std::make_unique<RuleIndex>(set->category_field, set->fields.intern("event.type"));
  LoadedRules loaded = load_rules(paths);
  set->files = loaded.files;
  set->diagnostics = std::move(loaded.diagnostics);
  for (auto& d : set->diagnostics) d.error.pos.offset = offset_of(d.text, d.error.pos.line, d.error.pos.column);
  set->rules = std::move(loaded.rules);
  std::set<std::string> seen_ids;
  for (const Rule& rule : set->rules) {
    if (!seen_ids.insert(rule.rule_id).second) {
      std::string text = read_file(rule.file);
      Error e{"rule.duplicate_id", "another rule loaded before has rule_id " + rule.rule_id + "; this one is not run",
              {1, 1, 0}};
      set->diagnostics.push_back({rule.file, e, std::move(text), /*warning=*/true});
      continue;
    }
    const bool eql_rule = rule.language == "eql" && rule.type == "eql";
    const bool kql_rule = rule.language == "kuery" && rule.type == "query";
    if (!eql_rule && !kql_rule) {
      set->unsupported.push_back(&rule);
      continue;
    }
    std::string query = rule.query;
    if (kql_rule) {
      auto translated = kql_to_eql(rule.query);
      if (!translated) {
        set->diagnostics.push_back(query_diagnostic(rule, translated.error()));
        continue;
      }
      query = std::move(*translated);
    }
    auto compiled = eql::compile_any_query(query, set->fields, options);
    if (!compiled) {
      Error e = compiled.error();
      // A KQL rule's EQL is generated: point at the start of its query.
      if (kql_rule) e.pos = {1, 1, 0};
      set->diagnostics.push_back(query_diagnostic(rule, std::move(e)));
      continue;
    }
    CompiledRule c{&rule, std::move(*compiled), std::nullopt};
    if (!rule.timestamp_override.empty()) c.timestamp_override = set->fields.intern(rule.timestamp_override);
    std::size_t index = set->compiled.size();
    if (c.query.kind == eql::Query::Kind::Event) {
      set->index->add_event_rule(index, *c.query.event, c.query.event->category, set->fields);
    } else {
      // A sequence needs the events of every term (missing and `until` terms included).
      const eql::SequenceProgram& sp = c.query.kind == eql::Query::Kind::Sequence ? *c.query.sequence : *c.query.sample;
      for (const auto& stage : sp.stages) {
        set->index->add_event_rule(index, *stage.filter, stage.filter->category, set->fields);
      }
      if (sp.until) set->index->add_event_rule(index, *sp.until->filter, sp.until->filter->category, set->fields);
    }
    set->compiled.push_back(std::move(c));
  }
  std::stable_sort(set->diagnostics.begin(), set->diagnostics.end(),
                   [](const RuleDiagnostic& a, const RuleDiagnostic& b) { return a.file < b.file; });
  return set;
}

}  // namespace vigil
