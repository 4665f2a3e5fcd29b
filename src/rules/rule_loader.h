// Loading rule files: Elastic detection-rules TOML, one rule per file, from
// files or directories (recursively, *.toml). Every problem is reported with
// file, line and column — a TOML syntax error, a missing or mistyped key —
// and loading goes on with the other files.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "rules/rule.h"

namespace vigil {

struct RuleDiagnostic {
  std::string file;
  Error error;       // pos: line and column in the file
  std::string text;  // the file's text, for the caret line
  bool warning = false;
};

struct LoadedRules {
  std::vector<Rule> rules;
  std::vector<RuleDiagnostic> diagnostics;
  std::size_t files = 0;
};

// Loads every rule under `paths` (files or directories), in path order.
// Files are parsed on `threads` threads (0: one per core).
LoadedRules load_rules(const std::vector<std::string>& paths, unsigned threads = 0);

// Parses one rule from TOML text (`file` names it in positions).
Result<Rule> parse_rule_toml(std::string_view text, const std::string& file);

}  // namespace vigil
