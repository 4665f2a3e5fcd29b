// find_member: a walk that treats nested objects and dotted keys alike.
#include "output/json_lookup.h"

namespace vigil {
namespace {

std::optional<simdjson::dom::element> find_member_at(simdjson::dom::object obj, std::string_view path, int depth) {
  if (depth > 16) return std::nullopt;
  for (auto field : obj) {
    std::string_view key = field.key;
    if (key == path) return field.value;
    if (path.size() > key.size() && path.starts_with(key) && path[key.size()] == '.') {
      simdjson::dom::object inner;
      if (!field.value.get_object().get(inner)) {
        if (auto found = find_member_at(inner, path.substr(key.size() + 1), depth + 1)) return found;
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<simdjson::dom::element> find_member(simdjson::dom::object obj, std::string_view path) {
  return find_member_at(obj, path, 0);
}

}  // namespace vigil
