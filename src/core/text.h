// Text primitives shared by the evaluator and the readers: ASCII case
// folding (the folding EQL's case-insensitive operators use here, see
// docs/eql.md), IP address and CIDR parsing.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace vigil {

inline char fold_char(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

std::string fold_case(std::string_view s);
// Appends `text` ASCII-folded to `out` (sized once, then written).
void append_folded(std::string& out, std::string_view text);
// fn(the text ASCII-folded): folded in a stack buffer when it is short (no
// allocation on the hot path), else in a string.
template <typename Fn>
decltype(auto) with_folded(std::string_view text, Fn&& fn) {
  char buf[256];
  if (text.size() <= sizeof(buf)) {
    for (std::size_t i = 0; i < text.size(); ++i) buf[i] = fold_char(text[i]);
    return fn(std::string_view(buf, text.size()));
  }
  const std::string folded = fold_case(text);
  return fn(std::string_view(folded));
}
// Appends code point `cp` encoded as UTF-8.
void append_utf8(std::string& out, std::uint32_t cp);
// Writes code point `cp` encoded as UTF-8 (1 to 4 bytes) at `out`; returns the end.
char* write_utf8(char* out, std::uint32_t cp);
// Appends `units` UTF-16LE code units at `p` as UTF-8 (a surrogate pair as
// one code point, an unpaired surrogate as U+FFFD); stops before a NUL when
// `stop_at_nul`. How EVTX strings and UTF-16 exports are read.
void append_utf16le(std::string& out, const char* p, std::size_t units, bool stop_at_nul);
// UTF-16LE bytes (a last odd byte ignored) as UTF-8.
std::string utf16le_to_utf8(std::string_view bytes);
// Length of the well-formed UTF-8 sequence (RFC 3629: no overlong forms, no
// surrogates, nothing past U+10FFFF) at the start of `s`, or 0.
std::size_t utf8_sequence(std::string_view s);
// Whether the well-formed sequence `seq` (as utf8_sequence measured it) is a
// C1 control, U+0080-U+009F: 0xC2 followed by 0x80-0x9F.
inline bool is_c1_control(std::string_view seq) {
  return seq.size() == 2 && static_cast<unsigned char>(seq[0]) == 0xC2 && static_cast<unsigned char>(seq[1]) < 0xA0;
}
// Text from logs made safe to show on a terminal: control characters (C0,
// DEL and the C1 range U+0080-U+009F) and bytes that are not well-formed
// UTF-8 are written as \xHH, so a host or file name cannot move the cursor,
// retitle the window or clear the screen. Everything else is kept.
std::string printable(std::string_view text);
// Standard base64 (RFC 4648 §4, with padding).
std::string base64_encode(std::string_view bytes);
bool equals_folded(std::string_view a, std::string_view b);
// Three-way comparison of a and b after folding both.
int compare_folded(std::string_view a, std::string_view b);
// Position of `needle` in `haystack` from `from`, or npos; optionally folded.
std::size_t find_text(std::string_view haystack, std::string_view needle, std::size_t from, bool fold);

// Length of the UTF-8 byte order mark at the start of `text`: 3, or 0 when
// there is none. Windows tools write one before UTF-8 text (PowerShell 5's
// Out-File -Encoding utf8, Notepad), and a concatenation of such files has
// one at the start of a line: JSON readers take it as blank.
inline std::size_t utf8_bom_length(std::string_view text) {
  return text.starts_with("\xEF\xBB\xBF") ? 3 : 0;
}
// Where `text` starts after a UTF-8 byte order mark and the blanks (space,
// tab, CR, LF) after it; npos when nothing else is there.
std::size_t significant_start(std::string_view text);
// The byte there, or 0: how every reader tells JSON ('{' opens NDJSON, '['
// an array) from the other formats.
char first_significant(std::string_view text);

// Calls fn(line, offset) for every '\n'-separated line of text[begin, end)
// (the last one also without a '\n'; a '\r' before it is kept), in order,
// until fn returns false. Returns false when fn stopped it.
template <typename Fn>
bool for_each_line(std::string_view text, std::size_t begin, std::size_t end, Fn&& fn) {
  while (begin < end) {
    const char* nl = static_cast<const char*>(std::memchr(text.data() + begin, '\n', end - begin));
    const std::size_t line_end = nl ? static_cast<std::size_t>(nl - text.data()) : end;
    if (!fn(text.substr(begin, line_end - begin), begin)) return false;
    begin = line_end + 1;
  }
  return true;
}
template <typename Fn>
bool for_each_line(std::string_view text, Fn&& fn) {
  return for_each_line(text, 0, text.size(), std::forward<Fn>(fn));
}

struct IpAddress {
  std::array<std::uint8_t, 16> bytes{};  // IPv4 stored as IPv4-mapped IPv6
  bool v4 = false;
  bool operator==(const IpAddress&) const = default;
};

std::optional<IpAddress> parse_ip(std::string_view text);

struct CidrBlock {
  IpAddress base;
  int prefix_bits = 0;  // out of 128 (IPv4 prefixes are offset by 96)
  bool contains(const IpAddress& ip) const;
};

// Accepts "10.0.0.0/8", "::1/128" and bare addresses (a /32 or /128 block).
std::optional<CidrBlock> parse_cidr(std::string_view text);

}  // namespace vigil
