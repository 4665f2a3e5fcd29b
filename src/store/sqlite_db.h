// SqliteDb and Statement: the small RAII layer the embedded stores (alerts,
// baselines) share. Every store opens its file in WAL mode, so a process
// killed at any point leaves the last committed state; every value reaches
// SQL through bound parameters.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace vigil {

class SqliteDb {
 public:
  // Opens (or creates) `path` and runs `schema` (CREATE ... IF NOT EXISTS).
  static Result<std::unique_ptr<SqliteDb>> open(const std::string& path, std::string_view schema);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  sqlite3* get() const { return db_; }
  Result<bool> exec(const char* sql);
  // An error carrying SQLite's message for the last call.
  Error error(std::string_view what) const;
  std::int64_t changes() const;
  // The last call failed because the file is not a database or is corrupt
  // (open() reports that as error code "store.damaged").
  bool damaged() const;

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

// A prepared statement, finalized on scope exit. step() is true while rows come.
class Statement {
 public:
  Statement(const SqliteDb& db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool ok() const { return stmt_ != nullptr; }
  void bind(int i, std::string_view s);
  void bind(int i, std::int64_t v);
  void bind_blob(int i, std::string_view bytes);
  // SQLITE_ROW → true; SQLITE_DONE → false; anything else → false and failed().
  bool step();
  bool failed() const { return failed_; }
  void reset();
  std::string text(int col) const;
  std::string_view blob(int col) const;  // valid until the next step() or reset()
  std::int64_t integer(int col) const;

 private:
  sqlite3_stmt* stmt_ = nullptr;
  bool failed_ = false;
};

}  // namespace vigil
