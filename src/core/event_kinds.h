// What kind of event it is, as bit masks: per kind field (event.category,
// event.type, event.action, event.code, winlog.channel), one bit per value
// that rules require. The rule index admits a rule to an event only when the
// event's bits meet the rule's (detect/rule_index.h); the NDJSON reader uses
// the same bits to leave out of an event the fields no reader of an event of
// its kind reads (FieldDeferral, ingest/ndjson_reader.cpp).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/document.h"
#include "core/field_registry.h"
#include "core/string_table.h"
#include "core/value.h"

namespace vigil {

inline constexpr std::size_t kKindFieldCount = 5;  // category, type, action, code, channel
using KindBits = std::array<std::uint64_t, kKindFieldCount>;  // per kind field: 0 = any value

// Whether a reader requiring `reader` kinds may take an event of `event` kinds.
inline bool kinds_take(const KindBits& reader, const KindBits& event) {
  for (std::size_t k = 0; k < kKindFieldCount; ++k) {
    if (reader[k] && !(reader[k] & event[k])) return false;
  }
  return true;
}

// What a reader taking the events of either `a` or `b` takes: per kind
// field the union of their values, any value where either takes any.
inline KindBits either_kinds(const KindBits& a, const KindBits& b) {
  KindBits out{};
  for (std::size_t k = 0; k < kKindFieldCount; ++k) out[k] = a[k] && b[k] ? a[k] | b[k] : 0;
  return out;
}

// The values of one kind field that rules require, one bit each (up to 64;
// later ones share a bit chosen by their hash, so an event of a value sharing
// a bit may be admitted, none a rule needs is kept away).
struct KindNames {
  StringTable<std::uint8_t> bit;  // folded value -> bit + 1
  std::uint64_t bits_of(const std::vector<std::string>& values);  // assigns bits to new values
  std::uint64_t bits_of(const Value& v) const;                    // the event's (numbers as text)
};

// Fields a reader may leave undecoded in an event of a kind none of their
// readers takes. OTRF's Message is 31 % of its bytes, escaped every few
// characters, and one Application-log Sigma rule reads it: decoded only in
// events that rule can take, the rest is checked, not unescaped.
// Sound when every reader of a deferred field is a rule term that only runs
// on events of its kinds (RuleIndex::deferral() decides which fields qualify:
// no other part of vigil registered them, and every query reference to them is
// in a filed term whose kinds are known).
struct FieldDeferral {
  static constexpr std::size_t kMaxReaders = 16;  // kinds per gate: more are merged into one
  std::array<KindNames, kKindFieldCount> names;
  std::vector<std::uint32_t> gate_of;  // per FieldId: 0 always decoded, else 1 + position in gates
  std::vector<std::vector<KindBits>> gates;  // per gate: its readers' kinds (the event must meet one)

  std::vector<std::uint8_t> kind_of;  // per FieldId: 0, or 1 + its kind field's position

  bool deferred(FieldId id) const { return id < gate_of.size() && gate_of[id] != 0; }
  // The last text of each kind field and its bits: events come in runs of
  // one kind, so most are not looked up (one per reading thread).
  struct Memo {
    std::array<std::string, kKindFieldCount> text;
    std::array<std::uint64_t, kKindFieldCount> bits{};
    std::array<bool, kKindFieldCount> valid{};
  };
  // The kinds of the event whose values are `pending`.
  KindBits kinds_of(const std::vector<PendingField>& pending, Memo& memo) const;
  // Whether some reader of deferred field `id` takes an event of `event` kinds.
  bool takes(FieldId id, const KindBits& event) const;
};

}  // namespace vigil
