// Elastic schedule emulation: which run alerts on what, max_signals, dedup
// across overlapping windows, and sequences longer than the lookback; the
// incremental sweep and suppression groups as streaming drives them.
#include "detect/schedule.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "detect/suppression.h"

using namespace vigil;

namespace {

constexpr std::int64_t kMinute = 60LL * 1000000000LL;

Rule rule_with(int max_signals) {
  Rule r;
  r.interval_ns = 5 * kMinute;
  r.lookback_ns = 9 * kMinute;
  r.max_signals = max_signals;
  return r;
}

Detection at(std::int64_t first_minute_ns, std::int64_t last_minute_ns, std::uint64_t ordinal) {
  Detection d;
  d.first_time = first_minute_ns;
  d.last_time = last_minute_ns;
  d.ordinal = ordinal;
  return d;
}

}  // namespace

TEST(Schedule, EventAlertsAtTheFirstRunThatSeesIt) {
  RuleRunStats stats;
  std::vector<Detection> d = {at(61 * kMinute + 5, 61 * kMinute + 5, 0)};
  auto alerts = schedule_alerts(d, rule_with(100), stats);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].time, 65 * kMinute);  // runs are on 5-minute boundaries
  EXPECT_EQ(stats.alerts, 1u);
}

TEST(Schedule, OverlappingWindowsDoNotAlertTwice) {
  // An event at 62:00 is in the windows of the runs at 65:00 and 70:00 (lookback 9m).
  RuleRunStats stats;
  std::vector<Detection> d = {at(62 * kMinute, 62 * kMinute, 0)};
  auto alerts = schedule_alerts(d, rule_with(100), stats);
  EXPECT_EQ(alerts.size(), 1u);
}

TEST(Schedule, MaxSignalsCapsEachRunAndAlertedResultsKeepTheirPlace) {
  // Five events in one slot, max_signals 2: the run at 65:00 takes the first
  // two; the run at 70:00 finds the same first two again (already alerted,
  // still counted), so the other three are never alerted.
  RuleRunStats stats;
  std::vector<Detection> d;
  for (int i = 0; i < 5; ++i) d.push_back(at(61 * kMinute + i, 61 * kMinute + i, static_cast<std::uint64_t>(i)));
  auto alerts = schedule_alerts(d, rule_with(2), stats);
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[0].detection, 0u);
  EXPECT_EQ(alerts[1].detection, 1u);
  EXPECT_EQ(stats.capped, 3u);
}

TEST(Schedule, LaterRunsPickUpWhatEarlierRunsLeftWhenWindowsShift) {
  // max_signals 1: events at 61:00 and 64:30. Run 65:00 alerts the first;
  // run 70:00 (window 61:00..70:00) sees both, the first takes its one place,
  // so the second is capped — unless it is outside the first's window range.
  RuleRunStats stats;
  std::vector<Detection> d = {at(61 * kMinute, 61 * kMinute, 0), at(64 * kMinute + 30, 64 * kMinute + 30, 1)};
  auto alerts = schedule_alerts(d, rule_with(1), stats);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(stats.capped, 1u);
  // With the second event at 71:00, it is alone in the run at 75:00.
  RuleRunStats stats2;
  std::vector<Detection> d2 = {at(61 * kMinute, 61 * kMinute, 0), at(71 * kMinute, 71 * kMinute, 1)};
  auto alerts2 = schedule_alerts(d2, rule_with(1), stats2);
  ASSERT_EQ(alerts2.size(), 2u);
  EXPECT_EQ(alerts2[1].time, 75 * kMinute);
}

