// Sigma correlations (detect/correlation.h) on hand-made matches: the
// window boundaries of each type, one alert per burst, fixed windows for
// upper bounds, order and the one-event-one-step rule of temporal_ordered,
// results independent of the order matches arrive in, the caps, and a
// checkpoint taken mid-stream.
#include "detect/correlation.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

using namespace vigil;

namespace {

constexpr TimestampNs kSec = 1000000000LL;

CorrelationSpec spec(std::string type, std::size_t rules, std::int64_t timespan_s,
                     std::vector<CorrelationCondition> condition = {}) {
  CorrelationSpec s;
  s.type = std::move(type);
  for (std::size_t i = 0; i < rules; ++i) s.rules.push_back("r" + std::to_string(i));
  s.group_by = {"User"};
  s.timespan_ns = timespan_s * kSec;
  s.condition = std::move(condition);
  if (s.type.starts_with("value_")) s.fields = {"F"};
  return s;
}

std::uint64_t g_ordinal = 0;

CorrelationOccurrence match(TimestampNs t, std::string user, std::uint32_t ref = 0, std::string value = {},
                            double number = 0) {
  CorrelationOccurrence o;
  o.time = t;
  o.ordinal = ++g_ordinal;
  o.ref = ref;
  o.group = {std::move(user)};
  o.value = std::move(value);
  o.number = number;
  auto e = std::make_shared<CorrelatedEvent>();
  e->document = "{\"n\":" + std::to_string(o.ordinal) + "}";
  e->time = t;
  e->ordinal = o.ordinal;
  o.events.push_back(e);
  return o;
}

// (first, last, measured) of each match, from feeding everything then finishing.
struct Fired {
  TimestampNs first, last;
  double measured;
  std::string user;
  bool operator==(const Fired&) const = default;
};
std::vector<Fired> run(const CorrelationSpec& s, std::vector<CorrelationOccurrence> in, CorrelationLimits limits = {}) {
  CorrelationRunner r(s, limits);
  for (auto& o : in) r.add(std::move(o));
  std::vector<Fired> out;
  for (const CorrelationMatch& m : r.finish()) out.push_back({m.first_time, m.last_time, m.measured, m.group[0]});
  return out;
}

}  // namespace

TEST(Correlation, EventCountSlidingWindowIsInclusiveAndFiresOncePerBurst) {
  const auto s = spec("event_count", 1, 10, {{"gte", 3}});
  // Three matches within exactly 10 s: fires at the third.
  auto fired = run(s, {match(0, "bob"), match(5 * kSec, "bob"), match(10 * kSec, "bob")});
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0], (Fired{0, 10 * kSec, 3, "bob"}));
  // One nanosecond more: the first has left the window.
  EXPECT_TRUE(run(s, {match(0, "bob"), match(5 * kSec, "bob"), match(10 * kSec + 1, "bob")}).empty());
  // Six in a burst: one alert at the third, then the group starts again and
  // the sixth makes the second.
  std::vector<CorrelationOccurrence> burst;
  for (int i = 0; i < 6; ++i) burst.push_back(match(i * kSec, "bob"));
  fired = run(s, burst);
  ASSERT_EQ(fired.size(), 2u);
  EXPECT_EQ(fired[0].last, 2 * kSec);
  EXPECT_EQ(fired[1].first, 3 * kSec);
  EXPECT_EQ(fired[1].last, 5 * kSec);
  // Groups count apart.
  EXPECT_TRUE(run(s, {match(0, "bob"), match(1, "alice"), match(2, "bob")}).empty());
  // gt 3: the fourth.
  EXPECT_EQ(run(spec("event_count", 1, 10, {{"gt", 3}}), {match(0, "b"), match(1, "b"), match(2, "b")}).size(), 0u);
  EXPECT_EQ(run(spec("event_count", 1, 10, {{"gt", 3}}), {match(0, "b"), match(1, "b"), match(2, "b"), match(3, "b")}).size(),
            1u);
}

