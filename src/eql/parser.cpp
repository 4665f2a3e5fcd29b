// Recursive-descent EQL parser. Errors name the offending token and what was
// expected; endgame-only constructs get messages that say what to use instead.
#include "eql/parser.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

#include "eql/lexer.h"

namespace vigil::eql {
namespace {

constexpr std::size_t kMaxNesting = 200;  // deeper queries are rejected, not stack-overflowed

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  Result<EventQuery> query() {
    EventQuery q;
    const Token& first = cur();
    switch (first.kind) {
      case TokenKind::Sequence:
      case TokenKind::Sample:
        return unsupported(first, fmt::format("{} queries are not supported yet by this build of vigil; only event queries "
                                              "(`<category> where <condition>`) are", first.text));
      case TokenKind::Join:
        return unsupported(first, "join is an endgame EQL construct that Elasticsearch does not support; use sequence");
      case TokenKind::Any:
        advance();
        break;
      case TokenKind::Identifier:
      case TokenKind::String:
      case TokenKind::QuotedField:
        q.category = first.text;
        q.category_pos = first.pos;
        advance();
        break;
      default:
        return expected("an event category (e.g. process, file, any) to start the query");
    }
    if (cur().kind != TokenKind::Where) return expected("'where' after the event category");
    advance();
    auto cond = expression();
    if (!cond) return cond.error();
    q.condition = std::move(cond.value());
    while (cur().kind == TokenKind::Pipe) {
      advance();
      const Token& name = cur();
      if (name.kind != TokenKind::Identifier) return expected("a pipe name (head or tail)");
      Pipe pipe{Pipe::Kind::Head, 0, name.pos};
      if (name.text == "head") {
        pipe.kind = Pipe::Kind::Head;
      } else if (name.text == "tail") {
        pipe.kind = Pipe::Kind::Tail;
      } else {
        return unsupported(name, fmt::format("pipe '{}' is not supported by the Elasticsearch EQL dialect; use head or tail",
                                             name.text));
      }
      advance();
      if (cur().kind != TokenKind::Integer) return expected(fmt::format("a number of events after '{}'", name.text));
      auto n = parse_int(cur());
      if (!n || *n < 0) return error_at(cur(), "eql.syntax", "the event count must be a non-negative integer");
      pipe.count = *n;
      advance();
      q.pipes.push_back(pipe);
    }
    if (cur().kind != TokenKind::End) return expected("end of query, 'and', 'or' or '|'");
    return q;
  }

  Result<NodePtr> bare_expression() {
    auto e = expression();
    if (!e) return e;
    if (cur().kind != TokenKind::End) return expected("end of expression");
    return e;
  }

 private:
  const Token& cur() const { return tokens_[pos_]; }
  const Token& peek(std::size_t n = 1) const { return tokens_[std::min(pos_ + n, tokens_.size() - 1)]; }
  void advance() {
    if (pos_ + 1 < tokens_.size()) ++pos_;
  }
  std::uint32_t end_of_prev() const {
    const Token& t = tokens_[pos_ == 0 ? 0 : pos_ - 1];
    return t.pos.offset + t.length;
  }

  Error error_at(const Token& tok, std::string code, std::string message) const {
    return Error{std::move(code), std::move(message), tok.pos, std::max<std::uint32_t>(1, tok.length)};
  }
  Error expected(const std::string& what) const {
    const Token& t = cur();
    std::string found = t.kind == TokenKind::End ? "end of query"
                        : t.text.empty()          ? std::string(token_kind_name(t.kind))
                                                  : fmt::format("'{}'", t.text);
    return error_at(t, "eql.syntax", fmt::format("expected {}, found {}", what, found));
  }
  Error unsupported(const Token& tok, std::string message) const {
    return error_at(tok, "eql.unsupported", std::move(message));
  }

  static std::optional<std::int64_t> parse_int(const Token& t) {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
    if (ec != std::errc() || p != t.text.data() + t.text.size()) return std::nullopt;
    return v;
  }

  NodePtr make(NodeKind kind, const Token& at) {
    auto n = std::make_unique<Node>(kind, at.pos);
    n->length = at.length;
    return n;
  }
  void span_to_here(Node& n) const { n.length = std::max<std::uint32_t>(1, end_of_prev() - n.pos.offset); }

  struct DepthGuard {
    std::size_t& depth;
    explicit DepthGuard(std::size_t& d) : depth(d) { ++depth; }
    ~DepthGuard() { --depth; }
  };

  Result<NodePtr> expression() {
    DepthGuard guard(depth_);
    if (depth_ > kMaxNesting) return error_at(cur(), "eql.syntax", "query nests too deeply");
    return or_expr();
  }

