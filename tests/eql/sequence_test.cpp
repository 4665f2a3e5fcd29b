// SequenceMatcher: state bounds, expiry, until, missing events and
// out-of-order handling, on synthetic streams where the answer is known.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include "eql/parser.h"
#include "eql/sequence_matcher.h"
#include "eql/sequence_runner.h"
#include "ingest/event_reader.h"

using namespace vigil;
using namespace vigil::eql;

namespace {

struct Compiled {
  FieldRegistry fields;
  std::unique_ptr<SequenceProgram> program;
};

std::unique_ptr<Compiled> compile_sequence(std::string_view q) {
  auto c = std::make_unique<Compiled>();
  auto r = compile_any_query(q, c->fields);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (!r) return c;
  c->program = std::move(r->sequence);
  return c;
}

// An event hitting the given terms with key `key`, at time `ms`.
MatcherEventPtr event_ns(TimestampNs ns, std::uint64_t ordinal, std::vector<std::uint32_t> terms,
                         const std::string& key, std::string payload = "") {
  auto e = std::make_shared<MatcherEvent>();
  e->timestamp = ns;
  e->ordinal = ordinal;
  for (auto t : terms) e->hits.push_back({t, key});
  e->payload = std::make_shared<const std::string>(payload.empty() ? std::to_string(ordinal) : payload);
  return e;
}

MatcherEventPtr event(std::int64_t ms, std::uint64_t ordinal, std::vector<std::uint32_t> terms, const std::string& key,
                      std::string payload = "") {
  return event_ns(ms * 1000000, ordinal, std::move(terms), key, std::move(payload));
}

std::vector<std::string> ids(const std::vector<SequenceMatch>& matches) {
  std::vector<std::string> out;
  for (const auto& m : matches) {
    std::string s;
    for (const auto& e : m.events) s += (s.empty() ? "" : ",") + (e ? std::string(e->text()) : std::string("-"));
    out.push_back(s);
  }
  return out;
}

long peak_rss_kb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

}  // namespace

TEST(Sequence, MaxspanExpiresPartialMatch) {
  auto c = compile_sequence("sequence by k with maxspan=10s [a where true] [b where true]");
  SequenceMatcher m(*c->program);
  m.process(event(0, 1, {0}, "[1]"));
  m.process(event(5000, 2, {1}, "[1]"));   // within 10 s: matches
  m.process(event(6000, 3, {0}, "[1]"));
  m.process(event(17000, 4, {1}, "[1]"));  // 11 s after its start: expired
  m.finish();
  EXPECT_EQ(ids(m.take_matches()), (std::vector<std::string>{"1,2"}));
  EXPECT_EQ(m.stats().expired, 1u);
}

// docs/sequences.md: a sequence fails when its events span *more than*
// maxspan. Exactly maxspan completes; one nanosecond more does not.
TEST(Sequence, MaxspanBoundaryIsInclusive) {
  constexpr std::int64_t kSpan = 10LL * 1000000000LL;
  auto run = [](std::int64_t gap_ns, const char* query, std::uint32_t terms) {
    auto c = compile_sequence(query);
    SequenceMatcher m(*c->program);
    for (std::uint32_t t = 0; t < terms; ++t) {
      // the first at 0, the last at gap_ns, a middle one between
      m.process(event_ns(t == 0 ? 0 : t + 1 == terms ? gap_ns : gap_ns / 2, t + 1, {t}, "[1]"));
    }
    m.finish();
    return m.take_matches().size();
  };
  for (auto [query, terms] : {std::pair<const char*, std::uint32_t>{
                                  "sequence by k with maxspan=10s [a where true] [b where true]", 2},
                              {"sequence by k with maxspan=10s [a where true] [b where true] [c where true]", 3}}) {
    EXPECT_EQ(run(kSpan - 1, query, terms), 1u) << query;
    EXPECT_EQ(run(kSpan, query, terms), 1u) << query << ": exactly maxspan completes";
    EXPECT_EQ(run(kSpan + 1, query, terms), 0u) << query << ": maxspan + 1 ns is too long";
  }
}

// A trailing missing event rejects the sequence when it comes within maxspan
// of the sequence's start, the boundary included.
TEST(Sequence, TrailingMissingEventBoundaryIsInclusive) {
  constexpr std::int64_t kSpan = 10LL * 1000000000LL;
  for (auto [gap, rejected] : {std::pair<std::int64_t, bool>{kSpan, true}, {kSpan + 1, false}}) {
    auto c = compile_sequence("sequence with maxspan=10s [a where true] ![m where true]");
    SequenceMatcher m(*c->program);
    m.process(event(0, 1, {0}, "[]"));
    m.process(event_ns(gap, 2, {1}, "[]"));
    m.finish();
    EXPECT_EQ(m.take_matches().size(), rejected ? 0u : 1u) << "missing event " << gap << " ns after the start";
  }
}

