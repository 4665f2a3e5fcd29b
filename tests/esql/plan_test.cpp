// ES|QL compilation: regex translation into RE2, the EQL prefilter a plan
// gives the rule index, and errors that name where.
#include <gtest/gtest.h>
#include <re2/re2.h>

#include <filesystem>
#include <fstream>

#include "esql/parser.h"
#include "esql/plan.h"
#include "esql/regex.h"

using namespace vigil;
using namespace vigil::esql;

namespace {

Result<Plan> compile(std::string_view text) {
  auto q = parse_query(text);
  EXPECT_TRUE(q.ok()) << (q.ok() ? "" : q.error().message);
  if (!q) return q.error();
  return compile_plan(*q);
}

bool java_matches(std::string_view regex, std::string_view text) {
  auto t = translate_java_regex(regex);
  EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().message);
  if (!t) return false;
  RE2 re(t->pattern);
  EXPECT_TRUE(re.ok()) << t->pattern << ": " << re.error();
  return RE2::PartialMatch(text, re);
}

}  // namespace

TEST(EsqlRegex, NamedGroupsAreRenamedAndListed) {
  auto t = translate_java_regex(R"((?i:https?)://(?<Esql.server>[a-z.]+)(:\d+)?)");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->names, (std::vector<std::string>{"Esql.server", ""}));
  RE2 re(t->pattern);
  std::string server;
  ASSERT_TRUE(RE2::PartialMatch("go HTTP://evil.example:80/x", re, &server));
  EXPECT_EQ(server, "evil.example");
}

TEST(EsqlRegex, ANegativeLookaheadBeforeAClassIsASetDifference) {
  const std::string_view r = R"([a-z]`(?![rnt]|\d)[a-z0-9])";
  EXPECT_TRUE(java_matches(r, "a`b"));
  EXPECT_FALSE(java_matches(r, "a`n"));
  EXPECT_FALSE(java_matches(r, "a`1"));
  EXPECT_FALSE(java_matches(r, "a`"));
  // Every ASCII character after the backtick: the rewrite agrees with the lookahead's meaning.
  for (int c = 1; c < 128; ++c) {
    const std::string text = std::string("a`") + static_cast<char>(c);
    const bool want = std::string_view("rnt0123456789").find(static_cast<char>(c)) == std::string_view::npos &&
                      ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'));
    EXPECT_EQ(java_matches(r, text), want) << c;
  }
}

TEST(EsqlRegex, LookaroundThatCannotBeRewrittenIsRefusedWithItsOffset) {
  auto t = translate_java_regex("ab(?<=b)c");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, "esql.regex");
  EXPECT_EQ(t.error().pos.offset, 2u);
  EXPECT_FALSE(translate_java_regex(R"((a)\1)").ok());  // back-references: not linear
}

TEST(EsqlRegex, LuceneRegexIsAnchoredAndReadsRepetitions) {
  auto t = translate_lucene_regex(R"([0-9]{1,3}(\.[0-9]{1,3}){3})");
  ASSERT_TRUE(t.ok());
  RE2 re(*t);
  EXPECT_TRUE(RE2::FullMatch("10.0.0.1", re));
  EXPECT_FALSE(RE2::FullMatch("x10.0.0.1", re));
  EXPECT_FALSE(RE2::FullMatch("10x0.0.1", re));
}

TEST(EsqlRegex, LikeEscapesWildcards) {
  RE2 star(translate_like(R"(a\*b*)"));
  EXPECT_TRUE(RE2::FullMatch("a*bcd", star));
  EXPECT_FALSE(RE2::FullMatch("axbcd", star));
}

TEST(EsqlPlan, ThePrefilterTranslatesTheFirstWhereConditions) {
  auto p = compile(R"(FROM logs-* | WHERE event.code == "4104" AND process.name.caseless LIKE ("*.exe", "x?") AND NOT user.name == "a"
                      | EVAL n = LENGTH(message) | WHERE n > 3 AND file.name IS NOT NULL AND host.id IN ("h1", "h2"))");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->prefilter(),
            R"(any where ((event.code : ("4104") or event.code in (4104)) and process.name : ("*.exe", "x?")) and )"
            R"((file.name != null and host.id : ("h1", "h2")))");
}

TEST(EsqlPlan, ConditionsOnComputedColumnsAreNotPrefiltered) {
  auto p = compile(R"q(FROM x | EVAL process.name = "a" | WHERE process.name == "a" | GROK m "(?<g>.)" | WHERE g == "b")q");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->prefilter(), "any where true");
}

TEST(EsqlPlan, StreamingAndWindowedParts) {
  auto streaming = compile("FROM x | WHERE a == 1 | EVAL b = a + 1 | KEEP b");
  ASSERT_TRUE(streaming.ok());
  EXPECT_FALSE(streaming->windowed());
  EXPECT_EQ(streaming->columns(), (std::vector<std::string>{"b"}));
  auto aggregating = compile("FROM x | WHERE a == 1 | STATS n = COUNT(*) BY host.name | WHERE n > 2");
  ASSERT_TRUE(aggregating.ok());
  EXPECT_TRUE(aggregating->windowed());
  EXPECT_TRUE(aggregating->aggregating());
  EXPECT_EQ(aggregating->columns(), (std::vector<std::string>{"n", "host.name"}));
  auto inline_stats = compile("FROM x | INLINE STATS n = COUNT(*) BY host.name | WHERE n > 2");
  ASSERT_TRUE(inline_stats.ok());
  EXPECT_TRUE(inline_stats->windowed());
  EXPECT_FALSE(inline_stats->aggregating());  // its rows keep their events
}

TEST(EsqlPlan, ErrorsNameLineAndColumn) {
  auto p = compile("FROM x\n| EVAL a = 1\n| EVAL b = NOSUCH(a)");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, "esql.unsupported");
  EXPECT_EQ(p.error().pos.line, 3u);
  EXPECT_EQ(p.error().pos.column, 12u);
  auto regex = compile("FROM x\n| EVAL r = REPLACE(a, \"(?=x)\", \"\")");
  ASSERT_FALSE(regex.ok());
  EXPECT_EQ(regex.error().code, "esql.regex");
  EXPECT_EQ(regex.error().pos.line, 2u);
}

TEST(EsqlPlan, EveryElasticWindowsEsqlRuleCompiles) {
  // The 28 rules' queries are exercised end to end by rule_tests_elastic; here: each compiles
  // and has a prefilter narrower than "any" (the rule index can file it).
  const std::string dir = std::string(VIGIL_SHARED_DIR) + "/rules/elastic/windows";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << dir << " not found";
  int esql = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path());
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.find("type = \"esql\"") == std::string::npos) continue;
    const auto start = text.find("query = '''");
    ASSERT_NE(start, std::string::npos) << entry.path();
    const auto end = text.find("'''", start + 11);
    auto p = compile(std::string_view(text).substr(start + 11, end - start - 11));
    ASSERT_TRUE(p.ok()) << entry.path() << ": " << p.error().message;
    EXPECT_NE(p->prefilter(), "any where true") << entry.path();
    ++esql;
  }
  EXPECT_EQ(esql, 28);
}