TEST(Correlation, UpperBoundsUseFixedWindowsTestedWhenTheyClose) {
  // "fewer than 3 in 10 s": a window opens at a group's first match.
  const auto s = spec("event_count", 1, 10, {{"lt", 3}});
  auto fired = run(s, {match(0, "bob"), match(4 * kSec, "bob")});
  ASSERT_EQ(fired.size(), 1u);  // closed at the end of the input
  EXPECT_EQ(fired[0], (Fired{0, 4 * kSec, 2, "bob"}));
  EXPECT_TRUE(run(s, {match(0, "bob"), match(4 * kSec, "bob"), match(10 * kSec, "bob")}).empty());
  // A match after the window's end closes it (2 matches: fires) and opens the next (1: fires at the end).
  fired = run(s, {match(0, "bob"), match(4 * kSec, "bob"), match(10 * kSec + 1, "bob")});
  ASSERT_EQ(fired.size(), 2u);
  EXPECT_EQ(fired[0].last, 4 * kSec);
  EXPECT_EQ(fired[1].first, 10 * kSec + 1);
  // A range: 2 to 3.
  const auto range = spec("event_count", 1, 10, {{"gte", 2}, {"lte", 3}});
  EXPECT_EQ(run(range, {match(0, "a"), match(1, "a")}).size(), 1u);
  EXPECT_EQ(run(range, {match(0, "a"), match(1, "a"), match(2, "a"), match(3, "a")}).size(), 0u);
  // eq / neq.
  EXPECT_EQ(run(spec("event_count", 1, 10, {{"eq", 2}}), {match(0, "a"), match(1, "a")}).size(), 1u);
  EXPECT_EQ(run(spec("event_count", 1, 10, {{"neq", 2}}), {match(0, "a"), match(1, "a")}).size(), 0u);
  // The window closes when event time passes its end, not only at the end of input.
  CorrelationRunner r(s, {});
  r.add(match(0, "bob"));
  EXPECT_TRUE(r.release(5 * kSec).empty());
  EXPECT_EQ(r.release(11 * kSec).size(), 1u);
  EXPECT_EQ(r.groups(), 0u);
}

TEST(Correlation, ValueCountCountsDistinctValuesInTheWindow) {
  const auto s = spec("value_count", 1, 60, {{"gte", 3}});
  // The same value three times is one.
  EXPECT_TRUE(run(s, {match(0, "h", 0, "u1"), match(1, "h", 0, "u1"), match(2, "h", 0, "u1")}).empty());
  auto fired = run(s, {match(0, "h", 0, "u1"), match(1, "h", 0, "u2"), match(2, "h", 0, "u1"), match(3, "h", 0, "u3")});
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].measured, 3);
  // u1 seen at 0 and 30 s: at 75 s its later sighting still counts.
  fired = run(s, {match(0, "h", 0, "u1"), match(30 * kSec, "h", 0, "u1"), match(40 * kSec, "h", 0, "u2"),
                  match(75 * kSec, "h", 0, "u3")});
  EXPECT_EQ(fired.size(), 1u);
  // ... but not when its only sighting has left.
  EXPECT_TRUE(run(s, {match(0, "h", 0, "u1"), match(40 * kSec, "h", 0, "u2"), match(75 * kSec, "h", 0, "u3")}).empty());
}

TEST(Correlation, ValueSumAndAverage) {
  auto fired = run(spec("value_sum", 1, 60, {{"gt", 1000}}),
                   {match(0, "h", 0, "", 600), match(10 * kSec, "h", 0, "", 300), match(20 * kSec, "h", 0, "", 101)});
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].measured, 1001);
  // The first left the window: 401.
  EXPECT_TRUE(run(spec("value_sum", 1, 60, {{"gt", 1000}}),
                  {match(0, "h", 0, "", 600), match(50 * kSec, "h", 0, "", 300), match(61 * kSec, "h", 0, "", 101)})
                  .empty());
  fired = run(spec("value_avg", 1, 60, {{"gte", 500}}), {match(0, "h", 0, "", 400), match(1, "h", 0, "", 600)});
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].measured, 500);
}

