// Loading rule files: Elastic detection-rules TOML, one rule per file, and
// Sigma YAML (rules/sigma.h), from files or directories (recursively, *.toml,
// *.yml, *.yaml). Every problem is reported with
// file, line and column — a TOML syntax error, a missing or mistyped key —
// and loading goes on with the other files.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "rules/rule.h"
#include "rules/sigma.h"

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
  std::size_t test_case_files = 0;  // [[case]] files in the rule tree: skipped, not errors
  std::size_t sigma_files = 0;      // of `files`: Sigma YAML
  std::size_t sigma_skipped = 0;    // Sigma documents vigil does not run (warnings in diagnostics)
  std::size_t sigma_filters = 0;    // Sigma filter documents (applied to the rules they name)
};

struct RuleLoadOptions {
  SigmaOptions sigma;
};

// Rule files parsed before, each under a key that names its text (and, for
// Sigma, the options it was translated with), in binary form
// (rules/rule_codec.h); store/rule_cache.h keeps them on disk. Only files
// that loaded without an error are stored: a file with one is parsed every
// time, so its message and caret come from the parser.
class ParsedRuleCache {
 public:
  virtual ~ParsedRuleCache() = default;
  // The encoded files stored under `keys`, in the same order (nothing where none).
  virtual std::vector<std::optional<std::string>> find(const std::vector<std::string>& keys) = 0;
  // (key, encoded file) pairs. Called after every find() (with nothing when every file was found).
  virtual void store(const std::vector<std::pair<std::string, std::string>>& entries) = 0;
};

// Loads every rule under `paths` (files or directories), in path order.
// Files are parsed on `threads` threads (0: one per core); with a cache, a
// file whose text was parsed before is taken from it.
LoadedRules load_rules(const std::vector<std::string>& paths, unsigned threads = 0, ParsedRuleCache* cache = nullptr,
                       const RuleLoadOptions& options = {});

// The cache key of a rule file holding `text` (wherever it is).
std::string rule_cache_key(std::string_view text);

// Parses one rule from TOML text (`file` names it in positions).
Result<Rule> parse_rule_toml(std::string_view text, const std::string& file);

}  // namespace vigil
