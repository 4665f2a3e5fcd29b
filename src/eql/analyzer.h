// Analyzer: checks a parsed query before it is compiled — function names,
// arities and argument types, operand types of literals, pattern and regex
// validity — and collects the fields the query reads. Fields have no schema
// here (NDJSON is schemaless), so a field's type is only known at run time;
// literal types are checked statically, as Elasticsearch's verifier does.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "eql/ast.h"

namespace vigil::eql {

enum class StaticType : std::uint8_t { Unknown, Null, Bool, Number, Integer, String };

struct FieldUse {
  std::string name;
  bool optional;  // written as ?name
};

struct Analysis {
  std::vector<FieldUse> fields;  // in first-use order, unique by name
};

Result<Analysis> analyze(const EventQuery& query);
Result<Analysis> analyze_expression(const Node& node);

}  // namespace vigil::eql
