// ES|QL text → esql::Query (esql/ast.h): a hand-written lexer and
// recursive-descent parser for the commands and expressions of Elastic's
// ES|QL detection rules (FROM ... METADATA, WHERE, EVAL, STATS ... BY, KEEP,
// DROP, RENAME, SORT, LIMIT, GROK, DISSECT, MV_EXPAND; operators, IN,
// IS [NOT] NULL, LIKE / RLIKE, function calls, durations). Keywords are
// case-insensitive, as in ES|QL. Anything else is an error that names the
// line, the column and what was expected (code esql.syntax), or the command
// vigil does not know (esql.unsupported).
#pragma once

#include <string_view>

#include "core/result.h"
#include "esql/ast.h"

namespace vigil::esql {

Result<Query> parse_query(std::string_view text);

}  // namespace vigil::esql
