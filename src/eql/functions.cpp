// Built-in function implementations. Null in, null out, unless the
// Elasticsearch documentation says otherwise (between and the predicates on
// strings return "" / false for not-found, null only for null input).
#include "eql/functions.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <optional>
#include <string>

#include "core/text.h"
#include "core/timestamp.h"

namespace vigil::eql {
namespace {

bool any_null(std::span<const Value> args) {
  return std::any_of(args.begin(), args.end(), [](const Value& v) { return v.is_null(); });
}

// Functions take scalars; a multi-valued argument contributes its first value.
Value scalar(const Value& v) {
  if (v.kind() != ValueKind::Array) return v;
  auto items = v.as_array();
  return items.empty() ? Value::null() : items[0];
}

std::string_view text_of(const Value& v, Arena& scratch) {
  Value s = scalar(v);
  if (s.is_text()) return s.as_string();
  std::string tmp;
  append_text(tmp, s);
  return scratch.copy(tmp);
}

// A numeric argument as a position; doubles are clamped before conversion
// (casting NaN or an out-of-range double to an integer is undefined).
std::int64_t as_position(const Value& v) {
  if (v.kind() == ValueKind::Int) return v.as_int();
  double d = v.as_double();
  if (std::isnan(d)) return 0;
  if (d > 9.0e18) return INT64_MAX;
  if (d < -9.0e18) return INT64_MIN;
  return static_cast<std::int64_t>(d);
}

std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  return n;
}

Value f_between(std::span<const Value> a, bool ci, Arena& scratch) {
  if (any_null(a)) return Value::null();
  std::string_view src = text_of(a[0], scratch);
  std::string_view left = text_of(a[1], scratch);
  std::string_view right = text_of(a[2], scratch);
  bool greedy = a.size() > 3 && scalar(a[3]).kind() == ValueKind::Bool && scalar(a[3]).as_bool();
  std::size_t l = find_text(src, left, 0, ci);
  if (l == std::string_view::npos) return Value::string({});
  std::size_t start = l + left.size();
  std::size_t r;
  if (greedy) {
    r = std::string_view::npos;
    if (right.empty()) {
      r = src.size();
    } else {
      for (std::size_t p = find_text(src, right, start, ci); p != std::string_view::npos; p = find_text(src, right, p + 1, ci)) r = p;
    }
  } else {
    r = find_text(src, right, start, ci);
  }
  if (r == std::string_view::npos) return Value::string({});
  return Value::string(src.substr(start, r - start));
}

Value f_cidr_match(std::span<const Value> a, bool, Arena& scratch) {
  Value ipv = scalar(a[0]);
  if (ipv.is_null()) return Value::null();
  auto check = [&](const Value& one) -> bool {
    if (!one.is_text()) return false;
    auto ip = parse_ip(one.as_string());
    if (!ip) return false;
    for (std::size_t i = 1; i < a.size(); ++i) {
      Value c = scalar(a[i]);
      if (!c.is_text()) continue;
      if (auto block = parse_cidr(c.as_string()); block && block->contains(*ip)) return true;
    }
    return false;
  };
  (void)scratch;
  if (a[0].kind() == ValueKind::Array) {
    for (const Value& one : a[0].as_array()) {
      if (check(one)) return Value::boolean(true);
    }
    return Value::boolean(false);
  }
  return Value::boolean(check(ipv));
}

Value f_concat(std::span<const Value> a, bool, Arena& scratch) {
  if (any_null(a)) return Value::null();
  std::string out;
  for (const Value& v : a) append_text(out, scalar(v));
  return Value::string(scratch.copy(out));
}

Value f_ends_with(std::span<const Value> a, bool ci, Arena& scratch) {
  if (any_null(a)) return Value::null();
  std::string_view s = text_of(a[0], scratch), suffix = text_of(a[1], scratch);
  if (suffix.size() > s.size()) return Value::boolean(false);
  std::string_view tail = s.substr(s.size() - suffix.size());
  return Value::boolean(ci ? equals_folded(tail, suffix) : tail == suffix);
}

Value f_starts_with(std::span<const Value> a, bool ci, Arena& scratch) {
  if (any_null(a)) return Value::null();
  std::string_view s = text_of(a[0], scratch), prefix = text_of(a[1], scratch);
  if (prefix.size() > s.size()) return Value::boolean(false);
  std::string_view head = s.substr(0, prefix.size());
  return Value::boolean(ci ? equals_folded(head, prefix) : head == prefix);
}

Value f_string_contains(std::span<const Value> a, bool ci, Arena& scratch) {
  if (any_null(a)) return Value::null();
  return Value::boolean(find_text(text_of(a[0], scratch), text_of(a[1], scratch), 0, ci) != std::string_view::npos);
}

Value f_index_of(std::span<const Value> a, bool ci, Arena& scratch) {
  if (a[0].is_null() || a[1].is_null()) return Value::null();
  std::string_view s = text_of(a[0], scratch), sub = text_of(a[1], scratch);
  std::int64_t start = 0;
  if (a.size() > 2 && !a[2].is_null()) {
    Value st = scalar(a[2]);
    if (!st.is_numeric()) return Value::null();
    start = as_position(st);
  }
  if (start < 0) start = 0;
  if (static_cast<std::uint64_t>(start) > s.size()) return Value::null();
  std::size_t p = find_text(s, sub, static_cast<std::size_t>(start), ci);
  if (p == std::string_view::npos) return Value::null();
  return Value::integer(static_cast<std::int64_t>(p));
}

Value f_length(std::span<const Value> a, bool, Arena& scratch) {
  if (a[0].is_null()) return Value::null();
  if (a[0].kind() == ValueKind::Array) return Value::integer(static_cast<std::int64_t>(a[0].as_array().size()));
  return Value::integer(static_cast<std::int64_t>(utf8_length(text_of(a[0], scratch))));
}

Value f_string(std::span<const Value> a, bool, Arena& scratch) {
  if (a[0].is_null()) return Value::null();
  return Value::string(text_of(a[0], scratch));
}

Value f_number(std::span<const Value> a, bool, Arena& scratch) {
  Value v = scalar(a[0]);
  if (v.is_null()) return Value::null();
  if (v.is_numeric()) return v;
  int base = 10;
  bool base_given = false;
  if (a.size() > 1 && !a[1].is_null()) {
    base_given = true;
    Value b = scalar(a[1]);
    if (b.kind() != ValueKind::Int || b.as_int() < 2 || b.as_int() > 36) return Value::null();
    base = static_cast<int>(b.as_int());
  }
  std::string_view s = text_of(v, scratch);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  bool negative = false;
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  bool hex_prefix = s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
  if (hex_prefix && !base_given) base = 16;  // number("0x1337") reads hexadecimal
  if (hex_prefix && base == 16) s.remove_prefix(2);
  if (s.empty()) return Value::null();
  std::int64_t i = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), i, base);
  if (ec == std::errc() && p == s.data() + s.size()) return Value::integer(negative ? -i : i);
  if (base == 10) {
    double d = 0;
    auto [pd, ecd] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (ecd == std::errc() && pd == s.data() + s.size()) return Value::floating(negative ? -d : d);
  }
  return Value::null();
}

