// compile_plan(): ES|QL commands → steps over rows, with the layout (column
// names) followed command by command; and the steps themselves.
#include "esql/plan.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

#include <fmt/format.h>
#include <re2/re2.h>

#include "core/wildcard.h"
#include "esql/expression.h"
#include "esql/regex.h"
#include "rules/eql_text.h"

namespace vigil::esql {

// One command over a batch of rows.
class Step {
 public:
  virtual ~Step() = default;
  virtual void run(std::vector<Row>& rows, const RunContext& context) const = 0;
};

namespace {

using Columns = std::vector<std::string>;

Error at(SourcePos pos, std::string code, std::string message) { return Error{std::move(code), std::move(message), pos, 1}; }

int index_of(const Columns& columns, std::string_view name) {
  auto it = std::find(columns.begin(), columns.end(), name);
  return it == columns.end() ? -1 : static_cast<int>(it - columns.begin());
}

// Appends `name` as a new last column (an existing one of that name is
// dropped first, as EVAL and GROK do); returns the index dropped or -1.
int append_column(Columns& columns, const std::string& name) {
  const int old = index_of(columns, name);
  if (old >= 0) columns.erase(columns.begin() + old);
  columns.push_back(name);
  return old;
}

void put_last(Row& row, int dropped, Cell value) {
  if (dropped >= 0) row.erase(row.begin() + dropped);
  row.push_back(std::move(value));
}

// ---- steps

class WhereStep final : public Step {
 public:
  explicit WhereStep(Expression condition) : condition_(std::move(condition)) {}
  void run(std::vector<Row>& rows, const RunContext& context) const override {
    std::erase_if(rows, [&](const Row& r) { return !condition_.test(r, context); });
  }

 private:
  Expression condition_;
};

class EvalStep final : public Step {
 public:
  struct Item {
    Expression value;
    int dropped;
  };
  explicit EvalStep(std::vector<Item> items) : items_(std::move(items)) {}
  void run(std::vector<Row>& rows, const RunContext& context) const override {
    for (Row& r : rows) {
      for (const Item& item : items_) put_last(r, item.dropped, item.value.eval(r, context));
    }
  }

 private:
  std::vector<Item> items_;
};

// GROK and DISSECT: captures from one input, appended as columns.
class ExtractStep : public Step {
 public:
  ExtractStep(Expression input, std::vector<int> dropped) : input_(std::move(input)), dropped_(std::move(dropped)) {}
  void run(std::vector<Row>& rows, const RunContext& context) const override {
    std::vector<Cell> captured(dropped_.size());
    for (Row& r : rows) {
      for (Cell& c : captured) c.clear();
      const Cell in = input_.eval(r, context);
      for (const Datum& d : in) extract(d.type == Type::Keyword ? d.s : datum_text(d), captured);
      for (std::size_t k = 0; k < dropped_.size(); ++k) put_last(r, dropped_[k], captured[k]);
    }
  }

 protected:
  // Adds each output column's captured value(s) from `text` (nothing when it does not match).
  virtual void extract(std::string_view text, std::vector<Cell>& out) const = 0;

 private:
  Expression input_;
  std::vector<int> dropped_;
};

class GrokStep final : public ExtractStep {
 public:
  GrokStep(Expression input, std::vector<int> dropped, std::unique_ptr<RE2> re, std::vector<int> group_column,
           std::vector<std::string> types)
      : ExtractStep(std::move(input), std::move(dropped)),
        re_(std::move(re)),
        group_column_(std::move(group_column)),
        types_(std::move(types)) {}

 protected:
  void extract(std::string_view text, std::vector<Cell>& out) const override {
    const int groups = re_->NumberOfCapturingGroups();
    std::vector<re2::StringPiece> sub(static_cast<std::size_t>(groups) + 1);
    if (!re_->Match(text, 0, text.size(), RE2::UNANCHORED, sub.data(), groups + 1)) return;
    for (int g = 1; g <= groups; ++g) {
      const int column = group_column_[static_cast<std::size_t>(g - 1)];
      if (column < 0 || sub[static_cast<std::size_t>(g)].data() == nullptr) continue;
      Cell value = {Datum::keyword(std::string(sub[static_cast<std::size_t>(g)]))};
      const std::string& type = types_[static_cast<std::size_t>(g - 1)];
      if (type == "int" || type == "long") value = convert_cell(value, "long");
      else if (type == "float" || type == "double") value = convert_cell(value, "double");
      else if (type == "boolean") value = convert_cell(value, "boolean");
      for (Datum& d : value) out[static_cast<std::size_t>(column)].push_back(std::move(d));
    }
  }

 private:
  std::unique_ptr<RE2> re_;
  std::vector<int> group_column_;  // per capture group: its output column, -1 for unnamed groups
  std::vector<std::string> types_;
};

// A DISSECT pattern: literal delimiters between %{key} fields.
struct DissectKey {
  std::string name;  // "" for %{} and %{?name} (matched, not kept)
  bool append = false;  // %{+name}: appended to the earlier value of name
  bool pad = false;     // %{name->}: the delimiter after it may repeat
  int column = -1;
};

class DissectStep final : public ExtractStep {
 public:
  DissectStep(Expression input, std::vector<int> dropped, std::string prefix, std::vector<DissectKey> keys,
              std::vector<std::string> delimiters, std::string separator)
      : ExtractStep(std::move(input), std::move(dropped)),
        prefix_(std::move(prefix)),
        keys_(std::move(keys)),
        delimiters_(std::move(delimiters)),
        separator_(std::move(separator)) {}

