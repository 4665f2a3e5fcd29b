// libFuzzer target: the ES|QL parser, compiler and evaluator (the queries of
// Elastic's esql rules). Any text parses or is rejected with a position
// inside it; deep nesting is an error, never a stack overflow. A query that
// compiles then runs over rows built from the input itself (keywords, numbers,
// dates, multi-values, nulls): it yields rows or none, never crashes or hangs
// (regexes are RE2, every loop is bounded by the rows and their values).
#include <cstddef>
#include <cstdint>
#include <string>

#include "esql/parser.h"
#include "esql/plan.h"

using namespace vigil;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto q = esql::parse_query(text);
  if (!q) {
    if (q.error().pos.offset > text.size()) __builtin_trap();
    (void)format_error(q.error(), "<esql>", text);
    return 0;
  }
  if (q->commands.empty() || q->commands[0].kind != esql::Command::Kind::From) __builtin_trap();
  auto plan = esql::compile_plan(*q);
  if (!plan) {
    if (plan.error().pos.offset > text.size()) __builtin_trap();
    (void)format_error(plan.error(), "<esql>", text);
    return 0;
  }
  // Rows: each source column gets a value of a type chosen by its position.
  esql::RunContext context{1714557600000000000};
  std::vector<esql::Row> rows;
  for (std::size_t r = 0; r < 4; ++r) {
    esql::Row row;
    for (std::size_t c = 0; c < plan->source_fields().size(); ++c) {
      esql::Cell cell;
      const std::size_t at = (r * 7 + c * 13) % (text.size() + 1);
      switch ((r + c) % 6) {
        case 0: cell.push_back(esql::Datum::keyword(text.substr(at, 24))); break;
        case 1: cell.push_back(esql::Datum::integer(static_cast<std::int64_t>(at) - 3)); break;
        case 2: cell.push_back(esql::Datum::date(context.now - static_cast<std::int64_t>(at) * 60000000000)); break;
        case 3:
          cell.push_back(esql::Datum::keyword(text.substr(0, at % 9)));
          cell.push_back(esql::Datum::real(static_cast<double>(at) / 3));
          break;
        case 4: cell.push_back(esql::Datum::ip(r % 2 ? "10.0.0.1" : "::1")); break;
        default: break;  // null
      }
      row.push_back(std::move(cell));
    }
    plan->stream(std::move(row), rows, context);
  }
  std::vector<esql::Row> out = plan->finish(std::move(rows), context);
  for (const esql::Row& r : out) {
    if (r.size() != plan->columns().size()) __builtin_trap();
    (void)esql::row_json(plan->columns(), r);
    (void)esql::row_json_nested(plan->columns(), r);
  }
  return 0;
}