  Result<NodePtr> or_expr() {
    auto left = and_expr();
    if (!left) return left;
    while (cur().kind == TokenKind::Or) {
      advance();
      auto right = and_expr();
      if (!right) return right;
      left = binary(NodeKind::Or, std::move(left.value()), std::move(right.value()));
    }
    return left;
  }

  Result<NodePtr> and_expr() {
    auto left = not_expr();
    if (!left) return left;
    while (cur().kind == TokenKind::And) {
      advance();
      auto right = not_expr();
      if (!right) return right;
      left = binary(NodeKind::And, std::move(left.value()), std::move(right.value()));
    }
    return left;
  }

  NodePtr binary(NodeKind kind, NodePtr left, NodePtr right) {
    auto n = std::make_unique<Node>(kind, left->pos);
    n->length = std::max<std::uint32_t>(1, right->pos.offset + right->length - left->pos.offset);
    n->children.push_back(std::move(left));
    n->children.push_back(std::move(right));
    return n;
  }

  Result<NodePtr> not_expr() {
    DepthGuard guard(depth_);
    if (depth_ > kMaxNesting) return error_at(cur(), "eql.syntax", "query nests too deeply");
    if (cur().kind == TokenKind::Not) {
      auto n = make(NodeKind::Not, cur());
      advance();
      auto inner = not_expr();
      if (!inner) return inner;
      n->children.push_back(std::move(inner.value()));
      span_to_here(*n);
      return n;
    }
    if (cur().kind == TokenKind::Identifier && peek().kind == TokenKind::Of) {
      return unsupported(cur(), fmt::format("'{} of' (endgame process lineage) is not supported by the Elasticsearch "
                                            "EQL dialect; correlate with a sequence by process.entity_id instead",
                                            cur().text));
    }
    return value_expr();
  }

  static bool is_constant_token(TokenKind k) {
    return k == TokenKind::String || k == TokenKind::Integer || k == TokenKind::Decimal || k == TokenKind::True ||
           k == TokenKind::False || k == TokenKind::Null;
  }

  // After ':' (or like/regex): one constant, or a parenthesised list of constants.
  // Returns nullopt (and leaves the position) when what follows is not that form.
  std::optional<std::vector<NodePtr>> constant_operands() {
    std::size_t save = pos_;
    std::vector<NodePtr> out;
    if (is_constant_token(cur().kind) && !is_arith_continuation(peek().kind)) {
      out.push_back(literal(cur()));
      advance();
      return out;
    }
    if (cur().kind != TokenKind::LParen) return std::nullopt;
    advance();
    for (;;) {
      if (!is_constant_token(cur().kind)) {
        pos_ = save;
        return std::nullopt;
      }
      out.push_back(literal(cur()));
      advance();
      if (cur().kind == TokenKind::Comma) {
        advance();
        continue;
      }
      if (cur().kind == TokenKind::RParen) {
        advance();
        return out;
      }
      pos_ = save;
      return std::nullopt;
    }
  }

  static bool is_arith_continuation(TokenKind k) {
    return k == TokenKind::Plus || k == TokenKind::Minus || k == TokenKind::Star || k == TokenKind::Slash ||
           k == TokenKind::Percent;
  }

  NodePtr literal(const Token& t) {
    switch (t.kind) {
      case TokenKind::String: {
        auto n = make(NodeKind::String, t);
        n->text = t.text;
        return n;
      }
      case TokenKind::Integer: {
        if (auto v = parse_int(t)) {
          auto n = make(NodeKind::Integer, t);
          n->int_value = *v;
          return n;
        }
        auto n = make(NodeKind::Decimal, t);  // beyond int64: keep as a number
        n->decimal_value = std::strtod(t.text.c_str(), nullptr);
        return n;
      }
      case TokenKind::Decimal: {
        auto n = make(NodeKind::Decimal, t);
        n->decimal_value = std::strtod(t.text.c_str(), nullptr);
        return n;
      }
      case TokenKind::True:
      case TokenKind::False: {
        auto n = make(NodeKind::Bool, t);
        n->bool_value = t.kind == TokenKind::True;
        return n;
      }
      default: return make(NodeKind::Null, t);
    }
  }

