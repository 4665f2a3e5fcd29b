// SequenceRunner: feeds a SequenceMatcher from batches of events. It
// evaluates every term's filter and join keys as events stream by (that
// needs no ordering), keeps only the events some term wants, orders them by
// @timestamp, then the tiebreaker, then input position (Elasticsearch's
// order), and runs the matcher over them. With `assume_sorted` it skips the
// buffer and feeds the matcher directly: constant memory for inputs already
// in time order (events that are not are counted as out of order).
#pragma once

#include <functional>
#include <optional>

#include "eql/sequence_matcher.h"

namespace vigil::eql {

struct RunnerOptions {
  MatcherLimits limits;
  std::optional<FieldId> tiebreaker;
  bool assume_sorted = false;
};

// Renders an event into the payload kept for output. The caller may hand
// out one payload for every runner that keeps the same event.
using RenderEvent = std::function<std::shared_ptr<const std::string>(const Event& event)>;

class SequenceRunner {
 public:
  SequenceRunner(const SequenceProgram& program, RunnerOptions options, RenderEvent render);

  // Evaluates the terms against one event (call for every event, any order).
  void add(const Event& event, EvalContext& context) { add_hits(event, terms(event, context)); }
  // The two halves of add(): which terms the event satisfies, with its join
  // keys (const: threads may ask at once, each with its own context), and
  // taking the event in with those terms (one thread, in input order).
  std::vector<TermHit> terms(const Event& event, EvalContext& context) const;
  void add_hits(const Event& event, std::vector<TermHit> hits);
  // The serialized form (stream checkpoints) of what is buffered and open.
  struct Buffered {
    TimestampNs timestamp;
    double tiebreak_number;
    std::string tiebreak_text;
    std::uint64_t ordinal;
    std::shared_ptr<MatcherEvent> event;
    friend auto members(Unqualified<Buffered> auto& b) {
      return std::tie(b.timestamp, b.tiebreak_number, b.tiebreak_text, b.ordinal, b.event);
    }
  };
  void save(Encoder& out) const;
  void load(Decoder& in);
  // Event time has reached `watermark` (no older event will come): the
  // buffered events up to it are matched in order, and the sequences that
  // are final are returned. With head/tail pipes nothing is final before
  // finish(). Events older than what was already matched are late: counted,
  // and matched where they arrive.
  std::vector<SequenceMatch> advance(TimestampNs watermark);
  // Runs (or finishes) matching and returns the sequences, head/tail applied.
  std::vector<SequenceMatch> finish();
  std::uint64_t late() const { return late_; }
  const MatcherStats& stats() const { return matcher_.stats(); }
  std::size_t buffered() const { return buffer_.size(); }
  std::size_t open() const { return matcher_.open_partials(); }

 private:
  // Matches the buffered events up to `until` in time order.
  void release(TimestampNs until);
  // Completed sequences in Elasticsearch's order (by their last event).
  std::vector<SequenceMatch> take_sorted();

  const SequenceProgram& program_;
  RunnerOptions options_;
  RenderEvent render_;
  SequenceMatcher matcher_;
  std::vector<Buffered> buffer_;
  std::uint64_t position_ = 0;  // matched events so far: their ordinal in time order
  TimestampNs released_until_ = INT64_MIN;
  std::uint64_t late_ = 0;
  std::vector<SequenceMatch> held_for_pipes_;
};

// The join key of `event` for `stage`: a JSON array of the key values, or
// nullopt when a non-optional key is null (the event cannot join).
std::optional<std::string> join_key(const StageProgram& stage, const Event& event);

// Applies head/tail pipes, in order, to a list of results.
template <typename T>
void apply_pipes(std::vector<T>& rows, const std::vector<Pipe>& pipes) {
  std::size_t begin = 0, end = rows.size();
  for (const auto& pipe : pipes) {
    auto n = static_cast<std::size_t>(pipe.count);
    if (pipe.kind == Pipe::Kind::Head) {
      end = std::min(end, begin + n);
    } else if (end - begin > n) {
      begin = end - n;
    }
  }
  rows.erase(rows.begin() + static_cast<std::ptrdiff_t>(end), rows.end());
  rows.erase(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(begin));
}

}  // namespace vigil::eql
