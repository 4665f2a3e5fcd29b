// SysmonReplay: recorded Sysmon events replayed through a configuration's
// filters and through its patched form (`vigil coverage --suggest` with
// inputs): what each suggested addition would add to the collected volume,
// per host per day, and a check that nothing the original collects is lost.
// docs/coverage.md "What the additions cost".
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/event.h"
#include "core/field_registry.h"
#include "coverage/sysmon_config.h"

namespace vigil {

struct SysmonReplayTotals {
  std::uint64_t sysmon_events = 0;  // recorded Sysmon events replayed
  std::uint64_t original = 0;       // of those, collected by the original configuration
  std::uint64_t patched = 0;        // collected by the patched one
  std::uint64_t added = 0;          // collected by the patched one only
  std::uint64_t lost = 0;           // collected by the original only (must stay 0)
  std::size_t recordings = 0;       // (input, host) pairs with Sysmon events
  // Their recorded time: the hours in which each logged Sysmon events, summed,
  // in days (a recording that spans months with a few busy hours counts those
  // hours, not the months).
  double host_days = 0;
  // Events per host per day at the recorded rate (0 when no host spans any time).
  double per_host_day(std::uint64_t events) const { return host_days > 0 ? static_cast<double>(events) / host_days : 0.0; }
};

class SysmonReplay {
 public:
  // Registers the fields the filters read (EventData names as winlog.event_data.* and as flat
  // names, event.provider, event.code, host.name): build it before the reader.
  SysmonReplay(FieldRegistry& fields, const SysmonConfig& original, const SysmonConfig& patched,
               const SysmonSuggestions& suggestions);
  void observe(const Event& event);
  SysmonReplayTotals totals() const;
  // Events each addition (in suggestions.additions order) brings in: ones the original drops and the
  // addition's condition matches (an event two additions match counts for both).
  const std::vector<std::uint64_t>& added_by() const { return added_by_; }
  // Per Sysmon event ID: recorded, original, patched.
  struct IdCounts {
    std::uint64_t recorded = 0, original = 0, patched = 0;
  };
  const std::map<int, IdCounts>& by_id() const { return by_id_; }

 private:
  const SysmonConfig& original_;
  const SysmonConfig& patched_;
  std::vector<SysmonAddition> additions_;
  std::map<std::string, std::pair<FieldId, FieldId>, std::less<>> fields_;  // EventData name → (winlog.event_data.N, N)
  FieldId provider_, code_, host_;
  std::vector<std::uint64_t> added_by_;
  std::map<int, IdCounts> by_id_;
  // (input, host) → the hours it logged Sysmon events in (one host recorded in several files is several
  // recordings)
  std::map<std::pair<std::uint32_t, std::string>, std::set<std::int64_t>> hours_;
  SysmonReplayTotals totals_;
};

}  // namespace vigil
