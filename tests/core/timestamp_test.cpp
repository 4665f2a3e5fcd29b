// Timestamp parsing: ISO-8601 forms seen in ECS/winlogbeat data, epoch millis.
#include "core/timestamp.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <ctime>

using namespace vigil;

TEST(Timestamp, IsoWithFractionAndZ) {
  auto t = parse_iso8601("2020-10-12T13:45:12.123456789Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(*t, 1602510312123456789LL);
}

TEST(Timestamp, IsoWithOffsetIsNormalisedToUtc) {
  auto utc = parse_iso8601("2021-03-04T10:00:00Z");
  auto plus = parse_iso8601("2021-03-04T12:00:00+02:00");
  auto minus = parse_iso8601("2021-03-04T05:30:00-0430");
  ASSERT_TRUE(utc && plus && minus);
  EXPECT_EQ(*utc, *plus);
  EXPECT_EQ(*utc, *minus);
}

TEST(Timestamp, SpaceSeparatorAndDateOnly) {
  EXPECT_EQ(*parse_iso8601("1970-01-02 00:00:00"), 86400LL * 1000000000LL);
  EXPECT_EQ(*parse_iso8601("1970-01-02"), 86400LL * 1000000000LL);
}

TEST(Timestamp, RejectsGarbage) {
  EXPECT_FALSE(parse_iso8601("2020-13-01T00:00:00Z"));
  EXPECT_FALSE(parse_iso8601("2020-01-01T25:00:00Z"));
  EXPECT_FALSE(parse_iso8601("yesterday"));
  EXPECT_FALSE(parse_iso8601("2020-01-01T00:00:00Zjunk"));
  EXPECT_FALSE(parse_iso8601(""));
  EXPECT_FALSE(parse_iso8601("6022-01-01T00:00:00Z"));  // beyond int64 nanoseconds: rejected, no overflow
}

TEST(Timestamp, EpochMillisAsText) {
  EXPECT_EQ(*parse_timestamp_text("1602510312123"), 1602510312123LL * 1000000LL);
  EXPECT_EQ(*parse_timestamp_text("100"), 100LL * 1000000LL);
}

TEST(Timestamp, EpochMillisBeyondNanosecondsAreNoTime) {
  // 2262-04-11T23:47:16.854Z is the last millisecond int64 nanoseconds hold.
  EXPECT_EQ(*parse_timestamp_text("9223372036854"), 9223372036854LL * 1000000LL);
  EXPECT_EQ(*parse_timestamp_text("-9223372036854"), -9223372036854LL * 1000000LL);
  EXPECT_FALSE(parse_timestamp_text("9223372036855"));
  EXPECT_FALSE(parse_timestamp_text("6666666666666666"));  // found by fuzz/fuzz_ndjson: overflowed
  EXPECT_FALSE(parse_timestamp_text("-6666666666666666"));
  EXPECT_EQ(*from_epoch_millis(std::int64_t{1602510312123}), 1602510312123000000LL);
  EXPECT_FALSE(from_epoch_millis(std::int64_t{9223372036855}));
  EXPECT_FALSE(from_epoch_millis(INT64_MIN));
  EXPECT_EQ(*from_epoch_millis(1602510312123.5), 1602510312123500000LL);
  EXPECT_FALSE(from_epoch_millis(6.6e15));
  EXPECT_FALSE(from_epoch_millis(1e300));
  EXPECT_FALSE(from_epoch_millis(std::nan("")));
}

TEST(Timestamp, FiletimeConversion) {
  EXPECT_EQ(from_filetime(116444736000000000LL), 0);
  EXPECT_EQ(from_filetime(131485996510000000LL), 1504126051000000000LL);
  // Ticks beyond what nanoseconds hold saturate instead of overflowing.
  EXPECT_EQ(from_filetime(INT64_MAX), INT64_MAX);
  EXPECT_EQ(from_filetime(INT64_MIN), INT64_MIN);
}

TEST(Timestamp, FormatRoundTrips) {
  EXPECT_EQ(format_timestamp(*parse_iso8601("2020-10-12T13:45:12.123Z")), "2020-10-12T13:45:12.123Z");
  EXPECT_EQ(format_timestamp(*parse_iso8601("1969-12-31T23:59:59.5Z")), "1969-12-31T23:59:59.500Z");
}

// The ends of what nanoseconds in int64 hold: the first and last instants
// parse and format back (no overflow on the way, which UBSan checks), one
// second past either end is not a time.
TEST(Timestamp, TheEndsOfTheRangeRoundTripAndPastThemIsNoTime) {
  EXPECT_EQ(format_timestamp(INT64_MIN), "1677-09-21T00:12:43.145224192Z");
  EXPECT_EQ(format_timestamp(INT64_MAX), "2262-04-11T23:47:16.854775807Z");
  EXPECT_EQ(parse_iso8601("1677-09-21T00:12:43.145224192Z"), INT64_MIN);
  EXPECT_EQ(parse_iso8601("2262-04-11T23:47:16.854775807Z"), INT64_MAX);
  EXPECT_EQ(format_timestamp(*parse_iso8601("1677-09-21 00:12:44")), "1677-09-21T00:12:44.000Z");
  EXPECT_EQ(format_timestamp(*parse_iso8601("2262-04-11 23:47:16")), "2262-04-11T23:47:16.000Z");
  EXPECT_FALSE(parse_iso8601("1677-09-21T00:12:42Z"));
  EXPECT_FALSE(parse_iso8601("2262-04-11T23:47:17Z"));
  EXPECT_FALSE(parse_iso8601("2262-04-11T23:47:16.854775808Z"));
}

// Window arithmetic at the ends of the range saturates instead of wrapping
// around (a wrapped window edge joined events centuries apart and made a
// threshold rule's runs loop forever).
TEST(Timestamp, SaturatingArithmeticStopsAtTheEndsOfTheRange) {
  constexpr std::int64_t kFiveMinutes = 300'000'000'000;
  EXPECT_EQ(saturating_add(INT64_MAX - 5, 10), INT64_MAX);
  EXPECT_EQ(saturating_add(INT64_MIN + 5, -10), INT64_MIN);
  EXPECT_EQ(saturating_add(100, -10), 90);
  EXPECT_EQ(saturating_sub(INT64_MIN + 5, 10), INT64_MIN);
  EXPECT_EQ(saturating_sub(INT64_MAX, INT64_MIN), INT64_MAX);  // 585 years apart: longer than any window
  EXPECT_EQ(saturating_sub(INT64_MIN, INT64_MAX), INT64_MIN);
  EXPECT_EQ(saturating_sub(100, 10), 90);
  EXPECT_EQ(saturating_mul(INT64_MAX / 2 + 1, 2), INT64_MAX);
  EXPECT_EQ(saturating_mul(INT64_MIN / 2 - 1, 2), INT64_MIN);
  EXPECT_EQ(saturating_mul(-7, 3), -21);
  EXPECT_EQ(ceil_div(INT64_MIN, kFiveMinutes), INT64_MIN / kFiveMinutes);  // no negation of INT64_MIN
  EXPECT_EQ(ceil_div(7, 2), 4);
  EXPECT_EQ(ceil_div(-7, 2), -3);
  EXPECT_EQ(ceil_div(8, 2), 4);
  EXPECT_EQ(floor_div(-7, 2), -4);
}

// civil_time against the C library's gmtime_r/strftime (%V: the ISO 8601
// week) on every day from 1900 to 2100 and at a few times of day.
TEST(Timestamp, CivilTimeMatchesTheCLibrary) {
  constexpr std::int64_t kDay = 86'400;
  for (std::int64_t day = -25'567; day <= 47'482; ++day) {
    for (std::int64_t secs : {std::int64_t{0}, std::int64_t{3'661}, kDay - 1}) {
      const std::time_t t = static_cast<std::time_t>(day * kDay + secs);
      std::tm tm{};
      ASSERT_NE(gmtime_r(&t, &tm), nullptr);
      char week[8];
      std::strftime(week, sizeof(week), "%V", &tm);
      const CivilTime c = civil_time(static_cast<TimestampNs>(t) * 1'000'000'000 + 123);
      ASSERT_EQ(c.year, tm.tm_year + 1900) << t;
      ASSERT_EQ(c.month, static_cast<unsigned>(tm.tm_mon + 1)) << t;
      ASSERT_EQ(c.day, static_cast<unsigned>(tm.tm_mday)) << t;
      ASSERT_EQ(c.hour, static_cast<unsigned>(tm.tm_hour)) << t;
      ASSERT_EQ(c.minute, static_cast<unsigned>(tm.tm_min)) << t;
      ASSERT_EQ(c.second, static_cast<unsigned>(tm.tm_sec)) << t;
      ASSERT_EQ(c.iso_week, static_cast<unsigned>(std::atoi(week))) << t;
    }
  }
  // Before the epoch, a fraction of a second still belongs to the second it is in.
  const CivilTime c = civil_time(-1);  // 1969-12-31T23:59:59.999999999Z
  EXPECT_EQ(c.year, 1969);
  EXPECT_EQ(c.hour, 23u);
  EXPECT_EQ(c.second, 59u);
}
