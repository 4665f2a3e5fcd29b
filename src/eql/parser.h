// Parser: tokens to AST for the Elasticsearch EQL dialect. Hand-written
// recursive descent with one function per precedence level (lowest first:
// or, and, not, comparison/predicate, + -, * / %, unary, primary).
#pragma once

#include <string_view>

#include "core/result.h"
#include "eql/ast.h"

namespace vigil::eql {

Result<EventQuery> parse_query(std::string_view source);
// Parses any query: an event query, a sequence or a sample.
Result<Query> parse_any_query(std::string_view source);
// Parses a bare expression (no `category where`), e.g. for function tests.
Result<NodePtr> parse_expression(std::string_view source);

}  // namespace vigil::eql
