// JsonEventReader: ECS documents from NDJSON (one per line) or a JSON array
// file, through simdjson On-Demand. Only the fields registered in the
// FieldRegistry are materialized (nested objects and dotted keys name the
// same field; arrays of objects make multi-valued fields, as Elasticsearch
// flattens them); everything else is skipped unparsed and the raw document
// is kept as the event's `source`.
//
// Malformed documents are skipped, counted and reported (file, line, byte
// offset, reason); the rest of the input is still read.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/event.h"
#include "core/field_registry.h"

namespace vigil {

struct ReaderOptions {
  std::size_t batch_size = 4096;          // events per batch handed to the sink
  std::size_t max_diagnostics = 100;      // kept per reader; all are counted
  std::size_t max_document_bytes = 64u << 20;
  // Field the event time comes from (Elasticsearch's timestamp_field);
  // @timestamp when unset. Must be registered in the FieldRegistry.
  std::optional<FieldId> timestamp_field;
};

struct InputDiagnostic {
  std::string file;
  std::uint64_t line = 0;    // 1-based; for JSON arrays the element number
  std::uint64_t offset = 0;  // byte offset in the (decompressed) input
  std::string reason;
};

struct ReadStats {
  std::uint64_t events = 0;
  std::uint64_t bytes = 0;
  std::uint64_t skipped = 0;            // documents that could not be decoded
  std::uint64_t failed_inputs = 0;      // inputs that could not be opened or ended in an I/O error
  std::uint64_t warnings = 0;           // damage that cost no events (e.g. stale EVTX checksums)
  std::vector<InputDiagnostic> diagnostics;
  std::uint64_t diagnostics_dropped = 0;
};

// Called with each full batch; the batch (and every view into it) is only
// valid during the call. Return false to stop reading.
using BatchSink = std::function<bool(EventBatch&)>;

class JsonEventReader {
 public:
  explicit JsonEventReader(const FieldRegistry& fields, ReaderOptions options = {});
  ~JsonEventReader();
  JsonEventReader(const JsonEventReader&) = delete;
  JsonEventReader& operator=(const JsonEventReader&) = delete;

  // Reads one input ("-" is stdin). Returns false when the sink asked to stop.
  bool read(const std::string& path, std::uint32_t input_index, const BatchSink& sink, ReadStats& stats);

  // Decodes one JSON object held in `text` into `event` (values in `arena`).
  // On failure returns false and sets `reason`. For tests and fuzzing.
  bool decode_one(std::string_view text, Event& event, Arena& arena, std::string& reason);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil
