// Evaluation semantics: Elasticsearch's case rules, null handling (three-
// valued expressions, two-valued field predicates), multi-valued fields,
// functions as detection rules use them.
#include <gtest/gtest.h>

#include "eql/compiler.h"
#include "ingest/event_reader.h"
#include "../support/eql_match.h"

using namespace vigil;
using namespace vigil::eql;

namespace {

bool matches_doc(std::string_view query, std::string_view doc, CompileOptions options = {}) {
  return test::eql_matches_doc(query, doc, options);
}

constexpr std::string_view kProc =
    R"({"event":{"category":["process"],"type":["start"]},"process":{"name":"PowerShell.EXE","pid":42,)"
    R"("args":["powershell.exe","-enc","SQBFAFgA"],"command_line":"powershell.exe -enc SQBFAFgA",)"
    R"("parent":{"name":"cmd.exe"}},"user":{"name":"alice"},"destination":{"ip":"10.1.2.3","port":8443}})";

}  // namespace

TEST(Eval, CategoryMatchesAnyValueOfEventCategory) {
  EXPECT_TRUE(matches_doc("process where true", kProc));
  EXPECT_FALSE(matches_doc("file where true", kProc));
  EXPECT_TRUE(matches_doc("any where true", kProc));
}

TEST(Eval, EqualsIsCaseSensitiveColonIsNot) {
  EXPECT_FALSE(matches_doc(R"(process where process.name == "powershell.exe")", kProc));
  EXPECT_TRUE(matches_doc(R"(process where process.name == "PowerShell.EXE")", kProc));
  EXPECT_TRUE(matches_doc(R"(process where process.name : "powershell.exe")", kProc));
  EXPECT_TRUE(matches_doc(R"(process where process.name : "power*.exe")", kProc));
  EXPECT_FALSE(matches_doc(R"(process where process.name like "power*")", kProc));
  EXPECT_TRUE(matches_doc(R"(process where process.name like~ "power*")", kProc));
  EXPECT_FALSE(matches_doc(R"(process where process.name == "Power*")", kProc));  // == has no wildcards
}

TEST(Eval, InAndInTilde) {
  EXPECT_FALSE(matches_doc(R"(process where process.name in ("powershell.exe", "pwsh.exe"))", kProc));
  EXPECT_TRUE(matches_doc(R"(process where process.name in~ ("powershell.exe", "pwsh.exe"))", kProc));
  EXPECT_TRUE(matches_doc(R"(process where process.pid in (1, 42))", kProc));
  EXPECT_TRUE(matches_doc(R"(process where process.pid not in (1, 2))", kProc));
  EXPECT_TRUE(matches_doc(R"(process where process.name in (process.parent.name, "PowerShell.EXE"))", kProc));
}

TEST(Eval, RegexIsAnchoredAndLinear) {
  EXPECT_TRUE(matches_doc(R"(process where process.command_line regex ".*-enc [A-Za-z0-9]+")", kProc));
  EXPECT_FALSE(matches_doc(R"(process where process.command_line regex "-enc")", kProc));  // full match only
  EXPECT_TRUE(matches_doc(R"(process where process.name regex~ "power.*")", kProc));
  EXPECT_FALSE(matches_doc(R"(process where process.name regex "power.*")", kProc));
}

TEST(Eval, MultiValuedFieldsMatchWhenAnyValueDoes) {
  EXPECT_TRUE(matches_doc(R"(process where process.args : "-enc")", kProc));
  EXPECT_TRUE(matches_doc(R"(process where process.args == "-enc")", kProc));
  EXPECT_TRUE(matches_doc(R"(process where startsWith~(process.args, "SQB"))", kProc));
  // Negations are "no value matches", as must_not behaves.
  EXPECT_FALSE(matches_doc(R"(process where not process.args : "-enc")", kProc));
  EXPECT_FALSE(matches_doc(R"(process where process.args != "-enc")", kProc));
  EXPECT_TRUE(matches_doc(R"(process where process.args != "-nop")", kProc));
}

TEST(Eval, MissingFieldsInQueryPredicatesAreFalseSoNotIsTrue) {
  // Elasticsearch runs these as Lucene queries: missing field → no match; not → match.
  EXPECT_FALSE(matches_doc(R"(process where process.missing : "x")", kProc));
  EXPECT_TRUE(matches_doc(R"(process where not process.missing : "x")", kProc));
  EXPECT_TRUE(matches_doc(R"(process where process.missing != "x")", kProc));
  EXPECT_TRUE(matches_doc(R"(process where process.missing not in ("a", "b"))", kProc));
  EXPECT_TRUE(matches_doc(R"(process where process.missing == null)", kProc));
  EXPECT_TRUE(matches_doc(R"(process where process.name != null)", kProc));
}

