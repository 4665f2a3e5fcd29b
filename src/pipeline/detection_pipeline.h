// DetectionPipeline: the one path from decoded events to alert documents,
// shared by `vigil hunt` (finite inputs) and `vigil run` (endless ones):
//   batch → HuntEngine (rules, sequences, new terms, triage context)
//         → Alerter (schedule or immediate, suppression)
//         → AlertWriter (Elastic's alert schema) → deduplicated alert lines.
// Event time drives it: with a lateness, the watermark trails the highest
// event time seen by that much, and whatever it makes final is handed out
// after each batch; without one (batch mode) nothing is final before
// finish() — detections still leave the engine after each batch and wait in
// the alerter, in memory up to a budget and in a spill file beyond. Alerts
// are handed out in a deterministic order (alert time, first event time, rule
// name, id), the same for any thread count: ordered before they are rendered
// (AlertOrder), rendered one at a time as they are handed out.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <deque>
#include <string>
#include <unordered_set>
#include <vector>

#include "detect/alerter.h"
#include "detect/hunt_engine.h"
#include "detect/rule_set.h"
#include "output/alert_document.h"
#include "pipeline/alert_order.h"

namespace vigil {

struct PipelineOptions {
  HuntOptions engine;
  AlertTiming timing = AlertTiming::Schedule;
  // The watermark trails the highest event time seen by this much; nullopt:
  // batch mode, nothing is final before finish().
  std::optional<std::int64_t> lateness_ns;
  // Alert ids remembered to drop an alert created twice (the same event read
  // twice); the oldest are forgotten beyond it (counted).
  std::size_t max_alert_ids = SIZE_MAX;
  // Bytes of held detections, and of alerts waiting to be ordered, each
  // kept in memory; beyond it they go to temporary files.
  std::size_t spill_bytes = kDefaultSpillBytes;
  // Alerts carry their source document in event.original.
  bool event_original = true;
};

struct PipelineStats {
  std::uint64_t duplicates = 0;           // alerts dropped: their id was written before
  std::uint64_t alert_ids_forgotten = 0;  // beyond max_alert_ids
};

class DetectionPipeline {
 public:
  // `on_alerts` gets each group of alert lines that became final.
  using AlertsOut = std::function<void(std::vector<AlertLine>& lines)>;
  DetectionPipeline(const RuleSet& rules, PipelineOptions options, AlertsOut on_alerts);
  ~DetectionPipeline();

  void add(const EventBatch& batch);
  // End of input: everything still held becomes final.
  void finish();

  // INT64_MIN until an event with a time arrives (or in batch mode).
  TimestampNs watermark() const { return watermark_; }
  std::vector<RuleRunStats> rule_stats();
  const PipelineStats& stats() const { return stats_; }
  // An alert with this id was handed out (and is remembered: --max-alert-ids).
  bool wrote(std::string_view id) const { return written_ids_.count(std::string(id)) > 0; }
  HuntEngine& engine() { return *engine_; }
  // Everything the pipeline holds, serialized (stream checkpoints): the
  // engine's state, the alerter's, the watermark, the alert ids written.
  // load() wants a pipeline made from the same rules and options; false if
  // the bytes are not its state.
  std::string save();
  bool load(std::string_view bytes);

 private:
  // Moves the watermark to `watermark` if that is later.
  void advance(TimestampNs watermark);
  void drain(TimestampNs watermark, bool end);
  // An alert made final: dropped if its id was written, else ordered.
  void admit(ReadyAlert& alert);
  // Appends the alert's lines (the alert first, its building blocks after it).
  void render(PendingAlert& pending, std::vector<AlertLine>& lines);

  const RuleSet& rules_;
  PipelineOptions options_;
  AlertsOut on_alerts_;
  std::unique_ptr<HuntEngine> engine_;
  std::unique_ptr<Alerter> alerter_;
  AlertWriter writer_;
  AlertOrder order_;
  std::unordered_set<std::string> written_ids_;
  std::deque<std::string> id_order_;  // with max_alert_ids: the ids in written_ids_, oldest first
  TimestampNs max_time_ = INT64_MIN;
  TimestampNs watermark_ = INT64_MIN;
  PipelineStats stats_;
};

}  // namespace vigil
