// json_scan: the byte-level steps of the NDJSON reader's single-pass path
// (ndjson_reader.cpp). A line is read in two steps: LineIndex finds its end
// and every quote in it, 64 bytes at a time without branching on content
// (as simdjson's first stage does); the reader then walks the document
// left to right, going from a string's opening quote straight to its
// closing one, and checks everything between strings with a strict
// RFC 8259 grammar. Each step either succeeds or answers "not here"
// (nullptr / false): it never decides a document is malformed, the reader
// then hands the line to simdjson, which does. So the steps only need to
// be exact for what they accept.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#if defined(__AVX512BW__) || defined(__AVX2__) || defined(__SSE2__)
#include <immintrin.h>
#endif

#include "core/text.h"

namespace vigil::json_scan {

// Bit i describes byte i of a 64-byte block.
struct BlockMasks {
  std::uint64_t quote;    // '"'
  std::uint64_t control;  // below 0x20: only '\n' (the line's end) and '\r' before it are let through
  std::uint64_t high;     // 0x80 and above: part of a UTF-8 sequence, to be validated
  std::uint64_t backslash;  // '\\'
  std::uint64_t u_or_slash;  // 'u' or '/': after a backslash, an escape that spells a character otherwise written as itself
};

// The portable definition; the vector versions below must agree with it (tested).
inline BlockMasks block_masks_portable(const char* p) {
  BlockMasks m{0, 0, 0, 0, 0};
  for (unsigned i = 0; i < 64; ++i) {
    const auto c = static_cast<unsigned char>(p[i]);
    const std::uint64_t bit = std::uint64_t{1} << i;
    if (c == '"') m.quote |= bit;
    if (c < 0x20) m.control |= bit;
    if (c >= 0x80) m.high |= bit;
    if (c == '\\') m.backslash |= bit;
    if (c == 'u' || c == '/') m.u_or_slash |= bit;
  }
  return m;
}

inline BlockMasks block_masks(const char* p) {
#if defined(__AVX512BW__)
  const __m512i v = _mm512_loadu_si512(p);
  return {_mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('"')), _mm512_cmplt_epu8_mask(v, _mm512_set1_epi8(0x20)),
          _mm512_movepi8_mask(v), _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\\')),
          _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('u')) | _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('/'))};
#elif defined(__AVX2__)
  BlockMasks m{0, 0, 0, 0, 0};
  for (unsigned half = 0; half < 2; ++half) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32 * half));
    const auto mask = [](__m256i x) { return std::uint64_t{static_cast<std::uint32_t>(_mm256_movemask_epi8(x))}; };
    const unsigned shift = 32 * half;
    m.quote |= mask(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('"'))) << shift;
    // Unsigned c < 0x20 <=> min(c, 0x1f) == c.
    m.control |= mask(_mm256_cmpeq_epi8(_mm256_min_epu8(v, _mm256_set1_epi8(0x1f)), v)) << shift;
    m.high |= mask(v) << shift;
    m.backslash |= mask(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('\\'))) << shift;
    m.u_or_slash |= mask(_mm256_or_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('u')),
                                         _mm256_cmpeq_epi8(v, _mm256_set1_epi8('/')))) << shift;
  }
  return m;
#elif defined(__SSE2__)
  BlockMasks m{0, 0, 0, 0, 0};
  for (unsigned quarter = 0; quarter < 4; ++quarter) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * quarter));
    const auto mask = [](__m128i x) { return std::uint64_t{static_cast<std::uint16_t>(_mm_movemask_epi8(x))}; };
    const unsigned shift = 16 * quarter;
    m.quote |= mask(_mm_cmpeq_epi8(v, _mm_set1_epi8('"'))) << shift;
    m.control |= mask(_mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v)) << shift;
    m.high |= mask(v) << shift;
    m.backslash |= mask(_mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))) << shift;
    m.u_or_slash |= mask(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('u')), _mm_cmpeq_epi8(v, _mm_set1_epi8('/'))))
                    << shift;
  }
  return m;
#else
  return block_masks_portable(p);
#endif
}

// The quotes of one line, found before the line is walked so that crossing
// a string costs a bit scan instead of a dependent load-and-compare chain
// per string (half the time of the single-pass walk on OTRF's documents).
class LineIndex {
 public:
  static constexpr std::size_t kMaxBlocks = 4096;  // 256 KB: longer lines go to simdjson

