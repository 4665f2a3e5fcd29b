// `vigil baseline learn|show|suggest`: what is normal, learned from
// known-good data (SQLite, one file), shown, and turned into exception
// suggestions. docs/baselines.md.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace vigil {

struct BaselineOptions {
  std::string baseline = "vigil-baseline.db";
  std::vector<std::string> rules;
  std::vector<std::string> inputs;
  std::string max_age;          // learn: drop terms not seen for this long ("90d")
  std::size_t max_terms = 0;    // learn: keep at most this many terms (0 = no cap)
  unsigned threads = 0;
  bool quiet = false;
  // show
  std::string spec;             // number or id prefix
  std::string entity;           // host or user
  std::size_t limit = 10;
  // suggest
  std::string alerts;           // alert NDJSON from vigil hunt on benign data
  std::size_t min_alerts = 3;
  std::size_t top = 5;
  std::string output = "-";
};

class BaselineStore;

// Opens a baseline, saying on stderr why not (nullptr then). `must_exist`:
// a missing file is an error rather than a new baseline (hunt, show).
std::unique_ptr<BaselineStore> open_baseline(const std::string& path, bool must_exist);

void add_baseline_command(CLI::App& app, BaselineOptions& options);
int run_baseline_command(CLI::App& app, const BaselineOptions& options);

}  // namespace vigil
