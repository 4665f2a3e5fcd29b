// JsonEventReader implementation. Two input paths share one decoder:
//  - contiguous inputs (mmap) are split into lines in place; a line is parsed
//    where it lies when simdjson's padding fits before the end of the mapping,
//    else it is copied into a padded scratch buffer;
//  - streams (stdin, gzip, zstd) are read in blocks into a padded buffer; the
//    current batch is flushed before the buffer is compacted so no event ever
//    points at overwritten bytes.
#include "ingest/ndjson_reader.h"

#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <optional>

#include <fmt/format.h>

#include "ingest/archive_source.h"
#include "ingest/byte_source.h"
#include "ingest/ecs_mapping.h"
#include "ingest/evtx_parser.h"

namespace vigil {
namespace od = simdjson::ondemand;

namespace {
constexpr std::size_t kMaxDepth = 64;
constexpr std::size_t kStreamBlock = 4u << 20;

struct PendingValue {
  FieldId id;
  Value value;
  bool from_array;  // the JSON held an array here: keep the field multi-valued
};
}  // namespace

struct JsonEventReader::Impl {
  const FieldRegistry& fields;
  ReaderOptions options;
  od::parser parser;
  od::parser array_parser;  // walks JSON array files while `parser` decodes elements
  std::string path;         // dotted path of the key being visited
  std::vector<PendingValue> pending;
  std::vector<Value> array_items;
  std::string scratch;  // padded copy for documents that cannot be parsed in place
  std::uint64_t next_ordinal = 0;
  std::uint64_t flushes = 0;  // batches handed to the sink so far
  int flat_windows_input = -1;  // per input: -1 undecided, 0 ordinary ECS, 1 flat Windows export
  simdjson::dom::parser dom_parser;  // only for flat Windows exports (normalize_flat_windows)
  std::string padded_copy;

  Impl(const FieldRegistry& f, ReaderOptions o) : fields(f), options(o) {}

  // ---- decoding one document ----

  simdjson::error_code materialize(od::value value, FieldId id, Arena& arena, bool in_array, std::size_t depth) {
    od::json_type type;
    if (auto err = value.type().get(type)) return err;
    switch (type) {
      case od::json_type::string: {
        std::string_view s;
        if (auto err = value.get_string().get(s)) return err;
        std::string_view name = fields.name(id);
        bool ip_field = name == "ip" || name.ends_with(".ip");
        pending.push_back({id, ip_field ? Value::ip(arena.copy(s)) : Value::string(arena.copy(s)), in_array});
        return simdjson::SUCCESS;
      }
      case od::json_type::number: {
        od::number_type nt;
        if (auto err = value.get_number_type().get(nt)) return err;
        if (nt == od::number_type::signed_integer) {
          std::int64_t i;
          if (auto err = value.get_int64().get(i)) return err;
          pending.push_back({id, Value::integer(i), in_array});
        } else if (nt == od::number_type::unsigned_integer) {
          std::uint64_t u;
          if (auto err = value.get_uint64().get(u)) return err;
          pending.push_back({id, Value::floating(static_cast<double>(u)), in_array});
        } else {
          double d;
          if (auto err = value.get_double().get(d)) return err;
          pending.push_back({id, Value::floating(d), in_array});
        }
        return simdjson::SUCCESS;
      }
      case od::json_type::boolean: {
        bool b;
        if (auto err = value.get_bool().get(b)) return err;
        pending.push_back({id, Value::boolean(b), in_array});
        return simdjson::SUCCESS;
      }
      case od::json_type::null: {
        bool is_null = false;
        if (auto err = value.is_null().get(is_null)) return err;
        if (!is_null) return simdjson::INCORRECT_TYPE;
        if (!in_array) pending.push_back({id, Value::null(), false});
        return simdjson::SUCCESS;
      }
      case od::json_type::array: {
        if (depth >= kMaxDepth) return simdjson::DEPTH_ERROR;
        od::array arr;
        if (auto err = value.get_array().get(arr)) return err;
        std::size_t before = pending.size();
        for (auto element : arr) {
          od::value v;
          if (auto err = element.get(v)) return err;
          if (auto err = materialize(v, id, arena, true, depth + 1)) return err;
        }
        if (pending.size() == before) {
          // An empty array is a present field with no values: mark it so the
          // event shows an empty array rather than null.
          pending.push_back({id, Value::null(), true});
        }
        return simdjson::SUCCESS;
      }
      case od::json_type::object: {
        // The field itself is an object: its sub-fields may be wanted.
        od::object obj;
        if (auto err = value.get_object().get(obj)) return err;
        return walk_object(obj, arena, depth + 1);
      }
    }
    return simdjson::SUCCESS;
  }

