// ES|QL expressions: compilation (names → columns, functions → codes,
// regexes → RE2) and evaluation.
#include "esql/expression.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include <fmt/format.h>
#include <re2/re2.h>

#include "core/text.h"
#include "core/timestamp.h"
#include "esql/regex.h"

namespace vigil::esql {

enum class Fn {
  // scalar
  Case, Coalesce, Replace, Length, ToLower, ToUpper, Trim, Ltrim, Rtrim, Concat, Substring, Left, Right, StartsWith,
  EndsWith, Locate, Split, MvFirst, MvLast, MvMin, MvMax, MvCount, MvContains, MvDedupe, MvConcat, MvSum, MvAvg,
  DateTrunc, DateDiff, DateExtract, Now, CidrMatch, ToIp, ToString, ToInteger, ToLong, ToDouble, ToBoolean,
  ToDatetime, Abs, Round, Floor, Ceil, Greatest, Least, Match, IsNullFn,
};

struct FunctionInfo {
  std::string_view name;
  Fn fn;
  int min_args;
  int max_args;  // -1: any
};

constexpr FunctionInfo kFunctions[] = {
    {"case", Fn::Case, 2, -1},          {"coalesce", Fn::Coalesce, 1, -1},   {"replace", Fn::Replace, 3, 3},
    {"length", Fn::Length, 1, 1},       {"to_lower", Fn::ToLower, 1, 1},     {"to_upper", Fn::ToUpper, 1, 1},
    {"trim", Fn::Trim, 1, 1},           {"ltrim", Fn::Ltrim, 1, 1},          {"rtrim", Fn::Rtrim, 1, 1},
    {"concat", Fn::Concat, 1, -1},      {"substring", Fn::Substring, 2, 3},  {"left", Fn::Left, 2, 2},
    {"right", Fn::Right, 2, 2},         {"starts_with", Fn::StartsWith, 2, 2}, {"ends_with", Fn::EndsWith, 2, 2},
    {"locate", Fn::Locate, 2, 3},       {"split", Fn::Split, 2, 2},          {"mv_first", Fn::MvFirst, 1, 1},
    {"mv_last", Fn::MvLast, 1, 1},      {"mv_min", Fn::MvMin, 1, 1},         {"mv_max", Fn::MvMax, 1, 1},
    {"mv_count", Fn::MvCount, 1, 1},    {"mv_contains", Fn::MvContains, 2, 2}, {"mv_dedupe", Fn::MvDedupe, 1, 1},
    {"mv_concat", Fn::MvConcat, 2, 2},  {"mv_sum", Fn::MvSum, 1, 1},         {"mv_avg", Fn::MvAvg, 1, 1},
    {"date_trunc", Fn::DateTrunc, 2, 2}, {"date_diff", Fn::DateDiff, 3, 3},  {"date_extract", Fn::DateExtract, 2, 2},
    {"now", Fn::Now, 0, 0},             {"cidr_match", Fn::CidrMatch, 2, -1}, {"to_ip", Fn::ToIp, 1, 1},
    {"to_string", Fn::ToString, 1, 1},  {"to_str", Fn::ToString, 1, 1},     {"to_integer", Fn::ToInteger, 1, 1},
    {"to_int", Fn::ToInteger, 1, 1},    {"to_long", Fn::ToLong, 1, 1},       {"to_double", Fn::ToDouble, 1, 1},
    {"to_dbl", Fn::ToDouble, 1, 1},     {"to_boolean", Fn::ToBoolean, 1, 1}, {"to_bool", Fn::ToBoolean, 1, 1},
    {"to_datetime", Fn::ToDatetime, 1, 1}, {"to_dt", Fn::ToDatetime, 1, 1},  {"abs", Fn::Abs, 1, 1},
    {"round", Fn::Round, 1, 2},         {"floor", Fn::Floor, 1, 1},          {"ceil", Fn::Ceil, 1, 1},
    {"greatest", Fn::Greatest, 1, -1},  {"least", Fn::Least, 1, -1},         {"match", Fn::Match, 2, 3},
};

constexpr std::string_view kAggregates[] = {"count", "count_distinct", "min", "max", "sum", "avg", "values", "median"};

bool is_aggregate(std::string_view function) {
  return std::find(std::begin(kAggregates), std::end(kAggregates), function) != std::end(kAggregates);
}

bool full_text_field(std::string_view field) {
  static constexpr std::string_view kText[] = {"message", "powershell.file.script_block_text", "error.message",
                                               "error.stack_trace", "event.original"};
  return std::find(std::begin(kText), std::end(kText), field) != std::end(kText) || field.ends_with(".text");
}

struct Node {
  enum class Op { Const, Column, And, Or, Not, Neg, Compare, Arith, In, IsNull, Like, Cast, Call };
  Op op = Op::Const;
  int column = -1;
  Cell constant;
  std::string text;  // operator, cast target
  Fn fn = Fn::Case;
  bool negated = false;
  bool text_field = false;  // match(): a text field (tokens) rather than a keyword
  int fuzziness = 0;        // match(): edits allowed on keywords
  std::vector<std::unique_ptr<Node>> args;
  std::vector<std::unique_ptr<RE2>> regexes;  // LIKE / RLIKE patterns; REPLACE's regex
  std::string rewrite;                         // REPLACE's replacement in RE2 form
  std::string literal_from, literal_to;        // REPLACE of plain text by plain text: no regex run
};

namespace {

Error at(const Expr& e, std::string code, std::string message) {
  return Error{std::move(code), std::move(message), e.pos, 1};
}

std::optional<std::int64_t> parse_long(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s.empty()) return std::nullopt;
  std::int64_t v = 0;
  bool neg = false;
  std::size_t i = 0;
  if (s[0] == '-' || s[0] == '+') {
    neg = s[0] == '-';
    i = 1;
  }
  if (i >= s.size()) return std::nullopt;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    if (v > (std::numeric_limits<std::int64_t>::max() - 9) / 10) return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return neg ? -v : v;
}

std::optional<double> parse_double(std::string_view s) {
  std::string t(s);
  char* end = nullptr;
  errno = 0;
  double d = std::strtod(t.c_str(), &end);
  if (t.empty() || end != t.c_str() + t.size() || errno == ERANGE) return std::nullopt;
  return d;
}

// Duration units: fixed ones in ns, calendar ones by name.
std::optional<Datum> duration_of(std::int64_t count, std::string_view unit) {
  static constexpr std::pair<std::string_view, std::int64_t> kFixed[] = {
      {"nanosecond", 1},        {"nanoseconds", 1},         {"ns", 1},
      {"millisecond", 1000000}, {"milliseconds", 1000000},  {"ms", 1000000},
      {"second", 1000000000},   {"seconds", 1000000000},    {"sec", 1000000000},  {"s", 1000000000},
      {"minute", 60000000000},  {"minutes", 60000000000},   {"min", 60000000000}, {"m", 60000000000},
      {"hour", 3600000000000},  {"hours", 3600000000000},   {"h", 3600000000000},
      {"day", 86400000000000},  {"days", 86400000000000},   {"d", 86400000000000},
      {"week", 604800000000000}, {"weeks", 604800000000000}, {"w", 604800000000000},
  };
  for (const auto& [name, ns] : kFixed) {
    std::int64_t total = 0;
    if (unit == name) {
      if (__builtin_mul_overflow(count, ns, &total)) return std::nullopt;  // beyond ±292 years
      return Datum{Type::Duration, total, 0, {}};
    }
  }
  static constexpr std::pair<std::string_view, std::string_view> kCalendar[] = {
      {"month", "month"},     {"months", "month"}, {"mo", "month"},   {"quarter", "quarter"},
      {"quarters", "quarter"}, {"q", "quarter"},   {"year", "year"}, {"years", "year"}, {"yr", "year"},
      {"y", "year"}};
  for (const auto& [name, canonical] : kCalendar) {
    // Months as counted: at most a million years' worth.
    if (unit == name) {
      if (count > 12000000 || count < -12000000) return std::nullopt;
      return Datum{Type::Duration, count, 0, std::string(canonical)};
    }
  }
  return std::nullopt;
}

// A keyword as a number (for comparisons with numbers).
std::optional<Datum> as_number(const Datum& d) {
  if (d.numeric()) return d;
  if (d.type == Type::Bool) return Datum::integer(d.i);
  if (d.type != Type::Keyword) return std::nullopt;
  if (auto l = parse_long(d.s)) return Datum::integer(*l);
  if (auto x = parse_double(d.s)) return Datum::real(*x);
  return std::nullopt;
}

std::optional<Datum> as_date(const Datum& d) {
  if (d.type == Type::Date) return d;
  if (d.type == Type::Keyword) {
    if (auto t = parse_timestamp_text(d.s)) return Datum::date(*t);
  }
  std::int64_t ns = 0;
  if (d.type == Type::Long && !__builtin_mul_overflow(d.i, 1000000, &ns)) return Datum::date(ns);  // epoch millis, as ES|QL converts a long
  return std::nullopt;
}

// -1/0/1, or nullopt when the two cannot be compared.
std::optional<int> compare_for_op(const Datum& a, const Datum& b) {
  if (a.type == b.type || (a.numeric() && b.numeric())) {
    if (a.type == Type::Ip && b.type == Type::Ip) {
      auto x = parse_ip(a.s), y = parse_ip(b.s);
      if (x && y) return x->bytes < y->bytes ? -1 : x->bytes > y->bytes ? 1 : 0;
    }
    if (a.type == Type::Double || b.type == Type::Double) {
      if (std::isnan(a.as_double()) || std::isnan(b.as_double())) return std::nullopt;
    }
    return compare_datums(a, b);
  }
  if (a.type == Type::Date || b.type == Type::Date) {
    auto x = as_date(a), y = as_date(b);
    if (x && y) return compare_datums(*x, *y);
    return std::nullopt;
  }
  if (a.type == Type::Ip || b.type == Type::Ip) {
    auto x = parse_ip(a.s), y = parse_ip(b.s);
    if (x && y) return x->bytes < y->bytes ? -1 : x->bytes > y->bytes ? 1 : 0;
    return std::nullopt;
  }
  if (a.numeric() || b.numeric() || a.type == Type::Bool || b.type == Type::Bool) {
    auto x = as_number(a), y = as_number(b);
    if (x && y) return compare_datums(*x, *y);
    // A keyword that is not a number against a number: compare the texts.
    return compare_datums(Datum::keyword(datum_text(a)), Datum::keyword(datum_text(b)));
  }
  return std::nullopt;
}

Cell boolean(bool b) { return {Datum::boolean(b)}; }
const Cell kNull;

// UTF-8 code points.
std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}
// The byte offset of code point `cp` (or s.size()).
std::size_t byte_of(std::string_view s, std::size_t cp) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (n == cp) return i;
      ++n;
    }
  }
  return s.size();
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// Words as the standard analyzer finds them (lower-cased runs of letters,
// digits and '_'; a '.' or '\'' between two such characters joins them).
std::vector<std::string> tokens(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || static_cast<unsigned char>(c) >= 0x80; };
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (word(c)) {
      cur += fold_char(c);
    } else if ((c == '.' || c == '\'') && !cur.empty() && i + 1 < s.size() && word(s[i + 1])) {
      cur += c;
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

// Damerau-Levenshtein distance (optimal string alignment), capped.
int edit_distance(std::string_view a, std::string_view b, int cap) {
  if (static_cast<int>(a.size() > b.size() ? a.size() - b.size() : b.size() - a.size()) > cap) return cap + 1;
  // Three rows of the table suffice (the transposition looks two rows back).
  const std::size_t w = b.size() + 1;
  std::vector<int> rows(3 * w);
  int* prev2 = rows.data();
  int* prev = prev2 + w;
  int* cur = prev + w;
  for (std::size_t j = 0; j < w; ++j) prev[j] = static_cast<int>(j);
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = static_cast<int>(i);
    int row_min = cur[0];
    for (std::size_t j = 1; j < w; ++j) {
      const int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) cur[j] = std::min(cur[j], prev2[j - 2] + 1);
      row_min = std::min(row_min, cur[j]);
    }
    if (row_min > cap) return cap + 1;  // every path is already over the cap
    int* t = prev2;
    prev2 = prev;
    prev = cur;
    cur = t;
  }
  return prev[b.size()];
}

