// Tokens of the EQL lexer. Each token keeps its position so that every
// parser and analyzer error can point at the offending text.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace vigil::eql {

enum class TokenKind {
  End,
  Identifier,   // process, process.name is Identifier '.' Identifier
  QuotedField,  // `field name` (backquoted)
  String,       // "..." or """...""" (text holds the unescaped value)
  Integer,
  Decimal,
  // keywords
  And, Or, Not, In, InInsensitive, Like, LikeInsensitive, Regex, RegexInsensitive,
  Where, Sequence, Sample, Join, By, With, Until, Of, True, False, Null, Any,
  // punctuation
  Eq, Neq, Lt, Lte, Gt, Gte, Seq, NotSeq, Assign,
  Plus, Minus, Star, Slash, Percent,
  LParen, RParen, LBracket, RBracket, Comma, Dot, Pipe, Question, Tilde, Bang,
};

std::string_view token_kind_name(TokenKind kind);

struct Token {
  TokenKind kind = TokenKind::End;
  std::string text;  // identifier name, unescaped string, or the number's digits
  SourcePos pos;
  std::uint32_t length = 0;  // bytes of source the token spans
  bool raw = false;          // a """raw""" string
};

}  // namespace vigil::eql
