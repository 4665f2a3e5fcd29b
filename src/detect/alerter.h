// Alerter: final detections in, alerts out, as event time moves on. Two
// timings:
//  - Immediate: a detection is an alert at once, at its last event's time
//    (`vigil run`'s default, `vigil hunt --no-schedule`);
//  - Schedule: Elastic's rule schedule (schedule.h): an alert is created by
//    the first run whose window holds the detection, once event time has
//    reached that run (`vigil hunt`, `vigil run --schedule elastic`).
// Either way alert_suppression folds alerts of one group (suppression.h); a
// kept alert is handed out when its group closes. Nothing here reads a clock:
// time is the watermark the caller passes (finish() = the end of time), so
// the same events give the same alerts however they are batched.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "detect/hunt_engine.h"
#include "detect/rule_set.h"
#include "detect/schedule.h"
#include "detect/suppression.h"

namespace vigil {

enum class AlertTiming { Immediate, Schedule };

struct ReadyAlert {
  std::size_t rule = 0;
  Detection detection;
  TimestampNs time = 0;                    // the alert's @timestamp
  std::optional<Suppression> suppression;  // when the rule suppresses
};

class Alerter {
 public:
  Alerter(const RuleSet& rules, AlertTiming timing);
  ~Alerter();

  // Final detections, per rule, in the order the engine hands them out.
  void add(std::vector<std::vector<Detection>> detections);
  // Event time has reached `watermark`: appends the alerts that are final,
  // rule by rule, each rule's in creation order.
  void advance(TimestampNs watermark, std::vector<ReadyAlert>& out);
  // End of input: every alert.
  void finish(std::vector<ReadyAlert>& out) { advance(INT64_MAX, out); }
  // Adds alerts, outside_windows, capped, suppressed and late to `stats`.
  void count(std::vector<RuleRunStats>& stats) const;
  // The serialized form (stream checkpoints); load() wants an alerter made
  // from the same rules and timing.
  void save(Encoder& out) const;
  void load(Decoder& in);

  struct RuleState;  // alerter.cpp; public for the checkpoint codec

 private:
  const RuleSet& rules_;
  std::vector<std::unique_ptr<RuleState>> state_;
};

}  // namespace vigil
