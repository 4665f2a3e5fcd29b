// HuntEngine implementation.
#include "detect/hunt_engine.h"

#include <algorithm>

#include "core/document.h"
#include "eql/sample_runner.h"

namespace vigil {

namespace {
// Sequence terms keep their event's triage context with the document:
// "context \x1e document". 0x1E never occurs raw in a JSON document (control
// characters in strings must be escaped; the reader rejects them otherwise).
constexpr char kContextSeparator = '\x1e';
}  // namespace

HuntEngine::HuntEngine(const RuleSet& rules, HuntOptions options)
    : rules_(rules), options_(options), detections_(rules.compiled.size()), stats_(rules.compiled.size()),
      tested_at_(rules.compiled.size(), ~std::uint64_t{0}) {
  runners_.resize(rules.compiled.size());
  samplers_.resize(rules.compiled.size());
  exceptions_.resize(rules.compiled.size());
  if (options_.exceptions) {
    for (std::size_t i = 0; i < rules.compiled.size(); ++i) {
      std::vector<std::string> ids = rules.compiled[i].rule->exceptions_list;
      ids.insert(ids.end(), options_.lists_for_all_rules.begin(), options_.lists_for_all_rules.end());
      exceptions_[i] = options_.exceptions->items_for(ids);
    }
  }
  auto render = [this](std::string& out, const Event& e) {
    if (options_.context) {
      std::string context = options_.context->context_json(e);
      if (context.size() > 2) {
        out += context;
        out.push_back(kContextSeparator);
      }
    }
    append_event_json(out, e);
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
}

void HuntEngine::add(const EventBatch& batch) {
  for (const Event& e : batch.events) {
    std::uint64_t serial = events_++;
    if (options_.context) options_.context->observe(e);
    candidates_.clear();
    rules_.index->candidates(e, candidates_);
    // A rule can come twice (two matching values, two categories): test it once.
    std::size_t kept = 0;
    for (std::size_t r : candidates_) {
      if (tested_at_[r] == serial) continue;
      tested_at_[r] = serial;
      candidates_[kept++] = r;
    }
    candidates_.resize(kept);
    for (std::size_t r : candidates_) {
      ++stats_[r].evaluations;
      if (runners_[r] || samplers_[r]) {
        // An event an exception covers takes no part in the rule's sequences
        // (Elastic adds exceptions to every term's query).
        if (!exceptions_[r].empty() && excepted(r, e)) continue;
        if (runners_[r]) {
          runners_[r]->add(e, context_);
        } else {
          samplers_[r]->add(e, context_);
        }
        continue;
      }
      if (!eql::matches(*rules_.compiled[r].query.event, e, context_)) continue;
      if (!exceptions_[r].empty() && excepted(r, e)) {
        ++stats_[r].excepted;
        continue;
      }
      if (!e.has_timestamp) ++stats_[r].no_timestamp;
      Detection d;
      d.rule = r;
      d.first_time = d.last_time = e.timestamp_ns;
      if (const auto& override_field = rules_.compiled[r].timestamp_override) {
        const Value& t = e.get(*override_field);
        if (t.is_text()) {
          if (auto parsed = parse_timestamp_text(t.as_string())) d.window_time = *parsed;
        }
      }
      d.ordinal = e.ordinal;
      d.events.emplace_back();
      append_event_json(d.events.back(), e);
      if (options_.context) d.context = options_.context->context_json(e);
      keep(r, std::move(d));
    }
  }
}

std::vector<std::vector<Detection>> HuntEngine::finish(std::vector<RuleRunStats>& stats) {
  for (std::size_t r = 0; r < rules_.compiled.size(); ++r) {
    if (!runners_[r] && !samplers_[r]) continue;
    std::vector<eql::SequenceMatch> matches = runners_[r] ? runners_[r]->finish() : samplers_[r]->finish();
    if (runners_[r]) stats_[r].sequences = runners_[r]->stats();
    for (auto& m : matches) {
      Detection d;
      d.rule = r;
      d.join_keys = m.join_keys;
      d.ordinal = m.last_ordinal;
      bool first = true;
      for (const auto& ev : m.events) {
        std::string payload = ev ? ev->payload : std::string();
        std::string context;
        if (std::size_t sep = payload.find(kContextSeparator); sep != std::string::npos) {
          context = payload.substr(0, sep);
          payload.erase(0, sep + 1);
        }
        d.events.push_back(std::move(payload));
        d.event_contexts.push_back(std::move(context));
        if (!ev) continue;
        d.first_time = first ? ev->timestamp : std::min(d.first_time, ev->timestamp);
        d.last_time = first ? ev->timestamp : std::max(d.last_time, ev->timestamp);
        first = false;
      }
      keep(r, std::move(d));
    }
  }
  for (auto& list : detections_) {
    std::stable_sort(list.begin(), list.end(), [](const Detection& a, const Detection& b) {
      if (a.first_time != b.first_time) return a.first_time < b.first_time;
      return a.ordinal < b.ordinal;
    });
  }
  stats = stats_;
  return std::move(detections_);
}

}  // namespace vigil
