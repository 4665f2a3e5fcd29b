// libFuzzer target: bytes as an EVTX file — file header, chunk framing,
// records, binary XML templates and substitutions. Every decoded event's
// strings are read so ASan checks the views, and the event goes through the
// ECS mapping and the JSON rendering.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ingest/ecs_mapping.h"
#include "ingest/evtx_parser.h"
#include "windows_document.h"

using namespace vigil;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string file(reinterpret_cast<const char*>(data), size);
  std::size_t sum = 0;
  EvtxCallbacks callbacks;
  callbacks.on_record = [&](const WindowsEvent& event, std::uint64_t, std::uint64_t) {
    auto read = [&](std::string_view s) {
      for (char c : s) sum += static_cast<unsigned char>(c);
    };
    for (std::string_view s : {event.provider, event.event_id, event.time_created, event.channel, event.computer}) read(s);
    for (const auto& fields : {&event.event_data, &event.user_data}) {
      for (const EventDataField& f : *fields) {
        read(f.name);
        read(f.value);
      }
    }
    for (const auto& array : event.arrays) {
      for (std::string_view item : array.items) read(item);
    }
    fuzz::render_windows_event(event);
    return true;
  };
  callbacks.on_error = [&](std::uint64_t, std::string reason) { sum += reason.size(); };
  callbacks.on_warning = [&](std::uint64_t, std::string reason) { sum += reason.size(); };
  (void)parse_evtx(file, callbacks);
  if (sum == 1) return -1;  // keeps the reads
  return 0;
}
