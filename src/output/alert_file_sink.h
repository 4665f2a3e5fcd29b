// AlertFileSink: the alert NDJSON file of `vigil run`, appended to as alerts
// become final. Exactly once across crashes: the stream checkpoint records
// the file's length; on restart, the lines written after that length were
// written after the checkpoint, so the replay from it creates them again:
// their ids (kibana.alert.uuid, deterministic) are remembered and those
// alerts are not written twice. A last line cut by a kill is removed.
#pragma once

#include <cstdint>
#include <functional>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "core/result.h"

namespace vigil {

class AlertFileSink {
 public:
  // `path` "-" is stdout. `checkpointed_bytes`: the file's length at the
  // checkpoint being resumed, if any.
  static Result<std::unique_ptr<AlertFileSink>> open(const std::string& path,
                                                     std::optional<std::uint64_t> checkpointed_bytes);
  ~AlertFileSink();

  // Appends NDJSON lines (each ending in '\n'), leaving out those written before a restart.
  Result<bool> write(std::string_view lines);
  // Flushes and (for a file) fsyncs: what a checkpoint may then count on.
  Result<bool> sync();
  // The file's length after what was written (0 for stdout).
  std::uint64_t bytes() const { return bytes_; }
  // The length a checkpoint may record: the file's, unless lines written
  // after the resumed checkpoint have not been made again yet (the replay
  // has not reached their events): then still the resumed checkpoint's, so
  // a restart from the new checkpoint remembers them too. Otherwise those
  // lines would fall before the recorded length, and be written a second
  // time when their events are read again.
  std::uint64_t checkpoint_bytes() const { return written_after_checkpoint_.empty() ? bytes_ : replay_from_; }
  // Leaves out of the replay the lines whose alerts the resumed state has
  // already written (`known`): no replay will make them again.
  void drop_replayed_if(const std::function<bool(std::string_view id)>& known);
  std::uint64_t replayed() const { return replayed_; }  // lines left out: already in the file
  std::uint64_t cut_bytes() const { return cut_bytes_; }  // a partial last line removed at open

 private:
  AlertFileSink() = default;
  std::string path_;
  std::FILE* file_ = nullptr;
  bool is_stdout_ = false;
  std::uint64_t bytes_ = 0;
  std::uint64_t replay_from_ = 0;  // the resumed checkpoint's length
  std::unordered_set<std::string> written_after_checkpoint_;
  std::uint64_t replayed_ = 0;
  std::uint64_t cut_bytes_ = 0;
};

// The kibana.alert.uuid of one alert line, or empty.
std::string_view alert_line_id(std::string_view line);

}  // namespace vigil