// A run at E sees [E - lookback, E], both ends included.
TEST(Schedule, WindowEdgesAreInclusive) {
  RuleRunStats stats;
  // An event exactly at a run's time alerts at that run.
  auto on_run = schedule_alerts({at(65 * kMinute, 65 * kMinute, 0)}, rule_with(100), stats);
  ASSERT_EQ(on_run.size(), 1u);
  EXPECT_EQ(on_run[0].time, 65 * kMinute);
  // One nanosecond later it waits for the next run.
  auto after = schedule_alerts({at(65 * kMinute + 1, 65 * kMinute + 1, 0)}, rule_with(100), stats);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].time, 70 * kMinute);
  // A sequence spanning exactly the lookback (56:00 to 65:00) fits the run at 65:00.
  auto exact = schedule_alerts({at(56 * kMinute, 65 * kMinute, 0)}, rule_with(100), stats);
  ASSERT_EQ(exact.size(), 1u);
  EXPECT_EQ(exact[0].time, 65 * kMinute);
  // One nanosecond longer fits no run.
  EXPECT_TRUE(schedule_alerts({at(56 * kMinute - 1, 65 * kMinute, 0)}, rule_with(100), stats).empty());
}

TEST(Schedule, SequenceLongerThanTheLookbackIsNeverFound) {
  RuleRunStats stats;
  std::vector<Detection> d = {at(60 * kMinute, 75 * kMinute, 0)};  // spans 15 minutes, lookback 9
  auto alerts = schedule_alerts(d, rule_with(100), stats);
  EXPECT_TRUE(alerts.empty());
  EXPECT_EQ(stats.outside_windows, 1u);
}

TEST(Schedule, TheEndsOfTheTimeRangeHaveRunsUpToTheLastTheyHold) {
  // The last 5-minute run a nanosecond time holds is 2262-04-11T23:45:00Z:
  // a match before it alerts there, one after it is seen by no run; at the
  // first instant of the range the first run after it alerts.
  const std::int64_t last_run = (INT64_MAX / (5 * kMinute)) * (5 * kMinute);
  EXPECT_EQ(first_run_at_or_after(INT64_MAX, 5 * kMinute), INT64_MAX);  // saturated: no run there
  EXPECT_EQ(first_run_at_or_after(last_run - 1, 5 * kMinute), last_run);
  EXPECT_EQ(first_run_at_or_after(INT64_MIN, 5 * kMinute), INT64_MIN / (5 * kMinute) * (5 * kMinute));
  RuleRunStats stats;
  std::vector<Detection> d = {at(last_run - kMinute, last_run - kMinute, 0), at(INT64_MAX, INT64_MAX, 1),
                              at(INT64_MIN, INT64_MIN, 2)};
  auto alerts = schedule_alerts(d, rule_with(100), stats);
  ASSERT_EQ(alerts.size(), 2u);
  std::vector<std::int64_t> times{alerts[0].time, alerts[1].time};
  std::sort(times.begin(), times.end());
  EXPECT_EQ(times[0], first_run_at_or_after(INT64_MIN, 5 * kMinute));
  EXPECT_EQ(times[1], last_run);
  EXPECT_EQ(stats.outside_windows, 1u);
}

TEST(Schedule, WithoutScheduleEveryDetectionAlertsOnce) {
  RuleRunStats stats;
  std::vector<Detection> d = {at(1, 1, 0), at(2, 2, 1), at(3, 3, 2)};
  auto alerts = unscheduled_alerts(d, stats);
  EXPECT_EQ(alerts.size(), 3u);
  EXPECT_EQ(alerts[2].time, 3);
}

TEST(Schedule, TimestampOverrideMovesTheEventToItsIngestTime) {
  // @timestamp 61:00 but ingested at 81:00: Elastic's run at 85:00 finds it.
  RuleRunStats stats;
  std::vector<Detection> d = {at(61 * kMinute, 61 * kMinute, 0)};
  d[0].window_time = 81 * kMinute;
  auto alerts = schedule_alerts(d, rule_with(100), stats);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].time, 85 * kMinute);
}

