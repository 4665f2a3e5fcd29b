// `vigil run --rules DIR [--follow] [--state DIR] INPUT...`: continuous
// detection. Inputs are read as they grow (files followed like `tail -F`,
// directories' new files, stdin); alerts are written as soon as they are
// final (docs/streaming.md); with --state, read positions and detection
// state are checkpointed together so a restart continues where it stopped.
#pragma once

#include <string>
#include <vector>

#include "cli/detection_options.h"

namespace CLI {
class App;
}

namespace vigil {

struct RunCommandOptions {
  DetectionCommandOptions detection;
  std::vector<std::string> inputs;
  std::string output = "-";
  std::string state;          // state directory (checkpoints); empty: none
  std::string schedule = "immediate";  // or "elastic"
  std::string lateness = "30s";
  bool follow = false;
  std::string poll_interval = "200ms";
  std::string checkpoint_interval = "5s";
  std::string status_interval = "5s";
  std::size_t max_alert_ids = 1000000;
  std::size_t max_checkpoint_bytes = std::size_t{1} << 30;
};

void add_run_command(CLI::App& app, RunCommandOptions& options);
int run_run_command(const RunCommandOptions& options);

}  // namespace vigil