  simdjson::error_code visit(od::value value, Arena& arena, std::size_t depth) {
    // `path` names this value. Read it, descend into it, or leave it unparsed.
    if (auto id = fields.find(path)) return materialize(value, *id, arena, false, depth);
    if (!fields.is_prefix(path)) return simdjson::SUCCESS;
    od::json_type type;
    if (auto err = value.type().get(type)) return err;
    if (type == od::json_type::object) {
      od::object obj;
      if (auto err = value.get_object().get(obj)) return err;
      return walk_object(obj, arena, depth + 1);
    }
    if (type == od::json_type::array) {
      // Arrays of objects: every element contributes values to the same fields.
      if (depth >= kMaxDepth) return simdjson::DEPTH_ERROR;
      od::array arr;
      if (auto err = value.get_array().get(arr)) return err;
      for (auto element : arr) {
        od::value v;
        if (auto err = element.get(v)) return err;
        if (auto err = visit(v, arena, depth + 1)) return err;
      }
    }
    return simdjson::SUCCESS;
  }

  simdjson::error_code walk_object(od::object obj, Arena& arena, std::size_t depth) {
    if (depth >= kMaxDepth) return simdjson::DEPTH_ERROR;
    std::size_t base = path.size();
    for (auto field : obj) {
      std::string_view key;
      if (auto err = field.unescaped_key().get(key)) return err;
      path.resize(base);
      if (base != 0) path.push_back('.');
      path.append(key);
      od::value v;
      if (auto err = field.value().get(v)) return err;
      if (auto err = visit(v, arena, depth)) return err;
    }
    path.resize(base);
    return simdjson::SUCCESS;
  }

  void finish_event(Event& event, Arena& arena) {
    std::size_t n = fields.size();
    auto* slots = arena.allocate_array<Value>(n);
    for (std::size_t i = 0; i < n; ++i) new (&slots[i]) Value();
    // Fast path: each field seen once and no arrays.
    bool simple = true;
    for (const auto& p : pending) {
      if (p.from_array || !slots[p.id].is_null()) {
        simple = false;
        break;
      }
      slots[p.id] = p.value;
    }
    if (!simple) {
      std::stable_sort(pending.begin(), pending.end(),
                       [](const PendingValue& a, const PendingValue& b) { return a.id < b.id; });
      for (std::size_t i = 0; i < pending.size();) {
        std::size_t j = i;
        bool multi = false;
        array_items.clear();
        while (j < pending.size() && pending[j].id == pending[i].id) {
          multi |= pending[j].from_array;
          // Null placeholders (empty arrays) add no element.
          if (!(pending[j].from_array && pending[j].value.is_null())) array_items.push_back(pending[j].value);
          ++j;
        }
        if (!multi && array_items.size() == 1) {
          slots[pending[i].id] = array_items[0];
        } else {
          auto* items = arena.allocate_array<Value>(array_items.size() ? array_items.size() : 1);
          std::copy(array_items.begin(), array_items.end(), items);
          slots[pending[i].id] = Value::array({items, array_items.size()});
        }
        i = j;
      }
    }
    event.fields = {slots, n};
    const Value& ts = slots[options.timestamp_field.value_or(FieldRegistry::kTimestamp)];
    event.has_timestamp = false;
    if (ts.is_text()) {
      if (auto t = parse_timestamp_text(ts.as_string())) {
        event.timestamp_ns = *t;
        event.has_timestamp = true;
      }
    } else if (ts.kind() == ValueKind::Int && ts.as_int() > -9000000000000000LL && ts.as_int() < 9000000000000000LL) {
      event.timestamp_ns = ts.as_int() * 1000000LL;  // epoch milliseconds, exact
      event.has_timestamp = true;
    } else if (ts.is_numeric()) {
      event.timestamp_ns = from_epoch_millis(ts.as_double());
      event.has_timestamp = true;
    }
  }

