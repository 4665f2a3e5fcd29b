// FieldRegistry: name interning and the prefix set the JSON reader uses to
// decide, per object key, whether to descend (prefix), read (field) or skip.
#include "core/field_registry.h"

namespace vigil {

FieldRegistry::FieldRegistry() { intern("@timestamp"); }

FieldId FieldRegistry::intern(std::string_view name) {
  if (auto it = ids_.find(name); it != ids_.end()) return it->second;
  auto id = static_cast<FieldId>(names_.size());
  names_.emplace_back(name);
  if (!name.empty()) first_chars_.set(static_cast<unsigned char>(name[0]));
  length_mask_ |= std::uint64_t{1} << std::min<std::size_t>(name.size(), 63);
  ids_.emplace(std::string(name), id);
  for (std::size_t dot = name.find('.'); dot != std::string_view::npos; dot = name.find('.', dot + 1)) {
    prefixes_.emplace(name.substr(0, dot));
  }
  return id;
}

std::optional<FieldId> FieldRegistry::find_hashed(std::string_view name) const {
  if (auto it = ids_.find(name); it != ids_.end()) return it->second;
  return std::nullopt;
}

bool FieldRegistry::is_prefix(std::string_view prefix) const { return prefixes_.find(prefix) != prefixes_.end(); }

}  // namespace vigil