 protected:
  void extract(std::string_view text, std::vector<Cell>& out) const override {
    if (!text.starts_with(prefix_)) return;
    std::size_t pos = prefix_.size();
    std::vector<std::string_view> values(keys_.size());
    for (std::size_t k = 0; k < keys_.size(); ++k) {
      const std::string& delim = delimiters_[k];
      std::size_t end;
      if (delim.empty()) {
        end = k + 1 == keys_.size() ? text.size() : pos;
      } else {
        end = text.find(delim, pos);
        if (end == std::string_view::npos) return;  // no match: every key null
      }
      values[k] = text.substr(pos, end - pos);
      pos = end + delim.size();
      if (keys_[k].pad) {
        while (!delim.empty() && text.substr(pos, delim.size()) == delim) pos += delim.size();
      }
    }
    std::map<int, std::string> joined;
    for (std::size_t k = 0; k < keys_.size(); ++k) {
      const DissectKey& key = keys_[k];
      if (key.column < 0) continue;
      auto [it, fresh] = joined.try_emplace(key.column, values[k]);
      if (!fresh && key.append) it->second += separator_ + std::string(values[k]);
      else if (!fresh) it->second = values[k];
    }
    for (auto& [column, value] : joined) out[static_cast<std::size_t>(column)] = {Datum::keyword(std::move(value))};
  }

 private:
  std::string prefix_;
  std::vector<DissectKey> keys_;
  std::vector<std::string> delimiters_;  // after each key ("" after the last one: to the end)
  std::string separator_;
};

// KEEP, DROP and RENAME: the row's cells picked (and ordered) anew.
class ProjectStep final : public Step {
 public:
  explicit ProjectStep(std::vector<int> picks) : picks_(std::move(picks)) {}
  void run(std::vector<Row>& rows, const RunContext&) const override {
    for (Row& r : rows) {
      Row out;
      out.tag = r.tag;
      out.reserve(picks_.size());
      for (int p : picks_) out.push_back(std::move(r[static_cast<std::size_t>(p)]));
      r = std::move(out);
    }
  }

 private:
  std::vector<int> picks_;
};

class MvExpandStep final : public Step {
 public:
  explicit MvExpandStep(int column) : column_(column) {}
  void run(std::vector<Row>& rows, const RunContext&) const override {
    std::vector<Row> out;
    for (Row& r : rows) {
      Cell& c = r[static_cast<std::size_t>(column_)];
      if (c.size() <= 1) {
        out.push_back(std::move(r));
        continue;
      }
      Cell values = std::move(c);
      for (Datum& d : values) {
        Row copy = r;
        copy[static_cast<std::size_t>(column_)] = {std::move(d)};
        out.push_back(std::move(copy));
      }
    }
    rows = std::move(out);
  }

 private:
  int column_;
};

class SortStep final : public Step {
 public:
  struct Key {
    Expression value;
    bool descending;
    bool nulls_first;
  };
  explicit SortStep(std::vector<Key> keys) : keys_(std::move(keys)) {}
  void run(std::vector<Row>& rows, const RunContext& context) const override {
    // Each row's sort values once: a multi-valued one sorts by its least
    // value ascending, its greatest descending (as ES|QL does).
    std::vector<std::pair<std::vector<Cell>, std::size_t>> order;
    order.reserve(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      std::vector<Cell> values;
      for (const Key& k : keys_) {
        Cell c = k.value.eval(rows[i], context);
        if (c.size() > 1) {
          auto less = [](const Datum& a, const Datum& b) { return compare_datums(a, b) < 0; };
          c = {k.descending ? *std::max_element(c.begin(), c.end(), less) : *std::min_element(c.begin(), c.end(), less)};
        }
        values.push_back(std::move(c));
      }
      order.emplace_back(std::move(values), i);
    }
    std::stable_sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
      for (std::size_t k = 0; k < keys_.size(); ++k) {
        const Cell& x = a.first[k];
        const Cell& y = b.first[k];
        if (x.empty() != y.empty()) return x.empty() == keys_[k].nulls_first;
        if (x.empty()) continue;
        const int c = compare_datums(x[0], y[0]);
        if (c != 0) return keys_[k].descending ? c > 0 : c < 0;
      }
      return false;
    });
    std::vector<Row> sorted;
    sorted.reserve(rows.size());
    for (auto& [values, i] : order) sorted.push_back(std::move(rows[i]));
    rows = std::move(sorted);
  }

 private:
  std::vector<Key> keys_;
};

class LimitStep final : public Step {
 public:
  explicit LimitStep(std::size_t limit) : limit_(limit) {}
  void run(std::vector<Row>& rows, const RunContext&) const override {
    if (rows.size() > limit_) rows.resize(limit_);
  }

 private:
  std::size_t limit_;
};

enum class Agg { Count, CountDistinct, Min, Max, Sum, Avg, Values, Median };

struct Aggregate {
  Agg kind;
  std::optional<Expression> arg;  // none: COUNT(*)
};

