// find_member: a walk that treats nested objects and dotted keys alike.
#include "output/json_lookup.h"

#include <fmt/format.h>

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

std::string text_at(simdjson::dom::object doc, std::string_view path) {
  auto e = find_member(doc, path);
  if (!e) return {};
  std::string_view s;
  if (!e->get_string().get(s)) return std::string(s);
  if (e->is_int64() || e->is_uint64()) return simdjson::minify(*e);
  simdjson::dom::array arr;
  if (!e->get_array().get(arr)) {
    for (auto first : arr) {
      if (!first.get_string().get(s)) return std::string(s);
      break;
    }
  }
  return {};
}

std::string source_text(simdjson::dom::element src) {
  simdjson::dom::object o;
  if (src.get_object().get(o)) return "(unknown)";
  std::string_view path;
  std::string out = o["path"].get_string().get(path) ? std::string("(unknown)") : std::string(path);
  std::uint64_t n = 0;
  if (!o["line"].get_uint64().get(n)) out += fmt::format(":{}", n);
  if (!o["record_id"].get_uint64().get(n)) out += fmt::format(" record {}", n);
  if (!o["offset"].get_uint64().get(n)) out += fmt::format(" (byte {})", n);
  if (!o["element"].get_uint64().get(n)) out += fmt::format(" element {}", n);
  return out;
}

}  // namespace vigil
