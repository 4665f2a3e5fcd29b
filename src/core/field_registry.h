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
#include <vector>

#include "core/hash.h"

namespace vigil {

using FieldId = std::uint32_t;

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return fast_hash(s); }
};

class FieldRegistry {
 public:
  FieldRegistry();

  // Returns the id of `name`, registering it if new. A field registered by
  // intern() may be read in any event, so every event decodes it.
  FieldId intern(std::string_view name);
  // The same for a query's reference to `name` (a Field instruction of a
  // compiled program), which is counted instead: a field only queries
  // reference, all of them in rule terms that run on some kinds of events
  // only, need not be decoded in other events (RuleIndex::deferral()).
  FieldId intern_reference(std::string_view name);
  bool pinned(FieldId id) const { return pinned_[id]; }
  std::uint32_t references(FieldId id) const { return references_[id]; }
  std::optional<FieldId> find(std::string_view name) const {
    // Most names a decoder offers are not registered: reject them by first
    // character and length before hashing.
    if (!name.empty() && (!first_chars_[static_cast<unsigned char>(name[0])] ||
                          !(length_mask_ & (std::uint64_t{1} << std::min<std::size_t>(name.size(), 63))))) {
      return std::nullopt;
    }
    return find_hashed(name);
  }

  // The registered names as a tree of dot-separated segments, for readers
  // that walk nested documents: a node per registered name and per prefix
  // of one. Walking costs one small hash probe per key, and builds no
  // dotted path.
  using PathNode = std::uint32_t;
  static constexpr PathNode kRoot = 0;
  static constexpr PathNode kNoNode = ~PathNode{0};
  static constexpr FieldId kNoField = ~FieldId{0};
  // The node `key` leads to from `node` (a key may hold dots: "process.name"
  // at the top level is the same node as "name" inside "process"), or kNoNode.
  PathNode descend(PathNode node, std::string_view key) const {
    std::size_t start = 0;
    while (node != kNoNode) {
      std::size_t dot = key.find('.', start);
      if (dot == std::string_view::npos) return child(node, key.substr(start));
      node = child(node, key.substr(start, dot - start));
      start = dot + 1;
    }
    return node;
  }
  // The field `node` names (kNoField if it is only a prefix).
  FieldId node_field(PathNode node) const { return nodes_[node].field; }
  bool node_has_children(PathNode node) const { return nodes_[node].children > 0; }
  // Fields named "ip" or "*.ip" hold IP addresses.
  static bool is_ip_name(std::string_view name) { return name == "ip" || name.ends_with(".ip"); }
  bool is_ip(FieldId id) const { return ip_[id]; }

  std::string_view name(FieldId id) const { return names_[id]; }
  std::size_t size() const { return names_.size(); }

  // Always registered: the reader parses it into Event::timestamp_ns.
  static constexpr FieldId kTimestamp = 0;

 private:
  FieldId add(std::string_view name);
  std::optional<FieldId> find_hashed(std::string_view name) const;
  PathNode child(PathNode parent, std::string_view segment) const;
  PathNode add_child(PathNode parent, std::string_view segment);
  void rehash(std::size_t capacity);

  struct Node {
    FieldId field = kNoField;
    std::uint32_t children = 0;
  };
  struct Edge {  // parent --segment--> node
    std::uint64_t hash = 0;
    PathNode parent = 0;
    PathNode node = kNoNode;
    std::uint32_t offset = 0;  // segment text in segment_text_
    std::uint32_t length = 0;
  };
  std::vector<Node> nodes_{1};
  void place(const Edge& e);
  std::vector<Edge> edges_;  // open addressing, power-of-two size, at most half full
  std::vector<std::uint16_t> tags_;  // per slot of edges_: 0 free, else high bits of its hash
  std::size_t edge_count_ = 0;
  std::string segment_text_;
  std::vector<bool> ip_;
  std::vector<bool> pinned_;                // registered by intern()
  std::vector<std::uint32_t> references_;  // intern_reference() calls

  std::bitset<256> first_chars_;
  std::uint64_t length_mask_ = 0;  // bit min(length, 63) set for every registered name
  std::vector<std::string> names_;
  std::unordered_map<std::string, FieldId, StringHash, std::equal_to<>> ids_;
};

}  // namespace vigil