// A double as a character count or position (casting one out of range is undefined).
std::int64_t clamp_count(double x) {
  if (!(x == x)) return 0;
  return static_cast<std::int64_t>(std::clamp(x, -1e15, 1e15));
}


// A date truncated to a calendar unit (months from the epoch's year 1970).
std::optional<std::int64_t> truncate_calendar(std::int64_t ns, std::int64_t count, std::string_view unit) {
  if (count <= 0) return std::nullopt;
  const CivilTime c = civil_time(ns);
  std::int64_t months = (c.year - 1970) * 12 + (c.month - 1);
  std::int64_t step = count;
  if (__builtin_mul_overflow(count, unit == "year" ? 12 : unit == "quarter" ? 3 : 1, &step)) return std::nullopt;
  months = floor_div(months, step) * step;
  const std::int64_t year = 1970 + floor_div(months, 12);
  const unsigned month = static_cast<unsigned>(months - floor_div(months, 12) * 12) + 1;
  auto t = parse_iso8601(fmt::format("{:04}-{:02}-01T00:00:00Z", year, month));
  if (!t) return std::nullopt;
  return *t;
}

Datum to_keyword(const Datum& d) { return Datum::keyword(datum_text(d)); }

}  // namespace

Cell convert_cell(const Cell& cell, std::string_view target) {
  Cell out;
  for (const Datum& d : cell) {
    std::optional<Datum> r;
    if (target == "string" || target == "keyword" || target == "text") {
      r = to_keyword(d);
    } else if (target == "integer" || target == "int" || target == "long") {
      if (d.type == Type::Long || d.type == Type::Date) r = Datum::integer(d.i);
      else if (d.type == Type::Double && std::isfinite(d.d) && std::fabs(d.d) < 9.2e18)
        r = Datum::integer(static_cast<std::int64_t>(d.d));
      else if (d.type == Type::Bool) r = Datum::integer(d.i);
      else if (d.type == Type::Keyword) {
        if (auto l = parse_long(d.s)) r = Datum::integer(*l);
        else if (auto x = parse_double(d.s); x && std::isfinite(*x) && std::fabs(*x) < 9.2e18)
          r = Datum::integer(static_cast<std::int64_t>(*x));
      }
      if (r && target == "integer" && (r->i > INT32_MAX || r->i < INT32_MIN)) r.reset();
    } else if (target == "double") {
      if (d.numeric() || d.type == Type::Bool || d.type == Type::Date) r = Datum::real(d.type == Type::Double ? d.d : static_cast<double>(d.i));
      else if (d.type == Type::Keyword) {
        if (auto x = parse_double(d.s)) r = Datum::real(*x);
      }
    } else if (target == "boolean" || target == "bool") {
      if (d.type == Type::Bool) r = d;
      else if (d.numeric()) r = Datum::boolean(d.as_double() != 0);
      else if (d.type == Type::Keyword) r = Datum::boolean(equals_folded(d.s, "true"));
    } else if (target == "ip") {
      if (d.type == Type::Ip) r = d;
      else if (d.type == Type::Keyword && parse_ip(d.s)) r = Datum::ip(d.s);
    } else if (target == "datetime" || target == "date") {
      r = as_date(d);
    }
    if (r) out.push_back(std::move(*r));  // a value that does not convert is null (ES|QL warns)
  }
  return out;
}

