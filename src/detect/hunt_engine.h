// HuntEngine: every compiled rule over one pass of the events. An event is
// tested only against the candidates the RuleIndex gives for it; sequence
// rules feed their SequenceRunner. take() hands out each rule's final
// detections (matching events or sequences), which the alerter
// (detect/alerter.h) turns into alerts. A detection is final when nothing
// later can change it: an event rule's at once; a sequence's or a new
// term's once event time (the watermark given to advance()) has passed it;
// everything at finish().
//
// Matching runs on all cores: each batch is dealt out in stripes of events
// to lanes (a thread with its own scratch each), which test their events
// against the event rules and note the hits. Then one thread walks the batch in
// order: the triage state observes every event, sequence runners get their
// events, hits become detections. Results never depend on the thread count.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "context/host_state.h"
#include "core/event.h"
#include "core/worker_pool.h"
#include "detect/correlation.h"
#include "detect/rule_set.h"
#include "eql/sample_runner.h"
#include "rules/exceptions.h"
#include "eql/sequence_runner.h"

namespace vigil {

// One match of one rule, before scheduling.
struct Detection {
  std::size_t rule = 0;             // index into RuleSet::compiled
  TimestampNs first_time = 0;       // earliest event
  TimestampNs last_time = 0;        // latest event (where a sequence completed)
  std::optional<TimestampNs> window_time;  // rule.timestamp_override: the time the schedule sees instead
  std::uint64_t ordinal = 0;        // input position of the last event (tiebreak)
  std::vector<std::string> events;  // each event's document (JSON); sequences: one per term, "" if missing
  std::string join_keys;            // sequences: the join key values (JSON array)
  std::string context;              // triage context at detection time (JSON object), if kept
  std::vector<std::string> event_contexts;  // sequences: each event's context when it was seen ("" if none)
  std::vector<std::string> new_terms;       // new_terms rules: the value combination that was new
  std::vector<std::string> sources;         // each event's source location (JSON object, "" if unknown)
  std::string correlation;                  // Sigma correlations: what was counted (JSON object, vigil.correlation)
  std::string threshold;                    // threshold rules: kibana.alert.threshold_result (JSON object)
  std::string esql;  // ES|QL rules: the result row's columns the alert adds to its source (JSON object, nested)
  std::vector<std::string> esql_columns;  // non-aggregating ES|QL rules: the names of those columns
};

inline auto members(Unqualified<Detection> auto& d) {
  return std::tie(d.rule, d.first_time, d.last_time, d.window_time, d.ordinal, d.events, d.join_keys, d.context,
                  d.event_contexts, d.new_terms, d.sources, d.correlation, d.threshold, d.esql, d.esql_columns);
}

// The bytes a detection holds (what a stage that holds detections counts
// against its budget before it spills).
inline std::size_t bytes_of(const Detection& d) {
  std::size_t bytes = sizeof(Detection) + d.join_keys.size() + d.context.size() + d.correlation.size() +
                      d.threshold.size() + d.esql.size();
  for (const auto* list : {&d.events, &d.event_contexts, &d.new_terms, &d.sources, &d.esql_columns}) {
    for (const std::string& s : *list) bytes += sizeof(std::string) + s.size();
  }
  return bytes;
}

struct RuleRunStats {
  std::uint64_t evaluations = 0;    // events the rule's program ran on (the index let the others pass)
  std::uint64_t eval_ns = 0;        // with HuntOptions::profile: time spent evaluating (and feeding sequences)
  std::uint64_t detections = 0;
  std::uint64_t dropped = 0;        // detections beyond max_detections_per_rule (counted, not kept)
  std::uint64_t no_timestamp = 0;   // matching events without a timestamp (no schedule can find them)
  std::uint64_t alerts = 0;
  std::uint64_t outside_windows = 0;  // sequences longer than the rule's lookback: Elastic never sees them
  std::uint64_t capped = 0;           // left out by max_signals in every window that held them
  std::uint64_t excepted = 0;         // matching events (or sequence events) an exception item left out
  std::uint64_t suppressed = 0;       // alerts folded into another by alert_suppression
  std::uint64_t not_rare = 0;         // matching events left out by the rule's rarity conditions
  std::uint64_t terms_evicted = 0;    // new_terms: terms evicted from the bounded history; threshold: groups evicted
  std::uint64_t baseline_known = 0;   // new_terms: terms the baseline knew (never new)
  std::uint64_t late = 0;             // events or detections that came after event time had passed them
  std::uint64_t correlated = 0;       // matches handed to the Sigma correlations that name the rule
  eql::MatcherStats sequences;
  CorrelationStats correlation;       // Sigma correlation rules
};
inline auto members(Unqualified<RuleRunStats> auto& s) {
  return std::tie(s.evaluations, s.eval_ns, s.detections, s.dropped, s.no_timestamp, s.alerts, s.outside_windows,
                  s.capped, s.excepted, s.suppressed, s.not_rare, s.terms_evicted, s.baseline_known, s.late,
                  s.correlated, s.sequences, s.correlation);
}

struct HuntOptions {
  std::size_t max_detections_per_rule = 100000;
  eql::MatcherLimits sequence_limits;
  HostState* context = nullptr;  // when set: sees every event, gives each detection its triage context
  const ExceptionLists* exceptions = nullptr;  // lists the rules reference (rule.exceptions_list)
  std::vector<std::string> lists_for_all_rules;  // list ids applied to every rule
  unsigned threads = 0;  // matching lanes (0 = one per core)
  BaselineStore* baseline = nullptr;  // known terms for rarity conditions and new_terms rules
  std::size_t max_terms = 1000000;    // terms held in memory per tracker (rarity) and per new_terms rule
  bool profile = false;               // time every rule evaluation (RuleRunStats::eval_ns)
  CorrelationLimits correlation_limits;  // per Sigma correlation rule
};

class NewTermsRunner;
class ThresholdRunner;
class EsqlRunner;
class RarityTracker;

class HuntEngine {
 public:
  HuntEngine(const RuleSet& rules, HuntOptions options);
  ~HuntEngine();

