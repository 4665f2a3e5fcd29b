// The symbolic form of an ES|QL query: a source command (FROM) and a
// pipeline of processing commands, each expression with the position it was
// written at, so every error can name line and column. Parsed by
// esql/parser.h; nothing evaluates this tree directly.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"

namespace vigil::esql {

struct Expr {
  enum class Kind {
    Null,
    Bool,      // text "true" / "false"
    Integer,   // integer
    Decimal,   // decimal
    String,    // text
    Duration,  // integer + text (the unit as written: "minute", "days", "h", ...)
    Field,     // text: the dotted name, backquoted parts unquoted
    Star,      // COUNT(*)
    Call,      // text: the function name, lower case; args (`field : "query"` is match(field, "query"))
    Unary,     // text: "not" or "-"; args[0]
    Binary,    // text: and, or, ==, !=, <, <=, >, >=, +, -, *, /, %; args[0], args[1]
    In,        // args[0] IN (args[1..]); negated
    IsNull,    // args[0] IS [NOT] NULL; negated = IS NOT NULL
    Like,      // args[0] LIKE / RLIKE args[1..] (strings; several: any of them); text "like" or "rlike"; negated
    Cast,      // args[0]::text
    Map,       // { "key": value, ... } (function options): args alternate key (String) and value
  };
  Kind kind = Kind::Null;
  SourcePos pos;
  std::string text;
  std::int64_t integer = 0;
  double decimal = 0;
  bool negated = false;
  std::vector<std::unique_ptr<Expr>> args;
};

struct Assignment {  // name = expr, or expr alone (the name is then the expression as written)
  std::string name;
  SourcePos pos;
  std::unique_ptr<Expr> expr;
};

struct SortKey {
  std::unique_ptr<Expr> expr;
  bool descending = false;
  bool nulls_first = false;  // ES|QL's default: nulls last ascending, first descending
  bool nulls_given = false;
};

struct Command {
  enum class Kind { From, Where, Eval, Stats, InlineStats, Keep, Drop, Rename, Sort, Limit, Grok, Dissect, MvExpand };
  Kind kind = Kind::From;
  SourcePos pos;
  std::vector<std::string> names;       // FROM index patterns; KEEP / DROP field patterns; MV_EXPAND field
  std::vector<std::string> metadata;    // FROM ... METADATA _id, _index
  std::unique_ptr<Expr> expr;           // WHERE condition; GROK / DISSECT input
  std::vector<Assignment> assignments;  // EVAL; [INLINE] STATS aggregates
  std::vector<Assignment> by;           // [INLINE] STATS ... BY
  std::vector<SortKey> sort;
  std::int64_t limit = 0;
  std::string pattern;                                       // GROK / DISSECT pattern
  std::string separator;                                     // DISSECT APPEND_SEPARATOR
  std::vector<std::pair<std::string, std::string>> renames;  // RENAME old AS new
};

struct Query {
  std::vector<Command> commands;  // commands[0] is FROM
};

std::string_view command_name(Command::Kind kind);

}  // namespace vigil::esql
