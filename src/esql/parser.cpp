// ES|QL lexer and parser. Precedence, loosest first: OR, AND, NOT, the
// predicates (comparisons, IN, LIKE / RLIKE, IS [NOT] NULL), + and -, *, / and
// %, unary minus, then literals, fields, calls and parentheses (a `::type`
// cast binds tightest). Nesting is bounded (kMaxDepth), so hostile text
// cannot exhaust the stack.
#include "esql/parser.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <initializer_list>
#include <optional>

namespace vigil::esql {

std::string_view command_name(Command::Kind kind) {
  switch (kind) {
    case Command::Kind::From:
      return "FROM";
    case Command::Kind::Where:
      return "WHERE";
    case Command::Kind::Eval:
      return "EVAL";
    case Command::Kind::Stats:
      return "STATS";
    case Command::Kind::InlineStats:
      return "INLINE STATS";
    case Command::Kind::Keep:
      return "KEEP";
    case Command::Kind::Drop:
      return "DROP";
    case Command::Kind::Rename:
      return "RENAME";
    case Command::Kind::Sort:
      return "SORT";
    case Command::Kind::Limit:
      return "LIMIT";
    case Command::Kind::Grok:
      return "GROK";
    case Command::Kind::Dissect:
      return "DISSECT";
    case Command::Kind::MvExpand:
      return "MV_EXPAND";
  }
  return "?";
}

namespace {

constexpr int kMaxDepth = 200;

enum class Tok { End, Ident, Quoted, String, Integer, Decimal, Op };

struct Token {
  Tok kind = Tok::End;
  std::string text;  // identifiers as written; strings unescaped; operators
  SourcePos pos;
  std::uint32_t length = 1;
};

bool ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '@'; }
bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '@'; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The time units ES|QL accepts after a number (`6 minutes`, `1 day`).
bool time_unit(std::string_view word) {
  static constexpr std::string_view kUnits[] = {
      "millisecond", "milliseconds", "ms",    "second",  "seconds",  "sec",  "s",    "minute", "minutes", "min",
      "m",           "hour",         "hours", "h",       "day",      "days", "d",    "week",   "weeks",   "w",
      "month",       "months",       "mo",    "quarter", "quarters", "q",    "year", "years",  "yr",      "y"};
  for (std::string_view u : kUnits) {
    if (iequals(word, u)) return true;
  }
  return false;
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  Result<std::vector<Token>> run() {
    std::vector<Token> out;
    while (true) {
      if (auto e = skip_space()) return *e;
      Token t;
      t.pos = here();
      if (i_ >= text_.size()) {
        out.push_back(std::move(t));
        return out;
      }
      const char c = text_[i_];
      if (ident_start(c)) {
        std::size_t start = i_;
        while (i_ < text_.size() && ident_char(text_[i_])) advance();
        t.kind = Tok::Ident;
        t.text = std::string(text_.substr(start, i_ - start));
      } else if (c == '`') {
        advance();
        std::string name;
        while (true) {
          if (i_ >= text_.size()) return error(t.pos, "a backquoted name is not closed");
          if (text_[i_] == '`') {
            if (i_ + 1 < text_.size() && text_[i_ + 1] == '`') {  // `` is a backquote
              name += '`';
              advance();
              advance();
              continue;
            }
            advance();
            break;
          }
          name += text_[i_];
          advance();
        }
        t.kind = Tok::Quoted;
        t.text = std::move(name);
      } else if (c == '"') {
        auto s = string_literal(t.pos);
        if (!s) return s.error();
        t.kind = Tok::String;
        t.text = std::move(*s);
      } else if (std::isdigit(static_cast<unsigned char>(c))) {
        std::size_t start = i_;
        while (i_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[i_]))) advance();
        t.kind = Tok::Integer;
        if (i_ + 1 < text_.size() && text_[i_] == '.' && std::isdigit(static_cast<unsigned char>(text_[i_ + 1]))) {
          advance();
          while (i_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[i_]))) advance();
          t.kind = Tok::Decimal;
        }
        if (i_ < text_.size() && (text_[i_] == 'e' || text_[i_] == 'E')) {
          std::size_t save = i_;
          advance();
          if (i_ < text_.size() && (text_[i_] == '+' || text_[i_] == '-')) advance();
          if (i_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[i_]))) {
            while (i_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[i_]))) advance();
            t.kind = Tok::Decimal;
          } else {
            i_ = save;  // "1 e" is not an exponent
          }
        }
        t.text = std::string(text_.substr(start, i_ - start));
      } else {
        static constexpr std::string_view kOps[] = {"==", "!=", "<=", ">=", "::", "=~", "<", ">", "=", "+", "-", "*",
                                                    "/",  "%",  "(",  ")",  ",",  "|",  ".", "[", "]", ":", "{", "}"};
        bool found = false;
        for (std::string_view op : kOps) {
          if (text_.substr(i_, op.size()) == op) {
            t.kind = Tok::Op;
            t.text = std::string(op);
            for (std::size_t k = 0; k < op.size(); ++k) advance();
            found = true;
            break;
          }
        }
        if (!found) {
          return error(t.pos, fmt::format("unexpected character '{}'",
                                          static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f
                                              ? fmt::format("\\x{:02x}", static_cast<unsigned char>(c))
                                              : std::string(1, c)));
        }
      }
      t.length = static_cast<std::uint32_t>(std::max<std::size_t>(1, i_ - t.pos.offset));
      out.push_back(std::move(t));
    }
  }

 private:
  SourcePos here() const { return SourcePos{line_, column_, static_cast<std::uint32_t>(i_)}; }
  void advance() {
    if (text_[i_] == '\n') {
      ++line_;
      column_ = 1;
    } else {
      ++column_;
    }
    ++i_;
  }
  Error error(SourcePos pos, std::string message) const { return Error{"esql.syntax", std::move(message), pos, 1}; }

  std::optional<Error> skip_space() {
    while (i_ < text_.size()) {
      const char c = text_[i_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        advance();
      } else if (text_.substr(i_, 2) == "//") {
        while (i_ < text_.size() && text_[i_] != '\n') advance();
      } else if (text_.substr(i_, 2) == "/*") {
        const SourcePos start = here();
        advance();
        advance();
        while (i_ < text_.size() && text_.substr(i_, 2) != "*/") advance();
        if (i_ >= text_.size()) return error(start, "a /* comment is not closed");
        advance();
        advance();
      } else {
        break;
      }
    }
    return std::nullopt;
  }

  // "..." with \" \\ \n \r \t escapes, or """...""" taken as written.
  Result<std::string> string_literal(SourcePos start) {
    std::string out;
    if (text_.substr(i_, 3) == "\"\"\"") {
      for (int k = 0; k < 3; ++k) advance();
      while (true) {
        if (i_ >= text_.size()) return error(start, "a \"\"\" string is not closed");
        if (text_.substr(i_, 3) == "\"\"\"") {
          // Quotes right before the closing ones belong to the string.
          while (text_.substr(i_, 4) == "\"\"\"\"") {
            out += '"';
            advance();
          }
          for (int k = 0; k < 3; ++k) advance();
          return out;
        }
        out += text_[i_];
        advance();
      }
    }
    advance();
    while (true) {
      if (i_ >= text_.size() || text_[i_] == '\n') return error(start, "a string is not closed on its line");
      const char c = text_[i_];
      if (c == '"') {
        advance();
        return out;
      }
      if (c == '\\') {
        advance();
        if (i_ >= text_.size()) return error(start, "a string is not closed");
        const char e = text_[i_];
        switch (e) {
          case 'n':
            out += '\n';
            break;
          case 'r':
            out += '\r';
            break;
          case 't':
            out += '\t';
            break;
          case '"':
            out += '"';
            break;
          case '\\':
            out += '\\';
            break;
          default:
            return error(here(), fmt::format("unknown escape \\{} in a string (\\\\ for a backslash)", e));
        }
        advance();
        continue;
      }
      out += c;
      advance();
    }
  }

  std::string_view text_;
  std::size_t i_ = 0;
  std::uint32_t line_ = 1, column_ = 1;
};

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : t_(std::move(tokens)) {}

  Result<Query> query() {
    Query q;
    if (!is_word("from")) {
      if (peek().kind == Tok::Ident && (is_word("row") || is_word("show") || is_word("ts"))) {
        return unsupported(peek(), fmt::format("the source command {} is not supported (vigil runs FROM queries)",
                                               lower(peek().text)));
      }
      return expected("FROM (an ES|QL query starts with FROM index patterns)");
    }
    auto from = from_command();
    if (!from) return from.error();
    q.commands.push_back(std::move(*from));
    while (peek().kind != Tok::End) {
      if (!is_op("|")) return expected("| and the next command, or the end of the query");
      next();
      auto c = command();
      if (!c) return c.error();
      q.commands.push_back(std::move(*c));
    }
    return q;
  }

 private:
  const Token& peek(std::size_t ahead = 0) const { return t_[std::min(i_ + ahead, t_.size() - 1)]; }
  const Token& next() { return t_[i_ < t_.size() - 1 ? i_++ : i_]; }
  bool is_op(std::string_view op, std::size_t ahead = 0) const {
    return peek(ahead).kind == Tok::Op && peek(ahead).text == op;
  }
  bool is_word(std::string_view w, std::size_t ahead = 0) const {
    return peek(ahead).kind == Tok::Ident && iequals(peek(ahead).text, w);
  }
  static std::string describe(const Token& t) {
    switch (t.kind) {
      case Tok::End:
        return "the end of the query";
      case Tok::String:
        return "a string";
      case Tok::Integer:
      case Tok::Decimal:
        return "the number " + t.text;
      default:
        return "'" + t.text + "'";
    }
  }
  Error expected(std::string what) const {
    const Token& t = peek();
    return Error{"esql.syntax", fmt::format("expected {}, found {}", what, describe(t)), t.pos, t.length};
  }
  static Error unsupported(const Token& t, std::string message) {
    return Error{"esql.unsupported", std::move(message), t.pos, t.length};
  }
  Result<bool> expect_op(std::string_view op, std::string_view what) {
    if (!is_op(op)) return expected(std::string(what));
    next();
    return true;
  }

  // A field name: ident or `quoted` parts joined by dots; with `patterns`,
  // `*` may stand for a part or end one (KEEP Esql.*, DROP *_values).
  Result<std::string> field_name(bool patterns) {
    std::string name;
    while (true) {
      // One part: an identifier or `quoted` name; in a pattern, any run of
      // touching identifiers and '*' (Esql.*, *_values, host*).
      auto part_token = [&](const Token& t) {
        return t.kind == Tok::Ident || t.kind == Tok::Quoted || (patterns && t.kind == Tok::Op && t.text == "*");
      };
      if (!part_token(peek())) return expected(name.empty() ? "a field name" : "a field name part after '.'");
      std::uint32_t end = 0;
      bool first = true;
      while (part_token(peek()) && (first || (patterns && peek().pos.offset == end))) {
        const Token& t = next();
        name += t.text;
        end = t.pos.offset + t.length;
        first = false;
      }
      if (!is_op(".")) return name;
      name += '.';
      next();
    }
  }

  Result<Command> from_command() {
    Command c;
    c.kind = Command::Kind::From;
    c.pos = next().pos;
    // Index patterns: anything up to ',' / METADATA / '|' / the end, as written (logs-endpoint.events.*-*).
    while (true) {
      std::string pattern;
      const std::uint32_t start = peek().pos.offset;
      std::uint32_t end = start;
      while (peek().kind != Tok::End && !is_op(",") && !is_op("|") && !is_word("metadata")) {
        const Token& t = next();
        // Tokens of one pattern touch; a gap ends it.
        if (!pattern.empty() && t.pos.offset != end)
          return Error{"esql.syntax", "expected ',' between index patterns", t.pos, t.length};
        pattern += t.text;  // quoted index names ("logs-*") come unquoted
        end = t.pos.offset + t.length;
      }
      if (pattern.empty()) return expected("an index pattern");
      c.names.push_back(std::move(pattern));
      if (!is_op(",")) break;
      next();
    }
    if (is_word("metadata")) {
      next();
      while (true) {
        if (peek().kind != Tok::Ident) return expected("a metadata field (_id, _index, _version, _source)");
        c.metadata.push_back(next().text);
        if (!is_op(",")) break;
        next();
      }
    }
    return c;
  }

  Result<Command> command() {
    const Token& head = peek();
    if (head.kind != Tok::Ident)
      return expected("a command (WHERE, EVAL, STATS, KEEP, DROP, RENAME, SORT, LIMIT, GROK, DISSECT, MV_EXPAND)");
    const std::string name = lower(head.text);
    Command c;
    c.pos = head.pos;
    next();
    if (name == "where") {
      c.kind = Command::Kind::Where;
      auto e = expr();
      if (!e) return e.error();
      c.expr = std::move(*e);
    } else if (name == "eval") {
      c.kind = Command::Kind::Eval;
      auto a = assignments();
      if (!a) return a.error();
      c.assignments = std::move(*a);
    } else if (name == "stats" || ((name == "inline" && is_word("stats")) || name == "inlinestats")) {
      // INLINE STATS (INLINESTATS before ES|QL 9.2): the aggregates joined back onto every row of the group.
      c.kind = name == "stats" ? Command::Kind::Stats : Command::Kind::InlineStats;
      if (name == "inline") next();
      if (!is_word("by")) {
        auto a = assignments();
        if (!a) return a.error();
        c.assignments = std::move(*a);
      }
      if (is_word("by")) {
        next();
        auto b = assignments();
        if (!b) return b.error();
        c.by = std::move(*b);
      }
      if (c.assignments.empty() && c.by.empty()) return expected("aggregates or BY after STATS");
    } else if (name == "keep" || name == "drop") {
      c.kind = name == "keep" ? Command::Kind::Keep : Command::Kind::Drop;
      while (true) {
        auto f = field_name(true);
        if (!f) return f.error();
        c.names.push_back(std::move(*f));
        if (!is_op(",")) break;
        next();
      }
    } else if (name == "rename") {
      c.kind = Command::Kind::Rename;
      while (true) {
        auto from = field_name(false);
        if (!from) return from.error();
        if (!is_word("as")) return expected("AS in RENAME old AS new");
        next();
        auto to = field_name(false);
        if (!to) return to.error();
        c.renames.emplace_back(std::move(*from), std::move(*to));
        if (!is_op(",")) break;
        next();
      }
    } else if (name == "sort") {
      c.kind = Command::Kind::Sort;
      while (true) {
        SortKey k;
        auto e = expr();
        if (!e) return e.error();
        k.expr = std::move(*e);
        if (is_word("asc")) {
          next();
        } else if (is_word("desc")) {
          next();
          k.descending = true;
        }
        k.nulls_first = k.descending;
        if (is_word("nulls")) {
          next();
          if (is_word("first")) {
            k.nulls_first = true;
          } else if (is_word("last")) {
            k.nulls_first = false;
          } else {
            return expected("FIRST or LAST after NULLS");
          }
          k.nulls_given = true;
          next();
        }
        c.sort.push_back(std::move(k));
        if (!is_op(",")) break;
        next();
      }
    } else if (name == "limit") {
      c.kind = Command::Kind::Limit;
      if (peek().kind != Tok::Integer) return expected("a number of rows after LIMIT");
      c.limit = std::strtoll(next().text.c_str(), nullptr, 10);
    } else if (name == "grok" || name == "dissect") {
      c.kind = name == "grok" ? Command::Kind::Grok : Command::Kind::Dissect;
      auto e = primary(0);
      if (!e) return e.error();
      c.expr = std::move(*e);
      if (peek().kind != Tok::String) return expected(fmt::format("the {} pattern (a string)", lower(name)));
      c.pattern = next().text;
      if (c.kind == Command::Kind::Dissect && is_word("append_separator")) {
        next();
        if (auto eq = expect_op("=", "'=' after APPEND_SEPARATOR"); !eq) return eq.error();
        if (peek().kind != Tok::String) return expected("the separator (a string)");
        c.separator = next().text;
      }
    } else if (name == "mv_expand") {
      c.kind = Command::Kind::MvExpand;
      auto f = field_name(false);
      if (!f) return f.error();
      c.names.push_back(std::move(*f));
    } else {
      static constexpr std::string_view kKnown[] = {"enrich",     "lookup", "change_point", "fork",
                                                    "completion", "rerank", "sample",       "join"};
      for (std::string_view k : kKnown) {
        if (name == k) {
          return unsupported(head, fmt::format("the ES|QL command {} is not supported by vigil", lower(head.text)));
        }
      }
      return Error{"esql.syntax",
                   fmt::format("unknown command '{}' (expected WHERE, EVAL, STATS, INLINE STATS, KEEP, DROP, RENAME, "
                               "SORT, LIMIT, GROK, DISSECT or MV_EXPAND)",
                               head.text),
                   head.pos, head.length};
    }
    return c;
  }

  // name = expr, ... (EVAL and STATS; an item without a name is named as written: count(*)).
  Result<std::vector<Assignment>> assignments() {
    std::vector<Assignment> out;
    while (true) {
      Assignment a;
      a.pos = peek().pos;
      // A name followed by '=' (not '==').
      std::size_t save = i_;
      if (peek().kind == Tok::Ident || peek().kind == Tok::Quoted) {
        auto n = field_name(false);
        if (n && is_op("=")) {
          next();
          a.name = std::move(*n);
        } else {
          i_ = save;
        }
      }
      const std::uint32_t start = peek().pos.offset;
      auto e = expr();
      if (!e) return e.error();
      a.expr = std::move(*e);
      if (a.name.empty()) {
        // A field names itself; anything else is named as written, up to its last token (comments after it are not part of it).
        if (a.expr->kind == Expr::Kind::Field) {
          a.name = a.expr->text;
        } else {
          const Token& last = t_[i_ > 0 ? i_ - 1 : 0];
          const std::uint32_t end = last.pos.offset + last.length;
          a.name = written_.substr(start, end > start ? end - start : 0);
        }
      }
      while (!a.name.empty() && std::isspace(static_cast<unsigned char>(a.name.back()))) a.name.pop_back();
      out.push_back(std::move(a));
      if (!is_op(",")) break;
      next();
    }
    return out;
  }

 public:
  std::string written_;  // the query text (names of unnamed STATS items are their text)

 private:
  using ExprPtr = std::unique_ptr<Expr>;
  static ExprPtr node(Expr::Kind kind, SourcePos pos, std::string text = {}) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->pos = pos;
    e->text = std::move(text);
    return e;
  }
  static ExprPtr binary(std::string op, SourcePos pos, ExprPtr a, ExprPtr b) {
    auto e = node(Expr::Kind::Binary, pos, std::move(op));
    e->args.push_back(std::move(a));
    e->args.push_back(std::move(b));
    return e;
  }

  Result<ExprPtr> expr(int depth = 0) { return or_expr(depth); }

  // One left-associative level: operand (op operand)*, where an operator is a
  // keyword (`words`: or, and) or a symbol (+, -, *, /, %).
  using Level = Result<ExprPtr> (Parser::*)(int);
  Result<ExprPtr> left_assoc(int depth, Level operand, std::initializer_list<std::string_view> ops, bool words) {
    auto left = (this->*operand)(depth);
    if (!left) return left;
    while (true) {
      const std::string_view* op = nullptr;
      for (const std::string_view& o : ops) {
        if (words ? is_word(o) : is_op(o)) op = &o;
      }
      if (!op) return left;
      const SourcePos pos = next().pos;
      auto right = (this->*operand)(depth);
      if (!right) return right;
      left = binary(std::string(*op), pos, std::move(*left), std::move(*right));
    }
  }
  Result<ExprPtr> or_expr(int depth) { return left_assoc(depth, &Parser::and_expr, {"or"}, true); }
  Result<ExprPtr> and_expr(int depth) { return left_assoc(depth, &Parser::not_expr, {"and"}, true); }
  Result<ExprPtr> not_expr(int depth) {
    if (depth > kMaxDepth)
      return Error{"esql.syntax", "the expression is nested too deeply", peek().pos, peek().length};
    if (is_word("not")) {
      const SourcePos pos = next().pos;
      auto inner = not_expr(depth + 1);
      if (!inner) return inner;
      auto e = node(Expr::Kind::Unary, pos, "not");
      e->args.push_back(std::move(*inner));
      return e;
    }
    return predicate(depth);
  }
  Result<ExprPtr> predicate(int depth) {
    auto left = additive(depth);
    if (!left) return left;
    static constexpr std::string_view kCompare[] = {"==", "!=", "<=", ">=", "<", ">"};
    for (std::string_view op : kCompare) {
      if (is_op(op)) {
        const SourcePos pos = next().pos;
        auto right = additive(depth);
        if (!right) return right;
        return binary(std::string(op), pos, std::move(*left), std::move(*right));
      }
    }
    bool negated = false;
    if (is_word("not") && (is_word("in", 1) || is_word("like", 1) || is_word("rlike", 1))) {
      next();
      negated = true;
    }
    if (is_word("in")) {
      auto e = node(Expr::Kind::In, next().pos);
      e->negated = negated;
      e->args.push_back(std::move(*left));
      if (auto open = expect_op("(", "'(' and the list after IN"); !open) return open.error();
      while (true) {
        auto item = expr(depth + 1);
        if (!item) return item;
        e->args.push_back(std::move(*item));
        if (!is_op(",")) break;
        next();
      }
      if (auto close = expect_op(")", "',' or ')' in the IN list"); !close) return close.error();
      return e;
    }
    if (is_word("like") || is_word("rlike")) {
      auto e = node(Expr::Kind::Like, peek().pos, lower(peek().text));
      next();
      e->negated = negated;
      e->args.push_back(std::move(*left));
      const bool list = is_op("(");
      if (list) next();
      while (true) {
        if (peek().kind != Tok::String) return expected(fmt::format("a pattern (a string) after {}", e->text));
        e->args.push_back(node(Expr::Kind::String, peek().pos, next().text));
        if (!list || !is_op(",")) break;
        next();
      }
      if (list) {
        if (auto close = expect_op(")", "',' or ')' in the pattern list"); !close) return close.error();
      }
      return e;
    }
    if (negated) return expected("IN, LIKE or RLIKE after NOT");
    if (is_op(":")) {  // the match operator: field : "query"
      auto e = node(Expr::Kind::Call, next().pos, "match");
      e->args.push_back(std::move(*left));
      auto right = additive(depth);
      if (!right) return right;
      e->args.push_back(std::move(*right));
      return e;
    }
    if (is_word("is")) {
      auto e = node(Expr::Kind::IsNull, next().pos);
      if (is_word("not")) {
        next();
        e->negated = true;
      }
      if (!is_word("null")) return expected("NULL after IS");
      next();
      e->args.push_back(std::move(*left));
      return e;
    }
    return left;
  }
  Result<ExprPtr> additive(int depth) { return left_assoc(depth, &Parser::multiplicative, {"+", "-"}, false); }
  Result<ExprPtr> multiplicative(int depth) { return left_assoc(depth, &Parser::unary, {"*", "/", "%"}, false); }
  Result<ExprPtr> unary(int depth) {
    if (depth > kMaxDepth)
      return Error{"esql.syntax", "the expression is nested too deeply", peek().pos, peek().length};
    if (is_op("-")) {
      const SourcePos pos = next().pos;
      auto inner = unary(depth + 1);
      if (!inner) return inner;
      auto e = node(Expr::Kind::Unary, pos, "-");
      e->args.push_back(std::move(*inner));
      return e;
    }
    auto e = primary(depth);
    if (!e) return e;
    while (is_op("::")) {
      const SourcePos pos = next().pos;
      if (peek().kind != Tok::Ident) return expected("a type name after ::");
      auto cast = node(Expr::Kind::Cast, pos, lower(next().text));
      cast->args.push_back(std::move(*e));
      e = std::move(cast);
    }
    return e;
  }
  Result<ExprPtr> primary(int depth) {
    if (depth > kMaxDepth)
      return Error{"esql.syntax", "the expression is nested too deeply", peek().pos, peek().length};
    const Token& t = peek();
    switch (t.kind) {
      case Tok::String: {
        auto e = node(Expr::Kind::String, t.pos, t.text);
        next();
        return e;
      }
      case Tok::Integer:
      case Tok::Decimal: {
        const Token& n = next();
        // `6 minutes`: a duration.
        if (peek().kind == Tok::Ident && time_unit(peek().text) && n.kind == Tok::Integer) {
          auto e = node(Expr::Kind::Duration, n.pos, lower(next().text));
          e->integer = std::strtoll(n.text.c_str(), nullptr, 10);
          return e;
        }
        if (n.kind == Tok::Integer) {
          errno = 0;
          const long long v = std::strtoll(n.text.c_str(), nullptr, 10);
          if (errno == ERANGE) {
            auto e = node(Expr::Kind::Decimal, n.pos);
            e->decimal = std::strtod(n.text.c_str(), nullptr);
            return e;
          }
          auto e = node(Expr::Kind::Integer, n.pos);
          e->integer = v;
          return e;
        }
        auto e = node(Expr::Kind::Decimal, n.pos);
        e->decimal = std::strtod(n.text.c_str(), nullptr);
        return e;
      }
      case Tok::Op:
        if (t.text == "(") {
          next();
          auto inner = expr(depth + 1);
          if (!inner) return inner;
          if (auto close = expect_op(")", "')'"); !close) return close.error();
          return inner;
        }
        if (t.text == "*") {
          auto e = node(Expr::Kind::Star, t.pos);
          next();
          return e;
        }
        if (t.text == "{") {  // function options: { "name": value, ... }
          auto e = node(Expr::Kind::Map, t.pos);
          next();
          while (!is_op("}")) {
            if (peek().kind != Tok::String) return expected("an option name (a string) or '}'");
            e->args.push_back(node(Expr::Kind::String, peek().pos, next().text));
            if (auto colon = expect_op(":", "':' after the option name"); !colon) return colon.error();
            auto value = expr(depth + 1);
            if (!value) return value;
            e->args.push_back(std::move(*value));
            if (!is_op(",")) break;
            next();
          }
          if (auto close = expect_op("}", "',' or '}' in the options"); !close) return close.error();
          return e;
        }
        return expected("a value, a field or a function call");
      case Tok::Ident:
        if (iequals(t.text, "null")) {
          auto e = node(Expr::Kind::Null, t.pos);
          next();
          return e;
        }
        if (iequals(t.text, "true") || iequals(t.text, "false")) {
          auto e = node(Expr::Kind::Bool, t.pos, lower(t.text));
          next();
          return e;
        }
        if (is_op("(", 1)) {
          auto e = node(Expr::Kind::Call, t.pos, lower(t.text));
          next();
          next();
          if (!is_op(")")) {
            while (true) {
              auto arg = expr(depth + 1);
              if (!arg) return arg;
              e->args.push_back(std::move(*arg));
              if (!is_op(",")) break;
              next();
            }
          }
          if (auto close = expect_op(")", fmt::format("',' or ')' in the arguments of {}", e->text)); !close) {
            return close.error();
          }
          return e;
        }
        [[fallthrough]];
      case Tok::Quoted: {
        const SourcePos pos = t.pos;
        auto name = field_name(false);
        if (!name) return name.error();
        return node(Expr::Kind::Field, pos, std::move(*name));
      }
      case Tok::End:
        break;
    }
    return expected("a value, a field or a function call");
  }

  std::vector<Token> t_;
  std::size_t i_ = 0;
};

}  // namespace

Result<Query> parse_query(std::string_view text) {
  auto tokens = Lexer(text).run();
  if (!tokens) return tokens.error();
  Parser p(std::move(*tokens));
  p.written_ = std::string(text);
  return p.query();
}

}  // namespace vigil::esql