// The incremental sweep, as `vigil run --schedule elastic` drives it: each
// detection added once the watermark has passed its last event, runs
// performed up to the watermark after every step. The alerts must be those of
// the whole-input sweep.
TEST(ScheduleSweep, StepwiseAdvanceEqualsTheWholeInput) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 50; ++round) {
    std::vector<Detection> d;
    const int n = 1 + static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) {
      const std::int64_t first = static_cast<std::int64_t>(rng() % (120 * kMinute));
      const std::int64_t span = rng() % 4 == 0 ? static_cast<std::int64_t>(rng() % (12 * kMinute)) : 0;
      d.push_back(at(first, first + span, static_cast<std::uint64_t>(i)));
    }
    std::stable_sort(d.begin(), d.end(), [](const Detection& a, const Detection& b) { return a.first_time < b.first_time; });
    const Rule rule = rule_with(1 + static_cast<int>(rng() % 3));
    RuleRunStats whole_stats;
    auto whole = schedule_alerts(d, rule, whole_stats);

    ScheduleSweep sweep(rule.interval_ns, rule.lookback_ns, rule.max_signals);
    std::vector<ScheduledAlert> stepwise;
    std::vector<bool> added(d.size(), false);
    std::uint64_t capped = 0;
    auto alert = [&](std::uint64_t h, TimestampNs t) { stepwise.push_back({h, t}); };
    auto retire = [&](std::uint64_t, bool alerted) { capped += !alerted; };
    for (std::int64_t w = 0; w <= 140 * kMinute; w += static_cast<std::int64_t>(1 + rng() % (3 * kMinute))) {
      for (std::size_t i = 0; i < d.size(); ++i) {
        if (!added[i] && d[i].last_time <= w) {
          added[i] = true;
          EXPECT_NE(sweep.add(i, d[i]), ScheduleSweep::Added::Late);
        }
      }
      sweep.advance(w, alert, retire);
    }
    for (std::size_t i = 0; i < d.size(); ++i) {
      if (!added[i]) sweep.add(i, d[i]);
    }
    sweep.advance(INT64_MAX, alert, retire);
    std::sort(stepwise.begin(), stepwise.end(), [](const auto& a, const auto& b) { return a.detection < b.detection; });
    std::sort(whole.begin(), whole.end(), [](const auto& a, const auto& b) { return a.detection < b.detection; });
    ASSERT_EQ(stepwise.size(), whole.size()) << "round " << round;
    for (std::size_t i = 0; i < whole.size(); ++i) {
      EXPECT_EQ(stepwise[i].detection, whole[i].detection);
      EXPECT_EQ(stepwise[i].time, whole[i].time);
    }
    EXPECT_EQ(capped, whole_stats.capped);
  }
}

// max_signals 1: A (56:00) is seen by the runs at 60:00 and 65:00, B (61:00)
// by those at 65:00 and 70:00. A alerts at 60:00 and still takes the one
// place at 65:00; it leaves after that run, so B alerts at 70:00.
TEST(ScheduleSweep, ADetectionLeavesAfterItsLastRunAndFreesItsPlace) {
  auto check = [](const std::vector<ScheduledAlert>& alerts) {
    ASSERT_EQ(alerts.size(), 2u);
    EXPECT_EQ(alerts[0].detection, 0u);
    EXPECT_EQ(alerts[0].time, 60 * kMinute);
    EXPECT_EQ(alerts[1].detection, 1u);
    EXPECT_EQ(alerts[1].time, 70 * kMinute);
  };
  const std::vector<Detection> d = {at(56 * kMinute, 56 * kMinute, 0), at(61 * kMinute, 61 * kMinute, 1)};
  RuleRunStats stats;
  check(schedule_alerts(d, rule_with(1), stats));
  EXPECT_EQ(stats.capped, 0u);

  ScheduleSweep sweep(5 * kMinute, 9 * kMinute, 1);
  std::vector<ScheduledAlert> alerts;
  std::vector<std::pair<std::uint64_t, bool>> retired;
  auto alert = [&](std::uint64_t h, TimestampNs t) { alerts.push_back({h, t}); };
  auto retire = [&](std::uint64_t h, bool alerted) { retired.emplace_back(h, alerted); };
  sweep.add(0, d[0]);
  sweep.add(1, d[1]);
  sweep.advance(60 * kMinute, alert, retire);
  EXPECT_TRUE(retired.empty());  // A is still in the window of the run at 65:00
  sweep.advance(65 * kMinute, alert, retire);
  EXPECT_EQ(retired, (std::vector<std::pair<std::uint64_t, bool>>{{0, true}}));
  sweep.advance(70 * kMinute, alert, retire);
  EXPECT_EQ(retired, (std::vector<std::pair<std::uint64_t, bool>>{{0, true}, {1, true}}));
  check(alerts);
}

