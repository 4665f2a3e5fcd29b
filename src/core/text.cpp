// Case folding, IP and CIDR parsing.
#include "core/text.h"

#include <fmt/format.h>

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

namespace vigil {

std::string fold_case(std::string_view s) {
  std::string out;
  append_folded(out, s);
  return out;
}

void append_folded(std::string& out, std::string_view text) {
  const std::size_t at = out.size();
  out.resize(at + text.size());
  for (std::size_t i = 0; i < text.size(); ++i) out[at + i] = fold_char(text[i]);
}

char* write_utf8(char* out, std::uint32_t cp) {
  if (cp < 0x80) {
    *out++ = static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out++ = static_cast<char>(0xc0 | (cp >> 6));
    *out++ = static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    *out++ = static_cast<char>(0xe0 | (cp >> 12));
    *out++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    *out++ = static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    *out++ = static_cast<char>(0xf0 | (cp >> 18));
    *out++ = static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    *out++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    *out++ = static_cast<char>(0x80 | (cp & 0x3f));
  }
  return out;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  char bytes[4];
  out.append(bytes, static_cast<std::size_t>(write_utf8(bytes, cp) - bytes));
}

bool equals_folded(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (fold_char(a[i]) != fold_char(b[i])) return false;
  }
  return true;
}

int compare_folded(std::string_view a, std::string_view b) {
  std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    auto x = static_cast<unsigned char>(fold_char(a[i]));
    auto y = static_cast<unsigned char>(fold_char(b[i]));
    if (x != y) return x < y ? -1 : 1;
  }
  if (a.size() == b.size()) return 0;
  return a.size() < b.size() ? -1 : 1;
}

std::size_t find_text(std::string_view haystack, std::string_view needle, std::size_t from, bool fold) {
  if (from > haystack.size()) return std::string_view::npos;
  if (!fold) return haystack.find(needle, from);
  if (needle.empty()) return from;
  if (needle.size() > haystack.size()) return std::string_view::npos;
  const std::size_t k = needle.size();
  const std::size_t last = haystack.size() - k;  // last possible start
  const char* base = haystack.data();
  std::size_t i = from;
#if defined(__SSE2__)
  // Muła's SIMD substring filter: at 16 (AVX2: 32) positions at once, test
  // the needle's first and last characters with the 0x20 bit set on both
  // sides (a superset of the case-folded matches: letters fold, a few
  // punctuation pairs collide), then verify each candidate. Long script
  // blocks and command lines are scanned at memory speed, however common
  // the needle's first character is.
  const char first = static_cast<char>(fold_char(needle.front()) | 0x20);
  const char back = static_cast<char>(fold_char(needle.back()) | 0x20);
#if defined(__AVX2__)
  constexpr std::size_t kBlock = 32;
  const __m256i bit = _mm256_set1_epi8(0x20);
  const __m256i want_first = _mm256_set1_epi8(first);
  const __m256i want_back = _mm256_set1_epi8(back);
  for (; i + kBlock - 1 <= last; i += kBlock) {
    __m256i a = _mm256_or_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(base + i)), bit);
    __m256i b = _mm256_or_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(base + i + k - 1)), bit);
    auto mask = static_cast<std::uint32_t>(
        _mm256_movemask_epi8(_mm256_and_si256(_mm256_cmpeq_epi8(a, want_first), _mm256_cmpeq_epi8(b, want_back))));
#else
  constexpr std::size_t kBlock = 16;
  const __m128i bit = _mm_set1_epi8(0x20);
  const __m128i want_first = _mm_set1_epi8(first);
  const __m128i want_back = _mm_set1_epi8(back);
  for (; i + kBlock - 1 <= last; i += kBlock) {
    __m128i a = _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(base + i)), bit);
    __m128i b = _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(base + i + k - 1)), bit);
    auto mask = static_cast<std::uint32_t>(
        _mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, want_first), _mm_cmpeq_epi8(b, want_back))));
#endif
    while (mask != 0) {
      std::size_t at = i + static_cast<std::size_t>(__builtin_ctz(mask));
      if (equals_folded(haystack.substr(at, k), needle)) return at;
      mask &= mask - 1;
    }
  }
#endif
  for (; i <= last; ++i) {
    if (fold_char(base[i]) == fold_char(needle.front()) && equals_folded(haystack.substr(i, k), needle)) return i;
  }
  return std::string_view::npos;
}

std::optional<IpAddress> parse_ip(std::string_view text) {
  char buf[64];
  if (text.empty() || text.size() >= sizeof(buf)) return std::nullopt;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress ip;
  in_addr v4{};
  if (inet_pton(AF_INET, buf, &v4) == 1) {
    ip.v4 = true;
    ip.bytes[10] = 0xff;
    ip.bytes[11] = 0xff;
    std::memcpy(&ip.bytes[12], &v4, 4);
    return ip;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, buf, &v6) == 1) {
    std::memcpy(ip.bytes.data(), &v6, 16);
    return ip;
  }
  return std::nullopt;
}

