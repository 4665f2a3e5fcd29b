// Built-in EQL functions of the Elasticsearch dialect: their signatures (for
// the analyzer) and implementations (for the evaluator). Functions take
// already-evaluated arguments and never see fields or events.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "core/arena.h"
#include "core/value.h"

namespace vigil::eql {

enum class ArgType : std::uint8_t { Any, String, Number, Integer, Bool, Constant };
enum class ResultType : std::uint8_t { Any, String, Number, Integer, Bool };

using FunctionImpl = Value (*)(std::span<const Value> args, bool insensitive, Arena& scratch);

struct FunctionSpec {
  std::string_view name;        // canonical camelCase name
  std::uint8_t min_args;
  std::uint8_t max_args;        // 255 = variadic
  bool has_insensitive;         // accepts the `~` suffix
  ResultType result;
  ArgType arg_types[4];         // types of the first arguments; the last repeats
  FunctionImpl impl;
  std::uint8_t variadic_declared = 0;  // variadic: how many arg_types are declared
};

// Looks a function up by name, case-insensitively (`cidrmatch` == `cidrMatch`).
const FunctionSpec* find_function(std::string_view name);
std::span<const FunctionSpec> all_functions();

}  // namespace vigil::eql

namespace vigil::eql {
// Arithmetic of the + - * / % operators and add/subtract/...: long op long is
// a long (division truncates, overflow widens to double), anything with a
// double is a double; non-numbers and division by zero give null.
Value arithmetic(char op, const Value& x, const Value& y);
}  // namespace vigil::eql
