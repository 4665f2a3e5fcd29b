// Compiling a rule set, with EQL error positions translated into the file.
#include "detect/rule_set.h"

#include <fmt/format.h>

#include "core/hash.h"
#include "esql/parser.h"
#include "rules/kql.h"
#include "rules/sigma.h"

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

// The spec with this definition: an existing one (rules share it) or a new one.
std::size_t spec_for(RuleSet& set, RaritySpec spec, const Rule& rule) {
  for (std::size_t i = 0; i < set.rarity_specs.size(); ++i) {
    if (set.rarity_specs[i].id == spec.id) {
      set.rarity_specs[i].rules.push_back(rule.name);
      return i;
    }
  }
  spec.rules.push_back(rule.name);
  set.rarity_specs.push_back(std::move(spec));
  return set.rarity_specs.size() - 1;
}

// Compiles the rule's [[vigil.rarity]] conditions and, for new_terms rules,
// the spec of its history. False (with a diagnostic) if one does not compile.
bool add_rarity(RuleSet& set, const Rule& rule, CompiledRule& c, const eql::CompileOptions& options) {
  if (rule.type == "threshold" && rule.threshold) {
    if (c.query.kind != eql::Query::Kind::Event) {
      set.diagnostics.push_back(query_diagnostic(rule, Error{"rule.schema", "a threshold query must be an event query", {1, 1, 0}}));
      return false;
    }
    CompiledRule::Threshold t;
    for (const auto& f : rule.threshold->fields) t.fields.push_back(set.fields.intern(f));
    if (!rule.threshold->cardinality_field.empty()) t.cardinality_field = set.fields.intern(rule.threshold->cardinality_field);
    c.threshold = std::move(t);
  }
  if (rule.type == "new_terms") {
    if (c.query.kind != eql::Query::Kind::Event) {
      set.diagnostics.push_back(query_diagnostic(rule, Error{"rule.schema", "a new_terms query must be an event query", {1, 1, 0}}));
      return false;
    }
    RaritySpec spec;
    Hash128 id;
    id.add("new_terms").add(rule.query);
    std::string fields;
    for (const auto& f : rule.new_terms_fields) {
      spec.fields.push_back(set.fields.intern(f));
      id.add(f);
      fields += (fields.empty() ? "" : ", ") + f;
    }
    spec.id = id.hex();
    spec.scope = RaritySpec::Scope::Fleet;
    spec.population = c.query.event.get();
    spec.new_terms = true;
    spec.description = "new terms of " + fields + " in events of the rule's query";
    c.new_terms_spec = spec_for(set, std::move(spec), rule);
  }
  for (const RarityCondition& cond : rule.rarity) {
    RaritySpec spec;
    Hash128 id;
    id.add("rarity").add(cond.scope).add(cond.population);
    for (const auto& f : cond.fields) {
      spec.fields.push_back(set.fields.intern(f));
      id.add(f);
    }
    spec.id = id.hex();
    spec.scope = cond.scope == "fleet" ? RaritySpec::Scope::Fleet
                 : cond.scope == "user" ? RaritySpec::Scope::User
                                        : RaritySpec::Scope::Host;
    set.fields.intern(scope_field(spec.scope).empty() ? "host.name" : scope_field(spec.scope));
    std::string fields;
    for (const auto& f : cond.fields) fields += (fields.empty() ? "" : ", ") + f;
    spec.description = fields + " per " + std::string(scope_name(spec.scope));
    if (!cond.population.empty()) {
      auto population = eql::compile_query(cond.population, set.fields, options);
      if (!population) {
        Error e = population.error();
        e.message = "vigil.rarity.population: " + e.message;
        e.pos = cond.pos;
        std::string text = read_file(rule.file);
        e.pos.offset = offset_of(text, e.pos.line, e.pos.column);
        set.diagnostics.push_back({rule.file, std::move(e), std::move(text)});
        return false;
      }
      spec.population = population->program.get();
      set.populations.push_back(std::move(population->program));
      spec.description += " where " + cond.population;
    }
    c.rarity.push_back({spec_for(set, std::move(spec), rule), cond.max_count});
  }
  return true;
}

