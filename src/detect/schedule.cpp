// Schedule emulation: a sweep over run times, holding the detections whose
// window range includes the current run.
#include "detect/schedule.h"

#include <algorithm>

namespace vigil {
ScheduleSweep::ScheduleSweep(std::int64_t interval_ns, std::int64_t lookback_ns, int max_signals)
    : interval_(std::max<std::int64_t>(interval_ns, 1)), lookback_(lookback_ns), max_signals_(max_signals) {}

ScheduleSweep::Added ScheduleSweep::add(std::uint64_t handle, const Detection& d) {
  const TimestampNs earliest = d.window_time.value_or(d.first_time);
  const TimestampNs latest = d.window_time.value_or(d.last_time);
  // Runs k (at k * interval) whose window [t - lookback, t] holds it:
  // t >= latest and t - lookback <= earliest.
  std::int64_t first = ceil_div(latest, interval_);
  const std::int64_t last = floor_div(saturating_add(earliest, lookback_), interval_);
  if (first > last) return Added::OutsideWindows;
  if (first < next_run_) {
    if (last < next_run_) return Added::Late;  // every run that could see it has been performed
    first = next_run_;
  }
  pending_.emplace(first, Entry{earliest, d.ordinal, seq_++, handle, last, false});
  return Added::Scheduled;
}

void ScheduleSweep::advance(TimestampNs until, const std::function<void(std::uint64_t, TimestampNs)>& alert,
                            const std::function<void(std::uint64_t, bool)>& retire) {
  const std::int64_t last_allowed = floor_div(until, interval_);
  while (true) {
    std::int64_t run = next_run_;
    if (active_.empty()) {
      if (pending_.empty()) break;
      run = std::max(run, pending_.begin()->first);  // no result in between: skip the empty runs
    }
    if (run > last_allowed) break;
    for (auto it = pending_.begin(); it != pending_.end() && it->first <= run; it = pending_.erase(it)) {
      active_.insert(it->second);
    }
    int taken = 0;
    for (auto it = active_.begin(); it != active_.end() && taken < max_signals_; ++it, ++taken) {
      // Already-alerted results still take a place in the run's max_signals,
      // as in Elastic, where their duplicate alerts are dropped at write.
      if (!it->alerted) {
        it->alerted = true;
        alert(it->handle, run * interval_);
      }
    }
    for (auto it = active_.begin(); it != active_.end();) {
      if (it->last_run <= run) {
        retire(it->handle, it->alerted);
        it = active_.erase(it);
      } else {
        ++it;
      }
    }
    next_run_ = run + 1;
  }
}

std::vector<std::pair<std::int64_t, ScheduleSweep::Entry>> ScheduleSweep::entries() const {
  std::vector<std::pair<std::int64_t, Entry>> out(pending_.begin(), pending_.end());
  for (const Entry& e : active_) out.emplace_back(next_run_, e);  // active: already in a run's window
  return out;
}

void ScheduleSweep::restore(std::int64_t next_run, std::uint64_t next_seq,
                            const std::vector<std::pair<std::int64_t, Entry>>& entries) {
  pending_.clear();
  active_.clear();
  next_run_ = next_run;
  seq_ = next_seq;
  for (const auto& [first, e] : entries) pending_.emplace(first, e);
}

std::vector<ScheduledAlert> schedule_alerts(const std::vector<Detection>& detections, const Rule& rule,
                                            RuleRunStats& stats) {
  ScheduleSweep sweep(rule.interval_ns, rule.lookback_ns, rule.max_signals);
  for (std::size_t i = 0; i < detections.size(); ++i) {
    if (sweep.add(i, detections[i]) != ScheduleSweep::Added::Scheduled) ++stats.outside_windows;
  }
  std::vector<ScheduledAlert> out;
  sweep.advance(
      INT64_MAX, [&](std::uint64_t handle, TimestampNs run) { out.push_back({handle, run}); },
      [&](std::uint64_t, bool alerted) {
        if (!alerted) ++stats.capped;
      });
  stats.alerts += out.size();
  return out;
}

std::vector<ScheduledAlert> unscheduled_alerts(const std::vector<Detection>& detections, RuleRunStats& stats) {
  std::vector<ScheduledAlert> out;
  out.reserve(detections.size());
  for (std::size_t i = 0; i < detections.size(); ++i) out.push_back({i, detections[i].last_time});
  stats.alerts += out.size();
  return out;
}

}  // namespace vigil
