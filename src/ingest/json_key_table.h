// JsonKeyTable: the keys of one JSON object node, recognised by
// prediction: the keys seen in it and, per key, the two different keys that
// followed it last. Documents of one kind repeat their keys in one order, so
// most keys are confirmed by one comparison against a predicted one instead
// of being scanned, hashed and looked up; the second prediction catches
// inputs that interleave kinds (OTRF NDJSON: 88 % of keys confirmed by the
// first, 96 % by either); a miss costs the lookup. The comparison covers the
// key and its closing quote in one masked 32-byte compare: simdjson's
// padding, or the 64 bytes the single pass keeps after a line, keep the 32
// bytes after a key's start readable. Both NDJSON decoders (simdjson's and
// the single-pass walk, ingest/ndjson_reader.cpp) share one table per node.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "core/field_registry.h"
#include "core/hash.h"

namespace vigil {

// Bounded against documents with endless distinct keys: past kMaxKeys a
// node's new keys are looked up every time, and a lookup probes at most
// kMaxProbe slots.
struct JsonKeyTable {
  static constexpr std::uint16_t kNoKey = 0xffff;  // no key entry (an index into keys)
  static constexpr std::uint16_t kStart = kNoKey - 1;  // "before the first key" as a previous key
  struct Successors {
    std::uint16_t recent = kNoKey;  // the key that followed last time
    std::uint16_t older = kNoKey;   // the different one before it
    void record(std::uint16_t key) {
      if (key == recent) return;
      older = recent;
      recent = key;
    }
  };
  struct KeyMemo {
    static constexpr std::size_t kMaxKey = 31;  // with its closing quote, 32 bytes
    alignas(32) char text[32] = {};             // the key, its closing quote, zeros
    std::uint32_t mask = 0;                     // bit i: text[i] is compared
    FieldRegistry::PathNode next = FieldRegistry::kNoNode;
    Successors successors;
    std::uint8_t size = 0;  // of the key, without its quote

    // `raw`: a key's text in the document, followed by its closing quote.
    // One vector comparison where the target has them: it runs once per key
    // (four masked 8-byte words instead took 4 % more of a hunt's time).
    bool holds(const char* raw) const {
#if defined(__AVX2__)
      const __m256i seen = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(raw));
      const __m256i want = _mm256_load_si256(reinterpret_cast<const __m256i*>(text));
      const auto equal = static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(seen, want)));
      return (equal & mask) == mask;
#else
      return std::memcmp(raw, text, std::size_t{size} + 1) == 0;
#endif
    }
    KeyMemo(std::string_view key, FieldRegistry::PathNode to) : next(to), size(static_cast<std::uint8_t>(key.size())) {
      std::memcpy(text, key.data(), key.size());
      text[key.size()] = '"';
      mask = key.size() + 1 == 32 ? ~std::uint32_t{0} : (std::uint32_t{1} << (key.size() + 1)) - 1;
    }
  };
  static constexpr std::size_t kMaxKeys = 256;  // below kNoKey - 1, the walk's own marker
  static constexpr std::size_t kSlots = 512;
  static constexpr std::size_t kMaxProbe = 8;
  std::vector<KeyMemo> keys;
  std::array<std::uint16_t, kSlots> slots;
  Successors first;  // the keys that began the object last
  JsonKeyTable() { slots.fill(kNoKey); }

  // What followed `previous` (a key entry or kStart).
  Successors& after(std::uint16_t previous) { return previous == kStart ? first : keys[previous].successors; }

  // The entry of the key at `raw` if it is one of those that followed
  // `previous` (kNoKey: nothing recorded), else kNoKey. `raw` holds no
  // quote before the end of a key it matches: that key exactly.
  std::uint16_t predict(std::uint16_t previous, const char* raw) {
    if (previous == kNoKey) return kNoKey;
    Successors& s = after(previous);
    if (s.recent != kNoKey && keys[s.recent].holds(raw)) return s.recent;
    if (s.older != kNoKey && keys[s.older].holds(raw)) {
      std::swap(s.recent, s.older);
      return s.recent;
    }
    return kNoKey;
  }
  // After a missed prediction: `found` followed `previous`.
  void record(std::uint16_t previous, std::uint16_t found) {
    if (previous != kNoKey && found != kNoKey) after(previous).record(found);
  }

  // The entry of `key` (a view into the document, unescaped, at most
  // KeyMemo::kMaxKey bytes), added with `descend()`'s node if new; kNoKey
  // when the table is full or the probe too long.
  template <typename Descend>
  std::uint16_t entry(std::string_view key, Descend&& descend) {
    const std::uint64_t h = fast_hash(key);
    for (std::size_t i = 0; i < kMaxProbe; ++i) {
      std::uint16_t& slot = slots[(h + i) & (kSlots - 1)];
      if (slot == kNoKey) {
        if (keys.size() >= kMaxKeys) return kNoKey;
        slot = static_cast<std::uint16_t>(keys.size());
        keys.emplace_back(key, descend());
        return slot;
      }
      if (keys[slot].holds(key.data())) return slot;
    }
    return kNoKey;
  }
};

}  // namespace vigil
