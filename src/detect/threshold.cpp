// ThresholdRunner implementation.
#include "detect/threshold.h"

#include <algorithm>
#include <set>

#include "core/document.h"
#include "core/timestamp.h"
#include "detect/schedule.h"
#include "core/value.h"

namespace vigil {
namespace {


// A field's values as a terms aggregation buckets them: each element of a
// list, numbers and booleans as text; none when absent or null.
std::vector<std::string> values_of(const Event& e, FieldId f) {
  std::vector<std::string> out;
  const Value v = e.get(f);
  auto add = [&](const Value& x) {
    if (x.is_null() || x.kind() == ValueKind::Array) return;
    std::string s;
    append_text(s, x);
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(std::move(s));
  };
  if (v.kind() == ValueKind::Array) {
    for (const Value& x : v.as_array()) add(x);
  } else {
    add(v);
  }
  return out;
}

}  // namespace

ThresholdRunner::ThresholdRunner(const Rule& rule, const CompiledRule::Threshold& fields, std::size_t rule_index,
                                 std::size_t max_groups)
    : rule_(rule),
      fields_(fields),
      rule_index_(rule_index),
      interval_(std::max<std::int64_t>(rule.interval_ns, 1)),
      lookback_(std::max(rule.lookback_ns, interval_)),
      max_groups_(std::max<std::size_t>(max_groups, 16)) {}

void ThresholdRunner::add(const Event& event, TimestampNs t, std::uint64_t /*ordinal*/) {
  // Every run that could see it is done:
  if (next_run_ != INT64_MIN && t < saturating_sub(next_run_, lookback_)) {
    ++late_;
    return;
  }
  // The groups of this event: the product of its fields' values (at most 64).
  std::vector<std::vector<std::string>> combos(1);
  for (FieldId f : fields_.fields) {
    std::vector<std::string> vs = values_of(event, f);
    if (vs.empty()) return;
    std::vector<std::vector<std::string>> next;
    for (const auto& c : combos) {
      for (const auto& v : vs) {
        if (next.size() >= 64) break;
        next.push_back(c);
        next.back().push_back(v);
      }
    }
    combos = std::move(next);
  }
  std::string cardinality;
  if (fields_.cardinality_field) {
    std::vector<std::string> vs = values_of(event, *fields_.cardinality_field);
    if (!vs.empty()) cardinality = vs.front();
  }
  for (auto& values : combos) {
    std::string key;
    for (const auto& v : values) {
      key += v;
      key += '\x1f';
    }
    auto [it, fresh] = groups_.try_emplace(key);
    Group& g = it->second;
    if (fresh) g.values = std::move(values);
    g.last_seen = std::max(g.last_seen, t);
    if (t <= g.last_signal) continue;  // counted by a signal already
    auto at = std::upper_bound(g.hits.begin(), g.hits.end(), t, [](TimestampNs x, const Hit& h) { return x < h.t; });
    g.hits.insert(at, Hit{t, cardinality});
  }
  if (groups_.size() > max_groups_) {
    // Evict the least recently seen groups (a tenth at once: one sort per many inserts).
    std::vector<std::pair<TimestampNs, std::string>> order;
    for (const auto& [k, g] : groups_) order.emplace_back(g.last_seen, k);
    std::sort(order.begin(), order.end());
    for (std::size_t i = 0; i < order.size() / 10 + 1; ++i) {
      groups_.erase(order[i].second);
      ++evicted_;
    }
  }
}

std::optional<TimestampNs> ThresholdRunner::earliest_hit() const {
  std::optional<TimestampNs> earliest;
  for (const auto& [k, g] : groups_) {
    if (!g.hits.empty() && (!earliest || g.hits.front().t < *earliest)) earliest = g.hits.front().t;
  }
  return earliest;
}

Detection ThresholdRunner::signal(const Group& group, std::size_t count, std::size_t distinct, TimestampNs from,
                                  TimestampNs to, TimestampNs run_time) const {
  const ThresholdSpec& spec = *rule_.threshold;
  // The alert's source, as Elastic builds it for a threshold signal: the
  // bucket's latest time and its terms, nested.
  std::vector<std::pair<std::string, std::string>> terms;
  for (std::size_t i = 0; i < spec.fields.size() && i < group.values.size(); ++i)
    terms.emplace_back(spec.fields[i], json_string(group.values[i]));
  std::string doc = "{\"@timestamp\":";
  append_json_string(doc, format_timestamp(to));
  const std::string terms_doc = nested_json_object(terms);
  if (terms_doc.size() > 2) doc += "," + terms_doc.substr(1, terms_doc.size() - 2);
  doc += '}';
  std::string result = "{\"terms\":[";
  for (std::size_t i = 0; i < spec.fields.size() && i < group.values.size(); ++i) {
    if (i) result += ',';
    result += "{\"field\":";
    append_json_string(result, spec.fields[i]);
    result += ",\"value\":";
    append_json_string(result, group.values[i]);
    result += '}';
  }
  result += "],\"cardinality\":[";
  if (!spec.cardinality_field.empty()) {
    result += "{\"field\":";
    append_json_string(result, spec.cardinality_field);
    result += ",\"value\":" + std::to_string(distinct) + "}";
  }
  result += "],\"count\":" + std::to_string(count) + ",\"from\":";
  append_json_string(result, format_timestamp(from));
  result += '}';
  Detection d;
  d.rule = rule_index_;
  d.first_time = d.last_time = to;  // kibana.alert.original_time: the bucket's latest event
  d.window_time = run_time;         // made by this run: the schedule alerts it at this run
  d.events.push_back(std::move(doc));
  d.threshold = std::move(result);
  return d;
}

void ThresholdRunner::run(TimestampNs at, std::vector<Detection>& out) {
  const ThresholdSpec& spec = *rule_.threshold;
  const TimestampNs window_start = saturating_sub(at, lookback_);
  // Groups in a fixed order (their values), so the detections are deterministic.
  std::vector<std::pair<const std::string*, Group*>> order;
  for (auto& [k, g] : groups_) {
    if (!g.hits.empty() && g.hits.front().t <= at) order.emplace_back(&k, &g);
  }
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return *a.first < *b.first; });
  for (auto& [key, g] : order) {
    std::size_t count = 0;
    TimestampNs from = INT64_MAX, to = INT64_MIN;
    std::set<std::string> distinct;
    for (const Hit& h : g->hits) {
      if (h.t > at) break;
      if (h.t < window_start || h.t <= g->last_signal) continue;
      ++count;
      from = std::min(from, h.t);
      to = std::max(to, h.t);
      if (!spec.cardinality_field.empty() && !h.cardinality.empty()) distinct.insert(h.cardinality);
    }
    if (count == 0 || static_cast<std::int64_t>(count) < spec.value) continue;
    if (!spec.cardinality_field.empty() && static_cast<std::int64_t>(distinct.size()) < spec.cardinality_value)
      continue;
    out.push_back(signal(*g, count, distinct.size(), from, to, at));
    g->last_signal = to;
  }
  // What no later run can see: hits before the next window, and those a signal counted.
  const TimestampNs next_start = saturating_sub(at, lookback_ - interval_);  // lookback_ >= interval_
  for (auto it = groups_.begin(); it != groups_.end();) {
    Group& g = it->second;
    auto keep = std::remove_if(g.hits.begin(), g.hits.end(),
                               [&](const Hit& h) { return h.t < next_start || h.t <= g.last_signal; });
    g.hits.erase(keep, g.hits.end());
    if (g.hits.empty() && g.last_signal < next_start) {
      it = groups_.erase(it);
    } else {
      ++it;
    }
  }
  next_run_ = saturating_add(at, interval_);
}