Expression::Expression(std::unique_ptr<Node> root) : root_(std::move(root)) {}
Expression::Expression(Expression&&) noexcept = default;
Expression& Expression::operator=(Expression&&) noexcept = default;
Expression::~Expression() = default;

namespace {

Cell eval_node(const Node& n, const Row& row, const RunContext& ctx);

// A column's or constant's cell without copying it (the common operands:
// `process.name.caseless == "x"` a hundred times in one CASE); anything else
// is evaluated into `scratch`.
const Cell& operand(const Node& n, const Row& row, const RunContext& ctx, Cell& scratch) {
  if (n.op == Node::Op::Column) return row[static_cast<std::size_t>(n.column)];
  if (n.op == Node::Op::Const) return n.constant;
  scratch = eval_node(n, row, ctx);
  return scratch;
}

// The single value of a cell, or nullptr (null or multi-valued).
const Datum* single(const Cell& c) { return c.size() == 1 ? &c[0] : nullptr; }

std::optional<bool> truth(const Cell& c) {
  const Datum* d = single(c);
  if (!d || d->type != Type::Bool) return std::nullopt;
  return d->i != 0;
}

Cell compare(const std::string& op, const Cell& a, const Cell& b) {
  const Datum* x = single(a);
  const Datum* y = single(b);
  if (!x || !y) return kNull;
  auto c = compare_for_op(*x, *y);
  if (!c) return op == "!=" ? boolean(true) : op == "==" ? boolean(false) : kNull;
  if (op == "==") return boolean(*c == 0);
  if (op == "!=") return boolean(*c != 0);
  if (op == "<") return boolean(*c < 0);
  if (op == "<=") return boolean(*c <= 0);
  if (op == ">") return boolean(*c > 0);
  return boolean(*c >= 0);
}

Cell arithmetic(const std::string& op, const Cell& a, const Cell& b) {
  const Datum* x = single(a);
  const Datum* y = single(b);
  if (!x || !y) return kNull;
  // Dates and durations.
  if ((x->type == Type::Date && y->type == Type::Duration) || (x->type == Type::Duration && y->type == Type::Date)) {
    const Datum& date = x->type == Type::Date ? *x : *y;
    const Datum& dur = x->type == Type::Duration ? *x : *y;
    if (op != "+" && !(op == "-" && x->type == Type::Date)) return kNull;
    if (!dur.s.empty()) {
      // Calendar arithmetic: whole months from the civil date.
      const CivilTime c = civil_time(date.i);
      std::int64_t months = (c.year - 1970) * 12 + (c.month - 1) +
                            (op == "-" ? -1 : 1) * dur.i * (dur.s == "year" ? 12 : dur.s == "quarter" ? 3 : 1);
      const std::int64_t year = 1970 + floor_div(months, 12);
      const unsigned month = static_cast<unsigned>(months - floor_div(months, 12) * 12) + 1;
      auto start = parse_iso8601(fmt::format("{:04}-{:02}-01T00:00:00Z", year, month));
      auto day_start = parse_iso8601(fmt::format("{:04}-{:02}-01T00:00:00Z", c.year, c.month));
      if (!start || !day_start) return kNull;
      std::int64_t r = 0;
      if (__builtin_add_overflow(*start, date.i - *day_start, &r)) return kNull;
      return {Datum::date(r)};
    }
    std::int64_t r = 0;
    if (op == "-" ? __builtin_sub_overflow(date.i, dur.i, &r) : __builtin_add_overflow(date.i, dur.i, &r)) return kNull;
    return {Datum::date(r)};
  }
  auto nx = as_number(*x), ny = as_number(*y);
  if (!nx || !ny || x->type == Type::Keyword || y->type == Type::Keyword) return kNull;
  if (nx->type == Type::Long && ny->type == Type::Long) {
    std::int64_t r = 0;
    const std::int64_t p = nx->i, q = ny->i;
    bool overflow = false;
    if (op == "+") overflow = __builtin_add_overflow(p, q, &r);
    else if (op == "-") overflow = __builtin_sub_overflow(p, q, &r);
    else if (op == "*") overflow = __builtin_mul_overflow(p, q, &r);
    else if (op == "/" || op == "%") {
      if (q == 0 || (p == INT64_MIN && q == -1)) return kNull;  // ES|QL: null and a warning
      r = op == "/" ? p / q : p % q;
    }
    if (overflow) return kNull;
    return {Datum::integer(r)};
  }
  const double p = nx->as_double(), q = ny->as_double();
  double r = 0;
  if (op == "+") r = p + q;
  else if (op == "-") r = p - q;
  else if (op == "*") r = p * q;
  else if (op == "/") {
    if (q == 0) return kNull;
    r = p / q;
  } else {
    if (q == 0) return kNull;
    r = std::fmod(p, q);
  }
  if (!std::isfinite(r)) return kNull;
  return {Datum::real(r)};
}

// A string function applied to each value of a (single-valued) cell.
template <typename Fn>
Cell map_text(const Cell& c, Fn&& fn) {
  const Datum* d = single(c);
  if (!d) return kNull;
  return {Datum::keyword(fn(d->type == Type::Keyword ? d->s : datum_text(*d)))};
}

std::string lower_ascii(std::string s) {
  for (char& c : s) c = fold_char(c);
  return s;
}
std::string upper_ascii(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  }
  return s;
}

