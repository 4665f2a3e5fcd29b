// Event kinds as bit masks, and the fields decoded only for some kinds.
#include "core/event_kinds.h"

#include <algorithm>
#include <charconv>

#include "core/hash.h"
#include "core/text.h"

namespace vigil {

std::uint64_t KindNames::bits_of(const std::vector<std::string>& values) {
  std::uint64_t bits = 0;
  for (const std::string& v : values) {
    const std::string folded = fold_case(v);
    std::uint8_t& b = bit[folded];
    if (b == 0) {
      // The first 64 values get a bit each; later ones share one, chosen by
      // their hash (SigmaHQ's rules name hundreds of event IDs).
      b = static_cast<std::uint8_t>(bit.size() <= 64 ? bit.size() : 1 + fast_hash(folded) % 64);
    }
    bits |= std::uint64_t{1} << (b - 1);
  }
  return bits;
}

std::uint64_t KindNames::bits_of(const Value& v) const {
  if (bit.empty()) return 0;
  std::uint64_t bits = 0;
  auto add = [&](std::string_view folded) {
    const std::uint8_t* b = bit.find(folded);
    if (b && *b) bits |= std::uint64_t{1} << (*b - 1);
  };
  auto one = [&](const Value& x) {
    if (x.is_text()) {
      with_folded(x.as_string(), add);
    } else if (x.kind() == ValueKind::Int) {
      char buf[24];
      add({buf, static_cast<std::size_t>(std::to_chars(buf, buf + sizeof(buf), x.as_int()).ptr - buf)});
    }
  };
  if (v.kind() == ValueKind::Array) {
    for (const Value& x : v.as_array()) one(x);
  } else {
    one(v);
  }
  return bits;
}

KindBits FieldDeferral::kinds_of(const std::vector<PendingField>& pending, Memo& memo) const {
  // Every value a kind field has (an array's values come one by one): the
  // union of their bits, as RuleIndex computes them from the assembled event.
  KindBits kinds{};
  for (const PendingField& p : pending) {
    if (p.id >= kind_of.size() || kind_of[p.id] == 0) continue;
    const std::size_t k = kind_of[p.id] - 1;
    if (!p.value.is_text()) {
      kinds[k] |= names[k].bits_of(p.value);
      continue;
    }
    const std::string_view text = p.value.as_string();
    if (!memo.valid[k] || memo.text[k] != text) {
      memo.bits[k] = names[k].bits_of(p.value);
      memo.text[k].assign(text);
      memo.valid[k] = true;
    }
    kinds[k] |= memo.bits[k];
  }
  return kinds;
}

bool FieldDeferral::takes(FieldId id, const KindBits& event) const {
  const auto& readers = gates[gate_of[id] - 1];
  return std::any_of(readers.begin(), readers.end(), [&](const KindBits& r) { return kinds_take(r, event); });
}

}  // namespace vigil