  void add(const EventBatch& batch);
  // Event time has reached `watermark` (no older event will come): sequences
  // and new terms that are final become detections.
  void advance(TimestampNs watermark);
  // End of input: every detection is final.
  void finish();
  // The detections that became final since the last take, per rule (sorted
  // by first event time, then input position, within a rule).
  std::vector<std::vector<Detection>> take();
  // Detections kept since the last take().
  std::size_t held() const { return held_; }
  // Per-rule counts so far.
  std::vector<RuleRunStats> stats();
  // Partial sequences held, and events buffered for time ordering, over all
  // rules; with the groups and buffered matches of correlations.
  std::size_t open_sequences() const;
  std::uint64_t events() const { return events_; }
  std::uint64_t rarity_evicted() const;
  // The serialized form of everything the engine holds (stream checkpoints):
  // open sequences and their buffers, samples, new-terms histories, rarity
  // counts, triage state, detections not yet taken, counts. load() wants an
  // engine made from the same rules; false if the bytes are not its state.
  std::string save();
  bool load(std::string_view bytes);

 private:
  // One matching thread's scratch and results for its slice of a batch.
  struct Lane {
    eql::EvalContext context;
    std::vector<std::size_t> candidates;
    RuleIndex::Scratch index_scratch;
    std::vector<std::uint64_t> tested_at;  // per rule: last event it was tested on (dedup across index keys)
    std::vector<std::pair<std::uint32_t, std::uint32_t>> hits;   // (event in batch, rule): an event rule matched
    struct Feed {
      std::uint32_t event;  // in the batch
      std::uint32_t rule;
      std::vector<eql::TermHit> hits;  // sequences: the terms it satisfies (found here, on the lane's thread)
    };
    std::vector<Feed> feeds;  // events for sequence and sample rules
    std::vector<std::uint64_t> evaluations;  // per rule
    std::vector<std::uint64_t> excepted;     // per rule
    std::vector<std::uint64_t> nanos;        // per rule, when profiling
  };
  // Tests event `i` of the batch against rule `r` (a candidate): notes a hit or a sequence feed.
  void test_rule(Lane& lane, std::size_t r, const Event& e, std::uint32_t i);
  void match_lane(Lane& lane, const EventBatch& batch, std::size_t lane_index, std::size_t lanes);
  // rule.timestamp_override's time for the event, if the rule has one and the event a valid value.
  std::optional<TimestampNs> window_time(std::size_t rule, const Event& e) const;
  Detection make_detection(std::size_t rule, const Event& e);
  void hit(std::size_t rule, const Event& e);
  bool rare(std::size_t rule, const Event& e);
  void keep(std::size_t rule, Detection d);
  void keep_sequence(std::size_t rule, eql::SequenceMatch& match);
  // Hands a match of `rule` to the correlations that name it.
  void feed_correlations(std::size_t rule, const Event& e);
  // Correlations (inner ones first) take their matches up to `watermark`
  // (all of them and close every window at the end).
  void run_correlations(TimestampNs watermark, bool end);
  Detection correlation_detection(std::size_t rule, CorrelationMatch& m) const;
  void fold_lane_counts();

  const RuleSet& rules_;
  HuntOptions options_;
  eql::EvalContext context_;  // sequence runners (fed by one thread)
  std::vector<std::unique_ptr<Lane>> lanes_;
  std::unique_ptr<WorkerPool> workers_;
  std::vector<std::pair<std::size_t, std::size_t>> merge_positions_;  // scratch for add()
  std::shared_ptr<const std::string> rendered_;  // the last term event rendered, for the next rule keeping it
  std::uint64_t rendered_ordinal_ = 0;
  std::vector<std::unique_ptr<eql::SequenceRunner>> runners_;  // per compiled rule; null for event rules
  std::vector<std::unique_ptr<eql::SampleRunner>> samplers_;
  std::vector<std::unique_ptr<NewTermsRunner>> new_terms_;
  std::vector<std::unique_ptr<ThresholdRunner>> thresholds_;
  std::vector<std::unique_ptr<EsqlRunner>> esql_;
  std::unique_ptr<RarityTracker> rarity_;
  std::vector<std::unique_ptr<CorrelationRunner>> correlations_;  // per compiled rule; null but for correlations
  std::vector<std::size_t> correlation_order_;  // the correlation rules, each after those it names
  std::vector<std::vector<const ExceptionItem*>> exceptions_;  // per compiled rule
  bool excepted(std::size_t rule, const Event& event) const;
  std::vector<std::vector<Detection>> detections_;
  std::size_t held_ = 0;
  std::vector<RuleRunStats> stats_;
  std::uint64_t events_ = 0;
};

}  // namespace vigil
