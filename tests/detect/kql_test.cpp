// KQL → EQL translation: the semantics Elastic applies on ECS mappings, and
// errors with positions.
#include "rules/kql.h"
#include "../support/eql_match.h"

#include <gtest/gtest.h>

#include "eql/compiler.h"
#include "ingest/event_reader.h"

using namespace vigil;

namespace {

// Does the KQL query match the JSON event?
bool kql_matches(const std::string& kql, const std::string& json) {
  auto eql = kql_to_eql(kql);
  EXPECT_TRUE(eql) << (eql ? "" : eql.error().message);
  return eql && test::eql_matches_doc(*eql, json);
}

}  // namespace

TEST(Kql, KeywordFieldsCompareExactlyAndCaseSensitively) {
  std::string ev = R"({"process":{"name":"cmd.exe"},"host":{"os":{"type":"windows"}}})";
  EXPECT_TRUE(kql_matches("process.name:cmd.exe and host.os.type:windows", ev));
  EXPECT_FALSE(kql_matches("process.name:CMD.EXE", ev));
  EXPECT_TRUE(kql_matches("process.name:cmd*", ev));
  EXPECT_FALSE(kql_matches("process.name:\"cmd*\"", ev));  // quoted: literal
  EXPECT_TRUE(kql_matches("process.name:(powershell.exe or cmd.exe)", ev));
  EXPECT_TRUE(kql_matches("not process.name:powershell.exe", ev));
  EXPECT_TRUE(kql_matches("process.name:*", ev));
  EXPECT_FALSE(kql_matches("process.pid:*", ev));
}

TEST(Kql, FieldsWithEqlReservedWordsAsSegmentsTranslate) {
  // `any.name` written as EQL reads `any` as the keyword unless quoted.
  const std::string ev = R"({"any":{"name":"x"},"process":{"in":"y"}})";
  EXPECT_TRUE(kql_matches("any.name : \"x\" and process.in : \"y\"", ev));
  EXPECT_FALSE(kql_matches("any.name : \"y\"", ev));
}

TEST(Kql, FullTextFieldsMatchPhrasesAnywhereIgnoringCase) {
  std::string ev =
      R"json({"powershell":{"file":{"script_block_text":"$x = [Ref].Assembly.GetType('System.Management.Automation.AmsiUtils')"}}})json";
  EXPECT_TRUE(kql_matches("powershell.file.script_block_text : \"amsiutils\"", ev));
  EXPECT_TRUE(kql_matches("powershell.file.script_block_text : (\"AmsiUtils\" and \"GetType\")", ev));
  EXPECT_FALSE(kql_matches("powershell.file.script_block_text : (\"AmsiUtils\" and \"amsiInitFailed\")", ev));
  EXPECT_TRUE(kql_matches("powershell.file.script_block_text : (GetType or NotThere)", ev));
}

TEST(Kql, NumbersAndRanges) {
  std::string ev = R"({"event":{"code":"4688"},"process":{"pid":4242}})";
  EXPECT_TRUE(kql_matches("event.code:4688", ev));
  EXPECT_TRUE(kql_matches("process.pid >= 4000 and process.pid < 5000", ev));
  EXPECT_FALSE(kql_matches("process.pid > 5000", ev));
}

TEST(Kql, LongValueListsDoNotNest) {
  std::string kql = "process.name:(";
  for (int i = 0; i < 500; ++i) kql += (i ? " or " : "") + std::string("p") + std::to_string(i) + ".exe";
  kql += " or cmd.exe)";
  EXPECT_TRUE(kql_matches(kql, R"({"process":{"name":"cmd.exe"}})"));
}

TEST(Kql, ErrorsCarryPositions) {
  auto r = kql_to_eql("process.name:cmd.exe and\n  file:{ path:x }");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().pos.line, 2u);
  EXPECT_EQ(r.error().pos.column, 8u);
  auto unterminated = kql_to_eql("process.name:\"cmd");
  ASSERT_FALSE(unterminated);
  EXPECT_NE(unterminated.error().message.find("unterminated"), std::string::npos);
  EXPECT_FALSE(kql_to_eql("just some words"));
}

// A keyword counts only as a whole word: `not(` and `and(` are keywords,
// `order`, `android`, `notepad` are field names or values.
TEST(Kql, KeywordsAreWholeWords) {
  std::string ev = R"({"order":{"id":"1"},"process":{"name":"notepad.exe"},"android":{"id":"x"}})";
  EXPECT_TRUE(kql_matches("order.id:1", ev));
  EXPECT_TRUE(kql_matches("android.id:x and order.id:1", ev));
  EXPECT_TRUE(kql_matches("process.name:notepad.exe", ev));
  EXPECT_TRUE(kql_matches("not(order.id:2)", ev));
  EXPECT_FALSE(kql_matches("not(order.id:1)", ev));
  EXPECT_TRUE(kql_matches("order.id:1 and(android.id:x)", ev));
}

// An error inside a parenthesised value list is an error, not a shorter query.
TEST(Kql, ErrorsInsideValueListsAreReported) {
  EXPECT_FALSE(kql_to_eql("process.name:(cmd.exe or )"));
  EXPECT_FALSE(kql_to_eql("process.name:(cmd.exe or \"x)"));
  EXPECT_FALSE(kql_to_eql("process.name:((cmd.exe)"));
}

// An error inside parentheses is the query's error, whatever follows.
TEST(Kql, ErrorsInsideParenthesesAreReported) {
  EXPECT_FALSE(kql_to_eql("(process.name:cmd.exe and )"));
  EXPECT_FALSE(kql_to_eql("(process.name:cmd.exe and ) or host.name:x"));
  EXPECT_FALSE(kql_to_eql("not (process.name:)"));
  EXPECT_FALSE(kql_to_eql("(process.name:cmd.exe and"));  // cut off inside the parentheses
}
