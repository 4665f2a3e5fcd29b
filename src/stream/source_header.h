// The Vigil-Source header `vigil publish` puts on each event message: where
// the event was read (path; line, record id or array element; byte offset),
// as event_source_json() writes it. `vigil run --nats` reads it back for
// every message, so the common form (a path without JSON escapes) is read
// without a JSON parser; anything else goes through simdjson, and both
// readings agree (tests/stream/source_header_test.cpp).
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/event.h"

namespace vigil {

struct SourceRef {
  std::string_view path;  // into the header text, or `unescaped`
  std::string unescaped;  // a path with JSON escapes, decoded
  SourceUnit unit = SourceUnit::Line;
  std::uint64_t line = 0, offset = 0;
  std::string_view file() const { return unescaped.empty() ? path : std::string_view(unescaped); }
};

// The fast reading: nothing unless `text` is exactly what event_source_json()
// writes for a path without escapes or control characters.
std::optional<SourceRef> parse_source_fast(std::string_view text);

// Any header text: the fast reading, else JSON; nothing if it names no path.
std::optional<SourceRef> parse_source(simdjson::dom::parser& parser, std::string_view text);

}  // namespace vigil
