// Lexer: EQL source text to tokens (Elasticsearch dialect). Strings are
// unescaped here (\n \t \r \" \' \\ \u{XXXX}); """raw""" strings are not.
#pragma once

#include <string_view>
#include <vector>

#include "core/result.h"
#include "eql/token.h"

namespace vigil::eql {

Result<std::vector<Token>> tokenize(std::string_view source);

}  // namespace vigil::eql
