// What goes to a spill file comes back the same: held detections (every
// field, in memory or spilled, through a checkpoint) and alerts waiting to
// be ordered (one sorted run or many merged give the order an in-memory
// stable sort gives, and every alert comes back whole).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "core/codec.h"
#include "detect/held_detections.h"
#include "pipeline/alert_order.h"

using namespace vigil;

namespace {

Detection detection(std::uint64_t i) {
  Detection d;
  d.rule = i % 3;
  d.first_time = static_cast<std::int64_t>(i) * 10;
  d.last_time = d.first_time + 5;
  if (i % 2) d.window_time = d.first_time + 1;
  d.ordinal = i;
  d.events = {"{\"n\":" + std::to_string(i) + "}", ""};
  d.join_keys = "[\"k" + std::to_string(i) + "\"]";
  d.context = std::string(i % 7 * 10, 'c');
  d.event_contexts = {"a", ""};
  d.new_terms = {"t" + std::to_string(i)};
  d.sources = {"{\"path\":\"f" + std::to_string(i) + "\"}", ""};
  if (i % 4 == 1) d.correlation = "{\"type\":\"event_count\"}";
  if (i % 4 == 2) d.threshold = "{\"count\":" + std::to_string(i) + "}";
  if (i % 4 == 3) {
    d.esql = "{\"Esql\":{\"n\":" + std::to_string(i) + "}}";
    d.esql_columns = {"Esql.n"};
  }
  return d;
}

void expect_same(const Detection& a, const Detection& b) {
  EXPECT_EQ(a.rule, b.rule);
  EXPECT_EQ(a.first_time, b.first_time);
  EXPECT_EQ(a.last_time, b.last_time);
  EXPECT_EQ(a.window_time, b.window_time);
  EXPECT_EQ(a.ordinal, b.ordinal);
  EXPECT_EQ(a.events, b.events);
  EXPECT_EQ(a.join_keys, b.join_keys);
  EXPECT_EQ(a.context, b.context);
  EXPECT_EQ(a.event_contexts, b.event_contexts);
  EXPECT_EQ(a.new_terms, b.new_terms);
  EXPECT_EQ(a.sources, b.sources);
  EXPECT_EQ(a.correlation, b.correlation);
  EXPECT_EQ(a.threshold, b.threshold);
  EXPECT_EQ(a.esql, b.esql);
  EXPECT_EQ(a.esql_columns, b.esql_columns);
}

}  // namespace

TEST(HeldDetections, BeyondTheBudgetDetectionsSpillAndComeBackWhole) {
  DetectionSpill spill(2000);  // a few detections fit
  HeldDetections held(spill);
  for (std::uint64_t i = 0; i < 200; ++i) held.put(i, detection(i));
  EXPECT_EQ(held.size(), 200u);
  EXPECT_GT(spill.spilled, 150u);
  EXPECT_LE(spill.in_memory, 2000u);
  EXPECT_GT(spill.in_memory, 0u);
  for (std::uint64_t i = 0; i < 200; i += 3) {
    std::optional<Detection> d = held.take(i);
    ASSERT_TRUE(d) << i;
    expect_same(*d, detection(i));
    EXPECT_FALSE(held.take(i));  // taken once
  }
  held.erase(1);
  EXPECT_FALSE(held.take(1));
  expect_same(held.peek(2), detection(2));
  held.clear();
  EXPECT_EQ(held.size(), 0u);
  EXPECT_EQ(spill.in_memory, 0u);  // every in-memory byte accounted back
}

TEST(HeldDetections, CheckpointCarriesSpilledAndHeldAlike) {
  DetectionSpill spill(1000);
  HeldDetections held(spill);
  for (std::uint64_t i = 0; i < 50; ++i) held.put(i * 7, detection(i));
  std::string bytes;
  Encoder e(bytes);
  held.save(e);
  DetectionSpill other_spill(1 << 20);  // everything in memory this time
  HeldDetections restored(other_spill);
  Decoder d(bytes);
  restored.load(d);
  ASSERT_TRUE(d.ok() && d.at_end());
  EXPECT_EQ(restored.size(), 50u);
  EXPECT_EQ(other_spill.spilled, 0u);
  for (std::uint64_t i = 0; i < 50; ++i) {
    std::optional<Detection> got = restored.take(i * 7);
    ASSERT_TRUE(got);
    expect_same(*got, detection(i));
  }
}

namespace {
PendingAlert pending(std::mt19937& rng, std::uint64_t serial) {
  PendingAlert p;
  p.key.time = static_cast<std::int64_t>(rng() % 20);
  p.key.original_time = static_cast<std::int64_t>(rng() % 5);
  p.key.rule_name = std::string(1, static_cast<char>('a' + rng() % 3));
  p.key.id = std::to_string(rng() % 4);  // ties on every key: stability shows
  p.alert.rule = serial;
  p.alert.time = p.key.time;
  p.alert.detection = detection(serial);
  p.alert.detection.events[0] += std::string(rng() % 300, ' ');
  if (serial % 5 == 0) p.alert.suppression = Suppression{serial, 1, 2, "[\"s\"]"};
  return p;
}

std::vector<std::size_t> serials(const std::vector<PendingAlert>& alerts) {
  std::vector<std::size_t> out;
  for (const PendingAlert& a : alerts) out.push_back(a.alert.rule);
  return out;
}
}  // namespace

TEST(AlertOrder, MergedRunsGiveTheOrderOfAStableSortInMemory) {
  for (std::size_t budget : {std::size_t{1} << 30, std::size_t{4000}, std::size_t{1}}) {
    std::mt19937 rng(7);
    std::vector<PendingAlert> alerts;
    AlertOrder order(budget);
    for (std::size_t i = 0; i < 2000; ++i) {
      alerts.push_back(pending(rng, i));
      order.add(alerts.back());
    }
    std::stable_sort(alerts.begin(), alerts.end(), [](const PendingAlert& x, const PendingAlert& y) {
      const AlertKey& a = x.key;
      const AlertKey& b = y.key;
      return std::tie(a.time, a.original_time, a.rule_name, a.id) < std::tie(b.time, b.original_time, b.rule_name, b.id);
    });
    std::vector<PendingAlert> got;
    order.flush([&](PendingAlert& a) { got.push_back(std::move(a)); });
    EXPECT_EQ(serials(got), serials(alerts)) << "budget " << budget;
    ASSERT_EQ(got.size(), alerts.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      expect_same(got[i].alert.detection, alerts[i].alert.detection);
      EXPECT_EQ(got[i].alert.time, alerts[i].alert.time);
      ASSERT_EQ(got[i].alert.suppression.has_value(), alerts[i].alert.suppression.has_value());
      if (got[i].alert.suppression) {
        EXPECT_EQ(got[i].alert.suppression->docs_count, alerts[i].alert.suppression->docs_count);
        EXPECT_EQ(got[i].alert.suppression->terms_json, alerts[i].alert.suppression->terms_json);
      }
    }
    // Flushed means forgotten: the next flush hands out only what came after.
    order.add(pending(rng, 99999));
    std::vector<std::size_t> after;
    order.flush([&](PendingAlert& a) { after.push_back(a.alert.rule); });
    EXPECT_EQ(after, std::vector<std::size_t>{99999});
  }
}
