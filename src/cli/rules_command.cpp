// `vigil rules check`.
#include "cli/rules_command.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <map>

#include "cli/exit_codes.h"
#include "detect/rule_set.h"

namespace vigil {

void add_rules_command(CLI::App& app, RulesOptions& o) {
  auto* rules = app.add_subcommand("rules", "Work with detection rules");
  rules->require_subcommand(1);
  auto* check = rules->add_subcommand("check", "Validate rule files and directories (Elastic detection-rules TOML)");
  check->add_option("paths", o.paths, "Rule files or directories (*.toml, recursively)")->required();
  check->footer(
      "Prints one error per rule that fails (file:line:col, with a caret), then a summary.\n"
      "Exit codes: 0 every runnable rule compiled, 2 some rule failed to load or compile.");
}

int run_rules_check(const RulesOptions& o) {
  auto set = compile_rules(o.paths);
  for (const auto& d : set->diagnostics) {
    std::fputs(format_rule_diagnostic(d).c_str(), stdout);
  }
  std::map<std::string, std::size_t> unsupported;
  for (const Rule* r : set->unsupported) ++unsupported[r->type];
  std::string skipped;
  for (const auto& [type, n] : unsupported) skipped += fmt::format("{}{} {}", skipped.empty() ? "" : ", ", type, n);
  std::size_t total = set->compiled.size() + set->unsupported.size() + set->diagnostics.size();
  std::fputs(fmt::format("{} rules in {} files: {} compiled, {} failed{}\n", total, set->files, set->compiled.size(),
                         set->failed(),
                         skipped.empty() ? "" : fmt::format(", {} of types this version does not run ({})",
                                                            set->unsupported.size(), skipped))
                 .c_str(),
             stdout);
  return set->failed() == 0 ? kExitOk : kExitUsage;
}

}  // namespace vigil