  Result<NodePtr> value_expr() {
    auto left = operator_expr();
    if (!left) return left;
    const Token& op = cur();
    switch (op.kind) {
      case TokenKind::Eq:
      case TokenKind::Neq:
      case TokenKind::Lt:
      case TokenKind::Lte:
      case TokenKind::Gt:
      case TokenKind::Gte: {
        advance();
        auto right = operator_expr();
        if (!right) return right;
        return comparison(op, std::move(left.value()), std::move(right.value()));
      }
      case TokenKind::Seq:
      case TokenKind::NotSeq: {
        advance();
        if (auto constants = constant_operands()) {
          auto n = std::make_unique<Node>(NodeKind::Match, left.value()->pos);
          n->match = MatchOp::Seq;
          n->negated = op.kind == TokenKind::NotSeq;
          n->children.push_back(std::move(left.value()));
          for (auto& c : *constants) n->children.push_back(std::move(c));
          span_to_here(*n);
          return n;
        }
        auto right = operator_expr();
        if (!right) return right;
        return comparison(op, std::move(left.value()), std::move(right.value()));
      }
      case TokenKind::Like:
      case TokenKind::LikeInsensitive:
      case TokenKind::Regex:
      case TokenKind::RegexInsensitive: {
        advance();
        auto constants = constant_operands();
        if (!constants) return expected(fmt::format("a string or a list of strings after {}", token_kind_name(op.kind)));
        auto n = std::make_unique<Node>(NodeKind::Match, left.value()->pos);
        n->match = op.kind == TokenKind::Like              ? MatchOp::Like
                   : op.kind == TokenKind::LikeInsensitive ? MatchOp::LikeInsensitive
                   : op.kind == TokenKind::Regex           ? MatchOp::Regex
                                                           : MatchOp::RegexInsensitive;
        n->children.push_back(std::move(left.value()));
        for (auto& c : *constants) n->children.push_back(std::move(c));
        span_to_here(*n);
        return n;
      }
      case TokenKind::Assign:
        return error_at(op, "eql.syntax", "use == for equality (or : for case-insensitive matching), not =");
      case TokenKind::Not:
        if (peek().kind == TokenKind::In || peek().kind == TokenKind::InInsensitive) {
          advance();
          return in_list(std::move(left.value()), true);
        }
        return left;
      case TokenKind::In:
      case TokenKind::InInsensitive: return in_list(std::move(left.value()), false);
      default: return left;
    }
  }

  Result<NodePtr> comparison(const Token& op, NodePtr left, NodePtr right) {
    auto n = std::make_unique<Node>(NodeKind::Compare, left->pos);
    switch (op.kind) {
      case TokenKind::Eq: n->compare = CompareOp::Eq; break;
      case TokenKind::Neq: n->compare = CompareOp::Neq; break;
      case TokenKind::Lt: n->compare = CompareOp::Lt; break;
      case TokenKind::Lte: n->compare = CompareOp::Lte; break;
      case TokenKind::Gt: n->compare = CompareOp::Gt; break;
      case TokenKind::Gte: n->compare = CompareOp::Gte; break;
      case TokenKind::Seq: n->compare = CompareOp::Seq; break;
      default: n->compare = CompareOp::NotSeq; break;
    }
    n->children.push_back(std::move(left));
    n->children.push_back(std::move(right));
    span_to_here(*n);
    switch (cur().kind) {
      case TokenKind::Eq: case TokenKind::Neq: case TokenKind::Lt: case TokenKind::Lte:
      case TokenKind::Gt: case TokenKind::Gte: case TokenKind::Seq: case TokenKind::NotSeq:
        return error_at(cur(), "eql.syntax", "comparisons cannot be chained; combine them with 'and'");
      default: break;
    }
    return NodePtr(std::move(n));
  }

  Result<NodePtr> in_list(NodePtr left, bool negated) {
    auto n = std::make_unique<Node>(NodeKind::In, left->pos);
    n->negated = negated;
    n->insensitive = cur().kind == TokenKind::InInsensitive;
    advance();
    if (cur().kind != TokenKind::LParen) return expected("'(' to start the list after 'in'");
    advance();
    n->children.push_back(std::move(left));
    for (;;) {
      auto item = expression();
      if (!item) return item;
      n->children.push_back(std::move(item.value()));
      if (cur().kind == TokenKind::Comma) {
        advance();
        continue;
      }
      if (cur().kind == TokenKind::RParen) {
        advance();
        break;
      }
      return expected("',' or ')' in the 'in' list");
    }
    span_to_here(*n);
    return NodePtr(std::move(n));
  }

  // One left-associative level of binary arithmetic: `operand (op operand)*`.
  // `op_of` maps the current token to its operator, or nullopt to stop.
  template <typename Operand, typename OpOf>
  Result<NodePtr> arithmetic_level(Operand operand, OpOf op_of) {
    auto left = (this->*operand)();
    if (!left) return left;
    while (auto op = op_of(cur().kind)) {
      advance();
      auto right = (this->*operand)();
      if (!right) return right;
      auto n = binary(NodeKind::Arithmetic, std::move(left.value()), std::move(right.value()));
      n->arith = *op;
      left = std::move(n);
    }
    return left;
  }

  Result<NodePtr> operator_expr() {
    return arithmetic_level(&Parser::term, [](TokenKind k) -> std::optional<ArithOp> {
      if (k == TokenKind::Plus) return ArithOp::Add;
      if (k == TokenKind::Minus) return ArithOp::Sub;
      return std::nullopt;
    });
  }

