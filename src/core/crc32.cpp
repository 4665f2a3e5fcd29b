// CRC-32 by carry-less multiplication: the buffer is folded into four 128-bit
// lanes (x^512 mod P per step), the lanes into one (x^128 mod P), that into
// 64 then 32 bits (Barrett reduction). Constants are the standard ones for
// the reflected IEEE polynomial; the test compares with zlib on random data.
#include "core/crc32.h"

#include <zlib.h>

#if defined(__PCLMUL__) && defined(__SSE4_1__)
#include <immintrin.h>
#define VIGIL_CRC32_CLMUL 1
#endif

namespace vigil {
namespace {

#ifdef VIGIL_CRC32_CLMUL
// x^(512+32) and x^(512-32) mod P, x^(128+32) and x^(128-32) mod P, x^64 mod P,
// then P itself and its Barrett constant (bit-reflected, 33 bits).
alignas(16) constexpr std::uint64_t kFold512[2] = {0x0154442bd4, 0x01c6e41596};
alignas(16) constexpr std::uint64_t kFold128[2] = {0x01751997d0, 0x00ccaa009e};
alignas(16) constexpr std::uint64_t kFold64[2] = {0x0163cd6124, 0};
alignas(16) constexpr std::uint64_t kBarrett[2] = {0x01db710641, 0x01f7011641};

// One fold step: a carried 128-bit lane times the fold constants, plus new data.
inline __m128i fold(__m128i lane, __m128i k, __m128i data) {
  __m128i lo = _mm_clmulepi64_si128(lane, k, 0x00);
  __m128i hi = _mm_clmulepi64_si128(lane, k, 0x11);
  return _mm_xor_si128(_mm_xor_si128(lo, hi), data);
}

// The raw (not inverted) CRC state over `len` bytes, len a multiple of 16, >= 64.
std::uint32_t clmul_state(const unsigned char* p, std::size_t len, std::uint32_t state) {
  auto load = [](const unsigned char* q) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(q)); };
  __m128i lane[4] = {_mm_xor_si128(load(p), _mm_cvtsi32_si128(static_cast<int>(state))), load(p + 16), load(p + 32),
                     load(p + 48)};
  p += 64;
  len -= 64;
  const __m128i k512 = _mm_load_si128(reinterpret_cast<const __m128i*>(kFold512));
  for (; len >= 64; p += 64, len -= 64) {
    for (int i = 0; i < 4; ++i) lane[i] = fold(lane[i], k512, load(p + 16 * i));
  }
  const __m128i k128 = _mm_load_si128(reinterpret_cast<const __m128i*>(kFold128));
  __m128i x = lane[0];
  for (int i = 1; i < 4; ++i) x = fold(x, k128, lane[i]);
  for (; len >= 16; p += 16, len -= 16) x = fold(x, k128, load(p));
  // 128 → 64 bits.
  const __m128i low32 = _mm_setr_epi32(-1, 0, -1, 0);
  x = _mm_xor_si128(_mm_srli_si128(x, 8), _mm_clmulepi64_si128(x, k128, 0x10));
  const __m128i k64 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(kFold64));
  x = _mm_xor_si128(_mm_srli_si128(x, 4), _mm_clmulepi64_si128(_mm_and_si128(x, low32), k64, 0x00));
  // Barrett reduction to 32 bits.
  const __m128i barrett = _mm_load_si128(reinterpret_cast<const __m128i*>(kBarrett));
  __m128i t = _mm_clmulepi64_si128(_mm_and_si128(x, low32), barrett, 0x10);
  t = _mm_clmulepi64_si128(_mm_and_si128(t, low32), barrett, 0x00);
  return static_cast<std::uint32_t>(_mm_extract_epi32(_mm_xor_si128(x, t), 1));
}
#endif

}  // namespace

std::uint32_t crc32(std::uint32_t crc, const void* data, std::size_t len) {
  const auto* p = static_cast<const unsigned char*>(data);
#ifdef VIGIL_CRC32_CLMUL
  if (len >= 64) {
    const std::size_t bulk = len & ~std::size_t{15};
    crc = ~clmul_state(p, bulk, ~crc);
    p += bulk;
    len -= bulk;
  }
#endif
  while (len > 0) {  // zlib takes 32-bit lengths
    const auto n = static_cast<uInt>(len > (1u << 30) ? (1u << 30) : len);
    crc = static_cast<std::uint32_t>(::crc32(crc, p, n));
    p += n;
    len -= n;
  }
  return crc;
}

}  // namespace vigil
