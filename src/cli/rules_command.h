// `vigil rules check PATH...`: load and compile rules, report each failure
// with file:line:col and a caret, then a summary.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace vigil {

struct RulesOptions {
  std::vector<std::string> paths;
};

void add_rules_command(CLI::App& app, RulesOptions& options);
int run_rules_check(const RulesOptions& options);

}  // namespace vigil