// One group's running state for one aggregate.
struct AggState {
  std::int64_t count = 0;
  Cell best;                 // MIN / MAX
  Cell sum;                  // SUM / AVG
  std::set<std::string> distinct;
  std::vector<Datum> values;  // VALUES (distinct), MEDIAN (all)
};

// A row with several multi-valued BY keys belongs to every combination of
// their values; at most this many (the rest are left out, as a bound).
constexpr std::size_t kMaxGroupsPerRow = 64;

class StatsStep final : public Step {
 public:
  // `keep`: the output positions (aggregates, then keys) that stay: a name
  // given twice keeps its last column, as ES|QL's later name shadows.
  StatsStep(std::vector<Aggregate> aggs, std::vector<Expression> by, bool inline_stats, std::vector<int> keep)
      : aggs_(std::move(aggs)), by_(std::move(by)), inline_(inline_stats), keep_(std::move(keep)) {}

  void run(std::vector<Row>& rows, const RunContext& context) const override {
    struct Group {
      Row keys;
      std::vector<AggState> states;
      std::size_t first = 0;  // first row (groups come out in order of first appearance)
    };
    std::unordered_map<std::string, std::size_t> index;
    std::vector<Group> groups;
    std::vector<std::vector<std::size_t>> row_groups(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      // The row's groups: one per combination of its BY values (a multi-valued key: each value).
      std::vector<Row> combos(1);
      for (const Expression& b : by_) {
        Cell c = b.eval(rows[i], context);
        std::vector<Row> next;
        if (c.size() <= 1) {
          for (Row& combo : combos) {
            combo.push_back(c);
            next.push_back(std::move(combo));
          }
        } else {
          for (const Row& combo : combos) {
            for (const Datum& d : c) {
              if (next.size() >= kMaxGroupsPerRow) break;
              Row copy = combo;
              copy.push_back({d});
              next.push_back(std::move(copy));
            }
          }
        }
        combos = std::move(next);
      }
      for (Row& keys : combos) {
        std::string key;
        for (const Cell& k : keys) append_key(key, k);
        auto [it, fresh] = index.try_emplace(std::move(key), groups.size());
        if (fresh) groups.push_back({std::move(keys), std::vector<AggState>(aggs_.size()), i});
        Group& g = groups[it->second];
        row_groups[i].push_back(it->second);
        for (std::size_t a = 0; a < aggs_.size(); ++a) add(aggs_[a], g.states[a], rows[i], context);
      }
    }
    if (!inline_ && by_.empty() && groups.empty()) groups.push_back({{}, std::vector<AggState>(aggs_.size()), 0});
    if (inline_) {
      for (std::size_t i = 0; i < rows.size(); ++i) {
        if (row_groups[i].empty()) continue;
        const Group& g = groups[row_groups[i].front()];
        for (std::size_t a = 0; a < aggs_.size(); ++a) rows[i].push_back(result(aggs_[a], g.states[a]));
      }
      return;
    }
    std::vector<Row> out;
    out.reserve(groups.size());
    for (Group& g : groups) {
      Row r;
      for (std::size_t a = 0; a < aggs_.size(); ++a) r.push_back(result(aggs_[a], g.states[a]));
      for (Cell& k : g.keys) r.push_back(std::move(k));
      if (keep_.size() != r.size()) {
        Row kept;
        for (int k : keep_) kept.push_back(std::move(r[static_cast<std::size_t>(k)]));
        r = std::move(kept);
      }
      out.push_back(std::move(r));
    }
    rows = std::move(out);
  }

 private:
  static void add(const Aggregate& agg, AggState& s, const Row& row, const RunContext& context) {
    if (!agg.arg) {
      ++s.count;
      return;
    }
    const Cell c = agg.arg->eval(row, context);
    for (const Datum& d : c) {
      switch (agg.kind) {
        case Agg::Count: ++s.count; break;
        case Agg::CountDistinct: {
          std::string key;
          append_key(key, {d});
          s.distinct.insert(std::move(key));
          break;
        }
        case Agg::Min:
          if (s.best.empty() || compare_datums(d, s.best[0]) < 0) s.best = {d};
          break;
        case Agg::Max:
          if (s.best.empty() || compare_datums(d, s.best[0]) > 0) s.best = {d};
          break;
        case Agg::Sum:
        case Agg::Avg:
          if (!d.numeric()) break;
          ++s.count;
          if (s.sum.empty()) {
            s.sum = {d};
          } else if (s.sum[0].type == Type::Long && d.type == Type::Long &&
                     !__builtin_add_overflow(s.sum[0].i, d.i, &s.sum[0].i)) {
          } else {
            s.sum = {Datum::real(s.sum[0].as_double() + d.as_double())};
          }
          break;
        case Agg::Values:
          if (std::find(s.values.begin(), s.values.end(), d) == s.values.end() && s.values.size() < 100000)
            s.values.push_back(d);
          break;
        case Agg::Median:
          if (d.numeric() && s.values.size() < 1000000) s.values.push_back(d);
          break;
      }
    }
  }