Value f_substring(std::span<const Value> a, bool, Arena& scratch) {
  if (a[0].is_null()) return Value::null();
  std::string_view s = text_of(a[0], scratch);
  auto as_int = [](const Value& v) {
    Value x = scalar(v);
    return x.is_numeric() ? as_position(x) : 0;
  };
  auto len = static_cast<std::int64_t>(s.size());
  std::int64_t start = a[1].is_null() ? 0 : as_int(a[1]);  // null start: from the beginning
  std::int64_t end = a.size() > 2 && !a[2].is_null() ? as_int(a[2]) : len;
  // Python slice semantics, as Elasticsearch documents them.
  if (start < 0) start = start < -len ? 0 : len + start;
  if (end < 0) end = end < -len ? 0 : len + end;
  start = std::min(start, len);
  end = std::min(end, len);
  if (start >= end) return Value::string({});
  return Value::string(s.substr(static_cast<std::size_t>(start), static_cast<std::size_t>(end - start)));
}

}  // namespace

// Arithmetic shared by the functions and the + - * / % operators.
Value arithmetic(char op, const Value& x, const Value& y);

namespace {
Value f_add(std::span<const Value> a, bool, Arena&) { return arithmetic('+', scalar(a[0]), scalar(a[1])); }
Value f_subtract(std::span<const Value> a, bool, Arena&) { return arithmetic('-', scalar(a[0]), scalar(a[1])); }
Value f_multiply(std::span<const Value> a, bool, Arena&) { return arithmetic('*', scalar(a[0]), scalar(a[1])); }
Value f_divide(std::span<const Value> a, bool, Arena&) { return arithmetic('/', scalar(a[0]), scalar(a[1])); }
Value f_modulo(std::span<const Value> a, bool, Arena&) { return arithmetic('%', scalar(a[0]), scalar(a[1])); }

using A = ArgType;
using R = ResultType;
constexpr std::uint8_t kVariadic = 255;

// _keywords(pattern, ...): compiled into OpCode::Keywords (it reads the whole
// event, which a function cannot); this entry is for the analyzer.
Value f_keywords(std::span<const Value>, bool, Arena&) { return Value::null(); }

// _timePart(date, part): what Sigma's time modifiers compare (part: minute
// 0-59, hour 0-23, day 1-31, week 1-53 as ISO 8601 counts, month 1-12,
// year) of a date as events hold it: ISO 8601 text (@timestamp, Sysmon's
// UtcTime "2019-05-14 12:34:56.789", TimeCreated) or epoch milliseconds; in
// UTC, as written (no time zone conversion). Null for anything else.
Value f_time_part(std::span<const Value> a, bool, Arena& scratch) {
  Value v = scalar(a[0]);
  Value part = scalar(a[1]);
  if (v.is_null() || !part.is_text()) return Value::null();
  std::optional<TimestampNs> ns;
  if (v.kind() == ValueKind::Int) {
    ns = from_epoch_millis(v.as_int());
  } else if (v.is_text()) {
    ns = parse_timestamp_text(text_of(v, scratch));
  }
  if (!ns) return Value::null();
  const CivilTime t = civil_time(*ns);
  const std::string_view p = part.as_string();
  if (p == "minute") return Value::integer(t.minute);
  if (p == "hour") return Value::integer(t.hour);
  if (p == "day") return Value::integer(t.day);
  if (p == "week") return Value::integer(t.iso_week);
  if (p == "month") return Value::integer(t.month);
  if (p == "year") return Value::integer(t.year);
  return Value::null();
}

const FunctionSpec kFunctions[] = {
    {"_keywords", 1, kVariadic, false, R::Bool, {A::Constant}, f_keywords, 1},
    {"_timePart", 2, 2, false, R::Integer, {A::Any, A::Constant}, f_time_part},
    {"add", 2, 2, false, R::Number, {A::Number, A::Number}, f_add},
    {"between", 3, 4, true, R::String, {A::String, A::String, A::String, A::Bool}, f_between},
    {"cidrMatch", 2, kVariadic, false, R::Bool, {A::Any, A::Constant}, f_cidr_match, 2},
    {"concat", 1, kVariadic, false, R::String, {A::Any}, f_concat, 1},
    {"divide", 2, 2, false, R::Number, {A::Number, A::Number}, f_divide},
    {"endsWith", 2, 2, true, R::Bool, {A::String, A::String}, f_ends_with},
    {"indexOf", 2, 3, true, R::Integer, {A::String, A::String, A::Integer}, f_index_of},
    {"length", 1, 1, false, R::Integer, {A::String}, f_length},
    {"modulo", 2, 2, false, R::Number, {A::Number, A::Number}, f_modulo},
    {"multiply", 2, 2, false, R::Number, {A::Number, A::Number}, f_multiply},
    {"number", 1, 2, false, R::Number, {A::String, A::Integer}, f_number},
    {"startsWith", 2, 2, true, R::Bool, {A::String, A::String}, f_starts_with},
    {"string", 1, 1, false, R::String, {A::Any}, f_string},
    {"stringContains", 2, 2, true, R::Bool, {A::String, A::String}, f_string_contains},
    {"substring", 2, 3, false, R::String, {A::String, A::Integer, A::Integer}, f_substring},
    {"subtract", 2, 2, false, R::Number, {A::Number, A::Number}, f_subtract},
};

}  // namespace