// [metadata] updated_date ("2026/05/04"), or "" when the rule has none.
std::string updated_date(const Rule& rule) {
  auto it = rule.extra.find("metadata");
  if (it == rule.extra.end()) return {};
  const std::string_view json = it->second;
  const std::size_t at = json.find("\"updated_date\"");
  if (at == std::string_view::npos) return {};
  const std::size_t colon = json.find(':', at + 14);
  const std::size_t start = colon == std::string_view::npos ? colon : json.find('"', colon);
  if (start == std::string_view::npos) return {};
  const std::size_t end = json.find('"', start + 1);
  return end == std::string_view::npos ? std::string() : std::string(json.substr(start + 1, end - start - 1));
}

// A diagnostic at `pos` of the rule's file.
RuleDiagnostic diagnostic_at(const Rule& rule, std::string code, std::string message, SourcePos pos) {
  std::string text = read_file(rule.file);
  pos.offset = offset_of(text, pos.line, pos.column);
  return {rule.file, Error{std::move(code), std::move(message), pos}, std::move(text)};
}

// Compiles the correlation rules (`pending`, indexes into set.rules) once
// the rules they name are compiled: correlations of correlations after
// their inner ones. A name no rule has, a cycle, or a group-by field an
// inner correlation does not group by is an error at the reference.
void compile_correlations(RuleSet& set, std::vector<const Rule*> pending) {
  // Every rule by Sigma id / rule_id, and by Sigma name.
  std::multimap<std::string, const Rule*> by_key;
  for (const Rule& r : set.rules) {
    by_key.emplace(r.rule_id, &r);
    if (std::string n = sigma_key(r, "name"); !n.empty()) by_key.emplace(n, &r);
  }
  std::map<const Rule*, std::size_t> compiled_index;
  for (std::size_t i = 0; i < set.compiled.size(); ++i) compiled_index[set.compiled[i].rule] = i;
  // The rule a reference names: the one in the same file first (names are per correlation file).
  auto resolve = [&](const Rule& from, const std::string& ref) -> const Rule* {
    auto [lo, hi] = by_key.equal_range(ref);
    const Rule* found = nullptr;
    for (auto it = lo; it != hi; ++it) {
      if (it->second == &from) continue;
      if (!found || (it->second->file == from.file && found->file != from.file)) found = it->second;
    }
    return found;
  };
  bool progress = true;
  while (!pending.empty() && progress) {
    progress = false;
    for (auto it = pending.begin(); it != pending.end();) {
      const Rule& rule = **it;
      const CorrelationSpec& spec = *rule.correlation;
      bool waiting = false;
      std::optional<RuleDiagnostic> error;
      std::vector<CompiledRule::CorrelationRef> refs;
      for (std::size_t k = 0; k < spec.rules.size() && !error; ++k) {
        const Rule* target = resolve(rule, spec.rules[k]);
        if (!target) {
          error = diagnostic_at(rule, "rule.reference",
                                fmt::format("no loaded rule has the id or name '{}' (load its file with --rules too)",
                                            spec.rules[k]),
                                spec.rule_pos[k]);
          break;
        }
        auto ci = compiled_index.find(target);
        if (ci == compiled_index.end()) {
          if (target->correlation && std::find(pending.begin(), pending.end(), target) != pending.end()) {
            waiting = true;  // compiled in a later round (or a cycle, reported below)
            break;
          }
          error = diagnostic_at(rule, "rule.reference",
                                fmt::format("'{}' names {} ({}), which did not compile", spec.rules[k], target->name,
                                            target->file),
                                spec.rule_pos[k]);
          break;
        }
        CompiledRule::CorrelationRef ref;
        ref.rule = ci->second;
        const std::string target_name = sigma_key(*target, "name");
        auto field_of = [&](const std::string& g) {
          auto alias = spec.aliases.find(g);
          if (alias == spec.aliases.end()) return g;
          for (const std::string& key : {target_name, target->rule_id}) {
            auto f = alias->second.find(key);
            if (!key.empty() && f != alias->second.end()) return f->second;
          }
          return g;
        };
        for (const std::string& g : spec.group_by) {
          const std::string field = field_of(g);
          if (target->correlation) {
            const auto& inner = target->correlation->group_by;
            auto at = std::find(inner.begin(), inner.end(), field);
            if (at == inner.end()) {
              error = diagnostic_at(rule, "rule.reference",
                                    fmt::format("group-by field '{}' is not among the group-by fields of the "
                                                "correlation '{}' it correlates: a correlation's matches carry "
                                                "only those", field, spec.rules[k]),
                                    spec.rule_pos[k]);
              break;
            }
            ref.inner_group.push_back(static_cast<std::size_t>(at - inner.begin()));
            continue;
          }
          std::vector<FieldId> ids;
          for (const std::string& path : sigma_field_paths(field, *target)) ids.push_back(set.fields.intern(path));
          ref.group_fields.push_back(std::move(ids));
        }
        if (error) break;
        if (!spec.fields.empty() && target->correlation) {
          error = diagnostic_at(rule, "rule.reference",
                                fmt::format("a {} correlation reads {} on events; '{}' is a correlation", spec.type,
                                            spec.fields.front(), spec.rules[k]),
                                spec.rule_pos[k]);
          break;
        }
        for (const std::string& f : spec.fields) {
          std::vector<FieldId> ids;
          for (const std::string& path : sigma_field_paths(field_of(f), *target)) ids.push_back(set.fields.intern(path));
          ref.value_fields.push_back(std::move(ids));
        }
        refs.push_back(std::move(ref));
      }
      if (waiting && !error) {
        ++it;
        continue;
      }
      progress = true;
      it = pending.erase(it);
      if (error) {
        set.diagnostics.push_back(std::move(*error));
        continue;
      }
      const std::size_t index = set.compiled.size();
      CompiledRule c{&rule, {}, std::nullopt, {}, std::nullopt, std::nullopt, std::nullopt, std::move(refs), {}, false};
      for (std::size_t k = 0; k < c.correlates.size(); ++k) set.compiled[c.correlates[k].rule].feeds.emplace_back(index, k);
      set.compiled.push_back(std::move(c));
      compiled_index[&rule] = index;
    }
  }
  for (const Rule* rule : pending) {  // each waits on another: a cycle
    set.diagnostics.push_back(diagnostic_at(*rule, "rule.reference",
                                            "the correlations this one names name it in turn (a cycle): none of them runs",
                                            rule->query_pos));
  }
  // Silent: named only by correlations without `generate: true`.
  for (CompiledRule& c : set.compiled) {
    if (c.feeds.empty()) continue;
    c.silent = std::none_of(c.feeds.begin(), c.feeds.end(), [&](const auto& f) {
      return set.compiled[f.first].rule->correlation->generate;
    });
  }
}

