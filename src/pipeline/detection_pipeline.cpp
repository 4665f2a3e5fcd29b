// DetectionPipeline implementation.
#include "pipeline/detection_pipeline.h"

#include <algorithm>

#include "core/codec.h"

namespace vigil {

DetectionPipeline::DetectionPipeline(const RuleSet& rules, PipelineOptions options, AlertsOut on_alerts)
    : rules_(rules), options_(std::move(options)), on_alerts_(std::move(on_alerts)),
      engine_(std::make_unique<HuntEngine>(rules, options_.engine)),
      alerter_(std::make_unique<Alerter>(rules, options_.timing)) {}

DetectionPipeline::~DetectionPipeline() = default;

void DetectionPipeline::add(const EventBatch& batch) {
  engine_->add(batch);
  if (!options_.lateness_ns) return;
  for (const Event& e : batch.events) {
    if (e.has_timestamp) max_time_ = std::max(max_time_, e.timestamp_ns);
  }
  if (max_time_ == INT64_MIN) return;
  const std::int64_t lateness = *options_.lateness_ns;
  advance(max_time_ < INT64_MIN + lateness ? INT64_MIN : max_time_ - lateness);
}

void DetectionPipeline::advance(TimestampNs watermark) {
  if (!options_.lateness_ns || watermark <= watermark_) return;
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
  std::vector<ReadyAlert> ready;
  if (end) {
    alerter_->finish(ready);
  } else {
    alerter_->advance(watermark, ready);
  }
  if (!ready.empty()) write(ready);
}

void DetectionPipeline::write(std::vector<ReadyAlert>& ready) {
  std::vector<AlertLine> lines;
  for (ReadyAlert& a : ready) {
    const Rule& rule = *rules_.compiled[a.rule].rule;
    std::string json;
    auto summaries = writer_.write(rule, a.detection, a.time, json, a.suppression ? &*a.suppression : nullptr);
    // The same event read twice (a dataset in two archives, overlapping
    // exports) is the same alert: its id is a hash of rule and document.
    if (!written_ids_.insert(summaries.front().id).second) {
      ++stats_.duplicates;
      continue;
    }
    if (options_.max_alert_ids != SIZE_MAX) {
      id_order_.push_back(summaries.front().id);
      if (id_order_.size() > options_.max_alert_ids) {
        written_ids_.erase(id_order_.front());
        id_order_.pop_front();
        ++stats_.alert_ids_forgotten;
      }
    }
    ++stats_.alerts;
    lines.push_back({std::move(summaries.front()), std::move(json)});
    for (std::size_t k = 1; k < summaries.size(); ++k) lines.push_back({std::move(summaries[k]), {}});
  }
  // Deterministic order: alert time, first event time, rule, id (a sequence's
  // building blocks follow its alert, in the same string, and keep their
  // place after it here).
  std::vector<std::size_t> heads;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (!lines[i].json.empty() || !lines[i].summary.building_block) heads.push_back(i);
  }
  std::stable_sort(heads.begin(), heads.end(), [&](std::size_t x, std::size_t y) {
    const AlertSummary& a = lines[x].summary;
    const AlertSummary& b = lines[y].summary;
    if (a.time != b.time) return a.time < b.time;
    if (a.original_time != b.original_time) return a.original_time < b.original_time;
    if (a.rule_name != b.rule_name) return a.rule_name < b.rule_name;
    return a.id < b.id;
  });
  std::vector<AlertLine> ordered;
  ordered.reserve(lines.size());
  for (std::size_t h : heads) {
    ordered.push_back(std::move(lines[h]));
    for (std::size_t k = h + 1; k < lines.size() && lines[k].json.empty() && lines[k].summary.building_block; ++k) {
      ordered.push_back(std::move(lines[k]));
    }
  }
  if (!ordered.empty()) on_alerts_(ordered);
}

std::vector<RuleRunStats> DetectionPipeline::rule_stats() {
  std::vector<RuleRunStats> stats = engine_->stats();
  alerter_->count(stats);
  return stats;
}

namespace {
constexpr std::uint64_t kStateFormat = 1;
}  // namespace

std::string DetectionPipeline::save() {
  std::string out;
  Encoder e(out);
  e(kStateFormat);
  e(engine_->save());
  e(max_time_);
  e(watermark_);
  e(id_order_);
  if (options_.max_alert_ids == SIZE_MAX) {
    std::vector<std::string> ids(written_ids_.begin(), written_ids_.end());
    e(ids);
  }
  e(stats_.duplicates);
  e(stats_.alert_ids_forgotten);
  e(stats_.alerts);
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
  d(id_order_);
  written_ids_.clear();
  if (options_.max_alert_ids == SIZE_MAX) {
    std::vector<std::string> ids;
    d(ids);
    written_ids_.insert(ids.begin(), ids.end());
  } else {
    written_ids_.insert(id_order_.begin(), id_order_.end());
  }
  d(stats_.duplicates);
  d(stats_.alert_ids_forgotten);
  d(stats_.alerts);
  alerter_->load(d);
  return d.ok() && d.at_end();
}

}  // namespace vigil
