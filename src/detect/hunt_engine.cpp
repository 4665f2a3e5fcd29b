// HuntEngine implementation.
#include "detect/hunt_engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/document.h"
#include "detect/new_terms.h"
#include "detect/esql_runner.h"
#include "detect/threshold.h"
#include "detect/rarity.h"
#include "eql/sample_runner.h"

namespace vigil {

namespace {
// Sequence terms keep their event's triage context (framed) with the
// document as append_event_kept keeps it (rendered only if the sequence
// completes).
void keep_term_event(std::string& out, std::string_view context, const Event& e) {
  append_framed(out, context);
  append_framed(out, event_source_json(e));
  append_event_kept(out, e);
}

struct TermEvent {
  std::string context, source, document;
};

// The context, source location and document JSON of a kept term event.
TermEvent term_event(std::string_view payload) {
  TermEvent t;
  t.context = take_framed(payload);
  t.source = take_framed(payload);
  append_kept_json(t.document, payload);
  return t;
}
}  // namespace

HuntEngine::HuntEngine(const RuleSet& rules, HuntOptions options)
    : rules_(rules), options_(options), detections_(rules.compiled.size()), stats_(rules.compiled.size()) {
  const unsigned lanes = resolve_threads(options_.threads);
  for (unsigned i = 0; i < lanes; ++i) {
    auto lane = std::make_unique<Lane>();
    lane->tested_at.assign(rules.compiled.size(), ~std::uint64_t{0});
    lane->evaluations.assign(rules.compiled.size(), 0);
    lane->excepted.assign(rules.compiled.size(), 0);
    lane->nanos.assign(rules.compiled.size(), 0);
    lanes_.push_back(std::move(lane));
  }
  if (lanes > 1) workers_ = std::make_unique<WorkerPool>(lanes - 1);
  runners_.resize(rules.compiled.size());
  samplers_.resize(rules.compiled.size());
  exceptions_.resize(rules.compiled.size());
  if (options_.exceptions) {
    for (std::size_t i = 0; i < rules.compiled.size(); ++i) {
      std::vector<std::string> ids = rules.compiled[i].rule->exceptions_list;
      ids.insert(ids.end(), options_.lists_for_all_rules.begin(), options_.lists_for_all_rules.end());
      ids.push_back(rules.compiled[i].rule->rule_id);  // a rule-default list: its list_id is the rule_id
      exceptions_[i] = options_.exceptions->items_for(ids);
    }
  }
  // Called in input order (the merge in add()): an event several rules keep
  // is rendered once, with the context of its moment, and shared.
  auto render = [this](const Event& e) {
    if (!rendered_ || rendered_ordinal_ != e.ordinal) {
      auto out = std::make_shared<std::string>();
      std::string context = options_.context ? options_.context->context_json(e) : std::string();
      keep_term_event(*out, context.size() > 2 ? std::string_view(context) : std::string_view(), e);
      rendered_ = std::move(out);
      rendered_ordinal_ = e.ordinal;
    }
    return rendered_;
  };
  for (std::size_t i = 0; i < rules.compiled.size(); ++i) {
    const eql::CompiledAnyQuery& q = rules.compiled[i].query;
    if (q.kind == eql::Query::Kind::Sequence) {
      eql::RunnerOptions ro;
      ro.limits = options_.sequence_limits;
      runners_[i] = std::make_unique<eql::SequenceRunner>(*q.sequence, ro, render);
    } else if (q.kind == eql::Query::Kind::Sample) {
      samplers_[i] = std::make_unique<eql::SampleRunner>(*q.sample, render);
    }
  }
  new_terms_.resize(rules.compiled.size());
  for (std::size_t i = 0; i < rules.compiled.size(); ++i) {
    const CompiledRule& c = rules.compiled[i];
    if (c.new_terms_spec) {
      new_terms_[i] = std::make_unique<NewTermsRunner>(c.rule->interval_ns, c.rule->lookback_ns, c.rule->new_terms_history_ns,
                                                       rules.rarity_specs[*c.new_terms_spec], options_.max_terms,
                                                       options_.baseline);
    }
  }
  thresholds_.resize(rules.compiled.size());
  for (std::size_t i = 0; i < rules.compiled.size(); ++i) {
    const CompiledRule& c = rules.compiled[i];
    if (c.threshold && c.rule->threshold) {
      thresholds_[i] = std::make_unique<ThresholdRunner>(*c.rule, *c.threshold, i, options_.max_terms);
    }
  }
  esql_.resize(rules.compiled.size());
  for (std::size_t i = 0; i < rules.compiled.size(); ++i) {
    const CompiledRule& c = rules.compiled[i];
    if (c.esql) esql_[i] = std::make_unique<EsqlRunner>(*c.rule, *c.esql, i, options_.max_terms);
  }
  correlations_.resize(rules.compiled.size());
  for (std::size_t i = 0; i < rules.compiled.size(); ++i) {
    if (!rules.compiled[i].rule->correlation) continue;
    correlations_[i] = std::make_unique<CorrelationRunner>(*rules.compiled[i].rule->correlation,
                                                           options_.correlation_limits);
    correlation_order_.push_back(i);  // compiled after the rules they name
  }
  if (std::any_of(rules.rarity_specs.begin(), rules.rarity_specs.end(), [](const RaritySpec& s) { return !s.new_terms; })) {
    rarity_ = std::make_unique<RarityTracker>(rules.rarity_specs, rules.fields, options_.baseline, options_.max_terms);
  }
}

HuntEngine::~HuntEngine() = default;

bool HuntEngine::excepted(std::size_t rule, const Event& event) const {
  for (const ExceptionItem* item : exceptions_[rule]) {
    if (exception_matches(*item, event)) return true;
  }
  return false;
}

void HuntEngine::keep(std::size_t rule, Detection d) {
  RuleRunStats& s = stats_[rule];
  ++s.detections;
  if (detections_[rule].size() >= options_.max_detections_per_rule) {
    ++s.dropped;
    return;
  }
  detections_[rule].push_back(std::move(d));
  ++held_;
}

namespace {
// Events go to lanes in stripes of this many (stripe k to lane k % lanes):
// neighbouring events are alike (one kind of log, one busy process), so
// contiguous halves would leave one lane with most of the work.
constexpr std::size_t kStripe = 64;
}  // namespace

void HuntEngine::match_lane(Lane& lane, const EventBatch& batch, std::size_t lane_index, std::size_t lanes) {
  const std::size_t n = batch.events.size();
  for (std::size_t stripe = lane_index * kStripe; stripe < n; stripe += lanes * kStripe) {
    for (std::size_t i = stripe; i < std::min(n, stripe + kStripe); ++i) {
      const Event& e = batch.events[i];
      lane.candidates.clear();
      rules_.index->candidates(e, lane.candidates, lane.index_scratch);
      const std::uint64_t serial = events_ + i;
      for (std::size_t r : lane.candidates) {
        // A rule can come twice (two matching values, two categories): test it once.
        if (lane.tested_at[r] == serial) continue;
        lane.tested_at[r] = serial;
        ++lane.evaluations[r];
        if (!options_.profile) {
          test_rule(lane, r, e, static_cast<std::uint32_t>(i));
          continue;
        }
        auto start = std::chrono::steady_clock::now();
        test_rule(lane, r, e, static_cast<std::uint32_t>(i));
        lane.nanos[r] += static_cast<std::uint64_t>((std::chrono::steady_clock::now() - start).count());
      }
    }
  }
}

void HuntEngine::test_rule(Lane& lane, std::size_t r, const Event& e, std::uint32_t i) {
  const auto rule = static_cast<std::uint32_t>(r);
  if (runners_[r] || samplers_[r]) {
    // An event an exception covers takes no part in the rule's sequences
    // (Elastic adds exceptions to every term's query).
    if (!exceptions_[r].empty() && excepted(r, e)) return;
    if (runners_[r]) {
      std::vector<eql::TermHit> hits = runners_[r]->terms(e, lane.context);
      if (!hits.empty()) lane.feeds.push_back({i, rule, std::move(hits)});
    } else {
      lane.feeds.push_back({i, rule, {}});
    }
    return;
  }
  if (!eql::matches(*rules_.compiled[r].query.event, e, lane.context)) return;
  if (!exceptions_[r].empty() && excepted(r, e)) {
    ++lane.excepted[r];
    return;
  }
  lane.hits.emplace_back(i, rule);
}

void HuntEngine::add(const EventBatch& batch) {
  const std::size_t n = batch.events.size();
  // Small batches are not worth waking threads for.
  const std::size_t lanes = std::min<std::size_t>(lanes_.size(), std::max<std::size_t>(1, n / (4 * kStripe)));
  for (std::size_t l = 0; l < lanes; ++l) {
    lanes_[l]->hits.clear();
    lanes_[l]->feeds.clear();
  }
  if (lanes <= 1) {
    match_lane(*lanes_[0], batch, 0, 1);
  } else {
    std::mutex mutex;
    std::condition_variable done;
    std::size_t pending = lanes - 1;
    for (std::size_t l = 1; l < lanes; ++l) {
      workers_->submit([&, l] {
        match_lane(*lanes_[l], batch, l, lanes);
        std::lock_guard lock(mutex);
        if (--pending == 0) done.notify_one();
      });
    }
    match_lane(*lanes_[0], batch, 0, lanes);
    std::unique_lock lock(mutex);
    done.wait(lock, [&] { return pending == 0; });
  }
  // In input order: the triage state sees every event before the detections
  // of that event take their context; sequences get their events in order.
  std::vector<std::pair<std::size_t, std::size_t>>& next = merge_positions_;  // per lane: next hit, next feed
  next.assign(lanes, {0, 0});
  for (std::size_t i = 0; i < n; ++i) {
    const Event& e = batch.events[i];
    if (options_.context) options_.context->observe(e);
    const std::size_t l = (i / kStripe) % lanes;
    Lane& lane = *lanes_[l];
    auto& [h, f] = next[l];
    for (; f < lane.feeds.size() && lane.feeds[f].event == i; ++f) {
      std::size_t r = lane.feeds[f].rule;
      if (!rare(r, e)) continue;  // a term event whose value is not rare takes no part
      auto start = options_.profile ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
      if (runners_[r]) {
        runners_[r]->add_hits(e, std::move(lane.feeds[f].hits));
      } else {
        samplers_[r]->add(e, context_);
      }
      if (options_.profile) {
        stats_[r].eval_ns += static_cast<std::uint64_t>((std::chrono::steady_clock::now() - start).count());
      }
    }
    for (; h < lane.hits.size() && lane.hits[h].first == i; ++h) hit(lane.hits[h].second, e);
    // Counted after the rules asked: "seen before" never includes the event itself.
    if (rarity_) rarity_->observe(e);
  }
  events_ += n;
}

bool HuntEngine::rare(std::size_t r, const Event& e) {
  for (const CompiledRule::Rarity& cond : rules_.compiled[r].rarity) {
    auto seen = rarity_->seen_before(cond.spec, e);
    if (seen && *seen > cond.max_count) return false;
  }
  return true;
}

std::uint64_t HuntEngine::rarity_evicted() const { return rarity_ ? rarity_->evicted() : 0; }

void HuntEngine::hit(std::size_t r, const Event& e) {
  if (!rare(r, e)) {
    ++stats_[r].not_rare;
    return;
  }
  if (new_terms_[r] || thresholds_[r] || esql_[r]) {
    // They run over the rule's window time: an event without one has no place in any run.
    const std::optional<TimestampNs> window = window_time(r, e);
    if (!e.has_timestamp && !window) {
      ++stats_[r].no_timestamp;
      return;
    }
    const TimestampNs t = window.value_or(e.timestamp_ns);
    if (new_terms_[r]) {
      new_terms_[r]->add(e, t, e.ordinal, [&] { return make_detection(r, e); });
    } else if (esql_[r]) {
      // The plan's streaming part runs here, on the ordering thread: profiled with the rule.
      auto start = options_.profile ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
      std::vector<Detection> out;
      esql_[r]->add(e, t, [&] { return make_detection(r, e); }, out);
      if (options_.profile) {
        stats_[r].eval_ns += static_cast<std::uint64_t>((std::chrono::steady_clock::now() - start).count());
      }
      for (Detection& d : out) keep(r, std::move(d));
    } else {
      thresholds_[r]->add(e, t, e.ordinal);
    }
    return;
  }
  if (!e.has_timestamp) ++stats_[r].no_timestamp;
  const CompiledRule& c = rules_.compiled[r];
  if (!c.feeds.empty()) feed_correlations(r, e);
  if (c.silent) {
    ++stats_[r].detections;  // counted; its correlations alert, not it
    return;
  }
  keep(r, make_detection(r, e));
}

namespace {
// The value of the first of `fields` the event has (a list: its first
// element), as EQL's string() writes it.
std::optional<std::string> first_value(const Event& e, const std::vector<FieldId>& fields) {
  for (FieldId f : fields) {
    Value v = e.get(f);
    if (v.kind() == ValueKind::Array) v = v.as_array().empty() ? Value::null() : v.as_array().front();
    if (v.is_null()) continue;
    std::string out;
    append_text(out, v);
    return out;
  }
  return std::nullopt;
}
}  // namespace

void HuntEngine::feed_correlations(std::size_t r, const Event& e) {
  if (!e.has_timestamp) return;  // no window can hold it (counted as no_timestamp)
  CorrelatedEventPtr kept;
  for (const auto& [c, k] : rules_.compiled[r].feeds) {
    const CompiledRule::CorrelationRef& ref = rules_.compiled[c].correlates[k];
    CorrelationOccurrence o;
    o.time = e.timestamp_ns;
    o.ordinal = e.ordinal;
    o.ref = static_cast<std::uint32_t>(k);
    bool ok = true;
    for (const auto& fields : ref.group_fields) {
      auto v = first_value(e, fields);
      if (!v) {
        ok = false;
        break;
      }
      o.group.push_back(std::move(*v));
    }
    if (ok && !ref.value_fields.empty()) {
      if (rules_.compiled[c].rule->correlation->type == "value_count") {
        // Several fields: their value combination is one value.
        for (const auto& fields : ref.value_fields) {
          auto v = first_value(e, fields);
          if (!v) {
            ok = false;
            break;
          }
          if (ref.value_fields.size() > 1) o.value += std::to_string(v->size()) + ":";
          o.value += *v;
        }
      } else {
        auto v = first_value(e, ref.value_fields.front());
        char* end = nullptr;
        o.number = v ? std::strtod(v->c_str(), &end) : 0;
        ok = v && !v->empty() && end == v->c_str() + v->size() && std::isfinite(o.number);
      }
    }
    ++stats_[r].correlated;
    if (!ok) {
      correlations_[c]->add_ungrouped();
      continue;
    }
    if (!kept) {
      auto made = std::make_shared<CorrelatedEvent>();
      append_event_json(made->document, e);
      made->source = event_source_json(e);
      if (options_.context) made->context = options_.context->context_json(e);
      made->time = e.timestamp_ns;
      made->ordinal = e.ordinal;
      kept = std::move(made);
    }
    o.events.push_back(kept);
    correlations_[c]->add(std::move(o));
  }
}

Detection HuntEngine::correlation_detection(std::size_t c, CorrelationMatch& m) const {
  const Rule& rule = *rules_.compiled[c].rule;
  const CorrelationSpec& spec = *rule.correlation;
  Detection d;
  d.rule = c;
  d.first_time = m.first_time;
  d.last_time = m.last_time;
  d.ordinal = m.ordinal;
  for (const CorrelatedEventPtr& ev : m.events) {
    d.events.push_back(ev->document);
    d.event_contexts.push_back(ev->context.size() > 2 ? ev->context : std::string());
    d.sources.push_back(ev->source);
  }
  d.join_keys = "[";
  for (std::size_t i = 0; i < m.group.size(); ++i) {
    if (i) d.join_keys.push_back(',');
    append_json_string(d.join_keys, m.group[i]);
  }
  d.join_keys += "]";
  // vigil.correlation: what was counted, in which group, over which window.
  std::string& j = d.correlation;
  j = "{\"type\":";
  append_json_string(j, spec.type);
  j += ",\"timespan\":";
  append_json_string(j, format_duration(spec.timespan_ns));
  j += ",\"group\":{";
  for (std::size_t i = 0; i < m.group.size() && i < spec.group_by.size(); ++i) {
    if (i) j.push_back(',');
    append_json_string(j, spec.group_by[i]);
    j.push_back(':');
    append_json_string(j, m.group[i]);
  }
  j += "}";
  if (!spec.fields.empty()) {
    j += ",\"field\":[";
    for (std::size_t i = 0; i < spec.fields.size(); ++i) {
      if (i) j.push_back(',');
      append_json_string(j, spec.fields[i]);
    }
    j += "]";
  }
  j += ",\"";
  j += correlations_[c]->measure_name();
  j += "\":";
  append_json(j, m.measured == std::floor(m.measured) && std::fabs(m.measured) < 9e15
                     ? Value::integer(static_cast<std::int64_t>(m.measured))
                     : Value::floating(m.measured));
  j += ",\"matches\":" + std::to_string(m.matches);
  j += ",\"rules\":[";
  for (std::size_t i = 0; i < m.refs.size(); ++i) {
    const Rule& named = *rules_.compiled[rules_.compiled[c].correlates[m.refs[i]].rule].rule;
    if (i) j.push_back(',');
    j += "{\"id\":";
    append_json_string(j, named.rule_id);
    j += ",\"name\":";
    append_json_string(j, named.name);
    j += "}";
  }
  j += "],\"window\":{\"start\":";
  append_json_string(j, format_timestamp(m.first_time));
  j += ",\"end\":";
  append_json_string(j, format_timestamp(m.last_time));
  j += "},\"events_kept\":" + std::to_string(m.events.size()) + "}";
  return d;
}

void HuntEngine::run_correlations(TimestampNs watermark, bool end) {
  for (std::size_t c : correlation_order_) {
    CorrelationRunner& runner = *correlations_[c];
    std::vector<CorrelationMatch> matches = end ? runner.finish() : runner.release(watermark);
    for (CorrelationMatch& m : matches) {
      // A correlation of this correlation takes the match as one of its own,
      // at the moment it is known (a fixed window closes after its last event).
      for (const auto& [outer, k] : rules_.compiled[c].feeds) {
        CorrelationOccurrence o;
        o.time = m.last_time;
        o.ordinal = m.ordinal;
        o.ref = static_cast<std::uint32_t>(k);
        for (std::size_t g : rules_.compiled[outer].correlates[k].inner_group) o.group.push_back(m.group[g]);
        o.events = m.events;
        ++stats_[c].correlated;
        correlations_[outer]->add_chained(std::move(o));
      }
      if (rules_.compiled[c].silent) {
        ++stats_[c].detections;
      } else {
        keep(c, correlation_detection(c, m));
      }
    }
  }
}

std::optional<TimestampNs> HuntEngine::window_time(std::size_t r, const Event& e) const {
  const auto& override_field = rules_.compiled[r].timestamp_override;
  if (!override_field) return std::nullopt;
  const Value& t = e.get(*override_field);
  return t.is_text() ? parse_timestamp_text(t.as_string()) : std::nullopt;
}

Detection HuntEngine::make_detection(std::size_t r, const Event& e) {
  Detection d;
  d.rule = r;
  d.first_time = d.last_time = e.timestamp_ns;
  d.window_time = window_time(r, e);
  d.ordinal = e.ordinal;
  d.events.emplace_back();
  append_event_json(d.events.back(), e);
  d.sources.push_back(event_source_json(e));
  if (options_.context) d.context = options_.context->context_json(e);
  return d;
}

void HuntEngine::keep_sequence(std::size_t r, eql::SequenceMatch& m) {
  Detection d;
  d.rule = r;
  d.join_keys = std::move(m.join_keys);
  d.ordinal = m.last_ordinal;
  bool first = true;
  for (const auto& ev : m.events) {
    TermEvent t = ev ? term_event(ev->text()) : TermEvent{};
    d.events.push_back(std::move(t.document));
    d.event_contexts.push_back(std::move(t.context));
    d.sources.push_back(std::move(t.source));
    if (!ev) continue;
    d.first_time = first ? ev->timestamp : std::min(d.first_time, ev->timestamp);
    d.last_time = first ? ev->timestamp : std::max(d.last_time, ev->timestamp);
    first = false;
  }
  keep(r, std::move(d));
}

void HuntEngine::advance(TimestampNs watermark) {
  for (std::size_t r = 0; r < rules_.compiled.size(); ++r) {
    if (runners_[r]) {
      for (auto& m : runners_[r]->advance(watermark)) keep_sequence(r, m);
    } else if (new_terms_[r]) {
      for (Detection& d : new_terms_[r]->release(watermark)) keep(r, std::move(d));
    } else if (thresholds_[r]) {
      for (Detection& d : thresholds_[r]->release(watermark)) keep(r, std::move(d));
    } else if (esql_[r]) {
      for (Detection& d : esql_[r]->release(watermark)) keep(r, std::move(d));
    }
  }
  if (!correlation_order_.empty()) run_correlations(watermark, false);
}

void HuntEngine::finish() {
  for (std::size_t r = 0; r < rules_.compiled.size(); ++r) {
    if (new_terms_[r]) {
      for (Detection& d : new_terms_[r]->finish()) keep(r, std::move(d));
    } else if (thresholds_[r]) {
      for (Detection& d : thresholds_[r]->finish()) keep(r, std::move(d));
    } else if (esql_[r]) {
      for (Detection& d : esql_[r]->finish()) keep(r, std::move(d));
    }
  }
  for (std::size_t r = 0; r < rules_.compiled.size(); ++r) {
    if (!runners_[r] && !samplers_[r]) continue;
    std::vector<eql::SequenceMatch> matches = runners_[r] ? runners_[r]->finish() : samplers_[r]->finish();
    for (auto& m : matches) keep_sequence(r, m);
  }
  if (!correlation_order_.empty()) run_correlations(INT64_MAX, true);
}

std::vector<std::vector<Detection>> HuntEngine::take() {
  held_ = 0;
  std::vector<std::vector<Detection>> out(detections_.size());
  for (std::size_t r = 0; r < detections_.size(); ++r) {
    std::vector<Detection>& list = detections_[r];
    std::stable_sort(list.begin(), list.end(), [](const Detection& a, const Detection& b) {
      if (a.first_time != b.first_time) return a.first_time < b.first_time;
      return a.ordinal < b.ordinal;
    });
    out[r].swap(list);
  }
  return out;
}

void HuntEngine::fold_lane_counts() {
  for (auto& lane : lanes_) {
    for (std::size_t r = 0; r < rules_.compiled.size(); ++r) {
      stats_[r].evaluations += lane->evaluations[r];
      stats_[r].excepted += lane->excepted[r];
      stats_[r].eval_ns += lane->nanos[r];
      lane->evaluations[r] = lane->excepted[r] = lane->nanos[r] = 0;
    }
  }
}

std::vector<RuleRunStats> HuntEngine::stats() {
  fold_lane_counts();
  for (std::size_t r = 0; r < rules_.compiled.size(); ++r) {
    if (new_terms_[r]) {
      stats_[r].terms_evicted = new_terms_[r]->evicted();
      stats_[r].baseline_known = new_terms_[r]->known_in_baseline();
    }
    if (thresholds_[r]) {
      stats_[r].terms_evicted = thresholds_[r]->evicted();
      stats_[r].late = thresholds_[r]->late();
    }
    if (esql_[r]) {
      stats_[r].terms_evicted = esql_[r]->evicted();
      stats_[r].late = esql_[r]->late();
    }
    if (runners_[r]) {
      stats_[r].sequences = runners_[r]->stats();
      stats_[r].late = runners_[r]->late();
    }
    if (correlations_[r]) {
      stats_[r].correlation = correlations_[r]->stats();
      stats_[r].late = correlations_[r]->stats().late;
    }
  }
  return stats_;
}

std::size_t HuntEngine::open_sequences() const {
  std::size_t n = 0;
  for (const auto& runner : runners_) {
    if (runner) n += runner->open() + runner->buffered();
  }
  for (const auto& c : correlations_) {
    if (c) n += c->groups() + c->buffered();
  }
  return n;
}

std::string HuntEngine::save() {
  fold_lane_counts();
  return eql::encode_with_events([&](Encoder& out) {
    out(events_);
    out(stats_);
    out(detections_);
    for (std::size_t r = 0; r < rules_.compiled.size(); ++r) {
      if (runners_[r]) runners_[r]->save(out);
      if (samplers_[r]) samplers_[r]->save(out);
      if (new_terms_[r]) new_terms_[r]->save(out);
      if (thresholds_[r]) thresholds_[r]->save(out);
      if (esql_[r]) esql_[r]->save(out);
      if (correlations_[r]) correlations_[r]->save(out);
    }
    if (rarity_) rarity_->save(out);
    const bool context = options_.context != nullptr;
    out(context);
    if (context) options_.context->save(out);
  });
}

bool HuntEngine::load(std::string_view bytes) {
  return eql::decode_with_events(bytes, [&](Decoder& in) {
    in(events_);
    in(stats_);
    in(detections_);
    if (stats_.size() != rules_.compiled.size() || detections_.size() != rules_.compiled.size()) return in.fail();
    held_ = 0;
    for (const auto& list : detections_) held_ += list.size();
    for (std::size_t r = 0; r < rules_.compiled.size(); ++r) {
      if (runners_[r]) runners_[r]->load(in);
      if (samplers_[r]) samplers_[r]->load(in);
      if (new_terms_[r]) new_terms_[r]->load(in);
      if (thresholds_[r]) thresholds_[r]->load(in);
      if (esql_[r]) esql_[r]->load(in);
      if (correlations_[r]) correlations_[r]->load(in);
    }
    if (rarity_) rarity_->load(in);
    bool context = false;
    in(context);
    if (context != (options_.context != nullptr)) return in.fail();
    if (context) options_.context->load(in);
  });
}

}  // namespace vigil
