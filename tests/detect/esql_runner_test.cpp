// ES|QL rules: the runner against a literal reading of Elastic's rule
// executions (every aligned run over [E - lookback, E] runs the whole query
// with NOW() = E; an aggregating query's rows alert at every run that
// returns them; a non-aggregating one's once per event), on random inputs.
#include "detect/esql_runner.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <map>
#include <random>
#include <tuple>

#include "core/codec.h"
#include "esql/parser.h"
#include "ingest/event_reader.h"

using namespace vigil;

namespace {

constexpr std::int64_t kMinute = 60LL * 1000000000LL;

struct Occurrence {
  std::string host;  // "" = no host.id
  std::int64_t code;  // event.code
  std::int64_t t;
};

// The query under test: hosts with at least `min` events of code 1 in a
// window, and how recent their first one is.
std::string aggregating_query(int min) {
  return "FROM logs-* | WHERE event.code == \"1\" | STATS n = COUNT(*), first = MIN(@timestamp) BY host.id "
         "| EVAL age = DATE_DIFF(\"minute\", first, NOW()) | WHERE n >= " +
         std::to_string(min) + " | KEEP host.id, n, age";
}

// (run time, host, n, age) per alert.
using Signal = std::tuple<std::int64_t, std::string, std::int64_t, std::int64_t>;

std::vector<Signal> brute_force(const std::vector<Occurrence>& occ, std::int64_t interval, std::int64_t lookback, int min) {
  std::vector<Signal> out;
  std::int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (const auto& o : occ) lo = std::min(lo, o.t), hi = std::max(hi, o.t);
  for (std::int64_t e = (lo / interval) * interval; e <= hi + lookback + interval; e += interval) {
    std::map<std::string, std::pair<std::int64_t, std::int64_t>> groups;  // BY host.id (null is a group: "")
    bool any = false;
    for (const auto& o : occ) {
      if (o.t < e - lookback || o.t > e || o.code != 1) continue;
      any = true;
      auto [it, fresh] = groups.try_emplace(o.host, 0, o.t);
      ++it->second.first;
      it->second.second = std::min(it->second.second, o.t);
    }
    if (!any) continue;
    for (const auto& [host, g] : groups) {
      if (g.first < min) continue;
      // DATE_DIFF at millisecond precision (ES|QL's datetime), in whole minutes.
      const std::int64_t first_ms = g.second / 1000000;
      out.emplace_back(e, host, g.first, (e / 1000000 - first_ms) / 60000);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

struct Harness {
  FieldRegistry fields;
  EventReader reader{fields};
  Rule rule;
  esql::Query query;
  std::shared_ptr<const esql::Plan> plan;
  std::shared_ptr<const esql::EventRows> rows;
  Arena arena;
  Harness(const std::string& text, std::int64_t interval, std::int64_t lookback) {
    rule.type = "esql";
    rule.interval_ns = interval;
    rule.lookback_ns = lookback;
    auto q = esql::parse_query(text);
    EXPECT_TRUE(q.ok());
    auto p = esql::compile_plan(*q);
    EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().message);
    plan = std::make_shared<const esql::Plan>(std::move(*p));
    rows = std::make_shared<const esql::EventRows>(*plan, fields);
  }
  Event event(const Occurrence& o) {
    std::string doc = "{\"@timestamp\":\"" + format_timestamp(o.t) + "\",\"event\":{\"code\":\"" + std::to_string(o.code) + "\"}";
    if (!o.host.empty()) doc += R"(,"host":{"id":")" + o.host + "\"}";
    doc += "}";
    Event e;
    std::string reason;
    EXPECT_TRUE(reader.decode_one(doc, e, arena, reason)) << reason;
    e.timestamp_ns = o.t;
    e.has_timestamp = true;
    return e;
  }
};

std::vector<Signal> signals_of(const std::vector<Detection>& found) {
  std::vector<Signal> out;
  simdjson::dom::parser parser;
  for (const Detection& d : found) {
    simdjson::dom::element r = parser.parse(d.events[0]);
    std::string host;
    if (auto h = r["host"]["id"].get_string(); !h.error()) host = std::string(h.value());
    out.emplace_back(*d.window_time, host, r["n"].get_int64().value(), r["age"].get_int64().value());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST(EsqlRunner, AggregatingRulesAgreeWithElasticRunsOnRandomInputs) {
  std::mt19937 rng(5);
  const std::int64_t interval = 5 * kMinute, lookback = 9 * kMinute;
  for (int round = 0; round < 200; ++round) {
    std::vector<Occurrence> occ;
    const int n = 3 + static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) {
      const std::int64_t t = 1000 * kMinute + static_cast<std::int64_t>(rng() % (60 * 60)) * 1000000000LL;
      occ.push_back({rng() % 8 == 0 ? "" : std::string(1, static_cast<char>('a' + rng() % 3)),
                     static_cast<std::int64_t>(rng() % 4 == 0 ? 2 : 1), t});
    }
    std::sort(occ.begin(), occ.end(), [](const auto& a, const auto& b) { return a.t < b.t; });
    const int min = 1 + static_cast<int>(rng() % 4);
    Harness h(aggregating_query(min), interval, lookback);
    CompiledRule::Esql esql{h.plan, h.rows};
    EsqlRunner runner(h.rule, esql, 0, 100000);
    std::vector<Detection> found;
    for (std::size_t i = 0; i < occ.size(); ++i) {
      std::vector<Detection> none;
      runner.add(h.event(occ[i]), occ[i].t, [] { return Detection{}; }, none);
      EXPECT_TRUE(none.empty());
      for (Detection& d : runner.release(occ[i].t - 1)) found.push_back(std::move(d));
    }
    for (Detection& d : runner.finish()) found.push_back(std::move(d));
    EXPECT_EQ(signals_of(found), brute_force(occ, interval, lookback, min)) << "round " << round;
  }
}

TEST(EsqlRunner, NonAggregatingRulesStreamOneDetectionPerRowWithTheComputedColumns) {
  Harness h("FROM x | WHERE event.code == \"1\" | EVAL Esql.len = LENGTH(host.id) | MV_EXPAND host.id", 5 * kMinute,
            9 * kMinute);
  CompiledRule::Esql esql{h.plan, h.rows};
  EsqlRunner runner(h.rule, esql, 0, 100);
  std::vector<Detection> out;
  runner.add(h.event({"abc", 1, 1000 * kMinute}), 1000 * kMinute, [] { return Detection{}; }, out);
  runner.add(h.event({"abc", 2, 1000 * kMinute}), 1000 * kMinute, [] { return Detection{}; }, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].esql, R"({"Esql":{"len":3}})");
  // A row that computed nothing adds nothing (an empty object would read as an aggregating row).
  Harness plain("FROM x | WHERE event.code == \"1\" | KEEP *", 5 * kMinute, 9 * kMinute);
  CompiledRule::Esql plain_esql{plain.plan, plain.rows};
  EsqlRunner plain_runner(plain.rule, plain_esql, 0, 100);
  std::vector<Detection> plain_out;
  plain_runner.add(plain.event({"abc", 1, 1000 * kMinute}), 1000 * kMinute, [] { return Detection{}; }, plain_out);
  ASSERT_EQ(plain_out.size(), 1u);
  EXPECT_TRUE(plain_out[0].esql.empty());
  EXPECT_TRUE(plain_out[0].esql_columns.empty());
  EXPECT_EQ(out[0].esql_columns, (std::vector<std::string>{"Esql.len"}));
  EXPECT_TRUE(runner.finish().empty());
}

TEST(EsqlRunner, SortAndLimitRunPerWindowAndAlertAnEventOnce) {
  // LIMIT 1 per run, latest first: each run alerts its newest event not alerted before.
  Harness h("FROM x | WHERE event.code == \"1\" | EVAL Esql.len = LENGTH(host.id) | SORT @timestamp DESC | LIMIT 1",
            5 * kMinute, 9 * kMinute);
  CompiledRule::Esql esql{h.plan, h.rows};
  EsqlRunner runner(h.rule, esql, 0, 100);
  std::vector<Detection> none;
  std::uint64_t ordinal = 0;
  for (std::int64_t t : {996 * kMinute, 997 * kMinute}) {
    Event e = h.event({"a", 1, t});
    e.ordinal = ordinal++;
    runner.add(e, t, [t] { Detection d; d.first_time = t; return d; }, none);
  }
  auto found = runner.finish();
  // The run at 1000m returns the 997m event; the run at 1005m returns it again (deduplicated) and nothing else.
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].first_time, 997 * kMinute);
  // Its alert holds the computed column, as a streamed row's does.
  EXPECT_EQ(found[0].esql, R"({"Esql":{"len":1}})");
  EXPECT_EQ(found[0].esql_columns, (std::vector<std::string>{"Esql.len"}));
}

