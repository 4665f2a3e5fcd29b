// Vigil-Source header reading.
#include "stream/source_header.h"

#include <charconv>

namespace vigil {

namespace {

// A JSON number at the front of `text` that is a uint64 (taken off it), if any.
std::optional<std::uint64_t> take_number(std::string_view& text) {
  if (text.size() > 1 && text[0] == '0' && text[1] >= '0' && text[1] <= '9') return std::nullopt;  // JSON has no leading zeros
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end == text.data()) return std::nullopt;
  text.remove_prefix(static_cast<std::size_t>(end - text.data()));
  return n;
}

}  // namespace

// What event_source_json() writes, read without a JSON parser when the path
// has no escapes (most do not): {"path":"...","line"|"record_id"|"element":N[,"offset":N]}.
std::optional<SourceRef> parse_source_fast(std::string_view text) {
  constexpr std::string_view kStart = "{\"path\":\"";
  if (!text.starts_with(kStart)) return std::nullopt;
  text.remove_prefix(kStart.size());
  const std::size_t quote = text.find('"');
  if (quote == std::string_view::npos) return std::nullopt;
  SourceRef s;
  s.path = text.substr(0, quote);
  if (s.path.empty() || s.path.find('\\') != std::string_view::npos) return std::nullopt;
  for (unsigned char c : s.path) {
    if (c < 0x20) return std::nullopt;  // not valid JSON: let the parser say so
  }
  if (!simdjson::validate_utf8(s.path.data(), s.path.size())) return std::nullopt;
  text.remove_prefix(quote + 1);
  if (text.starts_with(",\"record_id\":")) {
    s.unit = SourceUnit::Record;
    text.remove_prefix(13);
  } else if (text.starts_with(",\"element\":")) {
    s.unit = SourceUnit::Element;
    text.remove_prefix(11);
  } else if (text.starts_with(",\"line\":")) {
    text.remove_prefix(8);
  } else {
    return std::nullopt;
  }
  auto line = take_number(text);
  if (!line) return std::nullopt;
  s.line = *line;
  if (text.starts_with(",\"offset\":")) {
    text.remove_prefix(10);
    auto offset = take_number(text);
    if (!offset) return std::nullopt;
    s.offset = *offset;
  }
  if (text != "}") return std::nullopt;
  return s;
}

std::optional<SourceRef> parse_source(simdjson::dom::parser& parser, std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (auto fast = parse_source_fast(text)) return fast;
  simdjson::dom::element doc;
  if (parser.parse(text.data(), text.size()).get(doc)) return std::nullopt;
  SourceRef s;
  std::string_view path;
  if (doc["path"].get(path)) return std::nullopt;
  s.unescaped = std::string(path);
  if (s.unescaped.empty()) return std::nullopt;
  std::uint64_t n = 0;
  if (!doc["record_id"].get(n)) {
    s.unit = SourceUnit::Record;
    s.line = n;
  } else if (!doc["element"].get(n)) {
    s.unit = SourceUnit::Element;
    s.line = n;
  } else if (!doc["line"].get(n)) {
    s.line = n;
  }
  if (!doc["offset"].get(n)) s.offset = n;
  return s;
}

}  // namespace vigil
