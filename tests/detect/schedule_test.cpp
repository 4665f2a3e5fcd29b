// Elastic schedule emulation: which run alerts on what, max_signals, dedup
// across overlapping windows, and sequences longer than the lookback.
#include "detect/schedule.h"

#include <gtest/gtest.h>

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

TEST(Schedule, SequenceLongerThanTheLookbackIsNeverFound) {
  RuleRunStats stats;
  std::vector<Detection> d = {at(60 * kMinute, 75 * kMinute, 0)};  // spans 15 minutes, lookback 9
  auto alerts = schedule_alerts(d, rule_with(100), stats);
  EXPECT_TRUE(alerts.empty());
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
