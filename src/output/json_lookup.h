// Finding a member of a parsed JSON document by its dotted path, whether the
// document nests objects (`{"host":{"name":...}}`) or uses dotted keys
// (`{"kibana.alert.rule.name":...}`), as alert documents mix both.
#pragma once

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>

namespace vigil {

std::optional<simdjson::dom::element> find_member(simdjson::dom::object obj, std::string_view path);
// The text at `path`: a string, an integer as written, or an array's first string; else "".
std::string text_at(simdjson::dom::object doc, std::string_view path);
// Where a vigil.source object points: "path:line", "path record 42 (byte 4608)", "path element 3"
// (the path as recorded: attacker-controlled text, to be escaped where it is shown).
std::string source_text(simdjson::dom::element source);

}  // namespace vigil
