// Timestamps: nanoseconds since the Unix epoch, parsed from what
// `@timestamp` holds in practice (ISO-8601 with fraction and offset, or
// epoch milliseconds as a number or numeric string, as Elasticsearch's
// default date format accepts).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigil {

using TimestampNs = std::int64_t;

// a / b rounded towards negative infinity (time before the epoch is negative).
constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}
// a / b rounded towards positive infinity.
constexpr std::int64_t ceil_div(std::int64_t a, std::int64_t b) {
  return a / b + ((a % b != 0) && ((a < 0) == (b < 0)));
}

// Time arithmetic saturated at the ends of the range (1677-09-21 and
// 2262-04-11) instead of overflowing: event times come from the logs, which
// an attacker writes (a corrupt FILETIME saturates to INT64_MAX,
// "2262-04-11T23:47:16.854775807Z" parses), and a window's edge beyond the
// range is the range's end.
constexpr std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
  std::int64_t sum = 0;
  return __builtin_add_overflow(a, b, &sum) ? (b > 0 ? INT64_MAX : INT64_MIN) : sum;
}
constexpr std::int64_t saturating_sub(std::int64_t a, std::int64_t b) {
  std::int64_t difference = 0;
  return __builtin_sub_overflow(a, b, &difference) ? (b < 0 ? INT64_MAX : INT64_MIN) : difference;
}
constexpr std::int64_t saturating_mul(std::int64_t a, std::int64_t b) {
  std::int64_t product = 0;
  return __builtin_mul_overflow(a, b, &product) ? ((a < 0) == (b < 0) ? INT64_MAX : INT64_MIN) : product;
}

std::optional<TimestampNs> parse_iso8601(std::string_view text);
// Accepts ISO-8601 or a string of digits (epoch milliseconds).
std::optional<TimestampNs> parse_timestamp_text(std::string_view text);
// Epoch milliseconds a TimestampNs can hold (years 1677 to 2262).
inline constexpr std::int64_t kMaxEpochMillis = INT64_MAX / 1'000'000;
// Epoch milliseconds to nanoseconds; nullopt beyond ±kMaxEpochMillis or not finite.
std::optional<TimestampNs> from_epoch_millis(std::int64_t millis);
std::optional<TimestampNs> from_epoch_millis(double millis);
// Windows FILETIME (100 ns ticks since 1601-01-01) to Unix nanoseconds,
// saturated at the ends of the range.
TimestampNs from_filetime(std::int64_t ticks);
// A time's calendar parts in UTC (what Sigma's time modifiers compare).
struct CivilTime {
  std::int64_t year = 0;
  unsigned month = 0, day = 0, hour = 0, minute = 0, second = 0;
  unsigned iso_week = 0;  // ISO 8601 week of its (ISO) year, 1-53
};
CivilTime civil_time(TimestampNs ns);
// RFC 3339 UTC with nanosecond precision trimmed to milliseconds when exact.
std::string format_timestamp(TimestampNs ns);
// A duration as rules write it, in the largest unit that divides it: "10m", "36h", "90s"; else "<n>ns".
std::string format_duration(std::int64_t ns);
// A Windows FILETIME as Windows writes it in event XML: seven fraction digits,
// valid over the whole 64-bit range (years up to 30828), no overflow.
std::string format_filetime_text(std::uint64_t ticks);

}  // namespace vigil
