// SequenceMatcher: the streaming state machine behind EQL sequences. Events
// arrive once, in time order; partial matches live per join key, one per
// stage (a newer partial replaces an older one at the same stage, as
// Elasticsearch's matcher keeps only the latest candidate); maxspan expires
// them, `until` kills them, and a hard cap evicts the oldest, counted.
//
// Missing events (`![...]`) follow Elasticsearch's semantics:
//  - between two positive terms, a matching event kills the partial waiting
//    at the earlier term (like a local `until`);
//  - leading and trailing missing terms reject a complete sequence only when
//    events exist for *all* of them such that the whole sequence, missing
//    events included, fits within maxspan. Trailing terms need the future,
//    so such sequences are held until maxspan has passed (or input ends).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "core/codec.h"
#include "core/timestamp.h"
#include "eql/compiler.h"

namespace vigil::eql {

// One event as the matcher sees it: its time, its position in the input, the
// terms it satisfies with the join key for each, and what to print for it.
struct TermHit {
  std::uint32_t term;  // index into SequenceProgram::stages; stages.size() is `until`
  std::string key;     // join key values as a JSON array, e.g. ["foo",12]
};

inline auto members(Unqualified<TermHit> auto& h) { return std::tie(h.term, h.key); }

struct MatcherEvent {
  TimestampNs timestamp = 0;
  std::uint64_t ordinal = 0;
  std::vector<TermHit> hits;
  // The rendered event; one event kept by several rules shares one copy.
  std::shared_ptr<const std::string> payload;
  std::string_view text() const { return payload ? std::string_view(*payload) : std::string_view(); }
};

using MatcherEventPtr = std::shared_ptr<const MatcherEvent>;

struct SequenceMatch {
  std::string join_keys;                // JSON array
  std::vector<MatcherEventPtr> events;  // one per term; nullptr for a missing term
  TimestampNs first_timestamp = 0;
  std::uint64_t first_ordinal = 0;
  std::uint64_t last_ordinal = 0;  // of the last positive event: where the sequence completed
};

inline auto members(Unqualified<SequenceMatch> auto& m) {
  return std::tie(m.join_keys, m.events, m.first_timestamp, m.first_ordinal, m.last_ordinal);
}

// Events held by matchers are written once each, and referred to by number,
// in a checkpoint: encode_value / decode_value of a MatcherEventPtr go
// through the table the Encoder's / Decoder's `context` points to.
class EventTable {
 public:
  // Encoding: the number of `event` (0 for none), adding it on first sight.
  std::uint64_t ref(const MatcherEvent* event);
  // Writes the events numbered so far.
  void save(Encoder& out) const;
  // Decoding: reads the events, then resolves numbers.
  void load(Decoder& in);
  std::shared_ptr<MatcherEvent> at(std::uint64_t ref, Decoder& in) const;

 private:
  std::unordered_map<const MatcherEvent*, std::uint64_t> numbers_;
  std::vector<const MatcherEvent*> order_;
  std::vector<std::shared_ptr<MatcherEvent>> loaded_;
};
// (MatcherEventPtr, and the runner's buffer's shared_ptr<MatcherEvent>, alike.)
template <typename E>
  requires std::is_same_v<std::remove_const_t<E>, MatcherEvent>
void encode_value(Encoder& out, const std::shared_ptr<E>& event) {
  out.varint(static_cast<EventTable*>(out.context)->ref(event.get()));
}
template <typename E>
  requires std::is_same_v<std::remove_const_t<E>, MatcherEvent>
void decode_value(Decoder& in, std::shared_ptr<E>& event) {
  event = static_cast<const EventTable*>(in.context)->at(in.varint(), in);
}
// Encodes `body(encoder)` with an EventTable, the table first.
std::string encode_with_events(const std::function<void(Encoder&)>& body);
// Decodes what encode_with_events wrote; false if it is not that.
bool decode_with_events(std::string_view bytes, const std::function<void(Decoder&)>& body);

struct MatcherLimits {
  std::size_t max_open = 100000;          // partial sequences held at once, all keys
  std::size_t max_history_per_key = 256;  // leading missing-event timestamps kept per key and term
};

struct MatcherStats {
  std::uint64_t events = 0;
  std::uint64_t evicted = 0;            // partials dropped because max_open was reached
  std::uint64_t expired = 0;            // partials whose maxspan ran out
  std::uint64_t killed_by_until = 0;
  std::uint64_t killed_by_missing = 0;  // in-between missing events
  std::uint64_t rejected_missing = 0;   // leading/trailing missing events present
  std::uint64_t history_dropped = 0;
  std::uint64_t out_of_order = 0;       // events older than one already processed
  std::size_t peak_open = 0;
  std::uint64_t completed = 0;
};
inline auto members(Unqualified<MatcherStats> auto& s) {
  return std::tie(s.events, s.evicted, s.expired, s.killed_by_until, s.killed_by_missing, s.rejected_missing,
                  s.history_dropped, s.out_of_order, s.peak_open, s.completed);
}

class SequenceMatcher {
 public:
  explicit SequenceMatcher(const SequenceProgram& program, MatcherLimits limits = {});

