// Case folding, IP and CIDR parsing.
#include "core/text.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace vigil {

std::string fold_case(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = fold_char(c);
  return out;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
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
  // Candidates are where the first character occurs in either case; memchr
  // (vectorized) finds them, so long texts are scanned at memory speed
  // instead of comparing at every position.
  const char lower = fold_char(needle[0]);
  const char upper = (lower >= 'a' && lower <= 'z') ? static_cast<char>(lower - 32) : lower;
  const std::size_t last = haystack.size() - needle.size();
  const char* base = haystack.data();
  auto next = [&](char c, std::size_t at) -> std::size_t {
    if (at > last) return std::string_view::npos;
    const void* p = std::memchr(base + at, c, last - at + 1);
    return p ? static_cast<std::size_t>(static_cast<const char*>(p) - base) : std::string_view::npos;
  };
  std::size_t next_lower = next(lower, from);
  std::size_t next_upper = upper == lower ? std::string_view::npos : next(upper, from);
  std::string_view rest = needle.substr(1);
  while (next_lower != std::string_view::npos || next_upper != std::string_view::npos) {
    std::size_t i = std::min(next_lower, next_upper);
    if (equals_folded(haystack.substr(i + 1, rest.size()), rest)) return i;
    if (i == next_lower) next_lower = next(lower, i + 1);
    if (i == next_upper) next_upper = next(upper, i + 1);
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

}  // namespace vigil
