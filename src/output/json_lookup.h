// Finding a member of a parsed JSON document by its dotted path, whether the
// document nests objects (`{"host":{"name":...}}`) or uses dotted keys
// (`{"kibana.alert.rule.name":...}`), as alert documents mix both.
#pragma once

#include <simdjson.h>

#include <optional>
#include <string_view>

namespace vigil {

std::optional<simdjson::dom::element> find_member(simdjson::dom::object obj, std::string_view path);

}  // namespace vigil
