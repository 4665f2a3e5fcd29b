// Compiler: parse → analyze → compile an EQL event query into a Program.
// Compiling registers every field the query reads in the FieldRegistry,
// which is how the reader learns its projection.
#pragma once

#include <string>
#include <string_view>

#include "core/field_registry.h"
#include "core/result.h"
#include "eql/analyzer.h"
#include "eql/program.h"

namespace vigil::eql {

struct CompiledQuery {
  std::unique_ptr<Program> program;
  Analysis analysis;
};

Result<CompiledQuery> compile_query(std::string_view text, FieldRegistry& fields, const CompileOptions& options = {});

// Compiles a bare expression (no `category where`); used by function tests.
Result<CompiledQuery> compile_expression(std::string_view text, FieldRegistry& fields,
                                         const CompileOptions& options = {});

// Human-readable plan: instructions as a tree, with flags and costs.
std::string explain(const Program& program, const FieldRegistry& fields);

}  // namespace vigil::eql