  static Cell result(const Aggregate& agg, const AggState& s) {
    switch (agg.kind) {
      case Agg::Count: return {Datum::integer(s.count)};
      case Agg::CountDistinct: return {Datum::integer(static_cast<std::int64_t>(s.distinct.size()))};
      case Agg::Min:
      case Agg::Max: return s.best;
      case Agg::Sum: return s.sum;
      case Agg::Avg:
        if (s.count == 0) return {};
        return {Datum::real(s.sum[0].as_double() / static_cast<double>(s.count))};
      case Agg::Values: {
        Cell v = s.values;
        std::sort(v.begin(), v.end(), [](const Datum& a, const Datum& b) { return compare_datums(a, b) < 0; });
        return v;
      }
      case Agg::Median: {
        if (s.values.empty()) return {};
        std::vector<double> x;
        for (const Datum& d : s.values) x.push_back(d.as_double());
        std::sort(x.begin(), x.end());
        const std::size_t m = x.size() / 2;
        return {Datum::real(x.size() % 2 ? x[m] : (x[m - 1] + x[m]) / 2)};
      }
    }
    return {};
  }

  std::vector<Aggregate> aggs_;
  std::vector<Expression> by_;
  bool inline_;
  std::vector<int> keep_;
};

// ---- compiling

void field_refs(const Expr& e, std::vector<const Expr*>& out) {
  if (e.kind == Expr::Kind::Field) out.push_back(&e);
  for (const auto& a : e.args) field_refs(*a, out);
}

bool has_wildcard(std::string_view name) { return name.find('*') != std::string_view::npos; }

// KEEP / DROP patterns against columns.
bool name_matches(std::string_view pattern, std::string_view name) {
  if (!has_wildcard(pattern)) return pattern == name;
  return WildcardPattern(pattern, false).matches(name);
}

// The event fields a query reads: every field it names before it has
// computed a column of that name (and before STATS or KEEP closed the
// layout to what they produce).
std::vector<SourceField> source_fields_of(const Query& q) {
  std::vector<SourceField> out;
  std::set<std::string> defined;
  bool closed = false;
  auto source = [&](const std::string& name) {
    if (closed || defined.contains(name)) return;
    for (const auto& s : out) {
      if (s.column == name) return;
    }
    SourceField f;
    f.column = name;
    f.field = name;
    if (name.ends_with(".caseless")) {
      f.field = name.substr(0, name.size() - 9);
      f.lowercase = true;
    }
    out.push_back(std::move(f));
  };
  // A metadata column is made only when the query can see it (named, or
  // kept by a pattern): computing an event's _id means rendering it.
  auto used = [&](const std::string& m) {
    for (std::size_t i = 1; i < q.commands.size(); ++i) {
      const Command& c = q.commands[i];
      std::vector<const Expr*> refs;
      if (c.expr) field_refs(*c.expr, refs);
      for (const Assignment& a : c.assignments) field_refs(*a.expr, refs);
      for (const Assignment& a : c.by) field_refs(*a.expr, refs);
      for (const SortKey& k : c.sort) field_refs(*k.expr, refs);
      for (const Expr* r : refs) {
        if (r->text == m) return true;
      }
      for (const std::string& n : c.names) {
        if (name_matches(n, m)) return true;
      }
      for (const auto& [from, to] : c.renames) {
        if (from == m) return true;
      }
    }
    return false;
  };
  for (const std::string& m : q.commands[0].metadata) {
    if (!used(m)) continue;
    SourceField f;
    f.column = f.field = m;
    f.meta = m == "_id" ? SourceField::Meta::Id : m == "_index" ? SourceField::Meta::Index : SourceField::Meta::Version;
    out.push_back(std::move(f));
    defined.insert(m);
  }
  for (std::size_t i = 1; i < q.commands.size(); ++i) {
    const Command& c = q.commands[i];
    std::vector<const Expr*> refs;
    auto read = [&](const Expr* e) {
      if (!e) return;
      refs.clear();
      field_refs(*e, refs);
      for (const Expr* r : refs) source(r->text);
    };
    switch (c.kind) {
      case Command::Kind::Where:
      case Command::Kind::Grok:
      case Command::Kind::Dissect: read(c.expr.get()); break;
      case Command::Kind::Eval:
        for (const Assignment& a : c.assignments) {
          read(a.expr.get());
          defined.insert(a.name);
        }
        break;
      case Command::Kind::Sort:
        for (const SortKey& k : c.sort) read(k.expr.get());
        break;
      case Command::Kind::Stats:
      case Command::Kind::InlineStats:
        for (const Assignment& a : c.assignments) read(a.expr.get());
        for (const Assignment& a : c.by) read(a.expr.get());
        break;
      case Command::Kind::Keep:
      case Command::Kind::Drop:
      case Command::Kind::MvExpand:
        for (const std::string& n : c.names) {
          if (!has_wildcard(n)) source(n);
        }
        break;
      case Command::Kind::Rename:
        for (const auto& [from, to] : c.renames) source(from);
        break;
      default: break;
    }
    // What the command defines (GROK/DISSECT names are found when compiled).
    if (c.kind == Command::Kind::Grok) {
      if (auto t = translate_grok(c.pattern)) {
        for (const auto& n : t->names) {
          if (!n.empty()) defined.insert(n);
        }
      }
    } else if (c.kind == Command::Kind::Dissect) {
      std::size_t p = 0;
      while ((p = c.pattern.find("%{", p)) != std::string::npos) {
        std::size_t e = c.pattern.find('}', p);
        if (e == std::string::npos) break;
        std::string key = c.pattern.substr(p + 2, e - p - 2);
        while (!key.empty() && (key[0] == '+' || key[0] == '?' || key[0] == '*' || key[0] == '&')) key.erase(0, 1);
        if (auto arrow = key.find("->"); arrow != std::string::npos) key.erase(arrow);
        if (auto slash = key.find('/'); slash != std::string::npos) key.erase(slash);
        defined.insert(key);
        p = e + 1;
      }
    } else if (c.kind == Command::Kind::Rename) {
      for (const auto& [from, to] : c.renames) defined.insert(to);
    } else if (c.kind == Command::Kind::InlineStats) {
      for (const Assignment& a : c.assignments) defined.insert(a.name);
    } else if (c.kind == Command::Kind::Stats || c.kind == Command::Kind::Keep) {
      closed = true;
    }
  }
  return out;
}

