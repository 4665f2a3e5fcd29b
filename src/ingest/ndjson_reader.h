// NdjsonReader: ECS documents from NDJSON (one per line) or a JSON array.
// NDJSON lines are read in one pass over json_scan's line index where the
// pass is sure of them, else (and JSON arrays always) through simdjson
// On-Demand; both give the same events. Only the fields registered in the
// FieldRegistry are materialized (nested objects and dotted keys name the
// same field; arrays of objects make multi-valued fields, as Elasticsearch
// flattens them); everything else is skipped unparsed and the raw document
// is kept as the event's `source`. Flat Windows exports (OTRF, nxlog) get
// the winlog.* and ECS fields of the Windows mapping added.
//
// Malformed documents are skipped, counted and reported (file, line, byte
// offset, reason); the rest of the input is still read. EventReader
// (event_reader.h) decides which reader an input goes to.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/event.h"
#include "core/field_registry.h"
#include "ingest/byte_source.h"
#include "ingest/input_report.h"

namespace vigil {

class NdjsonReader {
 public:
  // `next_ordinal` numbers events across all inputs of one read.
  NdjsonReader(const FieldRegistry& fields, const ReaderOptions& options, std::uint64_t& next_ordinal);
  ~NdjsonReader();
  NdjsonReader(const NdjsonReader&) = delete;
  NdjsonReader& operator=(const NdjsonReader&) = delete;

  // A whole input in memory; `capacity` bytes are readable from data.data()
  // (simdjson reads past the end: with less than its padding, lines and
  // arrays are parsed from copies). `source`, when given, may release the
  // pages already handed over. Returns false when the sink asked to stop.
  bool read_contiguous(ByteSource* source, std::string_view data, std::size_t capacity, std::uint32_t input_index,
                       const std::string& file, const BatchSink& sink, InputReport& report);
  // NDJSON from a stream, after the bytes in `head` already read from it.
  bool read_stream(ByteSource& source, std::string_view head, std::uint32_t input_index, const std::string& file,
                   const BatchSink& sink, InputReport& report);

  // Whether a flat export's local TimeCreated is put in UTC by the offsets
  // its first bytes show (FlatWindowsExport::learn_local_times; on by
  // default). Off where an input comes in pieces (`vigil run`'s followed
  // files): what one piece taught would differ from run to run.
  void learn_local_times(bool on);
  // Decodes one JSON object held in `text` into `event` (values and a copy
  // of the text, event.source, in `arena`). On failure returns false and sets
  // `reason`. For tests and fuzzing.
  bool decode_one(std::string_view text, Event& event, Arena& arena, std::string& reason);

  // Whether JSON text whose first bytes are `head` holds one document per
  // line (NDJSON, and anything not JSON: read line by line, bad lines
  // reported); false when it is pretty-printed (its first line is a lone
  // '{') or its first line is an Elasticsearch `_search` response: such an
  // input is read whole, document by document.
  static bool line_delimited(std::string_view head);
  // One past the end of the object or array opening at data[at], found by
  // its brackets outside strings; npos when `data` ends first.
  static std::size_t value_end(std::string_view data, std::size_t at);
  // Whether `document` is an Elasticsearch `_search` response (hits.hits).
  static bool search_response(std::string_view document);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil
