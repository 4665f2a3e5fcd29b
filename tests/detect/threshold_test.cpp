// Threshold rules: the runner against a literal reading of Elastic's rule
// executions (every run's window grouped and counted, minus what earlier
// signals of the group counted), on random inputs in random order.
#include "detect/threshold.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <tuple>

#include "core/codec.h"
#include "core/timestamp.h"
#include "ingest/event_reader.h"

using namespace vigil;

namespace {

constexpr std::int64_t kMinute = 60LL * 1000000000LL;

struct Occurrence {
  std::string host;  // the threshold field (host.id); "" = the event lacks it
  std::string user;  // the cardinality field (user.name)
  std::int64_t t;
};

// (group, run time, count, from, to, distinct) of each signal.
using Signal = std::tuple<std::string, std::int64_t, std::size_t, std::int64_t, std::int64_t, std::size_t>;

std::vector<Signal> brute_force(const std::vector<Occurrence>& occ, std::int64_t interval, std::int64_t lookback,
                                std::int64_t value, std::int64_t cardinality) {
  std::vector<Signal> out;
  std::int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (const auto& o : occ) lo = std::min(lo, o.t), hi = std::max(hi, o.t);
  std::map<std::string, std::int64_t> last_signal;
  for (std::int64_t e = (lo / interval) * interval; e <= hi + lookback + interval; e += interval) {
    std::map<std::string, std::vector<const Occurrence*>> groups;
    for (const auto& o : occ) {
      if (o.host.empty() || o.t < e - lookback || o.t > e) continue;
      auto it = last_signal.find(o.host);
      if (it != last_signal.end() && o.t <= it->second) continue;
      groups[o.host].push_back(&o);
    }
    for (const auto& [host, list] : groups) {
      std::set<std::string> users;
      std::int64_t from = INT64_MAX, to = INT64_MIN;
      for (const Occurrence* o : list) {
        if (!o->user.empty()) users.insert(o->user);
        from = std::min(from, o->t);
        to = std::max(to, o->t);
      }
      if (static_cast<std::int64_t>(list.size()) < value) continue;
      if (cardinality && static_cast<std::int64_t>(users.size()) < cardinality) continue;
      out.emplace_back(host, e, list.size(), from, to, cardinality ? users.size() : 0);
      last_signal[host] = to;
    }
  }
  return out;
}

std::vector<Signal> run(const std::vector<Occurrence>& occ, std::int64_t interval, std::int64_t lookback,
                        std::int64_t value, std::int64_t cardinality, bool release_as_we_go) {
  FieldRegistry fields;
  EventReader reader(fields);
  Rule rule;
  rule.type = "threshold";
  rule.interval_ns = interval;
  rule.lookback_ns = lookback;
  rule.threshold = ThresholdSpec{{"host.id"}, value, cardinality ? "user.name" : "", cardinality};
  CompiledRule::Threshold t{{fields.intern("host.id")}, std::nullopt};
  if (cardinality) t.cardinality_field = fields.intern("user.name");
  ThresholdRunner runner(rule, t, 0, 1000);
  std::vector<Detection> found;
  Arena arena;
  for (std::size_t i = 0; i < occ.size(); ++i) {
    std::string doc = "{";
    if (!occ[i].host.empty()) doc += R"("host":{"id":")" + occ[i].host + "\"}";
    if (!occ[i].user.empty())
      doc += std::string(doc.size() > 1 ? "," : "") + R"("user":{"name":")" + occ[i].user + "\"}";
    doc += "}";
    Event e;
    std::string reason;
    EXPECT_TRUE(reader.decode_one(doc, e, arena, reason)) << reason;
    runner.add(e, occ[i].t, i);
    // In time order, event time passes each event: runs before it may go.
    if (release_as_we_go) {
      for (Detection& d : runner.release(occ[i].t - 1)) found.push_back(std::move(d));
    }
  }
  for (Detection& d : runner.finish()) found.push_back(std::move(d));
  std::vector<Signal> out;
  simdjson::dom::parser parser;
  for (const Detection& d : found) {
    simdjson::dom::element r = parser.parse(d.threshold);
    const std::string host(r["terms"].at(0)["value"].get_string().value());
    const std::size_t count = r["count"].get_uint64().value();
    const std::int64_t from = *parse_timestamp_text(std::string(r["from"].get_string().value()));
    std::size_t distinct = 0;
    if (r["cardinality"].get_array().size() > 0) distinct = r["cardinality"].at(0)["value"].get_uint64().value();
    out.emplace_back(host, *d.window_time, count, from, d.last_time, distinct);
  }
  std::sort(out.begin(), out.end(), [](const Signal& a, const Signal& b) {
    return std::tie(std::get<1>(a), std::get<0>(a)) < std::tie(std::get<1>(b), std::get<0>(b));
  });
  return out;
}

}  // namespace

