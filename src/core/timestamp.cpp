// ISO-8601 parsing without locale or libc time zone state: civil-date
// arithmetic (days_from_civil) keeps it exact and thread-safe.
#include "core/timestamp.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>

namespace vigil {
namespace {

// Howard Hinnant's days-from-civil algorithm (proleptic Gregorian).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

bool read_digits(std::string_view s, std::size_t& pos, std::size_t count, int& out) {
  if (pos + count > s.size()) return false;
  int v = 0;
  for (std::size_t i = 0; i < count; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  pos += count;
  out = v;
  return true;
}

}  // namespace

std::optional<TimestampNs> parse_iso8601(std::string_view s) {
  std::size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!read_digits(s, pos, 4, year) || pos >= s.size() || s[pos++] != '-') return std::nullopt;
  if (!read_digits(s, pos, 2, month) || pos >= s.size() || s[pos++] != '-') return std::nullopt;
  if (!read_digits(s, pos, 2, day)) return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > 31) return std::nullopt;
  std::int64_t nanos = 0;
  int offset_seconds = 0;
  if (pos < s.size() && (s[pos] == 'T' || s[pos] == 't' || s[pos] == ' ')) {
    ++pos;
    if (!read_digits(s, pos, 2, hour) || pos >= s.size() || s[pos++] != ':') return std::nullopt;
    if (!read_digits(s, pos, 2, minute)) return std::nullopt;
    if (pos < s.size() && s[pos] == ':') {
      ++pos;
      if (!read_digits(s, pos, 2, second)) return std::nullopt;
      if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
        ++pos;
        std::int64_t scale = 100000000;
        std::size_t digits = 0;
        while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
          if (digits < 9) nanos += (s[pos] - '0') * scale;
          scale /= 10;
          ++digits;
          ++pos;
        }
        if (digits == 0) return std::nullopt;
      }
    }
    if (hour > 23 || minute > 59 || second > 60) return std::nullopt;
    if (pos < s.size()) {
      char c = s[pos];
      if (c == 'Z' || c == 'z') {
        ++pos;
      } else if (c == '+' || c == '-') {
        ++pos;
        int oh = 0, om = 0;
        if (!read_digits(s, pos, 2, oh)) return std::nullopt;
        if (pos < s.size() && s[pos] == ':') ++pos;
        if (pos < s.size() && !read_digits(s, pos, 2, om)) return std::nullopt;
        offset_seconds = (oh * 3600 + om * 60) * (c == '+' ? 1 : -1);
      }
    }
  }
  if (pos != s.size()) return std::nullopt;
  std::int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  std::int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_seconds;
  // Nanoseconds in int64 span 1677-09-21 to 2262-04-11; anything else is not a log timestamp.
  // A fraction before 1970 is borrowed from the next second, so the first
  // instant of the range (whole seconds one past it) is reached too.
  if (secs < 0 && nanos > 0) {
    ++secs;
    nanos -= 1000000000LL;
  }
  std::int64_t ns = 0;
  if (__builtin_mul_overflow(secs, 1000000000LL, &ns) || __builtin_add_overflow(ns, nanos, &ns)) return std::nullopt;
  return ns;
}

std::optional<TimestampNs> from_epoch_millis(std::int64_t millis) {
  if (millis > kMaxEpochMillis || millis < -kMaxEpochMillis) return std::nullopt;
  return millis * 1'000'000;
}

std::optional<TimestampNs> from_epoch_millis(double millis) {
  if (!std::isfinite(millis) || std::fabs(millis) >= static_cast<double>(kMaxEpochMillis)) return std::nullopt;
  // Whole milliseconds exactly, the fraction rounded to nanoseconds: the
  // product of the whole value by 1e6 would round to 53 bits.
  const double whole = std::trunc(millis);
  return static_cast<TimestampNs>(whole) * 1'000'000 + std::llround((millis - whole) * 1e6);
}

std::optional<TimestampNs> parse_timestamp_text(std::string_view text) {
  if (!text.empty() && text.size() <= 16) {
    bool all_digits = true;
    for (char c : text) all_digits &= (c >= '0' && c <= '9') || c == '-';
    if (all_digits && text.find('-', 1) == std::string_view::npos) {
      std::int64_t ms = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
      if (ec == std::errc() && p == text.data() + text.size()) return from_epoch_millis(ms);
    }
  }
  return parse_iso8601(text);
}

