// FieldRegistry: name interning and the prefix set the JSON reader uses to
// decide, per object key, whether to descend (prefix), read (field) or skip.
#include "core/field_registry.h"

#include <cstring>

#include "core/hash.h"

namespace vigil {
namespace {

// Only registered segments are in the table, so keys an attacker writes can
// make a lookup probe at most the longest run of registered entries.
std::uint64_t segment_hash(std::uint32_t parent, std::string_view s) { return fast_hash(s, parent); }

// A slot's tag: high hash bits, never 0 (0 marks a free slot).
std::uint16_t tag_of(std::uint64_t hash) { return static_cast<std::uint16_t>((hash >> 48) | 1); }

}  // namespace

FieldRegistry::FieldRegistry() {
  rehash(64);
  intern("@timestamp");
}

FieldRegistry::PathNode FieldRegistry::child(PathNode parent, std::string_view segment) const {
  // Most keys a document holds lead nowhere: the probe walks the 2-byte tags
  // (a few cache lines for all registered names) and reads an edge only when
  // its tag agrees.
  const std::uint64_t h = segment_hash(parent, segment);
  const std::uint16_t tag = tag_of(h);
  const std::size_t mask = tags_.size() - 1;
  for (std::size_t i = h & mask;; i = (i + 1) & mask) {
    if (tags_[i] == 0) return kNoNode;
    if (tags_[i] != tag) continue;
    const Edge& e = edges_[i];
    if (e.parent == parent && e.length == segment.size() &&
        std::memcmp(segment_text_.data() + e.offset, segment.data(), segment.size()) == 0) {
      return e.node;
    }
  }
}

FieldRegistry::PathNode FieldRegistry::add_child(PathNode parent, std::string_view segment) {
  if (PathNode existing = child(parent, segment); existing != kNoNode) return existing;
  if (2 * (edge_count_ + 1) > edges_.size()) rehash(edges_.size() * 2);
  auto node = static_cast<PathNode>(nodes_.size());
  nodes_.emplace_back();
  ++nodes_[parent].children;
  Edge e{segment_hash(parent, segment), parent, node, static_cast<std::uint32_t>(segment_text_.size()),
         static_cast<std::uint32_t>(segment.size())};
  segment_text_.append(segment);
  place(e);
  ++edge_count_;
  return node;
}

void FieldRegistry::place(const Edge& e) {
  const std::size_t mask = edges_.size() - 1;
  std::size_t i = e.hash & mask;
  while (tags_[i] != 0) i = (i + 1) & mask;
  edges_[i] = e;
  tags_[i] = tag_of(e.hash);
}

void FieldRegistry::rehash(std::size_t capacity) {
  std::vector<Edge> old = std::move(edges_);
  std::vector<std::uint16_t> old_tags = std::move(tags_);
  edges_.assign(capacity, Edge{});
  tags_.assign(capacity, 0);
  for (std::size_t i = 0; i < old.size(); ++i) {
    if (old_tags[i] != 0) place(old[i]);
  }
}

FieldId FieldRegistry::intern(std::string_view name) {
  const FieldId id = add(name);
  pinned_[id] = true;
  return id;
}

FieldId FieldRegistry::intern_reference(std::string_view name) {
  const FieldId id = add(name);
  ++references_[id];
  return id;
}

FieldId FieldRegistry::add(std::string_view name) {
  if (auto it = ids_.find(name); it != ids_.end()) return it->second;
  auto id = static_cast<FieldId>(names_.size());
  pinned_.push_back(false);
  references_.push_back(0);
  names_.emplace_back(name);
  if (!name.empty()) first_chars_.set(static_cast<unsigned char>(name[0]));
  length_mask_ |= std::uint64_t{1} << std::min<std::size_t>(name.size(), 63);
  ids_.emplace(std::string(name), id);
  ip_.push_back(is_ip_name(name));
  PathNode node = kRoot;
  for (std::size_t start = 0;;) {
    std::size_t dot = name.find('.', start);
    node = add_child(node, name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  nodes_[node].field = id;
  return id;
}

std::optional<FieldId> FieldRegistry::find_hashed(std::string_view name) const {
  if (auto it = ids_.find(name); it != ids_.end()) return it->second;
  return std::nullopt;
}


}  // namespace vigil
