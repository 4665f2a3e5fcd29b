// Hash128: a deterministic 128-bit hash of bytes (two independent 64-bit
// multiply-xorshift lanes), for ids that must be the same on every run and
// machine (alert ids). Not cryptographic.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace vigil {

// A fast 64-bit hash of short strings (field names, values looked up in
// hash tables): 8 bytes per multiply, the tail by whole loads. Fixed, not
// seeded: tables keyed by attacker text are bounded elsewhere.
inline std::uint64_t fast_hash(std::string_view s, std::uint64_t seed = 0) {
  auto load64 = [](const char* p) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    return w;
  };
  auto load32 = [](const char* p) {
    std::uint32_t w;
    std::memcpy(&w, p, 4);
    return std::uint64_t{w};
  };
  const char* p = s.data();
  const std::size_t n = s.size();
  std::uint64_t h = 0x9E3779B97F4A7C15ull ^ (seed * 0xff51afd7ed558ccdull) ^ n;
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    h = (h ^ load64(p + i)) * 0xbf58476d1ce4e5b9ull;
    h ^= h >> 31;
  }
  // The last 0-7 bytes by whole loads (overlapping when they must): no
  // byte-by-byte copy to the stack that a wide read would then stall on.
  const std::size_t rest = n - i;
  std::uint64_t w = 0;
  if (rest >= 4) {
    w = (load32(p + i) << 32) | load32(p + n - 4);
  } else if (rest > 0) {
    w = (std::uint64_t{static_cast<unsigned char>(p[i])} << 16) |
        (std::uint64_t{static_cast<unsigned char>(p[i + rest / 2])} << 8) | static_cast<unsigned char>(p[n - 1]);
  }
  h = (h ^ w) * 0x94d049bb133111ebull;
  return h ^ (h >> 29);
}

class Hash128 {
 public:
  Hash128& add(std::string_view bytes) {
    for (unsigned char c : bytes) {
      a_ = (a_ ^ c) * 0x100000001b3ULL;              // FNV-1a lane
      b_ = (b_ + c + 0x9e3779b97f4a7c15ULL) * 0xff51afd7ed558ccdULL;  // second lane
      b_ ^= b_ >> 29;
    }
    // A separator so ("ab","c") and ("a","bc") differ.
    a_ = (a_ ^ 0xff) * 0x100000001b3ULL;
    b_ = (b_ ^ (b_ >> 31)) * 0xc4ceb9fe1a85ec53ULL;
    return *this;
  }
  // 32 lower-case hex digits.
  std::string hex() const {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::uint64_t x = mix(a_), y = mix(b_ ^ a_);
    std::string out(32, '0');
    for (int i = 0; i < 16; ++i) {
      out[15 - i] = kDigits[(x >> (4 * i)) & 15];
      out[31 - i] = kDigits[(y >> (4 * i)) & 15];
    }
    return out;
  }

 private:
  static std::uint64_t mix(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::uint64_t a_ = 0xcbf29ce484222325ULL;
  std::uint64_t b_ = 0x6a09e667f3bcc909ULL;
};

}  // namespace vigil
