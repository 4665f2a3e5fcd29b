// EsqlRunner: an ES|QL rule over event time. Every event the rule's
// prefilter passes becomes a row and runs through the plan's streaming part
// (esql/plan.h) at once. A plan without a windowed part (no STATS, INLINE
// STATS, SORT or LIMIT) is non-aggregating: each row is a detection of its
// event, alerted by the schedule like an event rule's match (an event found
// by overlapping runs is one alert, as Elastic deduplicates by _id).
//
// Otherwise the rows wait for the runs that see them: the run at E (every
// interval, aligned to the epoch as in detect/schedule.h) takes the rows of
// its window [E - lookback, E] through the rest of the plan with NOW() = E,
// and each result row is a detection made by that run. An aggregating
// query's rows are alerted by every run that returns them (Elastic's alert
// id for them includes the run's time range, so overlapping runs can alert
// the same group twice; its documentation says so); a non-aggregating one's
// (SORT / LIMIT) once per event. Runs whose window holds no rows are not
// performed. At most max_rows rows are held (oldest evicted, counted).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "detect/hunt_engine.h"
#include "esql/event_row.h"

namespace vigil {

class EsqlRunner {
 public:
  EsqlRunner(const Rule& rule, const CompiledRule::Esql& esql, std::size_t rule_index, std::size_t max_rows);

  // An event the prefilter passed, at (window) time `t`. `detection` makes
  // the event's detection (document, source, context); non-aggregating
  // detections are appended to `out`.
  void add(const Event& event, TimestampNs t, const std::function<Detection()>& detection,
           std::vector<Detection>& out);
  // Performs every run at or before `watermark`; returns their detections.
  std::vector<Detection> release(TimestampNs watermark);
  std::vector<Detection> finish() { return release(INT64_MAX); }
  void save(Encoder& out) const;
  void load(Decoder& in);

  std::uint64_t evicted() const { return evicted_; }
  std::uint64_t late() const { return late_; }

 private:
  struct Held {
    TimestampNs t = 0;
    std::uint64_t ordinal = 0;
    esql::Row row;
    std::optional<Detection> detection;  // non-aggregating windowed plans: the event's detection
    friend auto members(Unqualified<Held> auto& h) { return std::tie(h.t, h.ordinal, h.row, h.detection); }
  };
  void run(TimestampNs at, std::vector<Detection>& out);
  static void attach_computed(Detection& d, const std::vector<std::string>& columns,
                              const std::vector<std::size_t>& computed, const esql::Row& row);

  const Rule& rule_;
  const esql::Plan& plan_;
  const esql::EventRows& rows_of_;
  std::size_t rule_index_;
  std::int64_t interval_;
  std::int64_t lookback_;
  std::size_t max_rows_;
  // Columns that are not source fields, added to a non-aggregating alert: of streamed rows, of results.
  std::vector<std::size_t> computed_streamed_, computed_result_;
  std::deque<Held> held_;              // by time
  std::set<std::uint64_t> alerted_;    // non-aggregating windowed plans: events a run alerted
  std::int64_t next_run_ = INT64_MIN;
  std::uint64_t evicted_ = 0;
  std::uint64_t late_ = 0;
};

}  // namespace vigil
