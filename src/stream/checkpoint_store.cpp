// CheckpointStore implementation: one row, replaced in a transaction.
#include "stream/checkpoint_store.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace vigil {
namespace {

constexpr std::int64_t kFormat = 3;  // 2: detections carry threshold results; 3: ES|QL rows and results

constexpr std::string_view kSchema = R"(
CREATE TABLE IF NOT EXISTS checkpoint (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  format INTEGER NOT NULL,
  rules_hash TEXT NOT NULL,
  inputs BLOB NOT NULL,
  pipeline BLOB NOT NULL,
  sink_path TEXT NOT NULL,
  sink_bytes INTEGER NOT NULL,
  written_at INTEGER NOT NULL
);
)";

}  // namespace

Result<std::unique_ptr<CheckpointStore>> CheckpointStore::open(const std::string& directory) {
  if (::mkdir(directory.c_str(), 0700) != 0 && errno != EEXIST) {
    return Error{"state.open", directory + ": cannot create the state directory: " + std::strerror(errno)};
  }
  const std::string path = directory + "/state.sqlite";
  auto db = SqliteDb::open(path, kSchema);
  if (!db) return db.error();
  return std::unique_ptr<CheckpointStore>(new CheckpointStore(std::move(*db), path));
}

std::optional<Checkpoint> CheckpointStore::load() {
  Statement q(*db_,
              "SELECT format, rules_hash, inputs, pipeline, sink_path, sink_bytes, written_at FROM checkpoint WHERE id = 1");
  if (!q.ok() || !q.step() || q.integer(0) != kFormat) return std::nullopt;
  Checkpoint c;
  c.rules_hash = q.text(1);
  c.inputs = std::string(q.blob(2));
  c.pipeline = std::string(q.blob(3));
  c.sink_path = q.text(4);
  c.sink_bytes = static_cast<std::uint64_t>(q.integer(5));
  c.written_at = q.integer(6);
  return c;
}

Result<bool> CheckpointStore::save(const Checkpoint& c) {
  if (auto begun = db_->exec("BEGIN IMMEDIATE"); !begun) return begun.error();
  Statement q(*db_,
              "INSERT OR REPLACE INTO checkpoint (id, format, rules_hash, inputs, pipeline, sink_path, sink_bytes, "
              "written_at) VALUES (1, ?, ?, ?, ?, ?, ?, ?)");
  q.bind(1, kFormat);
  q.bind(2, c.rules_hash);
  q.bind_blob(3, c.inputs);
  q.bind_blob(4, c.pipeline);
  q.bind(5, c.sink_path);
  q.bind(6, static_cast<std::int64_t>(c.sink_bytes));
  q.bind(7, c.written_at);
  q.step();
  if (q.failed()) {
    Error e = db_->error("saving the checkpoint");
    (void)db_->exec("ROLLBACK");
    return e;
  }
  if (auto done = db_->exec("COMMIT"); !done) return done.error();
  return true;
}

}  // namespace vigil
