// Compiler: parse → analyze → compile an EQL event query into a Program.
// Compiling registers every field the query reads in the FieldRegistry,
// which is how the reader learns its projection.
#pragma once

#include <optional>
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

// One term of a sequence or sample, compiled: its filter, its join key
// fields (sequence-level keys first), and whether it is a missing event.
struct StageProgram {
  std::shared_ptr<const Program> filter;  // shared by the copies `with runs=N` makes
  std::vector<FieldId> keys;
  std::vector<bool> key_optional;
  bool missing = false;
};

// A compiled sequence (or sample): terms with `runs` expanded.
struct SequenceProgram {
  std::vector<StageProgram> stages;
  std::optional<StageProgram> until;
  std::int64_t maxspan_ns = -1;  // -1: no maxspan
  std::size_t key_count = 0;
  std::vector<Pipe> pipes;
  std::string source;
};

struct CompiledAnyQuery {
  Query::Kind kind = Query::Kind::Event;
  std::unique_ptr<Program> event;              // kind == Event
  std::unique_ptr<SequenceProgram> sequence;   // kind == Sequence
  std::unique_ptr<SequenceProgram> sample;     // kind == Sample
  Analysis analysis;
};

// The event programs of a query: the query itself, or every term of a
// sequence or sample (missing and `until` terms included), in order.
std::vector<const Program*> term_programs(const CompiledAnyQuery& query);

// Compiles an event query, a sequence or a sample.
Result<CompiledAnyQuery> compile_any_query(std::string_view text, FieldRegistry& fields,
                                           const CompileOptions& options = {});

Result<CompiledQuery> compile_query(std::string_view text, FieldRegistry& fields, const CompileOptions& options = {});

// Compiles a bare expression (no `category where`); used by function tests.
Result<CompiledQuery> compile_expression(std::string_view text, FieldRegistry& fields,
                                         const CompileOptions& options = {});

// Human-readable plan: instructions as a tree, with flags and costs.
std::string explain(const Program& program, const FieldRegistry& fields);
std::string explain(const SequenceProgram& program, const FieldRegistry& fields);

}  // namespace vigil::eql
