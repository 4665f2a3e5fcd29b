// CorrelationRunner: one Sigma correlation rule (Sigma correlation
// specification 2.1) over the matches of the rules it names, per group of
// group-by values, within its timespan. The matches come in any order; they
// are held until event time (the watermark) has passed them and then taken
// in time order, so the result does not depend on the order of the inputs.
//
// Semantics (docs/sigma.md says them for users):
//  - event_count, value_count, value_sum, value_avg whose condition has only
//    lower bounds (gt, gte): a sliding window. At each match the window is
//    the matches of the group in [t - timespan, t]; when the count, the
//    number of distinct values, the sum or the average meets the condition,
//    the correlation fires and the group starts again (one alert per burst,
//    not one per match after the threshold).
//  - the same with an upper bound (lt, lte, eq, neq): such a condition is
//    only known at the end of a window, so windows are fixed: a group's
//    window opens at its first match and closes timespan later (or at the
//    end of the input); the condition is tested on the closed window.
//  - temporal: every rule named (or as many as the condition says) matched
//    in the group within timespan; temporal_ordered: in the order written,
//    each after the one before, the first and last within timespan.
//  - a match without a value for a group-by field (or for the value field)
//    takes no part (as `stats ... by` in the SIEMs drops it); counted.
//
// State is bounded: at most `max_groups` groups (the least recently matched
// is evicted), at most `max_entries` window entries per group (the oldest
// go), and the documents of at most kKeptEvents events per group for the
// alert; every eviction is counted.
#pragma once

#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/codec.h"
#include "core/timestamp.h"
#include "rules/rule.h"

namespace vigil {

// An event of a correlation's alert: its document, triage context and source.
struct CorrelatedEvent {
  std::string document, context, source;
  TimestampNs time = 0;
  std::uint64_t ordinal = 0;
};
using CorrelatedEventPtr = std::shared_ptr<const CorrelatedEvent>;

// One match of a rule the correlation names.
struct CorrelationOccurrence {
  TimestampNs time = 0;
  std::uint64_t ordinal = 0;
  std::uint32_t ref = 0;           // position in the correlation's rules list
  std::vector<std::string> group;  // the group-by values
  std::string value;               // value_count: the value (combination) counted
  double number = 0;               // value_sum / value_avg: the number added
  std::vector<CorrelatedEventPtr> events;  // an event's one; a correlation's match: its events
};

// The correlation fired.
struct CorrelationMatch {
  TimestampNs first_time = 0, last_time = 0;
  std::uint64_t ordinal = 0;
  std::vector<std::string> group;
  std::vector<CorrelatedEventPtr> events;  // in time order, at most kKeptEvents (temporal: one per rule)
  double measured = 0;                     // the count, distinct values, sum or average; temporal: rules seen
  std::uint64_t matches = 0;               // matches in the window
  std::vector<std::uint32_t> refs;         // the rules (positions) that matched in the window
};

struct CorrelationLimits {
  std::size_t max_groups = 100000;
  std::size_t max_entries = 100000;  // per group
};

struct CorrelationStats {
  std::uint64_t occurrences = 0;   // matches taken
  std::uint64_t ungrouped = 0;     // matches without a group-by (or value) field: no part
  std::uint64_t late = 0;          // matches older than event time already passed: no part
  std::uint64_t groups_evicted = 0;
  std::uint64_t entries_evicted = 0;
  std::uint64_t fired = 0;
};
inline auto members(Unqualified<CorrelationStats> auto& s) {
  return std::tie(s.occurrences, s.ungrouped, s.late, s.groups_evicted, s.entries_evicted, s.fired);
}

class CorrelationRunner {
 public:
  static constexpr std::size_t kKeptEvents = 10;

  CorrelationRunner(const CorrelationSpec& spec, CorrelationLimits limits);

  void add(CorrelationOccurrence o);
  // A match of a correlation this one names: known when that one released
  // it, which may be after event time passed its last event (a fixed window
  // closes a timespan after it opened): taken at the earliest time not yet passed.
  void add_chained(CorrelationOccurrence o);
  void add_ungrouped() { ++stats_.ungrouped; }
  // Event time has reached `watermark`: the matches up to it are taken in
  // time order; fixed windows that ended before it are closed.
  std::vector<CorrelationMatch> release(TimestampNs watermark);
  // End of input: everything is taken and every window closed.
  std::vector<CorrelationMatch> finish();

  std::size_t groups() const { return groups_.size(); }
  std::size_t buffered() const { return buffer_.size(); }
  const CorrelationStats& stats() const { return stats_; }
  // The measured quantity's name in alerts: count, distinct, sum, avg, rules_matched.
  const char* measure_name() const;

  void save(Encoder& out) const;
  void load(Decoder& in);

  struct Entry {  // one match in a sliding window
    TimestampNs time = 0;
    std::uint32_t ref = 0;
    std::string value;
    double number = 0;
  };
  struct Group {
    std::vector<std::string> key;
    std::deque<Entry> entries;                  // sliding windows
    std::map<std::string, std::size_t> distinct;  // value_count: value → entries holding it
    double sum = 0;
    // Fixed windows.
    bool open = false;
    TimestampNs anchor = 0;
    std::uint64_t count = 0;
    std::vector<std::string> values;  // value_count: distinct values (sorted), capped
    // temporal: per rule, its last match in the group; temporal_ordered:
    // per step, the latest start of a chain that reached it, and its events.
    std::vector<std::optional<TimestampNs>> step_time;
    std::vector<std::vector<CorrelatedEventPtr>> step_events;
    std::deque<CorrelatedEventPtr> recent;  // the last kKeptEvents events
    std::vector<std::uint32_t> refs_seen;   // sorted
    TimestampNs last = 0;
  };

 private:
  bool holds(double x) const;
  void process(CorrelationOccurrence& o, std::vector<CorrelationMatch>& out);
  void close(Group& g, std::vector<CorrelationMatch>& out);
  void reset(Group& g);
  CorrelationMatch fire(Group& g, TimestampNs first, TimestampNs last, double measured, std::uint64_t matches,
                        std::vector<CorrelatedEventPtr> events);
  double measure(const Group& g) const;
  void expire(TimestampNs watermark, std::vector<CorrelationMatch>& out);
  Group& group_for(const std::vector<std::string>& key);

  const CorrelationSpec& spec_;
  CorrelationLimits limits_;
  enum class Mode { Sliding, Fixed, Temporal, Ordered } mode_;
  std::size_t required_ = 0;  // temporal: rules that must have matched
  std::vector<CorrelationOccurrence> buffer_;
  TimestampNs released_ = INT64_MIN;  // event time processed so far
  std::map<std::string, Group> groups_;  // by the joined key
  // Groups by last match (oldest first): eviction and expiry.
  std::list<std::string> lru_;
  std::unordered_map<std::string, std::list<std::string>::iterator> lru_at_;
  CorrelationStats stats_;
};

}  // namespace vigil
