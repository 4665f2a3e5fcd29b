// libFuzzer target: Windows event XML exports (wevtutil / Get-WinEvent,
// UTF-8 or UTF-16) through the XML reader, the ECS mapping and the JSON
// rendering.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ingest/event_xml.h"
#include "windows_document.h"

using namespace vigil;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  EventXmlCallbacks callbacks;
  callbacks.on_event = [](const WindowsEvent& event, std::uint64_t, std::uint64_t) {
    fuzz::render_windows_event(event);
    return true;
  };
  callbacks.on_error = [&](std::uint64_t, std::uint64_t offset, std::string) {
    if (offset > text.size()) __builtin_trap();  // errors point inside the input
  };
  (void)parse_event_xml(text, callbacks);
  return 0;
}