  // Parses the document at [data, data+len) with `capacity` readable bytes.
  bool decode(const char* data, std::size_t len, std::size_t capacity, Event& event, Arena& arena,
              std::string& reason) {
    pending.clear();
    path.clear();
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
    if (auto err = walk_object(obj, arena, 0)) return fail(err);
    finish_event(event, arena);
    return true;
  }

  bool decode_padded(std::string_view text, Event& event, Arena& arena, std::string& reason,
                     std::size_t available) {
    if (available >= text.size() + simdjson::SIMDJSON_PADDING) {
      return decode(text.data(), text.size(), available, event, arena, reason);
    }
    scratch.assign(text);
    scratch.resize(text.size() + simdjson::SIMDJSON_PADDING, ' ');
    return decode(scratch.data(), text.size(), scratch.size(), event, arena, reason);
  }

  // ---- reading inputs ----

  // Keeps the first max_diagnostics diagnostics; counts the rest.
  void add_diagnostic(ReadStats& stats, const std::string& file, std::uint64_t line, std::uint64_t offset,
                      std::string reason) {
    if (stats.diagnostics.size() < options.max_diagnostics) {
      stats.diagnostics.push_back({file, line, offset, std::move(reason)});
    } else {
      ++stats.diagnostics_dropped;
    }
  }

  void report(ReadStats& stats, const std::string& file, std::uint64_t line, std::uint64_t offset,
              std::string reason) {
    ++stats.skipped;
    add_diagnostic(stats, file, line, offset, std::move(reason));
  }

  void fail_input(ReadStats& stats, const std::string& file, std::uint64_t offset, std::string reason) {
    ++stats.failed_inputs;
    add_diagnostic(stats, file, 0, offset, std::move(reason));
  }

  static bool blank(std::string_view line) {
    return std::all_of(line.begin(), line.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
  }

  // Flat Windows event exports (OTRF / nxlog im_msvistalog: EventID,
  // SourceName, Channel, Hostname and the EventData fields at the top level)
  // get the winlog.* and ECS fields a winlogbeat document would have.
  // Returns the extended document, or nothing for any other shape.
  static bool looks_flat_windows(std::string_view line) {
    return line.find("\"SourceName\"") != std::string_view::npos && line.find("\"EventID\"") != std::string_view::npos &&
           line.find("\"winlog\"") == std::string_view::npos;
  }

  std::optional<std::string> normalize_flat_windows(std::string_view line) {
    // The shape is decided once per input, on its first document: exports are
    // homogeneous, and the hot path of ordinary ECS input pays nothing.
    if (flat_windows_input < 0) flat_windows_input = looks_flat_windows(line) ? 1 : 0;
    if (flat_windows_input == 0 || !looks_flat_windows(line)) return std::nullopt;
    simdjson::dom::element doc;
    padded_copy.assign(line);
    if (dom_parser.parse(padded_copy).get(doc)) return std::nullopt;
    simdjson::dom::object obj;
    if (doc.get_object().get(obj)) return std::nullopt;
    EventDataFields data_fields;
    std::string provider, event_id, channel, host;
    for (auto field : obj) {
      std::string key(field.key);
      std::string value;
      std::string_view s;
      std::int64_t i;
      if (!field.value.get_string().get(s)) {
        value = std::string(s);
      } else if (!field.value.get_int64().get(i)) {
        value = std::to_string(i);
      } else {
        continue;
      }
      if (key == "SourceName") provider = value;
      else if (key == "EventID") event_id = value;
      else if (key == "Channel") channel = value;
      else if (key == "Hostname") host = value;
      data_fields.emplace_back(std::move(key), std::move(value));
    }
    if (provider.empty() || event_id.empty()) return std::nullopt;
    std::string out(line.substr(0, line.find_last_of('}')));
    out += ",\"winlog\":{\"event_id\":";
    append_json_string(out, event_id);
    out += ",\"provider_name\":";
    append_json_string(out, provider);
    if (!channel.empty()) {
      out += ",\"channel\":";
      append_json_string(out, channel);
    }
    if (!host.empty()) {
      out += ",\"computer_name\":";
      append_json_string(out, host);
    }
    out += "},\"event.code\":";
    append_json_string(out, event_id);
    if (!host.empty()) {
      out += ",\"host.name\":";
      append_json_string(out, host);
    }
    append_ecs_fields(out, provider, event_id, data_fields);
    out += "}";
    return out;
  }

  // Decodes one line into the batch; returns false if the sink stopped us.
  bool take_line(std::string_view line, std::size_t available, std::uint64_t line_no, std::uint64_t offset,
                 std::uint32_t input_index, const std::string& file, EventBatch& batch, const BatchSink& sink,
                 ReadStats& stats, bool copy_source) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (blank(line)) return true;
    Event event;
    std::string reason;
    std::optional<std::string> normalized = normalize_flat_windows(line);
    if (normalized) {
      line = *normalized;
      available = line.size();
      copy_source = true;
    }
    if (!decode_padded(line, event, batch.arena, reason, available)) {
      report(stats, file, line_no, offset, std::move(reason));
      return true;
    }
    event.source = copy_source ? batch.arena.copy(line) : line;
    event.input_index = input_index;
    event.line = line_no;
    event.ordinal = next_ordinal++;
    batch.events.push_back(event);
    ++stats.events;
    if (batch.events.size() >= options.batch_size) return flush(batch, sink);
    return true;
  }