// ---- the prefilter: EQL no stronger than the query's leading WHERE commands

std::string eql_field(std::string_view name) {
  bool plain = !name.empty() && (std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_');
  for (char c : name) plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.');
  if (plain) return std::string(name);
  std::string out = "`";
  for (char c : name) {
    if (c == '`') out += '`';
    out += c;
  }
  return out + "`";
}

// The EQL field a condition may read, or "" when it is not a source field
// holding its event's values (computed, redefined, metadata).
std::string source_of(const Expr& e, const std::set<std::string>& computed) {
  if (e.kind != Expr::Kind::Field || computed.contains(e.text) || e.text.starts_with("_") || e.text == "@timestamp")
    return {};
  if (e.text.ends_with(".caseless")) return e.text.substr(0, e.text.size() - 9);
  return e.text;
}

// A LIKE pattern as an EQL wildcard (no escapes), or nullopt if it needs a literal * or ?.
std::optional<std::string> like_as_wildcard(std::string_view p) {
  std::string out;
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i] == '\\' && i + 1 < p.size()) {
      if (p[i + 1] == '*' || p[i + 1] == '?') return std::nullopt;
      out += p[++i];
    } else {
      out += p[i];
    }
  }
  return out;
}

std::optional<std::string> literal_text(const Expr& e) {
  if (e.kind == Expr::Kind::String) return e.text;
  if (e.kind == Expr::Kind::Integer) return std::to_string(e.integer);
  return std::nullopt;
}

// `field` equal to one of `values` as EQL: the texts case-insensitively, and
// those that are integers also as numbers (the event may hold 4104 or "4104";
// ES|QL's comparison converts, see expression.h).
std::string equals_any(const std::string& field, const std::vector<std::string>& values) {
  std::string texts, numbers;
  for (const std::string& v : values) {
    texts += (texts.empty() ? "" : ", ") + eql_quote(v);
    bool integer = !v.empty() && v.size() < 18;
    for (std::size_t i = 0; i < v.size(); ++i) integer = integer && (std::isdigit(static_cast<unsigned char>(v[i])) || (i == 0 && v[i] == '-' && v.size() > 1));
    if (integer) numbers += (numbers.empty() ? "" : ", ") + v;
  }
  std::string out = eql_field(field) + " : (" + texts + ")";
  if (!numbers.empty()) out = "(" + out + " or " + eql_field(field) + " in (" + numbers + "))";
  return out;
}

std::optional<std::string> to_eql(const Expr& e, const std::set<std::string>& computed) {
  switch (e.kind) {
    case Expr::Kind::Binary: {
      if (e.text == "and") {
        auto a = to_eql(*e.args[0], computed);
        auto b = to_eql(*e.args[1], computed);
        if (a && b) return "(" + *a + " and " + *b + ")";
        return a ? a : b;
      }
      if (e.text == "or") {
        auto a = to_eql(*e.args[0], computed);
        auto b = to_eql(*e.args[1], computed);
        if (a && b) return "(" + *a + " or " + *b + ")";
        return std::nullopt;
      }
      if (e.text == "==") {
        for (int side = 0; side < 2; ++side) {
          const std::string field = source_of(*e.args[side], computed);
          auto value = literal_text(*e.args[1 - side]);
          if (!field.empty() && value) return equals_any(field, {*value});
        }
      }
      return std::nullopt;
    }
    case Expr::Kind::In: {
      const std::string field = source_of(*e.args[0], computed);
      if (e.negated || field.empty()) return std::nullopt;
      std::vector<std::string> values;
      for (std::size_t i = 1; i < e.args.size(); ++i) {
        auto v = literal_text(*e.args[i]);
        if (!v) return std::nullopt;
        values.push_back(*v);
      }
      return equals_any(field, values);
    }
    case Expr::Kind::Like: {
      const std::string field = source_of(*e.args[0], computed);
      if (e.negated || field.empty() || e.text != "like") return std::nullopt;
      std::vector<std::string> values;
      for (std::size_t i = 1; i < e.args.size(); ++i) {
        if (e.args[i]->kind != Expr::Kind::String) return std::nullopt;
        auto w = like_as_wildcard(e.args[i]->text);
        if (!w) return std::nullopt;
        values.push_back(eql_quote(*w));
      }
      std::string list;
      for (std::size_t i = 0; i < values.size(); ++i) list += (i ? ", " : "") + values[i];
      return eql_field(field) + " : (" + list + ")";
    }
    case Expr::Kind::IsNull: {
      const std::string field = source_of(*e.args[0], computed);
      if (!e.negated || field.empty()) return std::nullopt;
      return eql_field(field) + " != null";
    }
    case Expr::Kind::Call: {
      if (e.text != "match" || e.args.size() != 2) return std::nullopt;
      const std::string field = source_of(*e.args[0], computed);
      if (field.empty() || full_text_field(field) || e.args[1]->kind != Expr::Kind::String) return std::nullopt;
      return eql_field(field) + " : " + eql_quote(e.args[1]->text);
    }
    default: return std::nullopt;
  }
}