  // Indexes the line starting at `begin`. Returns its '\n', or nullptr when
  // the line holds a control character other than a '\r' before its '\n'
  // (JSON allows tabs between tokens, but they are rare enough to leave to
  // simdjson), is too long, or its '\n' is not before `safe`. Every block
  // read starts before `safe`; callers keep `safe` 64 bytes before the end
  // of readable memory, so the walk may also read 64 bytes past the '\n'.
  const char* index(const char* begin, const char* safe) {
    begin_ = begin;
    std::uint64_t high = 0;
    std::uint64_t rare = 0;             // a backslash before 'u' or '/' (in this block)
    std::uint64_t backslash_carry = 0;  // the previous block ended in a backslash
    for (std::size_t b = 0; b < kMaxBlocks; ++b) {
      const char* block = begin + 64 * b;
      if (block >= safe) return nullptr;
      __builtin_prefetch(block + 4096);
      const BlockMasks m = block_masks(block);
      if (b == quotes_.size()) quotes_.push_back(0);
      // Bit i: a backslash at i - 1. An escaped backslash before a 'u' counts
      // too: rare_escapes() may say yes for a line without one, never no for
      // a line with one.
      const std::uint64_t after_backslash = (m.backslash << 1) | backslash_carry;
      backslash_carry = m.backslash >> 63;
      std::uint64_t control = m.control;
      while (control != 0) {
        const unsigned i = static_cast<unsigned>(__builtin_ctzll(control));
        if (block[i] == '\n') {
          const std::uint64_t before = (std::uint64_t{1} << i) - 1;
          quotes_[b] = m.quote & before;
          high_ = (high | (m.high & before)) != 0;
          rare_escapes_ = (rare | (after_backslash & m.u_or_slash & before)) != 0;
          blocks_ = b + 1;
          return block + i < safe ? block + i : nullptr;
        }
        if (block[i] != '\r' || block[i + 1] != '\n') return nullptr;
        control &= control - 1;
      }
      quotes_[b] = m.quote;
      high |= m.high;
      rare |= after_backslash & m.u_or_slash;
    }
    return nullptr;
  }

  // The line holds bytes >= 0x80: its UTF-8 needs validating.
  bool high() const { return high_; }
  // The line may hold a `\\u` or `\\/` escape (false: every character of
  // its strings is written as itself, or as `\\\\`, `\\"`, `\\n`, ...).
  bool rare_escapes() const { return rare_escapes_; }

  // The closing quote of the string opening at `open`, or nullptr when the
  // line ends first. A quote closes when an even number of backslashes
  // precedes it; the count walks back and stops at the opening quote at worst.
  // Inlined: it runs once per string.
  [[gnu::always_inline]] const char* string_close(const char* open) const {
    for (const char* quote = next_quote(open + 1); quote != nullptr; quote = next_quote(quote + 1)) {
      std::size_t run = 0;
      while (quote[-1 - static_cast<std::ptrdiff_t>(run)] == '\\') ++run;
      if ((run & 1) == 0) return quote;
    }
    return nullptr;
  }

 private:
  // The first quote at or after `from` (not past the line's end), or nullptr.
  [[gnu::always_inline]] const char* next_quote(const char* from) const {
    const auto at = static_cast<std::size_t>(from - begin_);
    std::size_t b = at / 64;
    if (b >= blocks_) return nullptr;
    std::uint64_t m = quotes_[b] & (~std::uint64_t{0} << (at % 64));
    while (m == 0) {
      if (++b >= blocks_) return nullptr;
      m = quotes_[b];
    }
    return begin_ + 64 * b + __builtin_ctzll(m);
  }

  const char* begin_ = nullptr;
  std::vector<std::uint64_t> quotes_;  // per block, only those before the line's end
  std::size_t blocks_ = 0;
  bool high_ = false;
  bool rare_escapes_ = false;
};

// Whether [text, text + size) holds a backslash. Reads up to 31 bytes past
// the end (the walk's strings lie 64 bytes before readable memory ends):
// strings the walk materializes are mostly short, and a memchr call per
// string cost more than the search.
inline bool has_backslash(const char* text, std::size_t size) {
#if defined(__AVX2__)
  for (std::size_t at = 0; at < size; at += 32) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(text + at));
    auto hits = static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('\\'))));
    if (size - at < 32) hits &= (std::uint32_t{1} << (size - at)) - 1;
    if (hits != 0) return true;
  }
  return false;
#else
  return std::memchr(text, '\\', size) != nullptr;
#endif
}