TEST(ScheduleSweep, RunsUpToAndIncludingTheGivenTime) {
  ScheduleSweep sweep(5 * kMinute, 9 * kMinute, 100);
  ASSERT_EQ(sweep.add(0, at(61 * kMinute, 61 * kMinute, 0)), ScheduleSweep::Added::Scheduled);
  std::vector<TimestampNs> runs;
  auto alert = [&](std::uint64_t, TimestampNs t) { runs.push_back(t); };
  auto retire = [](std::uint64_t, bool) {};
  sweep.advance(65 * kMinute - 1, alert, retire);
  EXPECT_TRUE(runs.empty());  // the run at 65:00 has not happened yet
  sweep.advance(65 * kMinute, alert, retire);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0], 65 * kMinute);
}

TEST(ScheduleSweep, ADetectionAfterEveryRunThatCouldSeeItIsLate) {
  ScheduleSweep sweep(5 * kMinute, 9 * kMinute, 100);
  sweep.add(0, at(100 * kMinute, 100 * kMinute, 0));
  sweep.advance(100 * kMinute, [](std::uint64_t, TimestampNs) {}, [](std::uint64_t, bool) {});
  // 61:00 is seen by the runs at 65:00 and 70:00; the sweep is past 100:00.
  EXPECT_EQ(sweep.add(1, at(61 * kMinute, 61 * kMinute, 1)), ScheduleSweep::Added::Late);
  // 96:00 is still in the window of the run at 105:00 (96:00..105:00).
  EXPECT_EQ(sweep.add(2, at(96 * kMinute, 96 * kMinute, 2)), ScheduleSweep::Added::Scheduled);
}

// A suppression group with a duration closes once nothing created later can
// fold into it: exactly when creation has reached its time + duration.
TEST(Suppressor, AGroupClosesWhenCreationReachesItsEnd) {
  Rule rule = rule_with(100);
  rule.alert_suppression = AlertSuppression{{"host.name"}, 10 * kMinute, "suppress"};
  Suppressor s(rule);
  RuleRunStats stats;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> closed;  // (handle, docs_count)
  auto close = [&](std::uint64_t h, Suppression sup) { closed.emplace_back(h, sup.docs_count); };
  auto detection = [](std::int64_t t) {
    Detection d = at(t, t, 0);
    d.events = {R"({"host":{"name":"pc1"}})"};
    return d;
  };
  std::optional<Suppression> alone;
  EXPECT_EQ(s.add(0, detection(60 * kMinute), 60 * kMinute, alone, stats, close), Suppressor::Outcome::Opened);
  EXPECT_EQ(s.add(1, detection(70 * kMinute), 70 * kMinute, alone, stats, close), Suppressor::Outcome::Folded);
  s.close(70 * kMinute - 1, close);
  EXPECT_TRUE(closed.empty());  // an alert at 70:00 could still fold into it
  s.close(70 * kMinute, close);
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0], (std::pair<std::uint64_t, std::uint64_t>{0, 1}));
  EXPECT_EQ(stats.suppressed, 1u);
}