TEST(Correlation, TemporalNeedsEveryRuleInAnyOrderOrWhatTheConditionSays) {
  const auto s = spec("temporal", 3, 60);
  EXPECT_TRUE(run(s, {match(0, "u", 0), match(1, "u", 1)}).empty());
  auto fired = run(s, {match(0, "u", 2), match(1, "u", 0), match(2, "u", 1)});
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].measured, 3);
  // Too far apart: rule 2 at 0 left before rule 1 at 61 s.
  EXPECT_TRUE(run(s, {match(0, "u", 2), match(30 * kSec, "u", 0), match(60 * kSec + 1, "u", 1)}).empty());
  // gte 2 of 3.
  EXPECT_EQ(run(spec("temporal", 3, 60, {{"gte", 2}}), {match(0, "u", 0), match(1, "u", 2)}).size(), 1u);
  // Another user's match does not complete this one's.
  EXPECT_TRUE(run(s, {match(0, "u", 0), match(1, "u", 1), match(2, "v", 2)}).empty());
}

TEST(Correlation, TemporalOrderedKeepsTheOrderAndOneEventFillsOneStep) {
  const auto s = spec("temporal_ordered", 2, 60);
  EXPECT_TRUE(run(s, {match(0, "u", 1), match(1, "u", 0)}).empty());
  auto fired = run(s, {match(0, "u", 0), match(1, "u", 1)});
  ASSERT_EQ(fired.size(), 1u);
  // One event matching both rules is not a sequence of two.
  CorrelationOccurrence both0 = match(5, "u", 0);
  CorrelationOccurrence both1 = both0;
  both1.ref = 1;
  EXPECT_TRUE(run(s, {both1, both0}).empty());
  // ... but a second such event completes the first's step 0.
  CorrelationOccurrence next0 = match(6, "u", 0);
  CorrelationOccurrence next1 = next0;
  next1.ref = 1;
  EXPECT_EQ(run(s, {both0, both1, next0, next1}).size(), 1u);
  // The chain started latest is kept: a to b after 70 s fails, a later a at 30 s makes it.
  fired = run(s, {match(0, "u", 0), match(30 * kSec, "u", 0), match(70 * kSec, "u", 1)});
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].first, 30 * kSec);
  // Three steps, the same rule twice: a, a, b.
  CorrelationSpec aab = spec("temporal_ordered", 3, 60);
  auto a = [&](TimestampNs t) {
    CorrelationOccurrence s0 = match(t, "u", 0), s1 = s0;
    s1.ref = 1;
    return std::vector<CorrelationOccurrence>{s0, s1};
  };
  std::vector<CorrelationOccurrence> one_a = a(0);
  one_a.push_back(match(2, "u", 2));
  EXPECT_TRUE(run(aab, one_a).empty());
  std::vector<CorrelationOccurrence> two_a = a(0);
  for (auto& o : a(1)) two_a.push_back(o);
  two_a.push_back(match(2, "u", 2));
  EXPECT_EQ(run(aab, two_a).size(), 1u);
}

TEST(Correlation, TheOrderMatchesArriveInChangesNothing) {
  std::mt19937 rng(7);
  for (const CorrelationSpec& s : {spec("event_count", 1, 10, {{"gte", 4}}), spec("event_count", 1, 10, {{"lte", 2}}),
                                   spec("value_count", 1, 10, {{"gte", 3}}), spec("temporal", 3, 10),
                                   spec("temporal_ordered", 3, 10), spec("value_sum", 1, 10, {{"gt", 50}})}) {
    std::vector<CorrelationOccurrence> in;
    for (int i = 0; i < 400; ++i) {
      in.push_back(match(static_cast<TimestampNs>(rng() % 200) * kSec / 2, "u" + std::to_string(rng() % 3),
                         static_cast<std::uint32_t>(rng() % s.rules.size()), "v" + std::to_string(rng() % 5),
                         static_cast<double>(rng() % 20)));
    }
    std::vector<CorrelationOccurrence> sorted = in;
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.ordinal < b.ordinal; });
    const auto expected = run(s, sorted);
    EXPECT_FALSE(expected.empty()) << s.type;
    for (int round = 0; round < 3; ++round) {
      std::shuffle(in.begin(), in.end(), rng);
      EXPECT_EQ(run(s, in), expected) << s.type;
    }
  }
}

