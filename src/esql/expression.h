// Compiled ES|QL expressions: an operator or function tree whose fields are
// column positions, constants are values and regexes are compiled RE2
// programs. Evaluation follows ES|QL's null and multi-value rules: a null
// operand makes an operator or single-value function null; a multi-valued
// operand where one value is wanted makes it null too (ES|QL warns there);
// MV_* functions and COALESCE / IS NULL take cells whole; AND / OR / NOT are
// three-valued. Comparisons of a keyword with a number or a date convert the
// keyword (vigil reads events without index mappings, so `event.code == 4104`
// and `winlog.event_id == "4624"` both mean what the rule's author meant).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "esql/ast.h"
#include "esql/plan.h"
#include "esql/row.h"

namespace vigil::esql {

struct Node;

class Expression {
 public:
  explicit Expression(std::unique_ptr<Node> root);
  Expression(Expression&&) noexcept;
  Expression& operator=(Expression&&) noexcept;
  ~Expression();
  Cell eval(const Row& row, const RunContext& context) const;
  // WHERE: true only for a single true value.
  bool test(const Row& row, const RunContext& context) const;

 private:
  std::unique_ptr<Node> root_;
};

// Compiles `e` over a row of `columns`. Aggregate functions are refused here
// (STATS compiles them, see is_aggregate()).
Result<Expression> compile_expression(const Expr& e, const std::vector<std::string>& columns);
bool is_aggregate(std::string_view function);

// A Datum from a literal or a conversion target name ("double", "integer", "ip", ...).
Cell convert_cell(const Cell& cell, std::string_view target);

// ES|QL's `match` / `:` on a field holding `value`: tokens for text fields
// (message, powershell.file.script_block_text, ...), the whole value for
// keywords (within `fuzziness` edits when given).
bool full_text_field(std::string_view field);

}  // namespace vigil::esql