Cell date_diff(std::string_view unit, std::int64_t start, std::int64_t end) {
  std::string u = lower_ascii(std::string(unit));
  static constexpr std::pair<std::string_view, std::int64_t> kUnits[] = {
      {"nanosecond", 1},          {"nanoseconds", 1},          {"ns", 1},
      {"microsecond", 1000},      {"microseconds", 1000},      {"mcs", 1000},
      {"millisecond", 1000000},   {"milliseconds", 1000000},   {"ms", 1000000},
      {"second", 1000000000},     {"seconds", 1000000000},     {"ss", 1000000000},  {"s", 1000000000},
      {"minute", 60000000000},    {"minutes", 60000000000},    {"mi", 60000000000}, {"n", 60000000000},
      {"hour", 3600000000000},    {"hours", 3600000000000},    {"hh", 3600000000000},
      {"day", 86400000000000},    {"days", 86400000000000},    {"dd", 86400000000000}, {"d", 86400000000000},
      {"dayofyear", 86400000000000}, {"dy", 86400000000000},   {"y", 86400000000000},
      {"week", 604800000000000},  {"weeks", 604800000000000},  {"wk", 604800000000000}, {"ww", 604800000000000},
      {"weekday", 86400000000000}, {"weekdays", 86400000000000}, {"dw", 86400000000000},
  };
  std::int64_t span = 0;
  if (__builtin_sub_overflow(end, start, &span)) return kNull;
  for (const auto& [name, ns] : kUnits) {
    if (u == name) return {Datum::integer(span / ns)};  // whole units, towards zero
  }
  int months_per = 0;
  if (u == "month" || u == "months" || u == "mm" || u == "m") months_per = 1;
  if (u == "quarter" || u == "quarters" || u == "qq" || u == "q") months_per = 3;
  if (u == "year" || u == "years" || u == "yy" || u == "yyyy") months_per = 12;
  if (months_per == 0) return kNull;
  const CivilTime a = civil_time(start), b = civil_time(end);
  std::int64_t months = (b.year - a.year) * 12 + (static_cast<std::int64_t>(b.month) - a.month);
  // A month is whole once the day and time of the start are reached again.
  const auto within = [](const CivilTime& c) {
    return ((static_cast<std::int64_t>(c.day) * 24 + c.hour) * 60 + c.minute) * 60 + c.second;
  };
  if (months > 0 && within(b) < within(a)) --months;
  if (months < 0 && within(b) > within(a)) ++months;
  return {Datum::integer(months / months_per)};
}