TEST(Threshold, AgreesWithElasticRunsOnRandomInputs) {
  std::mt19937 rng(11);
  const std::int64_t interval = 5 * kMinute, lookback = 9 * kMinute;
  for (int round = 0; round < 400; ++round) {
    std::vector<Occurrence> occ;
    const int n = 5 + static_cast<int>(rng() % 60);
    for (int i = 0; i < n; ++i) {
      // Whole seconds: the brute force and the runner see the same times.
      const std::int64_t t = 1000 * kMinute + static_cast<std::int64_t>(rng() % (90 * 60)) * 1000000000LL;
      std::string host = rng() % 10 == 0 ? "" : std::string(1, static_cast<char>('a' + rng() % 3));
      std::string user = rng() % 4 == 0 ? "" : std::string(1, static_cast<char>('p' + rng() % 4));
      occ.push_back({host, user, t});
    }
    const std::int64_t value = 1 + static_cast<std::int64_t>(rng() % 6);
    const std::int64_t cardinality = rng() % 2 ? 0 : 1 + static_cast<std::int64_t>(rng() % 3);
    auto want = brute_force(occ, interval, lookback, value, cardinality);
    std::sort(want.begin(), want.end(), [](const Signal& a, const Signal& b) {
      return std::tie(std::get<1>(a), std::get<0>(a)) < std::tie(std::get<1>(b), std::get<0>(b));
    });
    // Any input order with the runs at the end; and time order with runs released as event time passes.
    EXPECT_EQ(run(occ, interval, lookback, value, cardinality, false), want) << "round " << round;
    std::sort(occ.begin(), occ.end(), [](const Occurrence& a, const Occurrence& b) { return a.t < b.t; });
    EXPECT_EQ(run(occ, interval, lookback, value, cardinality, true), want) << "round " << round << " (in order)";
  }
}

// A rule "at least 2 events per host.id", and events of one host each.
struct PerHost {
  FieldRegistry fields;
  EventReader reader{fields};
  Rule rule;
  CompiledRule::Threshold threshold{{fields.intern("host.id")}, std::nullopt};
  Arena arena;
  PerHost() {
    rule.type = "threshold";
    rule.threshold = ThresholdSpec{{"host.id"}, 2, "", 0};
  }
  Event event(const std::string& host) {
    Event e;
    std::string reason;
    EXPECT_TRUE(reader.decode_one(R"({"host":{"id":")" + host + "\"}}", e, arena, reason)) << reason;
    return e;
  }
};

TEST(Threshold, GroupsAreBoundedAndEvictionsCounted) {
  PerHost p;
  ThresholdRunner runner(p.rule, p.threshold, 0, 100);
  for (int i = 0; i < 1000; ++i)
    runner.add(p.event("h" + std::to_string(i)), 1000 * kMinute + i, static_cast<std::uint64_t>(i));
  EXPECT_GE(runner.evicted(), 900u);
  EXPECT_TRUE(runner.finish().empty());
}

TEST(Threshold, ACheckpointCarriesTheGroupsAndTheirSignalHistory) {
  PerHost p;
  ThresholdRunner before(p.rule, p.threshold, 0, 100);
  before.add(p.event("a"), 998 * kMinute, 0);
  before.add(p.event("a"), 998 * kMinute + 1000000000LL, 1);
  EXPECT_EQ(before.release(1000 * kMinute).size(), 1u);  // the run at 1000m: window [991m, 1000m], count 2
  std::string bytes;
  Encoder out(bytes);
  before.save(out);
  ThresholdRunner after(p.rule, p.threshold, 0, 100);
  Decoder in(bytes);
  after.load(in);
  ASSERT_TRUE(in.ok());
  // Two more in the next run's window [996m, 1005m], which also holds the first two: only
  // the new ones count (the group's signal history came through the checkpoint: else 4).
  after.add(p.event("a"), 1001 * kMinute, 2);
  after.add(p.event("a"), 1002 * kMinute, 3);
  // One from before the run at 1000m's window: every run that could see it is done.
  after.add(p.event("a"), 990 * kMinute, 4);
  EXPECT_EQ(after.late(), 1u);
  auto rest = after.finish();
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_NE(rest[0].threshold.find("\"count\":2"), std::string::npos) << rest[0].threshold;
}