bool CidrBlock::contains(const IpAddress& ip) const {
  int bits = prefix_bits;
  for (std::size_t i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    std::uint8_t mask = bits >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - bits));
    if ((ip.bytes[i] & mask) != (base.bytes[i] & mask)) return false;
  }
  return true;
}

std::optional<CidrBlock> parse_cidr(std::string_view text) {
  auto slash = text.find('/');
  auto addr = parse_ip(text.substr(0, slash));
  if (!addr) return std::nullopt;
  CidrBlock block{*addr, 128};
  if (slash == std::string_view::npos) return block;
  auto bits_text = text.substr(slash + 1);
  int bits = -1;
  auto [ptr, ec] = std::from_chars(bits_text.data(), bits_text.data() + bits_text.size(), bits);
  if (ec != std::errc() || ptr != bits_text.data() + bits_text.size()) return std::nullopt;
  int max_bits = addr->v4 ? 32 : 128;
  if (bits < 0 || bits > max_bits) return std::nullopt;
  block.prefix_bits = addr->v4 ? bits + 96 : bits;
  return block;
}

std::size_t utf8_sequence(std::string_view s) {
  auto at = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  auto tail = [&](std::size_t i) { return i < s.size() && (at(i) & 0xC0) == 0x80; };
  const unsigned char b = at(0);
  if (b >= 0xC2 && b <= 0xDF) return tail(1) ? 2 : 0;
  if (b >= 0xE0 && b <= 0xEF) {
    if (!tail(1) || !tail(2)) return 0;
    if (b == 0xE0 && at(1) < 0xA0) return 0;   // overlong
    if (b == 0xED && at(1) >= 0xA0) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (b >= 0xF0 && b <= 0xF4) {
    if (!tail(1) || !tail(2) || !tail(3)) return 0;
    if (b == 0xF0 && at(1) < 0x90) return 0;   // overlong
    if (b == 0xF4 && at(1) >= 0x90) return 0;  // past U+10FFFF
    return 4;
  }
  return 0;
}

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto u = static_cast<unsigned char>(text[i]);
    std::size_t n = 1;
    bool shown = u >= 0x20 && u < 0x7f;
    if (u >= 0x80) {
      n = utf8_sequence(text.substr(i));
      shown = n > 0 && !is_c1_control(text.substr(i, n));
      if (!shown) n = 1;
    }
    if (shown) {
      out.append(text.data() + i, n);
    } else {
      out += fmt::format("\\x{:02x}", u);
    }
    i += n;
  }
  return out;
}

std::string base64_encode(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const std::uint32_t v = (static_cast<std::uint8_t>(in[i]) << 16) | (static_cast<std::uint8_t>(in[i + 1]) << 8) |
                            static_cast<std::uint8_t>(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == in.size()) {
    const std::uint32_t v = static_cast<std::uint8_t>(in[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const std::uint32_t v = (static_cast<std::uint8_t>(in[i]) << 16) | (static_cast<std::uint8_t>(in[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::size_t significant_start(std::string_view text) {
  return text.find_first_not_of(" \t\r\n", utf8_bom_length(text));
}

char first_significant(std::string_view text) {
  const std::size_t at = significant_start(text);
  return at == std::string_view::npos ? '\0' : text[at];
}

namespace {
std::uint16_t load_u16(const char* p) {
  std::uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
}  // namespace

void append_utf16le(std::string& out, const char* p, std::size_t units, bool stop_at_nul) {
  std::size_t i = 0;
  // Most text is ASCII: copy runs of it without per-character checks.
  std::size_t start = out.size();
  out.resize(start + units);
  char* dst = out.data() + start;
  std::size_t n = 0;
  for (; i < units; ++i) {
    std::uint16_t c = load_u16(p + 2 * i);
    if (c == 0 || c >= 0x80) break;
    dst[n++] = static_cast<char>(c);
  }
  out.resize(start + n);
  for (; i < units; ++i) {
    std::uint32_t c = load_u16(p + 2 * i);
    if (c == 0 && stop_at_nul) break;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < units) {
      std::uint32_t lo = load_u16(p + 2 * (i + 1));
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        append_utf8(out, 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00));
        ++i;
        continue;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else {
      append_utf8(out, c);
    }
  }
}

std::string utf16le_to_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() / 2);
  append_utf16le(out, bytes.data(), bytes.size() / 2, false);
  return out;
}

}  // namespace vigil
