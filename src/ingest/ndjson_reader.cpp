// NdjsonReader implementation. Two input paths share one decoder:
//  - contiguous inputs (mmap) are split into lines in place; a line is parsed
//    where it lies when simdjson's padding fits before the end of the mapping,
//    else it is copied into a padded scratch buffer;
//  - streams (stdin, gzip, zstd) are read in blocks into a padded buffer; the
//    current batch is flushed before the buffer is compacted so no event ever
//    points at overwritten bytes.
// A line is decoded by the single-pass walk where it can be, else by
// simdjson; both recognise keys with JsonKeyTable (ingest/json_key_table.h).
// Flat Windows exports are rebuilt first (ingest/flat_windows_export.h).
#include "ingest/ndjson_reader.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "core/document.h"
#include "core/hash.h"
#include "core/text.h"
#include "core/worker_pool.h"
#include "ingest/event_tree_json.h"
#include "ingest/flat_windows_export.h"
#include "ingest/json_key_table.h"
#include "ingest/json_scan.h"

namespace vigil {
namespace od = simdjson::ondemand;

namespace {
constexpr std::size_t kMaxDepth = 64;
// A stream is read this much at a time (more for a longer line): small
// enough that the line index finds the bytes read() just copied still in the
// core's cache (4 MB blocks: SigmaHQ and Elastic hunts 8-10 % slower).
constexpr std::size_t kStreamBlock = 512u << 10;

}  // namespace

struct NdjsonReader::Impl {
  const FieldRegistry& fields;
  ReaderOptions options;
  od::parser parser;
  od::parser array_parser;  // walks JSON array files while `parser` decodes elements
  od::parser hit_parser;    // finds an Elasticsearch hit's _source
  std::string hit_scratch;  // padded copy of a hit that cannot be parsed in place
  bool stable_input = false;  // the document being decoded stays where it is until its batch is flushed
  std::vector<PendingField> pending;
  // Strings of deferred fields the walk left escaped (FieldDeferral), by
  // their place in `pending`, until the event's kinds are known.
  struct DeferredString {
    std::size_t position;
    const char* text;
    const char* close;
  };
  std::vector<DeferredString> deferred;
  FieldDeferral::Memo kind_memo;
  std::string scratch;  // padded copy for documents that cannot be parsed in place
  std::uint64_t& next_ordinal;
  // The file being read and what its events' line counts (events name it).
  std::string_view current_file;
  SourceUnit current_unit = SourceUnit::Line;
  std::uint64_t flushes = 0;  // batches handed to the sink so far
  // Per input: -1 undecided, 0 ordinary ECS, 1 flat Windows export, 2 event XML trees (EventTreeJson).
  int flat_windows_input = -1;
  EventTreeJson event_tree;
  int hits_input = -1;  // per input: -1 undecided, 0 documents, 1 Elasticsearch hits (decided with the above)
  FlatWindowsExport flat_export;
  std::string_view input_head;  // the input's first bytes read so far (a flat export's local times)
  bool local_times = true;       // NdjsonReader::learn_local_times()

  Impl(const FieldRegistry& f, ReaderOptions o, std::uint64_t& ordinal) : fields(f), options(o), next_ordinal(ordinal) {}

  // ---- decoding one document ----

  // A string value as a view: straight into the input when it has no escapes
  // and the input outlives the batch, else unescaped and copied to the arena.
  simdjson::error_code string_of(od::value& value, Arena& arena, std::string_view& out) {
    if (stable_input) {
      std::string_view raw = value.raw_json_token();
      while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\t' || raw.back() == '\r' || raw.back() == '\n')) {
        raw.remove_suffix(1);
      }
      if (raw.size() >= 2 && raw.front() == '"' && raw.back() == '"' &&
          std::memchr(raw.data() + 1, '\\', raw.size() - 2) == nullptr) {
        out = raw.substr(1, raw.size() - 2);
        return simdjson::SUCCESS;
      }
    }
    std::string_view s;
    if (auto err = value.get_string().get(s)) return err;
    out = arena.copy(s);
    return simdjson::SUCCESS;
  }

  simdjson::error_code materialize(od::value& value, FieldId id, FieldRegistry::PathNode node, Arena& arena,
                                   bool in_array, std::size_t depth) {
    od::json_type type;
    if (auto err = value.type().get(type)) return err;
    switch (type) {
      case od::json_type::string: {
        std::string_view s;
        if (auto err = string_of(value, arena, s)) return err;
        add_pending(pending, id, fields.is_ip(id) ? Value::ip(s) : Value::string(s), in_array);
        return simdjson::SUCCESS;
      }
      case od::json_type::number: {
        od::number_type nt;
        if (auto err = value.get_number_type().get(nt)) return err;
        if (nt == od::number_type::signed_integer) {
          std::int64_t i;
          if (auto err = value.get_int64().get(i)) return err;
          add_pending(pending, id, Value::integer(i), in_array);
        } else if (nt == od::number_type::unsigned_integer) {
          std::uint64_t u;
          if (auto err = value.get_uint64().get(u)) return err;
          add_pending(pending, id, Value::floating(static_cast<double>(u)), in_array);
        } else {
          double d;
          if (auto err = value.get_double().get(d)) return err;
          add_pending(pending, id, Value::floating(d), in_array);
        }
        return simdjson::SUCCESS;
      }
      case od::json_type::boolean: {
        bool b;
        if (auto err = value.get_bool().get(b)) return err;
        add_pending(pending, id, Value::boolean(b), in_array);
        return simdjson::SUCCESS;
      }
      case od::json_type::null: {
        bool is_null = false;
        if (auto err = value.is_null().get(is_null)) return err;
        if (!is_null) return simdjson::INCORRECT_TYPE;
        if (!in_array) add_pending(pending, id, Value::null(), false);
        return simdjson::SUCCESS;
      }
      case od::json_type::array: {
        if (depth >= kMaxDepth) return simdjson::DEPTH_ERROR;
        od::array arr;
        if (auto err = value.get_array().get(arr)) return err;
        std::size_t before = pending.size();
        for (auto element : arr) {
          if (auto err = element.error()) return err;
          if (auto err = materialize(element.value_unsafe(), id, node, arena, true, depth + 1)) return err;
        }
        if (pending.size() == before) {
          // An empty array is a present field with no values: mark it so the
          // event shows an empty array rather than null.
          add_pending(pending, id, Value::null(), true);
        }
        return simdjson::SUCCESS;
      }
      case od::json_type::object: {
        // The field itself is an object: its sub-fields may be wanted.
        od::object obj;
        if (auto err = value.get_object().get(obj)) return err;
        return walk_object(obj, node, arena, depth + 1);
      }
    }
    return simdjson::SUCCESS;
  }

