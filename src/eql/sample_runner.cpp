// SampleRunner: candidate collection per key and filter, then one pick per key.
#include "eql/sample_runner.h"

#include <algorithm>

namespace vigil::eql {

SampleRunner::SampleRunner(const SequenceProgram& program, RenderEvent render, std::size_t max_keys)
    : program_(program), render_(std::move(render)), max_keys_(max_keys) {}

void SampleRunner::add(const Event& event, EvalContext& context) {
  MatcherEventPtr shared;
  const std::size_t filters = program_.stages.size();
  for (std::size_t i = 0; i < filters; ++i) {
    const StageProgram& stage = program_.stages[i];
    if (!matches(*stage.filter, event, context)) continue;
    auto key = join_key(stage, event);
    if (!key) continue;
    auto it = keys_.find(*key);
    if (it == keys_.end()) {
      if (keys_.size() >= max_keys_) {
        ++keys_dropped_;
        continue;
      }
      KeyState ks;
      ks.candidates.resize(filters);
      for (FieldId id : stage.keys) {
        const Value& v = event.get(id);
        if (v.is_null()) {
          ks.order.push_back({0, 0, {}});
        } else if (v.is_numeric()) {
          ks.order.push_back({1, v.as_double(), {}});
        } else {
          std::string text;
          append_text(text, v);
          ks.order.push_back({2, 0, std::move(text)});
        }
      }
      it = keys_.emplace(*key, std::move(ks)).first;
    }
    auto& list = it->second.candidates[i];
    // A filter never needs more candidates than there are filters to stay distinct.
    if (list.size() >= filters) continue;
    if (!shared) {
      auto me = std::make_shared<MatcherEvent>();
      me->timestamp = event.timestamp_ns;
      me->ordinal = event.ordinal;
      me->payload = render_(event);
      shared = std::move(me);
    }
    list.push_back(shared);
  }
}

std::vector<SequenceMatch> SampleRunner::finish() {
  std::vector<std::pair<const std::string*, const KeyState*>> ordered;
  for (const auto& [key, ks] : keys_) ordered.emplace_back(&key, &ks);
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const auto& a, const auto& b) { return a.second->order < b.second->order; });
  std::vector<SequenceMatch> out;
  for (const auto& [key, ks] : ordered) {
    SequenceMatch m;
    m.join_keys = *key;
    bool complete = true;
    for (const auto& list : ks->candidates) {
      auto pick = std::find_if(list.begin(), list.end(), [&](const MatcherEventPtr& e) {
        return std::find(m.events.begin(), m.events.end(), e) == m.events.end();
      });
      if (pick == list.end()) {
        complete = false;
        break;
      }
      m.events.push_back(*pick);
    }
    if (!complete) continue;
    m.first_timestamp = m.events.front()->timestamp;
    m.first_ordinal = m.events.front()->ordinal;
    out.push_back(std::move(m));
  }
  apply_pipes(out, program_.pipes);
  return out;
}

}  // namespace vigil::eql
