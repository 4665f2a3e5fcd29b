// BaselineStore on SQLite: terms keyed by (spec, entity, term), WITHOUT ROWID
// so a term costs its key and three integers.
#include "store/baseline_store.h"

namespace vigil {

Result<std::unique_ptr<BaselineStore>> BaselineStore::open(const std::string& path) {
  auto db = SqliteDb::open(path,
                           "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
                           "CREATE TABLE IF NOT EXISTS specs (number INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
                           "  description TEXT NOT NULL, rules TEXT NOT NULL);"
                           "CREATE TABLE IF NOT EXISTS terms (spec INTEGER NOT NULL, entity TEXT NOT NULL,"
                           "  term TEXT NOT NULL, count INTEGER NOT NULL, first_seen INTEGER NOT NULL,"
                           "  last_seen INTEGER NOT NULL, PRIMARY KEY (spec, entity, term)) WITHOUT ROWID;"
                           "CREATE TABLE IF NOT EXISTS inputs (key TEXT PRIMARY KEY, path TEXT NOT NULL,"
                           "  events INTEGER NOT NULL, learned_at INTEGER NOT NULL);");
  if (!db) return db.error();
  return std::unique_ptr<BaselineStore>(new BaselineStore(std::move(*db)));
}

BaselineStore::BaselineStore(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {
  upsert_ = std::make_unique<Statement>(
      *db_,
      "INSERT INTO terms (spec, entity, term, count, first_seen, last_seen) VALUES (?,?,?,?,?,?)"
      " ON CONFLICT (spec, entity, term) DO UPDATE SET count = count + excluded.count,"
      " first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)");
  lookup_ = std::make_unique<Statement>(
      *db_, "SELECT count, first_seen, last_seen FROM terms WHERE spec = ? AND entity = ? AND term = ?");
}

BaselineStore::~BaselineStore() = default;

Result<bool> BaselineStore::begin() { return db_->exec("BEGIN IMMEDIATE"); }
Result<bool> BaselineStore::begin_read() { return db_->exec("BEGIN DEFERRED"); }
Result<bool> BaselineStore::commit() { return db_->exec("COMMIT"); }
void BaselineStore::rollback() { db_->exec("ROLLBACK"); }

Result<std::int64_t> BaselineStore::spec_number(const std::string& id, const std::string& description,
                                                const std::string& rules) {
  Statement insert(*db_, "INSERT INTO specs (id, description, rules) VALUES (?,?,?)"
                         " ON CONFLICT (id) DO UPDATE SET rules = excluded.rules");
  insert.bind(1, id);
  insert.bind(2, description);
  insert.bind(3, rules);
  insert.step();
  if (!insert.ok() || insert.failed()) return db_->error("add spec");
  if (auto n = find_spec(id)) return *n;
  return db_->error("find spec");
}

std::optional<std::int64_t> BaselineStore::find_spec(const std::string& id) {
  Statement st(*db_, "SELECT number FROM specs WHERE id = ?");
  st.bind(1, id);
  if (st.ok() && st.step()) return st.integer(0);
  return std::nullopt;
}

Result<bool> BaselineStore::add(std::int64_t spec, std::string_view entity, std::string_view term,
                                const TermStats& stats) {
  Statement& st = *upsert_;
  if (!st.ok()) return db_->error("prepare term upsert");
  st.bind(1, spec);
  st.bind(2, entity);
  st.bind(3, term);
  st.bind(4, stats.count);
  st.bind(5, stats.first_seen);
  st.bind(6, stats.last_seen);
  st.step();
  bool failed = st.failed();
  st.reset();
  if (failed) return db_->error("add term");
  return true;
}

std::optional<TermStats> BaselineStore::lookup(std::int64_t spec, std::string_view entity, std::string_view term) {
  Statement& st = *lookup_;
  if (!st.ok()) return std::nullopt;
  st.bind(1, spec);
  st.bind(2, entity);
  st.bind(3, term);
  std::optional<TermStats> out;
  if (st.step()) out = TermStats{st.integer(0), st.integer(1), st.integer(2)};
  st.reset();
  return out;
}

bool BaselineStore::learned(const std::string& key) {
  Statement st(*db_, "SELECT 1 FROM inputs WHERE key = ?");
  st.bind(1, key);
  return st.ok() && st.step();
}

Result<bool> BaselineStore::record_input(const std::string& key, const std::string& path, std::uint64_t events) {
  Statement st(*db_, "INSERT OR REPLACE INTO inputs (key, path, events, learned_at) VALUES (?,?,?,strftime('%s','now'))");
  st.bind(1, key);
  st.bind(2, path);
  st.bind(3, static_cast<std::int64_t>(events));
  st.step();
  if (!st.ok() || st.failed()) return db_->error("record input");
  return true;
}

Result<std::uint64_t> BaselineStore::age(std::int64_t max_age_ns) {
  Statement st(*db_, "DELETE FROM terms WHERE last_seen < (SELECT max(last_seen) FROM terms) - ?");
  st.bind(1, max_age_ns);
  st.step();
  if (!st.ok() || st.failed()) return db_->error("age terms");
  return static_cast<std::uint64_t>(db_->changes());
}

Result<std::uint64_t> BaselineStore::cap(std::uint64_t max_terms) {
  std::uint64_t total = term_count();
  if (total <= max_terms) return std::uint64_t{0};
  Statement st(*db_, "DELETE FROM terms WHERE (spec, entity, term) IN"
                     " (SELECT spec, entity, term FROM terms ORDER BY last_seen, count LIMIT ?)");
  st.bind(1, static_cast<std::int64_t>(total - max_terms));
  st.step();
  if (!st.ok() || st.failed()) return db_->error("cap terms");
  return static_cast<std::uint64_t>(db_->changes());
}

void BaselineStore::add_counter(const char* name, std::int64_t n) {
  Statement st(*db_, "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = value + excluded.value");
  st.bind(1, name);
  st.bind(2, n);
  st.step();
}

std::int64_t BaselineStore::counter(const char* name) {
  Statement st(*db_, "SELECT value FROM meta WHERE key = ?");
  st.bind(1, name);
  return st.ok() && st.step() ? st.integer(0) : 0;
}

Result<std::vector<BaselineSpecRow>> BaselineStore::specs() {
  Statement st(*db_, "SELECT s.number, s.id, s.description, s.rules,"
                     " (SELECT count(*) FROM terms t WHERE t.spec = s.number),"
                     " (SELECT count(DISTINCT entity) FROM terms t WHERE t.spec = s.number)"
                     " FROM specs s ORDER BY s.number");
  std::vector<BaselineSpecRow> out;
  while (st.ok() && st.step()) {
    out.push_back({st.integer(0), st.text(1), st.text(2), st.text(3), static_cast<std::uint64_t>(st.integer(4)),
                   static_cast<std::uint64_t>(st.integer(5))});
  }
  if (!st.ok() || st.failed()) return db_->error("list specs");
  return out;
}

Result<std::vector<BaselineTermRow>> BaselineStore::terms(std::int64_t spec, const std::optional<std::string>& entity,
                                                          bool rarest, std::size_t limit) {
  std::string sql = "SELECT entity, term, count, first_seen, last_seen FROM terms WHERE spec = ?";
  if (entity) sql += " AND entity = ?";
  sql += rarest ? " ORDER BY count, last_seen DESC, entity, term" : " ORDER BY count DESC, entity, term";
  sql += " LIMIT ?";
  Statement st(*db_, sql);
  int at = 1;
  st.bind(at++, spec);
  if (entity) st.bind(at++, *entity);
  st.bind(at, static_cast<std::int64_t>(limit));
  std::vector<BaselineTermRow> out;
  while (st.ok() && st.step()) out.push_back({st.text(0), st.text(1), {st.integer(2), st.integer(3), st.integer(4)}});
  if (!st.ok() || st.failed()) return db_->error("list terms");
  return out;
}

std::uint64_t BaselineStore::term_count() {
  Statement st(*db_, "SELECT count(*) FROM terms");
  return st.ok() && st.step() ? static_cast<std::uint64_t>(st.integer(0)) : 0;
}

std::uint64_t BaselineStore::input_count() {
  Statement st(*db_, "SELECT count(*) FROM inputs");
  return st.ok() && st.step() ? static_cast<std::uint64_t>(st.integer(0)) : 0;
}

}  // namespace vigil