  simdjson::error_code visit(od::value& value, FieldRegistry::PathNode node, Arena& arena, std::size_t depth) {
    // `node` names this value. Read it, descend into it, or leave it unparsed.
    if (FieldId id = fields.node_field(node); id != FieldRegistry::kNoField) {
      return materialize(value, id, node, arena, false, depth);
    }
    if (!fields.node_has_children(node)) return simdjson::SUCCESS;
    od::json_type type;
    if (auto err = value.type().get(type)) return err;
    if (type == od::json_type::object) {
      od::object obj;
      if (auto err = value.get_object().get(obj)) return err;
      return walk_object(obj, node, arena, depth + 1);
    }
    if (type == od::json_type::array) {
      // Arrays of objects: every element contributes values to the same fields.
      if (depth >= kMaxDepth) return simdjson::DEPTH_ERROR;
      od::array arr;
      if (auto err = value.get_array().get(arr)) return err;
      for (auto element : arr) {
        if (auto err = element.error()) return err;
        if (auto err = visit(element.value_unsafe(), node, arena, depth + 1)) return err;
      }
    }
    return simdjson::SUCCESS;
  }

  // Object keys are recognised by prediction (JsonKeyTable), one table per object node.
  using KeyTable = JsonKeyTable;
  using KeyMemo = JsonKeyTable::KeyMemo;
  static constexpr std::uint16_t kNoKey = JsonKeyTable::kNoKey;
  static constexpr std::uint16_t kStart = JsonKeyTable::kStart;
  std::vector<std::unique_ptr<KeyTable>> key_tables;  // by PathNode

  KeyTable& key_table(FieldRegistry::PathNode node) {
    if (key_tables.size() <= node) key_tables.resize(node + 1);
    auto& table = key_tables[node];
    if (!table) table = std::make_unique<KeyTable>();
    return *table;
  }

  simdjson::error_code walk_object(od::object& obj, FieldRegistry::PathNode node, Arena& arena, std::size_t depth) {
    if (depth >= kMaxDepth) return simdjson::DEPTH_ERROR;
    KeyTable& table = key_table(node);
    // The previous key's entry, whose successors the next key is predicted
    // from and recorded in (kStart: the object's first key; kNoKey: none).
    std::uint16_t previous = kStart;
    for (auto field : obj) {
      // By reference: copies of simdjson's iterator structs cost a stalled
      // store-to-load forward per key.
      if (auto err = field.error()) return err;
      od::field& f = field.value_unsafe();
      const char* raw = f.key().raw();
      FieldRegistry::PathNode next;
      std::uint16_t found = table.predict(previous, raw);
      if (found != kNoKey) {
        next = table.keys[found].next;
      } else {
        // Keys rarely hold escapes: read them in place up to the closing quote.
        std::size_t n = 0;
        while (raw[n] != '"' && raw[n] != '\\') ++n;
        std::string_view key(raw, n);
        const bool escaped = raw[n] == '\\';
        if (escaped && f.unescaped_key().get(key)) return simdjson::STRING_ERROR;
        const bool memoizable = !escaped && n <= KeyMemo::kMaxKey;
        found = memoizable ? table.entry(key, [&] { return fields.descend(node, key); }) : kNoKey;
        next = found != kNoKey ? table.keys[found].next : fields.descend(node, key);
        table.record(previous, found);
      }
      previous = found;
      if (next == FieldRegistry::kNoNode) continue;
      if (auto err = visit(f.value(), next, arena, depth)) return err;
    }
    return simdjson::SUCCESS;
  }

  // ---- the single-pass path ----
  // A line is indexed (its end and its quotes, json_scan::LineIndex), then
  // walked once left to right: wanted values are read as decode() reads
  // them, the rest is crossed by its grammar without looking inside
  // strings. Any step that is not sure returns false and the line is
  // decoded by simdjson instead (decode()), which also words the errors; so
  // this path only accepts documents simdjson accepts, with the same event
  // (tests/ingest/ndjson_reader_test.cpp and fuzz/fuzz_ndjson.cpp compare
  // both paths). The walk never passes the line's '\n': nothing in the
  // grammar accepts it, and LineIndex lets no other control byte through.
  json_scan::LineIndex line_index;
  static constexpr std::size_t kMaxSkipDepth = 256;  // nesting crossed in values nobody wants

