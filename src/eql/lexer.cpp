// EQL lexer. Rejects, with a pointed message, the endgame-only syntax that
// Elasticsearch rejects too: single-quoted strings, ?"raw" strings and `=`.
#include "eql/lexer.h"

#include <fmt/format.h>

#include "core/text.h"
#include "eql/keywords.h"

#include <cctype>
#include <iterator>
#include <optional>
#include <unordered_map>

namespace vigil::eql {
namespace {

// The reserved words of eql/keywords.h, each with its token, in that list's order.
const std::unordered_map<std::string_view, TokenKind>& keywords() {
  using K = TokenKind;
  static constexpr K kKinds[] = {K::And,    K::Or,   K::Not,  K::In,    K::Like, K::Regex,
                                 K::Where,  K::Sequence, K::Sample, K::Join, K::By, K::With,
                                 K::Until,  K::Of,   K::True, K::False, K::Null, K::Any};
  static_assert(std::size(kKinds) == kKeywords.size());
  static const auto k = [] {
    std::unordered_map<std::string_view, TokenKind> m;
    for (std::size_t i = 0; i < kKeywords.size(); ++i) m.emplace(kKeywords[i], kKinds[i]);
    return m;
  }();
  return k;
}

bool ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '@'; }
bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '@'; }


class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}

  Result<std::vector<Token>> run() {
    std::vector<Token> tokens;
    tokens.reserve(src_.size() / 8 + 4);  // Sigma queries run to megabytes: grown once, not by doubling
    for (;;) {
      if (auto err = skip_space_and_comments()) return *err;
      Token tok;
      tok.pos = here();
      if (pos_ >= src_.size()) {
        tok.kind = TokenKind::End;
        tokens.push_back(tok);
        return tokens;
      }
      auto result = next(tok);
      if (!result) return result.error();
      tok.length = static_cast<std::uint32_t>(pos_ - tok.pos.offset);
      tokens.push_back(std::move(tok));
    }
  }

 private:
  SourcePos here() const { return {line_, static_cast<std::uint32_t>(pos_ - line_start_ + 1), static_cast<std::uint32_t>(pos_)}; }
  char peek(std::size_t ahead = 0) const { return pos_ + ahead < src_.size() ? src_[pos_ + ahead] : '\0'; }
  void advance(std::size_t n = 1) {
    for (std::size_t i = 0; i < n && pos_ < src_.size(); ++i) {
      if (src_[pos_] == '\n') {
        ++line_;
        line_start_ = pos_ + 1;
      }
      ++pos_;
    }
  }
  Error error_at(SourcePos p, std::uint32_t len, std::string msg) const { return Error{"eql.syntax", std::move(msg), p, len}; }

  std::optional<Error> skip_space_and_comments() {
    for (;;) {
      while (pos_ < src_.size() && std::isspace(static_cast<unsigned char>(src_[pos_]))) advance();
      if (peek() == '/' && peek(1) == '/') {
        while (pos_ < src_.size() && src_[pos_] != '\n') advance();
        continue;
      }
      if (peek() == '/' && peek(1) == '*') {
        SourcePos start = here();
        advance(2);
        while (pos_ < src_.size() && !(peek() == '*' && peek(1) == '/')) advance();
        if (pos_ >= src_.size()) return error_at(start, 2, "unterminated /* comment");
        advance(2);
        continue;
      }
      return std::nullopt;
    }
  }

  Result<bool> next(Token& tok) {
    char c = peek();
    if (ident_start(c)) {
      std::size_t start = pos_;
      while (pos_ < src_.size() && ident_char(src_[pos_])) ++pos_;  // no newline in a word
      std::string_view word = src_.substr(start, pos_ - start);
      // Keywords are short: a longer word is an identifier without a lookup.
      char lower[16];
      const bool short_word = word.size() <= sizeof lower;
      for (std::size_t i = 0; short_word && i < word.size(); ++i) {
        lower[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(word[i])));
      }
      auto it = short_word ? keywords().find(std::string_view(lower, word.size())) : keywords().end();
      if (it != keywords().end()) {
        tok.kind = it->second;
        // like~, regex~, in~ are single operators
        if (peek() == '~') {
          if (tok.kind == TokenKind::Like) { tok.kind = TokenKind::LikeInsensitive; advance(); }
          else if (tok.kind == TokenKind::Regex) { tok.kind = TokenKind::RegexInsensitive; advance(); }
          else if (tok.kind == TokenKind::In) { tok.kind = TokenKind::InInsensitive; advance(); }
        }
      } else {
        tok.kind = TokenKind::Identifier;
      }
      tok.text = std::string(word);
      return true;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || (c == '.' && std::isdigit(static_cast<unsigned char>(peek(1))))) {
      return number(tok);
    }
    switch (c) {
      case '"': return string(tok);
      case '\'':
        return error_at(here(), 1, "single quotes are not supported for strings; use double quotes (\"...\") or triple quotes (\"\"\"...\"\"\")");
      case '`': return quoted_field(tok);
      case '=':
        if (peek(1) == '=') { tok.kind = TokenKind::Eq; advance(2); return true; }
        tok.kind = TokenKind::Assign; advance(); return true;
      case '!':
        if (peek(1) == '=') { tok.kind = TokenKind::Neq; advance(2); return true; }
        if (peek(1) == ':') { tok.kind = TokenKind::NotSeq; advance(2); return true; }
        tok.kind = TokenKind::Bang; advance(); return true;
      case '<':
        if (peek(1) == '=') { tok.kind = TokenKind::Lte; advance(2); return true; }
        tok.kind = TokenKind::Lt; advance(); return true;
      case '>':
        if (peek(1) == '=') { tok.kind = TokenKind::Gte; advance(2); return true; }
        tok.kind = TokenKind::Gt; advance(); return true;
      case ':': tok.kind = TokenKind::Seq; advance(); return true;
      case '+': tok.kind = TokenKind::Plus; advance(); return true;
      case '-': tok.kind = TokenKind::Minus; advance(); return true;
      case '*': tok.kind = TokenKind::Star; advance(); return true;
      case '/': tok.kind = TokenKind::Slash; advance(); return true;
      case '%': tok.kind = TokenKind::Percent; advance(); return true;
      case '(': tok.kind = TokenKind::LParen; advance(); return true;
      case ')': tok.kind = TokenKind::RParen; advance(); return true;
      case '[': tok.kind = TokenKind::LBracket; advance(); return true;
      case ']': tok.kind = TokenKind::RBracket; advance(); return true;
      case ',': tok.kind = TokenKind::Comma; advance(); return true;
      case '.': tok.kind = TokenKind::Dot; advance(); return true;
      case '|': tok.kind = TokenKind::Pipe; advance(); return true;
      case '~': tok.kind = TokenKind::Tilde; advance(); return true;
      case '?':
        if (peek(1) == '"' || peek(1) == '\'')
          return error_at(here(), 2, "?\"...\" raw strings are not supported; use triple quotes (\"\"\"...\"\"\")");
        tok.kind = TokenKind::Question; advance(); return true;
      default: break;
    }
    auto cp_len = static_cast<unsigned char>(c) < 0x80 ? 1u : 1u;
    return error_at(here(), cp_len, fmt::format("unexpected character '{}'", c));
  }

  Result<bool> number(Token& tok) {
    std::size_t start = pos_;
    bool decimal = false;
    if (peek() == '0' && (peek(1) == 'x' || peek(1) == 'X')) {
      return error_at(here(), 2, "hexadecimal literals are not supported; use number(\"0x..\", 16)");
    }
    while (std::isdigit(static_cast<unsigned char>(peek()))) advance();
    if (peek() == '.' && std::isdigit(static_cast<unsigned char>(peek(1)))) {
      decimal = true;
      advance();
      while (std::isdigit(static_cast<unsigned char>(peek()))) advance();
    } else if (peek() == '.' && !ident_start(peek(1))) {
      decimal = true;  // "1." is a decimal
      advance();
    }
    if (peek() == 'e' || peek() == 'E') {
      std::size_t save = pos_;
      advance();
      if (peek() == '+' || peek() == '-') advance();
      if (std::isdigit(static_cast<unsigned char>(peek()))) {
        decimal = true;
        while (std::isdigit(static_cast<unsigned char>(peek()))) advance();
      } else {
        pos_ = save;
      }
    }
    // A number directly followed by letters is a time value (maxspan=10s): the
    // parser reads the unit as the next identifier token.
    tok.kind = decimal ? TokenKind::Decimal : TokenKind::Integer;
    tok.text = std::string(src_.substr(start, pos_ - start));
    return true;
  }

  Result<bool> string(Token& tok) {
    SourcePos start = here();
    tok.kind = TokenKind::String;
    if (peek(1) == '"' && peek(2) == '"') {
      // """raw""": no escapes; ends at the first """ (extra quotes belong to the value).
      advance(3);
      std::size_t begin = pos_;
      while (pos_ < src_.size() && !(peek() == '"' && peek(1) == '"' && peek(2) == '"')) advance();
      if (pos_ >= src_.size()) return error_at(start, 3, "unterminated \"\"\" string");
      std::size_t end = pos_;
      advance(3);
      while (peek() == '"') {  // """a"""" is a followed by a quote
        ++end;
        advance();
      }
      tok.text = std::string(src_.substr(begin, end - begin));
      tok.raw = true;
      return true;
    }
    advance();
    std::string out;
    for (;;) {
      if (pos_ >= src_.size() || peek() == '\n' || peek() == '\r') return error_at(start, 1, "unterminated string");
      char c = peek();
      if (c == '"') {
        advance();
        break;
      }
      if (c != '\\') {
        // A run of plain characters at once (no newline among them).
        std::size_t end = pos_ + 1;
        while (end < src_.size() && src_[end] != '"' && src_[end] != '\\' && src_[end] != '\n' && src_[end] != '\r') ++end;
        out.append(src_, pos_, end - pos_);
        pos_ = end;
        continue;
      }
      // An escape.
      SourcePos esc = here();
      char e = peek(1);
      switch (e) {
        case 'n': out.push_back('\n'); advance(2); continue;
        case 't': out.push_back('\t'); advance(2); continue;
        case 'r': out.push_back('\r'); advance(2); continue;
        case 'b': out.push_back('\b'); advance(2); continue;
        case 'f': out.push_back('\f'); advance(2); continue;
        case '"': out.push_back('"'); advance(2); continue;
        case '\'': out.push_back('\''); advance(2); continue;
        case '\\': out.push_back('\\'); advance(2); continue;
        case 'u': {
          advance(2);
          if (peek() != '{') return error_at(esc, 2, "invalid unicode escape; use \\u{XXXX}");
          advance();
          std::uint32_t cp = 0;
          std::size_t digits = 0;
          while (std::isxdigit(static_cast<unsigned char>(peek())) && digits < 8) {
            char h = peek();
            cp = cp * 16 + static_cast<std::uint32_t>(std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : (std::tolower(h) - 'a' + 10));
            ++digits;
            advance();
          }
          if (peek() != '}' || digits < 2 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return error_at(esc, static_cast<std::uint32_t>(pos_ - esc.offset + 1), "invalid unicode escape; use \\u{XXXX} with 2 to 8 hex digits naming a valid code point");
          advance();
          append_utf8(out, cp);
          continue;
        }
        default:
          return error_at(esc, 2, fmt::format("invalid escape sequence '\\{}'; valid escapes are \\n \\t \\r \\b \\f \\\" \\' \\\\ \\u{{XXXX}}", e == '\0' ? ' ' : e));
      }
    }
    tok.text = std::move(out);
    return true;
  }

  Result<bool> quoted_field(Token& tok) {
    SourcePos start = here();
    advance();
    std::string out;
    for (;;) {
      if (pos_ >= src_.size()) return error_at(start, 1, "unterminated backquoted field name");
      if (peek() == '`') {
        if (peek(1) == '`') {  // `` is an escaped backquote
          out.push_back('`');
          advance(2);
          continue;
        }
        advance();
        break;
      }
      out.push_back(peek());
      advance();
    }
    if (out.empty()) return error_at(start, 2, "empty field name");
    tok.kind = TokenKind::QuotedField;
    tok.text = std::move(out);
    return true;
  }

  std::string_view src_;
  std::size_t pos_ = 0;
  std::uint32_t line_ = 1;
  std::size_t line_start_ = 0;
};

}  // namespace

