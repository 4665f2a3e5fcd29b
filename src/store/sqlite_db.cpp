// SqliteDb and Statement implementation.
#include "store/sqlite_db.h"

#include <sqlite3.h>

#include <fmt/format.h>

namespace vigil {

Result<std::unique_ptr<SqliteDb>> SqliteDb::open(const std::string& path, std::string_view schema) {
  sqlite3* raw = nullptr;
  if (sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    Error e{"store.sqlite", fmt::format("{}: {}", path, raw ? sqlite3_errmsg(raw) : "cannot open")};
    sqlite3_close(raw);
    return e;
  }
  std::unique_ptr<SqliteDb> db(new SqliteDb(raw));
  sqlite3_busy_timeout(raw, 5000);
  std::string sql = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;";
  sql += schema;
  char* message = nullptr;
  if (sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    Error e{db->damaged() ? "store.damaged" : "store.sqlite",
            fmt::format("{}: {}", path, message ? message : "cannot create the schema")};
    sqlite3_free(message);
    return e;
  }
  return db;
}

SqliteDb::~SqliteDb() { sqlite3_close(db_); }

Result<bool> SqliteDb::exec(const char* sql) {
  if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return error(sql);
  return true;
}

Error SqliteDb::error(std::string_view what) const {
  return Error{"store.sqlite", fmt::format("{}: {}", what, sqlite3_errmsg(db_))};
}

std::int64_t SqliteDb::changes() const { return sqlite3_changes(db_); }

bool SqliteDb::damaged() const {
  const int code = sqlite3_errcode(db_);
  return code == SQLITE_CORRUPT || code == SQLITE_NOTADB;
}

Statement::Statement(const SqliteDb& db, std::string_view sql) {
  if (sqlite3_prepare_v2(db.get(), sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr) != SQLITE_OK) {
    sqlite3_finalize(stmt_);
    stmt_ = nullptr;
  }
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::bind(int i, std::string_view s) {
  sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
}

void Statement::bind(int i, std::int64_t v) { sqlite3_bind_int64(stmt_, i, v); }

void Statement::bind_blob(int i, std::string_view bytes) {
  sqlite3_bind_blob64(stmt_, i, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) failed_ = true;
  return false;
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string Statement::text(int col) const {
  const unsigned char* t = sqlite3_column_text(stmt_, col);
  return t ? std::string(reinterpret_cast<const char*>(t), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
           : std::string();
}

std::string_view Statement::blob(int col) const {
  const void* b = sqlite3_column_blob(stmt_, col);
  return b ? std::string_view(static_cast<const char*>(b), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
           : std::string_view();
}

std::int64_t Statement::integer(int col) const { return sqlite3_column_int64(stmt_, col); }

}  // namespace vigil