  static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }
  static void skip_space(const char*& p) {
    while (is_space(*p)) ++p;
  }
  // After a member or an element: past the ',' and any space (true, more
  // follow) or past the closer (true with `done`); false for anything else.
  static bool next_item(const char*& p, char closer, bool& done) {
    skip_space(p);
    if (*p == ',') {
      ++p;
      skip_space(p);
      return true;
    }
    if (*p != closer) return false;
    ++p;
    done = true;
    return true;
  }

  // Crosses the value at p (not wanted by any rule), checking its grammar.
  bool scan_skip(const char*& p, std::size_t depth) {
    switch (*p) {
      case '"': {
        const char* close = line_index.string_close(p);
        if (!close) return false;
        p = close + 1;
        return true;
      }
      case '{':
      case '[': {
        if (depth >= kMaxSkipDepth) return false;
        const bool object = *p == '{';
        const char closer = object ? '}' : ']';
        ++p;
        skip_space(p);
        if (*p == closer) {
          ++p;
          return true;
        }
        for (bool done = false; !done;) {
          if (object) {
            const char* close = *p == '"' ? line_index.string_close(p) : nullptr;
            if (!close) return false;
            p = close + 1;
            skip_space(p);
            if (*p != ':') return false;
            ++p;
            skip_space(p);
          }
          if (!scan_skip(p, depth + 1) || !next_item(p, closer, done)) return false;
        }
        return true;
      }
      case 't':
      case 'f':
      case 'n': {
        const char* end = json_scan::literal_end(p);
        if (!end) return false;
        p = end;
        return true;
      }
      default: {
        bool integer = false;
        const char* end = json_scan::number_end(p, integer);
        if (!end) return false;
        p = end;
        return true;
      }
    }
  }

  // materialize() on the walk.
  bool scan_materialize(const char*& p, FieldId id, FieldRegistry::PathNode node, Arena& arena, bool in_array,
                        std::size_t depth) {
    switch (*p) {
      case '"': {
        const char* text = p + 1;
        const char* close = line_index.string_close(p);
        if (!close) return false;
        std::string_view s(text, static_cast<std::size_t>(close - text));
        if (json_scan::has_backslash(text, s.size())) {
          if (!in_array && options.deferral && options.deferral->deferred(id)) {
            deferred.push_back({pending.size(), text, close});
            add_pending(pending, id, Value::string(s), false);
            p = close + 1;
            return true;
          }
          char* out = static_cast<char*>(arena.allocate(s.size() + json_scan::kUnescapeSlack, 1));
          const char* end = json_scan::unescape(text, close, out);
          if (!end) return false;
          s = std::string_view(out, static_cast<std::size_t>(end - out));
        }
        add_pending(pending, id, fields.is_ip(id) ? Value::ip(s) : Value::string(s), in_array);
        p = close + 1;
        return true;
      }
      case 't':
      case 'f': {
        const char* end = json_scan::literal_end(p);
        if (!end) return false;
        add_pending(pending, id, Value::boolean(*p == 't'), in_array);
        p = end;
        return true;
      }
      case 'n': {
        const char* end = json_scan::literal_end(p);
        if (!end) return false;
        if (!in_array) add_pending(pending, id, Value::null(), false);
        p = end;
        return true;
      }
      case '[': {
        if (depth >= kMaxDepth) return false;
        ++p;
        skip_space(p);
        const std::size_t before = pending.size();
        if (*p == ']') {
          ++p;
        } else {
          for (bool done = false; !done;) {
            if (!scan_materialize(p, id, node, arena, true, depth + 1) || !next_item(p, ']', done)) return false;
          }
        }
        if (pending.size() == before) add_pending(pending, id, Value::null(), true);
        return true;
      }
      case '{':
        return scan_object(p, node, arena, depth + 1);
      default: {
        // Integers as simdjson reads them; other numbers are left to it.
        bool integer = false;
        const char* end = json_scan::number_end(p, integer);
        std::int64_t i = 0;
        if (!end || !integer || !json_scan::small_integer(p, end, i)) return false;
        add_pending(pending, id, Value::integer(i), in_array);
        p = end;
        return true;
      }
    }
  }

  // visit() on the walk.
  bool scan_visit(const char*& p, FieldRegistry::PathNode node, Arena& arena, std::size_t depth) {
    if (FieldId id = fields.node_field(node); id != FieldRegistry::kNoField) {
      return scan_materialize(p, id, node, arena, false, depth);
    }
    if (*p == '{' && fields.node_has_children(node)) return scan_object(p, node, arena, depth + 1);
    if (*p == '[' && fields.node_has_children(node)) {
      if (depth >= kMaxDepth) return false;
      ++p;
      skip_space(p);
      if (*p == ']') {
        ++p;
        return true;
      }
      for (bool done = false; !done;) {
        if (!scan_visit(p, node, arena, depth + 1) || !next_item(p, ']', done)) return false;
      }
      return true;
    }
    return scan_skip(p, depth);
  }

  // walk_object() on the walk, with the same key prediction; p is at '{'.
  bool scan_object(const char*& p, FieldRegistry::PathNode node, Arena& arena, std::size_t depth) {
    if (depth >= kMaxDepth) return false;
    ++p;
    skip_space(p);
    if (*p == '}') {
      ++p;
      return true;
    }
    KeyTable& table = key_table(node);
    std::uint16_t previous = kStart;
    for (bool done = false; !done;) {
      if (*p != '"') return false;
      // A predicted key is confirmed with its closing quote, and holds no
      // backslash: that quote is the key's end.
      const char* raw = p + 1;
      FieldRegistry::PathNode next;
      std::uint16_t found = table.predict(previous, raw);
      if (found != kNoKey) {
        next = table.keys[found].next;
        p = raw + table.keys[found].size + 1;
      } else {
        const char* close = line_index.string_close(p);
        if (!close) return false;
        std::string_view key(raw, static_cast<std::size_t>(close - raw));
        if (key.find('\\') != std::string_view::npos) return false;  // escaped keys: simdjson unescapes them
        found = key.size() <= KeyMemo::kMaxKey ? table.entry(key, [&] { return fields.descend(node, key); }) : kNoKey;
        next = found != kNoKey ? table.keys[found].next : fields.descend(node, key);
        table.record(previous, found);
        p = close + 1;
      }
      previous = found;
      skip_space(p);
      if (*p != ':') return false;
      ++p;
      skip_space(p);
      bool ok;
      if (next != FieldRegistry::kNoNode) {
        ok = scan_visit(p, next, arena, depth);
      } else if (*p == '"') {
        // The most common member of all: a string nobody wants, crossed here rather than in scan_skip().
        const char* close = line_index.string_close(p);
        if (!close) return false;
        p = close + 1;
        ok = true;
      } else {
        ok = scan_skip(p, depth);
      }
      if (!ok || !next_item(p, '}', done)) return false;
    }
    return true;
  }

  // Decodes the line starting at data[at] in one walk. Returns the offset
  // of its '\n', or npos with nothing decoded when the line is left to
  // decode_line(): blank, not one object, malformed, without a '\n' at least
  // 64 bytes before the end of the data, or holding something only
  // simdjson reads (floats, integers of 19 digits and more, escaped keys,
  // surrogate escapes, tabs).
  std::size_t scan_line(std::string_view data, std::size_t at, Event& event, Arena& arena) {
    if (data.size() < 64 || at >= data.size() - 64) return std::string_view::npos;
    const char* const begin = data.data() + at;
    const char* const line_end = line_index.index(begin, data.data() + data.size() - 64);
    if (!line_end) return std::string_view::npos;
    pending.clear();
    deferred.clear();
    const char* p = begin;
    skip_space(p);
    if (*p != '{' || !scan_object(p, FieldRegistry::kRoot, arena, 0)) return std::string_view::npos;
    skip_space(p);
    if (p != line_end || !resolve_deferred(arena)) return std::string_view::npos;
    if (line_index.high() && !simdjson::validate_utf8(begin, static_cast<std::size_t>(line_end - begin))) {
      return std::string_view::npos;
    }
    finish_event(event, arena);
    event.source = trim_line(std::string_view(begin, static_cast<std::size_t>(line_end - begin)));
    event.json_escapes = line_index.rare_escapes() ? Event::JsonEscapes::Rare : Event::JsonEscapes::Plain;
    return static_cast<std::size_t>(line_end - data.data());
  }

  // The strings the walk left escaped: unescaped where a reader of their
  // field takes the event's kinds, else left out of the event unread, as
  // the walk leaves every value no rule reads (their escapes unchecked:
  // checking them cost nearly what unescaping does). False: an escape only
  // simdjson reads (the line goes to decode_line()).
  bool resolve_deferred(Arena& arena) {
    if (deferred.empty()) return true;
    const FieldDeferral& deferral = *options.deferral;
    const KindBits kinds = deferral.kinds_of(pending, kind_memo);
    bool dropped = false;
    for (const DeferredString& d : deferred) {
      PendingField& field = pending[d.position];
      if (!deferral.takes(field.id, kinds)) {
        field.id = FieldRegistry::kNoField;
        dropped = true;
        continue;
      }
      char* out = static_cast<char*>(arena.allocate(static_cast<std::size_t>(d.close - d.text) + json_scan::kUnescapeSlack, 1));
      const char* end = json_scan::unescape(d.text, d.close, out);
      if (!end) return false;
      const std::string_view s(out, static_cast<std::size_t>(end - out));
      field.value = fields.is_ip(field.id) ? Value::ip(s) : Value::string(s);
    }
    if (dropped) std::erase_if(pending, [](const PendingField& f) { return f.id == FieldRegistry::kNoField; });
    return true;
  }

  void finish_event(Event& event, Arena& arena) {
    assemble_event_fields(pending, fields.size(), arena, event);
    set_event_timestamp(event, options.timestamp_field.value_or(FieldRegistry::kTimestamp));
  }

  // Parses the document at [data, data+len) with `capacity` readable bytes.
  bool decode(const char* data, std::size_t len, std::size_t capacity, Event& event, Arena& arena,
              std::string& reason) {
    pending.clear();
    // On-Demand stops reading at the end of the root object, so check the
    // framing here: one object, nothing after it.
    std::string_view text(data, len);
    std::size_t last = text.find_last_not_of(" \t\r\n");
    std::size_t first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos || text[first] != '{') {
      reason = "document is not a JSON object";
      return false;
    }
    if (text[last] != '}') {
      reason = "truncated document or trailing content after the JSON object";
      return false;
    }
    od::document doc;
    auto fail = [&](simdjson::error_code err) {
      reason = simdjson::error_message(err);
      return false;
    };
    if (auto err = parser.iterate(data, len, capacity).get(doc)) return fail(err);
    od::object obj;
    if (auto err = doc.get_object().get(obj)) {
      if (err == simdjson::INCORRECT_TYPE) {
        reason = "document is not a JSON object";
        return false;
      }
      return fail(err);
    }
    if (auto err = walk_object(obj, FieldRegistry::kRoot, arena, 0)) return fail(err);
    // On-Demand stops at the root object's end: a token left after it (such
    // as a surplus '}', which the framing check above lets through) is not JSON.
    const char* after = nullptr;
    if (!doc.current_location().get(after)) {
      reason = "trailing content after the JSON object";
      return false;
    }
    finish_event(event, arena);
    return true;
  }

  // `stable`: `text` stays in place until its batch is flushed, so string
  // values may point into it.
  bool decode_padded(std::string_view text, Event& event, Arena& arena, std::string& reason,
                     std::size_t available, bool stable) {
    if (available >= text.size() + simdjson::SIMDJSON_PADDING) {
      stable_input = stable;
      return decode(text.data(), text.size(), available, event, arena, reason);
    }
    stable_input = false;
    scratch.assign(text);
    scratch.resize(text.size() + simdjson::SIMDJSON_PADDING, ' ');
    return decode(scratch.data(), text.size(), scratch.size(), event, arena, reason);
  }

  // ---- reading inputs ----

  static bool blank(std::string_view line) {
    return std::all_of(line.begin(), line.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
  }

  // Where `line` is an Elasticsearch hit (an elasticdump line, an element
  // of a `_search` response's hits.hits): an object whose `_source` object
  // is the document, beside its `_index` (required only when `need_index`,
  // to tell the input's shape). The view of that `_source` in `line`.
  // `available`: bytes readable from line.data() (a padded parse needs more
  // than the line: else it parses a copy).
  std::optional<std::string_view> hit_source(std::string_view line, std::size_t available, bool need_index) {
    const char* text = line.data();
    if (available < line.size() + simdjson::SIMDJSON_PADDING) {
      hit_scratch.assign(line);
      hit_scratch.resize(line.size() + simdjson::SIMDJSON_PADDING, ' ');
      text = hit_scratch.data();
      available = hit_scratch.size();
    }
    od::document doc;
    od::object top;
    if (hit_parser.iterate(text, line.size(), available).get(doc) || doc.get_object().get(top)) return std::nullopt;
    std::optional<std::string_view> source;
    bool index = false;
    for (auto member : top) {
      std::string_view key;
      od::value value;
      if (member.unescaped_key().get(key) || member.value().get(value)) return std::nullopt;
      if (key == "_index") {
        index = true;
      } else if (key == "_source") {
        od::object object;
        std::string_view raw;
        if (value.get_object().get(object) || object.raw_json().get(raw)) return std::nullopt;
        source = line.substr(static_cast<std::size_t>(raw.data() - text), raw.size());
      }
    }
    if (need_index && !index) return std::nullopt;
    return source;
  }

  // The input's shape, from its first document: Elasticsearch hits or
  // documents, a flat Windows export or not (a flat export's local times are
  // learned from the input's first bytes, input_head).
  void decide_shape(std::string_view first_line, std::size_t available) {
    const std::optional<std::string_view> inner = hit_source(first_line, available, true);
    hits_input = inner ? 1 : 0;
    const std::string_view document = inner.value_or(first_line);
    flat_windows_input = EventTreeJson::looks_like(document) ? 2 : FlatWindowsExport::looks_flat(document) ? 1 : 0;
    if (flat_windows_input == 1) flat_export.learn_local_times(local_times ? input_head : std::string_view());
    input_head = {};  // a view of the reader's buffer: needed only here
  }

  // A flat Windows export's document with the fields a winlogbeat one has
  // (FlatWindowsExport); nothing for any other shape. The shape is decided
  // once per input, on its first document: exports are homogeneous, and the
  // hot path of ordinary ECS input pays nothing.
  std::optional<std::string> normalize_flat_windows(std::string_view line) {
    if (flat_windows_input == 0) return std::nullopt;
    if (flat_windows_input == 2) return event_tree.normalize(line);
    return flat_export.normalize(line);
  }

  // Decodes one line (not blank) into `event`, its values and, when it has
  // to be copied, its source in `arena`. False with `reason` when the line
  // is not a valid document. Touches only this object's decoding state.
  bool decode_line(std::string_view line, std::size_t available, bool copy_source, Event& event, Arena& arena,
                   std::string& reason) {
    if (flat_windows_input < 0) decide_shape(line, available);
    if (hits_input == 1) {  // the document is the hit's _source, as Elastic's rules see it
      const std::optional<std::string_view> inner = hit_source(line, available, false);
      if (!inner) {
        reason = "not an Elasticsearch hit with a _source object, as this input's first document is";
        return false;
      }
      available -= static_cast<std::size_t>(inner->data() - line.data());
      line = *inner;
    }
    std::optional<std::string> normalized = normalize_flat_windows(line);
    if (normalized) {
      line = *normalized;
      available = line.size();
      copy_source = true;
    }
    if (!decode_padded(line, event, arena, reason, available, !copy_source)) return false;
    event.source = copy_source ? arena.copy(line) : line;
    return true;
  }

  // A line without the '\r' of a CRLF end and without a UTF-8 byte order
  // mark before it (a file's first line, or any line of files concatenated).
  static std::string_view trim_line(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    line.remove_prefix(utf8_bom_length(line));
    return line;
  }

  // Decodes one line into the batch; returns false if the sink stopped us.
  bool take_line(std::string_view line, std::size_t available, std::uint64_t line_no, std::uint64_t offset,
                 std::uint32_t input_index, const std::string& file, EventBatch& batch, const BatchSink& sink,
                 InputReport& report, bool copy_source) {
    line = trim_line(line);
    if (blank(line)) return true;
    Event event;
    std::string reason;
    if (!decode_line(line, available, copy_source, event, batch.arena, reason)) {
      report.skipped(file, line_no, offset, std::move(reason));
      return true;
    }
    return add_event(event, line_no, input_index, batch, sink, report);
  }

  // Appends a decoded event to the batch; returns false if the sink stopped us.
  bool add_event(Event& event, std::uint64_t line_no, std::uint32_t input_index, EventBatch& batch,
                 const BatchSink& sink, InputReport& report) {
    event.input_index = input_index;
    event.line = line_no;
    event.unit = current_unit;
    event.file = current_file;
    event.ordinal = next_ordinal++;
    batch.events.push_back(event);
    ++report.stats().events;
    if (batch.events.size() >= options.batch_size) return flush(batch, sink);
    return true;
  }

  // The line starting at data[at] by the single pass, which finds its end
  // itself: when it is sure of the line, adds its event to the batch and
  // returns the line's end (its '\n', which lies 64 bytes before the end of
  // `data` at least); npos when it declined (nothing added: the caller finds
  // the end and hands the line to take_line()). `go_on` turns false if the
  // sink stopped us.
  std::size_t take_scanned(std::string_view data, std::size_t at, std::uint64_t line_no, std::uint32_t input_index,
                           EventBatch& batch, const BatchSink& sink, InputReport& report, bool& go_on) {
    if (!scannable()) return std::string_view::npos;
    Event event;
    const std::size_t end = scan_line(data, at, event, batch.arena);
    if (end != std::string_view::npos) {
      ++report.stats().single_pass;
      go_on = add_event(event, line_no, input_index, batch, sink, report);
    }
    return end;
  }

  // Whether lines of this input may take the single-pass path: ordinary ECS
  // documents (flat Windows exports are rewritten first), once the shape of
  // the input is known.
  bool scannable() const { return options.single_pass && flat_windows_input == 0 && hits_input == 0; }

  // The end of the line holding data[at]: its '\n' before `end`, else `end`.
  static std::size_t line_end_of(std::string_view data, std::size_t at, std::size_t end) {
    const char* nl = static_cast<const char*>(std::memchr(data.data() + at, '\n', end - at));
    return nl ? static_cast<std::size_t>(nl - data.data()) : end;
  }

  // ---- decoding a mapped file's lines on several threads ----

  struct Line {
    std::string_view text;
    std::size_t available;
    std::uint64_t line_no;
    std::uint64_t offset;
    Event event;
    std::string reason;
    bool ok;
  };
  // Per extra thread: a decoder of its own (this object for the calling thread).
  std::vector<std::unique_ptr<Impl>> helpers;
  std::unique_ptr<WorkerPool> workers;

  unsigned decode_threads() const { return resolve_threads(options.threads); }

  // A piece of a block: whole lines from `begin` to `end`, found and decoded
  // by whichever thread takes it; line numbers relative to the part.
  struct Part {
    std::size_t begin = 0, end = 0;
    std::uint64_t line_count = 0;
    std::uint64_t single_pass = 0;  // lines decoded by scan_line()
    std::vector<Line> lines;
  };

  void decode_part(Impl& decoder, std::string_view data, Part& part, Arena& arena) {
    part.lines.clear();
    part.line_count = 0;
    part.single_pass = 0;
    for (std::size_t at = part.begin; at < part.end;) {
      ++part.line_count;
      Line l{{}, data.size() - at, part.line_count, at, {}, {}, false};
      std::size_t end = decoder.scannable() ? decoder.scan_line(data, at, l.event, arena) : std::string_view::npos;
      if (end != std::string_view::npos) {
        l.text = l.event.source;
        l.ok = true;
        ++part.single_pass;
        part.lines.push_back(std::move(l));
      } else {
        end = line_end_of(data, at, part.end);
        l.text = trim_line(data.substr(at, end - at));
        if (!blank(l.text)) {
          l.ok = decoder.decode_line(l.text, l.available, false, l.event, arena, l.reason);
          part.lines.push_back(std::move(l));
        }
      }
      at = end + 1;
    }
  }

  // One block being decoded: its parts, taken one at a time by the threads,
  // and per thread the arena its values go to. Two of them alternate, so a
  // block is decoded while the sink still holds the one before.
  struct Block {
    std::vector<Part> parts;
    std::vector<std::unique_ptr<Arena>> arenas;  // per thread (0: the calling thread)
    std::atomic<std::size_t> next{0};            // the next part to take
    unsigned working = 0;                        // helper jobs not yet returned (under mutex)
    std::mutex mutex;
    std::condition_variable done;
  };
  Block blocks[2];
  static constexpr unsigned kPartsPerThread = 4;  // small parts even out the threads' shares

  // Decodes parts of `block` with `decoder` (thread `k`) until none is left.
  void take_parts(Block& block, std::string_view data, Impl& decoder, unsigned k) {
    for (std::size_t i; (i = block.next.fetch_add(1)) < block.parts.size();) {
      decode_part(decoder, data, block.parts[i], *block.arenas[k]);
    }
  }

  // Where the line holding data[at] ends: just after its '\n' before `end`, else `end`.
  static std::size_t next_line_start(std::string_view data, std::size_t at, std::size_t end) {
    const char* nl = static_cast<const char*>(std::memchr(data.data() + at, '\n', end - at));
    return nl ? static_cast<std::size_t>(nl - data.data()) + 1 : end;
  }

  // Splits [begin, end) at line starts into parts and sets the helper
  // threads decoding them; the calling thread joins with finish_block().
  void start_block(Block& block, std::string_view data, std::size_t begin, std::size_t end) {
    const unsigned threads = static_cast<unsigned>(helpers.size()) + 1;
    const std::size_t count = std::size_t{threads} * kPartsPerThread;
    block.parts.resize(count);
    std::size_t cut = begin;
    for (std::size_t k = 0; k < count; ++k) {
      block.parts[k].begin = cut;
      std::size_t target = k + 1 == count ? end : std::max(cut, begin + (end - begin) * (k + 1) / count);
      if (target < end && target > begin) target = next_line_start(data, target - 1, end);
      block.parts[k].end = cut = target;
    }
    while (block.arenas.size() < threads) block.arenas.push_back(std::make_unique<Arena>(1 << 20));
    for (auto& a : block.arenas) a->reset();
    for (auto& h : helpers) {
      h->flat_windows_input = flat_windows_input;
      h->hits_input = hits_input;
      h->flat_export.set_local_offsets(flat_export.local_offsets());
    }
    block.next = 0;
    block.working = threads - 1;
    for (unsigned k = 1; k < threads; ++k) {
      workers->submit([this, &block, data, k] {
        take_parts(block, data, *helpers[k - 1], k);
        std::lock_guard lock(block.mutex);
        if (--block.working == 0) block.done.notify_all();
      });
    }
  }

  // Decodes what is left of the block on the calling thread, then waits for
  // the helpers: every part has been taken, and a helper returns only once
  // its parts are decoded, so when none is working the block is done and no
  // helper touches it (or the input) any more.
  void finish_block(Block& block, std::string_view data) {
    take_parts(block, data, *this, 0);
    std::unique_lock lock(block.mutex);
    block.done.wait(lock, [&] { return block.working == 0; });
  }

  // Mapped input on all threads: blocks of about a batch of lines, each
  // split at line starts into parts that the threads find and decode; while
  // the sink takes one block, the helper threads decode the next. Events and
  // diagnostics are handed on in input order.
  bool read_lines_parallel(ByteSource* source, std::string_view data, std::uint32_t input_index,
                           const std::string& file, EventBatch& batch, const BatchSink& sink, InputReport& report) {
    const unsigned threads = decode_threads();
    while (helpers.size() + 1 < threads) helpers.push_back(std::make_unique<Impl>(fields, options, next_ordinal));
    if (!workers) workers = std::make_unique<WorkerPool>(threads - 1);
    // The shape of the input is decided on its first document, before any thread decodes.
    for_each_line(data, [&](std::string_view raw, std::size_t) {
      std::string_view line = trim_line(raw);
      if (blank(line)) return true;
      if (flat_windows_input < 0) decide_shape(line, line.size());
      return false;
    });
    std::uint64_t line_no = 0;
    std::uint64_t block_lines = 0, block_bytes = 0;  // so far: sizes blocks to about a batch of lines
    // The end of the block after [pos, ...): about a batch of lines.
    auto block_end = [&](std::size_t pos) {
      const std::size_t want =
          block_lines ? options.batch_size * (block_bytes / block_lines + 1) : std::size_t{1} << 20;
      return pos + want >= data.size() ? data.size() : next_line_start(data, pos + want, data.size());
    };
    std::size_t pos = 0;
    std::size_t end = block_end(pos);
    unsigned current = 0;
    start_block(blocks[current], data, pos, end);
    bool go_on = true;
    while (true) {
      Block& block = blocks[current];
      finish_block(block, data);
      for (Part& part : block.parts) {
        for (Line& l : part.lines) {
          l.line_no += line_no;
          if (!l.ok) {
            report.skipped(file, l.line_no, l.offset, std::move(l.reason));
            continue;
          }
          l.event.input_index = input_index;
          l.event.line = l.line_no;
          l.event.file = current_file;
          l.event.ordinal = next_ordinal++;
          batch.events.push_back(l.event);
          ++report.stats().events;
        }
        line_no += part.line_count;
        block_lines += part.line_count;
        report.stats().single_pass += part.single_pass;
      }
      block_bytes += end - pos;
      const std::size_t next_pos = end;
      const std::size_t next_end = next_pos < data.size() ? block_end(next_pos) : next_pos;
      // The helpers start on the next block while the sink takes this one.
      if (next_pos < data.size()) start_block(blocks[1 - current], data, next_pos, next_end);
      go_on = flush(batch, sink);
      if (!go_on || next_pos >= data.size()) {
        if (next_pos < data.size()) finish_block(blocks[1 - current], data);  // no helper may outlive the input
        break;
      }
      if (source) source->release_before(next_pos);
      pos = next_pos;
      end = next_end;
      current = 1 - current;
    }
    return go_on;
  }

  bool flush(EventBatch& batch, const BatchSink& sink) {
    if (batch.events.empty()) return true;
    ++flushes;
    bool go_on = sink(batch);
    batch.clear();
    return go_on;
  }

  bool read_lines_contiguous(ByteSource* source, std::string_view data, std::uint32_t input_index,
                             const std::string& file, EventBatch& batch, const BatchSink& sink, InputReport& report) {
    // Large inputs on several threads: decoding is most of reading.
    if (decode_threads() > 1 && data.size() > (1u << 20)) {
      return read_lines_parallel(source, data, input_index, file, batch, sink, report);
    }
    std::uint64_t line_no = 0;
    for (std::size_t pos = 0; pos < data.size();) {
      ++line_no;
      const std::uint64_t flushed = flushes;
      bool go_on = true;
      std::size_t end = take_scanned(data, pos, line_no, input_index, batch, sink, report, go_on);
      if (end == std::string_view::npos) {
        end = line_end_of(data, pos, data.size());
        go_on = take_line(data.substr(pos, end - pos), data.size() - pos, line_no, pos, input_index, file, batch, sink,
                          report, false);
      }
      if (!go_on) return false;
      // Every event before the end of this line was handed over.
      if (source && flushes != flushed) source->release_before(end);
      pos = end + 1;
    }
    return flush(batch, sink);
  }

  bool read_lines_stream(ByteSource& source, std::string_view head, std::uint32_t input_index,
                         const std::string& file, EventBatch& batch, const BatchSink& sink, InputReport& report) {
    std::vector<char> buf(kStreamBlock + simdjson::SIMDJSON_PADDING);
    std::size_t filled = head.size();
    std::copy(head.begin(), head.end(), buf.begin());  // memcpy must not see the null of an empty view
    std::uint64_t line_no = 0;
    std::uint64_t base_offset = 0;  // input offset of buf[0]
    bool eof = false;
    bool skipping_long_line = false;
    // One read, to at most `limit` bytes held (the buffer grows to hold them);
    // end of input and read errors (reported) set eof. Returns the bytes read.
    auto read_once = [&](std::size_t limit) -> std::size_t {
      if (buf.size() < limit + simdjson::SIMDJSON_PADDING) buf.resize(limit + simdjson::SIMDJSON_PADDING);
      auto n = source.read(buf.data() + filled, limit - filled);
      if (!n) {
        report.failed_input(file, base_offset + filled, n.error().message);
        eof = true;
        return 0;
      }
      if (*n == 0) eof = true;
      report.stats().bytes += *n;
      filled += *n;
      return *n;
    };
    // A flat export's first FlatWindowsExport::kLocalTimeScan bytes are read
    // before its first line is decoded: its local times are learned from
    // them, as from a mapped file's (any other stream is decoded as it comes).
    if (flat_windows_input < 0) {
      for (std::size_t scanned = 0;  // to the end of the first line
           !eof && filled < kStreamBlock && !std::memchr(buf.data() + scanned, '\n', filled - scanned);) {
        scanned = filled;
        read_once(kStreamBlock);
      }
      const char* nl = static_cast<const char*>(std::memchr(buf.data(), '\n', filled));
      const std::string_view first = trim_line({buf.data(), nl ? static_cast<std::size_t>(nl - buf.data()) : filled});
      if (FlatWindowsExport::looks_flat(first)) {
        while (!eof && filled < FlatWindowsExport::kLocalTimeScan) read_once(FlatWindowsExport::kLocalTimeScan);
      }
      input_head = std::string_view(buf.data(), filled);
    }
    while (true) {
      // Decode every complete line in the buffer. What was read and the
      // padding after it: the single pass takes a line only when its '\n'
      // lies 64 bytes before that end, so only whole lines that were read
      // (never the last line of the input when it has no '\n').
      const std::string_view held(buf.data(), filled + simdjson::SIMDJSON_PADDING);
      // Spaces in the padding, as a mapped file's last line gets: simdjson's
      // wording for a cut document must not depend on stale bytes of the buffer.
      std::memset(buf.data() + filled, ' ', simdjson::SIMDJSON_PADDING);
      std::size_t pos = 0;
      while (true) {
        bool go_on = true;
        std::size_t end = skipping_long_line
                              ? std::string_view::npos
                              : take_scanned(held, pos, line_no + 1, input_index, batch, sink, report, go_on);
        if (end == std::string_view::npos) {
          const char* nl = static_cast<const char*>(std::memchr(buf.data() + pos, '\n', filled - pos));
          if (!nl && !(eof && pos < filled)) break;
          end = nl ? static_cast<std::size_t>(nl - buf.data()) : filled;
          if (skipping_long_line) {
            skipping_long_line = false;
          } else {
            go_on = take_line(held.substr(pos, end - pos), held.size() - pos, line_no + 1, base_offset + pos,
                              input_index, file, batch, sink, report, false);
          }
        }
        ++line_no;
        if (!go_on) return false;
        pos = end + 1;
        if (pos > filled) pos = filled;
      }
      if (eof) break;
      // Events point into buf: hand them over before moving bytes.
      if (!flush(batch, sink)) return false;
      std::size_t rest = filled - pos;
      std::memmove(buf.data(), buf.data() + pos, rest);
      base_offset += pos;
      filled = rest;
      if (filled + kStreamBlock / 4 > buf.size() - simdjson::SIMDJSON_PADDING) {
        if (buf.size() - simdjson::SIMDJSON_PADDING >= options.max_document_bytes) {
          // A single line longer than the limit: drop it and resynchronise at the next newline.
          report.skipped(file, line_no + 1, base_offset,
                 fmt::format("line longer than {} bytes", options.max_document_bytes));
          skipping_long_line = true;
          base_offset += filled;
          filled = 0;
        } else {
          buf.resize(std::min(buf.size() * 2, options.max_document_bytes + simdjson::SIMDJSON_PADDING));
        }
      }
      if (read_once(buf.size() - simdjson::SIMDJSON_PADDING) > 0 && skipping_long_line &&
          !std::memchr(buf.data(), '\n', filled)) {
        base_offset += filled;
        filled = 0;
      }
    }
    return flush(batch, sink);
  }

  // A JSON array of documents, or (`search_response`) an Elasticsearch
  // `_search` response whose hits.hits are read. `data` starts `base` bytes
  // into the input (offsets reported are the input's); elements are
  // numbered on from `element_no`.
  bool read_array(std::string_view data, std::size_t capacity, std::uint32_t input_index, const std::string& file,
                  EventBatch& batch, const BatchSink& sink, InputReport& report, bool search_response = false,
                  std::uint64_t base = 0, std::uint64_t* element_count = nullptr) {
    od::document doc;
    bool iterating = false;  // a document whose iterate() failed has no location to ask (null deref)
    auto fail_at = [&](std::uint64_t element, simdjson::error_code err) {
      const char* loc = nullptr;
      std::uint64_t offset = 0;
      if (iterating && !doc.current_location().get(loc) && loc >= data.data() && loc <= data.data() + data.size())
        offset = static_cast<std::uint64_t>(loc - data.data());
      report.skipped(file, element, base + offset,
                     fmt::format("malformed JSON {}: {}; {} was not read", search_response ? "search response" : "array",
                                 simdjson::error_message(err), search_response ? "the rest of it" : "the rest of the file"));
    };
    std::uint64_t own_count = 0;
    std::uint64_t& element_no = element_count ? *element_count : own_count;
    // simdjson leaves a byte order mark to the caller; offsets stay the file's.
    const std::size_t bom = utf8_bom_length(data);
    if (auto err = array_parser.iterate(data.data() + bom, data.size() - bom, capacity - bom).get(doc)) {
      fail_at(element_no, err);
      return flush(batch, sink);
    }
    iterating = true;
    od::array arr;
    if (auto err = search_response ? doc.find_field_unordered("hits").find_field_unordered("hits").get_array().get(arr)
                                   : doc.get_array().get(arr)) {
      fail_at(element_no, err);
      return flush(batch, sink);
    }
    for (auto element : arr) {
      ++element_no;
      od::value v;
      if (auto err = element.get(v)) {
        fail_at(element_no, err);
        break;
      }
      od::json_type type;
      if (auto err = v.type().get(type)) {
        fail_at(element_no, err);
        break;
      }
      if (type != od::json_type::object) {
        const char* loc = nullptr;
        std::uint64_t offset = v.current_location().get(loc) ? 0 : static_cast<std::uint64_t>(loc - data.data());
        report.skipped(file, element_no, base + offset, "array element is not a JSON object");
        continue;
      }
      od::object obj;
      std::string_view raw;
      if (auto err = v.get_object().get(obj)) {
        fail_at(element_no, err);
        break;
      }
      if (auto err = obj.raw_json().get(raw)) {
        fail_at(element_no, err);
        break;
      }
      std::size_t offset = static_cast<std::size_t>(raw.data() - data.data());
      if (!take_line(raw, capacity - offset, element_no, base + offset, input_index, file, batch, sink, report, false))
        return false;
    }
    return flush(batch, sink);
  }

  // JSON documents one after another, not one per line: pretty-printed
  // (`jq .`, PowerShell's ConvertTo-Json), several on a line, Elasticsearch
  // `_search` responses (each hit of hits.hits is read). Each document is
  // found by its brackets, then decoded as a line is; numbered in order.
  bool read_documents(std::string_view data, std::size_t capacity, std::uint32_t input_index, const std::string& file,
                      EventBatch& batch, const BatchSink& sink, InputReport& report) {
    std::uint64_t element_no = 0;
    for (std::size_t at = utf8_bom_length(data);;) {
      at = data.find_first_not_of(" \t\r\n", at);
      if (at == std::string_view::npos) break;
      if (data[at] != '{') {
        const std::size_t nl = data.find('\n', at);
        report.skipped(file, ++element_no, at, "not a JSON object");
        if (nl == std::string_view::npos) break;
        at = nl + 1;
        continue;
      }
      const std::size_t end = NdjsonReader::value_end(data, at);
      if (end == std::string_view::npos) {
        report.skipped(file, ++element_no, at, "truncated document: the input ends inside it");
        break;
      }
      const std::string_view doc = data.substr(at, end - at);
      if (NdjsonReader::search_response(doc)) {
        if (!read_array(doc, capacity - at, input_index, file, batch, sink, report, true, at, &element_no)) return false;
      } else if (!take_line(doc, capacity - at, ++element_no, at, input_index, file, batch, sink, report, false)) {
        return false;
      }
      at = end;
    }
    return flush(batch, sink);
  }
};