  bool flush(EventBatch& batch, const BatchSink& sink) {
    if (batch.events.empty()) return true;
    ++flushes;
    bool go_on = sink(batch);
    batch.clear();
    return go_on;
  }

  bool read_lines_contiguous(ByteSource* source, std::string_view data, std::uint32_t input_index,
                             const std::string& file, EventBatch& batch, const BatchSink& sink, ReadStats& stats) {
    std::uint64_t line_no = 0;
    std::size_t pos = 0;
    while (pos < data.size()) {
      const char* nl = static_cast<const char*>(std::memchr(data.data() + pos, '\n', data.size() - pos));
      std::size_t end = nl ? static_cast<std::size_t>(nl - data.data()) : data.size();
      ++line_no;
      std::string_view line = data.substr(pos, end - pos);
      std::uint64_t flushed = flushes;
      if (!take_line(line, data.size() - pos, line_no, pos, input_index, file, batch, sink, stats, false)) return false;
      if (source && flushes != flushed) source->release_before(end);  // every event before `end` was handed over
      pos = end + 1;
    }
    return flush(batch, sink);
  }

  bool read_lines_stream(ByteSource& source, std::string_view head, std::uint32_t input_index,
                         const std::string& file, EventBatch& batch, const BatchSink& sink, ReadStats& stats) {
    std::vector<char> buf(kStreamBlock + simdjson::SIMDJSON_PADDING);
    std::size_t filled = head.size();
    std::memcpy(buf.data(), head.data(), head.size());
    std::uint64_t line_no = 0;
    std::uint64_t base_offset = 0;  // input offset of buf[0]
    bool eof = false;
    bool skipping_long_line = false;
    while (true) {
      // Decode every complete line in the buffer.
      std::size_t pos = 0;
      while (true) {
        const char* nl = static_cast<const char*>(std::memchr(buf.data() + pos, '\n', filled - pos));
        if (!nl && !(eof && pos < filled)) break;
        std::size_t end = nl ? static_cast<std::size_t>(nl - buf.data()) : filled;
        ++line_no;
        if (skipping_long_line) {
          skipping_long_line = false;
        } else {
          std::string_view line(buf.data() + pos, end - pos);
          if (!take_line(line, buf.size() - pos, line_no, base_offset + pos, input_index, file, batch, sink, stats,
                         false))
            return false;
        }
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
          report(stats, file, line_no + 1, base_offset,
                 fmt::format("line longer than {} bytes", options.max_document_bytes));
          skipping_long_line = true;
          base_offset += filled;
          filled = 0;
        } else {
          buf.resize(std::min(buf.size() * 2, options.max_document_bytes + simdjson::SIMDJSON_PADDING));
        }
      }
      auto n = source.read(buf.data() + filled, buf.size() - simdjson::SIMDJSON_PADDING - filled);
      if (!n) {
        fail_input(stats, file, base_offset + filled, n.error().message);
        eof = true;
        continue;
      }
      if (*n == 0) {
        eof = true;
      } else {
        stats.bytes += *n;
        filled += *n;
        if (skipping_long_line) {
          const char* nl = static_cast<const char*>(std::memchr(buf.data(), '\n', filled));
          if (!nl) {
            base_offset += filled;
            filled = 0;
          }
        }
      }
    }
    return flush(batch, sink);
  }

