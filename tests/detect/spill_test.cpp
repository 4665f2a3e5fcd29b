// What goes to a spill file comes back the same: held detections (every
// field, in memory or spilled, through a checkpoint) and alert lines (one
// sorted run or many merged give the order an in-memory stable sort gives).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "core/codec.h"
#include "detect/held_detections.h"
#include "pipeline/alert_line_sorter.h"

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
std::vector<AlertLine> group(std::mt19937& rng, std::size_t serial) {
  std::vector<AlertLine> g(1 + rng() % 3);
  AlertSummary& s = g[0].summary;
  s.time = static_cast<std::int64_t>(rng() % 20);
  s.original_time = static_cast<std::int64_t>(rng() % 5);
  s.rule_name = std::string(1, static_cast<char>('a' + rng() % 3));
  s.id = std::to_string(rng() % 4);  // ties on every key: stability shows
  s.reason = "serial " + std::to_string(serial);
  g[0].json = std::string(rng() % 300, 'x') + "\n";
  for (std::size_t k = 1; k < g.size(); ++k) {
    g[k].summary.building_block = true;
    g[k].summary.id = std::to_string(serial) + "." + std::to_string(k);
  }
  return g;
}

std::vector<std::string> serials(const std::vector<AlertLine>& lines) {
  std::vector<std::string> out;
  for (const AlertLine& l : lines) out.push_back(l.summary.building_block ? l.summary.id : l.summary.reason);
  return out;
}
}  // namespace

TEST(AlertLineSorter, MergedRunsGiveTheOrderOfAStableSortInMemory) {
  for (std::size_t budget : {std::size_t{1} << 30, std::size_t{4000}, std::size_t{1}}) {
    std::mt19937 rng(7);
    std::vector<std::vector<AlertLine>> groups;
    AlertLineSorter sorter(budget);
    for (std::size_t i = 0; i < 2000; ++i) {
      groups.push_back(group(rng, i));
      sorter.add(groups.back());
    }
    std::stable_sort(groups.begin(), groups.end(), [](const auto& x, const auto& y) {
      const AlertSummary& a = x[0].summary;
      const AlertSummary& b = y[0].summary;
      return std::tie(a.time, a.original_time, a.rule_name, a.id) < std::tie(b.time, b.original_time, b.rule_name, b.id);
    });
    std::vector<AlertLine> expected;
    for (auto& g : groups) expected.insert(expected.end(), g.begin(), g.end());
    std::vector<AlertLine> got;
    std::size_t calls = 0;
    sorter.flush([&](std::vector<AlertLine>& lines) {
      ++calls;
      for (AlertLine& l : lines) got.push_back(std::move(l));
    });
    EXPECT_EQ(serials(got), serials(expected)) << "budget " << budget;
    ASSERT_EQ(got.size(), expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].json, expected[i].json);
    EXPECT_GT(calls, 1u);  // handed out in pieces, not all at once
    // Flushed means forgotten: the next flush hands out only what came after.
    sorter.add(group(rng, 99999));
    std::size_t after = 0;
    sorter.flush([&](std::vector<AlertLine>& lines) { after += lines.size(); });
    EXPECT_GE(after, 1u);
    EXPECT_LE(after, 3u);
  }
}