std::size_t NdjsonReader::value_end(std::string_view data, std::size_t at) {
  std::size_t depth = 0;
  for (std::size_t i = at; i < data.size(); ++i) {
    switch (data[i]) {
      case '"':  // to the string's closing quote
        for (++i; i < data.size() && data[i] != '"'; ++i) {
          if (data[i] == '\\') ++i;
        }
        if (i >= data.size()) return std::string_view::npos;
        break;
      case '{':
      case '[': ++depth; break;
      case '}':
      case ']':
        if (depth <= 1) return i + 1;
        --depth;
        break;
      default: break;
    }
  }
  return std::string_view::npos;
}

bool NdjsonReader::search_response(std::string_view document) {
  // Its members: took, timed_out, _shards, hits {total, max_score, hits [...]}.
  if (document.find("\"hits\"") == std::string_view::npos || document.find("\"_shards\"") == std::string_view::npos)
    return false;
  // Told by where hits.hits is, not by the whole response being valid: a
  // damaged hit is then reported where it is, and the hits before it read.
  const simdjson::padded_string padded(document);
  od::parser parser;
  od::document doc;
  od::json_type type;
  return !parser.iterate(padded).get(doc) &&
         !doc.find_field_unordered("hits").find_field_unordered("hits").type().get(type) &&
         type == od::json_type::array;
}

