// new_terms semantics (checked against a brute-force reading of Elastic's
// rule executions), the rarity tracker, and the SQLite baseline store.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <random>
#include <set>

#include "core/codec.h"
#include "detect/new_terms.h"
#include "detect/rarity.h"
#include "ingest/event_reader.h"
#include "store/baseline_store.h"

using namespace vigil;

namespace {

constexpr std::int64_t kMinute = 60LL * 1000000000LL;

class Events {
 public:
  Events() : reader_(fields_) {}
  FieldRegistry& fields() { return fields_; }
  Event event(const std::string& doc) {
    Event e;
    std::string reason;
    EXPECT_TRUE(reader_.decode_one(doc, e, arena_, reason)) << reason;
    return e;
  }

 private:
  FieldRegistry fields_;
  EventReader reader_;
  Arena arena_;
};

// new_terms over process.name, fleet-wide.
RaritySpec process_names(Events& events) {
  RaritySpec spec;
  spec.fields = {events.fields().intern("process.name")};
  spec.scope = RaritySpec::Scope::Fleet;
  return spec;
}

std::string temp_db() {
  char path[] = "/tmp/vigil-baseline-test-XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  std::remove(path);
  return path;
}

// Elastic, literally: runs at every multiple of `interval`; a run at E looks
// at [E - lookback, E], takes per term the earliest occurrence (ties: input
// order) if no occurrence lies in [E - history, E - lookback); alerts are
// deduplicated by occurrence.
std::set<std::size_t> brute_force(const std::vector<std::pair<std::string, std::int64_t>>& occ, std::int64_t interval,
                                  std::int64_t lookback, std::int64_t history) {
  std::set<std::size_t> out;
  std::int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (const auto& [term, t] : occ) lo = std::min(lo, t), hi = std::max(hi, t);
  for (std::int64_t e = (lo / interval) * interval; e <= hi + lookback + interval; e += interval) {
    std::map<std::string, std::size_t> first;
    for (std::size_t i = 0; i < occ.size(); ++i) {
      const auto& [term, t] = occ[i];
      if (t < e - lookback || t > e) continue;
      auto it = first.find(term);
      if (it == first.end() || occ[it->second].second > t) first[term] = i;
    }
    for (const auto& [term, i] : first) {
      bool history_has = false;
      for (const auto& [other, t] : occ) history_has |= other == term && t >= e - history && t < e - lookback;
      if (!history_has) out.insert(i);
    }
  }
  return out;
}

// Feeds (process.name, time) occurrences to the runner in input order; the
// input positions of the occurrences it found new.
std::set<std::size_t> new_occurrences(NewTermsRunner& runner, Events& events,
                                      const std::vector<std::pair<std::string, std::int64_t>>& occ) {
  for (std::size_t i = 0; i < occ.size(); ++i) {
    Event e = events.event(R"({"process":{"name":")" + occ[i].first + R"("}})");
    runner.add(e, occ[i].second, i, [&] {
      Detection d;
      d.ordinal = i;
      return d;
    });
  }
  std::set<std::size_t> got;
  for (const Detection& d : runner.finish()) got.insert(d.ordinal);
  return got;
}

}  // namespace

TEST(NewTerms, AgreesWithElasticRunsOnRandomOrders) {
  std::mt19937 rng(7);
  for (int round = 0; round < 300; ++round) {
    Events events;
    const RaritySpec spec = process_names(events);
    const std::int64_t interval = 5 * kMinute, lookback = 9 * kMinute;
    const std::int64_t history = (20 + static_cast<std::int64_t>(rng() % 60)) * kMinute;
    NewTermsRunner runner(interval, lookback, history, spec, 1000, nullptr);
    std::vector<std::pair<std::string, std::int64_t>> occ;
    const int n = 5 + static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) {
      std::string term = std::string(1, static_cast<char>('a' + rng() % 3));
      std::int64_t t = 1000 * kMinute + static_cast<std::int64_t>(rng() % (300 * 60)) * 1000000000LL;
      if (rng() % 5 == 0 && !occ.empty()) t = occ.back().second;  // ties
      occ.emplace_back(term, t);
    }
    std::set<std::size_t> got = new_occurrences(runner, events, occ);
    // Elastic's ties within one time go to the first in input order, as here.
    EXPECT_EQ(got, brute_force(occ, interval, lookback, history)) << "round " << round;
  }
}

// The history of the last run that sees t starts at E - history, inclusive:
// an earlier occurrence exactly there makes t's term known; one nanosecond
// earlier it does not. (interval 5m, lookback 9m, history 60m: t = 100m is
// last seen by the run at 105m, whose history starts at 45m.)
TEST(NewTerms, HistoryWindowStartIsInclusive) {
  const std::int64_t interval = 5 * kMinute, lookback = 9 * kMinute, history = 60 * kMinute;
  for (auto [earlier, expected] : {std::pair<std::int64_t, std::size_t>{45 * kMinute, 1}, {45 * kMinute - 1, 2}}) {
    Events events;
    const RaritySpec spec = process_names(events);
    NewTermsRunner runner(interval, lookback, history, spec, 1000, nullptr);
    std::vector<std::pair<std::string, std::int64_t>> occ = {{"a", earlier}, {"a", 100 * kMinute}};
    std::set<std::size_t> got = new_occurrences(runner, events, occ);
    EXPECT_EQ(got.size(), expected) << "earlier occurrence at " << earlier << " ns";
    EXPECT_EQ(got, brute_force(occ, interval, lookback, history)) << "earlier occurrence at " << earlier << " ns";
  }
}