  // EVTX: every record becomes a document (see evtx_parser.h); its JSON is
  // built here, so the event keeps its own copy as `source`.
  bool read_evtx(std::string_view data, std::uint32_t input_index, const std::string& file, EventBatch& batch,
                 const BatchSink& sink, ReadStats& stats) {
    std::string padded;
    EvtxCallbacks callbacks;
    callbacks.on_record = [&](std::string_view json, std::uint64_t record_id, std::uint64_t offset) {
      padded.assign(json);
      padded.resize(json.size() + simdjson::SIMDJSON_PADDING, ' ');
      return take_line({padded.data(), json.size()}, padded.size(), record_id, offset, input_index, file, batch, sink,
                       stats, true);
    };
    callbacks.on_error = [&](std::uint64_t offset, std::string reason) {
      report(stats, file, 0, offset, std::move(reason));
    };
    callbacks.on_warning = [&](std::uint64_t offset, std::string reason) {
      ++stats.warnings;
      add_diagnostic(stats, file, 0, offset, "warning: " + std::move(reason));
    };
    if (!parse_evtx(data, callbacks)) return false;
    return flush(batch, sink);
  }

  // A whole input held in memory (an archive entry): EVTX, JSON array or NDJSON.
  bool read_buffer(std::string& data, std::uint32_t input_index, const std::string& file, const BatchSink& sink,
                   ReadStats& stats) {
    EventBatch batch;
    flat_windows_input = -1;
    if (is_evtx(data)) return read_evtx(data, input_index, file, batch, sink, stats);
    std::size_t size = data.size();
    data.resize(size + simdjson::SIMDJSON_PADDING, ' ');
    std::string_view view(data.data(), size);
    std::size_t first = view.find_first_not_of(" \t\r\n");
    if (first != std::string_view::npos && view[first] == '[') {
      return read_array(view, data.size(), input_index, file, batch, sink, stats);
    }
    return read_lines_contiguous(nullptr, view, input_index, file, batch, sink, stats);
  }

  bool read_array(std::string_view data, std::size_t capacity, std::uint32_t input_index, const std::string& file,
                  EventBatch& batch, const BatchSink& sink, ReadStats& stats) {
    od::document doc;
    auto fail_at = [&](std::uint64_t element, simdjson::error_code err) {
      const char* loc = nullptr;
      std::uint64_t offset = 0;
      if (!doc.current_location().get(loc) && loc >= data.data() && loc <= data.data() + data.size())
        offset = static_cast<std::uint64_t>(loc - data.data());
      report(stats, file, element, offset,
             fmt::format("malformed JSON array: {}; the rest of the file was not read", simdjson::error_message(err)));
    };
    if (auto err = array_parser.iterate(data.data(), data.size(), capacity).get(doc)) {
      fail_at(0, err);
      return flush(batch, sink);
    }
    od::array arr;
    if (auto err = doc.get_array().get(arr)) {
      fail_at(0, err);
      return flush(batch, sink);
    }
    std::uint64_t element_no = 0;
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
        report(stats, file, element_no, offset, "array element is not a JSON object");
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
      if (!take_line(raw, capacity - offset, element_no, offset, input_index, file, batch, sink, stats, false))
        return false;
    }
    return flush(batch, sink);
  }
};