std::string prefilter_of(const Query& q) {
  std::set<std::string> computed;
  std::vector<std::string> parts;
  for (std::size_t i = 1; i < q.commands.size(); ++i) {
    const Command& c = q.commands[i];
    if (c.kind == Command::Kind::Where) {
      if (auto t = to_eql(*c.expr, computed)) parts.push_back(*t);
    } else if (c.kind == Command::Kind::Eval) {
      for (const Assignment& a : c.assignments) computed.insert(a.name);
    } else if (c.kind == Command::Kind::Grok || c.kind == Command::Kind::Dissect) {
      // Their names are not source fields any more; conservatively: every later condition on a
      // name they could define is not translated (the pattern names are found below).
      if (auto t = translate_grok(c.pattern); t && c.kind == Command::Kind::Grok) {
        for (const auto& n : t->names) computed.insert(n);
      } else {
        break;
      }
    } else if (c.kind == Command::Kind::Keep || c.kind == Command::Kind::Drop || c.kind == Command::Kind::MvExpand) {
      continue;
    } else {
      break;
    }
  }
  if (parts.empty()) return "any where true";
  std::string out = "any where ";
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? " and " : "") + parts[i];
  return out;
}

// ---- DISSECT patterns

Result<std::unique_ptr<Step>> compile_dissect(const Command& c, Expression input, Columns& columns) {
  const std::string& p = c.pattern;
  std::string prefix;
  std::vector<DissectKey> keys;
  std::vector<std::string> delimiters;
  std::size_t i = 0;
  const std::size_t first = p.find("%{");
  if (first == std::string::npos) return at(c.pos, "esql.syntax", "a DISSECT pattern needs at least one %{key}");
  prefix = p.substr(0, first);
  i = first;
  std::vector<std::string> names;
  while (i < p.size()) {
    const std::size_t close = p.find('}', i);
    if (close == std::string::npos) return at(c.pos, "esql.syntax", "a %{ in the DISSECT pattern is not closed");
    std::string spec = p.substr(i + 2, close - i - 2);
    DissectKey k;
    if (spec.ends_with("->")) {
      k.pad = true;
      spec.resize(spec.size() - 2);
    }
    if (!spec.empty() && spec[0] == '+') {
      k.append = true;
      spec.erase(0, 1);
      if (auto slash = spec.find('/'); slash != std::string::npos) spec.erase(slash);  // order: kept as written
    } else if (!spec.empty() && (spec[0] == '?' || spec[0] == '*' || spec[0] == '&')) {
      if (spec[0] != '?')
        return at(c.pos, "esql.unsupported", "DISSECT reference keys (%{*k} %{&k}) are not supported by vigil");
      spec.clear();
    }
    k.name = spec;
    const std::size_t next = p.find("%{", close + 1);
    std::string delim = p.substr(close + 1, next == std::string::npos ? std::string::npos : next - close - 1);
    if (delim.empty() && next != std::string::npos)
      return at(c.pos, "esql.syntax", "two DISSECT keys need a delimiter between them");
    delimiters.push_back(std::move(delim));
    if (!k.name.empty() && std::find(names.begin(), names.end(), k.name) == names.end()) names.push_back(k.name);
    keys.push_back(std::move(k));
    if (next == std::string::npos) break;
    i = next;
  }
  std::vector<int> dropped;
  for (const std::string& n : names) dropped.push_back(append_column(columns, n));
  for (DissectKey& k : keys) {
    if (k.name.empty()) continue;
    k.column = static_cast<int>(std::find(names.begin(), names.end(), k.name) - names.begin());
  }
  return std::unique_ptr<Step>(std::make_unique<DissectStep>(std::move(input), std::move(dropped), std::move(prefix),
                                                             std::move(keys), std::move(delimiters), c.separator));
}

Result<std::unique_ptr<Step>> compile_grok(const Command& c, Expression input, Columns& columns) {
  auto t = translate_grok(c.pattern);
  if (!t) {
    Error e = t.error();
    e.message = "GROK pattern: " + e.message;
    e.pos = c.pos;
    return e;
  }
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(64 << 20);
  auto re = std::make_unique<RE2>(t->pattern, options);
  if (!re->ok()) return at(c.pos, "esql.regex", fmt::format("the GROK pattern does not compile: {}", re->error()));
  std::vector<std::string> names;
  std::vector<int> group_column;
  for (const std::string& n : t->names) {
    if (n.empty()) {
      group_column.push_back(-1);
      continue;
    }
    auto it = std::find(names.begin(), names.end(), n);
    if (it == names.end()) {
      names.push_back(n);
      it = names.end() - 1;
    }
    group_column.push_back(static_cast<int>(it - names.begin()));
  }
  std::vector<int> dropped;
  for (const std::string& n : names) dropped.push_back(append_column(columns, n));
  return std::unique_ptr<Step>(std::make_unique<GrokStep>(std::move(input), std::move(dropped), std::move(re),
                                                          std::move(group_column), std::move(t->types)));
}