std::string_view token_kind_name(TokenKind kind) {
  switch (kind) {
    case TokenKind::End: return "end of query";
    case TokenKind::Identifier: return "identifier";
    case TokenKind::QuotedField: return "field name";
    case TokenKind::String: return "string";
    case TokenKind::Integer: return "integer";
    case TokenKind::Decimal: return "number";
    case TokenKind::And: return "'and'";
    case TokenKind::Or: return "'or'";
    case TokenKind::Not: return "'not'";
    case TokenKind::In: return "'in'";
    case TokenKind::InInsensitive: return "'in~'";
    case TokenKind::Like: return "'like'";
    case TokenKind::LikeInsensitive: return "'like~'";
    case TokenKind::Regex: return "'regex'";
    case TokenKind::RegexInsensitive: return "'regex~'";
    case TokenKind::Where: return "'where'";
    case TokenKind::Sequence: return "'sequence'";
    case TokenKind::Sample: return "'sample'";
    case TokenKind::Join: return "'join'";
    case TokenKind::By: return "'by'";
    case TokenKind::With: return "'with'";
    case TokenKind::Until: return "'until'";
    case TokenKind::Of: return "'of'";
    case TokenKind::True: return "'true'";
    case TokenKind::False: return "'false'";
    case TokenKind::Null: return "'null'";
    case TokenKind::Any: return "'any'";
    case TokenKind::Eq: return "'=='";
    case TokenKind::Neq: return "'!='";
    case TokenKind::Lt: return "'<'";
    case TokenKind::Lte: return "'<='";
    case TokenKind::Gt: return "'>'";
    case TokenKind::Gte: return "'>='";
    case TokenKind::Seq: return "':'";
    case TokenKind::NotSeq: return "'!:'";
    case TokenKind::Assign: return "'='";
    case TokenKind::Plus: return "'+'";
    case TokenKind::Minus: return "'-'";
    case TokenKind::Star: return "'*'";
    case TokenKind::Slash: return "'/'";
    case TokenKind::Percent: return "'%'";
    case TokenKind::LParen: return "'('";
    case TokenKind::RParen: return "')'";
    case TokenKind::LBracket: return "'['";
    case TokenKind::RBracket: return "']'";
    case TokenKind::Comma: return "','";
    case TokenKind::Dot: return "'.'";
    case TokenKind::Pipe: return "'|'";
    case TokenKind::Question: return "'?'";
    case TokenKind::Tilde: return "'~'";
    case TokenKind::Bang: return "'!'";
  }
  return "token";
}

Result<std::vector<Token>> tokenize(std::string_view source) { return Lexer(source).run(); }

}  // namespace vigil::eql
