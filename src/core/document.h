// Document: an event as a flat list of (dotted key, value) members, built by
// decoders that do not start from JSON (EVTX, event XML). Members live in the
// batch arena; the event's fields are filled from them directly (no JSON
// round trip), and the JSON text is rendered only when someone prints the
// event (nested objects, keys in sorted order).
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/arena.h"
#include "core/event.h"
#include "core/field_registry.h"
#include "core/value.h"

namespace vigil {

// Collects members. Keys must outlive the batch (string literals, the
// mapping table's strings, or key() copies); values are copied into the arena.
class DocBuilder {
 public:
  explicit DocBuilder(Arena& arena) : arena_(&arena) {}

  void reset(Arena& arena) {
    arena_ = &arena;
    members_.clear();
    values_in_arena_ = false;
  }
  // Empty text is absent text, as in winlogbeat documents.
  void text(std::string_view key, std::string_view value) {
    if (!value.empty()) members_.push_back({key, Value::string(stored(value))});
  }
  // Values given from now on already live in the arena: no copy.
  void set_values_in_arena(bool yes) { values_in_arena_ = yes; }
  // For values that already live in the arena.
  void text_in_arena(std::string_view key, std::string_view value) {
    if (!value.empty()) members_.push_back({key, Value::string(value)});
  }
  // Text kept even when empty.
  void string_always(std::string_view key, std::string_view value) {
    members_.push_back({key, Value::string(stored(value))});
  }
  void integer(std::string_view key, std::int64_t value) { members_.push_back({key, Value::integer(value)}); }
  void boolean(std::string_view key, bool value) { members_.push_back({key, Value::boolean(value)}); }
  // A list of strings (nothing when empty, unless keep_empty).
  void list(std::string_view key, std::span<const std::string_view> items, bool keep_empty = false);
  void list(std::string_view key, const std::vector<std::string>& items);
  // A key made of `prefix.name`, copied into the arena.
  std::string_view key(std::string_view prefix, std::string_view name);

  std::span<const DocMember> members() const { return members_; }
  // Copies the members into the arena: the document lives as long as the batch.
  std::span<const DocMember> finish() const;
  Arena& arena() { return *arena_; }

 private:
  std::string_view stored(std::string_view value) { return values_in_arena_ ? value : arena_->copy(value); }

  Arena* arena_;
  bool values_in_arena_ = false;
  std::vector<DocMember> members_;
};

// Nested JSON object ({"a":{"b":1}} for key "a.b"), keys sorted; a key that
// is both a value and an object prefix is written twice (as Elasticsearch
// would index it, both reach the same field paths).
void append_document_json(std::string& out, std::span<const DocMember> members);
// The same members without the enclosing braces, each preceded by a comma:
// for appending to an existing JSON object.
void append_document_members(std::string& out, std::span<const DocMember> members);

// The event's document as JSON text: its source text, or its members rendered.
void append_event_json(std::string& out, const Event& event);
// {"a":{"b":v}} from dotted names and JSON values (written as given), in
// name order; a name that is both a value and a prefix of another ("a" and
// "a.b") cannot nest and stays flat, dotted, at the end.
std::string nested_json_object(const std::vector<std::pair<std::string, std::string>>& members);
// JSON text without the whitespace between tokens: a pretty-printed source
// (an element of an indented JSON array, a TOML table as JSON) stays one
// NDJSON line.
void append_minified_json(std::string& out, std::string_view text);
// Where the event came from: {"path", "line" | "record_id" (+ "offset") |
// "element"} (alerts' vigil.source, `vigil convert --source`); "" when the
// reader did not say.
std::string event_source_json(const Event& event);

// The event's document kept for later at the cost of a copy: its JSON source
// as it is, decoded members (EVTX, XML) in a compact binary form instead of
// being rendered (JSON escaping costs more than copying, and most kept
// events, sequence terms that never complete, are never printed).
void append_event_kept(std::string& out, const Event& event);
// The JSON text of a document kept by append_event_kept.
void append_kept_json(std::string& out, std::string_view kept);
// Text preceded by its length (4 bytes), for data kept in memory; take_framed
// takes one off the front of `in` (empty when `in` is too short).
void append_framed(std::string& out, std::string_view text);
std::string_view take_framed(std::string_view& in);

// One value found for a registered field while decoding an event.
struct PendingField {
  FieldId id;
  Value value;
  bool from_array;  // the source held an array here: the field stays multi-valued
};
// Appends one, member by member. A braced PendingField pushed back is built
// on the stack and copied as one 32-byte vector load right after the narrower
// stores that wrote it, which the CPU cannot forward (perf put 14 % of the
// PGO build's key-walk samples on that load; the total time did not move
// beyond the noise: BENCHMARKS.md, session 7).
inline void add_pending(std::vector<PendingField>& pending, FieldId id, Value value, bool from_array) {
  PendingField& p = pending.emplace_back();
  p.id = id;
  p.value = value;
  p.from_array = from_array;
}

// Sets the event's fields (a slot per registered field and a Value per present
// one, in the arena) from the values found: a field seen once keeps its
// value, a repeated field or one from an array becomes an Array; an empty
// array placeholder (null, from_array) is a present field with no values.
void assemble_event_fields(std::vector<PendingField>& pending, std::size_t field_count, Arena& arena, Event& event);

// Sets the event's fields from the members whose keys are registered ("*.ip"
// strings become IPs). `scratch` is reused between calls.
void fill_event_fields(std::span<const DocMember> members, const FieldRegistry& fields, Arena& arena, Event& event,
                       std::vector<PendingField>& scratch);

// Sets event.timestamp_ns from the field `timestamp_field` (ISO 8601 text or
// epoch milliseconds), as the JSON reader does.
void set_event_timestamp(Event& event, FieldId timestamp_field);

// Every text value of the event, whatever its field (keys are not values):
// from its decoded members, or its raw JSON with escapes undone. Stops at the
// first for which `test` is true, and says whether there was one. Sigma
// keyword searches (eql OpCode::Keywords) read events this way.
bool any_event_text(const Event& event, const std::function<bool(std::string_view)>& test);

// The text of a JSON string's contents `raw` (between its quotes) with its
// escapes undone, into `out`. A malformed escape, or a surrogate that is not
// half of a pair, is kept as written.
void unescape_json(std::string_view raw, std::string& out);

}  // namespace vigil
