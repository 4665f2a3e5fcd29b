// `vigil rules check PATH...`: load and compile rules, report each failure
// with file:line:col and a caret, then a summary. `vigil rules explain`:
// what a rule needs from the telemetry. `vigil rules convert --to eql`:
// Sigma rules as Elastic detection-rule TOML files with EQL queries.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace vigil {

struct RulesOptions {
  std::vector<std::string> paths;
  std::vector<std::string> rules;  // explain: rule paths
  std::string which;               // explain: rule name, rule_id or file
  bool no_rule_cache = false;
  std::string sigma_placeholders;  // YAML: values of Sigma `expand` placeholders
  std::string to;                  // convert: the target ("eql")
  std::string output;              // convert: directory for the rule files
};

void add_rules_command(CLI::App& app, RulesOptions& options);
int run_rules_command(CLI::App& app, const RulesOptions& options);

}  // namespace vigil
