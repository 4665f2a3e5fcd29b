// Rule loading: Elastic's TOML shape, defaults, positions of errors, unknown
// keys kept.
#include "rules/rule_loader.h"

#include <gtest/gtest.h>

using namespace vigil;

namespace {

constexpr const char* kRule = R"([metadata]
creation_date = "2020/11/18"

[rule]
author = ["Elastic"]
description = "d"
from = "now-9m"
language = "eql"
name = "Unusual Persistence via Services Registry"
risk_score = 21
rule_id = "403ef0d3-8259-40c9-a5b6-d48354712e49"
severity = "low"
tags = ["Elastic", "Persistence"]
type = "eql"
version = 5
custom_key = {a = 1}

query = '''
registry where true
'''

[[rule.threat]]
framework = "MITRE ATT&CK"

[[rule.threat.technique]]
id = "T1543"
name = "Create or Modify System Process"
reference = "https://attack.mitre.org/techniques/T1543/"

[[rule.threat.technique.subtechnique]]
id = "T1543.003"
name = "Windows Service"
reference = "https://attack.mitre.org/techniques/T1543/003/"

[rule.threat.tactic]
id = "TA0003"
name = "Persistence"
reference = "https://attack.mitre.org/tactics/TA0003/"
)";

}  // namespace

TEST(RuleLoader, ReadsElasticDetectionRule) {
  auto rule = parse_rule_toml(kRule, "r.toml");
  ASSERT_TRUE(rule) << rule.error().message;
  EXPECT_EQ(rule->name, "Unusual Persistence via Services Registry");
  EXPECT_EQ(rule->severity, "low");
  EXPECT_EQ(rule->risk_score, 21);
  EXPECT_EQ(rule->version, 5);
  EXPECT_EQ(rule->interval_ns, 5LL * 60 * 1000000000);  // default interval
  EXPECT_EQ(rule->lookback_ns, 9LL * 60 * 1000000000);
  EXPECT_EQ(rule->max_signals, 100);
  EXPECT_EQ(rule->query, "registry where true\n");
  EXPECT_EQ(rule->query_pos.line, 19u);  // the line after query = '''
  ASSERT_EQ(rule->threat.size(), 1u);
  EXPECT_EQ(rule->threat[0].tactic.id, "TA0003");
  ASSERT_EQ(rule->threat[0].techniques.size(), 1u);
  EXPECT_EQ(rule->threat[0].techniques[0].subtechniques[0].id, "T1543.003");
  // Unknown keys are kept as JSON.
  const std::string& custom = rule->extra.at("rule.custom_key");
  EXPECT_NE(custom.find("\"a\""), std::string::npos) << custom;
  EXPECT_NE(custom.find('1'), std::string::npos) << custom;
  EXPECT_TRUE(rule->extra.count("metadata"));
}

TEST(RuleLoader, ErrorsCarryPositions) {
  std::string text = kRule;
  text.replace(text.find("risk_score = 21"), 15, "risk_score = \"high\"");
  auto rule = parse_rule_toml(text, "r.toml");
  ASSERT_FALSE(rule);
  EXPECT_EQ(rule.error().pos.line, 10u);
  EXPECT_EQ(rule.error().pos.column, 14u);
  EXPECT_NE(rule.error().message.find("risk_score"), std::string::npos);
  auto broken = parse_rule_toml("[rule\nname = 1\n", "b.toml");
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().code, "rule.toml");
  EXPECT_EQ(broken.error().pos.line, 1u);
}

TEST(RuleLoader, DurationsAndFrom) {
  EXPECT_EQ(parse_rule_duration("30s"), 30LL * 1000000000);
  EXPECT_EQ(parse_rule_duration("2h"), 2LL * 3600 * 1000000000);
  EXPECT_FALSE(parse_rule_duration("5"));
  EXPECT_FALSE(parse_rule_duration("m"));
  // The largest duration nanoseconds hold, and one day more (no overflow).
  EXPECT_EQ(parse_rule_duration("106751d"), 106751LL * 86400 * 1000000000);
  EXPECT_FALSE(parse_rule_duration("106752d"));
  std::string text = kRule;
  text.replace(text.find("now-9m"), 6, "yesterday");
  auto rule = parse_rule_toml(text, "r.toml");
  ASSERT_FALSE(rule);
  EXPECT_NE(rule.error().message.find("from"), std::string::npos);
}

TEST(RuleLoader, BadTableHeadersAreErrorsNotAborts) {
  // toml++ asserts on these in debug builds; the loader reports them first.
  for (const char* text : {"[rule]\nname = \"x\"\n[[:rule.threat]]\n", "[[ :a]]\n", "[[\xc3\xa9t]]\n"}) {
    auto r = parse_rule_toml(text, "r.toml");
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().message, "expected a key name in the table header") << text;
  }
  // Lines of multi-line arrays and of multi-line strings that start with '[' are not headers.
  auto ok = parse_rule_toml(
      "[rule]\nrule_id = \"a\"\nname = \"n\"\ntype = \"eql\"\nlanguage = \"eql\"\n"
      "tags = [\n  \"a\",\n]\ncustom_matrix = [\n  [\"a\"],\n  [\"b\"],\n]\n"
      "query = '''\nsequence\n  [:inside a string]\n'''\n",
      "r.toml");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->tags, (std::vector<std::string>{"a"}));
  EXPECT_NE(ok->query.find("  [:inside a string]"), std::string::npos) << ok->query;
}