std::vector<Detection> ThresholdRunner::release(TimestampNs watermark) {
  std::vector<Detection> out;
  // Called for every batch: when event time has not reached the next run,
  // nothing can be due, and the groups need not be looked at.
  if (next_run_ != INT64_MIN && next_run_ > watermark) return out;
  while (true) {
    const std::optional<TimestampNs> earliest = earliest_hit();
    if (!earliest) break;
    // Runs between the held events and now find nothing: skip to the first that sees one.
    const std::int64_t at = std::max(next_run_, first_run_at_or_after(*earliest, interval_));
    if (at > watermark) break;
    run(at, out);
    if (at == INT64_MAX) {  // the run at the range's end: no later run sees the hits left
      groups_.clear();
      break;
    }
  }
  return out;
}

std::vector<Detection> ThresholdRunner::finish() { return release(INT64_MAX); }

void ThresholdRunner::save(Encoder& out) const {
  std::vector<std::pair<std::string, Group>> groups(groups_.begin(), groups_.end());
  std::sort(groups.begin(), groups.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  out(groups);
  out(next_run_);
  out(evicted_);
  out(late_);
}

void ThresholdRunner::load(Decoder& in) {
  std::vector<std::pair<std::string, Group>> groups;
  in(groups);
  in(next_run_);
  in(evicted_);
  in(late_);
  groups_.clear();
  for (auto& [k, g] : groups) groups_.emplace(std::move(k), std::move(g));
}

}  // namespace vigil
