// Alerter implementation: per rule, a schedule sweep (Schedule timing), a
// suppressor, and the detections they name by handle.
#include "detect/alerter.h"

#include <set>
#include <tuple>

namespace vigil {

struct Alerter::RuleState {
  RuleState(const Rule& rule, const AlerterOptions& options, std::int64_t hold, DetectionSpill& spill)
      : suppressor(rule), hold_ns(hold), waiting(spill) {
    if (options.timing == AlertTiming::Schedule && rule.scheduled) {
      sweep.emplace(rule.interval_ns, rule.lookback_ns, rule.max_signals);
    }
  }
  std::optional<ScheduleSweep> sweep;
  Suppressor suppressor;
  // Schedule timing: a sequence with trailing missing terms completes only
  // once maxspan has passed its last event; runs wait that long for it.
  std::int64_t hold_ns = 0;
  // Detections waiting for a run (Schedule) or for the next advance (Immediate).
  HeldDetections waiting;
  // Immediate timing: the waiting detections in the order they become alerts.
  std::set<std::tuple<TimestampNs, std::uint64_t, std::uint64_t>> immediate;  // first time, ordinal, handle
  struct Kept {
    Detection detection;
    TimestampNs time;
    friend auto members(Unqualified<Kept> auto& k) { return std::tie(k.detection, k.time); }
  };
  std::unordered_map<std::uint64_t, Kept> grouped;  // alerts whose suppression group is open
  const AlertOut* out = nullptr;                    // during advance()
  std::uint64_t next_handle = 0;
  RuleRunStats stats;  // alerts, outside_windows, capped, suppressed, late, dropped

