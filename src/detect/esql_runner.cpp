// EsqlRunner implementation.
#include "detect/esql_runner.h"

#include <algorithm>

#include "core/timestamp.h"
#include "detect/schedule.h"

namespace vigil {
EsqlRunner::EsqlRunner(const Rule& rule, const CompiledRule::Esql& esql, std::size_t rule_index, std::size_t max_rows)
    : rule_(rule),
      plan_(*esql.plan),
      rows_of_(*esql.rows),
      rule_index_(rule_index),
      interval_(std::max<std::int64_t>(rule.interval_ns, 1)),
      lookback_(std::max(rule.lookback_ns, interval_)),
      max_rows_(std::max<std::size_t>(max_rows, 16)) {
  // The columns the query computed, in the layout its streamed rows and its results have.
  auto computed_of = [&](const std::vector<std::string>& columns) {
    std::vector<std::size_t> out;
    for (std::size_t c = 0; c < columns.size(); ++c) {
      bool source = false;
      for (const auto& s : plan_.source_fields()) source = source || s.column == columns[c];
      if (!source) out.push_back(c);
    }
    return out;
  };
  computed_streamed_ = computed_of(plan_.streamed_columns());
  computed_result_ = computed_of(plan_.columns());
}

void EsqlRunner::attach_computed(Detection& d, const std::vector<std::string>& columns,
                                 const std::vector<std::size_t>& computed, const esql::Row& row) {
  // The columns the query computed go into the alert beside the event's own fields.
  esql::Row values;
  std::vector<std::string> names;
  for (std::size_t c : computed) {
    if (row[c].empty()) continue;
    names.push_back(columns[c]);
    values.push_back(row[c]);
  }
  // None: nothing to add ("{}" marks an aggregating row's detection, see run()).
  if (names.empty()) return;
  d.esql = esql::row_json_nested(names, values);
  d.esql_columns = std::move(names);
}

void EsqlRunner::add(const Event& event, TimestampNs t, const std::function<Detection()>& detection,
                     std::vector<Detection>& out) {
  // Every run that could see it is done:
  if (plan_.windowed() && next_run_ != INT64_MIN && t < saturating_sub(next_run_, lookback_)) {
    ++late_;
    return;
  }
  // NOW() in the streaming part: the first run that sees the event.
  esql::RunContext context{first_run_at_or_after(t, interval_)};
  std::vector<esql::Row> rows;
  plan_.stream(rows_of_.row(event, rows_of_.needs_id() ? esql::event_id(event) : std::string()), rows, context);
  if (rows.empty()) return;
  if (!plan_.windowed()) {
    for (const esql::Row& r : rows) {
      Detection d = detection();
      attach_computed(d, plan_.streamed_columns(), computed_streamed_, r);
      out.push_back(std::move(d));
    }
    return;
  }
  for (esql::Row& r : rows) {
    Held h{t, event.ordinal, std::move(r), std::nullopt};
    if (!plan_.aggregating()) h.detection = detection();
    auto at = std::upper_bound(held_.begin(), held_.end(), t, [](TimestampNs x, const Held& y) { return x < y.t; });
    held_.insert(at, std::move(h));
  }
  while (held_.size() > max_rows_) {
    held_.pop_front();
    ++evicted_;
  }
}

void EsqlRunner::run(TimestampNs at, std::vector<Detection>& out) {
  const TimestampNs window_start = saturating_sub(at, lookback_);
  std::vector<esql::Row> rows;
  std::vector<const Held*> sources;
  for (const Held& h : held_) {
    if (h.t > at) break;
    if (h.t < window_start) continue;
    rows.push_back(h.row);
    rows.back().tag = sources.size() + 1;
    sources.push_back(&h);
  }
  esql::RunContext context{at};
  std::vector<esql::Row> result = plan_.finish(std::move(rows), context);
  for (esql::Row& r : result) {
    if (!plan_.aggregating()) {
      if (r.tag == 0 || r.tag > sources.size()) continue;
      const Held& h = *sources[r.tag - 1];
      if (!alerted_.insert(h.ordinal).second) continue;  // alerted by an earlier run (Elastic: the same _id)
      Detection d = *h.detection;
      attach_computed(d, plan_.columns(), computed_result_, r);
      out.push_back(std::move(d));
      continue;
    }
    // An aggregating row is the alert's source: its columns, nested, as Elastic writes them.
    Detection d;
    d.rule = rule_index_;
    d.first_time = d.last_time = at;
    d.window_time = at;  // made by this run: the schedule alerts it at this run
    d.ordinal = sources.empty() ? 0 : sources.back()->ordinal;
    d.events.push_back(esql::row_json_nested(plan_.columns(), r));
    d.sources.emplace_back();
    d.esql = "{}";
    out.push_back(std::move(d));
  }
  // What no later run can see.
  const TimestampNs next_start = saturating_sub(at, lookback_ - interval_);  // lookback_ >= interval_
  while (!held_.empty() && held_.front().t < next_start) {
    alerted_.erase(held_.front().ordinal);
    held_.pop_front();
  }
  next_run_ = saturating_add(at, interval_);
}

std::vector<Detection> EsqlRunner::release(TimestampNs watermark) {
  std::vector<Detection> out;
  if (next_run_ != INT64_MIN && next_run_ > watermark) return out;
  while (!held_.empty()) {
    // Runs between the held rows and now find nothing: skip to the first that sees one.
    const std::int64_t at = std::max(next_run_, first_run_at_or_after(held_.front().t, interval_));
    if (at > watermark) break;
    run(at, out);
    if (at == INT64_MAX) {  // the run at the range's end: no later run sees the rows left
      held_.clear();
      alerted_.clear();
      break;
    }
  }
  return out;
}

void EsqlRunner::save(Encoder& out) const {
  out(held_);
  out(std::vector<std::uint64_t>(alerted_.begin(), alerted_.end()));
  out(next_run_);
  out(evicted_);
  out(late_);
}

void EsqlRunner::load(Decoder& in) {
  in(held_);
  std::vector<std::uint64_t> alerted;
  in(alerted);
  alerted_ = std::set<std::uint64_t>(alerted.begin(), alerted.end());
  in(next_run_);
  in(evicted_);
  in(late_);
}

}  // namespace vigil
