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
//
// Detections wait in HeldDetections (spilled to a temporary file beyond a
// byte budget) and alerts are handed to a callback one at a time, so a batch
// hunt's memory does not grow with the number of detections.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "detect/held_detections.h"
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

struct AlerterOptions {
  AlertTiming timing = AlertTiming::Schedule;
  // Detections held per rule (waiting for their run, or for the end of a
  // batch); more are dropped and counted.
  std::size_t max_held_per_rule = 100000;
  // Bytes of held detections kept in memory (all rules); the rest spill.
  std::size_t spill_bytes = kDefaultSpillBytes;
};

class Alerter {
 public:
  using AlertOut = std::function<void(ReadyAlert&)>;
  Alerter(const RuleSet& rules, AlerterOptions options);
  ~Alerter();

  // Final detections, per rule, in the order the engine hands them out.
  void add(std::vector<std::vector<Detection>> detections);
  // Event time has reached `watermark`: hands out the alerts that are final,
  // rule by rule, each rule's in creation order. Immediate timing creates
  // the alerts of the detections added so far in (first event time, input
  // position, order of adding) order.
  void advance(TimestampNs watermark, const AlertOut& out);
  // End of input: every alert.
  void finish(const AlertOut& out) { advance(INT64_MAX, out); }
  // Adds alerts, outside_windows, capped, suppressed, late and dropped to `stats`.
  void count(std::vector<RuleRunStats>& stats) const;
  // The serialized form (stream checkpoints); load() wants an alerter made
  // from the same rules and timing.
  void save(Encoder& out) const;
  void load(Decoder& in);

  struct RuleState;  // alerter.cpp; public for the checkpoint codec

 private:
  const RuleSet& rules_;
  AlerterOptions options_;
  DetectionSpill spill_;
  std::vector<std::unique_ptr<RuleState>> state_;
};

}  // namespace vigil
