// The regular expressions ES|QL takes, as RE2 patterns: Java's (REPLACE),
// Lucene's (RLIKE), LIKE's wildcards, and GROK's %{PATTERN:name} library
// over Oniguruma's named groups. RE2 runs in time linear in the input; the
// Java constructs it has no form for are rewritten where the rewrite is
// exact, and refused otherwise (never run differently in silence):
//  - possessive quantifiers (x++, x*+, x?+) and atomic groups run as their
//    greedy forms: they match whatever Java's match, and may match where a
//    possessive one would have given up;
//  - a negative lookahead of single characters right before a single-
//    character atom, `(?![rn]|\d)[A-Za-z]`, becomes the atom's set minus
//    the lookahead's (ASCII sets only);
//  - named groups (?<a.b>...) become (?P<g0>...) (RE2 names are words).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace vigil::esql {

struct TranslatedRegex {
  std::string pattern;             // RE2 syntax
  std::vector<std::string> names;  // per capture group of `pattern` (1-based group i is names[i-1]; "" unnamed)
  std::vector<std::string> types;  // GROK: per group its conversion ("", "int", "long", "float", "double", "boolean")
};

// Java / Oniguruma syntax (REPLACE, GROK's raw groups). Errors name the
// offset in `regex` (Error::pos.offset) and the construct.
Result<TranslatedRegex> translate_java_regex(std::string_view regex);
// Lucene RegExp syntax (RLIKE): always anchored at both ends; `.` is any character.
Result<std::string> translate_lucene_regex(std::string_view regex);
// LIKE: `*` any run, `?` one character, `\` escapes the next one.
std::string translate_like(std::string_view pattern);
// GROK: %{SYNTAX}, %{SYNTAX:field}, %{SYNTAX:field:type} from the standard
// library (INT, NUMBER, WORD, DATA, GREEDYDATA, IP, ...) and raw regex.
Result<TranslatedRegex> translate_grok(std::string_view pattern);
// Java's replacement syntax ($1, ${name}, \$) as RE2's rewrite string (\1, \\).
Result<std::string> translate_replacement(std::string_view replacement, const std::vector<std::string>& names);

}  // namespace vigil::esql