Result<std::unique_ptr<Step>> compile_stats(const Command& c, Columns& columns) {
  std::vector<Aggregate> aggs;
  std::vector<std::string> agg_names;
  for (const Assignment& a : c.assignments) {
    const Expr& e = *a.expr;
    if (e.kind != Expr::Kind::Call || !is_aggregate(e.text))
      return at(e.pos, "esql.unsupported",
                "vigil runs STATS items that are one aggregate function call (COUNT, COUNT_DISTINCT, MIN, MAX, SUM, "
                "AVG, VALUES, MEDIAN)");
    static const std::map<std::string, Agg, std::less<>> kAggs = {
        {"count", Agg::Count}, {"count_distinct", Agg::CountDistinct}, {"min", Agg::Min},       {"max", Agg::Max},
        {"sum", Agg::Sum},     {"avg", Agg::Avg},                      {"values", Agg::Values}, {"median", Agg::Median}};
    Aggregate agg{kAggs.at(e.text), std::nullopt};
    if (e.args.empty() || (e.args[0]->kind == Expr::Kind::Star)) {
      if (agg.kind != Agg::Count) return at(e.pos, "esql.syntax", fmt::format("{} needs a field", e.text));
    } else {
      if (e.args.size() > 1 && agg.kind != Agg::CountDistinct)
        return at(e.args[1]->pos, "esql.syntax", fmt::format("{} takes one argument", e.text));
      auto arg = compile_expression(*e.args[0], columns);
      if (!arg) return arg.error();
      agg.arg = std::move(*arg);
    }
    aggs.push_back(std::move(agg));
    agg_names.push_back(a.name);
  }
  std::vector<Expression> by;
  std::vector<std::string> by_names;
  for (const Assignment& b : c.by) {
    auto e = compile_expression(*b.expr, columns);
    if (!e) return e.error();
    by.push_back(std::move(*e));
    by_names.push_back(b.name);
  }
  const bool inline_stats = c.kind == Command::Kind::InlineStats;
  std::vector<int> keep;
  if (inline_stats) {
    // The aggregates are added to every row (a name the row has is replaced: not supported, refused).
    for (const std::string& n : agg_names) {
      if (index_of(columns, n) >= 0)
        return at(c.pos, "esql.unsupported", fmt::format("INLINE STATS would replace the column [{}]", n));
      columns.push_back(n);
    }
  } else {
    Columns all = agg_names;
    all.insert(all.end(), by_names.begin(), by_names.end());
    columns.clear();
    for (std::size_t k = 0; k < all.size(); ++k) {
      if (std::find(all.begin() + static_cast<std::ptrdiff_t>(k) + 1, all.end(), all[k]) != all.end()) continue;
      keep.push_back(static_cast<int>(k));
      columns.push_back(all[k]);
    }
  }
  return std::unique_ptr<Step>(std::make_unique<StatsStep>(std::move(aggs), std::move(by), inline_stats, std::move(keep)));
}

}  // namespace

Plan::Plan() = default;
Plan::Plan(Plan&&) noexcept = default;
Plan& Plan::operator=(Plan&&) noexcept = default;
Plan::~Plan() = default;

void Plan::stream(Row row, std::vector<Row>& out, const RunContext& context) const {
  std::vector<Row> rows;
  rows.push_back(std::move(row));
  for (std::size_t s = 0; s < split_ && !rows.empty(); ++s) steps_[s]->run(rows, context);
  for (Row& r : rows) out.push_back(std::move(r));
}

std::vector<Row> Plan::finish(std::vector<Row> rows, const RunContext& context) const {
  for (std::size_t s = split_; s < steps_.size(); ++s) steps_[s]->run(rows, context);
  return rows;
}

