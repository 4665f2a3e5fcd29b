// Flat Windows event exports (OTRF / nxlog im_msvistalog: EventID,
// SourceName, Channel, Hostname and the EventData fields at the top level;
// eqllib's raw Sysmon captures: EventData fields plus EventId and UtcTime)
// get the winlog.* and ECS fields a winlogbeat document would have, so rules
// written for either shape read them (NdjsonReader decides per input).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "core/arena.h"
#include "ingest/windows_event.h"

namespace vigil {

class FlatWindowsExport {
 public:
  // Whether `line` has the shape: an event ID and a provider (or Sysmon's
  // UtcTime) at the top level, and no winlog object.
  static bool looks_flat(std::string_view line);
  // The document extended with the mapping's members, or nothing for a line
  // of another shape.
  std::optional<std::string> normalize(std::string_view line);

  // Some exports (OTRF's 2020 datasets) give a Security event only a local
  // TimeCreated, without its zone; their Sysmon rows hold TimeCreated beside
  // UtcTime. Learns, per Hostname, how far the local time is from UTC from
  // the rows of `head` (the input's first kLocalTimeScan bytes) that hold
  // both; normalize() then puts a row with a zoneless TimeCreated and no
  // other time in UTC when its host's offset is known (else it has no time).
  // Forgets what an earlier input taught.
  static constexpr std::size_t kLocalTimeScan = std::size_t{4} << 20;
  void learn_local_times(std::string_view head);
  // Per host, local time minus UTC (ns); for other decoders of the same input.
  const std::map<std::string, std::int64_t, std::less<>>& local_offsets() const { return local_offsets_; }
  void set_local_offsets(const std::map<std::string, std::int64_t, std::less<>>& offsets) { local_offsets_ = offsets; }

 private:
  simdjson::dom::parser parser_;
  std::string padded_;
  Arena arena_{16 * 1024};  // the added members of one document
  WindowsEvent event_;
  std::vector<std::string> values_;  // owns the values event_ points at
  std::string utc_text_;
  std::map<std::string, std::int64_t, std::less<>> local_offsets_;
};

}  // namespace vigil
