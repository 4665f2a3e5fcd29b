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

// An alert's NDJSON lines as the pipeline hands them out.
struct AlertLine {
  AlertSummary summary;
  // A sequence's NDJSON lines: its alert, then its building blocks' (whose
  // own json is empty). Empty for a single alert too: its line is its
  // summary.document (held once, not twice).
  std::string json;
  // Appends the lines this alert writes (none for a building block).
  void append_lines(std::string& out) const {
    if (!json.empty()) {
      out += json;
    } else if (!summary.building_block) {
      out += summary.document;
      out.push_back('\n');
    }
  }
};

class AlertWriter {
 public:
  // `event_original`: each alert carries its source document, as read, in
  // event.original (ECS), unless the source has its own.
  explicit AlertWriter(bool event_original = true);
  ~AlertWriter();

  // The id write() gives the alert (the sequence alert's for a sequence):
  // known without rendering the alert.
  static std::string alert_id(const Rule& rule, const Detection& detection, TimestampNs alert_time);

  // Appends the alert lines (NDJSON, each ending in '\n') for one scheduled
  // detection and returns their summaries (the sequence alert first), each
  // with its document. `id` is alert_id() of the same arguments (the caller
  // needed it first: ordering, duplicates). A single alert (not a sequence)
  // written into an empty `out` leaves it empty: its one line is its
  // summary's document, moved there rather than copied.
  std::vector<AlertSummary> write(const Rule& rule, const Detection& detection, TimestampNs alert_time,
                                  const std::string& id, std::string& out, const Suppression* suppression = nullptr);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  bool event_original_ = true;
};

}  // namespace vigil
