// ThresholdRunner: Elastic's threshold rule type, run by run over event
// time. The run at E (every interval, aligned to the epoch as in
// detect/schedule.h) groups the rule's matching events of its window
// [E - lookback, E] by the threshold fields (an event without one of them is
// in no group, as a terms aggregation leaves it out; a multi-valued field puts
// it in each value's group) and alerts once per group holding at least
// `value` events and, with a cardinality field, at least that many distinct
// values of it. As Elastic's threshold signal history does, the events a
// group alerted on are not counted again by later, overlapping runs: only
// events after the group's last alerted event are.
//
// A run is performed once event time (the watermark) has passed it. Groups
// hold their events' times (and cardinality values) while a run can still
// see them; at most max_groups groups are kept (least recently seen evicted,
// counted).
#pragma once

#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "detect/hunt_engine.h"

namespace vigil {

class ThresholdRunner {
 public:
  ThresholdRunner(const Rule& rule, const CompiledRule::Threshold& fields, std::size_t rule_index,
                  std::size_t max_groups);

  // An event that matched the rule's query, at (window) time `t`.
  void add(const Event& event, TimestampNs t, std::uint64_t ordinal);
  // Performs every run at or before `watermark`; returns their detections.
  std::vector<Detection> release(TimestampNs watermark);
  // Performs the remaining runs that can see any held event.
  std::vector<Detection> finish();
  void save(Encoder& out) const;
  void load(Decoder& in);

  std::uint64_t evicted() const { return evicted_; }
  // Events that came after every run that could see them was done (counted, not grouped).
  std::uint64_t late() const { return late_; }

 private:
  struct Hit {
    TimestampNs t = 0;
    std::string cardinality;  // the cardinality field's value ("" without one)
    friend auto members(Unqualified<Hit> auto& h) { return std::tie(h.t, h.cardinality); }
  };
  struct Group {
    std::vector<std::string> values;      // one per threshold field
    std::vector<Hit> hits;                // sorted by time
    TimestampNs last_signal = INT64_MIN;  // the latest event a signal of this group counted
    TimestampNs last_seen = 0;
    friend auto members(Unqualified<Group> auto& g) { return std::tie(g.values, g.hits, g.last_signal, g.last_seen); }
  };
  void run(TimestampNs at, std::vector<Detection>& out);
  Detection signal(const Group& group, std::size_t count, std::size_t distinct, TimestampNs from, TimestampNs to,
                   TimestampNs run_time) const;
  std::optional<TimestampNs> earliest_hit() const;  // none: no group holds a hit

  const Rule& rule_;
  CompiledRule::Threshold fields_;
  std::size_t rule_index_;
  std::int64_t interval_;
  std::int64_t lookback_;
  std::size_t max_groups_;
  std::unordered_map<std::string, Group> groups_;
  std::int64_t next_run_ = INT64_MIN;  // runs before it are done
  std::uint64_t evicted_ = 0;
  std::uint64_t late_ = 0;
};

}  // namespace vigil
