// SampleRunner: EQL `sample by k [f1] [f2] ...`. Unlike a sequence, a sample
// ignores time order: for each join key it picks one distinct event per
// filter (the earliest candidates in input order) and returns one sample per
// key, samples ordered by join key (nulls first) as Elasticsearch's
// composite aggregation orders them. State is per key and bounded: at most
// as many candidates per key and filter as there are filters, and at most
// `max_keys` keys (further keys are counted, not kept).
#pragma once

#include <map>

#include "eql/sequence_runner.h"

namespace vigil::eql {

class SampleRunner {
 public:
  SampleRunner(const SequenceProgram& program, RenderEvent render, std::size_t max_keys = 1000000);
  void add(const Event& event, EvalContext& context);
  std::vector<SequenceMatch> finish();
  std::uint64_t keys_dropped() const { return keys_dropped_; }
  void save(Encoder& out) const;
  void load(Decoder& in);

 private:
  // Sort key of one join-key component: nulls, then numbers, then text.
  struct KeyPart {
    int rank;
    double number;
    std::string text;
    bool operator<(const KeyPart& o) const {
      if (rank != o.rank) return rank < o.rank;
      if (number != o.number) return number < o.number;
      return text < o.text;
    }
    friend auto members(Unqualified<KeyPart> auto& k) { return std::tie(k.rank, k.number, k.text); }
  };
  struct KeyState {
    std::vector<KeyPart> order;
    std::vector<std::vector<MatcherEventPtr>> candidates;  // per filter
    friend auto members(Unqualified<KeyState> auto& k) { return std::tie(k.order, k.candidates); }
  };

  const SequenceProgram& program_;
  RenderEvent render_;
  std::size_t max_keys_;
  std::map<std::string, KeyState> keys_;
  std::uint64_t keys_dropped_ = 0;
};

}  // namespace vigil::eql
