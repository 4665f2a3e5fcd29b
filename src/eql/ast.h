// AST: the symbolic form of an EQL query as the parser produced it. Every
// node keeps its source span for error messages. Nothing evaluates an AST:
// the compiler (compiler.h) turns it into a Program.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace vigil::eql {

enum class NodeKind : std::uint8_t {
  Null, Bool, Integer, Decimal, String,  // literals
  Field,
  Not, And, Or,
  Compare,    // == != < <= > >= and ':' '!:' against a non-pattern operand
  Arithmetic, // + - * / %
  Negate,
  In,         // x in (a, b) / in~ / not in
  Match,      // x : "pat*" / like / like~ / regex / regex~ with constant patterns
  Call,
};

enum class CompareOp : std::uint8_t { Eq, Neq, Lt, Lte, Gt, Gte, Seq, NotSeq };
enum class ArithOp : std::uint8_t { Add, Sub, Mul, Div, Mod };
enum class MatchOp : std::uint8_t { Seq, Like, LikeInsensitive, Regex, RegexInsensitive };

std::string_view compare_op_text(CompareOp op);
std::string_view arith_op_text(ArithOp op);
std::string_view match_op_text(MatchOp op);

struct Node {
  NodeKind kind;
  SourcePos pos;
  std::uint32_t length = 1;  // source bytes spanned

  // payload (which members are meaningful depends on kind)
  bool bool_value = false;
  std::int64_t int_value = 0;
  double decimal_value = 0;
  std::string text;       // String value, Field name, Call name
  bool optional = false;  // ?field
  bool insensitive = false;  // in~, call~
  bool negated = false;      // not in, !:
  CompareOp compare = CompareOp::Eq;
  ArithOp arith = ArithOp::Add;
  MatchOp match = MatchOp::Seq;
  std::vector<std::unique_ptr<Node>> children;

  Node(NodeKind k, SourcePos p) : kind(k), pos(p) {}
  bool is_literal() const { return kind <= NodeKind::String; }
};

using NodePtr = std::unique_ptr<Node>;

struct Pipe {
  enum class Kind { Head, Tail } kind;
  std::int64_t count;
  SourcePos pos;
};

struct EventQuery {
  std::string category;   // empty with `any`
  SourcePos category_pos;
  NodePtr condition;
  std::vector<Pipe> pipes;
};

// A join key: a field, optionally written `?field` (then null is a valid key value).
struct JoinKey {
  std::string field;
  bool optional = false;
  SourcePos pos;
  std::uint32_t length = 1;
};

// One bracketed term of a sequence or sample: `[category where cond] by k with runs=N`,
// or `![...]` / `-[...]` for an event that must not occur.
struct Stage {
  EventQuery filter;
  std::vector<JoinKey> keys;
  std::int64_t runs = 1;
  bool missing = false;
  SourcePos pos;
};

struct SequenceQuery {
  std::vector<JoinKey> keys;           // sequence by ...
  std::optional<std::int64_t> maxspan_ns;
  std::vector<Stage> stages;
  std::optional<Stage> until;
  std::vector<Pipe> pipes;
};

struct SampleQuery {
  std::vector<JoinKey> keys;  // sample by ...
  std::vector<Stage> stages;
  std::vector<Pipe> pipes;
};

struct Query {
  enum class Kind { Event, Sequence, Sample } kind = Kind::Event;
  EventQuery event;
  SequenceQuery sequence;
  SampleQuery sample;
};

// Renders an expression back as EQL (canonical spacing), for --explain.
std::string to_eql(const Node& node);

}  // namespace vigil::eql
