// The serialized form of sequence and sample state (stream checkpoints):
// the matcher's partials, held sequences and histories, the runner's
// time-ordering buffer, samples' candidates. Events are shared by many
// partials; each is written once in an EventTable and referred to by number.
#include <memory>

#include "eql/sample_runner.h"
#include "eql/sequence_matcher.h"
#include "eql/sequence_runner.h"

namespace vigil::eql {

std::uint64_t EventTable::ref(const MatcherEvent* event) {
  if (!event) return 0;
  auto [it, added] = numbers_.try_emplace(event, order_.size() + 1);
  if (added) order_.push_back(event);
  return it->second;
}

void EventTable::save(Encoder& out) const {
  out.varint(order_.size());
  for (const MatcherEvent* e : order_) {
    out(e->timestamp);
    out(e->ordinal);
    out(e->hits);
    const bool has_payload = e->payload != nullptr;
    out(has_payload);
    if (has_payload) out(*e->payload);
  }
}

void EventTable::load(Decoder& in) {
  std::uint64_t n = in.varint();
  loaded_.clear();
  for (std::uint64_t i = 0; i < n && in.ok(); ++i) {
    auto e = std::make_shared<MatcherEvent>();
    in(e->timestamp);
    in(e->ordinal);
    in(e->hits);
    bool has_payload = false;
    in(has_payload);
    if (has_payload) {
      std::string payload;
      in(payload);
      e->payload = std::make_shared<const std::string>(std::move(payload));
    }
    loaded_.push_back(std::move(e));
  }
}

std::shared_ptr<MatcherEvent> EventTable::at(std::uint64_t ref, Decoder& in) const {
  if (ref == 0) return nullptr;
  if (ref > loaded_.size()) {
    in.fail();
    return nullptr;
  }
  return loaded_[ref - 1];
}

std::string encode_with_events(const std::function<void(Encoder&)>& body) {
  EventTable table;
  std::string rest;
  Encoder body_out(rest);
  body_out.context = &table;
  body(body_out);
  std::string out;
  Encoder head(out);
  table.save(head);
  out += rest;
  return out;
}

bool decode_with_events(std::string_view bytes, const std::function<void(Decoder&)>& body) {
  EventTable table;
  Decoder in(bytes);
  table.load(in);
  in.context = &table;
  body(in);
  return in.ok() && in.at_end();
}

void SequenceMatcher::save(Encoder& out) const {
  out(keys_);
  out(creation_order_);
  out(live_);
  out(next_id_);
  out(open_);
  out(now_);
  out(held_);
  out(held_deadlines_);
  out(held_by_key_);
  out(next_held_);
  out(matches_);
  out(stats_);
}

void SequenceMatcher::load(Decoder& in) {
  in(keys_);
  in(creation_order_);
  in(live_);
  in(next_id_);
  in(open_);
  in(now_);
  in(held_);
  in(held_deadlines_);
  in(held_by_key_);
  in(next_held_);
  in(matches_);
  in(stats_);
  // A partial per stage of the program; anything else is not this rule's state.
  const std::size_t slots = positive_terms_.size() > 1 ? positive_terms_.size() - 1 : 0;
  for (const auto& [key, ks] : keys_) {
    if ((!ks.at.empty() && ks.at.size() != slots) || (!ks.leading.empty() && ks.leading.size() != leading_count_)) {
      return in.fail();
    }
  }
}

void SequenceRunner::save(Encoder& out) const {
  out(buffer_);
  out(position_);
  out(released_until_);
  out(late_);
  out(held_for_pipes_);
  matcher_.save(out);
}

void SequenceRunner::load(Decoder& in) {
  in(buffer_);
  in(position_);
  in(released_until_);
  in(late_);
  in(held_for_pipes_);
  matcher_.load(in);
}

void SampleRunner::save(Encoder& out) const {
  out(keys_);
  out(keys_dropped_);
}

void SampleRunner::load(Decoder& in) {
  in(keys_);
  in(keys_dropped_);
}

}  // namespace vigil::eql