// Streaming: a new term's detection is handed out only once the watermark
// has reached its time (until then an earlier occurrence may still arrive).
TEST(NewTerms, ReleaseWaitsForTheWatermark) {
  Events events;
  const RaritySpec spec = process_names(events);
  NewTermsRunner runner(5 * kMinute, 9 * kMinute, 60 * kMinute, spec, 1000, nullptr);
  Event e = events.event(R"({"process":{"name":"a"}})");
  runner.add(e, 100 * kMinute, 0, [] { return Detection{}; });
  EXPECT_TRUE(runner.release(100 * kMinute - 1).empty());
  EXPECT_EQ(runner.release(100 * kMinute).size(), 1u);
  EXPECT_TRUE(runner.release(200 * kMinute).empty());  // handed out once
}

TEST(NewTerms, ArraysExpandAndBaselineTermsAreNeverNew) {
  std::string db = temp_db();
  Events events;
  RaritySpec spec;
  spec.id = "spec-1";
  spec.fields = {events.fields().intern("host.id"), events.fields().intern("process.args")};
  spec.scope = RaritySpec::Scope::Fleet;
  {
    auto store = BaselineStore::open(db);
    ASSERT_TRUE(store.ok());
    auto n = (*store)->spec_number("spec-1", "test", "r");
    ASSERT_TRUE(n.ok());
    ASSERT_TRUE((*store)->add(*n, "", "h1\x1f-enc", TermStats{3, 1, 2}).ok());
  }
  auto store = BaselineStore::open(db);
  NewTermsRunner runner(5 * kMinute, 9 * kMinute, 60 * kMinute, spec, 1000, store->get());
  Event e = events.event(R"({"host":{"id":"h1"},"process":{"args":["powershell.exe","-enc"]}})");
  runner.add(e, 100 * kMinute, 0, [] { return Detection{}; });
  auto found = runner.finish();
  ASSERT_EQ(found.size(), 1u);  // ("h1", "powershell.exe") is new, ("h1", "-enc") is in the baseline
  EXPECT_EQ(found[0].new_terms, (std::vector<std::string>{"h1", "powershell.exe"}));
  EXPECT_EQ(runner.known_in_baseline(), 1u);
  std::remove(db.c_str());
}

TEST(Rarity, SeenBeforeCountsEarlierEventsPerHostPlusTheBaseline) {
  std::string db = temp_db();
  Events events;
  std::vector<RaritySpec> specs(1);
  specs[0].id = "ports";
  specs[0].fields = {events.fields().intern("process.name"), events.fields().intern("destination.port")};
  specs[0].scope = RaritySpec::Scope::Host;
  events.fields().intern("host.name");
  auto store = BaselineStore::open(db);
  ASSERT_TRUE(store.ok());
  auto n = (*store)->spec_number("ports", "test", "r");
  ASSERT_TRUE((*store)->add(*n, "A", "svchost.exe\x1f" "8443", TermStats{5, 1, 2}).ok());
  RarityTracker tracker(specs, events.fields(), store->get(), 1000);
  Event a = events.event(R"({"host":{"name":"A"},"process":{"name":"svchost.exe"},"destination":{"port":8443}})");
  Event b = events.event(R"({"host":{"name":"B"},"process":{"name":"svchost.exe"},"destination":{"port":8443}})");
  Event other = events.event(R"({"host":{"name":"B"},"process":{"name":"svchost.exe"}})");
  EXPECT_EQ(tracker.seen_before(0, a), 5);  // the baseline's count for host A
  EXPECT_EQ(tracker.seen_before(0, b), 0);  // host B never
  tracker.observe(b);
  tracker.observe(b);
  tracker.observe(a);
  EXPECT_EQ(tracker.seen_before(0, b), 2);
  EXPECT_EQ(tracker.seen_before(0, a), 6);
  EXPECT_EQ(tracker.seen_before(0, other), std::nullopt);  // not in the population: no port
  std::remove(db.c_str());
}

TEST(Rarity, TheTableIsBoundedAndEvictionsAreCounted) {
  Events events;
  std::vector<RaritySpec> specs(1);
  specs[0].fields = {events.fields().intern("destination.port")};
  specs[0].scope = RaritySpec::Scope::Fleet;
  RarityTracker tracker(specs, events.fields(), nullptr, 100);
  for (int port = 0; port < 1000; ++port) {
    tracker.observe(events.event(R"({"@timestamp":"2026-01-01T00:00:00Z","destination":{"port":)" +
                                 std::to_string(port) + "}}"));
  }
  EXPECT_LE(tracker.size(), 101u);
  EXPECT_GE(tracker.evicted(), 899u);
}