  void process(const MatcherEventPtr& event);
  // Event time has reached `now` (a watermark: no event older will come):
  // partials past maxspan expire, held sequences whose trailing terms can no
  // longer occur are released.
  void advance_time(TimestampNs now);
  // End of input: releases sequences held for trailing missing terms.
  void finish();
  // Matches found so far, in the order they completed (or were released).
  std::vector<SequenceMatch> take_matches();
  const MatcherStats& stats() const { return stats_; }
  std::size_t open_partials() const { return open_; }
  // The serialized form (stream checkpoints): everything held. Events are
  // written as references into the encoder's EventTable (matcher_state.cpp).
  void save(Encoder& out) const;
  void load(Decoder& in);

 private:
  struct Partial {
    std::uint64_t id;
    std::vector<MatcherEventPtr> events;  // positive events so far
    TimestampNs start;
    friend auto members(Unqualified<Partial> auto& p) { return std::tie(p.id, p.events, p.start); }
  };
  struct KeyState {
    std::vector<std::optional<Partial>> at;       // at[j]: matched positives 0..j, waiting for j+1
    std::vector<std::deque<TimestampNs>> leading;  // per leading missing term
    friend auto members(Unqualified<KeyState> auto& k) { return std::tie(k.at, k.leading); }
  };
  struct Held {  // complete, waiting to see whether its trailing missing terms occur
    SequenceMatch match;
    std::string key;
    TimestampNs span_start;  // earliest event counted for the span (a leading missing one, or the first)
    TimestampNs last_positive;
    std::size_t trailing_progress = 0;
    TimestampNs trailing_last = 0;
    friend auto members(Unqualified<Held> auto& h) {
      return std::tie(h.match, h.key, h.span_start, h.last_positive, h.trailing_progress, h.trailing_last);
    }
  };

  void on_until(const std::string& key);
  void on_kill(std::size_t positive_index, const std::string& key);
  void on_leading(std::size_t leading_index, const std::string& key, TimestampNs ts);
  void on_trailing(std::size_t trailing_index, const std::string& key, TimestampNs ts);
  void on_positive(std::size_t positive_index, const std::string& key, const MatcherEventPtr& event);
  void complete(Partial&& partial, const std::string& key);
  void emit(SequenceMatch&& match);
  SequenceMatch build_match(const std::vector<MatcherEventPtr>& positives, const std::string& key) const;
  void release_held(TimestampNs now);
  void expire(TimestampNs now);
  void enforce_cap();
  // Removes a live partial (the front of creation_order_, already popped).
  void drop_oldest(std::uint64_t id, const std::string& key);
  void store(const std::string& key, std::size_t j, Partial&& partial);
  void drop_key_if_empty(const std::string& key);

  const SequenceProgram& program_;
  MatcherLimits limits_;
  // Term layout, computed once.
  std::vector<std::size_t> positive_terms_;      // term index of each positive term
  std::vector<std::int64_t> term_role_;          // >=0: positive index; -1 leading; -2 in-between; -3 trailing
  std::vector<std::size_t> term_slot_;           // leading/trailing index, or the positive a kill targets
  std::size_t leading_count_ = 0;
  std::size_t trailing_count_ = 0;

  std::unordered_map<std::string, KeyState> keys_;
  std::deque<std::pair<std::uint64_t, std::string>> creation_order_;  // (partial id, key), oldest first
  std::unordered_map<std::uint64_t, TimestampNs> live_;               // partial id -> start
  std::uint64_t next_id_ = 1;
  std::size_t open_ = 0;
  TimestampNs now_ = INT64_MIN;

  std::map<std::uint64_t, Held> held_;
  std::multimap<TimestampNs, std::uint64_t> held_deadlines_;
  std::unordered_multimap<std::string, std::uint64_t> held_by_key_;
  std::uint64_t next_held_ = 1;

  std::vector<SequenceMatch> matches_;
  MatcherStats stats_;
};

}  // namespace vigil::eql
