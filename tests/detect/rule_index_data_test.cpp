// The rule index against brute force on real telemetry: for every event of
// the OTRF recordings, every Elastic Windows rule whose query (or one of
// whose sequence terms) matches the event must be among the index's
// candidates for it; the same for SigmaHQ's Windows rules over the EVTX
// attack samples and SigmaHQ's regression recordings (Sigma rules have
// their own shapes: a field under several names, keyword searches). The
// index may narrow; it may never leave a match out.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "cli/event_output.h"
#include "detect/rule_set.h"
#include "ingest/event_reader.h"

using namespace vigil;

namespace {
struct BruteForce {
  std::uint64_t events = 0, matches = 0, missed = 0, evaluations_saved = 0, evaluations = 0;
};

// Every event of `inputs` against every rule of `set`, compared with the index's candidates.
BruteForce check_against_brute_force(const RuleSet& set, const std::vector<std::string>& inputs) {
  // Per rule: the programs an event is tested with (a sequence's terms, `until` included).
  std::vector<std::vector<const eql::Program*>> programs;
  for (const CompiledRule& c : set.compiled) programs.push_back(eql::term_programs(c.query));
  ReaderOptions options;
  options.batch_size = 512;
  EventReader reader(set.fields, options);
  RuleIndex::Scratch scratch;
  eql::EvalContext context;
  std::vector<std::size_t> candidates;
  std::vector<std::uint64_t> candidate_at(set.compiled.size(), ~std::uint64_t{0});
  BruteForce out;
  ReadStats stats;
  reader.read_all(inputs, [&](EventBatch& batch) {
    for (const Event& e : batch.events) {
      candidates.clear();
      set.index->candidates(e, candidates, scratch);
      for (std::size_t r : candidates) candidate_at[r] = out.events;
      for (std::size_t r = 0; r < programs.size(); ++r) {
        const bool candidate = candidate_at[r] == out.events;
        out.evaluations_saved += !candidate;
        ++out.evaluations;
        for (const eql::Program* p : programs[r]) {
          if (!eql::matches(*p, e, context)) continue;
          ++out.matches;
          if (!candidate && ++out.missed <= 10) {
            ADD_FAILURE() << "rule \"" << set.compiled[r].rule->name << "\" (" << set.compiled[r].rule->file
                          << ") matches event " << e.ordinal << " but is not a candidate: " << e.source.substr(0, 2000);
          }
          break;
        }
      }
      ++out.events;
    }
    return true;
  }, stats);
  return out;
}
}  // namespace