Cell call(const Node& n, const Row& row, const RunContext& ctx) {
  auto arg = [&](std::size_t i) { return eval_node(*n.args[i], row, ctx); };
  switch (n.fn) {
    case Fn::Case: {
      const std::size_t pairs = n.args.size() / 2;
      for (std::size_t p = 0; p < pairs; ++p) {
        if (truth(arg(2 * p)).value_or(false)) return arg(2 * p + 1);
      }
      return n.args.size() % 2 ? arg(n.args.size() - 1) : kNull;
    }
    case Fn::Coalesce:
      for (std::size_t i = 0; i < n.args.size(); ++i) {
        Cell c = arg(i);
        if (!c.empty()) return c;
      }
      return kNull;
    case Fn::Replace: {
      Cell s = arg(0);
      const Datum* d = single(s);
      if (!d || !n.regexes[0]) return kNull;
      std::string text = d->type == Type::Keyword ? d->s : datum_text(*d);
      if (!n.literal_from.empty()) {
        // Plain text (the 🔥 counting idiom of Elastic's script block rules): one left-to-right pass.
        std::string out;
        std::size_t at = 0;
        for (std::size_t hit; (hit = text.find(n.literal_from, at)) != std::string::npos; at = hit + n.literal_from.size()) {
          out.append(text, at, hit - at);
          out += n.literal_to;
        }
        if (at == 0) return {Datum::keyword(std::move(text))};
        out.append(text, at, std::string::npos);
        return {Datum::keyword(std::move(out))};
      }
      RE2::GlobalReplace(&text, *n.regexes[0], n.rewrite);
      return {Datum::keyword(std::move(text))};
    }
    case Fn::Length: {
      Cell s = arg(0);
      const Datum* d = single(s);
      if (!d) return kNull;
      return {Datum::integer(static_cast<std::int64_t>(code_points(d->type == Type::Keyword ? d->s : datum_text(*d))))};
    }
    case Fn::ToLower: {
      Cell c = arg(0);
      for (Datum& d : c) d = Datum::keyword(lower_ascii(datum_text(d)));
      return c;
    }
    case Fn::ToUpper: {
      Cell c = arg(0);
      for (Datum& d : c) d = Datum::keyword(upper_ascii(datum_text(d)));
      return c;
    }
    case Fn::Trim:
    case Fn::Ltrim:
    case Fn::Rtrim:
      return map_text(arg(0), [&](std::string s) {
        std::size_t b = 0, e = s.size();
        if (n.fn != Fn::Rtrim) while (b < e && is_space(s[b])) ++b;
        if (n.fn != Fn::Ltrim) while (e > b && is_space(s[e - 1])) --e;
        return s.substr(b, e - b);
      });
    case Fn::Concat: {
      std::string out;
      for (std::size_t i = 0; i < n.args.size(); ++i) {
        Cell c = arg(i);
        const Datum* d = single(c);
        if (!d) return kNull;
        out += datum_text(*d);
      }
      return {Datum::keyword(std::move(out))};
    }
    case Fn::Substring:
    case Fn::Left:
    case Fn::Right: {
      Cell s = arg(0), a = arg(1);
      const Datum* d = single(s);
      const Datum* p = single(a);
      if (!d || !p || !p->numeric()) return kNull;
      const std::string text = datum_text(*d);
      const std::int64_t len = static_cast<std::int64_t>(code_points(text));
      std::int64_t from = 0, count = len;
      if (n.fn == Fn::Left) {
        count = std::max<std::int64_t>(0, clamp_count(p->as_double()));
      } else if (n.fn == Fn::Right) {
        count = std::max<std::int64_t>(0, clamp_count(p->as_double()));
        from = std::max<std::int64_t>(0, len - count);
      } else {
        from = clamp_count(p->as_double());
        from = from < 0 ? std::max<std::int64_t>(0, len + from) : std::max<std::int64_t>(0, from - 1);  // 1-based
        if (n.args.size() > 2) {
          Cell l = arg(2);
          const Datum* q = single(l);
          if (!q || !q->numeric()) return kNull;
          count = std::max<std::int64_t>(0, clamp_count(q->as_double()));
        }
      }
      from = std::min(from, len);
      count = std::min(count, len - from);
      const std::size_t b = byte_of(text, static_cast<std::size_t>(from));
      const std::size_t e = byte_of(text, static_cast<std::size_t>(from + count));
      return {Datum::keyword(text.substr(b, e - b))};
    }
    case Fn::StartsWith:
    case Fn::EndsWith: {
      Cell s = arg(0), p = arg(1);
      const Datum* d = single(s);
      const Datum* q = single(p);
      if (!d || !q) return kNull;
      const std::string a = datum_text(*d), b = datum_text(*q);
      return boolean(n.fn == Fn::StartsWith ? std::string_view(a).starts_with(b) : std::string_view(a).ends_with(b));
    }
    case Fn::Locate: {
      Cell s = arg(0), p = arg(1);
      const Datum* d = single(s);
      const Datum* q = single(p);
      if (!d || !q) return kNull;
      const std::string a = datum_text(*d), b = datum_text(*q);
      std::size_t from = 0;
      if (n.args.size() > 2) {
        Cell st = arg(2);
        const Datum* f = single(st);
        if (!f || !f->numeric()) return kNull;
        from = byte_of(a, static_cast<std::size_t>(std::max<std::int64_t>(0, clamp_count(f->as_double()) - 1)));
      }
      const std::size_t at = a.find(b, from);
      return {Datum::integer(at == std::string::npos ? 0 : static_cast<std::int64_t>(code_points(a.substr(0, at))) + 1)};
    }
    case Fn::Split: {
      Cell s = arg(0), p = arg(1);
      const Datum* d = single(s);
      const Datum* q = single(p);
      if (!d || !q || q->s.empty()) return kNull;
      const std::string a = datum_text(*d);
      Cell out;
      std::size_t start = 0;
      while (true) {
        const std::size_t at = a.find(q->s, start);
        out.push_back(Datum::keyword(a.substr(start, at == std::string::npos ? std::string::npos : at - start)));
        if (at == std::string::npos) break;
        start = at + q->s.size();
      }
      return out;
    }
    case Fn::MvFirst: {
      Cell c = arg(0);
      if (c.size() > 1) c.resize(1);
      return c;
    }
    case Fn::MvLast: {
      Cell c = arg(0);
      if (c.size() > 1) c.erase(c.begin(), c.end() - 1);
      return c;
    }
    case Fn::MvMin:
    case Fn::MvMax: {
      Cell c = arg(0);
      if (c.empty()) return kNull;
      auto it = n.fn == Fn::MvMin ? std::min_element(c.begin(), c.end(), [](const Datum& a, const Datum& b) { return compare_datums(a, b) < 0; })
                                  : std::max_element(c.begin(), c.end(), [](const Datum& a, const Datum& b) { return compare_datums(a, b) < 0; });
      return {*it};
    }
    case Fn::MvCount: {
      Cell c = arg(0);
      if (c.empty()) return kNull;
      return {Datum::integer(static_cast<std::int64_t>(c.size()))};
    }
    case Fn::MvContains: {
      Cell super = arg(0), sub = arg(1);
      if (sub.empty()) return boolean(true);
      for (const Datum& d : sub) {
        bool found = false;
        for (const Datum& s : super) found = found || compare_for_op(s, d) == 0;
        if (!found) return boolean(false);
      }
      return boolean(true);
    }
    case Fn::MvDedupe: {
      Cell c = arg(0), out;
      for (Datum& d : c) {
        if (std::find(out.begin(), out.end(), d) == out.end()) out.push_back(std::move(d));
      }
      return out;
    }
    case Fn::MvConcat: {
      Cell c = arg(0), sep = arg(1);
      const Datum* s = single(sep);
      if (c.empty() || !s) return kNull;
      std::string out;
      for (std::size_t i = 0; i < c.size(); ++i) {
        if (i) out += datum_text(*s);
        out += datum_text(c[i]);
      }
      return {Datum::keyword(std::move(out))};
    }
    case Fn::MvSum:
    case Fn::MvAvg: {
      Cell c = arg(0);
      if (c.empty()) return kNull;
      Cell total = {c[0]};
      for (std::size_t i = 1; i < c.size(); ++i) total = arithmetic("+", total, {c[i]});
      if (n.fn == Fn::MvSum || total.empty()) return total;
      return {Datum::real(total[0].as_double() / static_cast<double>(c.size()))};
    }
    case Fn::DateTrunc: {
      Cell iv = arg(0), dt = arg(1);
      const Datum* i = single(iv);
      const Datum* d = single(dt);
      if (!i || !d || i->type != Type::Duration) return kNull;
      auto date = as_date(*d);
      if (!date) return kNull;
      if (!i->s.empty()) {
        auto t = truncate_calendar(date->i, i->i, i->s);
        if (!t) return kNull;
        return {Datum::date(*t)};
      }
      if (i->i <= 0) return kNull;
      // The time since the bucket's start (a remainder: no product that
      // could overflow). A week starts on Monday: 1970-01-01 was a Thursday,
      // three days after one.
      auto since = [](std::int64_t t, std::int64_t m) {
        const std::int64_t r = t % m;
        return r < 0 ? r + m : r;
      };
      constexpr std::int64_t kDay = 86400000000000LL;
      std::int64_t into = since(date->i, i->i);
      if (i->i == 7 * kDay) into = since(into + 3 * kDay, i->i);
      std::int64_t start = 0;
      if (__builtin_sub_overflow(date->i, into, &start)) return kNull;  // it starts before the range a date holds
      return {Datum::date(start)};
    }
    case Fn::DateDiff: {
      Cell u = arg(0), a = arg(1), b = arg(2);
      const Datum* unit = single(u);
      const Datum* x = single(a);
      const Datum* y = single(b);
      if (!unit || !x || !y) return kNull;
      auto s = as_date(*x), e = as_date(*y);
      if (!s || !e) return kNull;
      return date_diff(unit->s, s->i, e->i);
    }
    case Fn::DateExtract: {
      Cell u = arg(0), a = arg(1);
      const Datum* unit = single(u);
      const Datum* x = single(a);
      if (!unit || !x) return kNull;
      auto d = as_date(*x);
      if (!d) return kNull;
      const CivilTime c = civil_time(d->i);
      const std::string k = upper_ascii(unit->s);
      if (k == "YEAR") return {Datum::integer(c.year)};
      if (k == "MONTH_OF_YEAR") return {Datum::integer(c.month)};
      if (k == "DAY_OF_MONTH") return {Datum::integer(c.day)};
      if (k == "HOUR_OF_DAY") return {Datum::integer(c.hour)};
      if (k == "MINUTE_OF_HOUR") return {Datum::integer(c.minute)};
      if (k == "SECOND_OF_MINUTE") return {Datum::integer(c.second)};
      if (k == "DAY_OF_WEEK") return {Datum::integer((floor_div(d->i, 86400000000000LL) + 3) % 7 + 1)};  // Monday = 1
      return kNull;
    }
    case Fn::Now: return {Datum::date(ctx.now)};
    case Fn::CidrMatch: {
      Cell a = arg(0);
      const Datum* d = single(a);
      if (!d) return kNull;
      auto ip = parse_ip(d->s);
      if (!ip) return kNull;
      for (std::size_t i = 1; i < n.args.size(); ++i) {
        for (const Datum& block : arg(i)) {
          if (auto cidr = parse_cidr(block.s); cidr && cidr->contains(*ip)) return boolean(true);
        }
      }
      return boolean(false);
    }
    case Fn::ToIp: return convert_cell(arg(0), "ip");
    case Fn::ToString: return convert_cell(arg(0), "string");
    case Fn::ToInteger: return convert_cell(arg(0), "integer");
    case Fn::ToLong: return convert_cell(arg(0), "long");
    case Fn::ToDouble: return convert_cell(arg(0), "double");
    case Fn::ToBoolean: return convert_cell(arg(0), "boolean");
    case Fn::ToDatetime: return convert_cell(arg(0), "datetime");
    case Fn::Abs:
    case Fn::Floor:
    case Fn::Ceil:
    case Fn::Round: {
      Cell a = arg(0);
      const Datum* d = single(a);
      if (!d || !d->numeric()) return kNull;
      if (d->type == Type::Long) {
        if (n.fn == Fn::Abs) return {Datum::integer(d->i < 0 && d->i != INT64_MIN ? -d->i : d->i)};
        return {*d};
      }
      double x = d->d;
      if (n.fn == Fn::Abs) x = std::fabs(x);
      if (n.fn == Fn::Floor) x = std::floor(x);
      if (n.fn == Fn::Ceil) x = std::ceil(x);
      if (n.fn == Fn::Round) {
        double scale = 1;
        if (n.args.size() > 1) {
          Cell p = arg(1);
          const Datum* q = single(p);
          if (!q || !q->numeric()) return kNull;
          scale = std::pow(10.0, q->as_double());
        }
        x = std::round(x * scale) / scale;
      }
      return {Datum::real(x)};
    }
    case Fn::Greatest:
    case Fn::Least: {
      Cell best;
      for (std::size_t i = 0; i < n.args.size(); ++i) {
        for (Datum& d : arg(i)) {
          if (best.empty() || (n.fn == Fn::Greatest ? compare_datums(d, best[0]) > 0 : compare_datums(d, best[0]) < 0))
            best = {std::move(d)};
        }
      }
      return best;
    }
    case Fn::Match: {
      Cell f = arg(0), q = arg(1);
      const Datum* query = single(q);
      if (f.empty() || !query) return boolean(false);
      if (n.text_field) {
        const std::vector<std::string> wanted = tokens(query->s);
        for (const Datum& d : f) {
          for (const std::string& t : tokens(datum_text(d))) {
            if (std::find(wanted.begin(), wanted.end(), t) != wanted.end()) return boolean(true);
          }
        }
        return boolean(false);
      }
      for (const Datum& d : f) {
        const std::string v = datum_text(d);
        if (n.fuzziness > 0 ? edit_distance(v, query->s, n.fuzziness) <= n.fuzziness : v == query->s) return boolean(true);
      }
      return boolean(false);
    }
    case Fn::IsNullFn: return boolean(arg(0).empty());
  }
  return kNull;
}

