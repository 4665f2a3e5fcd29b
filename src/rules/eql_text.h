// Writing EQL text: what the translators into EQL (KQL, Sigma) share. The
// text they write is parsed by eql/parser.cpp like any query, so these must
// produce what it reads back unchanged.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vigil {

// An EQL string literal holding `s` byte for byte (controls as \u{XX}).
std::string eql_quote(std::string_view s);
// "(a op b op c)", or the single part as it is.
std::string eql_join(const std::vector<std::string>& parts, std::string_view op);

}  // namespace vigil
