// FieldRegistry: interns dotted field names ("process.parent.name") to dense
// FieldIds. The registry built while compiling queries *is* the projection:
// the JSON reader materializes exactly the fields registered here, and an
// event's values are indexed by FieldId.
#pragma once

#include <algorithm>
#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace vigil {

using FieldId = std::uint32_t;

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

class FieldRegistry {
 public:
  FieldRegistry();

  // Returns the id of `name`, registering it if new.
  FieldId intern(std::string_view name);
  std::optional<FieldId> find(std::string_view name) const {
    // Most names a decoder offers are not registered: reject them by first
    // character and length before hashing.
    if (!name.empty() && (!first_chars_[static_cast<unsigned char>(name[0])] ||
                          !(length_mask_ & (std::uint64_t{1} << std::min<std::size_t>(name.size(), 63))))) {
      return std::nullopt;
    }
    return find_hashed(name);
  }
  // True when some registered field starts with `prefix` followed by '.'.
  bool is_prefix(std::string_view prefix) const;

  std::string_view name(FieldId id) const { return names_[id]; }
  std::size_t size() const { return names_.size(); }

  // Always registered: the reader parses it into Event::timestamp_ns.
  static constexpr FieldId kTimestamp = 0;

 private:
  std::optional<FieldId> find_hashed(std::string_view name) const;

  std::bitset<256> first_chars_;
  std::uint64_t length_mask_ = 0;  // bit min(length, 63) set for every registered name
  std::vector<std::string> names_;
  std::unordered_map<std::string, FieldId, StringHash, std::equal_to<>> ids_;
  std::unordered_set<std::string, StringHash, std::equal_to<>> prefixes_;
};

}  // namespace vigil
