// libFuzzer target: NDJSON documents through the reader's key walk. The
// input is split into lines decoded one after another by one reader, so the
// key prediction state (per object node: which key followed which) carries
// from document to document as it does over a file.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/arena.h"
#include "core/field_registry.h"
#include "ingest/event_reader.h"

using namespace vigil;

namespace {

// Names that share prefixes, nest, and differ in their last byte or length
// (the key comparison reads keys in 8-byte words).
const char* const kFields[] = {
    "@timestamp", "event.category", "event.type", "event.code", "event.action", "host.name", "host.id",
    "process.name", "process.pid", "process.args", "process.command_line", "process.executable",
    "process.parent.name", "process.parent.pid", "process.parent.executable", "user.name", "user.id",
    "registry.path", "registry.data.strings", "dll.path", "dll.code_signature.status", "file.path",
    "destination.ip", "destination.port", "source.ip", "winlog.event_id", "winlog.event_data.CommandLine",
    "winlog.event_data.TargetObject", "a", "ab", "abcdefgh", "abcdefghi", "abcdefghijklmnopqrstuvwxyz012345",
    "abcdefghijklmnopqrstuvwxyz0123456", "x.y.z.w", "k\"q"};

// Reads every byte a value points at, so ASan checks the views.
std::size_t touch(const Value& v) {
  std::size_t sum = 0;
  if (v.is_text()) {
    for (char c : v.as_string()) sum += static_cast<unsigned char>(c);
  } else if (v.kind() == ValueKind::Array) {
    for (const Value& x : v.as_array()) sum += touch(x);
  }
  return sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FieldRegistry fields;
  for (const char* f : kFields) fields.intern(f);
  EventReader reader(fields);
  Arena arena;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string reason;
  while (!input.empty()) {
    const std::size_t nl = input.find('\n');
    std::string line(input.substr(0, nl));  // its own allocation: ASan sees reads past it
    input = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);
    Event event;
    std::size_t sum = 0;
    if (reader.decode_one(line, event, arena, reason)) {
      for (FieldId f = 0; f < fields.size(); ++f) sum += touch(event.get(f));
    }
    if (sum == 1) reason.clear();  // keeps the reads
  }
  return 0;
}