bool NdjsonReader::line_delimited(std::string_view head) {
  const std::size_t start = significant_start(head);
  if (start == std::string_view::npos || head[start] != '{') return true;
  const std::size_t nl = head.find('\n', start);
  if (nl == std::string_view::npos) return true;  // the first line is not all here: NDJSON streams come so
  std::string_view first = head.substr(start, nl - start);
  first = first.substr(0, first.find_last_not_of(" \t\r") + 1);
  // Pretty printers (jq, ConvertTo-Json, json.dumps(indent=...), Elasticsearch's
  // ?pretty) put the opening brace alone on the first line; a damaged first
  // line of NDJSON (cut short, a quote left open) leaves the input NDJSON.
  if (first == "{") return false;
  return !search_response(first);
}


NdjsonReader::NdjsonReader(const FieldRegistry& fields, const ReaderOptions& options, std::uint64_t& next_ordinal)
    : impl_(std::make_unique<Impl>(fields, options, next_ordinal)) {}
NdjsonReader::~NdjsonReader() = default;

bool NdjsonReader::decode_one(std::string_view text, Event& event, Arena& arena, std::string& reason) {
  if (!impl_->decode_padded(text, event, arena, reason, text.size(), false)) return false;
  event.source = arena.copy(text);  // as a read keeps it (alerts, keyword searches)
  return true;
}