TEST(Sequence, UntilKillsOpenSequencesOfItsKeyOnly) {
  auto c = compile_sequence("sequence by k [a where true] [b where true] until [c where true]");
  SequenceMatcher m(*c->program);
  m.process(event(0, 1, {0}, "[1]"));
  m.process(event(0, 2, {0}, "[2]"));
  m.process(event(1, 3, {2}, "[1]"));  // until for key 1
  m.process(event(2, 4, {1}, "[1]"));
  m.process(event(2, 5, {1}, "[2]"));
  m.finish();
  EXPECT_EQ(ids(m.take_matches()), (std::vector<std::string>{"2,5"}));
  EXPECT_EQ(m.stats().killed_by_until, 1u);
}

// `until` ends the open sequences of its key at its place in event order:
// before the last term (1 ns earlier, or at the same time and earlier in
// order) it kills the sequence; after it (same time later in order, or 1 ns
// later) the sequence has already completed. An until before the first term
// ends nothing.
TEST(Sequence, UntilBoundaryIsItsPlaceInEventOrder) {
  constexpr std::int64_t kB = 5LL * 1000000000LL;
  struct Case {
    std::int64_t until_ns;
    bool before_b;  // at the same time: processed before b
    std::size_t matches;
  };
  for (const Case& k : {Case{kB - 1, true, 0}, Case{kB, true, 0}, Case{kB, false, 1}, Case{kB + 1, false, 1},
                        Case{-1, true, 1}}) {
    auto c = compile_sequence("sequence by k [a where true] [b where true] until [c where true]");
    SequenceMatcher m(*c->program);
    if (k.until_ns < 0) m.process(event_ns(0, 0, {2}, "[1]"));
    m.process(event_ns(0, 1, {0}, "[1]"));
    if (k.until_ns >= 0 && k.before_b) m.process(event_ns(k.until_ns, 2, {2}, "[1]"));
    m.process(event_ns(kB, 3, {1}, "[1]"));
    if (k.until_ns >= 0 && !k.before_b) m.process(event_ns(k.until_ns, 4, {2}, "[1]"));
    m.finish();
    EXPECT_EQ(m.take_matches().size(), k.matches) << "until at " << k.until_ns << " ns, " << (k.before_b ? "before" : "after") << " b";
  }
}

TEST(Sequence, LatestCandidatePerStageWins) {
  auto c = compile_sequence("sequence [a where true] [b where true]");
  SequenceMatcher m(*c->program);
  m.process(event(0, 1, {0}, "[]"));
  m.process(event(1, 2, {0}, "[]"));
  m.process(event(2, 3, {1}, "[]"));
  m.finish();
  EXPECT_EQ(ids(m.take_matches()), (std::vector<std::string>{"2,3"}));
}

TEST(Sequence, MissingEventBetweenTermsKillsThePartial) {
  auto c = compile_sequence("sequence by k with maxspan=1m [a where true] ![m where true] [b where true]");
  SequenceMatcher m(*c->program);
  m.process(event(0, 1, {0}, "[1]"));
  m.process(event(1, 2, {1}, "[1]"));  // the missing event occurred
  m.process(event(2, 3, {2}, "[1]"));
  m.process(event(3, 4, {0}, "[2]"));
  m.process(event(4, 5, {1}, "[9]"));  // other key: no effect
  m.process(event(5, 6, {2}, "[2]"));
  m.finish();
  EXPECT_EQ(ids(m.take_matches()), (std::vector<std::string>{"4,-,6"}));
}

TEST(Sequence, TrailingMissingEventHoldsUntilMaxspanPasses) {
  auto c = compile_sequence("sequence with maxspan=10s [a where true] ![m where true]");
  SequenceMatcher m(*c->program);
  m.process(event(0, 1, {0}, "[]"));
  m.process(event(5000, 2, {1}, "[]"));   // within 10 s of event 1: rejects it
  m.process(event(20000, 3, {0}, "[]"));
  m.process(event(31000, 4, {1}, "[]"));  // 11 s later: too late to reject event 3
  EXPECT_EQ(m.take_matches().size(), 1u);  // released by the time the late event arrived
  m.finish();
  EXPECT_EQ(m.stats().rejected_missing, 1u);
}