TEST(EsqlRunner, ACheckpointCarriesTheHeldRows) {
  const std::int64_t interval = 5 * kMinute, lookback = 9 * kMinute;
  Harness h(aggregating_query(2), interval, lookback);
  CompiledRule::Esql esql{h.plan, h.rows};
  EsqlRunner before(h.rule, esql, 0, 100);
  std::vector<Detection> none;
  before.add(h.event({"a", 1, 996 * kMinute}), 996 * kMinute, [] { return Detection{}; }, none);
  EXPECT_TRUE(before.release(1000 * kMinute).empty());  // one event: n = 1 < 2
  std::string bytes;
  Encoder out(bytes);
  before.save(out);
  EsqlRunner after(h.rule, esql, 0, 100);
  Decoder in(bytes);
  after.load(in);
  ASSERT_TRUE(in.ok());
  // The run at 1005m sees [996m, 1005m]: the held row and this one.
  after.add(h.event({"a", 1, 1001 * kMinute}), 1001 * kMinute, [] { return Detection{}; }, none);
  // A row older than every run still to come is late.
  after.add(h.event({"a", 1, 990 * kMinute}), 990 * kMinute, [] { return Detection{}; }, none);
  EXPECT_EQ(after.late(), 1u);
  auto found = after.finish();
  ASSERT_EQ(signals_of(found), (std::vector<Signal>{{1005 * kMinute, "a", 2, 9}}));
}

TEST(EsqlRunner, HeldRowsAreBoundedAndEvictionsCounted) {
  Harness h(aggregating_query(1), 5 * kMinute, 9 * kMinute);
  CompiledRule::Esql esql{h.plan, h.rows};
  EsqlRunner runner(h.rule, esql, 0, 100);
  std::vector<Detection> none;
  for (int i = 0; i < 1000; ++i) runner.add(h.event({"a", 1, 1000 * kMinute + i}), 1000 * kMinute + i, [] { return Detection{}; }, none);
  EXPECT_EQ(runner.evicted(), 900u);
}
