// Alert suppression (rule.alert_suppression), as Elastic applies it: alerts
// of a rule whose group_by fields have the same values become one alert.
// Without a duration, alerts are grouped within one rule run; with a
// duration, an alert opens a window of that length (from its run time) and
// later alerts of the group inside it are folded into it. The kept alert
// counts what it absorbed (kibana.alert.suppression.docs_count) and spans
// their event times (suppression.start / end). With missing_fields_strategy
// "doNotSuppress", alerts missing a group_by field are never grouped.
//
// Suppressor is the incremental form: alerts are added as they are created,
// and a group is closed (its alert final) once no alert created later can
// fold into it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "detect/hunt_engine.h"
#include "detect/schedule.h"
#include "rules/rule.h"

namespace vigil {

struct Suppression {
  std::uint64_t docs_count = 0;  // alerts folded into this one
  TimestampNs start = 0;         // first event of the group
  TimestampNs end = 0;           // last event of the group
  std::string terms_json;        // [{"field": ..., "value": ...}, ...]
};
inline auto members(Unqualified<Suppression> auto& s) { return std::tie(s.docs_count, s.start, s.end, s.terms_json); }

class Suppressor {
 public:
  explicit Suppressor(const Rule& rule);

  enum class Outcome {
    Alone,   // the alert stands as it is (`alone` says how, with a Suppression when the rule suppresses)
    Folded,  // folded into an open group: the detection is no longer needed
    Opened,  // opened a group: the alert is final when close() hands it back
  };
  using Close = std::function<void(std::uint64_t handle, Suppression suppression)>;
  // An alert created at `time` for detection `d`, named by `handle`. A group
  // of the same key that the alert falls outside of is closed first.
  Outcome add(std::uint64_t handle, const Detection& d, TimestampNs time, std::optional<Suppression>& alone,
              RuleRunStats& stats, const Close& close);
  // Closes the groups that nothing created after `created_until` can fold
  // into, in the order they were opened.
  void close(TimestampNs created_until, const Close& close);

  struct Group {
    std::uint64_t handle;
    TimestampNs time;  // the kept alert's creation time
    std::uint64_t opened;
    Suppression suppression;
    friend auto members(Unqualified<Group> auto& g) { return std::tie(g.handle, g.time, g.opened, g.suppression); }
  };
  // The serialized form (stream checkpoints).
  const std::map<std::string, Group>& groups() const { return open_; }
  void restore(std::map<std::string, Group> groups, std::uint64_t next_opened);
  std::uint64_t next_opened() const { return opened_; }

 private:
  const Rule& rule_;
  bool active_ = false;
  std::map<std::string, Group> open_;  // group key → the alert that absorbs it
  std::uint64_t opened_ = 0;
};

}  // namespace vigil