TEST(Sequence, OneMillionDistinctKeysRunInBoundedMemory) {
  auto c = compile_sequence("sequence by k [a where true] [b where true] [c where true]");
  MatcherLimits limits;
  limits.max_open = 50000;
  SequenceMatcher m(*c->program, limits);
  long before = peak_rss_kb();
  constexpr std::uint64_t kKeys = 1000000;
  for (std::uint64_t i = 0; i < kKeys; ++i) {
    std::string key = "[" + std::to_string(i) + "]";
    m.process(event(static_cast<std::int64_t>(i), 2 * i, {0}, key));
    m.process(event(static_cast<std::int64_t>(i), 2 * i + 1, {1}, key));
    EXPECT_LE(m.open_partials(), limits.max_open);
  }
  // The most recent keys are still open and complete; the oldest were evicted, and counted.
  m.process(event(kKeys, 2 * kKeys, {2}, "[999999]"));
  m.process(event(kKeys, 2 * kKeys + 1, {2}, "[0]"));
  m.finish();
  EXPECT_EQ(m.take_matches().size(), 1u);
  EXPECT_EQ(m.stats().evicted, kKeys - limits.max_open);
  EXPECT_EQ(m.stats().peak_open, limits.max_open);
  long grown_mb = (peak_rss_kb() - before) / 1024;
#if defined(__SANITIZE_ADDRESS__)
  // ASan keeps freed memory in quarantine (hundreds of MB by default), so RSS
  // says nothing about live state there; the open/evicted counts above still do.
  (void)grown_mb;
#else
  EXPECT_LT(grown_mb, 200) << "state must stay bounded by max_open, not by the number of keys";
#endif
}

TEST(Sequence, OutOfOrderEventsAreCountedAndProcessedWhereTheyArrive) {
  auto c = compile_sequence("sequence [a where true] [b where true]");
  SequenceMatcher m(*c->program);
  m.process(event(10, 1, {0}, "[]"));
  m.process(event(5, 2, {1}, "[]"));  // older than the previous event
  m.finish();
  EXPECT_EQ(m.stats().out_of_order, 1u);
  EXPECT_EQ(ids(m.take_matches()), (std::vector<std::string>{"1,2"}));
}

TEST(Sequence, RunnerOrdersByTimestampThenTiebreaker) {
  auto c = compile_sequence("sequence by user.name [process where true] [file where true]");
  FieldId serial = c->fields.intern("serial");
  RunnerOptions options;
  options.tiebreaker = serial;
  SequenceRunner runner(*c->program, options, [&](const Event& e) {
    return std::make_shared<const std::string>(std::to_string(e.get(serial).as_int()));
  });
  EventReader reader(c->fields);
  const char* docs[] = {
      R"({"@timestamp":"2024-01-01T00:00:02Z","event":{"category":"file"},"user":{"name":"bob"},"serial":3})",
      R"({"@timestamp":"2024-01-01T00:00:01Z","event":{"category":"process"},"user":{"name":"bob"},"serial":2})",
      R"({"@timestamp":"2024-01-01T00:00:01Z","event":{"category":"process"},"user":{"name":"bob"},"serial":1})",
      R"({"@timestamp":"2024-01-01T00:00:03Z","event":{"category":"file"},"serial":4})",
  };
  Arena arena;
  EvalContext ctx;
  std::uint64_t ordinal = 0;
  for (const char* d : docs) {
    Event e;
    std::string reason;
    ASSERT_TRUE(reader.decode_one(d, e, arena, reason)) << reason;
    e.ordinal = ordinal++;
    runner.add(e, ctx);
  }
  auto matches = runner.finish();
  ASSERT_EQ(matches.size(), 1u);
  EXPECT_EQ(ids(matches), (std::vector<std::string>{"2,3"}));  // serial 2 is the later of the two process events
  EXPECT_EQ(matches[0].join_keys, "[\"bob\"]");
}

TEST(SequenceParser, Forms) {
  auto q = parse_any_query(
      "sequence by host.id with maxspan=5m [process where true] by process.entity_id with runs=2 "
      "![file where true] by process.entity_id [network where true] by process.entity_id "
      "until [process where event.type == \"end\"] by process.entity_id | head 3");
  ASSERT_TRUE(q) << q.error().message;
  EXPECT_EQ(q->kind, Query::Kind::Sequence);
  EXPECT_EQ(*q->sequence.maxspan_ns, 300LL * 1000000000LL);
  EXPECT_EQ(q->sequence.stages.size(), 3u);
  EXPECT_EQ(q->sequence.stages[0].runs, 2);
  EXPECT_TRUE(q->sequence.stages[1].missing);
  EXPECT_TRUE(q->sequence.until.has_value());
  auto s = parse_any_query("sample by host [any where true] by ?os [any where true] by ?os");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->kind, Query::Kind::Sample);
}

