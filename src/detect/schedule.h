// Emulating Elastic's rule scheduler over event time. A rule runs every
// `interval`; the run at time t searches [t - lookback, t] (lookback from
// `from = "now-9m"`) and turns at most `max_signals` results, in time order,
// into alerts; an event (or sequence) found again by a later, overlapping
// run is the same alert and is not created twice. Run times are aligned to
// multiples of the interval since the Unix epoch, so the result depends only
// on the data. A sequence that cannot fit in one lookback window is never
// found by Elastic either: it is counted, not alerted.
//
// ScheduleSweep is the incremental form: detections are added as they become
// final, and advance(t) performs every run at or before t. Runs are performed
// once; a detection added after the runs that could see it (a late one) is
// counted, not alerted. schedule_alerts() is the whole-input form over it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <vector>

#include "core/timestamp.h"
#include "detect/hunt_engine.h"
#include "rules/rule.h"

namespace vigil {

// The first run (aligned to multiples of `interval` since the epoch) at or
// after t: the first whose window [E - lookback, E] can hold t.
constexpr std::int64_t first_run_at_or_after(TimestampNs t, std::int64_t interval) {
  return saturating_mul(ceil_div(t, interval), interval);  // past the range's end: at its end
}

struct ScheduledAlert {
  std::size_t detection;  // index into the rule's detections
  TimestampNs time;       // the run that created it (the alert's @timestamp)
};

class ScheduleSweep {
 public:
  ScheduleSweep(std::int64_t interval_ns, std::int64_t lookback_ns, int max_signals);

  enum class Added { Scheduled, OutsideWindows, Late };
  // A final detection, named by `handle`. The times a run's window must hold
  // are its window_time (rule.timestamp_override) or its first and last
  // events' times; a run's results are ordered by the earliest of them, then
  // input position, then order of adding.
  Added add(std::uint64_t handle, const Detection& detection);
  // Performs every run at or before `until`: `alert(handle, run_time)` for each
  // alert created (in creation order); `retire(handle, alerted)` when a
  // detection leaves the last window that holds it.
  void advance(TimestampNs until, const std::function<void(std::uint64_t, TimestampNs)>& alert,
               const std::function<void(std::uint64_t, bool)>& retire);
  // The first run not yet performed (INT64_MIN before any).
  std::int64_t next_run() const { return next_run_; }

  struct Entry {
    TimestampNs time;
    std::uint64_t ordinal;
    std::uint64_t seq;
    std::uint64_t handle;
    std::int64_t last_run;
    mutable bool alerted;  // not part of the order
    friend auto members(Unqualified<Entry> auto& e) {
      return std::tie(e.time, e.ordinal, e.seq, e.handle, e.last_run, e.alerted);
    }
  };
  // The serialized form (stream checkpoints): every held entry with its first run.
  std::vector<std::pair<std::int64_t, Entry>> entries() const;
  void restore(std::int64_t next_run, std::uint64_t next_seq, const std::vector<std::pair<std::int64_t, Entry>>& entries);
  std::uint64_t next_seq() const { return seq_; }

 private:
  struct Order {
    bool operator()(const Entry& a, const Entry& b) const {
      if (a.time != b.time) return a.time < b.time;
      if (a.ordinal != b.ordinal) return a.ordinal < b.ordinal;
      return a.seq < b.seq;
    }
  };
  std::int64_t interval_;
  std::int64_t lookback_;
  int max_signals_;
  std::multimap<std::int64_t, Entry> pending_;  // by first run
  std::set<Entry, Order> active_;               // the current run's results, in search order
  std::int64_t next_run_ = INT64_MIN;
  std::uint64_t seq_ = 0;
};

// `detections` sorted by first_time. Updates stats.alerts/outside_windows/capped.
std::vector<ScheduledAlert> schedule_alerts(const std::vector<Detection>& detections, const Rule& rule,
                                            RuleRunStats& stats);

// Every detection alerts once, at its last event's time (no schedule, no max_signals).
std::vector<ScheduledAlert> unscheduled_alerts(const std::vector<Detection>& detections, RuleRunStats& stats);

}  // namespace vigil