TEST(Eval, ExpressionsPropagateNull) {
  // Scripted expressions are three-valued: null stays null under not.
  EXPECT_FALSE(matches_doc(R"(process where length(process.missing) > 0)", kProc));
  EXPECT_FALSE(matches_doc(R"(process where not (length(process.missing) > 0))", kProc));
  EXPECT_TRUE(matches_doc(R"(process where null : (process.missing > 1))", kProc));
  EXPECT_FALSE(matches_doc(R"(process where process.missing + 1 > 0)", kProc));
  EXPECT_TRUE(matches_doc(R"(process where concat(process.name, process.missing) == null)", kProc));
}

TEST(Eval, ThreeValuedLogic) {
  EXPECT_TRUE(matches_doc(R"(process where (length(process.missing) > 0) or true)", kProc));
  EXPECT_FALSE(matches_doc(R"(process where (length(process.missing) > 0) and true)", kProc));
  EXPECT_FALSE(matches_doc(R"(process where (length(process.missing) > 0) and false)", kProc));
}

TEST(Eval, NumbersAndArithmetic) {
  EXPECT_TRUE(matches_doc("process where process.pid == 42.0", kProc));
  EXPECT_TRUE(matches_doc("process where process.pid / 5 == 8", kProc));      // integer division
  EXPECT_TRUE(matches_doc("process where process.pid / 5.0 == 8.4", kProc));
  EXPECT_TRUE(matches_doc("process where process.pid % 5 == 2", kProc));
  EXPECT_FALSE(matches_doc("process where process.pid / 0 == 0", kProc));     // division by zero is null
  EXPECT_TRUE(matches_doc("process where destination.port >= 1024 and destination.port < 49152", kProc));
  EXPECT_TRUE(matches_doc("process where -process.pid + 50 == 8", kProc));
}

TEST(Eval, FunctionsAsRulesUseThem) {
  EXPECT_TRUE(matches_doc(R"(process where cidrMatch(destination.ip, "10.0.0.0/8", "192.168.0.0/16"))", kProc));
  EXPECT_FALSE(matches_doc(R"(process where cidrMatch(destination.ip, "172.16.0.0/12"))", kProc));
  EXPECT_TRUE(matches_doc(R"(process where destination.ip == "10.1.2.3")", kProc));
  EXPECT_TRUE(matches_doc(R"(process where endsWith~(process.name, ".exe"))", kProc));
  EXPECT_FALSE(matches_doc(R"(process where endsWith(process.name, ".exe"))", kProc));
  EXPECT_TRUE(matches_doc(R"(process where stringContains(process.command_line, "-enc"))", kProc));
  EXPECT_TRUE(matches_doc(R"(process where indexOf(process.command_line, "-enc") == 15)", kProc));
  EXPECT_TRUE(matches_doc(R"(process where substring(process.name, -4) : ".exe")", kProc));
  EXPECT_TRUE(matches_doc(R"(process where between(process.command_line, "-enc ", "A") == "SQBF")", kProc));
  EXPECT_TRUE(matches_doc(R"(process where concat(user.name, "@", process.pid) == "alice@42")", kProc));
  EXPECT_TRUE(matches_doc(R"(process where number(string(process.pid)) == 42)", kProc));
  EXPECT_TRUE(matches_doc(R"(process where substring(process.name, length(process.name) - (length("exe") + 1)) : ".exe")", kProc));
  EXPECT_TRUE(matches_doc(R"(process where add(process.pid, 1) == 43 and multiply(2, 3) == 6 and modulo(7, 4) == 3)", kProc));
}

TEST(Eval, CaseInsensitiveMode) {
  CompileOptions ci;
  ci.case_insensitive = true;
  EXPECT_TRUE(matches_doc(R"(process where process.name == "powershell.exe")", kProc, ci));
  EXPECT_TRUE(matches_doc(R"(process where endsWith(process.name, ".exe"))", kProc, ci));
  EXPECT_TRUE(matches_doc(R"(process where process.name in ("POWERSHELL.exe"))", kProc, ci));
}