// A detection exactly `duration` after the group opened still folds into it;
// one nanosecond later opens a new group.
TEST(Suppressor, DurationBoundaryIsInclusive) {
  Rule rule = rule_with(100);
  rule.alert_suppression = AlertSuppression{{"host.name"}, 10 * kMinute, "suppress"};
  auto detection = [](std::int64_t t) {
    Detection d = at(t, t, 0);
    d.events = {R"({"host":{"name":"pc1"}})"};
    return d;
  };
  for (auto [offset, outcome] : {std::pair<std::int64_t, Suppressor::Outcome>{10 * kMinute, Suppressor::Outcome::Folded},
                                 {10 * kMinute + 1, Suppressor::Outcome::Opened}}) {
    Suppressor s(rule);
    RuleRunStats stats;
    auto close = [](std::uint64_t, Suppression) {};
    std::optional<Suppression> alone;
    ASSERT_EQ(s.add(0, detection(60 * kMinute), 60 * kMinute, alone, stats, close), Suppressor::Outcome::Opened);
    EXPECT_EQ(s.add(1, detection(60 * kMinute + offset), 60 * kMinute + offset, alone, stats, close), outcome)
        << "offset " << offset << " ns";
  }
}

// missing_fields_strategy: "doNotSuppress" leaves every alert missing a
// group_by field alone, and only those; "suppress" (the default) groups them.
TEST(Suppressor, MissingFieldsStrategy) {
  auto detection = [](std::int64_t t, const char* doc) {
    Detection d = at(t, t, 0);
    d.events = {doc};
    return d;
  };
  const char* without_host = R"({"user":{"name":"a"}})";
  const char* with_host = R"({"host":{"name":"pc1"}})";
  for (const char* strategy : {"doNotSuppress", "suppress"}) {
    Rule rule = rule_with(100);
    rule.alert_suppression = AlertSuppression{{"host.name"}, 10 * kMinute, strategy};
    Suppressor s(rule);
    RuleRunStats stats;
    auto close = [](std::uint64_t, Suppression) {};
    std::optional<Suppression> alone;
    const bool apart = std::string(strategy) == "doNotSuppress";
    EXPECT_EQ(s.add(0, detection(60 * kMinute, without_host), 60 * kMinute, alone, stats, close),
              apart ? Suppressor::Outcome::Alone : Suppressor::Outcome::Opened) << strategy;
    EXPECT_EQ(s.add(1, detection(61 * kMinute, without_host), 61 * kMinute, alone, stats, close),
              apart ? Suppressor::Outcome::Alone : Suppressor::Outcome::Folded) << strategy;
    // An alert that has the field is grouped whatever the strategy.
    EXPECT_EQ(s.add(2, detection(62 * kMinute, with_host), 62 * kMinute, alone, stats, close),
              Suppressor::Outcome::Opened) << strategy;
    EXPECT_EQ(s.add(3, detection(63 * kMinute, with_host), 63 * kMinute, alone, stats, close),
              Suppressor::Outcome::Folded) << strategy;
  }
}

// group_by fields are found however they are nested, down to the walk's cap
// (16 levels below the top, against hostile documents): a field 17 components
// long still groups by its value.
TEST(Suppressor, DeeplyNestedGroupByFieldsAreFound) {
  std::string path, open, close;
  for (int i = 0; i < 17; ++i) {
    std::string name(1, static_cast<char>('a' + i));
    path += (i ? "." : "") + name;
    if (i < 16) {
      open += "{\"" + name + "\":";
      close += "}";
    }
  }
  auto doc = [&](const char* value) { return open + "{\"q\":\"" + value + "\"}" + close; };
  path.back() = 'q';
  Rule rule = rule_with(100);
  rule.alert_suppression = AlertSuppression{{path}, 10 * kMinute, "suppress"};
  Suppressor s(rule);
  RuleRunStats stats;
  auto close_fn = [](std::uint64_t, Suppression) {};
  std::optional<Suppression> alone;
  auto detection = [&](std::int64_t t, const char* value) {
    Detection d = at(t, t, 0);
    d.events = {doc(value)};
    return d;
  };
  EXPECT_EQ(s.add(0, detection(60 * kMinute, "x"), 60 * kMinute, alone, stats, close_fn), Suppressor::Outcome::Opened);
  EXPECT_EQ(s.add(1, detection(61 * kMinute, "y"), 61 * kMinute, alone, stats, close_fn), Suppressor::Outcome::Opened);
  EXPECT_EQ(s.add(2, detection(62 * kMinute, "x"), 62 * kMinute, alone, stats, close_fn), Suppressor::Outcome::Folded);
}