TEST(Correlation, LateMatchesAndCapsAreCounted) {
  const auto s = spec("event_count", 1, 10, {{"gte", 3}});
  CorrelationRunner r(s, {});
  r.add(match(20 * kSec, "u"));
  r.release(20 * kSec);
  r.add(match(5 * kSec, "u"));  // event time passed it
  EXPECT_EQ(r.stats().late, 1u);
  // max_groups 2: a third group evicts the least recently matched.
  CorrelationRunner capped(s, {2, 100});
  capped.add(match(0, "a"));
  capped.add(match(1, "b"));
  capped.add(match(2, "a"));
  capped.add(match(3, "c"));
  capped.release(3);
  EXPECT_EQ(capped.groups(), 2u);
  EXPECT_EQ(capped.stats().groups_evicted, 1u);
  capped.add(match(4, "b"));  // b starts again: 1, not 2
  capped.add(match(5, "b"));
  EXPECT_TRUE(capped.release(5).empty());
  // max_entries 2: the oldest entry goes, the count stays at 2.
  std::vector<CorrelationOccurrence> three = {match(0, "u"), match(1, "u"), match(2, "u")};
  CorrelationRunner small(s, {10, 2});
  for (auto& o : three) small.add(o);
  EXPECT_TRUE(small.finish().empty());
  EXPECT_EQ(small.stats().entries_evicted, 1u);
}

TEST(Correlation, ACheckpointMidStreamChangesNothing) {
  std::mt19937 rng(11);
  for (const CorrelationSpec& s : {spec("event_count", 1, 10, {{"gte", 3}}), spec("value_count", 1, 10, {{"lt", 3}}),
                                   spec("temporal_ordered", 2, 10)}) {
    std::vector<CorrelationOccurrence> in;
    for (int i = 0; i < 200; ++i) {
      in.push_back(match(i * kSec / 3, "u" + std::to_string(rng() % 2), static_cast<std::uint32_t>(rng() % s.rules.size()),
                         "v" + std::to_string(rng() % 4)));
    }
    auto collect = [](std::vector<CorrelationMatch> ms, std::vector<Fired>& out) {
      for (auto& m : ms) out.push_back({m.first_time, m.last_time, m.measured, m.group[0]});
    };
    std::vector<Fired> straight, resumed;
    {
      CorrelationRunner r(s, {});
      for (std::size_t i = 0; i < in.size(); ++i) {
        r.add(in[i]);
        if (i % 10 == 9) collect(r.release(in[i].time - kSec), straight);
      }
      collect(r.finish(), straight);
    }
    {
      auto r = std::make_unique<CorrelationRunner>(s, CorrelationLimits{});
      for (std::size_t i = 0; i < in.size(); ++i) {
        r->add(in[i]);
        if (i % 10 == 9) collect(r->release(in[i].time - kSec), resumed);
        if (i == 105) {
          std::string bytes;
          Encoder out(bytes);
          r->save(out);
          r = std::make_unique<CorrelationRunner>(s, CorrelationLimits{});
          Decoder dec(bytes);
          r->load(dec);
          ASSERT_TRUE(dec.ok() && dec.at_end()) << s.type;
        }
      }
      collect(r->finish(), resumed);
    }
    EXPECT_FALSE(straight.empty()) << s.type;
    EXPECT_EQ(resumed, straight) << s.type;
  }
}
