// What every input reader shares: options, the batch sink, and the report
// of what was read and what was skipped (file, line or byte offset, reason).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/event.h"
#include "core/event_kinds.h"
#include "core/field_registry.h"

namespace vigil {

struct ReaderOptions {
  std::size_t batch_size = 4096;          // events per batch handed to the sink
  std::size_t max_diagnostics = 100;      // kept per reader; all are counted
  std::size_t max_document_bytes = 64u << 20;
  // Field the event time comes from (Elasticsearch's timestamp_field);
  // @timestamp when unset. Must be registered in the FieldRegistry.
  std::optional<FieldId> timestamp_field;
  // Decoding threads for inputs that decode in parallel (EVTX chunks);
  // 0 = one per core. Output order never depends on it.
  unsigned threads = 0;
  // NDJSON lines are decoded in one scan where they can be (ndjson_reader.cpp);
  // false sends every line through simdjson. The events are the same either
  // way: the switch exists so tests and fuzzers can compare the two.
  bool single_pass = true;
  // Regular NDJSON files read as streams rather than mapped (open_byte_source).
  bool stream_json_files = false;
  // A stream decoded whole (EVTX, XML or a JSON array from stdin or a
  // compressed file) is held in memory up to this many bytes; a longer one
  // goes to a temporary file in $TMPDIR, mapped.
  std::size_t spool_bytes = std::size_t{64} << 20;
  // Fields the single-pass NDJSON walk may leave out of events no reader of
  // theirs takes (RuleIndex::deferral()); null: every registered field is
  // decoded in every event.
  std::shared_ptr<const FieldDeferral> deferral;
};

struct InputDiagnostic {
  std::string file;
  std::uint64_t line = 0;    // 1-based line (NDJSON), element (JSON array) or event (XML); 0 for EVTX
  std::uint64_t offset = 0;  // byte offset in the (decompressed) input
  std::string reason;
};

struct ReadStats {
  std::uint64_t events = 0;
  std::uint64_t bytes = 0;
  std::uint64_t skipped = 0;            // documents that could not be decoded
  std::uint64_t failed_inputs = 0;      // inputs that could not be opened or ended in an I/O error
  std::uint64_t warnings = 0;           // damage that cost no events (e.g. stale EVTX checksums)
  std::uint64_t single_pass = 0;        // NDJSON events decoded by the single pass (the rest: by simdjson)
  std::vector<InputDiagnostic> diagnostics;
  std::uint64_t diagnostics_dropped = 0;
};

// Records diagnostics into ReadStats, keeping the first max_diagnostics.
class InputReport {
 public:
  InputReport(ReadStats& stats, std::size_t max_diagnostics) : stats_(stats), max_(max_diagnostics) {}
  // A document that could not be decoded.
  void skipped(const std::string& file, std::uint64_t line, std::uint64_t offset, std::string reason) {
    ++stats_.skipped;
    add(file, line, offset, std::move(reason));
  }
  // An input that could not be opened or read to its end.
  void failed_input(const std::string& file, std::uint64_t offset, std::string reason) {
    ++stats_.failed_inputs;
    add(file, 0, offset, std::move(reason));
  }
  // Damage that cost no events.
  void warning(const std::string& file, std::uint64_t offset, std::string reason) {
    ++stats_.warnings;
    add(file, 0, offset, "warning: " + std::move(reason));
  }
  ReadStats& stats() { return stats_; }

 private:
  void add(const std::string& file, std::uint64_t line, std::uint64_t offset, std::string reason) {
    if (stats_.diagnostics.size() < max_) {
      stats_.diagnostics.push_back({file, line, offset, std::move(reason)});
    } else {
      ++stats_.diagnostics_dropped;
    }
  }
  ReadStats& stats_;
  std::size_t max_;
};

// Called with each full batch; the batch (and every view into it) is only
// valid during the call. Return false to stop reading.
using BatchSink = std::function<bool(EventBatch&)>;

}  // namespace vigil