void NdjsonReader::learn_local_times(bool on) { impl_->local_times = on; }

bool NdjsonReader::read_contiguous(ByteSource* source, std::string_view data, std::size_t capacity,
                                   std::uint32_t input_index, const std::string& file, const BatchSink& sink,
                                   InputReport& report) {
  impl_->flat_windows_input = -1;
  impl_->hits_input = -1;
  impl_->input_head = data;
  impl_->current_file = file;
  impl_->current_unit = SourceUnit::Line;
  EventBatch batch;
  if (first_significant(data) != '[') {
    // Documents over several lines, unless the first never ends: a damaged
    // first line of NDJSON, whose other lines are read and it reported by number.
    if (!line_delimited(data) && value_end(data, data.find('{')) != std::string_view::npos) {
      impl_->current_unit = SourceUnit::Element;
      return impl_->read_documents(data, capacity, input_index, file, batch, sink, report);
    }
    return impl_->read_lines_contiguous(source, data, input_index, file, batch, sink, report);
  }
  impl_->current_unit = SourceUnit::Element;
  if (capacity >= data.size() + simdjson::SIMDJSON_PADDING) {
    return impl_->read_array(data, capacity, input_index, file, batch, sink, report);
  }
  // simdjson reads up to SIMDJSON_PADDING bytes past the end: parse a padded copy.
  std::string copy(data);
  copy.resize(data.size() + simdjson::SIMDJSON_PADDING, ' ');
  return impl_->read_array({copy.data(), data.size()}, copy.size(), input_index, file, batch, sink, report);
}

bool NdjsonReader::read_stream(ByteSource& source, std::string_view head, std::uint32_t input_index,
                               const std::string& file, const BatchSink& sink, InputReport& report) {
  impl_->flat_windows_input = -1;
  impl_->hits_input = -1;
  impl_->current_file = file;
  impl_->current_unit = SourceUnit::Line;
  EventBatch batch;
  return impl_->read_lines_stream(source, head, input_index, file, batch, sink, report);
}

}  // namespace vigil
