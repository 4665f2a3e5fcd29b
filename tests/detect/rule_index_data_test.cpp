// The rule index against brute force on real telemetry: for every event of
// the OTRF recordings, every Elastic Windows rule whose query (or one of
// whose sequence terms) matches the event must be among the index's
// candidates for it. The index may narrow; it may never leave a match out.
#include <gtest/gtest.h>

#include <filesystem>

#include "detect/rule_set.h"
#include "ingest/event_reader.h"

using namespace vigil;

TEST(RuleIndexOnRealData, NoRuleThatMatchesAnEventIsLeftOutOfItsCandidates) {
  const std::string shared = VIGIL_SHARED_DIR;
  const std::string data = shared + "/data/otrf-security-datasets";
  ASSERT_TRUE(std::filesystem::exists(data)) << "no " << data << ": this test reads ../shared";
  auto set = compile_rules({shared + "/rules/elastic/windows"});
  ASSERT_EQ(set->failed(), 0u);
  // Per rule: the programs an event is tested with (a sequence's terms, `until` included).
  std::vector<std::vector<const eql::Program*>> programs;
  for (const CompiledRule& c : set->compiled) programs.push_back(eql::term_programs(c.query));
  ReaderOptions options;
  options.batch_size = 512;
  EventReader reader(set->fields, options);
  RuleIndex::Scratch scratch;
  eql::EvalContext context;
  std::vector<std::size_t> candidates;
  std::vector<std::uint64_t> candidate_at(set->compiled.size(), ~std::uint64_t{0});
  std::uint64_t serial = 0, matches = 0, missed = 0, evaluations_saved = 0;
  ReadStats stats;
  reader.read_all({data}, [&](EventBatch& batch) {
    for (const Event& e : batch.events) {
      candidates.clear();
      set->index->candidates(e, candidates, scratch);
      for (std::size_t r : candidates) candidate_at[r] = serial;
      for (std::size_t r = 0; r < programs.size(); ++r) {
        const bool candidate = candidate_at[r] == serial;
        evaluations_saved += !candidate;
        for (const eql::Program* p : programs[r]) {
          if (!eql::matches(*p, e, context)) continue;
          ++matches;
          if (!candidate && ++missed <= 10) {
            ADD_FAILURE() << "rule \"" << set->compiled[r].rule->name << "\" matches event " << e.ordinal
                          << " but is not a candidate: " << e.source.substr(0, 2000);
          }
          break;
        }
      }
      ++serial;
    }
    return true;
  }, stats);
  EXPECT_GT(stats.events, 700'000u);
  EXPECT_GT(matches, 40'000u);  // term and rule matches: the check has something to check
  EXPECT_EQ(missed, 0u);
  // And the index narrows: most rules are never tried on most events.
  EXPECT_GT(evaluations_saved, serial * programs.size() * 99 / 100);
}