Cell eval_node(const Node& n, const Row& row, const RunContext& ctx) {
  switch (n.op) {
    case Node::Op::Const: return n.constant;
    case Node::Op::Column: return row[static_cast<std::size_t>(n.column)];
    case Node::Op::And: {
      auto a = truth(eval_node(*n.args[0], row, ctx));
      if (a == false) return boolean(false);
      auto b = truth(eval_node(*n.args[1], row, ctx));
      if (b == false) return boolean(false);
      if (a && b) return boolean(true);
      return kNull;
    }
    case Node::Op::Or: {
      auto a = truth(eval_node(*n.args[0], row, ctx));
      if (a == true) return boolean(true);
      auto b = truth(eval_node(*n.args[1], row, ctx));
      if (b == true) return boolean(true);
      if (a && b) return boolean(false);
      return kNull;
    }
    case Node::Op::Not: {
      auto a = truth(eval_node(*n.args[0], row, ctx));
      if (!a) return kNull;
      return boolean(!*a);
    }
    case Node::Op::Neg: {
      Cell a = eval_node(*n.args[0], row, ctx);
      const Datum* d = single(a);
      if (!d) return kNull;
      if (d->type == Type::Long && d->i != INT64_MIN) return {Datum::integer(-d->i)};
      if (d->type == Type::Double) return {Datum::real(-d->d)};
      if (d->type == Type::Duration && d->i != INT64_MIN) return {Datum{Type::Duration, -d->i, 0, d->s}};
      return kNull;
    }
    case Node::Op::Compare: {
      Cell a, b;
      return compare(n.text, operand(*n.args[0], row, ctx, a), operand(*n.args[1], row, ctx, b));
    }
    case Node::Op::Arith: return arithmetic(n.text, eval_node(*n.args[0], row, ctx), eval_node(*n.args[1], row, ctx));
    case Node::Op::In: {
      Cell scratch, item_scratch;
      const Cell& a = operand(*n.args[0], row, ctx, scratch);
      const Datum* d = single(a);
      if (!d) return kNull;
      bool saw_null = false;
      for (std::size_t i = 1; i < n.args.size(); ++i) {
        const Cell& item = operand(*n.args[i], row, ctx, item_scratch);
        const Datum* x = single(item);
        if (!x) {
          saw_null = true;
          continue;
        }
        if (compare_for_op(*d, *x) == 0) return boolean(!n.negated);
      }
      if (saw_null) return kNull;
      return boolean(n.negated);
    }
    case Node::Op::IsNull: {
      Cell scratch;
      const bool null = operand(*n.args[0], row, ctx, scratch).empty();
      return boolean(n.negated ? !null : null);
    }
    case Node::Op::Like: {
      Cell scratch;
      const Cell& a = operand(*n.args[0], row, ctx, scratch);
      const Datum* d = single(a);
      if (!d) return kNull;
      std::string converted;
      if (d->type != Type::Keyword) converted = datum_text(*d);
      const std::string& text = d->type == Type::Keyword ? d->s : converted;
      bool any = false;
      for (const auto& re : n.regexes) any = any || RE2::FullMatch(text, *re);
      return boolean(any != n.negated);
    }
    case Node::Op::Cast: return convert_cell(eval_node(*n.args[0], row, ctx), n.text);
    case Node::Op::Call: return call(n, row, ctx);
  }
  return kNull;
}

