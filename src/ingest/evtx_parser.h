// EVTX: the Windows XML event log file format. evtx_chunk_offsets() checks
// the file header and lists the chunks; decode_evtx_chunk() verifies a
// chunk's checksums and decodes its records' binary XML (templates cached per
// chunk, every substitution value type) into WindowsEvents. Chunks are
// independent, so callers may decode them in parallel.
//
// A chunk whose framing is damaged is reported (file offset, reason) and
// skipped; a checksum mismatch alone is a warning (records carry their own
// framing and are still decoded); a record that does not decode fails alone.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/arena.h"
#include "ingest/windows_event.h"

namespace vigil {

struct EvtxCallbacks {
  // One decoded record: its event (views valid during the call), record id
  // and file offset. Return false to stop.
  std::function<bool(const WindowsEvent& event, std::uint64_t record_id, std::uint64_t offset)> on_record;
  // A record or chunk that could not be decoded.
  std::function<void(std::uint64_t offset, std::string reason)> on_error;
  // Damage that did not cost records (e.g. a checksum mismatch in a chunk
  // whose records still decode).
  std::function<void(std::uint64_t offset, std::string reason)> on_warning;
};

inline bool is_evtx(std::string_view head) { return head.size() >= 8 && head.substr(0, 8) == std::string_view("ElfFile\0", 8); }

// File offsets of the chunks to decode; file-level damage goes to on_error/on_warning.
std::vector<std::uint64_t> evtx_chunk_offsets(std::string_view file, const EvtxCallbacks& callbacks);

// Memory a decoding thread reuses from chunk to chunk (fresh pages cost more
// than decoding: keep one per thread).
struct EvtxScratch {
  Arena arena{64 * 1024};  // a record's strings, reset per record...
  // ...unless the caller wants them in its own arena (the batch the events
  // go to: their documents then point at the strings instead of copying them).
  Arena* strings = nullptr;
  WindowsEvent event;
};

// Decodes the records of the chunk at `offset`. Returns false when on_record asked to stop.
bool decode_evtx_chunk(std::string_view file, std::uint64_t offset, const EvtxCallbacks& callbacks,
                       EvtxScratch& scratch);

// Every chunk, in file order, on this thread.
bool parse_evtx(std::string_view file, const EvtxCallbacks& callbacks);

}  // namespace vigil