// The end of the number starting at `p` (RFC 8259: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?),
// or nullptr if there is none or it is longer than 63 bytes. Whether a
// delimiter follows is the caller's business. Reads stop at the first byte
// that cannot continue the number (a line's '\n' at the latest).
inline const char* number_end(const char* p, bool& integer) {
  const char* const limit = p + 63;
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  const auto digits = [&](const char*& q) {
    const char* first = q;
    while (q < limit && digit(*q)) ++q;
    return q > first && q < limit;
  };
  const char* q = p;
  if (*q == '-') ++q;
  if (*q == '0') {
    ++q;
  } else if (!digits(q)) {
    return nullptr;
  }
  integer = true;
  if (*q == '.') {
    integer = false;
    ++q;
    if (!digits(q)) return nullptr;
  }
  if (*q == 'e' || *q == 'E') {
    integer = false;
    ++q;
    if (*q == '+' || *q == '-') ++q;
    if (!digits(q)) return nullptr;
  }
  return q < limit ? q : nullptr;
}

// An integer the number grammar accepted, when int64 holds it the way
// simdjson reads it: at most 18 digits, and not "-0" (which simdjson may
// read as a double). False: let simdjson read the document.
inline bool small_integer(const char* p, const char* end, std::int64_t& out) {
  const bool negative = *p == '-';
  const char* q = p + negative;
  if (end - q > 18 || (negative && *q == '0')) return false;
  std::int64_t v = 0;
  for (; q < end; ++q) v = v * 10 + (*q - '0');
  out = negative ? -v : v;
  return true;
}

// The literal (true, false, null) at `p`: its end, or nullptr.
inline const char* literal_end(const char* p) {
  if (std::memcmp(p, "true", 4) == 0 || std::memcmp(p, "null", 4) == 0) return p + 4;
  if (std::memcmp(p, "false", 5) == 0) return p + 5;
  return nullptr;
}

// The code point of the `\uXXXX` escape at `slash` (before `close`);
// false when it is cut short, not hexadecimal, or a surrogate (left to
// simdjson, whose pairing rules then apply).
inline bool u_escape(const char* slash, const char* close, std::uint32_t& cp) {
  if (close - slash < 6) return false;
  cp = 0;
  for (int k = 2; k < 6; ++k) {
    const char c = slash[k];
    const int h = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (h < 0) return false;
    cp = cp * 16 + static_cast<std::uint32_t>(h);
  }
  return cp < 0xd800 || cp > 0xdfff;
}

// Room unescape() needs past the text's length in `out`.
inline constexpr std::size_t kUnescapeSlack = 32;

// Unescapes the string text [text, close) into `out` (room for close - text
// + kUnescapeSlack bytes: unescaping only shrinks, and plain runs are copied
// 32 bytes at a time, the last block past the end) and returns the end of
// what was written, or nullptr for an escape simdjson would reject and for
// surrogate escapes (left to simdjson, whose pairing rules then apply). Reads
// up to 31 bytes past `close` (the walk's strings lie 64 bytes before
// readable memory ends). Windows paths and messages escape every few
// characters: a memchr and a memcpy call per run cost more than the runs.
inline char* unescape(const char* text, const char* close, char* out) {
  const char* p = text;
  while (p < close) {
#if defined(__AVX2__)
    const __m256i block = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), block);
    auto stops = static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(block, _mm256_set1_epi8('\\'))));
    const auto left = static_cast<std::size_t>(close - p);
    if (left < 32) stops |= std::uint32_t{1} << left;  // the text ends in this block
    if (stops == 0) {
      p += 32;
      out += 32;
      continue;
    }
    const unsigned run = static_cast<unsigned>(__builtin_ctz(stops));
    p += run;
    out += run;
    if (p >= close) break;
    const char* slash = p;
#else
    const char* slash = static_cast<const char*>(std::memchr(p, '\\', static_cast<std::size_t>(close - p)));
    const char* run_end = slash ? slash : close;
    std::memcpy(out, p, static_cast<std::size_t>(run_end - p));
    out += run_end - p;
    if (!slash) break;
#endif
    // The string's closing quote is unescaped, so a backslash before `close` has its escape before it too.
    switch (slash[1]) {
      case '"': *out++ = '"'; break;
      case '\\': *out++ = '\\'; break;
      case '/': *out++ = '/'; break;
      case 'b': *out++ = '\b'; break;
      case 'f': *out++ = '\f'; break;
      case 'n': *out++ = '\n'; break;
      case 'r': *out++ = '\r'; break;
      case 't': *out++ = '\t'; break;
      case 'u': {
        std::uint32_t cp = 0;
        if (!u_escape(slash, close, cp)) return nullptr;
        out = write_utf8(out, cp);  // at most 3 bytes for 6 escaped ones
        p = slash + 6;
        continue;
      }
      default:
        return nullptr;
    }
    p = slash + 2;
  }
  return out;
}

}  // namespace vigil::json_scan
