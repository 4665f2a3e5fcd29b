// CheckpointStore: the state directory of `vigil run` (DIR/state.sqlite, WAL).
// One checkpoint is kept: the read positions of every followed input, the
// pipeline's detection state and the length of the alert file it had written,
// saved together in one transaction, so a kill at any point leaves the last
// complete checkpoint. A checkpoint names the rules it was made with (a hash
// of every compiled rule): state made by other rules is not loaded.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/result.h"
#include "store/sqlite_db.h"

namespace vigil {

struct Checkpoint {
  std::string rules_hash;
  std::string inputs;    // FollowedInputs::save()
  std::string pipeline;  // DetectionPipeline::save()
  std::string sink_path;
  std::uint64_t sink_bytes = 0;  // the alert file's length when the checkpoint was taken
  std::int64_t written_at = 0;   // wall clock (seconds), for people
};

class CheckpointStore {
 public:
  static Result<std::unique_ptr<CheckpointStore>> open(const std::string& directory);
  std::optional<Checkpoint> load();
  Result<bool> save(const Checkpoint& checkpoint);
  const std::string& path() const { return path_; }

 private:
  CheckpointStore(std::unique_ptr<SqliteDb> db, std::string path) : db_(std::move(db)), path_(std::move(path)) {}
  std::unique_ptr<SqliteDb> db_;
  std::string path_;
};

}  // namespace vigil
