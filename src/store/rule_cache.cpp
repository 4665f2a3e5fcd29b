// RuleCache implementation.
#include "store/rule_cache.h"

#include <elf.h>
#include <link.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace vigil {
namespace {

constexpr std::int64_t kKeepSeconds = 30LL * 24 * 3600;
// A hit on an entry stored longer ago than this stores it again (its age
// starts anew), so rules in use are not the ones the caps drop.
constexpr std::int64_t kRefreshSeconds = 24 * 3600;
// The file the cache had before entries were keyed by text alone: its
// entries are of no use to this build, and it grew without bound.
constexpr const char* kOldFile = "rules.sqlite";
// A cache another vigil holds locked is skipped after this long, not waited for.
constexpr int kBusyMillis = 200;

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

int find_build_id(struct dl_phdr_info* info, std::size_t, void* out) {
  // The first object listed is the program itself.
  auto* id = static_cast<std::string*>(out);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) continue;
    const char* p = reinterpret_cast<const char*>(info->dlpi_addr + ph.p_vaddr);
    const char* end = p + ph.p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      ElfW(Nhdr) note;
      std::memcpy(&note, p, sizeof note);
      const char* name = p + sizeof note;
      const char* desc = name + ((note.n_namesz + 3) & ~3u);
      const char* next = desc + ((note.n_descsz + 3) & ~3u);
      if (next > end) break;
      if (note.n_type == NT_GNU_BUILD_ID && note.n_namesz == 4 && std::memcmp(name, "GNU", 4) == 0) {
        for (std::size_t k = 0; k < note.n_descsz; ++k) *id += fmt::format("{:02x}", static_cast<unsigned char>(desc[k]));
        return 1;
      }
      p = next;
    }
  }
  return 1;  // only the program: stop after the first object
}

}  // namespace

std::string program_build_id() {
  std::string id;
  dl_iterate_phdr(find_build_id, &id);
  return id;
}

std::optional<std::string> RuleCache::default_dir() {
  if (const char* dir = std::getenv("VIGIL_CACHE_DIR")) {
    if (*dir == '\0') return std::nullopt;
    return std::string(dir);
  }
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::string(xdg) + "/vigil";
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.cache/vigil";
  return std::nullopt;
}

std::unique_ptr<RuleCache> RuleCache::open_default(bool disabled) {
  if (disabled) return nullptr;
  std::optional<std::string> dir = default_dir();
  return dir ? open(*dir) : nullptr;
}

std::unique_ptr<SqliteDb> RuleCache::open_file(const std::string& path) {
  auto open_once = [&] {
    // Incremental auto-vacuum (only takes effect on a new, empty file):
    // the pages of dropped entries are given back to the file system.
    return SqliteDb::open(path,
                          "PRAGMA auto_vacuum = INCREMENTAL;"
                          "CREATE TABLE IF NOT EXISTS parsed_rules ("
                          "  key TEXT PRIMARY KEY,"  // build id, then rule_cache_key()
                          "  rule BLOB NOT NULL,"
                          "  stored INTEGER NOT NULL);"
                          "CREATE INDEX IF NOT EXISTS parsed_rules_stored ON parsed_rules (stored);"
                          "CREATE TABLE IF NOT EXISTS compiled_sets ("
                          "  key TEXT PRIMARY KEY,"  // build id, then WildcardSet's key
                          "  db BLOB NOT NULL,"
                          "  stored INTEGER NOT NULL);"
                          "CREATE INDEX IF NOT EXISTS compiled_sets_stored ON compiled_sets (stored);");
  };
  auto db = open_once();
  if (!db && db.error().code == "store.damaged") {
    // A damaged cache is only lost work: start it again.
    remove_files(path);
    db = open_once();
  }
  if (!db) return nullptr;
  sqlite3_busy_timeout((*db)->get(), kBusyMillis);
  return std::move(*db);
}

void RuleCache::remove_files(const std::string& path) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix, ec);
}

std::unique_ptr<RuleCache> RuleCache::open(const std::string& dir, std::size_t max_entries) {
  std::string build = program_build_id();
  if (build.empty()) return nullptr;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return nullptr;
  remove_files(dir + "/" + kOldFile);
  std::string path = dir + "/" + kFileName;
  auto db = open_file(path);
  if (!db) return nullptr;
  return std::unique_ptr<RuleCache>(
      new RuleCache(std::move(db), std::move(path), std::move(build), std::max<std::size_t>(1, max_entries)));
}

std::size_t RuleCache::entries() const {
  if (!db_) return 0;
  Statement count(*db_, "SELECT count(*) FROM parsed_rules");
  return count.ok() && count.step() ? static_cast<std::size_t>(count.integer(0)) : 0;
}

