// Emulating Elastic's rule scheduler over historical data. A rule runs every
// `interval`; the run at time t searches [t - lookback, t] (lookback from
// `from = "now-9m"`) and turns at most `max_signals` results, in time order,
// into alerts; an event (or sequence) found again by a later, overlapping
// run is the same alert and is not created twice. Run times are aligned to
// multiples of the interval since the Unix epoch, so the result depends only
// on the data. A sequence that cannot fit in one lookback window is never
// found by Elastic either: it is counted, not alerted.
#pragma once

#include <vector>

#include "detect/hunt_engine.h"
#include "rules/rule.h"

namespace vigil {

struct ScheduledAlert {
  std::size_t detection;  // index into the rule's detections
  TimestampNs time;       // the run that created it (the alert's @timestamp)
};

// `detections` sorted by first_time. Updates stats.alerts/outside_windows/capped.
std::vector<ScheduledAlert> schedule_alerts(const std::vector<Detection>& detections, const Rule& rule,
                                            RuleRunStats& stats);

// Every detection alerts once, at its last event's time (no schedule, no max_signals).
std::vector<ScheduledAlert> unscheduled_alerts(const std::vector<Detection>& detections, RuleRunStats& stats);

}  // namespace vigil
