// Flat Windows event exports (OTRF / nxlog im_msvistalog: EventID,
// SourceName, Channel, Hostname and the EventData fields at the top level;
// eqllib's raw Sysmon captures: EventData fields plus EventId and UtcTime)
// get the winlog.* and ECS fields a winlogbeat document would have, so rules
// written for either shape read them (NdjsonReader decides per input).
#pragma once

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

 private:
  simdjson::dom::parser parser_;
  std::string padded_;
  Arena arena_{16 * 1024};  // the added members of one document
  WindowsEvent event_;
  std::vector<std::string> values_;  // owns the values event_ points at
  std::string utc_text_;
};

}  // namespace vigil
