// `vigil hunt --rules DIR_OR_FILE... INPUT...`: every rule over every input
// in one pass; alerts as Elastic would have produced them.
#pragma once

#include <string>
#include <vector>

#include "cli/detection_options.h"

namespace CLI {
class App;
}

namespace vigil {

struct HuntCommandOptions {
  DetectionCommandOptions detection;
  std::vector<std::string> inputs;
  std::string output = "-";
  bool no_schedule = false;
  bool profile_rules = false;
  std::string report;     // also write the HTML triage report here
  bool coverage = false;  // also profile the data and print the coverage verdicts per host
};

void add_hunt_command(CLI::App& app, HuntCommandOptions& options);
int run_hunt_command(const HuntCommandOptions& options);

}  // namespace vigil
