// SequenceRunner: term evaluation, ordering and pipes around the matcher.
#include "eql/sequence_runner.h"

#include <algorithm>

namespace vigil::eql {

std::optional<std::string> join_key(const StageProgram& stage, const Event& event) {
  std::string key = "[";
  for (std::size_t i = 0; i < stage.keys.size(); ++i) {
    const Value& v = event.get(stage.keys[i]);
    bool empty = v.is_null() || (v.kind() == ValueKind::Array && v.as_array().empty());
    if (empty && !stage.key_optional[i]) return std::nullopt;
    if (i > 0) key.push_back(',');
    if (empty) {
      key += "null";
    } else {
      append_json(key, v);
    }
  }
  key.push_back(']');
  return key;
}

SequenceRunner::SequenceRunner(const SequenceProgram& program, RunnerOptions options, RenderEvent render)
    : program_(program), options_(options), render_(std::move(render)), matcher_(program, options.limits) {}

std::vector<TermHit> SequenceRunner::terms(const Event& event, EvalContext& context) const {
  std::vector<TermHit> hits;
  // Terms repeated by `with runs=N` share one filter: evaluate it once.
  const Program* last_filter = nullptr;
  bool last_result = false;
  auto consider = [&](const StageProgram& stage, std::uint32_t term) {
    bool matched;
    if (stage.filter.get() == last_filter) {
      matched = last_result;
    } else {
      matched = matches(*stage.filter, event, context);
      last_filter = stage.filter.get();
      last_result = matched;
    }
    if (!matched) return;
    if (auto key = join_key(stage, event)) hits.push_back({term, std::move(*key)});
  };
  for (std::uint32_t t = 0; t < program_.stages.size(); ++t) consider(program_.stages[t], t);
  if (program_.until) consider(*program_.until, static_cast<std::uint32_t>(program_.stages.size()));
  return hits;
}

void SequenceRunner::add_hits(const Event& event, std::vector<TermHit> hits) {
  if (hits.empty()) return;
  auto me = std::make_shared<MatcherEvent>();
  me->timestamp = event.timestamp_ns;
  me->ordinal = event.ordinal;
  me->hits = std::move(hits);
  me->payload = render_(event);
  if (options_.assume_sorted) {
    matcher_.process(me);
    return;
  }
  Buffered b{event.timestamp_ns, 0, {}, event.ordinal, std::move(me)};
  if (options_.tiebreaker) {
    const Value& t = event.get(*options_.tiebreaker);
    if (t.is_numeric()) b.tiebreak_number = t.as_double();
    if (t.is_text()) b.tiebreak_text = std::string(t.as_string());
  }
  buffer_.push_back(std::move(b));
}

void SequenceRunner::release(TimestampNs until) {
  if (buffer_.empty()) return;
  std::stable_sort(buffer_.begin(), buffer_.end(), [](const Buffered& a, const Buffered& b) {
    if (a.timestamp != b.timestamp) return a.timestamp < b.timestamp;
    if (a.tiebreak_number != b.tiebreak_number) return a.tiebreak_number < b.tiebreak_number;
    if (a.tiebreak_text != b.tiebreak_text) return a.tiebreak_text < b.tiebreak_text;
    return a.ordinal < b.ordinal;
  });
  // From here on an event's ordinal is its position in time order, so that
  // results sort as Elasticsearch sorts them (timestamp, then tiebreaker).
  std::size_t n = 0;
  for (; n < buffer_.size() && buffer_[n].timestamp <= until; ++n) {
    Buffered& b = buffer_[n];
    if (released_until_ > INT64_MIN && b.timestamp <= released_until_) ++late_;
    b.event->ordinal = position_++;
    matcher_.process(b.event);
  }
  buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(n));
  if (buffer_.empty()) buffer_.shrink_to_fit();
}

std::vector<SequenceMatch> SequenceRunner::take_sorted() {
  std::vector<SequenceMatch> matches = matcher_.take_matches();
  // Elasticsearch returns sequences in the order they completed: by their
  // last event (sequences held for trailing missing terms included).
  std::stable_sort(matches.begin(), matches.end(),
                   [](const SequenceMatch& a, const SequenceMatch& b) { return a.last_ordinal < b.last_ordinal; });
  return matches;
}

std::vector<SequenceMatch> SequenceRunner::advance(TimestampNs watermark) {
  if (watermark <= released_until_) return {};
  release(watermark);
  released_until_ = watermark;
  matcher_.advance_time(watermark);
  std::vector<SequenceMatch> matches = take_sorted();
  if (program_.pipes.empty()) return matches;
  // head/tail count over the whole result: final only at the end.
  for (auto& m : matches) held_for_pipes_.push_back(std::move(m));
  return {};
}

std::vector<SequenceMatch> SequenceRunner::finish() {
  release(INT64_MAX);
  matcher_.finish();
  std::vector<SequenceMatch> matches = std::move(held_for_pipes_);
  for (auto& m : take_sorted()) matches.push_back(std::move(m));
  held_for_pipes_.clear();
  apply_pipes(matches, program_.pipes);
  return matches;
}

}  // namespace vigil::eql
