// NewTermsRunner implementation.
#include "detect/new_terms.h"

#include <algorithm>

namespace vigil {
namespace {


// The last run whose window [E - lookback, E] holds t: its history range
// [E - history, t) is the shortest of all runs that see t.
std::int64_t last_run_seeing(TimestampNs t, std::int64_t interval, std::int64_t lookback) {
  return saturating_mul(floor_div(saturating_add(t, lookback), interval), interval);
}

}  // namespace

NewTermsRunner::NewTermsRunner(std::int64_t interval_ns, std::int64_t lookback_ns, std::int64_t history_ns,
                               const RaritySpec& spec, std::size_t max_terms, BaselineStore* baseline)
    : interval_(std::max<std::int64_t>(interval_ns, 1)), lookback_(std::max(lookback_ns, interval_)),
      history_(history_ns), spec_(spec),
      max_terms_(std::max<std::size_t>(max_terms, 16)), baseline_(baseline) {
  if (baseline_) baseline_spec_ = baseline_->find_spec(spec_.id);
}

bool NewTermsRunner::seen_in_history(const Term& term, TimestampNs t) const {
  const TimestampNs from = saturating_sub(last_run_seeing(t, interval_, lookback_), history_);
  auto it = std::lower_bound(term.times.begin(), term.times.end(), from);
  return it != term.times.end() && *it < t;
}

void NewTermsRunner::insert_time(Term& term, TimestampNs t) {
  auto& v = term.times;
  auto it = std::lower_bound(v.begin(), v.end(), t);
  if (it != v.end() && *it == t) return;
  std::size_t k = static_cast<std::size_t>(it - v.begin());
  v.insert(it, t);
  // Thin: drop a time whose neighbours are closer than the shortest history
  // range (history - lookback).
  const std::int64_t span = saturating_sub(history_, lookback_);
  auto redundant = [&](std::size_t i) {
    return i > 0 && i + 1 < v.size() && saturating_sub(v[i + 1], v[i - 1]) < span;
  };
  for (std::size_t i : {k + 1, k, k == 0 ? std::size_t{0} : k - 1}) {
    if (i < v.size() && redundant(i)) v.erase(v.begin() + static_cast<std::ptrdiff_t>(i));
  }
}

void NewTermsRunner::add(const Event& event, TimestampNs t, std::uint64_t ordinal,
                         const std::function<Detection()>& make) {
  // The event matched the rule's query, which is the spec's population.
  if (!terms_of_member(spec_, event, FieldId(~0u), scratch_)) return;
  std::optional<Detection> rendered;
  for (const auto& key : scratch_.terms) {
    auto [it, inserted] = terms_.try_emplace(key);
    Term& term = it->second;
    if (inserted && baseline_spec_ && baseline_->lookup(*baseline_spec_, "", key)) {
      term.in_baseline = true;
      ++known_in_baseline_;
    }
    term.last = std::max(term.last, t);
    if (!term.in_baseline && !seen_in_history(term, t)) {
      auto at = term.pending.find(t);
      if (at == term.pending.end() || at->second.ordinal > ordinal) {
        if (!rendered) rendered = make();
        Detection d = *rendered;
        d.new_terms.clear();
        std::size_t start = 0;
        for (std::size_t sep; (sep = key.find('\x1f', start)) != std::string::npos; start = sep + 1) {
          d.new_terms.push_back(key.substr(start, sep - start));
        }
        d.new_terms.push_back(key.substr(start));
        if (at == term.pending.end()) pending_index_.emplace(t, key);
        term.pending[t] = Candidate{ordinal, std::move(d)};
      }
    }
    insert_time(term, t);
    // This occurrence is in the history range of later pending ones?
    for (auto p = term.pending.upper_bound(t); p != term.pending.end();) {
      if (saturating_sub(last_run_seeing(p->first, interval_, lookback_), history_) <= t) {
        p = term.pending.erase(p);
      } else {
        break;  // later ones start their history range even later
      }
    }
  }
  if (terms_.size() > max_terms_) make_room();
}

void NewTermsRunner::make_room() {
  std::vector<std::string> victims = least_recent_tenth(terms_, [](const Term& t) { return t.last; });
  for (const auto& k : victims) {
    auto it = terms_.find(k);
    for (auto& [t, c] : it->second.pending) evicted_candidates_.push_back(std::move(c.detection));
    terms_.erase(it);
  }
  evicted_ += victims.size();
}

std::vector<Detection> NewTermsRunner::release(TimestampNs watermark) {
  std::vector<Detection> out = std::move(evicted_candidates_);
  evicted_candidates_.clear();
  while (!pending_index_.empty() && pending_index_.begin()->first <= watermark) {
    auto node = pending_index_.extract(pending_index_.begin());
    auto term = terms_.find(node.mapped());
    if (term == terms_.end()) continue;  // evicted (its candidates went out then)
    auto at = term->second.pending.find(node.key());
    if (at == term->second.pending.end()) continue;  // ruled out by an earlier occurrence
    out.push_back(std::move(at->second.detection));
    term->second.pending.erase(at);
  }
  // An occurrence at t >= watermark looks back to at least
  // watermark + lookback - interval - history: older times can go, and so
  // can a term with nothing left (seen again, it is looked up as new). Done
  // once per interval of event time: it walks every term.
  if (watermark != INT64_MIN && watermark != INT64_MAX &&
      (pruned_at_ == INT64_MIN || saturating_sub(watermark, pruned_at_) >= interval_)) {
    pruned_at_ = watermark;
    // (lookback_ >= interval_: their difference cannot overflow)
    const TimestampNs horizon = saturating_sub(saturating_add(watermark, lookback_ - interval_), history_);
    for (auto it = terms_.begin(); it != terms_.end();) {
      auto& times = it->second.times;
      times.erase(times.begin(), std::lower_bound(times.begin(), times.end(), horizon));
      if (times.empty() && it->second.pending.empty() && !it->second.in_baseline) {
        it = terms_.erase(it);
      } else {
        ++it;
      }
    }
  }
  return out;
}

std::vector<Detection> NewTermsRunner::finish() {
  std::vector<Detection> out = std::move(evicted_candidates_);
  for (auto& [key, term] : terms_) {
    for (auto& [t, c] : term.pending) out.push_back(std::move(c.detection));
  }
  terms_.clear();
  pending_index_.clear();
  return out;
}

void NewTermsRunner::save(Encoder& out) const {
  out(terms_);
  out(pending_index_);
  out(evicted_candidates_);
  out(pruned_at_);
  out(evicted_);
  out(known_in_baseline_);
}

void NewTermsRunner::load(Decoder& in) {
  in(terms_);
  in(pending_index_);
  in(evicted_candidates_);
  in(pruned_at_);
  in(evicted_);
  in(known_in_baseline_);
}

}  // namespace vigil