Result<Plan> compile_plan(const Query& query) {
  Plan plan;
  if (query.commands.empty() || query.commands[0].kind != Command::Kind::From)
    return Error{"esql.syntax", "an ES|QL query starts with FROM", {1, 1, 0}, 1};
  plan.indices_ = query.commands[0].names;
  plan.sources_ = source_fields_of(query);
  Columns columns;
  for (const SourceField& s : plan.sources_) columns.push_back(s.column);
  bool split_found = false;
  for (std::size_t i = 1; i < query.commands.size(); ++i) {
    const Command& c = query.commands[i];
    const bool blocking = c.kind == Command::Kind::Stats || c.kind == Command::Kind::InlineStats ||
                          c.kind == Command::Kind::Sort || c.kind == Command::Kind::Limit;
    if (blocking && !split_found) {
      split_found = true;
      plan.split_ = plan.steps_.size();
      plan.streamed_ = columns;
    }
    // As Kibana decides it: STATS aggregates; INLINE STATS keeps each row (and its event).
    if (c.kind == Command::Kind::Stats) plan.aggregating_ = true;
    std::unique_ptr<Step> step;
    switch (c.kind) {
      case Command::Kind::From: return at(c.pos, "esql.syntax", "FROM can only start a query");
      case Command::Kind::Where: {
        auto e = compile_expression(*c.expr, columns);
        if (!e) return e.error();
        step = std::make_unique<WhereStep>(std::move(*e));
        break;
      }
      case Command::Kind::Eval: {
        std::vector<EvalStep::Item> items;
        for (const Assignment& a : c.assignments) {
          auto e = compile_expression(*a.expr, columns);
          if (!e) return e.error();
          items.push_back({std::move(*e), append_column(columns, a.name)});
        }
        step = std::make_unique<EvalStep>(std::move(items));
        break;
      }
      case Command::Kind::Grok:
      case Command::Kind::Dissect: {
        auto input = compile_expression(*c.expr, columns);
        if (!input) return input.error();
        auto s = c.kind == Command::Kind::Grok ? compile_grok(c, std::move(*input), columns)
                                               : compile_dissect(c, std::move(*input), columns);
        if (!s) return s.error();
        step = std::move(*s);
        break;
      }
      case Command::Kind::Stats:
      case Command::Kind::InlineStats: {
        auto s = compile_stats(c, columns);
        if (!s) return s.error();
        step = std::move(*s);
        break;
      }
      case Command::Kind::Keep: {
        std::vector<int> picks;
        Columns kept;
        for (const std::string& pattern : c.names) {
          if (!has_wildcard(pattern) && index_of(columns, pattern) < 0)
            return at(c.pos, "esql.unknown_column", fmt::format("Unknown column [{}]", pattern));
          for (std::size_t k = 0; k < columns.size(); ++k) {
            if (!name_matches(pattern, columns[k])) continue;
            // An exact name moves its column to where it is named; a pattern leaves taken ones be.
            auto taken = std::find(kept.begin(), kept.end(), columns[k]);
            if (taken != kept.end()) {
              if (has_wildcard(pattern)) continue;
              picks.erase(picks.begin() + (taken - kept.begin()));
              kept.erase(taken);
            }
            picks.push_back(static_cast<int>(k));
            kept.push_back(columns[k]);
          }
        }
        columns = std::move(kept);
        step = std::make_unique<ProjectStep>(std::move(picks));
        break;
      }
      case Command::Kind::Drop: {
        for (const std::string& pattern : c.names) {
          if (!has_wildcard(pattern) && index_of(columns, pattern) < 0)
            return at(c.pos, "esql.unknown_column", fmt::format("Unknown column [{}]", pattern));
        }
        std::vector<int> picks;
        Columns kept;
        for (std::size_t k = 0; k < columns.size(); ++k) {
          bool drop = false;
          for (const std::string& pattern : c.names) drop = drop || name_matches(pattern, columns[k]);
          if (drop) continue;
          picks.push_back(static_cast<int>(k));
          kept.push_back(columns[k]);
        }
        columns = std::move(kept);
        step = std::make_unique<ProjectStep>(std::move(picks));
        break;
      }
      case Command::Kind::Rename: {
        Columns renamed = columns;
        std::vector<bool> gone(columns.size(), false);
        for (const auto& [from, to] : c.renames) {
          const int k = index_of(renamed, from);
          if (k < 0) return at(c.pos, "esql.unknown_column", fmt::format("Unknown column [{}]", from));
          const int clash = index_of(renamed, to);
          if (clash >= 0 && clash != k) {
            gone[static_cast<std::size_t>(clash)] = true;
            renamed[static_cast<std::size_t>(clash)] = "\x01";  // dropped: the renamed one replaces it
          }
          renamed[static_cast<std::size_t>(k)] = to;
        }
        std::vector<int> picks;
        Columns kept;
        for (std::size_t k = 0; k < renamed.size(); ++k) {
          if (gone[k]) continue;
          picks.push_back(static_cast<int>(k));
          kept.push_back(renamed[k]);
        }
        columns = std::move(kept);
        step = std::make_unique<ProjectStep>(std::move(picks));
        break;
      }
      case Command::Kind::Sort: {
        std::vector<SortStep::Key> keys;
        for (const SortKey& k : c.sort) {
          auto e = compile_expression(*k.expr, columns);
          if (!e) return e.error();
          // ES|QL: nulls last ascending, first descending, unless NULLS FIRST/LAST says otherwise.
          keys.push_back({std::move(*e), k.descending, k.nulls_given ? k.nulls_first : k.descending});
        }
        step = std::make_unique<SortStep>(std::move(keys));
        break;
      }
      case Command::Kind::Limit:
        step = std::make_unique<LimitStep>(static_cast<std::size_t>(std::max<std::int64_t>(0, c.limit)));
        break;
      case Command::Kind::MvExpand: {
        const int k = index_of(columns, c.names[0]);
        if (k < 0) return at(c.pos, "esql.unknown_column", fmt::format("Unknown column [{}]", c.names[0]));
        step = std::make_unique<MvExpandStep>(k);
        break;
      }
    }
    plan.steps_.push_back(std::move(step));
  }
  if (!split_found) {
    plan.split_ = plan.steps_.size();
    plan.streamed_ = columns;
  }
  plan.output_ = columns;
  plan.prefilter_ = prefilter_of(query);
  return plan;
}

}  // namespace vigil::esql