bool newer_than(const Rule& a, const Rule& b) {
  if (a.version != b.version) return a.version > b.version;
  return updated_date(a) > updated_date(b);  // "YYYY/MM/DD" orders as text
}

}  // namespace

std::unique_ptr<RuleSet> compile_rules(const std::vector<std::string>& paths, const eql::CompileOptions& options,
                                       unsigned threads, ParsedRuleCache* cache, const RuleLoadOptions& load) {
  auto set = std::make_unique<RuleSet>();
  set->category_field = set->fields.intern(options.event_category_field);
  set->index = std::make_unique<RuleIndex>(set->category_field, set->fields.intern("event.type"));
  LoadedRules loaded = load_rules(paths, threads, cache, load);
  set->files = loaded.files;
  set->sigma_files = loaded.sigma_files;
  set->sigma_skipped = loaded.sigma_skipped;
  set->test_case_files = loaded.test_case_files;
  set->diagnostics = std::move(loaded.diagnostics);
  for (auto& d : set->diagnostics) d.error.pos.offset = offset_of(d.text, d.error.pos.line, d.error.pos.column);
  set->rules = std::move(loaded.rules);
  // One rule per rule_id, as Elastic keeps one installed version of a
  // prebuilt rule: the higher `version`, then the later updated_date, then
  // the one loaded first. Each other copy is named in a warning.
  std::map<std::string, const Rule*> chosen;
  std::vector<const Rule*> correlations;
  for (const Rule& rule : set->rules) {
    auto [it, fresh] = chosen.emplace(rule.rule_id, &rule);
    if (!fresh && newer_than(rule, *it->second)) it->second = &rule;
  }
  for (const Rule& rule : set->rules) {
    const Rule& runs = *chosen.at(rule.rule_id);
    if (&runs != &rule) {
      std::string text = read_file(rule.file);
      Error e{"rule.duplicate_id",
              fmt::format("rule_id {} is also in {} (version {}, updated {}); that one runs, this one (version {}, "
                          "updated {}) does not: the higher version, then the later update, then the first loaded",
                          rule.rule_id, runs.file, runs.version, updated_date(runs), rule.version, updated_date(rule)),
              {1, 1, 0}};
      set->diagnostics.push_back({rule.file, e, std::move(text), /*warning=*/true});
      continue;
    }
    if (rule.correlation) {
      correlations.push_back(&rule);
      continue;
    }
    const bool eql_rule = rule.language == "eql" && rule.type == "eql";
    const bool kql_rule =
        rule.language == "kuery" && (rule.type == "query" || rule.type == "new_terms" || rule.type == "threshold");
    const bool esql_rule = rule.type == "esql" && (rule.language == "esql" || rule.language.empty());
    if (!eql_rule && !kql_rule && !esql_rule) {
      set->unsupported.push_back(&rule);
      continue;
    }
    std::string query = rule.query;
    std::optional<CompiledRule::Esql> esql_plan;
    if (esql_rule) {
      // The plan runs the query; its prefilter (EQL no stronger than the
      // query's first WHERE commands) is what the index and matcher run.
      auto parsed = esql::parse_query(rule.query);
      if (!parsed) {
        set->diagnostics.push_back(query_diagnostic(rule, parsed.error()));
        continue;
      }
      auto plan = esql::compile_plan(*parsed);
      if (!plan) {
        set->diagnostics.push_back(query_diagnostic(rule, plan.error()));
        continue;
      }
      auto shared = std::make_shared<const esql::Plan>(std::move(*plan));
      auto rows = std::make_shared<const esql::EventRows>(*shared, set->fields);
      query = shared->prefilter();
      esql_plan = CompiledRule::Esql{std::move(shared), std::move(rows)};
    }
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
      if (rule.format == "sigma") {
        // The EQL is vigil's translation: the rule's condition is where to look.
        std::string text = read_file(rule.file);
        e.message = fmt::format("the EQL this rule translates to does not compile ({}): {}", e.message, rule.query);
        e.pos = {rule.query_pos.line, rule.query_pos.column, offset_of(text, rule.query_pos.line, rule.query_pos.column)};
        set->diagnostics.push_back({rule.file, std::move(e), std::move(text)});
        continue;
      }
      // A KQL rule's EQL is generated: point at the start of its query.
      if (kql_rule) e.pos = {1, 1, 0};
      set->diagnostics.push_back(query_diagnostic(rule, std::move(e)));
      continue;
    }
    CompiledRule c{&rule, std::move(*compiled), std::nullopt, {}, std::nullopt, std::nullopt, std::move(esql_plan), {}, {}, false};
    if (!rule.timestamp_override.empty()) c.timestamp_override = set->fields.intern(rule.timestamp_override);
    if (!add_rarity(*set, rule, c, options)) continue;
    std::size_t index = set->compiled.size();
    // A sequence needs the events of every term (missing and `until` terms included).
    for (const eql::Program* term : eql::term_programs(c.query)) {
      set->index->add_event_rule(index, *term, term->category, set->fields);
    }
    set->compiled.push_back(std::move(c));
  }
  compile_correlations(*set, std::move(correlations));
  std::stable_sort(set->diagnostics.begin(), set->diagnostics.end(),
                   [](const RuleDiagnostic& a, const RuleDiagnostic& b) { return a.file < b.file; });
  return set;
}

}  // namespace vigil
