// The ES|QL parser: every ES|QL rule Elastic ships for Windows parses; the
// shapes of commands and expressions; errors name line, column and what was
// expected; hostile nesting is an error, not a stack overflow.
#include "esql/parser.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "rules/rule_loader.h"

using namespace vigil;
using namespace vigil::esql;

namespace {

Query parse_ok(std::string_view text) {
  auto q = parse_query(text);
  EXPECT_TRUE(q.ok()) << (q.ok() ? "" : format_error(q.error(), "<query>", text));
  return q.ok() ? std::move(*q) : Query{};
}

Error parse_error(std::string_view text) {
  auto q = parse_query(text);
  EXPECT_FALSE(q.ok()) << "parsed: " << text;
  return q.ok() ? Error{} : q.error();
}

}  // namespace

TEST(EsqlParser, EveryWindowsEsqlRuleOfElasticParses) {
  const std::filesystem::path dir = std::filesystem::path(VIGIL_SHARED_DIR) / "rules" / "elastic" / "windows";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << dir << " is missing";
  int esql = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    auto rule = parse_rule_toml(text.str(), entry.path().string());
    if (!rule || rule->type != "esql") continue;
    ++esql;
    auto q = parse_query(rule->query);
    EXPECT_TRUE(q.ok()) << entry.path() << ": "
                        << (q.ok() ? "" : format_error(q.error(), entry.path().string(), rule->query));
  }
  EXPECT_EQ(esql, 28);
}

TEST(EsqlParser, CommandsAndTheirParts) {
  Query q = parse_ok(R"(FROM logs-endpoint.events.process-*, winlogbeat-* METADATA _id, _index
| WHERE host.os.type == "windows" and process.name.caseless like "aa_v*.exe"
| EVAL Esql.vendor = CASE(process.name == "a.exe", "A", ""), lower = TO_LOWER(process.name)
| GROK process.command_line """h=(?<Esql.server>[^&]+)&p"""
| DISSECT message "%{a} %{b}" APPEND_SEPARATOR = ","
| STATS n = COUNT(*), COUNT_DISTINCT(host.id), Esql.first = MIN(@timestamp) BY host.name, `odd name`
| SORT n DESC, host.name ASC NULLS FIRST
| RENAME n AS Esql.count
| KEEP host.*, Esql.*, *_values
| DROP lower
| MV_EXPAND host.name
| LIMIT 10)");
  ASSERT_EQ(q.commands.size(), 12u);
  const Command& from = q.commands[0];
  EXPECT_EQ(from.names, (std::vector<std::string>{"logs-endpoint.events.process-*", "winlogbeat-*"}));
  EXPECT_EQ(from.metadata, (std::vector<std::string>{"_id", "_index"}));
  EXPECT_EQ(q.commands[1].expr->text, "and");
  EXPECT_EQ(q.commands[1].expr->args[1]->kind, Expr::Kind::Like);
  EXPECT_EQ(q.commands[1].expr->args[1]->args[0]->text, "process.name.caseless");
  EXPECT_EQ(q.commands[2].assignments[0].name, "Esql.vendor");
  EXPECT_EQ(q.commands[2].assignments[0].expr->text, "case");
  EXPECT_EQ(q.commands[3].pattern, "h=(?<Esql.server>[^&]+)&p");
  EXPECT_EQ(q.commands[4].separator, ",");
  const Command& stats = q.commands[5];
  ASSERT_EQ(stats.assignments.size(), 3u);
  EXPECT_EQ(stats.assignments[0].expr->args[0]->kind, Expr::Kind::Star);
  EXPECT_EQ(stats.assignments[1].name, "COUNT_DISTINCT(host.id)");  // unnamed: as written
  EXPECT_EQ(stats.by[1].expr->text, "odd name");
  EXPECT_TRUE(q.commands[6].sort[0].descending);
  EXPECT_TRUE(q.commands[6].sort[0].nulls_first);  // DESC: nulls first by default
  EXPECT_TRUE(q.commands[6].sort[1].nulls_first && q.commands[6].sort[1].nulls_given);
  EXPECT_EQ(q.commands[7].renames[0], (std::pair<std::string, std::string>{"n", "Esql.count"}));
  EXPECT_EQ(q.commands[8].names, (std::vector<std::string>{"host.*", "Esql.*", "*_values"}));
  EXPECT_EQ(q.commands[10].names[0], "host.name");
  EXPECT_EQ(q.commands[11].limit, 10);
}