std::vector<std::optional<std::string>> RuleCache::find(const std::vector<std::string>& keys) {
  std::vector<std::optional<std::string>> out(keys.size());
  if (!db_) return out;
  Statement select(*db_, "SELECT rule, stored FROM parsed_rules WHERE key = ?");
  const std::int64_t now = now_seconds();
  if (!select.ok() || !db_->exec("BEGIN")) return out;  // one read transaction for every lookup
  for (std::size_t i = 0; i < keys.size(); ++i) {
    select.reset();
    select.bind(1, build_ + ":" + keys[i]);
    if (!select.step()) {
      if (select.failed() && db_->damaged()) {
        damaged_ = true;  // store() starts the file again
        break;
      }
      continue;
    }
    out[i] = std::string(select.blob(0));
    ++hits_;
    if (select.integer(1) < now - kRefreshSeconds) stale_.push_back(keys[i]);
  }
  select.reset();
  (void)db_->exec("COMMIT");
  return out;
}

void RuleCache::start_again() {
  db_.reset();
  remove_files(path_);
  db_ = open_file(path_);
  damaged_ = false;
}

bool RuleCache::write(std::string_view table, std::string_view blob_column,
                      const std::vector<std::pair<std::string, std::string>>& entries,
                      const std::vector<std::string>& refresh_keys) {
  if (!db_ || !db_->exec("BEGIN IMMEDIATE")) return false;
  const std::int64_t now = now_seconds();
  // Table and column names are this file's constants; every value is bound.
  Statement insert(*db_, fmt::format("INSERT OR REPLACE INTO {} (key, {}, stored) VALUES (?, ?, ?)", table, blob_column));
  bool ok = insert.ok();
  for (const auto& [key, bytes] : entries) {
    if (!ok) break;
    insert.reset();
    insert.bind(1, build_ + ":" + key);
    insert.bind_blob(2, bytes);
    insert.bind(3, now);
    insert.step();
    ok = !insert.failed();
  }
  insert.reset();
  Statement refresh(*db_, fmt::format("UPDATE {} SET stored = ? WHERE key = ?", table));
  ok = ok && refresh.ok();
  for (std::size_t i = 0; ok && i < refresh_keys.size(); ++i) {
    refresh.reset();
    refresh.bind(1, now);
    refresh.bind(2, build_ + ":" + refresh_keys[i]);
    refresh.step();
    ok = !refresh.failed();
  }
  refresh.reset();
  // Entries older than kKeepSeconds; other builds' (this binary cannot
  // read them) once a day old; and beyond max_entries_, other builds' before
  // this one's, then the oldest. This build's entries hit earlier the same
  // day carry their first store time: ordered by time alone, a build run in
  // turn with another (an upgrade, a benchmark of two binaries) lost the
  // very entries it was using and parsed them again on every run.
  Statement prune(*db_, fmt::format("DELETE FROM {0} WHERE stored < ?1 OR (substr(key, 1, ?4) != ?3 AND stored < ?5) "
                                    "OR rowid IN (SELECT rowid FROM {0} ORDER BY substr(key, 1, ?4) = ?3 DESC, "
                                    "stored DESC LIMIT -1 OFFSET ?2)",
                                    table));
  if (ok && prune.ok()) {
    const std::string mine = build_ + ":";
    prune.bind(1, now - kKeepSeconds);
    prune.bind(2, static_cast<std::int64_t>(max_entries_));
    prune.bind(3, mine);
    prune.bind(4, static_cast<std::int64_t>(mine.size()));
    prune.bind(5, now - kRefreshSeconds);
    prune.step();
    ok = !prune.failed();
  }
  damaged_ = damaged_ || (!ok && db_->damaged());
  (void)db_->exec(ok ? "COMMIT" : "ROLLBACK");
  if (ok) (void)db_->exec("PRAGMA incremental_vacuum");
  return ok;
}

void RuleCache::store(const std::vector<std::pair<std::string, std::string>>& entries) {
  if (entries.empty() && stale_.empty()) return;
  if (damaged_) start_again();
  if (write("parsed_rules", "rule", entries, stale_) || !damaged_) return;
  start_again();  // a corrupt page met while writing: once more in a new file
  (void)write("parsed_rules", "rule", entries, stale_);
}

std::optional<std::string> RuleCache::find(const std::string& key) {
  std::lock_guard lock(sets_mutex_);
  if (!db_ || damaged_) return std::nullopt;
  Statement select(*db_, "SELECT db FROM compiled_sets WHERE key = ?");
  if (!select.ok()) return std::nullopt;
  select.bind(1, build_ + ":" + key);
  if (!select.step()) {
    damaged_ = select.failed() && db_->damaged();
    return std::nullopt;
  }
  ++set_hits_;
  return std::string(select.blob(0));
}

void RuleCache::store(const std::string& key, std::string bytes) {
  std::lock_guard lock(sets_mutex_);
  new_sets_.emplace_back(key, std::move(bytes));
}

void RuleCache::write_sets() {
  if (new_sets_.empty() || damaged_) return;
  (void)write("compiled_sets", "db", new_sets_, {});
  new_sets_.clear();
}

RuleCache::~RuleCache() {
  if (compiled_set_store() == this) set_compiled_set_store(nullptr);
  std::lock_guard lock(sets_mutex_);
  write_sets();
}

}  // namespace vigil