JsonEventReader::JsonEventReader(const FieldRegistry& fields, ReaderOptions options)
    : impl_(std::make_unique<Impl>(fields, options)) {}
JsonEventReader::~JsonEventReader() = default;

bool JsonEventReader::decode_one(std::string_view text, Event& event, Arena& arena, std::string& reason) {
  return impl_->decode_padded(text, event, arena, reason, text.size());
}

bool JsonEventReader::read(const std::string& path, std::uint32_t input_index, const BatchSink& sink,
                           ReadStats& stats) {
  std::error_code ec;
  if (path != "-" && std::filesystem::is_directory(path, ec)) {
    for (const auto& file : list_input_files(path)) {
      if (!read(file, input_index, sink, stats)) return false;
    }
    return true;
  }
  if (path != "-") {
    bool go_on = true;
    bool archive = read_archive(
        path,
        [&](const std::string& name, std::string& data) {
          stats.bytes += data.size();
          go_on = impl_->read_buffer(data, input_index, name, sink, stats);
          return go_on;
        },
        [&](std::string reason) { impl_->fail_input(stats, path, 0, std::move(reason)); });
    if (archive) return go_on;
  }
  impl_->flat_windows_input = -1;
  auto source = open_byte_source(path);
  if (!source) {
    impl_->fail_input(stats, path, 0, source.error().message);
    return true;
  }
  EventBatch batch;
  ByteSource& src = **source;
  std::string_view whole = src.contiguous();
  if (!whole.empty() && is_evtx(whole)) {
    stats.bytes += whole.size();
    return impl_->read_evtx(whole, input_index, path, batch, sink, stats);
  }
  if (!whole.empty()) {
    stats.bytes += whole.size();
    std::size_t first = whole.find_first_not_of(" \t\r\n");
    if (first != std::string_view::npos && whole[first] == '[') {
      // The mapping may end within the padding: parse from a padded copy then.
      if (whole.size() % 4096 != 0 && 4096 - whole.size() % 4096 >= simdjson::SIMDJSON_PADDING) {
        return impl_->read_array(whole, whole.size() + (4096 - whole.size() % 4096), input_index, path, batch, sink,
                                 stats);
      }
      std::string copy(whole);
      copy.resize(whole.size() + simdjson::SIMDJSON_PADDING, ' ');
      return impl_->read_array({copy.data(), whole.size()}, copy.size(), input_index, path, batch, sink, stats);
    }
    return impl_->read_lines_contiguous(&src, whole, input_index, path, batch, sink, stats);
  }
  // Streams: peek enough to tell a JSON array from NDJSON.
  std::string head;
  char block[4096];
  std::size_t first = std::string::npos;
  while (first == std::string::npos) {
    auto n = src.read(block, sizeof(block));
    if (!n) {
      impl_->fail_input(stats, path, head.size(), n.error().message);
      return true;
    }
    if (*n == 0) break;
    stats.bytes += *n;
    head.append(block, *n);
    first = head.find_first_not_of(" \t\r\n");
  }
  if (is_evtx(head) || (first != std::string::npos && head[first] == '[')) {
    // A JSON array or an EVTX file (e.g. compressed) is decoded from memory.
    std::string all = std::move(head);
    for (;;) {
      std::size_t old = all.size();
      all.resize(old + kStreamBlock);
      auto n = src.read(all.data() + old, kStreamBlock);
      if (!n) {
        all.resize(old);
        impl_->fail_input(stats, path, old, n.error().message);
        break;
      }
      all.resize(old + *n);
      stats.bytes += *n;
      if (*n == 0) break;
    }
    std::size_t size = all.size();
    if (is_evtx(all)) return impl_->read_evtx(all, input_index, path, batch, sink, stats);
    all.resize(size + simdjson::SIMDJSON_PADDING, ' ');
    return impl_->read_array({all.data(), size}, all.size(), input_index, path, batch, sink, stats);
  }
  return impl_->read_lines_stream(src, head, input_index, path, batch, sink, stats);
}

}  // namespace vigil
