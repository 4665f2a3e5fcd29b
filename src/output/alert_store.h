// AlertStore: the embedded alert database (SQLite, one file). `vigil hunt
// --db FILE` adds each run's alerts in one transaction (WAL journal: a kill
// at any point leaves the previous state or the new one); alerts already in
// the store (same id: same rule and event) are kept once. `vigil alerts`
// lists, filters and summarizes what is stored. Every query binds its
// parameters.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "output/alert_document.h"
#include "store/sqlite_db.h"

namespace vigil {

struct AlertFilter {
  std::optional<std::string> rule;      // rule name or rule_id (exact), or a name pattern with % wildcards
  std::optional<std::string> host;      // case-insensitive (Windows host names are)
  std::optional<std::string> severity;  // at least this severity: low < medium < high < critical
  std::optional<TimestampNs> since;     // alert time >= since
  std::optional<TimestampNs> until;     // alert time < until
  bool include_building_blocks = false;
  std::size_t limit = 1000;
};

struct StoredAlert {
  AlertSummary summary;
};

struct AlertCount {
  std::string key;  // rule name, host or severity
  std::string severity;
  std::uint64_t count = 0;
};

class AlertStore {
 public:
  static Result<std::unique_ptr<AlertStore>> open(const std::string& path);
  ~AlertStore();

  // Adds alerts in one transaction; returns how many were new.
  Result<std::size_t> add(const std::vector<AlertSummary>& alerts);
  Result<std::vector<StoredAlert>> list(const AlertFilter& filter);
  // Calls fn for each alert list() would return, one at a time (a report over
  // a large store does not hold every document); returns how many.
  Result<std::size_t> each(const AlertFilter& filter, const std::function<void(StoredAlert&&)>& fn);
  // The alerts whose id starts with `prefix` (at most `limit`).
  Result<std::vector<StoredAlert>> find(const std::string& prefix, std::size_t limit);
  // A sequence's building blocks (by kibana.alert.group.id), in term order.
  Result<std::vector<StoredAlert>> group(const std::string& group_id);
  // Counts by "rule" (with its severity), "host" or "severity".
  Result<std::vector<AlertCount>> count_by(const std::string& what, const AlertFilter& filter);

 private:
  explicit AlertStore(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}
  Result<std::vector<StoredAlert>> select(const std::string& where, const std::vector<std::string>& params,
                                          std::size_t limit);
  std::unique_ptr<SqliteDb> db_;
};

}  // namespace vigil
