// AST printing: canonical EQL text for a node, used by --explain.
#include "eql/ast.h"

#include <fmt/format.h>

#include <cctype>

#include "core/value.h"

namespace vigil::eql {

std::string_view compare_op_text(CompareOp op) {
  switch (op) {
    case CompareOp::Eq: return "==";
    case CompareOp::Neq: return "!=";
    case CompareOp::Lt: return "<";
    case CompareOp::Lte: return "<=";
    case CompareOp::Gt: return ">";
    case CompareOp::Gte: return ">=";
    case CompareOp::Seq: return ":";
    case CompareOp::NotSeq: return "!:";
  }
  return "?";
}

std::string_view arith_op_text(ArithOp op) {
  switch (op) {
    case ArithOp::Add: return "+";
    case ArithOp::Sub: return "-";
    case ArithOp::Mul: return "*";
    case ArithOp::Div: return "/";
    case ArithOp::Mod: return "%";
  }
  return "?";
}

std::string_view match_op_text(MatchOp op) {
  switch (op) {
    case MatchOp::Seq: return ":";
    case MatchOp::Like: return "like";
    case MatchOp::LikeInsensitive: return "like~";
    case MatchOp::Regex: return "regex";
    case MatchOp::RegexInsensitive: return "regex~";
  }
  return "?";
}

namespace {
std::string quote(const std::string& s) {
  std::string out;
  append_json_string(out, s);
  return out;
}
std::string field_text(const Node& n) {
  bool plain = !n.text.empty();
  for (char c : n.text) plain &= (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '@' || c == '.');
  return std::string(n.optional ? "?" : "") + (plain ? n.text : "`" + n.text + "`");
}
std::string list(const Node& n, std::size_t from) {
  std::string out = "(";
  for (std::size_t i = from; i < n.children.size(); ++i) {
    if (i > from) out += ", ";
    out += to_eql(*n.children[i]);
  }
  return out + ")";
}
}  // namespace

std::string to_eql(const Node& n) {
  switch (n.kind) {
    case NodeKind::Null: return "null";
    case NodeKind::Bool: return n.bool_value ? "true" : "false";
    case NodeKind::Integer: return fmt::format("{}", n.int_value);
    case NodeKind::Decimal: return fmt::format("{}", n.decimal_value);
    case NodeKind::String: return quote(n.text);
    case NodeKind::Field: return field_text(n);
    case NodeKind::Not: return "not " + to_eql(*n.children[0]);
    case NodeKind::And: return "(" + to_eql(*n.children[0]) + " and " + to_eql(*n.children[1]) + ")";
    case NodeKind::Or: return "(" + to_eql(*n.children[0]) + " or " + to_eql(*n.children[1]) + ")";
    case NodeKind::Compare:
      return to_eql(*n.children[0]) + " " + std::string(compare_op_text(n.compare)) + " " + to_eql(*n.children[1]);
    case NodeKind::Arithmetic:
      return "(" + to_eql(*n.children[0]) + " " + std::string(arith_op_text(n.arith)) + " " + to_eql(*n.children[1]) + ")";
    case NodeKind::Negate: return "-" + to_eql(*n.children[0]);
    case NodeKind::In:
      return to_eql(*n.children[0]) + (n.negated ? " not in" : " in") + (n.insensitive ? "~ " : " ") + list(n, 1);
    case NodeKind::Match:
      return to_eql(*n.children[0]) + (n.negated ? " !" : " ") + std::string(match_op_text(n.match)) + " " +
             (n.children.size() == 2 ? to_eql(*n.children[1]) : list(n, 1));
    case NodeKind::Call: return n.text + (n.insensitive ? "~" : "") + list(n, 0);
  }
  return "?";
}

}  // namespace vigil::eql
