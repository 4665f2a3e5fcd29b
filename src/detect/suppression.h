// Alert suppression (rule.alert_suppression), as Elastic applies it: alerts
// of a rule whose group_by fields have the same values become one alert.
// Without a duration, alerts are grouped within one rule run; with a
// duration, an alert opens a window of that length (from its run time) and
// later alerts of the group inside it are folded into it. The kept alert
// counts what it absorbed (kibana.alert.suppression.docs_count) and spans
// their event times (suppression.start / end). With missing_fields_strategy
// "doNotSuppress", alerts missing a group_by field are never grouped.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "detect/hunt_engine.h"
#include "detect/schedule.h"
#include "rules/rule.h"

namespace vigil {

struct Suppression {
  std::uint64_t docs_count = 0;  // alerts folded into this one
  TimestampNs start = 0;         // first event of the group
  TimestampNs end = 0;           // last event of the group
  std::string terms_json;        // [{"field": ..., "value": ...}, ...]
};

struct SuppressedAlert {
  ScheduledAlert alert;
  std::optional<Suppression> suppression;  // set when the rule suppresses
};

// `scheduled` in creation order. Updates stats.suppressed.
std::vector<SuppressedAlert> suppress_alerts(const Rule& rule, const std::vector<Detection>& detections,
                                             const std::vector<ScheduledAlert>& scheduled, RuleRunStats& stats);

}  // namespace vigil