TEST(EsqlParser, ExpressionsBindAsEsqlDefinesThem) {
  Query q = parse_ok(
      R"(from x | where not a in (1, 2) or b is not null and c not like "x*" and -d * 2 + 1 >= 3 | eval t = date_diff("minute", e, now()), s = 6 minutes, y = z::integer)");
  const Expr& w = *q.commands[1].expr;
  ASSERT_EQ(w.text, "or");                        // OR binds loosest
  EXPECT_EQ(w.args[0]->kind, Expr::Kind::Unary);  // not (a in (1, 2))
  EXPECT_EQ(w.args[0]->args[0]->kind, Expr::Kind::In);
  const Expr& conj = *w.args[1];
  ASSERT_EQ(conj.text, "and");
  EXPECT_EQ(conj.args[0]->args[0]->kind, Expr::Kind::IsNull);
  EXPECT_TRUE(conj.args[0]->args[0]->negated);
  EXPECT_TRUE(conj.args[0]->args[1]->negated);  // c NOT LIKE
  const Expr& cmp = *conj.args[1];
  ASSERT_EQ(cmp.text, ">=");
  EXPECT_EQ(cmp.args[0]->text, "+");  // (-d * 2) + 1
  EXPECT_EQ(cmp.args[0]->args[0]->text, "*");
  EXPECT_EQ(cmp.args[0]->args[0]->args[0]->text, "-");
  const Command& eval = q.commands[2];
  EXPECT_EQ(eval.assignments[0].expr->args[2]->text, "now");
  EXPECT_EQ(eval.assignments[1].expr->kind, Expr::Kind::Duration);
  EXPECT_EQ(eval.assignments[1].expr->integer, 6);
  EXPECT_EQ(eval.assignments[2].expr->kind, Expr::Kind::Cast);
}

TEST(EsqlParser, ErrorsSayWhereAndWhat) {
  Error e = parse_error("FROM logs-*\n| WHERE a == \n| KEEP a");
  EXPECT_EQ(e.code, "esql.syntax");
  EXPECT_EQ(e.pos.line, 3u);
  EXPECT_EQ(e.pos.column, 1u);
  EXPECT_NE(e.message.find("expected a value"), std::string::npos) << e.message;
  e = parse_error("FROM x | WHER a");
  EXPECT_EQ(e.pos.column, 10u);
  EXPECT_NE(e.message.find("unknown command 'WHER'"), std::string::npos) << e.message;
  e = parse_error("FROM x | ENRICH policy");
  EXPECT_EQ(e.code, "esql.unsupported");
  e = parse_error("ROW a = 1");
  EXPECT_EQ(e.code, "esql.unsupported");
  e = parse_error("FROM x | WHERE a == \"open");
  EXPECT_NE(e.message.find("not closed"), std::string::npos);
  e = parse_error("FROM x | WHERE a in (1, 2");
  EXPECT_NE(e.message.find("')'"), std::string::npos) << e.message;
  e = parse_error("FROM x | LIMIT many");
  EXPECT_NE(e.message.find("number of rows"), std::string::npos);
  e = parse_error("FROM x | EVAL a = 1 $");
  EXPECT_NE(e.message.find("unexpected character '$'"), std::string::npos);
  e = parse_error("FROM x /* open");
  EXPECT_NE(e.message.find("comment is not closed"), std::string::npos);
}

TEST(EsqlParser, DeepNestingIsAnErrorNotACrash) {
  std::string deep = "FROM x | WHERE " + std::string(100000, '(') + "a" + std::string(100000, ')');
  EXPECT_NE(parse_error(deep).message.find("nested too deeply"), std::string::npos);
  std::string nots = "FROM x | WHERE ";
  for (int i = 0; i < 100000; ++i) nots += "not ";
  EXPECT_NE(parse_error(nots + "a").message.find("nested too deeply"), std::string::npos);
  std::string minus = "FROM x | WHERE " + std::string(100000, '-') + "1 > 0";
  EXPECT_NE(parse_error(minus).message.find("nested too deeply"), std::string::npos);
}
