// Values, ordering and JSON for ES|QL rows.
#include "esql/row.h"

#include <cmath>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "core/document.h"
#include "core/text.h"
#include "core/timestamp.h"
#include "core/value.h"

namespace vigil::esql {

int compare_datums(const Datum& a, const Datum& b) {
  auto sign = [](auto x, auto y) { return x < y ? -1 : x > y ? 1 : 0; };
  if (a.numeric() && b.numeric()) {
    if (a.type == Type::Long && b.type == Type::Long) return sign(a.i, b.i);
    return sign(a.as_double(), b.as_double());
  }
  if (a.type != b.type) return sign(static_cast<int>(a.type), static_cast<int>(b.type));
  switch (a.type) {
    case Type::Keyword: return sign(a.s.compare(b.s), 0);
    case Type::Ip: {
      auto x = parse_ip(a.s), y = parse_ip(b.s);
      if (x && y) return sign(x->bytes, y->bytes);
      return sign(a.s.compare(b.s), 0);
    }
    default: return sign(a.i, b.i);
  }
}

std::string datum_text(const Datum& d) {
  switch (d.type) {
    case Type::Bool: return d.i ? "true" : "false";
    case Type::Long: return std::to_string(d.i);
    case Type::Double: {
      if (std::isfinite(d.d) && d.d == std::floor(d.d) && std::fabs(d.d) < 1e15) return fmt::format("{:.1f}", d.d);
      return fmt::format("{}", d.d);
    }
    case Type::Date: {
      // ES|QL's datetime is millisecond precision.
      const std::int64_t ms = d.i / 1000000 - (d.i % 1000000 < 0 ? 1 : 0);
      return format_timestamp(ms * 1000000);
    }
    case Type::Duration: return d.s.empty() ? format_duration(d.i) : fmt::format("{} {}", d.i, d.s);
    case Type::Keyword:
    case Type::Ip: return d.s;
  }
  return {};
}

void append_key(std::string& out, const Cell& cell) {
  out += static_cast<char>('0' + std::min<std::size_t>(cell.size(), 9));
  for (const Datum& d : cell) {
    // Numbers compare by value across long and double: 2 and 2.0 are one group.
    if (d.numeric() && d.as_double() == std::floor(d.as_double()) && std::fabs(d.as_double()) < 9e15) {
      out += 'n';
      out += std::to_string(static_cast<std::int64_t>(d.as_double()));
    } else {
      out += static_cast<char>('a' + static_cast<int>(d.type));
      out += datum_text(d);
    }
    out += '\x1f';
  }
  out += '\x1e';
}

namespace {
void append_datum_json(std::string& out, const Datum& d) {
  switch (d.type) {
    case Type::Bool:
    case Type::Long: out += datum_text(d); break;
    case Type::Double:
      if (std::isfinite(d.d)) {
        out += datum_text(d);
      } else {
        out += "null";
      }
      break;
    default: append_json_string(out, datum_text(d));
  }
}
}  // namespace

void append_cell_json(std::string& out, const Cell& cell) {
  if (cell.empty()) {
    out += "null";
  } else if (cell.size() == 1) {
    append_datum_json(out, cell[0]);
  } else {
    out += '[';
    for (std::size_t i = 0; i < cell.size(); ++i) {
      if (i) out += ',';
      append_datum_json(out, cell[i]);
    }
    out += ']';
  }
}

std::string row_json(const std::vector<std::string>& columns, const Row& row) {
  std::string out = "{";
  for (std::size_t c = 0; c < columns.size() && c < row.size(); ++c) {
    if (c) out += ',';
    append_json_string(out, columns[c]);
    out += ':';
    append_cell_json(out, row[c]);
  }
  return out + "}";
}

std::string row_json_nested(const std::vector<std::string>& columns, const Row& row) {
  std::vector<std::pair<std::string, std::string>> members;
  for (std::size_t c = 0; c < columns.size() && c < row.size(); ++c) {
    if (row[c].empty()) continue;  // ES|QL's null columns are left out of the alert
    std::string json;
    append_cell_json(json, row[c]);
    members.emplace_back(columns[c], std::move(json));
  }
  return nested_json_object(members);
}

}  // namespace vigil::esql
