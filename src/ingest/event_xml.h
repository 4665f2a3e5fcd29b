// Windows event XML as people export it: `wevtutil qe LOG /f:xml` (events
// one after another, no root element), `Get-WinEvent | % { $_.ToXml() }`,
// or an <Events> document. Each <Event> becomes a WindowsEvent; a malformed
// one is reported (its number and byte offset; for UTF-16 input, the offset
// in the UTF-8 text) and the rest still read.
// UTF-8 (with or without BOM) and UTF-16LE with BOM (PowerShell's default
// when redirecting to a file) are accepted.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "ingest/windows_event.h"

namespace vigil {

struct EventXmlCallbacks {
  // One event: its number (1-based, in file order) and byte offset. Return false to stop.
  std::function<bool(const WindowsEvent& event, std::uint64_t number, std::uint64_t offset)> on_event;
  std::function<void(std::uint64_t number, std::uint64_t offset, std::string reason)> on_error;
};

// True when the first bytes look like event XML (a prolog, <Events> or <Event>).
bool looks_like_event_xml(std::string_view head);

// Returns false when on_event asked to stop.
bool parse_event_xml(std::string_view text, const EventXmlCallbacks& callbacks);

}  // namespace vigil
