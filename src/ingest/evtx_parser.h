// EVTX: the Windows XML event log file format. parse_evtx() walks the file
// header, every 64 KiB chunk and every record, decodes the binary XML
// (templates cached per chunk, every substitution value type) and hands each
// record over as a winlogbeat-shaped JSON document:
//   {"@timestamp":..., "event":{"code","provider",...}, "host":{"name"},
//    "winlog":{"channel","computer_name","event_id","provider_name","record_id",
//              "process":{"pid","thread":{"id"}},"user":{"identifier"},
//              "event_data":{...},"user_data":{...}, ...}}
// A chunk whose header or data checksum does not match, or whose records do
// not parse, is reported (file offset, reason) and skipped; the rest of the
// file is still read.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace vigil {

struct EvtxCallbacks {
  // One decoded record: its JSON document, record id and file offset.
  std::function<bool(std::string_view json, std::uint64_t record_id, std::uint64_t offset)> on_record;
  // A record or chunk that could not be decoded.
  std::function<void(std::uint64_t offset, std::string reason)> on_error;
  // Damage that did not cost records (e.g. a checksum mismatch in a chunk
  // whose records still decode).
  std::function<void(std::uint64_t offset, std::string reason)> on_warning;
};

inline bool is_evtx(std::string_view head) { return head.size() >= 8 && head.substr(0, 8) == std::string_view("ElfFile\0", 8); }

// Returns false when on_record asked to stop.
bool parse_evtx(std::string_view file, const EvtxCallbacks& callbacks);

}  // namespace vigil
