// AlertOrder implementation: in-memory sort, or sorted runs merged.
#include "pipeline/alert_order.h"

#include <algorithm>

#include "core/codec.h"

namespace vigil {

inline auto members(Unqualified<AlertKey> auto& k) { return std::tie(k.time, k.original_time, k.rule_name, k.id); }
inline auto members(Unqualified<ReadyAlert> auto& a) {
  return std::tie(a.rule, a.detection, a.time, a.suppression);
}
inline auto members(Unqualified<PendingAlert> auto& p) { return std::tie(p.key, p.alert); }

namespace {
bool before(const PendingAlert& x, const PendingAlert& y) {
  const AlertKey& a = x.key;
  const AlertKey& b = y.key;
  if (a.time != b.time) return a.time < b.time;
  if (a.original_time != b.original_time) return a.original_time < b.original_time;
  if (a.rule_name != b.rule_name) return a.rule_name < b.rule_name;
  return a.id < b.id;
}

std::size_t weight(const PendingAlert& p) {
  std::size_t bytes = sizeof(PendingAlert) + p.key.rule_name.size() + p.key.id.size() + bytes_of(p.alert.detection);
  if (p.alert.suppression) bytes += p.alert.suppression->terms_json.size();
  return bytes;
}
}  // namespace

void AlertOrder::add(PendingAlert alert) {
  bytes_ += weight(alert);
  alerts_.push_back(std::move(alert));
  if (bytes_ > budget_) spill_run();
}

void AlertOrder::spill_run() {
  std::stable_sort(alerts_.begin(), alerts_.end(), before);
  std::vector<SpillRecord>& run = runs_.emplace_back();
  run.reserve(alerts_.size());
  std::string bytes;
  for (const PendingAlert& a : alerts_) {
    bytes.clear();
    Encoder e(bytes);
    e(a);
    run.push_back(file_.append(bytes));
  }
  alerts_.clear();
  bytes_ = 0;
}

void AlertOrder::flush(const Out& out) {
  if (runs_.empty()) {
    std::stable_sort(alerts_.begin(), alerts_.end(), before);
    // Each alert's detection is released as soon as it is handed out.
    for (PendingAlert& a : alerts_) {
      out(a);
      a = PendingAlert{};
    }
    alerts_.clear();
    bytes_ = 0;
    return;
  }
  if (!alerts_.empty()) spill_run();
  // k-way merge; equal keys come out in run order, as a stable sort would.
  struct Head {
    PendingAlert alert;
    std::size_t run;
    std::size_t next;
  };
  std::string bytes;
  auto load = [&](std::size_t run, std::size_t index) {
    file_.read(runs_[run][index], bytes);
    Decoder d(bytes);
    Head h{{}, run, index + 1};
    d(h.alert);
    return h;
  };
  auto later = [](const Head& a, const Head& b) {
    if (before(b.alert, a.alert)) return true;
    if (before(a.alert, b.alert)) return false;
    return a.run > b.run;
  };
  std::vector<Head> heap;  // a heap by `later`: the earliest head on top
  for (std::size_t r = 0; r < runs_.size(); ++r) {
    if (!runs_[r].empty()) heap.push_back(load(r, 0));
  }
  std::make_heap(heap.begin(), heap.end(), later);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    Head h = std::move(heap.back());
    heap.pop_back();
    if (h.next < runs_[h.run].size()) {
      heap.push_back(load(h.run, h.next));
      std::push_heap(heap.begin(), heap.end(), later);
    }
    out(h.alert);
  }
  runs_.clear();
  file_.clear();
}

}  // namespace vigil