std::unique_ptr<RE2> compile_re2(const std::string& pattern, bool dot_nl = false) {
  RE2::Options options;
  options.set_log_errors(false);
  options.set_dot_nl(dot_nl);
  options.set_max_mem(64 << 20);
  auto re = std::make_unique<RE2>(pattern, options);
  if (!re->ok()) return nullptr;
  return re;
}

// The error of a regex at `e` (the string literal holding it).
Error regex_error_at(const Expr& e, const Error& inner) {
  return at(e, "esql.regex", inner.message);
}

Result<std::unique_ptr<Node>> compile_node(const Expr& e, const std::vector<std::string>& columns, int depth);

Result<std::unique_ptr<Node>> compile_args(std::unique_ptr<Node> n, const Expr& e, const std::vector<std::string>& columns,
                                           int depth, std::size_t from = 0) {
  for (std::size_t i = from; i < e.args.size(); ++i) {
    auto a = compile_node(*e.args[i], columns, depth + 1);
    if (!a) return a.error();
    n->args.push_back(std::move(*a));
  }
  return n;
}

Result<std::unique_ptr<Node>> compile_node(const Expr& e, const std::vector<std::string>& columns, int depth) {
  if (depth > 200) return at(e, "esql.unsupported", "the expression is nested too deeply");
  auto n = std::make_unique<Node>();
  switch (e.kind) {
    case Expr::Kind::Null: n->op = Node::Op::Const; return n;
    case Expr::Kind::Bool: n->constant = boolean(e.text == "true"); return n;
    case Expr::Kind::Integer: n->constant = {Datum::integer(e.integer)}; return n;
    case Expr::Kind::Decimal: n->constant = {Datum::real(e.decimal)}; return n;
    case Expr::Kind::String: n->constant = {Datum::keyword(e.text)}; return n;
    case Expr::Kind::Duration: {
      auto d = duration_of(e.integer, e.text);
      if (!d) return at(e, "esql.unsupported", fmt::format("'{}' is not a time unit, or the duration is too long", e.text));
      n->constant = {*d};
      return n;
    }
    case Expr::Kind::Field: {
      auto it = std::find(columns.begin(), columns.end(), e.text);
      if (it == columns.end()) return at(e, "esql.unknown_column", fmt::format("Unknown column [{}]", e.text));
      n->op = Node::Op::Column;
      n->column = static_cast<int>(it - columns.begin());
      return n;
    }
    case Expr::Kind::Star: return at(e, "esql.syntax", "'*' is only an argument of COUNT");
    case Expr::Kind::Unary:
      n->op = e.text == "not" ? Node::Op::Not : Node::Op::Neg;
      return compile_args(std::move(n), e, columns, depth);
    case Expr::Kind::Binary:
      n->text = e.text;
      n->op = e.text == "and"  ? Node::Op::And
              : e.text == "or" ? Node::Op::Or
              : (e.text == "+" || e.text == "-" || e.text == "*" || e.text == "/" || e.text == "%") ? Node::Op::Arith
                                                                                                    : Node::Op::Compare;
      return compile_args(std::move(n), e, columns, depth);
    case Expr::Kind::In:
      n->op = Node::Op::In;
      n->negated = e.negated;
      return compile_args(std::move(n), e, columns, depth);
    case Expr::Kind::IsNull:
      n->op = Node::Op::IsNull;
      n->negated = e.negated;
      return compile_args(std::move(n), e, columns, depth);
    case Expr::Kind::Like: {
      n->op = Node::Op::Like;
      n->negated = e.negated;
      auto a = compile_node(*e.args[0], columns, depth + 1);
      if (!a) return a.error();
      n->args.push_back(std::move(*a));
      for (std::size_t i = 1; i < e.args.size(); ++i) {
        const Expr& p = *e.args[i];
        if (p.kind != Expr::Kind::String)
          return at(p, "esql.unsupported", fmt::format("{} takes string patterns", e.text == "like" ? "LIKE" : "RLIKE"));
        std::string pattern;
        if (e.text == "like") {
          pattern = translate_like(p.text);
        } else {
          auto t = translate_lucene_regex(p.text);
          if (!t) return regex_error_at(p, t.error());
          pattern = *t;
        }
        auto re = compile_re2(pattern, true);
        if (!re) return at(p, "esql.regex", fmt::format("the pattern does not compile: {}", RE2(pattern).error()));
        n->regexes.push_back(std::move(re));
      }
      return n;
    }
    case Expr::Kind::Cast: {
      static constexpr std::string_view kTargets[] = {"string", "keyword", "text", "integer", "int", "long",
                                                      "double", "boolean", "bool", "ip", "datetime", "date"};
      if (std::find(std::begin(kTargets), std::end(kTargets), e.text) == std::end(kTargets))
        return at(e, "esql.unsupported", fmt::format("vigil cannot convert to '{}'", e.text));
      n->op = Node::Op::Cast;
      n->text = e.text;
      return compile_args(std::move(n), e, columns, depth);
    }
    case Expr::Kind::Map: return at(e, "esql.syntax", "an option map is only an argument of a function");
    case Expr::Kind::Call: break;
  }
  // A function call.
  if (is_aggregate(e.text))
    return at(e, "esql.syntax", fmt::format("the aggregate function {} can only be used in STATS", e.text));
  const FunctionInfo* info = nullptr;
  for (const FunctionInfo& f : kFunctions) {
    if (f.name == e.text) info = &f;
  }
  if (!info) return at(e, "esql.unsupported", fmt::format("the ES|QL function {} is not supported by vigil", e.text));
  const int argc = static_cast<int>(e.args.size());
  if (argc < info->min_args || (info->max_args >= 0 && argc > info->max_args))
    return at(e, "esql.syntax", fmt::format("{} takes {} argument(s), not {}", e.text,
                                            info->max_args == info->min_args ? std::to_string(info->min_args)
                                            : info->max_args < 0 ? fmt::format("at least {}", info->min_args)
                                                                 : fmt::format("{} to {}", info->min_args, info->max_args),
                                            argc));
  n->op = Node::Op::Call;
  n->fn = info->fn;
  if (info->fn == Fn::Replace) {
    const Expr& re = *e.args[1];
    const Expr& rep = *e.args[2];
    if (re.kind != Expr::Kind::String || rep.kind != Expr::Kind::String)
      return at(re, "esql.unsupported", "vigil runs REPLACE with a constant regex and replacement");
    auto t = translate_java_regex(re.text);
    if (!t) return regex_error_at(re, t.error());
    auto compiled = compile_re2(t->pattern);
    if (!compiled) return at(re, "esql.regex", fmt::format("the regex does not compile: {}", RE2(t->pattern).error()));
    auto r = translate_replacement(rep.text, t->names);
    if (!r) return regex_error_at(rep, r.error());
    n->regexes.push_back(std::move(compiled));
    n->rewrite = *r;
    // A regex of letters, digits and non-ASCII only, replaced by text without '$' or '\': plain text replacement.
    const bool plain_regex = !re.text.empty() && std::all_of(re.text.begin(), re.text.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || static_cast<unsigned char>(c) >= 0x80 || c == ' ';
    });
    if (plain_regex && rep.text.find_first_of("$\\") == std::string::npos) {
      n->literal_from = re.text;
      n->literal_to = rep.text;
    }
    return compile_args(std::move(n), e, columns, depth);
  }
  if (info->fn == Fn::Match) {
    if (e.args[0]->kind != Expr::Kind::Field) return at(*e.args[0], "esql.syntax", "MATCH's first argument is a field");
    n->text_field = full_text_field(e.args[0]->text);
    if (e.args.size() == 3) {
      const Expr& opts = *e.args[2];
      if (opts.kind != Expr::Kind::Map) return at(opts, "esql.syntax", "MATCH's options are a map { ... }");
      for (std::size_t i = 0; i + 1 < opts.args.size(); i += 2) {
        const std::string& key = opts.args[i]->text;
        const Expr& value = *opts.args[i + 1];
        if (key == "fuzziness") {
          if (value.kind == Expr::Kind::Integer) n->fuzziness = static_cast<int>(std::clamp<std::int64_t>(value.integer, 0, 2));
          else if (value.kind == Expr::Kind::String && equals_folded(value.text, "auto")) n->fuzziness = -1;
          else return at(value, "esql.unsupported", "fuzziness is 0, 1, 2 or \"AUTO\"");
        } else if (key == "max_expansions" || key == "operator" || key == "boost" || key == "lenient" ||
                   key == "analyzer" || key == "prefix_length" || key == "fuzzy_transpositions" ||
                   key == "auto_generate_synonyms_phrase_query" || key == "minimum_should_match") {
          // Options that change scoring or expansion limits, not which keyword values match.
        } else {
          return at(*opts.args[i], "esql.unsupported", fmt::format("MATCH option '{}' is not supported by vigil", key));
        }
      }
      if (n->fuzziness < 0) {
        // AUTO: by the query's length (0 up to 2 characters, 1 up to 5, else 2).
        const Expr& q = *e.args[1];
        const std::size_t len = q.kind == Expr::Kind::String ? q.text.size() : 0;
        n->fuzziness = len <= 2 ? 0 : len <= 5 ? 1 : 2;
      }
    }
    auto a0 = compile_node(*e.args[0], columns, depth + 1);
    if (!a0) return a0.error();
    auto a1 = compile_node(*e.args[1], columns, depth + 1);
    if (!a1) return a1.error();
    n->args.push_back(std::move(*a0));
    n->args.push_back(std::move(*a1));
    return n;
  }
  if (info->fn == Fn::DateDiff || info->fn == Fn::DateExtract) {
    if (e.args[0]->kind != Expr::Kind::String)
      return at(*e.args[0], "esql.unsupported", "the unit is a constant string");
    if (info->fn == Fn::DateDiff && date_diff(e.args[0]->text, 0, 0).empty())
      return at(*e.args[0], "esql.unsupported", fmt::format("unknown DATE_DIFF unit '{}'", e.args[0]->text));
  }
  return compile_args(std::move(n), e, columns, depth);
}

}  // namespace

Cell Expression::eval(const Row& row, const RunContext& context) const { return eval_node(*root_, row, context); }
bool Expression::test(const Row& row, const RunContext& context) const {
  return truth(eval_node(*root_, row, context)).value_or(false);
}

Result<Expression> compile_expression(const Expr& e, const std::vector<std::string>& columns) {
  auto n = compile_node(e, columns, 0);
  if (!n) return n.error();
  return Expression(std::move(*n));
}

}  // namespace vigil::esql
