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
    auto q = any_query();
    if (!q) return q.error();
    if (q->kind != Query::Kind::Event) {
      return Error{"eql.unsupported", "expected an event query (`<category> where <condition>`)", {}, 1};
    }
    return std::move(q->event);
  }

  Result<Query> any_query() {
    Query q;
    const Token& first = cur();
    switch (first.kind) {
      case TokenKind::Sequence: {
        q.kind = Query::Kind::Sequence;
        auto s = sequence();
        if (!s) return s.error();
        q.sequence = std::move(s.value());
        break;
      }
      case TokenKind::Sample: {
        q.kind = Query::Kind::Sample;
        auto s = sample();
        if (!s) return s.error();
        q.sample = std::move(s.value());
        break;
      }
      case TokenKind::Join:
        return unsupported(first, "join is an endgame EQL construct that Elasticsearch does not support; use sequence");
      default: {
        auto e = event_filter();
        if (!e) return e.error();
        q.event = std::move(e.value());
      }
    }
    auto pipes = pipe_list();
    if (!pipes) return pipes.error();
    switch (q.kind) {
      case Query::Kind::Event: q.event.pipes = std::move(pipes.value()); break;
      case Query::Kind::Sequence: q.sequence.pipes = std::move(pipes.value()); break;
      case Query::Kind::Sample: q.sample.pipes = std::move(pipes.value()); break;
    }
    if (cur().kind != TokenKind::End) return expected("end of query, 'and', 'or' or '|'");
    return q;
  }

 private:
  // `<category> where <condition>`, `any where <condition>`.
  Result<EventQuery> event_filter() {
    EventQuery q;
    const Token& first = cur();
    switch (first.kind) {
      case TokenKind::Any:
        q.category_pos = first.pos;
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
    return q;
  }

  Result<std::vector<Pipe>> pipe_list() {
    std::vector<Pipe> pipes;
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
      if (cur().kind != TokenKind::Integer) return expected(fmt::format("a number after '{}'", name.text));
      auto n = parse_int(cur());
      if (!n || *n < 0) return error_at(cur(), "eql.syntax", "the count must be a non-negative integer");
      pipe.count = *n;
      advance();
      pipes.push_back(pipe);
    }
    return pipes;
  }

  // `by [?]field, ...`: Elasticsearch joins on fields only.
  Result<std::vector<JoinKey>> join_keys() {
    std::vector<JoinKey> keys;
    advance();  // 'by'
    for (;;) {
      const Token& start = cur();
      in_join_keys_ = true;
      auto e = unary();
      in_join_keys_ = false;
      if (!e) return e.error();
      const Node& n = *e.value();
      if (n.kind != NodeKind::Field) {
        return Error{"eql.unsupported",
                     fmt::format("join keys must be fields; '{}' is an expression (Elasticsearch rejects it)", to_eql(n)),
                     start.pos, n.length};
      }
      bool next_term = cur().kind == TokenKind::Minus && peek().kind == TokenKind::LBracket;  // `-[` missing term
      if (is_arith_continuation(cur().kind) && !next_term) {
        return error_at(cur(), "eql.unsupported",
                        "join keys must be fields; arithmetic on a key is an expression (Elasticsearch rejects it)");
      }
      keys.push_back({n.text, n.optional, n.pos, n.length});
      if (cur().kind != TokenKind::Comma) break;
      advance();
    }
    return keys;
  }

  // `10s`, `1.5m`, `500ms`, `1d` in nanoseconds.
  Result<std::int64_t> time_value() {
    const Token& num = cur();
    if (num.kind != TokenKind::Integer && num.kind != TokenKind::Decimal) return expected("a time span such as 10s or 5m");
    double value = std::strtod(num.text.c_str(), nullptr);
    advance();
    const Token& unit = cur();
    double scale = 0;
    if (unit.kind == TokenKind::Identifier && unit.pos.offset == num.pos.offset + num.length) {
      if (unit.text == "ms") scale = 1e6;
      else if (unit.text == "s") scale = 1e9;
      else if (unit.text == "m") scale = 60e9;
      else if (unit.text == "h") scale = 3600e9;
      else if (unit.text == "d") scale = 86400e9;
    }
    if (scale == 0) return error_at(unit, "eql.syntax", "expected a time unit directly after the number: ms, s, m, h or d");
    advance();
    double ns = value * scale;
    if (!(ns > 0) || ns > 9.0e18) return error_at(num, "eql.syntax", "maxspan must be positive and at most 100 years");
    return static_cast<std::int64_t>(ns);
  }

  Result<Stage> stage(bool allow_missing, bool allow_runs) {
    Stage st;
    st.pos = cur().pos;
    if (cur().kind == TokenKind::Bang || cur().kind == TokenKind::Minus) {
      if (!allow_missing) return error_at(cur(), "eql.syntax", "missing events (![...]) are only allowed in sequences");
      st.missing = true;
      advance();
    }
    if (cur().kind != TokenKind::LBracket) return expected("'[' to start a query term");
    advance();
    auto filter = event_filter();
    if (!filter) return filter.error();
    st.filter = std::move(filter.value());
    if (cur().kind != TokenKind::RBracket) return expected("']' to close the query term");
    advance();
    if (cur().kind == TokenKind::By) {
      auto keys = join_keys();
      if (!keys) return keys.error();
      st.keys = std::move(keys.value());
    }
    if (cur().kind == TokenKind::Identifier && cur().text == "fork") {
      return unsupported(cur(), "fork is an endgame EQL option that Elasticsearch does not support");
    }
    if (cur().kind == TokenKind::With && peek().kind == TokenKind::Identifier && peek().text == "runs") {
      if (!allow_runs) return error_at(peek(), "eql.syntax", "'with runs' is only allowed on sequence terms");
      advance();
      advance();
      if (cur().kind != TokenKind::Assign) return expected("'=' after runs");
      advance();
      if (cur().kind != TokenKind::Integer) return expected("the number of runs");
      auto n = parse_int(cur());
      if (!n || *n < 1 || *n > 100) return error_at(cur(), "eql.syntax", "runs must be between 1 and 100");
      st.runs = *n;
      advance();
    }
    return st;
  }

  bool at_stage_start() const {
    return cur().kind == TokenKind::LBracket ||
           ((cur().kind == TokenKind::Bang || cur().kind == TokenKind::Minus) && peek().kind == TokenKind::LBracket);
  }

  Result<SequenceQuery> sequence() {
    SequenceQuery q;
    const Token& keyword = cur();
    advance();
    // `by` and `with maxspan=` may come in either order.
    for (int i = 0; i < 2; ++i) {
      if (cur().kind == TokenKind::By && q.keys.empty()) {
        auto keys = join_keys();
        if (!keys) return keys.error();
        q.keys = std::move(keys.value());
      } else if (cur().kind == TokenKind::With && !q.maxspan_ns) {
        advance();
        if (cur().kind != TokenKind::Identifier || cur().text != "maxspan") return expected("'maxspan' after 'with'");
        advance();
        if (cur().kind != TokenKind::Assign) return expected("'=' after maxspan");
        advance();
        auto span = time_value();
        if (!span) return span.error();
        q.maxspan_ns = *span;
      }
    }
    std::size_t positive = 0;
    while (at_stage_start()) {
      auto st = stage(true, true);
      if (!st) return st.error();
      positive += !st->missing;
      q.stages.push_back(std::move(st.value()));
    }
    if (cur().kind == TokenKind::Until) {
      advance();
      auto st = stage(false, false);
      if (!st) return st.error();
      q.until = std::move(st.value());
    }
    std::size_t terms = 0;
    for (const auto& st : q.stages) terms += static_cast<std::size_t>(st.runs);
    if (terms < 2 || positive == 0) {
      return error_at(keyword, "eql.syntax", "a sequence needs at least two query terms, at least one of them not missing");
    }
    return q;
  }

  Result<SampleQuery> sample() {
    SampleQuery q;
    const Token& keyword = cur();
    advance();
    if (cur().kind == TokenKind::By) {
      auto keys = join_keys();
      if (!keys) return keys.error();
      q.keys = std::move(keys.value());
    }
    while (at_stage_start()) {
      auto st = stage(false, false);
      if (!st) return st.error();
      q.stages.push_back(std::move(st.value()));
    }
    if (q.stages.size() < 2) return error_at(keyword, "eql.syntax", "a sample needs at least two query terms");
    return q;
  }

 public:
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
      // In `by key [next term]` the bracket starts the next term, not an index.
      while (cur().kind == TokenKind::Dot || (cur().kind == TokenKind::LBracket && !in_join_keys_)) {
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
  bool in_join_keys_ = false;
};

}  // namespace

Result<EventQuery> parse_query(std::string_view source) {
  auto tokens = tokenize(source);
  if (!tokens) return tokens.error();
  return Parser(std::move(tokens.value())).query();
}

Result<Query> parse_any_query(std::string_view source) {
  auto tokens = tokenize(source);
  if (!tokens) return tokens.error();
  return Parser(std::move(tokens.value())).any_query();
}

Result<NodePtr> parse_expression(std::string_view source) {
  auto tokens = tokenize(source);
  if (!tokens) return tokens.error();
  return Parser(std::move(tokens.value())).bare_expression();
}

}  // namespace vigil::eql
