// Lexer and parser: the dialect's syntax, and errors that point at the
// offending token (line, column, caret).
#include <gtest/gtest.h>

#include "core/result.h"
#include "eql/compiler.h"
#include "eql/parser.h"

using namespace vigil;
using namespace vigil::eql;

namespace {
Error compile_error(std::string_view q) {
  FieldRegistry fields;
  auto r = compile_query(q, fields);
  EXPECT_FALSE(r.ok()) << q;
  return r.ok() ? Error{} : r.error();
}
}  // namespace

TEST(Parser, PrecedenceNotBindsTighterThanAndThanOr) {
  auto q = parse_query("process where not a == 1 and b == 2 or c == 3");
  ASSERT_TRUE(q);
  EXPECT_EQ(to_eql(*q->condition), "((not a == 1 and b == 2) or c == 3)");
}

TEST(Parser, ArithmeticPrecedence) {
  auto q = parse_query("any where x + 2 * 3 - -y / 4 % 5 > 0");
  ASSERT_TRUE(q);
  EXPECT_EQ(to_eql(*q->condition), "((x + (2 * 3)) - ((-y / 4) % 5)) > 0");
}

TEST(Parser, StringsEscapesAndRawStrings) {
  auto q = parse_query(R"(file where path : "C:\\Windows\\*" and x == """C:\raw\"quote""" and y == "\u{41}\t")");
  ASSERT_TRUE(q);
  EXPECT_EQ(to_eql(*q->condition), R"(((path : "C:\\Windows\\*" and x == "C:\\raw\\\"quote") and y == "A\t"))");
}

TEST(Parser, OptionalAndBackquotedFields) {
  auto q = parse_query("any where ?process.`parent name`.x == null and `@timestamp` != null and event.sequence > 1");
  ASSERT_TRUE(q);
  EXPECT_EQ(to_eql(*q->condition),
            "((?`process.parent name.x` == null and @timestamp != null) and event.sequence > 1)");
}

TEST(Parser, MatchFormsAndLists) {
  auto q = parse_query(R"(process where process.name : ("a.exe", "b*") and process.name like~ "X*" and )"
                       R"(process.command_line regex~ ".*-enc.*" and pid not in (1, 2) and name in~ ("a"))");
  ASSERT_TRUE(q);
  EXPECT_EQ(to_eql(*q->condition),
            R"(((((process.name : ("a.exe", "b*") and process.name like~ "X*") and process.command_line regex~ ".*-enc.*") and pid not in (1, 2)) and name in~ ("a")))");
}

TEST(Parser, FunctionNamesAreCaseInsensitiveAndTakeTilde) {
  FieldRegistry fields;
  EXPECT_TRUE(compile_query(R"(network where cidrmatch(destination.ip, "10.0.0.0/8") and startsWith~(a, "X"))", fields));
  EXPECT_TRUE(compile_query("any where substring(a, length(a) - (length(b) + 1)) : \"x\"", fields));
}

TEST(Parser, HeadAndTailPipes) {
  auto q = parse_query("process where true | head 5 | tail 2");
  ASSERT_TRUE(q);
  ASSERT_EQ(q->pipes.size(), 2u);
  EXPECT_EQ(q->pipes[1].kind, Pipe::Kind::Tail);
  EXPECT_EQ(q->pipes[1].count, 2);
}

TEST(ParserErrors, PointAtTheOffendingToken) {
  Error e = compile_error("process where\n  process.name == \"a\" and and x");
  EXPECT_EQ(e.code, "eql.syntax");
  EXPECT_EQ(e.pos.line, 2u);
  EXPECT_EQ(e.pos.column, 27u);
  std::string text = "process where\n  process.name == \"a\" and and x";
  std::string rendered = format_error(e, "rule.toml", text);
  EXPECT_NE(rendered.find("rule.toml:2:27: error: expected"), std::string::npos) << rendered;
  EXPECT_NE(rendered.find("\n                            ^"), std::string::npos) << rendered;
}

TEST(ParserErrors, EndgameSyntaxGetsAHelpfulMessage) {
  EXPECT_NE(compile_error("process where name = \"a\"").message.find("use =="), std::string::npos);
  EXPECT_NE(compile_error("process where name == 'a'").message.find("double quotes"), std::string::npos);
  EXPECT_NE(compile_error("process where descendant of [process where true]").message.find("lineage"), std::string::npos);
  EXPECT_NE(compile_error("process where args[0] : \"a\"").message.find("array indexes"), std::string::npos);
  EXPECT_NE(compile_error("process where true | unique name").message.find("head or tail"), std::string::npos);
  EXPECT_EQ(compile_error("join [process where true] [file where true]").code, "eql.unsupported");
}

TEST(ParserErrors, Unterminated) {
  EXPECT_EQ(compile_error("process where a : \"abc").code, "eql.syntax");
  EXPECT_EQ(compile_error("process where a : \"\"\"abc").code, "eql.syntax");
  EXPECT_EQ(compile_error("process where (a == 1").code, "eql.syntax");
  EXPECT_EQ(compile_error("process where a == 1 /* x").code, "eql.syntax");
  EXPECT_EQ(compile_error("process where").code, "eql.syntax");
  EXPECT_EQ(compile_error("").code, "eql.syntax");
}

TEST(ParserErrors, ChainedComparisons) {
  EXPECT_NE(compile_error("any where 1 < x < 3").message.find("chained"), std::string::npos);
}

TEST(ParserErrors, DeepNestingIsRejectedNotAStackOverflow) {
  std::string q = "any where " + std::string(100000, '(') + "true" + std::string(100000, ')');
  EXPECT_NE(compile_error(q).message.find("nests too deeply"), std::string::npos);
  std::string nots = "any where ";
  for (int i = 0; i < 50000; ++i) nots += "not ";
  nots += "true";
  EXPECT_NE(compile_error(nots).message.find("nests too deeply"), std::string::npos);
}

TEST(AnalyzerErrors, TypesAndFunctions) {
  Error e = compile_error("process where startsWith(process.name, 1)");
  EXPECT_EQ(e.code, "eql.type");
  EXPECT_EQ(e.pos.column, 40u);
  EXPECT_EQ(compile_error("process where foo(x)").code, "eql.function");
  EXPECT_NE(compile_error("process where wildcard(x, \"a*\")").message.find("use ':'"), std::string::npos);
  EXPECT_NE(compile_error("process where length(a, b)").message.find("takes 1 argument"), std::string::npos);
  EXPECT_NE(compile_error("process where concat~(a)").message.find("no case-insensitive"), std::string::npos);
  EXPECT_NE(compile_error("process where length~(a) > 1").message.find("no case-insensitive"), std::string::npos);
  EXPECT_NE(compile_error("process where subtract~(a, 1) > 1").message.find("no case-insensitive"), std::string::npos);
  EXPECT_NE(compile_error("process where \"a\" + 1 > 2").message.find("arithmetic needs numbers"), std::string::npos);
  EXPECT_NE(compile_error("process where 1 == \"a\"").message.find("cannot compare"), std::string::npos);
  EXPECT_NE(compile_error("process where cidrMatch(ip, \"10.0.0.0/99\")").message.find("CIDR"), std::string::npos);
  EXPECT_NE(compile_error("process where x regex \"a(\"").message.find("invalid regular expression"), std::string::npos);
  EXPECT_NE(compile_error("process where x like 1").message.find("string patterns"), std::string::npos);
  EXPECT_NE(compile_error("process where 1 + 2").message.find("must be boolean"), std::string::npos);
}