TEST(RuleIndexOnRealData, NoRuleThatMatchesAnEventIsLeftOutOfItsCandidates) {
  const std::string shared = VIGIL_SHARED_DIR;
  const std::string data = shared + "/data/otrf-security-datasets";
  ASSERT_TRUE(std::filesystem::exists(data)) << "no " << data << ": this test reads ../shared";
  auto set = compile_rules({shared + "/rules/elastic/windows"});
  ASSERT_EQ(set->failed(), 0u);
  const BruteForce r = check_against_brute_force(*set, {data});
  EXPECT_GT(r.events, 700'000u);
  EXPECT_GT(r.matches, 40'000u);  // term and rule matches: the check has something to check
  EXPECT_EQ(r.missed, 0u);
  // And the index narrows: most rules are never tried on most events.
  EXPECT_GT(r.evaluations_saved, r.evaluations * 99 / 100);
}

TEST(RuleIndexOnRealData, NoSigmaRuleThatMatchesAnEventIsLeftOutOfItsCandidates) {
  const std::string shared = VIGIL_SHARED_DIR;
  const std::string sigma = shared + "/rules/sigma/sigmahq";
  ASSERT_TRUE(std::filesystem::exists(sigma)) << "no " << sigma << ": this test reads ../shared";
  auto set = compile_rules({sigma + "/rules/windows"});
  EXPECT_GT(set->compiled.size(), 2'000u);
  const BruteForce r =
      check_against_brute_force(*set, {shared + "/data/evtx-attack-samples", sigma + "/regression_data"});
  EXPECT_GT(r.events, 8'000u);
  EXPECT_GT(r.matches, 1'000u);
  EXPECT_EQ(r.missed, 0u);
  EXPECT_GT(r.evaluations_saved, r.evaluations * 95 / 100);
}

// An ES|QL rule's prefilter (the EQL the index files and the matcher runs
// before the plan) may only narrow: every event whose row the plan's
// streaming part keeps must pass it. Over the OTRF recordings, the EVTX
// attack samples and the 28 rules' own test events (which do pass).
TEST(EsqlPrefilterOnRealData, EveryEventThePlanKeepsPassesThePrefilter) {
  const std::string shared = VIGIL_SHARED_DIR;
  const std::string source = VIGIL_SOURCE_DIR;
  ASSERT_TRUE(std::filesystem::exists(shared + "/data")) << "this test reads ../shared";
  auto set = compile_rules({shared + "/rules/elastic/windows"});
  ASSERT_EQ(set->failed(), 0u);
  std::vector<const CompiledRule*> esql;
  for (const CompiledRule& c : set->compiled) {
    if (c.esql) esql.push_back(&c);
  }
  ASSERT_EQ(esql.size(), 28u);
  ReaderOptions options;
  options.batch_size = 512;
  EventReader reader(set->fields, options);
  eql::EvalContext context;
  esql::RunContext now{1714557600000000000};
  std::uint64_t kept = 0, missed = 0;
  ReadStats stats;
  reader.read_all({shared + "/data/otrf-security-datasets", shared + "/data/evtx-attack-samples",
                   source + "/rules/tests/elastic"},
                  [&](EventBatch& batch) {
                    for (const Event& e : batch.events) {
                      for (const CompiledRule* c : esql) {
                        std::vector<esql::Row> rows;
                        c->esql->plan->stream(c->esql->rows->row(e, "id"), rows, now);
                        if (rows.empty()) continue;
                        ++kept;
                        if (!eql::matches(*c->query.event, e, context) && ++missed <= 10) {
                          ADD_FAILURE() << "rule \"" << c->rule->name << "\" keeps event " << e.ordinal
                                        << " its prefilter (" << c->esql->plan->prefilter()
                                        << ") rejects: " << e.source.substr(0, 2000);
                        }
                      }
                    }
                    return true;
                  },
                  stats);
  EXPECT_GT(kept, 100u);  // the check has something to check
  EXPECT_EQ(missed, 0u);
}

// Fields decoded only in events of the kinds their rules take
// (RuleIndex::deferral()): SigmaHQ's Windows rules over OTRF recordings
// converted to ECS NDJSON (as `vigil convert` writes them; the single-pass
// walk, where fields are deferred, reads that form): every event read with
// the deferral, against the same line decoded whole, gets the same rules as
// candidates where one matches, and every candidate rule the same answer.
TEST(FieldDeferralOnRealData, RulesGetTheSameAnswersWithDeferredFieldsLeftOut) {
  const std::string shared = VIGIL_SHARED_DIR;
  const std::string data = shared + "/data/otrf-security-datasets";
  ASSERT_TRUE(std::filesystem::exists(data)) << "no " << data << ": this test reads ../shared";
  auto set = compile_rules({shared + "/rules/sigma/sigmahq/rules/windows"});
  const std::shared_ptr<const FieldDeferral> deferral = set->index->deferral(set->fields);
  ASSERT_NE(deferral, nullptr);

  // The first 300 k events of the recordings, converted.
  char path[] = "/tmp/vigil_deferral_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  {
    FieldRegistry raw_fields;
    const EcsDocumentWriter ecs(raw_fields);
    EventReader raw(raw_fields);
    std::string out;
    std::uint64_t converted = 0;
    ReadStats stats;
    raw.read_all({data}, [&](EventBatch& batch) {
      for (const Event& e : batch.events) {
        ecs.append(out, e, false);
        out += '\n';
      }
      EXPECT_EQ(::write(fd, out.data(), out.size()), static_cast<ssize_t>(out.size()));
      out.clear();
      converted += batch.events.size();
      return converted < 300'000;
    }, stats);
    ::close(fd);
  }

  ReaderOptions options;
  options.batch_size = 512;
  options.deferral = deferral;
  EventReader reader(set->fields, options);
  EventReader whole(set->fields);
  std::vector<std::vector<const eql::Program*>> programs;
  for (const CompiledRule& c : set->compiled) programs.push_back(eql::term_programs(c.query));
  RuleIndex::Scratch scratch, whole_scratch;
  eql::EvalContext context;
  Arena arena;
  Event full;
  std::vector<std::size_t> candidates, whole_candidates;
  std::uint64_t events = 0, left_out = 0, matches = 0, differences = 0;
  auto matches_rule = [&](std::size_t r, const Event& e) {
    return std::any_of(programs[r].begin(), programs[r].end(), [&](const eql::Program* p) { return eql::matches(*p, e, context); });
  };
  ReadStats stats;
  reader.read(path, 0, [&](EventBatch& batch) {
    for (const Event& e : batch.events) {
      ++events;
      arena.reset();
      std::string reason;
      if (!whole.decode_one(e.source, full, arena, reason)) {
        ADD_FAILURE() << reason;
        continue;
      }
      for (FieldId f = 0; f < set->fields.size(); ++f) {
        if (deferral->deferred(f) && e.get(f).is_null() && !full.get(f).is_null()) {
          ++left_out;
          break;
        }
      }
      candidates.clear();
      whole_candidates.clear();
      set->index->candidates(e, candidates, scratch);
      set->index->candidates(full, whole_candidates, whole_scratch);
      for (std::size_t r : whole_candidates) {
        const bool answer = matches_rule(r, full);
        matches += answer;
        const bool candidate = std::find(candidates.begin(), candidates.end(), r) != candidates.end();
        if ((answer && !candidate) || (candidate && matches_rule(r, e) != answer)) {
          if (++differences <= 10) {
            ADD_FAILURE() << "rule \"" << set->compiled[r].rule->name << "\": " << (answer ? "matches" : "does not match")
                          << " the whole event, not with deferred fields left out: " << e.source.substr(0, 2000);
          }
        }
      }
      for (std::size_t r : candidates) {
        if (std::find(whole_candidates.begin(), whole_candidates.end(), r) == whole_candidates.end() &&
            matches_rule(r, e) && ++differences <= 10) {
          ADD_FAILURE() << "rule \"" << set->compiled[r].rule->name << "\" matches only with deferred fields left out";
        }
      }
    }
    return true;
  }, stats);
  std::remove(path);
  EXPECT_GE(events, 300'000u);
  EXPECT_EQ(stats.skipped, 0u);
  EXPECT_GT(stats.single_pass, events * 9 / 10);  // the walk that defers
  EXPECT_GT(left_out, events / 2);  // OTRF's Message, escaped in every event, is read by one Application-log rule
  EXPECT_GT(matches, 1'000u);
  EXPECT_EQ(differences, 0u);
}
