// NewTermsRunner: Elastic's new_terms rule type over historical data, in
// one pass. A rule execution at time E (window [E - lookback, E]) alerts on
// the first event in its window of each value combination of
// new_terms_fields that no matching event had in the history window
// [E - history, E - lookback). Put together, an occurrence at time t alerts
// exactly when no other occurrence of its term lies in [E₁ - history, t),
// E₁ being the last execution whose window holds t (later runs have the
// shorter history range) — whichever order the events come in. A test checks
// this against a literal run-by-run reading on random inputs.
//
// Per term the runner keeps the distinct occurrence times, thinned: a time
// whose neighbours are less than (history - lookback) apart can neither
// alert nor change any answer (every history range is at least that long),
// so a term costs a few entries per history window, however often it is
// seen. Occurrences that may still alert keep their document until an
// earlier occurrence rules them out. A term a baseline knows never alerts.
// Terms beyond max_terms are evicted (least recently seen first) and counted.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "detect/hunt_engine.h"
#include "detect/rarity.h"

namespace vigil {

class NewTermsRunner {
 public:
  NewTermsRunner(std::int64_t interval_ns, std::int64_t lookback_ns, std::int64_t history_ns, const RaritySpec& spec,
                 std::size_t max_terms, BaselineStore* baseline);

  // An event that matched the rule's query, at (window) time `t`. `make`
  // renders its detection, called only if it may alert.
  void add(const Event& event, TimestampNs t, std::uint64_t ordinal, const std::function<Detection()>& make);
  // Event time has reached `watermark` (no older event will come): the
  // occurrences at or before it that introduced a new term are final and
  // returned; history no run after it can look at is dropped.
  std::vector<Detection> release(TimestampNs watermark);
  // The detections of every occurrence that introduced a new term.
  std::vector<Detection> finish();
  // The serialized form (stream checkpoints).
  void save(Encoder& out) const;
  void load(Decoder& in);

  std::uint64_t evicted() const { return evicted_; }
  std::uint64_t known_in_baseline() const { return known_in_baseline_; }

 private:
  struct Candidate {
    std::uint64_t ordinal;
    Detection detection;
    friend auto members(Unqualified<Candidate> auto& c) { return std::tie(c.ordinal, c.detection); }
  };
  struct Term {
    std::vector<TimestampNs> times;            // distinct, sorted, thinned
    std::map<TimestampNs, Candidate> pending;  // occurrences that may alert
    bool in_baseline = false;
    TimestampNs last = 0;
    friend auto members(Unqualified<Term> auto& t) { return std::tie(t.times, t.pending, t.in_baseline, t.last); }
  };
  bool seen_in_history(const Term& term, TimestampNs t) const;
  void insert_time(Term& term, TimestampNs t);
  void make_room();

  std::int64_t interval_;
  std::int64_t lookback_;
  std::int64_t history_;
  const RaritySpec& spec_;
  std::size_t max_terms_;
  BaselineStore* baseline_;
  std::optional<std::int64_t> baseline_spec_;
  std::unordered_map<std::string, Term> terms_;
  std::multimap<TimestampNs, std::string> pending_index_;  // (time, term) of every pending occurrence
  TimestampNs pruned_at_ = INT64_MIN;
  std::vector<Detection> evicted_candidates_;  // pending detections of evicted terms (still new)
  SpecTerms scratch_;
  std::uint64_t evicted_ = 0;
  std::uint64_t known_in_baseline_ = 0;
};

}  // namespace vigil