  Result<NodePtr> term() {
    return arithmetic_level(&Parser::unary, [](TokenKind k) -> std::optional<ArithOp> {
      if (k == TokenKind::Star) return ArithOp::Mul;
      if (k == TokenKind::Slash) return ArithOp::Div;
      if (k == TokenKind::Percent) return ArithOp::Mod;
      return std::nullopt;
    });
  }

  Result<NodePtr> unary() {
    DepthGuard guard(depth_);
    if (depth_ > kMaxNesting) return error_at(cur(), "eql.syntax", "query nests too deeply");
    if (cur().kind == TokenKind::Minus || cur().kind == TokenKind::Plus) {
      const Token& op = cur();
      bool minus = op.kind == TokenKind::Minus;
      advance();
      // Fold "-5" into a literal so that it prints and analyses as a number.
      if ((cur().kind == TokenKind::Integer || cur().kind == TokenKind::Decimal)) {
        auto lit = literal(cur());
        lit->pos = op.pos;
        lit->length = cur().pos.offset + cur().length - op.pos.offset;
        if (minus) {
          if (lit->kind == NodeKind::Integer) lit->int_value = -lit->int_value;
          else lit->decimal_value = -lit->decimal_value;
        }
        advance();
        return lit;
      }
      auto inner = unary();
      if (!inner) return inner;
      if (!minus) return inner;
      auto n = make(NodeKind::Negate, op);
      n->children.push_back(std::move(inner.value()));
      span_to_here(*n);
      return NodePtr(std::move(n));
    }
    return primary();
  }


  static bool is_name_token(const Token& t) {
    // After a '.', keywords are ordinary name segments (event.sequence, process.any).
    return t.kind == TokenKind::Identifier || t.kind == TokenKind::QuotedField ||
           (t.kind >= TokenKind::And && t.kind <= TokenKind::Any && !t.text.empty());
  }

  Result<NodePtr> primary() {
    const Token& t = cur();
    if (is_constant_token(t.kind)) {
      auto n = literal(t);
      advance();
      return n;
    }
    if (t.kind == TokenKind::LParen) {
      advance();
      auto inner = expression();
      if (!inner) return inner;
      if (cur().kind != TokenKind::RParen) return expected("')'");
      advance();
      return inner;
    }
    bool optional = false;
    if (t.kind == TokenKind::Question) {
      optional = true;
      advance();
      if (cur().kind != TokenKind::Identifier && cur().kind != TokenKind::QuotedField)
        return expected("a field name after '?'");
    }
    const Token& name = cur();
    if (name.kind == TokenKind::Identifier || name.kind == TokenKind::QuotedField) {
      // Function call: name( or name~(
      if (!optional && name.kind == TokenKind::Identifier &&
          (peek().kind == TokenKind::LParen || (peek().kind == TokenKind::Tilde && peek(2).kind == TokenKind::LParen))) {
        return call();
      }
      auto n = make(NodeKind::Field, optional ? t : name);
      n->optional = optional;
      n->text = name.text;
      advance();
      while (cur().kind == TokenKind::Dot || cur().kind == TokenKind::LBracket) {
        if (cur().kind == TokenKind::LBracket) {
          return unsupported(cur(), "array indexes (field[0]) are not supported by the Elasticsearch EQL dialect; "
                                    "multi-valued fields match when any value matches");
        }
        advance();
        if (!is_name_token(cur())) return expected("a field name after '.'");
        n->text += '.';
        n->text += cur().text;
        advance();
      }
      span_to_here(*n);
      return NodePtr(std::move(n));
    }
    return expected("a value, field name or function call");
  }

  Result<NodePtr> call() {
    auto n = make(NodeKind::Call, cur());
    n->text = cur().text;
    advance();
    if (cur().kind == TokenKind::Tilde) {
      n->insensitive = true;
      advance();
    }
    advance();  // '('
    if (cur().kind != TokenKind::RParen) {
      for (;;) {
        auto arg = expression();
        if (!arg) return arg;
        n->children.push_back(std::move(arg.value()));
        if (cur().kind == TokenKind::Comma) {
          advance();
          continue;
        }
        if (cur().kind == TokenKind::RParen) break;
        return expected(fmt::format("',' or ')' in the arguments of {}()", n->text));
      }
    }
    advance();  // ')'
    span_to_here(*n);
    return NodePtr(std::move(n));
  }

  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
  std::size_t depth_ = 0;
};

}  // namespace

Result<EventQuery> parse_query(std::string_view source) {
  auto tokens = tokenize(source);
  if (!tokens) return tokens.error();
  return Parser(std::move(tokens.value())).query();
}

Result<NodePtr> parse_expression(std::string_view source) {
  auto tokens = tokenize(source);
  if (!tokens) return tokens.error();
  return Parser(std::move(tokens.value())).bare_expression();
}

}  // namespace vigil::eql
