// Event and EventBatch: the unit the pipeline moves. An event's values are
// indexed by FieldId (the registry is the projection), live in the batch
// arena, and `source` is the raw document kept for output (`_source`).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "core/arena.h"
#include "core/field_registry.h"
#include "core/timestamp.h"
#include "core/value.h"

namespace vigil {

// One member of a decoded document (see core/document.h).
struct DocMember {
  std::string_view key;  // dotted path: "winlog.event_data.Image"
  Value value;           // String, Int, Bool or Array of those
};

// What Event::line counts in its file.
enum class SourceUnit : std::uint8_t { Line, Record, Element };  // NDJSON line, EVTX record id, Nth XML/array element

struct Event {
  // The values of the registered fields the document holds: field_slots has
  // one entry per FieldId below field_count, 0 for none, else 1 + the value's
  // position in field_values (only present fields take a Value; a batch of
  // events touches a fraction of the memory a slot per field would).
  const std::uint32_t* field_slots = nullptr;
  const Value* field_values = nullptr;
  std::uint32_t field_count = 0;
  // The document for output: raw JSON text (JSON inputs) or decoded members
  // rendered on demand (EVTX, XML). Both are valid for the batch only; use
  // append_event_json() (core/document.h) to print either.
  std::string_view source;
  std::span<const DocMember> document;
  // What the JSON reader knows of `source`'s escapes: Plain when no string
  // holds a `\u` or `\/` escape (every character is written as itself or as
  // `\\`, `\"`, `\n`...), so a search of the raw text finds what a search of
  // the decoded values would (RuleIndex's any-text field).
  enum class JsonEscapes : std::uint8_t { Unknown, Plain, Rare };
  JsonEscapes json_escapes = JsonEscapes::Unknown;
  TimestampNs timestamp_ns = 0;
  bool has_timestamp = false;
  std::uint32_t input_index = 0;  // which input (file) it came from
  SourceUnit unit = SourceUnit::Line;
  std::uint64_t line = 0;         // 1-based line (NDJSON), EVTX record id, or element index (XML, JSON array)
  std::uint64_t offset = 0;       // EVTX: the record's byte offset in its file (0: not known)
  // The file it came from ("archive.zip:entry" inside archives), valid while
  // the batch is: alerts name it (vigil.source).
  std::string_view file;
  std::uint64_t ordinal = 0;      // position in the whole input stream

  const Value& get(FieldId id) const {
    static constexpr Value kNull;
    if (id >= field_count) return kNull;
    const std::uint32_t slot = field_slots[id];
    return slot != 0 ? field_values[slot - 1] : kNull;
  }
};

struct EventBatch {
  Arena arena{1 << 20};
  std::vector<Event> events;
  void clear() {
    events.clear();
    arena.reset();
  }
};

}  // namespace vigil
