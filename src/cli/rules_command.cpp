// `vigil rules check`, `vigil rules explain` and `vigil rules convert`.
#include "cli/rules_command.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <toml++/toml.h>

#include <filesystem>
#include <map>
#include <sstream>

#include "cli/detection_options.h"
#include "cli/exit_codes.h"
#include "coverage/coverage.h"
#include "core/atomic_file.h"
#include "detect/rule_set.h"
#include "eql/compiler.h"
#include "rules/sigma.h"
#include "store/rule_cache.h"

namespace vigil {

void add_rules_command(CLI::App& app, RulesOptions& o) {
  auto* rules = app.add_subcommand("rules", "Work with detection rules");
  rules->require_subcommand(1);
  auto* check = rules->add_subcommand("check",
                                      "Validate rule files and directories (Elastic detection-rules TOML, Sigma YAML)");
  check->add_option("paths", o.paths, "Rule files or directories (*.toml, *.yml, *.yaml, recursively)")->required();
  check->add_option("--sigma-placeholders", o.sigma_placeholders,
                    "YAML file of values for Sigma `expand` placeholders (name: [values])");
  check->add_flag("--no-rule-cache", o.no_rule_cache,
                  "Parse every rule file, neither reading nor filling the parsed-rule cache (docs/rules.md)");
  check->footer(
      "Prints one error per rule that fails (file:line:col, with a caret), a warning per Sigma rule it does not\n"
      "run (a log source other than Windows or not mapped, status deprecated), then a summary.\n"
      "Exit codes: 0 every runnable rule compiled, 2 some rule failed to load or compile.");
  auto* explain = rules->add_subcommand("explain", "What a rule needs: event categories and types, fields, Windows events");
  explain->add_option("rule", o.which, "Rule name, rule_id or file")->required();
  explain->add_option("--rules,-r", o.rules, "Where to look for it (files or directories)")->required();
  explain->add_option("--sigma-placeholders", o.sigma_placeholders,
                      "YAML file of values for Sigma `expand` placeholders (name: [values])");
  auto* convert = rules->add_subcommand(
      "convert", "Sigma rules as Elastic detection rules (TOML with an EQL query over winlogbeat / Elastic Agent data)");
  convert->add_option("paths", o.paths, "Sigma rule files or directories (*.yml, *.yaml, recursively)")->required();
  convert->add_option("--to", o.to, "Target: eql (Elastic detection-rule TOML)")->required()->check(CLI::IsMember({"eql"}));
  convert->add_option("-o,--output", o.output,
                      "Directory for the TOML files (one per Sigma rule, named after its file); without it, a single "
                      "rule is printed");
  convert->add_option("--sigma-placeholders", o.sigma_placeholders,
                      "YAML file of values for Sigma `expand` placeholders (name: [values])");
  convert->footer(
      "Field names are those of Elastic's Windows integration and winlogbeat: the ECS field where Elastic's\n"
      "mapping copies the Sigma field unchanged (Image: process.executable), else winlog.event_data.<Name>.\n"
      "Correlation rules are listed, not converted (an EQL rule is one query). Sigma filters given with the\n"
      "rules are applied. Exit codes: 0 every rule converted, 2 a rule failed to load or its EQL to compile.");
}

namespace {

int run_rules_explain(const RulesOptions& o) {
  auto rule_cache = RuleCache::open_default();
  SigmaPlaceholders placeholders;
  RuleLoadOptions load;
  if (!rule_load_options(o.sigma_placeholders, placeholders, load)) return kExitUsage;
  auto set = compile_rules(o.rules, {}, 0, rule_cache.get(), load);
  auto needs = rule_needs(*set);
  std::size_t shown = 0;
  for (const RuleNeeds& n : needs) {
    const Rule& r = *set->compiled[n.rule].rule;
    if (r.name != o.which && r.rule_id != o.which && r.file != o.which && !r.file.ends_with("/" + o.which) &&
        sigma_key(r, "name") != o.which) {
      continue;
    }
    std::fputs(explain_needs(*set, n).c_str(), stdout);
    ++shown;
  }
  if (shown == 0) {
    for (const auto& d : set->diagnostics) {
      if (d.file == o.which || d.file.ends_with("/" + o.which)) std::fputs(format_rule_diagnostic(d).c_str(), stderr);
    }
    std::fprintf(stderr, "vigil: no compiled rule named %s (name, rule_id, Sigma name or file) in the given rule paths\n",
                 o.which.c_str());
    return kExitUsage;
  }
  return kExitOk;
}

int run_rules_check(const RulesOptions& o) {
  auto rule_cache = RuleCache::open_default(o.no_rule_cache);
  SigmaPlaceholders placeholders;
  RuleLoadOptions load;
  if (!rule_load_options(o.sigma_placeholders, placeholders, load)) return kExitUsage;
  auto set = compile_rules(o.paths, {}, 0, rule_cache.get(), load);
  for (const auto& d : set->diagnostics) {
    std::fputs(format_rule_diagnostic(d).c_str(), stdout);
  }
  std::map<std::string, std::size_t> unsupported;
  for (const Rule* r : set->unsupported) ++unsupported[r->type];
  std::string skipped;
  for (const auto& [type, n] : unsupported) skipped += fmt::format("{}{} {}", skipped.empty() ? "" : ", ", type, n);
  std::size_t total = set->compiled.size() + set->unsupported.size() + set->diagnostics.size();
  std::fputs(fmt::format("{} rules in {} files: {} compiled, {} failed{}{}{}\n", total, set->files, set->compiled.size(),
                         set->failed(),
                         skipped.empty() ? "" : fmt::format(", {} of types this version does not run ({})",
                                                            set->unsupported.size(), skipped),
                         set->sigma_skipped ? fmt::format(", {} Sigma rule(s) not run (warnings above say why)",
                                                          set->sigma_skipped)
                                            : "",
                         set->test_case_files ? fmt::format("; {} rule test case file(s) skipped",
                                                            set->test_case_files)
                                              : "")
                 .c_str(),
             stdout);
  return set->failed() == 0 ? kExitOk : kExitUsage;
}


// "2023-06-16" (Sigma) → "2023/06/16" (Elastic's metadata dates).
std::string elastic_date(std::string sigma_date) {
  std::replace(sigma_date.begin(), sigma_date.end(), '-', '/');
  return sigma_date;
}

toml::array string_array(const std::vector<std::string>& values) {
  toml::array a;
  for (const auto& v : values) a.push_back(v);
  return a;
}

// One Sigma rule as an Elastic detection-rule document.
std::string elastic_rule_toml(const Rule& r) {
  toml::table metadata;
  const std::string date = sigma_key(r, "date"), modified = sigma_key(r, "modified");
  if (!date.empty()) metadata.insert("creation_date", elastic_date(date));
  metadata.insert("integration", toml::array{"windows"});
  metadata.insert("maturity", "development");
  if (!modified.empty() || !date.empty()) metadata.insert("updated_date", elastic_date(modified.empty() ? date : modified));
  metadata.insert("converted_from", fmt::format("Sigma rule {} ({}) by vigil rules convert", r.rule_id, r.file));
  toml::table rule;
  if (!r.author.empty()) rule.insert("author", string_array(r.author));
  rule.insert("description", r.description.empty() ? r.name : r.description);
  if (!r.false_positives.empty()) rule.insert("false_positives", string_array(r.false_positives));
  rule.insert("from", "now-9m");
  rule.insert("index", toml::array{"winlogbeat-*", "logs-windows.*", "logs-system.*"});
  rule.insert("language", "eql");
  rule.insert("license", r.license.empty() ? std::string("DRL-1.1") : r.license);
  rule.insert("name", r.name);
  if (!r.references.empty()) rule.insert("references", string_array(r.references));
  rule.insert("risk_score", r.risk_score);
  rule.insert("rule_id", r.rule_id);
  rule.insert("severity", r.severity);
  std::vector<std::string> tags = {"OS: Windows", "Use Case: Threat Detection", "Data Source: Sigma"};
  for (const auto& t : r.tags) tags.push_back("Sigma: " + t);
  rule.insert("tags", string_array(tags));
  rule.insert("timestamp_override", "event.ingested");
  rule.insert("type", "eql");
  rule.insert("query", r.query);
  toml::array threats;
  for (const Threat& t : r.threat) {
    toml::table th;
    th.insert("framework", t.framework);
    th.insert("tactic", toml::table{{"id", t.tactic.id}, {"name", t.tactic.name}, {"reference", t.tactic.reference}});
    toml::array techniques;
    for (const ThreatTechnique& tt : t.techniques) {
      toml::table tech{{"id", tt.technique.id}, {"name", tt.technique.name.empty() ? tt.technique.id : tt.technique.name},
                       {"reference", tt.technique.reference}};
      toml::array subs;
      for (const ThreatEntry& s : tt.subtechniques) {
        subs.push_back(toml::table{{"id", s.id}, {"name", s.name.empty() ? s.id : s.name}, {"reference", s.reference}});
      }
      if (!subs.empty()) tech.insert("subtechnique", std::move(subs));
      techniques.push_back(std::move(tech));
    }
    if (!techniques.empty()) th.insert("technique", std::move(techniques));
    threats.push_back(std::move(th));
  }
  if (!threats.empty()) rule.insert("threat", std::move(threats));
  std::ostringstream out;
  out << toml::table{{"metadata", std::move(metadata)}} << "\n\n" << toml::table{{"rule", std::move(rule)}} << "\n";
  return out.str();
}

int run_rules_convert(const RulesOptions& o) {
  SigmaPlaceholders placeholders;
  RuleLoadOptions load;
  if (!rule_load_options(o.sigma_placeholders, placeholders, load)) return kExitUsage;
  load.sigma.target = SigmaFieldTarget::Elastic;
  LoadedRules loaded = load_rules(o.paths, 0, nullptr, load);
  std::size_t failed = 0, correlations = 0, not_sigma = 0;
  for (auto& d : loaded.diagnostics) {
    d.error.pos.offset = offset_of(d.text, d.error.pos.line, d.error.pos.column);
    std::fputs(format_rule_diagnostic(d).c_str(), stderr);
    failed += !d.warning;
  }
  struct Converted {
    const Rule* rule;
    std::string toml;
  };
  std::vector<Converted> out;
  for (const Rule& r : loaded.rules) {
    if (r.format != "sigma") {
      ++not_sigma;
      continue;
    }
    if (r.correlation) {
      ++correlations;
      std::fprintf(stderr, "note: %s: %s is a correlation rule: an Elastic EQL rule is one query, not converted\n",
                   r.file.c_str(), r.name.c_str());
      continue;
    }
    FieldRegistry fields;
    if (auto compiled = eql::compile_any_query(r.query, fields); !compiled) {
      ++failed;
      std::fprintf(stderr, "%s: error: the EQL of %s does not compile (%s): %s\n", r.file.c_str(), r.name.c_str(),
                   compiled.error().message.c_str(), r.query.c_str());
      continue;
    }
    out.push_back({&r, elastic_rule_toml(r)});
  }
  if (o.output.empty()) {
    if (out.size() > 1) {
      std::fprintf(stderr, "vigil: %zu rules to convert: give a directory for them with -o DIR\n", out.size());
      return kExitUsage;
    }
    if (!out.empty()) std::fputs(out[0].toml.c_str(), stdout);
  } else {
    std::error_code ec;
    std::filesystem::create_directories(o.output, ec);
    // Named after the Sigma file; the second and later rules of a file get -2, -3, ...
    std::map<std::string, int> used;
    for (const Converted& c : out) {
      std::string stem = std::filesystem::path(c.rule->file).stem().string();
      const int n = ++used[stem];
      const std::string path = (std::filesystem::path(o.output) / (n == 1 ? stem : fmt::format("{}-{}", stem, n))).string() + ".toml";
      if (auto error = write_file_atomically(path, c.toml)) {
        std::fprintf(stderr, "vigil: %s: %s\n", path.c_str(), error->c_str());
        return kExitUsage;
      }
    }
  }
  std::fprintf(stderr, "vigil rules convert: %zu Sigma rule(s) converted%s%s%s%s\n", out.size(),
               o.output.empty() ? "" : fmt::format(" into {}", o.output).c_str(),
               failed ? fmt::format(", {} failed", failed).c_str() : "",
               correlations ? fmt::format(", {} correlation rule(s) not converted", correlations).c_str() : "",
               not_sigma ? fmt::format(", {} non-Sigma rule(s) left alone", not_sigma).c_str() : "");
  return failed ? kExitUsage : kExitOk;
}

}  // namespace

int run_rules_command(CLI::App& app, const RulesOptions& o) {
  CLI::App* rules = app.get_subcommand("rules");
  if (rules->got_subcommand("explain")) return run_rules_explain(o);
  if (rules->got_subcommand("convert")) return run_rules_convert(o);
  return run_rules_check(o);
}

}  // namespace vigil
