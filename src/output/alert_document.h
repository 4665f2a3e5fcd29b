// Alert documents in the schema Elastic Security writes to its alerts index
// (kibana.alert.* as flat dotted keys, the source event's fields alongside,
// event.kind "signal", the original event.* under kibana.alert.original_event),
// so they can be indexed into an Elastic stack as they are. A sequence gives
// one alert per event (building blocks) plus one alert for the sequence,
// tied together by kibana.alert.group.id. The field list is in docs/alerts.md.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "detect/hunt_engine.h"
#include "detect/suppression.h"
#include "rules/rule.h"

namespace vigil {

struct AlertSummary {  // what the terminal summary and the stores need
  std::string id;
  std::string rule_id;
  std::string rule_name;
  std::string severity;
  int risk_score = 0;
  std::string host;
  TimestampNs time = 0;           // alert @timestamp
  TimestampNs original_time = 0;  // first event
  std::string reason;
  bool building_block = false;
  std::string document;  // the alert's JSON document (one line, no newline)
};

class AlertWriter {
 public:
  // `event_original`: each alert carries its source document, as read, in
  // event.original (ECS), unless the source has its own.
  explicit AlertWriter(bool event_original = true);
  ~AlertWriter();

  // Appends the alert lines (NDJSON, each ending in '\n') for one scheduled
  // detection and returns their summaries (the sequence alert first), each
  // with its document. A single alert (not a sequence) written into an
  // empty `out` leaves it empty: its one line is its summary's document,
  // moved there rather than copied.
  std::vector<AlertSummary> write(const Rule& rule, const Detection& detection, TimestampNs alert_time,
                                  std::string& out, const Suppression* suppression = nullptr);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  bool event_original_ = true;
};

}  // namespace vigil