TEST(SequenceParser, Errors) {
  FieldRegistry fields;
  auto keys = compile_any_query("sequence [a where true] by x [b where true]", fields);
  ASSERT_FALSE(keys);
  EXPECT_NE(keys.error().message.find("same number of join keys"), std::string::npos);
  auto expr = compile_any_query("sequence [a where true] by x * 2 [b where true] by y * 2", fields);
  ASSERT_FALSE(expr);
  EXPECT_NE(expr.error().message.find("join keys must be fields"), std::string::npos);
  auto unit = compile_any_query("sequence with maxspan=10 [a where true] [b where true]", fields);
  ASSERT_FALSE(unit);
  EXPECT_NE(unit.error().message.find("time unit"), std::string::npos);
  auto one = compile_any_query("sequence [a where true]", fields);
  ASSERT_FALSE(one);
  EXPECT_NE(one.error().message.find("at least two"), std::string::npos);
  auto runs = compile_any_query("sequence [a where true] with runs=0 [b where true]", fields);
  ASSERT_FALSE(runs);
  auto fork = compile_any_query("sequence [a where true] fork=true [b where true]", fields);
  ASSERT_FALSE(fork);
  EXPECT_EQ(fork.error().code, "eql.unsupported");
}

namespace {
// A runner over `sequence by user.name with maxspan=10s [process] [file]`,
// fed documents (time in seconds, category, serial).
struct RunnerFixture {
  std::unique_ptr<Compiled> c = compile_sequence(
      "sequence by user.name with maxspan=10s [process where true] [file where true]");
  FieldId serial = c->fields.intern("serial");
  SequenceRunner runner{*c->program, RunnerOptions{}, [this](const Event& e) {
                          return std::make_shared<const std::string>(std::to_string(e.get(serial).as_int()));
                        }};
  EventReader reader{c->fields};
  Arena arena;
  EvalContext ctx;
  std::uint64_t ordinal = 0;
  void add(int second, const char* category, int id) {
    std::string doc = "{\"@timestamp\":\"2024-01-01T00:00:" + std::string(second < 10 ? "0" : "") +
                      std::to_string(second) + "Z\",\"event\":{\"category\":\"" + category +
                      "\"},\"user\":{\"name\":\"bob\"},\"serial\":" + std::to_string(id) + "}";
    Event e;
    std::string reason;
    ASSERT_TRUE(reader.decode_one(doc, e, arena, reason)) << reason;
    e.ordinal = ordinal++;
    runner.add(e, ctx);
  }
};
constexpr TimestampNs kStart = 1704067200LL * 1000000000LL;  // 2024-01-01T00:00:00Z
constexpr TimestampNs kSecond = 1000000000LL;
}  // namespace

TEST(SequenceRunner, AdvanceMatchesInTimeOrderUpToAndIncludingTheWatermark) {
  RunnerFixture f;
  f.add(5, "file", 2);     // arrives first, happened after the process start
  f.add(3, "process", 1);
  EXPECT_TRUE(f.runner.advance(kStart + 4 * kSecond).empty());  // the file event (5 s) is not matched yet
  auto matches = f.runner.advance(kStart + 5 * kSecond);
  EXPECT_EQ(ids(matches), (std::vector<std::string>{"1,2"}));
  EXPECT_EQ(f.runner.late(), 0u);
  EXPECT_TRUE(f.runner.finish().empty());  // handed out once
}

TEST(SequenceRunner, AnEventOlderThanTheWatermarkIsLateAndStillMatched) {
  RunnerFixture f;
  f.add(3, "process", 1);
  EXPECT_TRUE(f.runner.advance(kStart + 6 * kSecond).empty());
  f.add(4, "file", 2);  // 4 s < watermark 6 s
  auto matches = f.runner.advance(kStart + 7 * kSecond);
  EXPECT_EQ(f.runner.late(), 1u);
  EXPECT_EQ(ids(matches), (std::vector<std::string>{"1,2"}));
}

TEST(SequenceRunner, APartialExpiresOnlyWhenTheWatermarkPassesItsMaxspan) {
  RunnerFixture at_span;
  at_span.add(0, "process", 1);
  at_span.runner.advance(kStart + 10 * kSecond);  // exactly maxspan after the start: still open
  at_span.add(10, "file", 2);
  EXPECT_EQ(ids(at_span.runner.advance(kStart + 10 * kSecond + 1)), (std::vector<std::string>{"1,2"}));

  RunnerFixture past;
  past.add(0, "process", 1);
  past.runner.advance(kStart + 10 * kSecond + 1);  // past maxspan: expired
  EXPECT_EQ(past.runner.stats().expired, 1u);
}