TEST(BaselineStore, UpsertsAgesCapsAndRemembersInputs) {
  std::string db = temp_db();
  auto store = BaselineStore::open(db);
  ASSERT_TRUE(store.ok());
  BaselineStore& s = **store;
  auto n = s.spec_number("id", "desc", "rule");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*s.spec_number("id", "desc", "rule"), *n);  // the same spec again
  ASSERT_TRUE(s.add(*n, "h", "old", TermStats{1, 10, 10}).ok());
  ASSERT_TRUE(s.add(*n, "h", "t", TermStats{2, 100, 200}).ok());
  ASSERT_TRUE(s.add(*n, "h", "t", TermStats{3, 50, 300}).ok());
  auto t = s.lookup(*n, "h", "t");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->count, 5);
  EXPECT_EQ(t->first_seen, 50);
  EXPECT_EQ(t->last_seen, 300);
  EXPECT_FALSE(s.lookup(*n, "other-host", "t"));
  EXPECT_EQ(*s.age(100), 1u);  // "old" last seen 290 before the newest
  EXPECT_FALSE(s.lookup(*n, "h", "old"));
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(s.add(*n, "h", "x" + std::to_string(i), TermStats{1, i, i}).ok());
  EXPECT_EQ(*s.cap(4), 7u);  // 11 terms → 4: the least recently seen go
  EXPECT_TRUE(s.lookup(*n, "h", "t"));
  EXPECT_EQ(s.term_count(), 4u);
  EXPECT_FALSE(s.learned("k"));
  ASSERT_TRUE(s.record_input("k", "/data/x.evtx", 10).ok());
  EXPECT_TRUE(s.learned("k"));
  std::remove(db.c_str());
}

// --max-terms: a runner holds up to that many terms (16 at least); only one
// more evicts.
TEST(NewTerms, MaxTermsIsTheNumberHeldBeforeEviction) {
  for (auto [distinct, evicts] : {std::pair<int, bool>{16, false}, {17, true}}) {
    Events events;
    const RaritySpec spec = process_names(events);
    NewTermsRunner runner(5 * kMinute, 9 * kMinute, 60 * kMinute, spec, 16, nullptr);
    for (int i = 0; i < distinct; ++i) {
      Event e = events.event(R"({"process":{"name":"p)" + std::to_string(i) + R"("}})");
      runner.add(e, 100 * kMinute + i, static_cast<std::uint64_t>(i), [] { return Detection{}; });
    }
    EXPECT_EQ(runner.evicted() > 0, evicts) << distinct << " distinct terms, --max-terms 16";
  }
}

// Terms whose history range event time has left behind are dropped: they no
// longer count against --max-terms.
TEST(NewTerms, TermsOutOfEveryHistoryRangeAreDropped) {
  Events events;
  const RaritySpec spec = process_names(events);
  NewTermsRunner runner(5 * kMinute, 9 * kMinute, 60 * kMinute, spec, 16, nullptr);
  auto feed = [&](const char* prefix, std::int64_t t) {
    for (int i = 0; i < 16; ++i) {
      Event e = events.event(std::string(R"({"process":{"name":")") + prefix + std::to_string(i) + R"("}})");
      runner.add(e, t, static_cast<std::uint64_t>(i), [] { return Detection{}; });
    }
  };
  feed("old", 100 * kMinute);
  EXPECT_EQ(runner.release(100 * kMinute).size(), 16u);
  EXPECT_EQ(runner.release(1000 * kMinute).size(), 0u);  // 900 minutes on: out of every 60-minute history
  feed("new", 1000 * kMinute);
  EXPECT_EQ(runner.evicted(), 0u);
  EXPECT_EQ(runner.release(1000 * kMinute).size(), 16u);
}

// A term seen steadily keeps only the times an answer can depend on: its
// state stays the same size however long it is seen (thinned to about one
// time per history - lookback of event time).
TEST(NewTerms, ATermSeenSteadilyKeepsBoundedHistory) {
  auto state_after = [](int occurrences) {
    Events events;
    const RaritySpec spec = process_names(events);
    NewTermsRunner runner(5 * kMinute, 9 * kMinute, 60 * kMinute, spec, 1000, nullptr);
    Event e = events.event(R"({"process":{"name":"a"}})");
    for (int i = 0; i < occurrences; ++i) {
      runner.add(e, 100 * kMinute + i * 1000000000LL, static_cast<std::uint64_t>(i), [] { return Detection{}; });
    }
    std::string bytes;
    Encoder out(bytes);
    runner.save(out);
    return bytes.size();
  };
  const std::size_t ten = state_after(10), thousand = state_after(1000);
  EXPECT_LE(thousand, ten + 16) << "10 occurrences: " << ten << " bytes, 1000: " << thousand;
}
