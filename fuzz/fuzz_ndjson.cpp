// libFuzzer target: NDJSON documents through the reader's key walk. The
// input is split into lines decoded one after another by one reader, so the
// key prediction state (per object node: which key followed which) carries
// from document to document as it does over a file. Then the whole input is
// read as a mapped file is, once by the single pass and once by simdjson
// alone: any difference in events or diagnostics aborts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/arena.h"
#include "core/field_registry.h"
#include "ingest/event_reader.h"
#include "ingest/ndjson_reader.h"

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

// The input read whole, as read_contiguous() reads a mapped file, rendered
// as text: events (line, source, time, every field) and diagnostics.
std::vector<std::string> read_whole(const FieldRegistry& fields, const char* data, std::size_t size,
                                    bool single_pass) {
  ReaderOptions options;
  options.single_pass = single_pass;
  options.threads = 1;
  options.batch_size = 3;  // several flushes even in small inputs
  std::uint64_t ordinal = 0;
  NdjsonReader reader(fields, options, ordinal);
  ReadStats stats;
  InputReport report(stats, 1000);
  std::vector<std::string> out;
  reader.read_contiguous(nullptr, std::string_view(data, size), size, 0, "input", [&](EventBatch& batch) {
    for (const Event& e : batch.events) {
      std::string row = std::to_string(e.line) + " " + std::to_string(e.timestamp_ns) + " ";
      row.append(e.source);
      for (FieldId f = 0; f < fields.size(); ++f) {
        row += ' ';
        append_json(row, e.get(f));
      }
      out.push_back(std::move(row));
    }
    return true;
  }, report);
  for (const auto& d : stats.diagnostics) {
    out.push_back(std::to_string(d.line) + " " + std::to_string(d.offset) + " " + d.reason);
  }
  return out;
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
  // Exactly the input's bytes on the heap (ASan sees any read past them),
  // then with a blank line of 64 spaces after it: the single pass takes
  // only lines that end 64 bytes before the end of the data.
  for (std::size_t padding : {std::size_t{0}, std::size_t{65}}) {
    const std::size_t n = size + padding;
    auto whole = std::make_unique<char[]>(n ? n : 1);
    if (size) std::memcpy(whole.get(), data, size);
    if (padding) {
      whole[size] = '\n';
      std::memset(whole.get() + size + 1, ' ', padding - 1);
    }
    if (read_whole(fields, whole.get(), n, true) != read_whole(fields, whole.get(), n, false)) std::abort();
  }
  return 0;
}
