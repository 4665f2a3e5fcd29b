// `vigil hunt --rules DIR_OR_FILE... INPUT...`: every rule over every input
// in one pass; alerts as Elastic would have produced them.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace vigil {

struct HuntCommandOptions {
  std::vector<std::string> rules;
  std::vector<std::string> inputs;
  std::string output = "-";
  std::string db;  // SQLite alert store to add the alerts to
  std::vector<std::string> exception_files;
  std::vector<std::string> value_lists;  // ID=FILE
  std::vector<std::string> lists_for_all_rules;
  bool no_schedule = false;
  bool no_rule_cache = false;
  bool fail_on_alert = false;
  bool strict = false;
  bool quiet = false;
  bool profile_rules = false;
  unsigned threads = 0;
  std::size_t max_detections_per_rule = 100000;
  std::size_t max_open_sequences = 100000;
  std::string baseline;  // SQLite baseline (vigil baseline learn) for rarity and new_terms
  std::size_t max_terms = 1000000;
  bool coverage = false;  // also profile the data and print the coverage verdicts per host
};

void add_hunt_command(CLI::App& app, HuntCommandOptions& options);
int run_hunt_command(const HuntCommandOptions& options);

}  // namespace vigil
