// Schedule emulation: a sweep over run times, holding the detections whose
// window range includes the current run.
#include "detect/schedule.h"

#include <algorithm>
#include <set>

namespace vigil {
namespace {

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return -floor_div(-a, b); }

}  // namespace

std::vector<ScheduledAlert> schedule_alerts(const std::vector<Detection>& detections, const Rule& rule,
                                            RuleRunStats& stats) {
  const std::int64_t interval = rule.interval_ns;
  const std::int64_t lookback = rule.lookback_ns;
  // Runs k (at k * interval) whose window [t - lookback, t] holds detection d:
  // t >= last_time and t - lookback <= first_time.
  struct Range {
    std::int64_t first_run, last_run;
    std::size_t index;
  };
  std::vector<Range> ranges;
  ranges.reserve(detections.size());
  for (std::size_t i = 0; i < detections.size(); ++i) {
    const Detection& d = detections[i];
    const TimestampNs earliest = d.window_time.value_or(d.first_time);
    const TimestampNs latest = d.window_time.value_or(d.last_time);
    std::int64_t first = ceil_div(latest, interval);
    std::int64_t last = floor_div(earliest + lookback, interval);
    if (first > last) {
      ++stats.outside_windows;
      continue;
    }
    ranges.push_back({first, last, i});
  }
  std::stable_sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) { return a.first_run < b.first_run; });
  // Active detections of the current run, in search order (time, then input position).
  auto order = [&](std::size_t a, std::size_t b) {
    const Detection& x = detections[a];
    const Detection& y = detections[b];
    const TimestampNs tx = x.window_time.value_or(x.first_time), ty = y.window_time.value_or(y.first_time);
    if (tx != ty) return tx < ty;
    if (x.ordinal != y.ordinal) return x.ordinal < y.ordinal;
    return a < b;
  };
  std::set<std::size_t, decltype(order)> active(order);
  std::vector<std::int64_t> last_run(detections.size(), 0);
  std::vector<bool> alerted(detections.size(), false);
  std::vector<ScheduledAlert> out;
  std::size_t next = 0;
  std::int64_t run = 0;
  while (next < ranges.size() || !active.empty()) {
    if (active.empty()) run = ranges[next].first_run;
    while (next < ranges.size() && ranges[next].first_run <= run) {
      active.insert(ranges[next].index);
      last_run[ranges[next].index] = ranges[next].last_run;
      ++next;
    }
    int taken = 0;
    for (auto it = active.begin(); it != active.end() && taken < rule.max_signals; ++it, ++taken) {
      // Already-alerted results still take a place in the run's max_signals,
      // as in Elastic, where their duplicate alerts are dropped at write.
      if (!alerted[*it]) {
        alerted[*it] = true;
        out.push_back({*it, run * interval});
      }
    }
    for (auto it = active.begin(); it != active.end();) {
      if (last_run[*it] <= run) {
        if (!alerted[*it]) ++stats.capped;
        it = active.erase(it);
      } else {
        ++it;
      }
    }
    ++run;
  }
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
