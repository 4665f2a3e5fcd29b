// `vigil run --rules DIR [--follow] [--state DIR] INPUT...`: continuous
// detection. Inputs are read as they grow (files followed like `tail -F`,
// directories' new files, stdin); alerts are written as soon as they are
// final (docs/streaming.md); with --state, read positions and detection
// state are checkpointed together so a restart continues where it stopped.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cli/detection_options.h"
#include "output/alert_file_sink.h"
#include "stream/checkpoint_store.h"

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
  // NATS JetStream (docs/streaming.md): events from VIGIL_EVENTS instead of inputs.
  std::string nats;
  std::string worker;  // "I/N": owns the partitions p with p mod N == I; empty: all
  std::uint32_t partitions = 16;
  std::size_t max_event_bytes = std::size_t{1} << 20;
  std::string metrics_listen;  // HOST:PORT for Prometheus metrics (run --nats)
};

void add_run_command(CLI::App& app, RunCommandOptions& options);
int run_run_command(const RunCommandOptions& options);

// What both sources of `vigil run` share (run_command.cpp).
struct RunDurations {
  std::int64_t lateness_ns, poll_ns, checkpoint_ns, status_ns;
};
// The state's fingerprint: every compiled rule, the alert timing and `extra`
// (the partition count for NATS): state made otherwise is refused.
std::string rules_fingerprint(const RuleSet& set, const RunCommandOptions& o, std::string_view extra);
// The -o alert file, resumed at the checkpoint's length when the checkpoint
// wrote to the same file; null (the reason printed) when it cannot be opened.
std::unique_ptr<AlertFileSink> open_alert_sink(const RunCommandOptions& o, const std::optional<Checkpoint>& checkpoint);
// `vigil run --nats`: the pipeline per partition over JetStream (run_nats.cpp).
int run_from_nats(const RunCommandOptions& options, DetectionSetup& setup, const RunDurations& durations);

}  // namespace vigil
