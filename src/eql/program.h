// Program: the compiled, executable form of an event query (its symbolic
// twin is EventQuery in ast.h). A flat array of typed instructions with
// pre-folded constants, compiled wildcard sets and RE2 programs; evaluation
// is a switch over opcodes with no allocation except for strings that
// functions build (in a per-event scratch arena).
#pragma once

#include <re2/re2.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/arena.h"
#include "core/event.h"
#include "core/field_registry.h"
#include "core/string_table.h"
#include "core/wildcard.h"
#include "core/wildcard_set.h"
#include "eql/ast.h"
#include "eql/functions.h"

namespace vigil::eql {

enum class OpCode : std::uint8_t {
  Constant,    // constants[arg]
  Field,       // event.get(arg)
  Not,
  And,         // n-ary, children ordered cheapest first
  Or,
  Compare,     // children[0] <sub> children[1]; sub is CompareOp (Eq/Lt/...)
  IsNull,      // children[0] is null / missing (or an empty array)
  Arith,       // sub is ArithOp
  Negate,
  InList,      // children[0] in (children[1..]) — general form
  InSet,       // children[0] in sets[arg] — all-constant list
  Wildcard,    // children[0] matches any of patterns[arg]
  Regex,       // children[0] matches any of regexes[arg] (full match)
  Call,        // functions[arg](children...)
  Keywords,    // some text value of the event (any field) matches any of patterns[arg]: _keywords(...)
};

enum InstrFlags : std::uint8_t {
  kInsensitive = 1,  // fold case when comparing text
  kTwoValued = 2,    // a predicate Elasticsearch runs as a query: missing → false, never null
  kNullSafe = 4,     // equality on an ?optional field: null equals null (Elasticsearch folds absent
                     // optional fields to the null literal, and `null == x` means `x is null`)
};

struct Instr {
  OpCode op;
  std::uint8_t flags = 0;
  std::uint8_t sub = 0;
  std::uint32_t arg = 0;
  std::uint32_t first_child = 0;  // index into Program::children
  std::uint32_t child_count = 0;
  SourcePos pos;  // where it came from (for --explain)
};

// Constant set for `in`: exact strings (folded when insensitive) and numbers.
struct ConstantSet {
  StringSet strings;
  std::vector<double> numbers;
  std::vector<bool> bools;
  bool has_null = false;
};

struct CompileOptions {
  std::string event_category_field = "event.category";
  // Endgame "case-insensitive mode": every string comparison and function
  // behaves like its `~` form. Used by conformance cases flagged case_insensitive.
  bool case_insensitive = false;
};

struct Program {
  std::vector<Instr> instrs;
  std::vector<std::uint32_t> children;
  std::uint32_t root = 0;
  std::vector<Value> constants;
  std::deque<std::string> strings;  // owns the text of constants
  std::vector<std::vector<WildcardPattern>> patterns;
  std::vector<std::unique_ptr<AdaptiveWildcards>> wildcard_scans;  // per patterns[i]: how to test them
  std::vector<std::vector<std::unique_ptr<RE2>>> regexes;
  std::vector<ConstantSet> sets;
  std::vector<const FunctionSpec*> functions;
  std::vector<Pipe> pipes;

  std::string source;  // the query text
  std::string category;  // empty for `any`
};

// Per-thread evaluation state: the scratch arena holds strings functions
// build; it is reset for every event.
struct EvalContext {
  Arena scratch{4096};
  WildcardScratch wildcards;
};

// True when the event satisfies the query's condition (category included).
bool matches(const Program& program, const Event& event, EvalContext& context);
// Evaluates instruction `index` (exposed for tests).
Value evaluate(const Program& program, std::uint32_t index, const Event& event, EvalContext& context);

}  // namespace vigil::eql
