// AlertStore on SQLite: one table, indexed by the columns analysts filter on.
#include "output/alert_store.h"


namespace vigil {
namespace {

int severity_rank(std::string_view s) {
  if (s == "critical") return 4;
  if (s == "high") return 3;
  if (s == "medium") return 2;
  if (s == "low") return 1;
  return 0;
}

// WHERE clause and its parameters for a filter (parameters are bound, never spliced).
struct Where {
  std::string sql;
  std::vector<std::string> texts;
  std::vector<std::int64_t> ints;
  std::vector<bool> is_int;
};

Where where_of(const AlertFilter& f) {
  Where w;
  std::vector<std::string> terms;
  auto text = [&](std::string term, const std::string& value) {
    terms.push_back(std::move(term));
    w.texts.push_back(value);
    w.ints.push_back(0);
    w.is_int.push_back(false);
  };
  auto integer = [&](std::string term, std::int64_t value) {
    terms.push_back(std::move(term));
    w.texts.emplace_back();
    w.ints.push_back(value);
    w.is_int.push_back(true);
  };
  if (!f.include_building_blocks) terms.push_back("building_block = 0");
  if (f.rule) {
    terms.push_back("(rule_name LIKE ? OR rule_id = ?)");
    w.texts.push_back(*f.rule);
    w.ints.push_back(0);
    w.is_int.push_back(false);
    w.texts.push_back(*f.rule);
    w.ints.push_back(0);
    w.is_int.push_back(false);
  }
  if (f.host) text("host = ? COLLATE NOCASE", *f.host);
  if (f.severity) integer("severity_rank >= ?", severity_rank(*f.severity));
  if (f.since) integer("time >= ?", *f.since);
  if (f.until) integer("time < ?", *f.until);
  for (std::size_t i = 0; i < terms.size(); ++i) w.sql += (i == 0 ? " WHERE " : " AND ") + terms[i];
  return w;
}

void bind_where(Statement& st, const Where& w, int first = 1) {
  for (std::size_t i = 0; i < w.texts.size(); ++i) {
    if (w.is_int[i]) {
      st.bind(first + static_cast<int>(i), w.ints[i]);
    } else {
      st.bind(first + static_cast<int>(i), w.texts[i]);
    }
  }
}

}  // namespace

Result<std::unique_ptr<AlertStore>> AlertStore::open(const std::string& path) {
  auto db = SqliteDb::open(path,
                           "CREATE TABLE IF NOT EXISTS alerts ("
                           "  id TEXT PRIMARY KEY, time INTEGER NOT NULL, original_time INTEGER NOT NULL,"
                           "  rule_id TEXT NOT NULL, rule_name TEXT NOT NULL, severity TEXT NOT NULL,"
                           "  severity_rank INTEGER NOT NULL, risk_score INTEGER NOT NULL, host TEXT NOT NULL,"
                           "  reason TEXT NOT NULL, building_block INTEGER NOT NULL, document TEXT NOT NULL);"
                           "CREATE INDEX IF NOT EXISTS alerts_time ON alerts(time);"
                           "CREATE INDEX IF NOT EXISTS alerts_rule ON alerts(rule_id);"
                           "CREATE INDEX IF NOT EXISTS alerts_host ON alerts(host);");
  if (!db) return db.error();
  return std::unique_ptr<AlertStore>(new AlertStore(std::move(*db)));
}

AlertStore::~AlertStore() = default;

Result<std::size_t> AlertStore::add(const std::vector<AlertSummary>& alerts) {
  if (auto begun = db_->exec("BEGIN IMMEDIATE"); !begun) return begun.error();
  Statement st(*db_,
               "INSERT OR IGNORE INTO alerts (id, time, original_time, rule_id, rule_name, severity, severity_rank,"
               " risk_score, host, reason, building_block, document) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)");
  if (!st.ok()) {
    Error e = db_->error("prepare insert");
    db_->exec("ROLLBACK");
    return e;
  }
  std::size_t added = 0;
  for (const AlertSummary& a : alerts) {
    st.bind(1, a.id);
    st.bind(2, static_cast<std::int64_t>(a.time));
    st.bind(3, static_cast<std::int64_t>(a.original_time));
    st.bind(4, a.rule_id);
    st.bind(5, a.rule_name);
    st.bind(6, a.severity);
    st.bind(7, static_cast<std::int64_t>(severity_rank(a.severity)));
    st.bind(8, static_cast<std::int64_t>(a.risk_score));
    st.bind(9, a.host);
    st.bind(10, a.reason);
    st.bind(11, static_cast<std::int64_t>(a.building_block ? 1 : 0));
    st.bind(12, a.document);
    st.step();
    if (st.failed()) {
      Error e = db_->error("insert");
      db_->exec("ROLLBACK");
      return e;
    }
    added += static_cast<std::size_t>(db_->changes());
    st.reset();
  }
  if (auto committed = db_->exec("COMMIT"); !committed) {
    db_->exec("ROLLBACK");
    return committed.error();
  }
  return added;
}

namespace {
constexpr const char* kColumns =
    "SELECT id, time, original_time, rule_id, rule_name, severity, risk_score, host, reason, building_block, document "
    "FROM alerts";

StoredAlert row_of(Statement& st) {
  StoredAlert a;
  a.summary.id = st.text(0);
  a.summary.time = st.integer(1);
  a.summary.original_time = st.integer(2);
  a.summary.rule_id = st.text(3);
  a.summary.rule_name = st.text(4);
  a.summary.severity = st.text(5);
  a.summary.risk_score = static_cast<int>(st.integer(6));
  a.summary.host = st.text(7);
  a.summary.reason = st.text(8);
  a.summary.building_block = st.integer(9) != 0;
  a.summary.document = st.text(10);
  return a;
}
}  // namespace

Result<std::size_t> AlertStore::each(const AlertFilter& filter, const std::function<void(StoredAlert&&)>& fn) {
  Where w = where_of(filter);
  Statement st(*db_, kColumns + w.sql + " ORDER BY time, original_time, rule_name, id LIMIT ?");
  if (!st.ok()) return db_->error("prepare list");
  bind_where(st, w);
  // SQLite reads a negative LIMIT as none: SIZE_MAX binds as -1.
  st.bind(static_cast<int>(w.texts.size()) + 1, static_cast<std::int64_t>(filter.limit));
  std::size_t n = 0;
  while (st.step()) {
    fn(row_of(st));
    ++n;
  }
  if (st.failed()) return db_->error("list");
  return n;
}

Result<std::vector<StoredAlert>> AlertStore::list(const AlertFilter& filter) {
  std::vector<StoredAlert> out;
  auto n = each(filter, [&](StoredAlert&& a) { out.push_back(std::move(a)); });
  if (!n) return n.error();
  return out;
}

Result<std::vector<StoredAlert>> AlertStore::select(const std::string& where, const std::vector<std::string>& params,
                                                    std::size_t limit) {
  Statement st(*db_, std::string(kColumns) + " WHERE " + where + " ORDER BY time, original_time, id LIMIT ?");
  if (!st.ok()) return db_->error("prepare select");
  int i = 1;
  for (const std::string& p : params) st.bind(i++, p);
  st.bind(i, static_cast<std::int64_t>(limit));
  std::vector<StoredAlert> out;
  while (st.step()) out.push_back(row_of(st));
  if (st.failed()) return db_->error("select");
  return out;
}

Result<std::vector<StoredAlert>> AlertStore::find(const std::string& prefix, std::size_t limit) {
  // substr() rather than LIKE: an id prefix is matched as text, '%' and '_' included.
  return select("substr(id, 1, length(?1)) = ?1", {prefix}, limit);
}

Result<std::vector<StoredAlert>> AlertStore::group(const std::string& group_id) {
  // The group id is a hex hash, quoted in the document: matched as one JSON member.
  auto rows = select("building_block = 1 AND instr(document, ?1) > 0",
                     {"\"kibana.alert.group.id\":\"" + group_id + "\""}, 10000);
  return rows;
}

Result<std::vector<AlertCount>> AlertStore::count_by(const std::string& what, const AlertFilter& filter) {
  std::string column = what == "host" ? "host" : what == "severity" ? "severity" : "rule_name";
  Where w = where_of(filter);
  std::string sql = "SELECT " + column + ", MAX(severity_rank), COUNT(*) FROM alerts" + w.sql + " GROUP BY " + column +
                    " ORDER BY MAX(severity_rank) DESC, COUNT(*) DESC, " + column;
  Statement st(*db_, sql);
  if (!st.ok()) return db_->error("prepare summary");
  bind_where(st, w);
  std::vector<AlertCount> out;
  static const char* kNames[] = {"", "low", "medium", "high", "critical"};
  while (st.step()) {
    std::int64_t rank = st.integer(1);
    out.push_back({st.text(0), kNames[rank >= 0 && rank <= 4 ? rank : 0], static_cast<std::uint64_t>(st.integer(2))});
  }
  if (st.failed()) return db_->error("summary");
  return out;
}

}  // namespace vigil
