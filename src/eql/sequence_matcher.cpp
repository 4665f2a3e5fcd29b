// SequenceMatcher implementation. Costs per event: one hash lookup per term
// the event satisfies; eviction and expiry are amortised O(1) through the
// creation-order queue (partials are created in time order, so its front is
// always the oldest start).
#include "eql/sequence_matcher.h"

#include <algorithm>

namespace vigil::eql {

namespace {
constexpr std::int64_t kLeading = -1;
constexpr std::int64_t kBetween = -2;
constexpr std::int64_t kTrailing = -3;
}  // namespace

SequenceMatcher::SequenceMatcher(const SequenceProgram& program, MatcherLimits limits)
    : program_(program), limits_(limits) {
  const auto& st = program.stages;
  std::size_t first_positive = st.size(), last_positive = 0;
  for (std::size_t t = 0; t < st.size(); ++t) {
    if (!st[t].missing) {
      first_positive = std::min(first_positive, t);
      last_positive = t;
    }
  }
  term_role_.resize(st.size());
  term_slot_.resize(st.size());
  for (std::size_t t = 0; t < st.size(); ++t) {
    if (!st[t].missing) {
      term_role_[t] = static_cast<std::int64_t>(positive_terms_.size());
      positive_terms_.push_back(t);
    } else if (t < first_positive) {
      term_role_[t] = kLeading;
      term_slot_[t] = leading_count_++;
    } else if (t > last_positive) {
      term_role_[t] = kTrailing;
      term_slot_[t] = trailing_count_++;
    } else {
      term_role_[t] = kBetween;
      term_slot_[t] = positive_terms_.size() - 1;  // kills partials waiting after this positive
    }
  }
}

void SequenceMatcher::process(const MatcherEventPtr& event) {
  ++stats_.events;
  TimestampNs ts = event->timestamp;
  if (ts < now_) {
    ++stats_.out_of_order;  // processed where it arrived; see docs/sequences.md
  } else {
    now_ = ts;
  }
  expire(now_);
  release_held(now_);
  const std::size_t until_term = program_.stages.size();
  // Kills first (until, in-between missing terms), so that this event can
  // still start or extend sequences after them.
  for (const TermHit& hit : event->hits) {
    if (hit.term == until_term) {
      on_until(hit.key);
    } else if (term_role_[hit.term] == kBetween) {
      on_kill(term_slot_[hit.term], hit.key);
    }
  }
  for (const TermHit& hit : event->hits) {
    if (hit.term == until_term) continue;
    if (term_role_[hit.term] == kLeading) on_leading(term_slot_[hit.term], hit.key, ts);
    if (term_role_[hit.term] == kTrailing) on_trailing(term_slot_[hit.term], hit.key, ts);
  }
  // Positive terms from last to first: an event that satisfies two adjacent
  // terms first extends a partial, then starts a new one.
  for (std::size_t j = positive_terms_.size(); j-- > 0;) {
    std::uint32_t term = static_cast<std::uint32_t>(positive_terms_[j]);
    for (const TermHit& hit : event->hits) {
      if (hit.term == term) on_positive(j, hit.key, event);
    }
  }
  enforce_cap();
  stats_.peak_open = std::max(stats_.peak_open, open_);
}

void SequenceMatcher::on_until(const std::string& key) {
  auto it = keys_.find(key);
  if (it == keys_.end()) return;
  for (auto& slot : it->second.at) {
    if (slot) {
      live_.erase(slot->id);
      slot.reset();
      --open_;
      ++stats_.killed_by_until;
    }
  }
  drop_key_if_empty(key);
}

void SequenceMatcher::on_kill(std::size_t positive_index, const std::string& key) {
  auto it = keys_.find(key);
  if (it == keys_.end() || positive_index >= it->second.at.size()) return;
  auto& slot = it->second.at[positive_index];
  if (!slot) return;
  live_.erase(slot->id);
  slot.reset();
  --open_;
  ++stats_.killed_by_missing;
  drop_key_if_empty(key);
}

void SequenceMatcher::on_leading(std::size_t leading_index, const std::string& key, TimestampNs ts) {
  KeyState& ks = keys_[key];
  if (ks.at.empty()) ks.at.resize(positive_terms_.size() > 1 ? positive_terms_.size() - 1 : 0);
  if (ks.leading.size() < leading_count_) ks.leading.resize(leading_count_);
  auto& history = ks.leading[leading_index];
  history.push_back(ts);
  if (program_.maxspan_ns >= 0) {
    const TimestampNs oldest = saturating_sub(now_, program_.maxspan_ns);
    while (!history.empty() && history.front() < oldest) history.pop_front();
  }
  while (history.size() > limits_.max_history_per_key) {
    history.pop_front();
    ++stats_.history_dropped;
  }
}

void SequenceMatcher::on_trailing(std::size_t trailing_index, const std::string& key, TimestampNs ts) {
  auto range = held_by_key_.equal_range(key);
  std::vector<std::uint64_t> rejected;
  std::vector<std::uint64_t> released;
  for (auto it = range.first; it != range.second; ++it) {
    Held& h = held_.at(it->second);
    if (h.trailing_progress != trailing_index || ts <= h.trailing_last) continue;
    h.trailing_progress++;
    h.trailing_last = ts;
    if (h.trailing_progress < trailing_count_) continue;
    // All trailing terms are present; reject if the whole thing fits the span.
    if (program_.maxspan_ns < 0 || saturating_sub(ts, h.span_start) <= program_.maxspan_ns) {
      rejected.push_back(it->second);
    } else {
      released.push_back(it->second);  // the earliest fill is already too late: it can never be rejected
    }
  }
  auto drop = [&](std::uint64_t id, bool keep) {
    auto node = held_.find(id);
    if (keep) emit(std::move(node->second.match));
    auto kr = held_by_key_.equal_range(key);
    for (auto k = kr.first; k != kr.second; ++k) {
      if (k->second == id) {
        held_by_key_.erase(k);
        break;
      }
    }
    held_.erase(node);  // its deadline entry goes stale and is skipped
  };
  for (auto id : rejected) {
    ++stats_.rejected_missing;
    drop(id, false);
  }
  for (auto id : released) drop(id, true);
}

void SequenceMatcher::on_positive(std::size_t j, const std::string& key, const MatcherEventPtr& event) {
  const std::size_t last = positive_terms_.size() - 1;
  if (j == 0) {
    Partial p{next_id_++, {event}, event->timestamp};
    if (last == 0) {
      complete(std::move(p), key);
      return;
    }
    creation_order_.emplace_back(p.id, key);
    live_.emplace(p.id, p.start);
    ++open_;
    store(key, 0, std::move(p));
    return;
  }
  auto it = keys_.find(key);
  if (it == keys_.end()) return;
  auto& prev = it->second.at[j - 1];
  if (!prev) return;
  Partial p = std::move(*prev);
  prev.reset();
  if (program_.maxspan_ns >= 0 && saturating_sub(event->timestamp, p.start) > program_.maxspan_ns) {
    live_.erase(p.id);
    --open_;
    ++stats_.expired;
    drop_key_if_empty(key);
    return;
  }
  p.events.push_back(event);
  if (j == last) {
    live_.erase(p.id);
    --open_;
    complete(std::move(p), key);
    drop_key_if_empty(key);
    return;
  }
  store(key, j, std::move(p));
}

void SequenceMatcher::store(const std::string& key, std::size_t j, Partial&& partial) {
  KeyState& ks = keys_[key];
  if (ks.at.size() < positive_terms_.size() - 1) ks.at.resize(positive_terms_.size() - 1);
  if (ks.at[j]) {
    // Only the latest candidate per stage and key can still win.
    live_.erase(ks.at[j]->id);
    --open_;
  }
  ks.at[j] = std::move(partial);
}

void SequenceMatcher::complete(Partial&& partial, const std::string& key) {
  ++stats_.completed;
  TimestampNs first = partial.events.front()->timestamp;
  TimestampNs last = partial.events.back()->timestamp;
  // Leading missing terms: the latest event of each, in order, before the first positive one.
  bool leading_filled = leading_count_ > 0;
  TimestampNs span_start = first;
  if (leading_count_ > 0) {
    auto it = keys_.find(key);
    TimestampNs bound = first;
    for (std::size_t i = leading_count_; i-- > 0 && leading_filled;) {
      if (it == keys_.end() || it->second.leading.size() <= i) {
        leading_filled = false;
        break;
      }
      const auto& history = it->second.leading[i];
      auto pos = std::lower_bound(history.begin(), history.end(), bound);
      if (pos == history.begin()) {
        leading_filled = false;
        break;
      }
      bound = *std::prev(pos);
    }
    if (leading_filled) span_start = bound;
    if (!leading_filled) {
      emit(build_match(partial.events, key));  // some leading term never occurred: cannot be rejected
      return;
    }
  }
  if (trailing_count_ == 0) {
    const bool within = program_.maxspan_ns < 0 || saturating_sub(last, span_start) <= program_.maxspan_ns;
    if (leading_filled && within) {
      ++stats_.rejected_missing;
      return;
    }
    emit(build_match(partial.events, key));
    return;
  }
  // Trailing terms: hold until they occur (rejected) or cannot occur in time (released).
  std::uint64_t id = next_held_++;
  Held h{build_match(partial.events, key), key, span_start, last, 0, last};
  const TimestampNs deadline = program_.maxspan_ns < 0 ? INT64_MAX : saturating_add(span_start, program_.maxspan_ns);
  held_.emplace(id, std::move(h));
  held_deadlines_.emplace(deadline, id);
  held_by_key_.emplace(key, id);
}

SequenceMatch SequenceMatcher::build_match(const std::vector<MatcherEventPtr>& positives, const std::string& key) const {
  SequenceMatch m;
  m.join_keys = key;
  std::size_t next = 0;
  for (std::size_t t = 0; t < program_.stages.size(); ++t) {
    if (program_.stages[t].missing) {
      m.events.push_back(nullptr);
    } else {
      m.events.push_back(positives[next++]);
    }
  }
  m.first_timestamp = positives.front()->timestamp;
  m.first_ordinal = positives.front()->ordinal;
  m.last_ordinal = positives.back()->ordinal;
  return m;
}

void SequenceMatcher::emit(SequenceMatch&& match) { matches_.push_back(std::move(match)); }

void SequenceMatcher::release_held(TimestampNs now) {
  while (!held_deadlines_.empty() && held_deadlines_.begin()->first < now) {
    std::uint64_t id = held_deadlines_.begin()->second;
    held_deadlines_.erase(held_deadlines_.begin());
    auto node = held_.find(id);
    if (node == held_.end()) continue;  // already rejected or released
    auto kr = held_by_key_.equal_range(node->second.key);
    for (auto k = kr.first; k != kr.second; ++k) {
      if (k->second == id) {
        held_by_key_.erase(k);
        break;
      }
    }
    emit(std::move(node->second.match));
    held_.erase(node);
  }
}

void SequenceMatcher::expire(TimestampNs now) {
  while (!creation_order_.empty()) {
    auto& [id, key] = creation_order_.front();
    auto live = live_.find(id);
    if (live == live_.end()) {
      creation_order_.pop_front();  // stale: advanced, completed or killed
      continue;
    }
    if (program_.maxspan_ns < 0 || live->second >= saturating_sub(now, program_.maxspan_ns)) break;
    // The oldest partial can no longer complete within maxspan.
    auto oldest = std::move(creation_order_.front());
    creation_order_.pop_front();
    drop_oldest(oldest.first, oldest.second);
    ++stats_.expired;
  }
}

void SequenceMatcher::drop_oldest(std::uint64_t id, const std::string& key) {
  auto ks = keys_.find(key);
  if (ks != keys_.end()) {
    for (auto& slot : ks->second.at) {
      if (slot && slot->id == id) {
        slot.reset();
        break;
      }
    }
  }
  live_.erase(id);
  --open_;
  drop_key_if_empty(key);
}

void SequenceMatcher::enforce_cap() {
  while (open_ > limits_.max_open && !creation_order_.empty()) {
    auto [id, key] = creation_order_.front();
    creation_order_.pop_front();
    if (!live_.count(id)) continue;  // stale
    drop_oldest(id, key);
    ++stats_.evicted;
  }
  // Stale queue entries must not outgrow the live set.
  if (creation_order_.size() > 2 * open_ + 4096) {
    std::deque<std::pair<std::uint64_t, std::string>> kept;
    for (auto& entry : creation_order_) {
      if (live_.count(entry.first)) kept.push_back(std::move(entry));
    }
    creation_order_.swap(kept);
  }
}

void SequenceMatcher::drop_key_if_empty(const std::string& key) {
  auto it = keys_.find(key);
  if (it == keys_.end()) return;
  for (const auto& slot : it->second.at) {
    if (slot) return;
  }
  for (const auto& h : it->second.leading) {
    if (!h.empty()) return;
  }
  keys_.erase(it);
}

void SequenceMatcher::advance_time(TimestampNs now) {
  if (now <= now_) return;
  now_ = now;
  expire(now_);
  release_held(now_);
}

void SequenceMatcher::finish() {
  release_held(INT64_MAX);
  // Held entries with an infinite deadline (no maxspan) are released here too.
  for (auto& [id, h] : held_) emit(std::move(h.match));
  held_.clear();
  held_by_key_.clear();
  held_deadlines_.clear();
}

std::vector<SequenceMatch> SequenceMatcher::take_matches() {
  std::vector<SequenceMatch> out;
  out.swap(matches_);
  return out;
}

}  // namespace vigil::eql