  void emit(ReadyAlert alert) {
    ++stats.alerts;
    (*out)(alert);
  }
  // An alert created at `time`: through suppression out (or held).
  void create(std::size_t rule, Detection d, TimestampNs time) {
    const std::uint64_t handle = next_handle++;
    std::optional<Suppression> alone;
    auto close = [&](std::uint64_t h, Suppression s) { close_group(rule, h, std::move(s)); };
    switch (suppressor.add(handle, d, time, alone, stats, close)) {
      case Suppressor::Outcome::Alone:
        emit({rule, std::move(d), time, std::move(alone)});
        break;
      case Suppressor::Outcome::Folded:
        break;
      case Suppressor::Outcome::Opened:
        grouped.emplace(handle, Kept{std::move(d), time});
        break;
    }
  }
  void close_group(std::size_t rule, std::uint64_t handle, Suppression s) {
    auto it = grouped.find(handle);
    if (it == grouped.end()) return;
    Kept kept = std::move(it->second);
    grouped.erase(it);
    emit({rule, std::move(kept.detection), kept.time, std::move(s)});
  }
};

Alerter::Alerter(const RuleSet& rules, AlerterOptions options)
    : rules_(rules), options_(options), spill_(options.spill_bytes) {
  for (const CompiledRule& c : rules.compiled) {
    std::int64_t hold = 0;
    const eql::SequenceProgram* seq = c.query.kind == eql::Query::Kind::Sequence ? c.query.sequence.get() : nullptr;
    if (seq && !seq->stages.empty() && seq->stages.back().missing && seq->maxspan_ns > 0) hold = seq->maxspan_ns;
    state_.push_back(std::make_unique<RuleState>(*c.rule, options_, hold, spill_));
  }
}

Alerter::~Alerter() = default;

void Alerter::add(std::vector<std::vector<Detection>> detections) {
  for (std::size_t r = 0; r < detections.size() && r < state_.size(); ++r) {
    RuleState& st = *state_[r];
    for (Detection& d : detections[r]) {
      if (st.waiting.size() >= options_.max_held_per_rule) {
        ++st.stats.dropped;
        continue;
      }
      const std::uint64_t handle = st.next_handle++;
      if (!st.sweep) {
        st.immediate.emplace(d.first_time, d.ordinal, handle);
        st.waiting.put(handle, std::move(d));
        continue;
      }
      switch (st.sweep->add(handle, d)) {
        case ScheduleSweep::Added::Scheduled:
          st.waiting.put(handle, std::move(d));
          break;
        case ScheduleSweep::Added::OutsideWindows:
          ++st.stats.outside_windows;
          break;
        case ScheduleSweep::Added::Late:
          ++st.stats.late;
          break;
      }
    }
  }
}

void Alerter::advance(TimestampNs watermark, const AlertOut& out) {
  for (std::size_t r = 0; r < state_.size(); ++r) {
    RuleState& st = *state_[r];
    st.out = &out;
    auto close = [&](std::uint64_t h, Suppression s) { st.close_group(r, h, std::move(s)); };
    if (!st.sweep) {
      for (const auto& [first_time, ordinal, handle] : st.immediate) {
        std::optional<Detection> d = st.waiting.take(handle);
        if (!d) continue;
        const TimestampNs time = d->last_time;
        st.create(r, std::move(*d), time);
      }
      st.immediate.clear();
      st.suppressor.close(watermark, close);
    } else {
      const TimestampNs until = watermark == INT64_MAX ? INT64_MAX : saturating_sub(watermark, st.hold_ns);
      st.sweep->advance(
          until,
          [&](std::uint64_t handle, TimestampNs run) {
            std::optional<Detection> d = st.waiting.take(handle);
            if (d) st.create(r, std::move(*d), run);
          },
          [&](std::uint64_t handle, bool alerted) {
            if (!alerted) ++st.stats.capped;
            st.waiting.erase(handle);
          });
      // Every run up to the last one performed has created its alerts.
      if (st.sweep->next_run() != INT64_MIN) {
        const std::int64_t interval = std::max<std::int64_t>(rules_.compiled[r].rule->interval_ns, 1);
        const TimestampNs created_until =
            watermark == INT64_MAX ? INT64_MAX : saturating_mul(st.sweep->next_run() - 1, interval);
        st.suppressor.close(created_until, close);
      }
    }
    st.out = nullptr;
  }
}

void Alerter::count(std::vector<RuleRunStats>& stats) const {
  for (std::size_t r = 0; r < state_.size() && r < stats.size(); ++r) {
    const RuleRunStats& s = state_[r]->stats;
    stats[r].alerts += s.alerts;
    stats[r].outside_windows += s.outside_windows;
    stats[r].capped += s.capped;
    stats[r].suppressed += s.suppressed;
    stats[r].late += s.late;
    stats[r].dropped += s.dropped;
  }
}

void Alerter::save(Encoder& out) const {
  out.varint(state_.size());
  for (const auto& st : state_) {
    out(st->next_handle);
    out(st->stats);
    st->waiting.save(out);
    out(st->grouped);
    out(st->suppressor.groups());
    out(st->suppressor.next_opened());
    const bool sweep = st->sweep.has_value();
    out(sweep);
    if (sweep) {
      out(st->sweep->next_run());
      out(st->sweep->next_seq());
      out(st->sweep->entries());
    }
  }
}

void Alerter::load(Decoder& in) {
  if (in.varint() != state_.size()) return in.fail();
  for (const auto& st : state_) {
    in(st->next_handle);
    in(st->stats);
    st->waiting.load(in);
    st->immediate.clear();
    if (!st->sweep) {
      st->waiting.for_each_handle([&](std::uint64_t handle) {
        const Detection d = st->waiting.peek(handle);
        st->immediate.emplace(d.first_time, d.ordinal, handle);
      });
    }
    in(st->grouped);
    std::map<std::string, Suppressor::Group> groups;
    std::uint64_t next_opened = 0;
    in(groups);
    in(next_opened);
    st->suppressor.restore(std::move(groups), next_opened);
    bool sweep = false;
    in(sweep);
    if (sweep != st->sweep.has_value()) return in.fail();
    if (sweep) {
      std::int64_t next_run = 0;
      std::uint64_t next_seq = 0;
      std::vector<std::pair<std::int64_t, ScheduleSweep::Entry>> entries;
      in(next_run);
      in(next_seq);
      in(entries);
      st->sweep->restore(next_run, next_seq, entries);
    }
  }
}

}  // namespace vigil
