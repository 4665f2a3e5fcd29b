// ES|QL's data: a row is a cell per column; a cell holds no value (null),
// one, or several (a multi-valued field). Values are typed as ES|QL types
// them: boolean, long, double, keyword, datetime (nanoseconds), ip, and
// time_duration (a constant's type only).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include "core/codec.h"

namespace vigil::esql {

enum class Type : std::uint8_t { Bool, Long, Double, Keyword, Date, Ip, Duration };

struct Datum {
  Type type = Type::Keyword;
  std::int64_t i = 0;  // Bool, Long, Date (ns since the epoch), Duration (ns; months when calendar)
  double d = 0;        // Double
  std::string s;       // Keyword, Ip; Duration: the calendar unit ("month", "year", ...) or ""

  static Datum boolean(bool b) { return {Type::Bool, b ? 1 : 0, 0, {}}; }
  static Datum integer(std::int64_t v) { return {Type::Long, v, 0, {}}; }
  static Datum real(double v) { return {Type::Double, 0, v, {}}; }
  static Datum keyword(std::string v) { return {Type::Keyword, 0, 0, std::move(v)}; }
  static Datum date(std::int64_t ns) { return {Type::Date, ns, 0, {}}; }
  static Datum ip(std::string v) { return {Type::Ip, 0, 0, std::move(v)}; }
  bool numeric() const { return type == Type::Long || type == Type::Double; }
  double as_double() const { return type == Type::Double ? d : static_cast<double>(i); }
  bool operator==(const Datum&) const = default;
};

using Cell = std::vector<Datum>;  // empty: null; more than one: multi-valued

// A row's cells, and the input row it came from (`tag`, set by whoever
// feeds the plan; commands keep it, STATS makes rows of tag 0).
struct Row : std::vector<Cell> {
  using std::vector<Cell>::vector;
  std::uint64_t tag = 0;
};

inline void encode_value(Encoder& out, const Type& t) { out(static_cast<int>(t)); }
inline void decode_value(Decoder& in, Type& t) {
  int v = 0;
  in(v);
  if (v < 0 || v > static_cast<int>(Type::Duration)) in.fail();
  t = static_cast<Type>(v);
}
inline auto members(Unqualified<Datum> auto& d) { return std::tie(d.type, d.i, d.d, d.s); }
inline auto members(Unqualified<Row> auto& r) {
  using Cells = std::conditional_t<std::is_const_v<std::remove_reference_t<decltype(r)>>, const std::vector<Cell>,
                                   std::vector<Cell>>;
  return std::tie(static_cast<Cells&>(r), r.tag);
}

// Orders two values: numbers by value, keywords by bytes (code points),
// dates by time, IPs by address; values of unrelated types by type. Used by
// SORT, MIN/MAX, MV_MIN/MV_MAX and VALUES.
int compare_datums(const Datum& a, const Datum& b);
// The value's text as TO_STRING writes it.
std::string datum_text(const Datum& d);
// A byte string that is equal for equal values (group keys, COUNT_DISTINCT).
void append_key(std::string& out, const Cell& cell);
// JSON: null, the value, or an array of the values.
void append_cell_json(std::string& out, const Cell& cell);
// {"column": value, ...} in layout order (dotted names kept as written).
std::string row_json(const std::vector<std::string>& columns, const Row& row);
// The same columns as nested objects ({"host": {"name": ...}}), for alert sources.
std::string row_json_nested(const std::vector<std::string>& columns, const Row& row);

}  // namespace vigil::esql
