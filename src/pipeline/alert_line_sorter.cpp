// AlertLineSorter implementation: in-memory sort, or sorted runs merged.
#include "pipeline/alert_line_sorter.h"

#include <algorithm>
#include <queue>

#include "core/codec.h"

namespace vigil {

inline auto members(Unqualified<AlertSummary> auto& s) {
  return std::tie(s.id, s.rule_id, s.rule_name, s.severity, s.risk_score, s.host, s.time, s.original_time, s.reason,
                  s.building_block, s.document);
}
inline auto members(Unqualified<AlertLine> auto& l) { return std::tie(l.summary, l.json); }

namespace {
constexpr std::size_t kGroupsPerCall = 256;

bool before(const std::vector<AlertLine>& x, const std::vector<AlertLine>& y) {
  const AlertSummary& a = x.front().summary;
  const AlertSummary& b = y.front().summary;
  if (a.time != b.time) return a.time < b.time;
  if (a.original_time != b.original_time) return a.original_time < b.original_time;
  if (a.rule_name != b.rule_name) return a.rule_name < b.rule_name;
  return a.id < b.id;
}

std::size_t weight(const std::vector<AlertLine>& group) {
  std::size_t bytes = sizeof(group);
  for (const AlertLine& l : group) {
    bytes += sizeof(AlertLine) + l.json.size() + l.summary.document.size() + l.summary.reason.size() +
             l.summary.id.size() + l.summary.rule_name.size() + l.summary.host.size();
  }
  return bytes;
}
}  // namespace

void AlertLineSorter::add(std::vector<AlertLine> group) {
  if (group.empty()) return;
  bytes_ += weight(group);
  groups_.push_back(std::move(group));
  if (bytes_ > budget_) spill_run();
}

void AlertLineSorter::spill_run() {
  std::stable_sort(groups_.begin(), groups_.end(), before);
  std::vector<SpillRecord>& run = runs_.emplace_back();
  run.reserve(groups_.size());
  std::string bytes;
  for (const auto& group : groups_) {
    bytes.clear();
    Encoder e(bytes);
    e(group);
    run.push_back(file_.append(bytes));
  }
  groups_.clear();
  bytes_ = 0;
}

void AlertLineSorter::flush(const LinesOut& out) {
  std::vector<AlertLine> lines;
  auto hand_out = [&](std::vector<AlertLine>& group, bool last) {
    for (AlertLine& l : group) lines.push_back(std::move(l));
    if (last || lines.size() >= kGroupsPerCall) {
      if (!lines.empty()) out(lines);
      lines.clear();
    }
  };
  if (runs_.empty()) {
    std::stable_sort(groups_.begin(), groups_.end(), before);
    for (std::size_t i = 0; i < groups_.size(); ++i) hand_out(groups_[i], i + 1 == groups_.size());
    groups_.clear();
    bytes_ = 0;
    return;
  }
  if (!groups_.empty()) spill_run();
  // k-way merge; equal keys come out in run order, as a stable sort would.
  struct Head {
    std::vector<AlertLine> group;
    std::size_t run;
    std::size_t next;
  };
  std::vector<Head> heads;
  std::string bytes;
  auto load = [&](std::size_t run, std::size_t index) {
    file_.read(runs_[run][index], bytes);
    Decoder d(bytes);
    Head h{{}, run, index + 1};
    d(h.group);
    return h;
  };
  auto later = [&](const Head& a, const Head& b) {
    if (before(b.group, a.group)) return true;
    if (before(a.group, b.group)) return false;
    return a.run > b.run;
  };
  std::priority_queue<Head, std::vector<Head>, decltype(later)> queue(later);
  for (std::size_t r = 0; r < runs_.size(); ++r) {
    if (!runs_[r].empty()) queue.push(load(r, 0));
  }
  while (!queue.empty()) {
    Head h = queue.top();
    queue.pop();
    if (h.next < runs_[h.run].size()) queue.push(load(h.run, h.next));
    hand_out(h.group, queue.empty());
  }
  runs_.clear();
  file_.clear();
}

}  // namespace vigil
