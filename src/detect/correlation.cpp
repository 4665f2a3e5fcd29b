// CorrelationRunner implementation.
#include "detect/correlation.h"

#include <algorithm>
#include <cmath>

namespace vigil {

// Kept events are encoded by value (their documents); two groups sharing
// one get a copy each after a restart, which changes nothing they alert on.
void encode_value(Encoder& out, const CorrelatedEventPtr& e) {
  out(e != nullptr);
  if (!e) return;
  out(e->document);
  out(e->context);
  out(e->source);
  out(e->time);
  out(e->ordinal);
}

void decode_value(Decoder& in, CorrelatedEventPtr& e) {
  bool present = false;
  in(present);
  if (!present) {
    e.reset();
    return;
  }
  auto made = std::make_shared<CorrelatedEvent>();
  in(made->document);
  in(made->context);
  in(made->source);
  in(made->time);
  in(made->ordinal);
  e = std::move(made);
}

auto members(Unqualified<CorrelationOccurrence> auto& o) {
  return std::tie(o.time, o.ordinal, o.ref, o.group, o.value, o.number, o.events);
}
auto members(Unqualified<CorrelationRunner::Entry> auto& e) { return std::tie(e.time, e.ref, e.value, e.number); }
auto members(Unqualified<CorrelationRunner::Group> auto& g) {
  return std::tie(g.key, g.entries, g.distinct, g.sum, g.open, g.anchor, g.count, g.values, g.step_time, g.step_events,
                  g.recent, g.refs_seen, g.last);
}

namespace {

std::string join_key(const std::vector<std::string>& values) {
  std::string key;
  for (const std::string& v : values) {
    key += std::to_string(v.size());
    key.push_back(':');
    key += v;
  }
  return key;
}

void note_ref(std::vector<std::uint32_t>& seen, std::uint32_t ref) {
  auto at = std::lower_bound(seen.begin(), seen.end(), ref);
  if (at == seen.end() || *at != ref) seen.insert(at, ref);
}

}  // namespace

CorrelationRunner::CorrelationRunner(const CorrelationSpec& spec, CorrelationLimits limits)
    : spec_(spec), limits_(limits) {
  limits_.max_groups = std::max<std::size_t>(1, limits_.max_groups);
  limits_.max_entries = std::max<std::size_t>(1, limits_.max_entries);
  if (spec.type == "temporal" || spec.type == "temporal_ordered") {
    mode_ = spec.type == "temporal" ? Mode::Temporal : Mode::Ordered;
    // The rules that must have matched: all of them, or what the condition
    // says (gt/gte/eq on the number of rules; rules/sigma.cpp allows no other).
    required_ = spec.rules.size();
    for (const CorrelationCondition& c : spec.condition) {
      const double n = c.op == "gt" ? std::floor(c.value) + 1 : std::ceil(c.value);
      required_ = static_cast<std::size_t>(std::clamp(n, 1.0, static_cast<double>(spec.rules.size())));
    }
    return;
  }
  const bool lower_only = std::all_of(spec.condition.begin(), spec.condition.end(),
                                      [](const CorrelationCondition& c) { return c.op == "gt" || c.op == "gte"; });
  mode_ = lower_only ? Mode::Sliding : Mode::Fixed;
}

const char* CorrelationRunner::measure_name() const {
  if (spec_.type == "event_count") return "count";
  if (spec_.type == "value_count") return "distinct";
  if (spec_.type == "value_sum") return "sum";
  if (spec_.type == "value_avg") return "avg";
  return "rules_matched";
}

bool CorrelationRunner::holds(double x) const {
  for (const CorrelationCondition& c : spec_.condition) {
    const bool ok = c.op == "gt"    ? x > c.value
                    : c.op == "gte" ? x >= c.value
                    : c.op == "lt"  ? x < c.value
                    : c.op == "lte" ? x <= c.value
                    : c.op == "eq"  ? x == c.value
                                    : x != c.value;  // neq
    if (!ok) return false;
  }
  return true;
}

double CorrelationRunner::measure(const Group& g) const {
  const bool fixed = mode_ == Mode::Fixed;
  if (spec_.type == "event_count") return static_cast<double>(fixed ? g.count : g.entries.size());
  if (spec_.type == "value_count") return static_cast<double>(fixed ? g.values.size() : g.distinct.size());
  if (spec_.type == "value_sum") return g.sum;
  const double n = static_cast<double>(fixed ? g.count : g.entries.size());
  return n > 0 ? g.sum / n : 0;  // value_avg
}

void CorrelationRunner::add(CorrelationOccurrence o) {
  if (o.time < released_) {
    ++stats_.late;  // event time has passed it: its windows are gone
    return;
  }
  buffer_.push_back(std::move(o));
}

void CorrelationRunner::add_chained(CorrelationOccurrence o) {
  if (o.time < released_) o.time = released_;
  buffer_.push_back(std::move(o));
}

CorrelationRunner::Group& CorrelationRunner::group_for(const std::vector<std::string>& values) {
  std::string key = join_key(values);
  auto it = groups_.find(key);
  if (it != groups_.end()) {
    lru_.splice(lru_.end(), lru_, lru_at_[key]);
    return it->second;
  }
  if (groups_.size() >= limits_.max_groups) {
    // The group matched least recently goes (its window's matches with it).
    const std::string& oldest = lru_.front();
    groups_.erase(oldest);
    lru_at_.erase(oldest);
    lru_.pop_front();
    ++stats_.groups_evicted;
  }
  Group& g = groups_[key];
  g.key = values;
  g.step_time.assign(spec_.rules.size(), std::nullopt);
  g.step_events.assign(spec_.rules.size(), {});
  lru_.push_back(key);
  lru_at_[key] = std::prev(lru_.end());
  return g;
}

void CorrelationRunner::reset(Group& g) {
  g.entries.clear();
  g.distinct.clear();
  g.sum = 0;
  g.open = false;
  g.count = 0;
  g.values.clear();
  g.step_time.assign(spec_.rules.size(), std::nullopt);
  g.step_events.assign(spec_.rules.size(), {});
  g.recent.clear();
  g.refs_seen.clear();
}

CorrelationMatch CorrelationRunner::fire(Group& g, TimestampNs first, TimestampNs last, double measured,
                                         std::uint64_t matches, std::vector<CorrelatedEventPtr> events) {
  ++stats_.fired;
  CorrelationMatch m;
  m.first_time = first;
  m.last_time = last;
  m.group = g.key;
  std::stable_sort(events.begin(), events.end(), [](const CorrelatedEventPtr& a, const CorrelatedEventPtr& b) {
    return a->time != b->time ? a->time < b->time : a->ordinal < b->ordinal;
  });
  for (const auto& e : events) m.ordinal = std::max(m.ordinal, e->ordinal);
  m.events = std::move(events);
  m.measured = measured;
  m.matches = matches;
  m.refs = g.refs_seen;
  reset(g);
  return m;
}

void CorrelationRunner::close(Group& g, std::vector<CorrelationMatch>& out) {
  if (!g.open) return;
  const double x = measure(g);
  if (holds(x)) {
    out.push_back(fire(g, g.anchor, g.last, x, g.count, {g.recent.begin(), g.recent.end()}));
  } else {
    reset(g);
  }
}

void CorrelationRunner::process(CorrelationOccurrence& o, std::vector<CorrelationMatch>& out) {
  ++stats_.occurrences;
  Group& g = group_for(o.group);
  const TimestampNs t = o.time;
  const TimestampNs from = saturating_sub(t, spec_.timespan_ns);  // the window is [from, t]
  auto remember = [&] {
    for (auto& e : o.events) {
      g.recent.push_back(e);
      if (g.recent.size() > kKeptEvents) g.recent.pop_front();
    }
    note_ref(g.refs_seen, o.ref);
    g.last = t;
  };
  switch (mode_) {
    case Mode::Sliding: {
      auto drop_front = [&] {
        Entry& e = g.entries.front();
        g.sum -= e.number;
        if (auto d = g.distinct.find(e.value); d != g.distinct.end() && --d->second == 0) g.distinct.erase(d);
        g.entries.pop_front();
      };
      while (!g.entries.empty() && g.entries.front().time < from) drop_front();
      if (g.entries.size() >= limits_.max_entries) {
        drop_front();
        ++stats_.entries_evicted;
      }
      g.entries.push_back({t, o.ref, spec_.type == "value_count" ? o.value : std::string(), o.number});
      g.sum += o.number;
      if (spec_.type == "value_count") ++g.distinct[o.value];
      // The kept events are the window's: older ones left with their entries.
      while (!g.recent.empty() && g.recent.front()->time < from) g.recent.pop_front();
      remember();
      const double x = measure(g);
      if (holds(x)) out.push_back(fire(g, g.entries.front().time, t, x, g.entries.size(), {g.recent.begin(), g.recent.end()}));
      return;
    }
    case Mode::Fixed: {
      if (g.open && t > saturating_add(g.anchor, spec_.timespan_ns)) close(g, out);
      if (!g.open) {
        g.open = true;
        g.anchor = t;
      }
      ++g.count;
      g.sum += o.number;
      if (spec_.type == "value_count") {
        auto at = std::lower_bound(g.values.begin(), g.values.end(), o.value);
        if (at == g.values.end() || *at != o.value) {
          if (g.values.size() < limits_.max_entries) {
            g.values.insert(at, o.value);
          } else {
            ++stats_.entries_evicted;  // counted as one more distinct value would be, not held
          }
        }
      }
      remember();
      return;
    }
    case Mode::Temporal: {
      g.step_time[o.ref] = t;
      g.step_events[o.ref] = o.events;
      note_ref(g.refs_seen, o.ref);
      g.last = t;
      std::size_t seen = 0;
      TimestampNs first = t;
      std::vector<CorrelatedEventPtr> events;
      std::vector<std::uint32_t> refs;
      for (std::uint32_t k = 0; k < g.step_time.size(); ++k) {
        if (!g.step_time[k] || *g.step_time[k] < from) continue;
        ++seen;
        first = std::min(first, *g.step_time[k]);
        events.insert(events.end(), g.step_events[k].begin(), g.step_events[k].end());
        refs.push_back(k);
      }
      if (seen >= required_) {
        g.refs_seen = refs;
        out.push_back(fire(g, first, t, static_cast<double>(seen), seen, std::move(events)));
      }
      return;
    }
    case Mode::Ordered: {
      const std::uint32_t k = o.ref;
      g.last = t;
      if (k == 0) {
        g.step_time[0] = t;
        g.step_events[0] = o.events;
      } else if (g.step_time[k - 1] && *g.step_time[k - 1] >= from) {
        // The chain that reached the step before, started latest: it has
        // the most time left.
        if (!g.step_time[k] || *g.step_time[k - 1] >= *g.step_time[k]) {
          g.step_time[k] = g.step_time[k - 1];
          g.step_events[k] = g.step_events[k - 1];
          g.step_events[k].insert(g.step_events[k].end(), o.events.begin(), o.events.end());
        }
      } else {
        return;
      }
      if (k + 1 == required_) {
        std::vector<CorrelatedEventPtr> events = g.step_events[k];
        g.refs_seen.clear();
        for (std::uint32_t s = 0; s <= k; ++s) g.refs_seen.push_back(s);
        out.push_back(fire(g, *g.step_time[k], t, static_cast<double>(k + 1), k + 1, std::move(events)));
      }
      return;
    }
  }
}

void CorrelationRunner::expire(TimestampNs watermark, std::vector<CorrelationMatch>& out) {
  // Groups whose last match is more than a timespan before event time can
  // take no part in a window again: fixed windows are closed, the rest dropped.
  while (!lru_.empty()) {
    auto it = groups_.find(lru_.front());
    if (it != groups_.end() && it->second.last >= saturating_sub(watermark, spec_.timespan_ns)) break;
    if (it != groups_.end()) {
      close(it->second, out);
      groups_.erase(it);
    }
    lru_at_.erase(lru_.front());
    lru_.pop_front();
  }
}

std::vector<CorrelationMatch> CorrelationRunner::release(TimestampNs watermark) {
  std::vector<CorrelationMatch> out;
  auto ready = std::partition(buffer_.begin(), buffer_.end(),
                              [&](const CorrelationOccurrence& o) { return o.time <= watermark; });
  std::vector<CorrelationOccurrence> now(std::make_move_iterator(buffer_.begin()), std::make_move_iterator(ready));
  buffer_.erase(buffer_.begin(), ready);
  // Time order; one event's matches of several rules: the later position
  // first, so one event never fills two consecutive steps of an order.
  std::sort(now.begin(), now.end(), [](const CorrelationOccurrence& a, const CorrelationOccurrence& b) {
    if (a.time != b.time) return a.time < b.time;
    if (a.ordinal != b.ordinal) return a.ordinal < b.ordinal;
    return a.ref > b.ref;
  });
  for (CorrelationOccurrence& o : now) process(o, out);
  if (watermark > released_) released_ = watermark;
  if (watermark != INT64_MAX) expire(watermark, out);
  return out;
}

std::vector<CorrelationMatch> CorrelationRunner::finish() {
  std::vector<CorrelationMatch> out = release(INT64_MAX);
  for (const std::string& key : lru_) close(groups_.at(key), out);
  groups_.clear();
  lru_.clear();
  lru_at_.clear();
  return out;
}

void CorrelationRunner::save(Encoder& out) const {
  out(buffer_);
  out(released_);
  std::vector<std::pair<std::string, Group>> groups;  // in LRU order
  for (const std::string& key : lru_) groups.emplace_back(key, groups_.at(key));
  out(groups);
  out(stats_);
}

void CorrelationRunner::load(Decoder& in) {
  in(buffer_);
  in(released_);
  std::vector<std::pair<std::string, Group>> groups;
  in(groups);
  in(stats_);
  groups_.clear();
  lru_.clear();
  lru_at_.clear();
  for (auto& [key, g] : groups) {
    if (g.step_time.size() != spec_.rules.size() || g.step_events.size() != spec_.rules.size()) return in.fail();
    lru_.push_back(key);
    lru_at_[key] = std::prev(lru_.end());
    groups_[key] = std::move(g);
  }
}

}  // namespace vigil
