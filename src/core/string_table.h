// StringTable<T>: a hash table from strings to T for lookups on the hot path
// (constant sets of compiled queries, the rule index's values): open
// addressing over a compact slot array, each key's hash kept beside it so a
// probe compares strings only when hashes agree. Keys iterate in insertion
// order. Built once, then looked up many times (from several threads: find()
// is const and touches nothing).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/hash.h"

namespace vigil {

template <typename T>
class StringTable {
 public:
  struct Entry {
    std::string key;
    T value;
  };

  // The value for `key`, inserted (value-initialized) if absent.
  T& operator[](std::string_view key) {
    const std::uint64_t h = fast_hash(key);
    if (std::uint32_t at = slot_of(key, h); slots_[at] != 0) return entries_[slots_[at] - 1].value;
    if (2 * (entries_.size() + 1) > slots_.size()) grow();
    entries_.push_back({std::string(key), T{}});
    hashes_.push_back(h);
    slots_[slot_of(key, h)] = static_cast<std::uint32_t>(entries_.size());
    return entries_.back().value;
  }
  // The position of `key` in insertion order (as begin() iterates),
  // inserted (value-initialized) if absent.
  std::size_t position(std::string_view key) {
    (*this)[key];
    return slots_[slot_of(key, fast_hash(key))] - 1;
  }
  // True when the key was added (false: it was there).
  bool insert(std::string_view key) {
    std::size_t before = entries_.size();
    (*this)[key];
    return entries_.size() != before;
  }
  const T* find(std::string_view key) const {
    if (entries_.empty()) return nullptr;
    std::uint32_t at = slots_[slot_of(key, fast_hash(key))];
    return at == 0 ? nullptr : &entries_[at - 1].value;
  }
  bool contains(std::string_view key) const { return find(key) != nullptr; }

  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  auto begin() const { return entries_.begin(); }
  auto end() const { return entries_.end(); }

 private:
  // The slot holding `key`, or the free slot where it would go.
  std::uint32_t slot_of(std::string_view key, std::uint64_t h) const {
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
      std::uint32_t e = slots_[i];
      if (e == 0 || (hashes_[e - 1] == h && entries_[e - 1].key == key)) return static_cast<std::uint32_t>(i);
    }
  }
  void grow() {
    slots_.assign(slots_.size() * 2, 0);
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t e = 0; e < entries_.size(); ++e) {
      std::size_t i = hashes_[e] & mask;
      while (slots_[i] != 0) i = (i + 1) & mask;
      slots_[i] = static_cast<std::uint32_t>(e + 1);
    }
  }

  std::vector<Entry> entries_;
  std::vector<std::uint64_t> hashes_;       // per entry
  std::vector<std::uint32_t> slots_ = std::vector<std::uint32_t>(8, 0);  // entry + 1; 0 = free
};

// A set of strings: StringTable without values.
class StringSet {
 public:
  bool insert(std::string_view key) { return table_.insert(key); }
  bool contains(std::string_view key) const { return table_.contains(key); }
  std::size_t size() const { return table_.size(); }
  bool empty() const { return table_.empty(); }
  // The strings, in insertion order.
  class Iterator {
   public:
    using Inner = typename std::vector<StringTable<char>::Entry>::const_iterator;
    explicit Iterator(Inner it) : it_(it) {}
    const std::string& operator*() const { return it_->key; }
    Iterator& operator++() {
      ++it_;
      return *this;
    }
    bool operator==(const Iterator& o) const { return it_ == o.it_; }

   private:
    Inner it_;
  };
  Iterator begin() const { return Iterator(table_.begin()); }
  Iterator end() const { return Iterator(table_.end()); }

 private:
  StringTable<char> table_;
};

}  // namespace vigil
