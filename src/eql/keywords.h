// EQL's reserved words (matched case-insensitively by the lexer): the one
// list the lexer reads and the EQL writers (rules/eql_text.h) quote field
// names against. Header-only, so the translators need not link the EQL library.
#pragma once

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>

namespace vigil::eql {

inline constexpr std::array<std::string_view, 18> kKeywords = {
    "and", "or", "not", "in", "like", "regex", "where", "sequence", "sample",
    "join", "by", "with", "until", "of", "true", "false", "null", "any"};

// Whether `word` is a reserved word, in any case ("Or", "NULL").
inline bool is_keyword(std::string_view word) {
  return std::any_of(kKeywords.begin(), kKeywords.end(), [&](std::string_view k) {
    return k.size() == word.size() && std::equal(k.begin(), k.end(), word.begin(), [](char a, char b) {
             return a == std::tolower(static_cast<unsigned char>(b));
           });
  });
}

// Whether a dotted field name has a reserved word as a segment (`any.name`,
// `process.in`): written as EQL, such a name needs backquotes.
inline bool has_keyword_segment(std::string_view name) {
  for (std::size_t start = 0;;) {
    const std::size_t dot = name.find('.', start);
    if (is_keyword(name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start))) return true;
    if (dot == std::string_view::npos) return false;
    start = dot + 1;
  }
}

}  // namespace vigil::eql
