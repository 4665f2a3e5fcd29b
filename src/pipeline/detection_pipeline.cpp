// DetectionPipeline implementation.
#include "pipeline/detection_pipeline.h"

#include <algorithm>

#include "core/codec.h"

namespace vigil {

DetectionPipeline::DetectionPipeline(const RuleSet& rules, PipelineOptions options, AlertsOut on_alerts)
    : rules_(rules), options_(std::move(options)), on_alerts_(std::move(on_alerts)),
      engine_(std::make_unique<HuntEngine>(rules, options_.engine)),
      alerter_(std::make_unique<Alerter>(
          rules, AlerterOptions{options_.timing, options_.engine.max_detections_per_rule, options_.spill_bytes})),
      writer_(options_.event_original),
      order_(options_.spill_bytes) {}

DetectionPipeline::~DetectionPipeline() = default;

void DetectionPipeline::add(const EventBatch& batch) {
  engine_->add(batch);
  if (!options_.lateness_ns) {
    // Nothing is final yet, but the detections so far wait in the alerter
    // (which spills) rather than in the engine (which does not).
    if (engine_->held() > 0) alerter_->add(engine_->take());
    return;
  }
  for (const Event& e : batch.events) {
    if (e.has_timestamp) max_time_ = std::max(max_time_, e.timestamp_ns);
  }
  if (max_time_ == INT64_MIN) return;
  const std::int64_t lateness = *options_.lateness_ns;
  advance(saturating_sub(max_time_, lateness));
}

void DetectionPipeline::advance(TimestampNs watermark) {
  if (watermark <= watermark_) {
    // Event time stood still, but an alert due at once must not wait for it.
    if (options_.timing == AlertTiming::Immediate && engine_->held() > 0) drain(watermark_, false);
    return;
  }
  watermark_ = watermark;
  drain(watermark, false);
}

void DetectionPipeline::finish() {
  engine_->finish();
  drain(INT64_MAX, true);
}

void DetectionPipeline::drain(TimestampNs watermark, bool end) {
  if (!end) engine_->advance(watermark);
  alerter_->add(engine_->take());
  const Alerter::AlertOut out = [this](ReadyAlert& a) { admit(a); };
  if (end) {
    alerter_->finish(out);
  } else {
    alerter_->advance(watermark, out);
  }
  // Deterministic order: alert time, first event time, rule, id; rendered
  // in that order and handed out a few hundred groups at a time.
  constexpr std::size_t kLinesPerCall = 256;
  std::vector<AlertLine> lines;
  order_.flush([&](PendingAlert& pending) {
    render(pending, lines);
    if (lines.size() >= kLinesPerCall) {
      on_alerts_(lines);
      lines.clear();
    }
  });
  if (!lines.empty()) on_alerts_(lines);
}

void DetectionPipeline::admit(ReadyAlert& alert) {
  const Rule& rule = *rules_.compiled[alert.rule].rule;
  std::string id = AlertWriter::alert_id(rule, alert.detection, alert.time);
  // The same event read twice (a dataset in two archives, overlapping
  // exports) is the same alert: its id is a hash of rule and document.
  if (!written_ids_.insert(id).second) {
    ++stats_.duplicates;
    return;
  }
  if (options_.max_alert_ids != SIZE_MAX) {
    id_order_.push_back(id);
    if (id_order_.size() > options_.max_alert_ids) {
      written_ids_.erase(id_order_.front());
      id_order_.pop_front();
      ++stats_.alert_ids_forgotten;
    }
  }
  const TimestampNs first_time = alert.detection.first_time;
  order_.add({{alert.time, first_time, rule.name, std::move(id)}, std::move(alert)});
}

void DetectionPipeline::render(PendingAlert& pending, std::vector<AlertLine>& lines) {
  ReadyAlert& alert = pending.alert;
  const Rule& rule = *rules_.compiled[alert.rule].rule;
  std::string json;
  auto summaries = writer_.write(rule, alert.detection, alert.time, pending.key.id, json,
                                 alert.suppression ? &*alert.suppression : nullptr);
  // A sequence's building blocks are in its alert's json; their own lines
  // (empty json) carry their summaries and stay right after it.
  // A single alert's line is its document: the writer left `json` empty (AlertLine::append_lines).
  lines.push_back({std::move(summaries.front()), std::move(json)});
  for (std::size_t k = 1; k < summaries.size(); ++k) lines.push_back({std::move(summaries[k]), {}});
}

std::vector<RuleRunStats> DetectionPipeline::rule_stats() {
  std::vector<RuleRunStats> stats = engine_->stats();
  alerter_->count(stats);
  return stats;
}

namespace {
constexpr std::uint64_t kStateFormat = 2;  // 2: triage state links pids to processes
}  // namespace

std::string DetectionPipeline::save() {
  std::string out;
  Encoder e(out);
  e(kStateFormat);
  e(engine_->save());
  e(max_time_);
  e(watermark_);
  // Bounded, the ids in the order they are forgotten; unbounded, the set.
  if (options_.max_alert_ids != SIZE_MAX) {
    e(id_order_);
  } else {
    e(std::deque<std::string>(written_ids_.begin(), written_ids_.end()));
  }
  e(stats_.duplicates);
  e(stats_.alert_ids_forgotten);
  alerter_->save(e);
  return out;
}

bool DetectionPipeline::load(std::string_view bytes) {
  Decoder d(bytes);
  std::uint64_t format = 0;
  d(format);
  if (format != kStateFormat) return false;
  std::string engine;
  d(engine);
  if (!d.ok() || !engine_->load(engine)) return false;
  d(max_time_);
  d(watermark_);
  std::deque<std::string> ids;
  d(ids);
  written_ids_ = std::unordered_set<std::string>(ids.begin(), ids.end());
  if (options_.max_alert_ids != SIZE_MAX) id_order_ = std::move(ids);
  d(stats_.duplicates);
  d(stats_.alert_ids_forgotten);
  alerter_->load(d);
  return d.ok() && d.at_end();
}

}  // namespace vigil