TEST(Eval, ExplainShowsThePlan) {
  FieldRegistry fields;
  auto compiled = compile_query(R"(process where process.name : ("a.exe", "*.dll") and not user.name == "x")", fields);
  ASSERT_TRUE(compiled);
  std::string plan = explain(*compiled->program, fields);
  EXPECT_NE(plan.find("in-set[1] {\"a.exe\"} case-insensitive missing=false"), std::string::npos) << plan;
  EXPECT_NE(plan.find("wildcard[1] \"*.dll\" (suffix)"), std::string::npos) << plan;
  EXPECT_NE(plan.find("field event.category"), std::string::npos) << plan;
}

// `f : a or f : b` compiles to one test of f against (a, b), and `not f : a
// and not f : b` to `not f : (a, b)`; answers are those of the chain as written.
TEST(Eval, ChainsOfTestsOnOneFieldBecomeOneTest) {
  FieldRegistry fields;
  auto chain = compile_query(
      R"(process where process.name : "a*" or process.name : "pow*" or process.name : "c*" or )"
      R"(process.name == "x" or process.name == "y" or process.pid == 42)", fields);
  ASSERT_TRUE(chain.ok());
  std::size_t wildcards = 0, compares = 0;
  for (const Instr& ins : chain->program->instrs) {
    wildcards += ins.op == OpCode::Wildcard;
    compares += ins.op == OpCode::Compare;
  }
  EXPECT_EQ(wildcards, 1u);  // the three `:` patterns
  EXPECT_EQ(compares, 1u);   // pid == 42; "x" and "y" became one set
  const std::vector<std::pair<std::string, bool>> cases = {
      {R"(process where process.name : "a*" or process.name : "pow*")", true},
      {R"(process where process.name : "a*" or process.name : "b*")", false},
      {R"(process where process.name == "powershell.exe" or process.name == "PowerShell.EXE")", true},
      {R"(process where process.name == "powershell.exe" or process.name == "pwsh.exe")", false},
      {R"(process where process.name like "Power*" or process.name like "x")", true},
      {R"(process where not process.name : "a*" and not process.name : "pow*")", false},
      {R"(process where not process.name : "a*" and not process.name : "b*")", true},
      {R"(process where not process.name : "a*" and not process.name : "b*" and not process.name == "PowerShell.EXE")", false},
      {R"(process where not user.domain : "a*" and not user.domain : "b*")", true},  // missing field: not false is true
      {R"(process where user.domain : "a*" or user.domain : "b*")", false},
      {R"(process where destination.ip == "10.1.2.3" or destination.ip == "10.0.0.1")", true},
      {R"(process where process.args : "-e*" or process.args : "x")", true},  // any value of an array
  };
  for (const auto& [query, expected] : cases) EXPECT_EQ(matches_doc(query, kProc), expected) << query;
}

// Edges of the functions, from mutation testing: divide/modulo by -1 are
// ordinary (only INT64_MIN / -1 overflows to null), cidrMatch of a value that
// is no IP is false, and string() has no case-insensitive form.
TEST(Eval, FunctionEdges) {
  EXPECT_TRUE(matches_doc("process where divide(process.pid, -1) == -42", kProc));
  EXPECT_TRUE(matches_doc("process where modulo(process.pid, -1) == 0", kProc));
  EXPECT_FALSE(matches_doc("process where divide(process.pid, 0) == 0", kProc));
  EXPECT_FALSE(matches_doc(R"(process where cidrMatch(user.name, "0.0.0.0/0"))", kProc));
  EXPECT_FALSE(matches_doc(R"(process where cidrMatch(process.name, "0.0.0.0/0", "::/0"))", kProc));
  FieldRegistry fields;
  EXPECT_FALSE(compile_query(R"(process where string~(process.pid) == "42")", fields).ok());
  // length() of a multi-valued field counts its values; of a string, its characters.
  EXPECT_TRUE(matches_doc("process where length(process.args) == 3", kProc));
  EXPECT_TRUE(matches_doc("process where length(process.name) == 14", kProc));
  // Integer arithmetic stays integer (printed without a fraction) until it
  // would overflow, then continues in floating point.
  EXPECT_TRUE(matches_doc(R"(process where string(subtract(process.pid, 40)) == "2")", kProc));
  EXPECT_TRUE(matches_doc(R"(process where string(process.pid - 40) == "2")", kProc));
  EXPECT_TRUE(matches_doc(R"(process where string(add(process.pid, 1)) == "43")", kProc));
  EXPECT_TRUE(matches_doc("process where subtract(-9223372036854775807, process.pid) < -9200000000000000000.0", kProc));
  EXPECT_TRUE(matches_doc("process where add(9223372036854775807, process.pid) > 9200000000000000000.0", kProc));
}