TimestampNs from_filetime(std::int64_t ticks) {
  constexpr std::int64_t kEpochDelta = 116444736000000000LL;  // 1601 → 1970 in 100 ns ticks
  std::int64_t ns = 0;
  if (__builtin_sub_overflow(ticks, kEpochDelta, &ns) || __builtin_mul_overflow(ns, 100, &ns)) {
    return ticks < kEpochDelta ? INT64_MIN : INT64_MAX;
  }
  return ns;
}

CivilTime civil_time(TimestampNs ns) {
  constexpr std::int64_t kNsPerDay = 86'400'000'000'000;
  std::int64_t days = ns / kNsPerDay;
  std::int64_t rem = ns % kNsPerDay;
  if (rem < 0) {
    rem += kNsPerDay;
    --days;
  }
  CivilTime t;
  civil_from_days(days, t.year, t.month, t.day);
  const std::int64_t secs = rem / 1'000'000'000;
  t.hour = static_cast<unsigned>(secs / 3600);
  t.minute = static_cast<unsigned>(secs % 3600 / 60);
  t.second = static_cast<unsigned>(secs % 60);
  // ISO week: the week (Monday to Sunday) holding the date's Thursday, counted
  // in the Thursday's year. 1970-01-01 was a Thursday.
  const std::int64_t weekday = ((days + 3) % 7 + 7) % 7;  // Monday 0 .. Sunday 6
  const std::int64_t thursday = days - weekday + 3;
  std::int64_t thursday_year;
  unsigned m, d;
  civil_from_days(thursday, thursday_year, m, d);
  t.iso_week = static_cast<unsigned>((thursday - days_from_civil(thursday_year, 1, 1)) / 7 + 1);
  return t;
}

std::string format_filetime_text(std::uint64_t ticks) {
  constexpr std::int64_t kSecondsFrom1601To1970 = 11644473600LL;
  auto secs = static_cast<std::int64_t>(ticks / 10000000ULL) - kSecondsFrom1601To1970;
  auto frac = static_cast<std::int64_t>(ticks % 10000000ULL);
  std::int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  std::int64_t rem = secs - days * 86400;
  std::int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  if (y < 0 || y > 9999) {
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}Z", y, m, d, rem / 3600, (rem % 3600) / 60, rem % 60,
                       frac);
  }
  // Hot path (every EVTX record): digits written by hand.
  char buf[] = "0000-00-00T00:00:00.0000000Z";
  auto put = [&](int pos, std::int64_t value, int width) {
    for (int i = width - 1; i >= 0; --i, value /= 10) buf[pos + i] = static_cast<char>('0' + value % 10);
  };
  put(0, y, 4);
  put(5, m, 2);
  put(8, d, 2);
  put(11, rem / 3600, 2);
  put(14, (rem % 3600) / 60, 2);
  put(17, rem % 60, 2);
  put(20, frac, 7);
  return std::string(buf, sizeof(buf) - 1);
}

std::string format_duration(std::int64_t ns) {
  static constexpr std::pair<std::int64_t, const char*> units[] = {
      {86400000000000LL, "d"}, {3600000000000LL, "h"}, {60000000000LL, "m"}, {1000000000LL, "s"}};
  for (const auto& [unit, name] : units) {
    if (ns != 0 && ns % unit == 0) return std::to_string(ns / unit) + name;
  }
  return std::to_string(ns) + "ns";
}

std::string format_timestamp(TimestampNs ns) {
  // Floor division by remainders: negating a time near INT64_MIN overflows.
  std::int64_t secs = ns / 1000000000LL;
  std::int64_t frac = ns % 1000000000LL;
  if (frac < 0) {
    frac += 1000000000LL;
    --secs;
  }
  std::int64_t days = secs / 86400;
  std::int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  std::int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  auto base = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", y, m, d, rem / 3600, (rem % 3600) / 60, rem % 60);
  if (frac % 1000000 == 0) return fmt::format("{}.{:03}Z", base, frac / 1000000);
  return fmt::format("{}.{:09}Z", base, frac);
}

}  // namespace vigil
