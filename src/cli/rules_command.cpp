// `vigil rules check` and `vigil rules explain`.
#include "cli/rules_command.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <map>

#include "cli/detection_options.h"
#include "cli/exit_codes.h"
#include "coverage/coverage.h"
#include "detect/rule_set.h"
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
    auto sigma_name = r.extra.find("sigma.name");
    const bool named = sigma_name != r.extra.end() && sigma_name->second == "\"" + o.which + "\"";
    if (r.name != o.which && r.rule_id != o.which && r.file != o.which && !r.file.ends_with("/" + o.which) && !named) {
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

}  // namespace

int run_rules_command(CLI::App& app, const RulesOptions& o) {
  CLI::App* rules = app.get_subcommand("rules");
  if (rules->got_subcommand("explain")) return run_rules_explain(o);
  return run_rules_check(o);
}

}  // namespace vigil