Value arithmetic(char op, const Value& x, const Value& y) {
  if (!x.is_numeric() || !y.is_numeric()) return Value::null();
  if (x.kind() == ValueKind::Int && y.kind() == ValueKind::Int) {
    std::int64_t a = x.as_int(), b = y.as_int(), r = 0;
    switch (op) {
      case '+': if (__builtin_add_overflow(a, b, &r)) return Value::floating(static_cast<double>(a) + static_cast<double>(b)); return Value::integer(r);
      case '-': if (__builtin_sub_overflow(a, b, &r)) return Value::floating(static_cast<double>(a) - static_cast<double>(b)); return Value::integer(r);
      case '*': if (__builtin_mul_overflow(a, b, &r)) return Value::floating(static_cast<double>(a) * static_cast<double>(b)); return Value::integer(r);
      case '/':
        if (b == 0 || (a == INT64_MIN && b == -1)) return Value::null();
        return Value::integer(a / b);
      case '%':
        if (b == 0 || (a == INT64_MIN && b == -1)) return Value::null();
        return Value::integer(a % b);
      default: return Value::null();
    }
  }
  double a = x.as_double(), b = y.as_double();
  switch (op) {
    case '+': return Value::floating(a + b);
    case '-': return Value::floating(a - b);
    case '*': return Value::floating(a * b);
    case '/': return b == 0 ? Value::null() : Value::floating(a / b);
    case '%': return b == 0 ? Value::null() : Value::floating(std::fmod(a, b));
    default: return Value::null();
  }
}

const FunctionSpec* find_function(std::string_view name) {
  for (const auto& f : kFunctions) {
    if (equals_folded(f.name, name)) return &f;
  }
  return nullptr;
}

std::span<const FunctionSpec> all_functions() { return kFunctions; }

}  // namespace vigil::eql
