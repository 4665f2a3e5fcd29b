// EventReader: the one entry point for inputs. Decides from content (never
// from the file name) what an input is and hands it to its decoder:
//   EVTX files (ElfFile magic)          → evtx_parser, chunks decoded in parallel
//   event XML (<Event>/<Events>)        → event_xml
//   NDJSON, JSON arrays, flat exports   → ndjson_reader
// through gzip/zstd (byte_source), zip/tar/7z/rar archives (archive_source)
// and directories (recursively). Every decoder produces the same events.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/event.h"
#include "core/field_registry.h"
#include "core/spill_file.h"
#include "ingest/input_report.h"

namespace vigil {

class EventReader {
 public:
  explicit EventReader(const FieldRegistry& fields, ReaderOptions options = {});
  ~EventReader();
  EventReader(const EventReader&) = delete;
  EventReader& operator=(const EventReader&) = delete;

  // Reads one input ("-" is stdin, a directory is read recursively). Returns
  // false when the sink asked to stop.
  bool read(const std::string& path, std::uint32_t input_index, const BatchSink& sink, ReadStats& stats);
  // Reads every input in order (input_index = position), as read() one by
  // one would, but with several threads EVTX files are decoded ahead across
  // file boundaries: a directory of small logs keeps every core busy.
  bool read_all(const std::vector<std::string>& inputs, const BatchSink& sink, ReadStats& stats);
  // Reads an input already held whole in `data` (a stream read to its end),
  // named `name` in diagnostics: EVTX, event XML or JSON, as read() would.
  // `data` is padded in place for the JSON parser.
  bool read_bytes(std::string& data, std::uint32_t input_index, const std::string& name, const BatchSink& sink,
                  ReadStats& stats);
  // The same for a stream spooled to `file` (one longer than
  // ReaderOptions::spool_bytes), mapped; its bytes are counted as read.
  bool read_spilled(const SpillFile& file, std::uint32_t input_index, const std::string& name, const BatchSink& sink,
                    ReadStats& stats);

  // Decodes one JSON object held in `text` into `event` (values in `arena`).
  // On failure returns false and sets `reason`. For tests and fuzzing.
  bool decode_one(std::string_view text, Event& event, Arena& arena, std::string& reason);

 private:
  struct Impl;
  friend class EvtxPipeline;  // decodes EVTX chunk groups with the reader's state (event_reader.cpp)
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil
