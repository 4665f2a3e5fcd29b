// Sigma rules: the specification's detection semantics (modifiers, wildcards
// and escapes, null and exists, conditions), log sources and field names on
// each input shape vigil reads, rule metadata, and errors with positions.
// Each case translates a rule, compiles its EQL and runs it on events.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "eql/compiler.h"
#include "ingest/event_reader.h"
#include "rules/rule_loader.h"
#include "rules/sigma.h"
#include "../support/eql_match.h"

using namespace vigil;

namespace {

// A Sysmon process creation as winlogbeat / Elastic Agent write it.
std::string sysmon1(const std::string& event_data) {
  return R"({"event":{"code":"1"},"winlog":{"provider_name":"Microsoft-Windows-Sysmon","channel":"Microsoft-Windows-Sysmon/Operational","event_id":"1","event_data":)" +
         event_data + "}}";
}

std::string rule_with(const std::string& detection, const std::string& logsource = "category: process_creation") {
  return "title: test rule\nid: 5f3c1e1e-0000-4000-8000-000000000001\nstatus: test\nlevel: high\n"
         "logsource:\n  product: windows\n  " +
         logsource + "\ndetection:\n" + detection;
}

struct Translated {
  SigmaFile file;
  const Rule* rule() const { return file.rules.empty() ? nullptr : &file.rules[0]; }
};

Translated translate(const std::string& yaml, const SigmaOptions& options = {}) {
  return {parse_sigma(yaml, "test.yml", options)};
}

// Translates `yaml`, compiles its query and says whether `doc` matches.
bool matches(const std::string& yaml, const std::string& doc, const SigmaOptions& options = {}) {
  Translated t = translate(yaml, options);
  EXPECT_TRUE(t.file.errors.empty()) << (t.file.errors.empty() ? "" : t.file.errors[0].message);
  EXPECT_TRUE(t.file.skipped.empty()) << (t.file.skipped.empty() ? "" : t.file.skipped[0].message);
  if (!t.rule()) return false;
  return test::eql_matches_doc(t.rule()->query, doc);
}

Error first_error(const std::string& yaml) {
  Translated t = translate(yaml);
  EXPECT_FALSE(t.file.errors.empty()) << "no error; query: " << (t.rule() ? t.rule()->query : "");
  return t.file.errors.empty() ? Error{} : t.file.errors[0];
}

}  // namespace

TEST(Sigma, PlainValuesAreCaseInsensitiveWholeValues) {
  const std::string rule = rule_with("  sel:\n    Image: 'C:\\Windows\\System32\\cmd.exe'\n  condition: sel\n");
  EXPECT_TRUE(matches(rule, sysmon1(R"({"Image":"c:\\windows\\system32\\CMD.EXE"})")));
  EXPECT_FALSE(matches(rule, sysmon1(R"({"Image":"C:\\Windows\\System32\\cmd.exe.bak"})")));
}

TEST(Sigma, ContainsStartswithEndswith) {
  const std::string doc = sysmon1(R"({"CommandLine":"powershell.exe -NoProfile -EncodedCommand AAAA"})");
  EXPECT_TRUE(matches(rule_with("  sel:\n    CommandLine|contains: '-encodedcommand'\n  condition: sel\n"), doc));
  EXPECT_TRUE(matches(rule_with("  sel:\n    CommandLine|startswith: 'POWERSHELL'\n  condition: sel\n"), doc));
  EXPECT_TRUE(matches(rule_with("  sel:\n    CommandLine|endswith: ' aaaa'\n  condition: sel\n"), doc));
  EXPECT_FALSE(matches(rule_with("  sel:\n    CommandLine|startswith: '-NoProfile'\n  condition: sel\n"), doc));
}

TEST(Sigma, CasedIsCaseSensitive) {
  const std::string doc = sysmon1(R"({"CommandLine":"cmd /c Whoami"})");
  EXPECT_TRUE(matches(rule_with("  sel:\n    CommandLine|contains|cased: 'Whoami'\n  condition: sel\n"), doc));
  EXPECT_FALSE(matches(rule_with("  sel:\n    CommandLine|contains|cased: 'whoami'\n  condition: sel\n"), doc));
}

TEST(Sigma, WildcardsAndEscapes) {
  const std::string doc = sysmon1(R"({"CommandLine":"run a*b?c now","Image":"C:\\x\\tool7.exe"})");
  // ? is one character, * any run.
  EXPECT_TRUE(matches(rule_with("  sel:\n    Image: 'c:\\x\\tool?.exe'\n  condition: sel\n"), doc));
  EXPECT_TRUE(matches(rule_with("  sel:\n    Image: '*\\tool*'\n  condition: sel\n"), doc));
  // \* and \? are the characters themselves.
  EXPECT_TRUE(matches(rule_with("  sel:\n    CommandLine|contains: 'a\\*b\\?c'\n  condition: sel\n"), doc));
  EXPECT_FALSE(matches(rule_with("  sel:\n    CommandLine|contains: 'a\\*x'\n  condition: sel\n"),
                       sysmon1(R"({"CommandLine":"a-long-x"})")));
  // A backslash not before a wildcard is itself; \\ before a wildcard is one backslash.
  EXPECT_TRUE(matches(rule_with("  sel:\n    Image|endswith: '\\\\tool7.exe'\n  condition: sel\n"), doc));
}

TEST(Sigma, ListsAreOrAllMakesThemAnd) {
  const std::string doc = sysmon1(R"({"CommandLine":"net user admin /add"})");
  EXPECT_TRUE(matches(rule_with("  sel:\n    CommandLine|contains:\n      - 'nothing'\n      - ' /add'\n  condition: sel\n"), doc));
  EXPECT_TRUE(matches(rule_with("  sel:\n    CommandLine|contains|all:\n      - 'user'\n      - ' /add'\n  condition: sel\n"), doc));
  EXPECT_FALSE(matches(rule_with("  sel:\n    CommandLine|contains|all:\n      - 'user'\n      - ' /del'\n  condition: sel\n"), doc));
}

TEST(Sigma, MapsAreAndListsOfMapsAreOr) {
  const std::string doc = sysmon1(R"({"Image":"C:\\a\\x.exe","CommandLine":"x -y"})");
  EXPECT_TRUE(matches(rule_with("  sel:\n    Image|endswith: '\\x.exe'\n    CommandLine|contains: '-y'\n  condition: sel\n"), doc));
  EXPECT_FALSE(matches(rule_with("  sel:\n    Image|endswith: '\\x.exe'\n    CommandLine|contains: '-z'\n  condition: sel\n"), doc));
  EXPECT_TRUE(matches(rule_with("  sel:\n    - Image|endswith: '\\nope.exe'\n    - CommandLine|contains: '-y'\n  condition: sel\n"), doc));
}

TEST(Sigma, Base64OffsetFindsTheValueAtEveryOffset) {
  // "http" inside base64 text, after 0, 1 and 2 other bytes.
  for (const char* encoded : {"aHR0cDovL2V2aWwuY29t" /* http://evil.com */, "IGh0dHA6Ly9ldmlsLmNvbQ==" /* " http://evil.com" */,
                              "ICBodHRwOi8vZXZpbC5jb20=" /* "  http://evil.com" */}) {
    EXPECT_TRUE(matches(rule_with("  sel:\n    CommandLine|base64offset|contains: 'http://'\n  condition: sel\n"),
                        sysmon1(std::string(R"({"CommandLine":"powershell -e )") + encoded + "\"}")))
        << encoded;
  }
  EXPECT_FALSE(matches(rule_with("  sel:\n    CommandLine|base64offset|contains: 'http://'\n  condition: sel\n"),
                       sysmon1(R"({"CommandLine":"powershell -e ZnRwOi8vZXZpbA=="})")));
  // base64: the whole value encoded.
  EXPECT_TRUE(matches(rule_with("  sel:\n    CommandLine|base64|contains: 'whoami'\n  condition: sel\n"),
                      sysmon1(R"({"CommandLine":"x d2hvYW1p y"})")));
}

TEST(Sigma, WideThenBase64MatchesPowerShellEncodedCommands) {
  // "IEX" as UTF-16LE, base64 at offset 0: SQBFAFgA.
  EXPECT_TRUE(matches(rule_with("  sel:\n    CommandLine|wide|base64offset|contains: 'IEX'\n  condition: sel\n"),
                      sysmon1(R"({"CommandLine":"powershell.exe -enc SQBFAFgAIAAoAE4AZQB3AC0A"})")));
  EXPECT_TRUE(matches(rule_with("  sel:\n    CommandLine|utf16le|base64offset|contains: 'IEX'\n  condition: sel\n"),
                      sysmon1(R"({"CommandLine":"powershell.exe -enc SQBFAFgAIAAoAE4AZQB3AC0A"})")));
}

TEST(Sigma, WindashMatchesEveryDash) {
  const std::string rule = rule_with("  sel:\n    CommandLine|windash|contains: ' -enc '\n  condition: sel\n");
  EXPECT_TRUE(matches(rule, sysmon1(R"({"CommandLine":"powershell -enc AAA"})")));
  EXPECT_TRUE(matches(rule, sysmon1(R"({"CommandLine":"powershell /enc AAA"})")));
  EXPECT_TRUE(matches(rule, sysmon1("{\"CommandLine\":\"powershell \xE2\x80\x93" "enc AAA\"}")));
  EXPECT_FALSE(matches(rule, sysmon1(R"({"CommandLine":"powershell +enc AAA"})")));
}

TEST(Sigma, RegexSearchesAndTakesFlags) {
  const std::string doc = sysmon1(R"({"CommandLine":"cmd.exe /c ping 10.1.2.3"})");
  EXPECT_TRUE(matches(rule_with("  sel:\n    CommandLine|re: 'ping [0-9]+\\.'\n  condition: sel\n"), doc));
  EXPECT_FALSE(matches(rule_with("  sel:\n    CommandLine|re: 'PING [0-9]+'\n  condition: sel\n"), doc));  // cased by default
  EXPECT_TRUE(matches(rule_with("  sel:\n    CommandLine|re|i: 'PING [0-9]+'\n  condition: sel\n"), doc));
  EXPECT_TRUE(matches(rule_with("  sel:\n    CommandLine|re: '^cmd\\.exe'\n  condition: sel\n"), doc));
  EXPECT_FALSE(matches(rule_with("  sel:\n    CommandLine|re: '^ping'\n  condition: sel\n"), doc));
}

TEST(Sigma, CidrExistsNullFieldrefAndNumbers) {
  const std::string net = R"({"event":{"code":"3"},"winlog":{"provider_name":"Microsoft-Windows-Sysmon","event_data":)"
                          R"({"DestinationIp":"10.20.30.40","DestinationPort":"4444","SourcePort":"4444","User":""}}})";
  const std::string ls = "category: network_connection";
  EXPECT_TRUE(matches(rule_with("  sel:\n    DestinationIp|cidr: '10.0.0.0/8'\n  condition: sel\n", ls), net));
  EXPECT_FALSE(matches(rule_with("  sel:\n    DestinationIp|cidr: '192.168.0.0/16'\n  condition: sel\n", ls), net));
  EXPECT_TRUE(matches(rule_with("  sel:\n    DestinationPort: 4444\n  condition: sel\n", ls), net));
  EXPECT_TRUE(matches(rule_with("  sel:\n    DestinationPort|gt: 1024\n  condition: sel\n", ls), net));
  EXPECT_FALSE(matches(rule_with("  sel:\n    DestinationPort|lt: 1024\n  condition: sel\n", ls), net));
  EXPECT_TRUE(matches(rule_with("  sel:\n    SourcePort|fieldref: DestinationPort\n  condition: sel\n", ls), net));
  EXPECT_TRUE(matches(rule_with("  sel:\n    DestinationHostname|exists: false\n  condition: sel\n", ls), net));
  EXPECT_TRUE(matches(rule_with("  sel:\n    DestinationIp|exists: true\n  condition: sel\n", ls), net));
  EXPECT_TRUE(matches(rule_with("  sel:\n    DestinationHostname: null\n  condition: sel\n", ls), net));
  EXPECT_FALSE(matches(rule_with("  sel:\n    DestinationIp: null\n  condition: sel\n", ls), net));
  EXPECT_TRUE(matches(rule_with("  sel:\n    User: ''\n  condition: sel\n", ls), net));  // the empty value
  EXPECT_TRUE(matches(rule_with("  sel:\n    DestinationPort|neq: 80\n  condition: sel\n", ls), net));
  EXPECT_FALSE(matches(rule_with("  sel:\n    DestinationPort|neq: 4444\n  condition: sel\n", ls), net));
}

TEST(Sigma, FieldsNamedLikeEqlKeywordsAreQuoted) {
  // A fuzz find: `Or: x` made `Or : "x"`, which EQL reads as the operator.
  const std::string doc = sysmon1(R"({"Or":"x","in":"y","Any":"z"})");
  EXPECT_TRUE(matches(rule_with("  sel:\n    Or: 'x'\n    in: 'y'\n    Any: 'z'\n  condition: sel\n"), doc));
  EXPECT_FALSE(matches(rule_with("  sel:\n    Or: 'y'\n  condition: sel\n"), doc));
}

TEST(Sigma, TimeModifiersCompareAPartOfTheDate) {
  // Sysmon's UtcTime (a space, milliseconds) and an ISO 8601 @timestamp; 2023-01-02 is a Monday of ISO week 1.
  const std::string doc = sysmon1(R"({"UtcTime":"2023-01-02 23:59:58.238","When":"2021-01-03T04:05:06Z","Image":"x"})");
  auto rule = [](const std::string& entry) { return rule_with("  sel:\n    " + entry + "\n  condition: sel\n"); };
  EXPECT_TRUE(matches(rule("UtcTime|hour: 23"), doc));
  EXPECT_FALSE(matches(rule("UtcTime|hour: 22"), doc));
  EXPECT_TRUE(matches(rule("UtcTime|minute: 59"), doc));
  EXPECT_TRUE(matches(rule("UtcTime|day: 2"), doc));
  EXPECT_TRUE(matches(rule("UtcTime|month: 1"), doc));
  EXPECT_TRUE(matches(rule("UtcTime|year: 2023"), doc));
  EXPECT_TRUE(matches(rule("UtcTime|week: 1"), doc));
  // 2021-01-03 is a Sunday: ISO week 53 of 2020.
  EXPECT_TRUE(matches(rule("When|week: 53"), doc));
  EXPECT_TRUE(matches(rule("When|hour: 4"), doc));
  // With a comparison; neq; a list is any of its values.
  EXPECT_TRUE(matches(rule("UtcTime|hour|gte: 22"), doc));
  EXPECT_FALSE(matches(rule("UtcTime|hour|lt: 6"), doc));
  EXPECT_TRUE(matches(rule("UtcTime|hour: [1, 2, 23]"), doc));
  EXPECT_TRUE(matches(rule("UtcTime|hour|neq: 3"), doc));
  // A value that is no date, or a missing field, does not match (and `not` of it does).
  EXPECT_FALSE(matches(rule("Image|hour: 0"), doc));
  EXPECT_FALSE(matches(rule("Missing|hour: 0"), doc));
  EXPECT_TRUE(matches(rule_with("  sel:\n    Image|hour: 0\n  condition: not sel\n"), doc));
  // Errors: not a whole number; two parts; and no Elastic EQL for them.
  Error e = first_error(rule("UtcTime|hour: 'late'"));
  EXPECT_NE(e.message.find("hour takes a whole number"), std::string::npos) << e.message;
  EXPECT_EQ(e.pos.line, 10u);
  e = first_error(rule("UtcTime|hour|day: 3"));
  EXPECT_NE(e.message.find("one time modifier per field"), std::string::npos) << e.message;
  SigmaOptions elastic;
  elastic.target = SigmaFieldTarget::Elastic;
  Translated t = translate(rule("UtcTime|hour: 3"), elastic);
  ASSERT_FALSE(t.file.errors.empty());
  EXPECT_NE(t.file.errors[0].message.find("no equivalent in Elastic's EQL"), std::string::npos);
}

// A selection that cannot be decided on an event (a field it compares is
// missing) is false, so `not` of it is true, as in every Sigma engine.
TEST(Sigma, NegatedSelectionsOfMissingFieldsAreTrue) {
  const std::string doc = sysmon1(R"({"User":"alice"})");
  EXPECT_TRUE(matches(rule_with("  sel:\n    User: alice\n  f:\n    SubjectUserName|fieldref: TargetUserName\n"
                                "  condition: sel and not f\n"), doc));
  EXPECT_TRUE(matches(rule_with("  sel:\n    User: alice\n  f:\n    Size|gt: 5\n  condition: sel and not f\n"), doc));
  EXPECT_TRUE(matches(rule_with("  sel:\n    User: alice\n  f:\n    Size|cidr: 10.0.0.0/8\n  condition: sel and not f\n"), doc));
  EXPECT_TRUE(matches(rule_with("  sel:\n    User: alice\n  f:\n    Size|re: 'x'\n  condition: sel and not f\n"), doc));
}

// Channels other than Sysmon, Security and PowerShell may write EventData
// names with spaces (Defender: "Threat Name"); Sigma writes them without.
TEST(Sigma, SpacedEventDataNamesAreFound) {
  const std::string doc = R"({"event":{"code":"1116"},"winlog":{"channel":"Microsoft-Windows-Windows Defender/Operational","event_data":{"Threat Name":"Virus:DOS/EICAR_Test_File"}}})";
  EXPECT_TRUE(matches(rule_with("  sel:\n    EventID: 1116\n    ThreatName|contains: 'EICAR'\n  condition: sel\n", "service: windefend"), doc));
}

// Keywords (values without a field) are searched in every text value of the
// event, anywhere in it, case-insensitively; `|all` wants each of them.
TEST(Sigma, KeywordsSearchEveryValue) {
  const std::string sys = "service: system";
  const std::string doc = R"({"event":{"code":"7045"},"winlog":{"channel":"System","event_data":{"ServiceName":"evil",)"
                          R"("ImagePath":"C:\\Temp\\Mimi.exe sekurlsa::LogonPasswords"}}})";
  EXPECT_TRUE(matches(rule_with("  keywords:\n    - 'sekurlsa::logonpasswords'\n    - 'nothing'\n  condition: keywords\n", sys), doc));
  EXPECT_TRUE(matches(rule_with("  keywords:\n    - '\\temp\\mimi'\n  condition: keywords\n", sys), doc));  // escapes undone
  EXPECT_FALSE(matches(rule_with("  keywords:\n    - 'ServiceName'\n  condition: keywords\n", sys), doc));  // keys are not values
  EXPECT_TRUE(matches(rule_with("  keywords:\n    '|all':\n      - 'evil'\n      - 'mimi'\n  condition: keywords\n", sys), doc));
  EXPECT_FALSE(matches(rule_with("  keywords:\n    '|all':\n      - 'evil'\n      - 'kiwi'\n  condition: keywords\n", sys), doc));
}

TEST(Sigma, ExpandTakesPlaceholderValues) {
  SigmaPlaceholders values = {{"Admins", {"alice", "bob*"}}};
  SigmaOptions options;
  options.placeholders = &values;
  const std::string rule = rule_with("  sel:\n    User|expand: '%Admins%'\n  condition: sel\n");
  EXPECT_TRUE(matches(rule, sysmon1(R"({"User":"Bobby"})"), options));
  EXPECT_FALSE(matches(rule, sysmon1(R"({"User":"carol"})"), options));
  Error e = first_error(rule);  // no values given
  EXPECT_NE(e.message.find("placeholder %Admins% has no values"), std::string::npos) << e.message;
  EXPECT_EQ(e.pos.line, 10u);
}

TEST(Sigma, Conditions) {
  const std::string sel = "  sel_a:\n    Image|endswith: '\\a.exe'\n  sel_b:\n    CommandLine|contains: 'b'\n"
                          "  filter:\n    User: 'SYSTEM'\n  _internal:\n    Image|endswith: '\\z.exe'\n";
  const std::string doc = sysmon1(R"({"Image":"C:\\a.exe","CommandLine":"bbb","User":"alice"})");
  EXPECT_TRUE(matches(rule_with(sel + "  condition: 1 of sel_*\n"), doc));
  EXPECT_TRUE(matches(rule_with(sel + "  condition: all of sel_* and not filter\n"), doc));
  EXPECT_FALSE(matches(rule_with(sel + "  condition: all of them\n"), doc));  // filter fails; _internal is left out
  EXPECT_TRUE(matches(rule_with(sel + "  condition: 1 of them\n"), doc));
  EXPECT_TRUE(matches(rule_with(sel + "  condition: filter or sel_a and sel_b\n"), doc));  // and binds tighter
  EXPECT_FALSE(matches(rule_with(sel + "  condition: (filter or sel_a) and not sel_b\n"), doc));
  EXPECT_TRUE(matches(rule_with(sel + "  condition:\n    - filter\n    - sel_a\n"), doc));  // a list is or
}

TEST(Sigma, LogSourceSelectsEventsAndRenamesFields) {
  const std::string rule = rule_with("  sel:\n    Image|endswith: '\\whoami.exe'\n  condition: sel\n");
  // Sysmon 1, Security 4688 (Image is NewProcessName there), not Sysmon 3.
  EXPECT_TRUE(matches(rule, sysmon1(R"({"Image":"C:\\Windows\\System32\\whoami.exe"})")));
  EXPECT_TRUE(matches(rule, R"({"event":{"code":"4688"},"winlog":{"channel":"Security","provider_name":"Microsoft-Windows-Security-Auditing","event_data":{"NewProcessName":"C:\\Windows\\System32\\whoami.exe"}}})"));
  EXPECT_FALSE(matches(rule, R"({"event":{"code":"3"},"winlog":{"provider_name":"Microsoft-Windows-Sysmon","event_data":{"Image":"C:\\Windows\\System32\\whoami.exe"}}})"));
  // A service is a channel.
  const std::string sec = rule_with("  sel:\n    EventID: 4624\n    LogonType: 3\n  condition: sel\n", "service: security");
  EXPECT_TRUE(matches(sec, R"({"event":{"code":"4624"},"winlog":{"channel":"Security","event_data":{"LogonType":"3"}}})"));
  EXPECT_FALSE(matches(sec, R"({"event":{"code":"4624"},"winlog":{"channel":"System","event_data":{"LogonType":"3"}}})"));
}

TEST(Sigma, FieldsAreFoundInEveryInputShape) {
  const std::string rule = rule_with("  sel:\n    Image|endswith: '\\whoami.exe'\n  condition: sel\n");
  // A flat export (OTRF): EventData fields at the top level.
  EXPECT_TRUE(matches(rule, R"({"event":{"code":"1"},"winlog":{"provider_name":"Microsoft-Windows-Sysmon"},"Image":"C:\\w\\whoami.exe"})"));
  // An ECS document without the EventData: the ECS field Elastic copies Image to.
  EXPECT_TRUE(matches(rule, R"({"event":{"code":"1"},"winlog":{"provider_name":"Microsoft-Windows-Sysmon"},"process":{"executable":"C:\\w\\whoami.exe"}})"));
  // ... also where ECS holds a number.
  const std::string net = R"({"event":{"code":"3"},"winlog":{"provider_name":"Microsoft-Windows-Sysmon"},"destination":{"port":4444}})";
  EXPECT_TRUE(matches(rule_with("  sel:\n    DestinationPort: 4444\n  condition: sel\n", "category: network_connection"), net));
  EXPECT_TRUE(matches(rule_with("  sel:\n    DestinationPort|gte: 4444\n  condition: sel\n", "category: network_connection"), net));
  EXPECT_FALSE(matches(rule_with("  sel:\n    DestinationPort: 4445\n  condition: sel\n", "category: network_connection"), net));
}

TEST(Sigma, RuleMetadataBecomesTheAlertsRule) {
  const std::string yaml =
      "title: Whoami run\nid: 11111111-2222-4333-8444-555555555555\nstatus: stable\ndescription: d\n"
      "references:\n  - https://example.com/a\nauthor: Alice, Bob\ndate: 2024-01-02\n"
      "tags:\n  - attack.discovery\n  - attack.t1033\n  - attack.t1059.001\nlevel: critical\n"
      "falsepositives:\n  - admins\nlogsource:\n  product: windows\n  category: process_creation\n"
      "detection:\n  sel:\n    Image|endswith: '\\whoami.exe'\n  condition: sel\n";
  Translated t = translate(yaml);
  ASSERT_NE(t.rule(), nullptr);
  const Rule& r = *t.rule();
  EXPECT_EQ(r.rule_id, "11111111-2222-4333-8444-555555555555");
  EXPECT_EQ(r.name, "Whoami run");
  EXPECT_EQ(r.severity, "critical");
  EXPECT_EQ(r.risk_score, 99);
  EXPECT_EQ(r.format, "sigma");
  EXPECT_FALSE(r.scheduled);
  EXPECT_EQ(r.author, (std::vector<std::string>{"Alice", "Bob"}));
  EXPECT_EQ(r.references, (std::vector<std::string>{"https://example.com/a"}));
  EXPECT_EQ(r.false_positives, (std::vector<std::string>{"admins"}));
  ASSERT_EQ(r.threat.size(), 1u);
  EXPECT_EQ(r.threat[0].tactic.id, "TA0007");
  ASSERT_EQ(r.threat[0].techniques.size(), 2u);
  EXPECT_EQ(r.threat[0].techniques[0].technique.id, "T1033");
  EXPECT_EQ(r.threat[0].techniques[1].technique.id, "T1059");
  ASSERT_EQ(r.threat[0].techniques[1].subtechniques.size(), 1u);
  EXPECT_EQ(r.threat[0].techniques[1].subtechniques[0].id, "T1059.001");
  EXPECT_EQ(r.extra.at("sigma.status"), "\"stable\"");
}

TEST(Sigma, ErrorsNameLineAndColumn) {
  // An unknown modifier: the caret under it.
  Error e = first_error(rule_with("  sel:\n    Image|endswithh: 'x'\n  condition: sel\n"));
  EXPECT_NE(e.message.find("unknown modifier 'endswithh'"), std::string::npos) << e.message;
  EXPECT_EQ(e.pos.line, 10u);
  EXPECT_EQ(e.pos.column, 11u);
  EXPECT_EQ(e.length, 9u);
  // A condition naming nothing: the caret under the token.
  e = first_error(rule_with("  sel:\n    Image: 'x'\n  condition: sel and filter\n"));
  EXPECT_NE(e.message.find("no search identifier 'filter'"), std::string::npos) << e.message;
  EXPECT_EQ(e.pos.line, 11u);
  EXPECT_EQ(e.pos.column, 22u);
  e = first_error(rule_with("  sel:\n    Image: 'x'\n  condition: sel and (\n"));
  EXPECT_NE(e.message.find("condition ends"), std::string::npos) << e.message;
  e = first_error(rule_with("  sel:\n    Image|re: 'a(b'\n  condition: sel\n"));
  EXPECT_NE(e.message.find("invalid regular expression"), std::string::npos) << e.message;
  EXPECT_EQ(e.pos.line, 10u);
  e = first_error(rule_with("  sel:\n    Image: 'x'\n  condition: sel | count() > 5\n"));
  EXPECT_NE(e.message.find("correlation rule"), std::string::npos) << e.message;
  e = first_error(rule_with("  sel:\n    Image|contains|base64: 'x'\n  condition: sel\n"));
  EXPECT_NE(e.message.find("cannot encode a wildcard"), std::string::npos) << e.message;
  e = first_error("title: t\nlogsource:\n  product: windows\ndetection:\n  sel: [\n");
  EXPECT_NE(e.message.find("YAML"), std::string::npos) << e.message;
  // Not UTF-8 text (a byte, a NUL): refused where it stands.
  e = first_error("title: t\nlogsource:\n  categor\xF9: x\n");
  EXPECT_NE(e.message.find("not UTF-8"), std::string::npos) << e.message;
  EXPECT_EQ(e.pos.line, 3u);
  EXPECT_EQ(e.pos.column, 10u);
  e = first_error(std::string("title: t\n\0", 10));
  EXPECT_NE(e.message.find("NUL byte"), std::string::npos) << e.message;
}

TEST(Sigma, RulesVigilDoesNotRunAreSkippedWithTheReason) {
  Translated linux = translate("title: t\nlogsource:\n  product: linux\n  service: auth\ndetection:\n  sel:\n    a: b\n  condition: sel\n");
  ASSERT_EQ(linux.file.skipped.size(), 1u);
  EXPECT_NE(linux.file.skipped[0].message.find("product 'linux'"), std::string::npos);
  EXPECT_EQ(linux.file.skipped[0].code, "sigma.skipped");
  Translated unmapped = translate(rule_with("  sel:\n    a: b\n  condition: sel\n", "category: made_up"));
  ASSERT_EQ(unmapped.file.skipped.size(), 1u);
  EXPECT_NE(unmapped.file.skipped[0].message.find("no mapping for log source category 'made_up'"), std::string::npos);
  EXPECT_EQ(unmapped.file.skipped[0].pos.line, 7u);
  Translated deprecated = translate("title: t\nstatus: deprecated\nlogsource:\n  product: windows\n  category: process_creation\n"
                                    "detection:\n  sel:\n    a: b\n  condition: sel\n");
  ASSERT_EQ(deprecated.file.skipped.size(), 1u);
  EXPECT_NE(deprecated.file.skipped[0].message.find("deprecated"), std::string::npos);
}

TEST(Sigma, HostileYamlIsBounded) {
  // One list of 1,000 values, aliased by 50 selections: 50,000 values once expanded.
  std::string list;
  for (int i = 0; i < 1000; ++i) list += (i ? ", " : "") + std::to_string(i);
  std::string bomb = rule_with("  sel0:\n    Image: &big [" + list + "]\n");
  for (int i = 1; i <= 50; ++i) bomb += "  sel" + std::to_string(i) + ":\n    Image: *big\n";
  bomb += "  condition: all of them\n";
  Error e = first_error(bomb);
  EXPECT_NE(e.message.find("values after expansion"), std::string::npos) << e.message;
  // A ',' where a document should start: yaml-cpp 0.7 would make empty
  // documents forever (a fuzzer's find); an error at the comma instead.
  for (const std::string& text : {std::string(","), std::string("[a],"), std::string("&x ,"), std::string("'a',"),
                                  std::string("title: t\n---\n  ,\n")}) {
    e = first_error(text);
    EXPECT_NE(e.message.find("a ',' where a document should start"), std::string::npos) << text << ": " << e.message;
  }
  e = first_error(",");
  EXPECT_EQ(e.pos.line, 1u);
  EXPECT_EQ(e.pos.column, 1u);
  // Nesting deeper than the YAML parser allows: an error, not a crash.
  std::string deep = "title: t\nlogsource:\n  product: windows\ndetection:\n  sel: " + std::string(5000, '[') + "\n";
  e = first_error(deep);
  EXPECT_FALSE(e.message.empty());
}

namespace {
const char* kCorrelation =
    "title: Many failed logons\n"
    "id: 0e95725d-7320-415d-80f7-004da920fc11\n"
    "level: high\n"
    "tags: [attack.credential-access, attack.t1110]\n"
    "correlation:\n"
    "  type: value_count\n"
    "  rules:\n"
    "    - failed_logon\n"
    "    - 5638f7c0-ac70-491d-8465-2a65075e0d86\n"
    "  group-by:\n"
    "    - ComputerName\n"
    "  timespan: 90m\n"
    "  aliases:\n"
    "    source:\n"
    "      failed_logon: IpAddress\n"
    "  condition:\n"
    "    field: TargetUserName\n"
    "    gte: 10\n"
    "    lt: 20\n";
}  // namespace

TEST(SigmaCorrelation, TheCorrelationBecomesARuleWithItsSpec) {
  Translated t = translate(kCorrelation);
  ASSERT_TRUE(t.file.errors.empty()) << t.file.errors[0].message;
  ASSERT_TRUE(t.rule());
  const Rule& r = *t.rule();
  EXPECT_EQ(r.type, "sigma_correlation");
  EXPECT_EQ(r.rule_id, "0e95725d-7320-415d-80f7-004da920fc11");
  EXPECT_EQ(r.severity, "high");
  ASSERT_EQ(r.threat.size(), 1u);
  EXPECT_EQ(r.threat[0].techniques[0].technique.id, "T1110");
  ASSERT_TRUE(r.correlation);
  const CorrelationSpec& c = *r.correlation;
  EXPECT_EQ(c.type, "value_count");
  EXPECT_EQ(c.rules, (std::vector<std::string>{"failed_logon", "5638f7c0-ac70-491d-8465-2a65075e0d86"}));
  EXPECT_EQ(c.rule_pos[1].line, 9u);
  EXPECT_EQ(c.rule_pos[1].column, 7u);
  EXPECT_EQ(c.group_by, (std::vector<std::string>{"ComputerName"}));
  EXPECT_EQ(c.timespan_ns, 90LL * 60 * 1000000000);
  EXPECT_EQ(c.fields, (std::vector<std::string>{"TargetUserName"}));
  ASSERT_EQ(c.condition.size(), 2u);
  EXPECT_EQ(c.condition[0].op, "gte");
  EXPECT_EQ(c.condition[1].value, 20);
  EXPECT_EQ(c.aliases.at("source").at("failed_logon"), "IpAddress");
  EXPECT_FALSE(c.generate);
}

TEST(SigmaCorrelation, ErrorsNameLineAndColumn) {
  auto with = [](const std::string& from, const std::string& to) {
    std::string s = kCorrelation;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  Error e = first_error(with("type: value_count", "type: value_cout"));
  EXPECT_NE(e.message.find("unknown correlation type 'value_cout'"), std::string::npos) << e.message;
  EXPECT_EQ(e.pos.line, 6u);
  EXPECT_EQ(e.pos.column, 9u);
  e = first_error(with("timespan: 90m", "timespan: 90 minutes"));
  EXPECT_NE(e.message.find("timespan is a number and a unit"), std::string::npos) << e.message;
  EXPECT_EQ(e.pos.line, 12u);
  e = first_error(with("    gte: 10\n", "    gte: ten\n"));
  EXPECT_NE(e.message.find("condition gte takes a number"), std::string::npos) << e.message;
  e = first_error(with("    field: TargetUserName\n", ""));
  EXPECT_NE(e.message.find("names its field"), std::string::npos) << e.message;
  e = first_error(with("  condition:\n    field: TargetUserName\n    gte: 10\n    lt: 20\n", ""));
  EXPECT_NE(e.message.find("names its field"), std::string::npos) << e.message;
  e = first_error(with("type: value_count", "type: event_count"));
  EXPECT_NE(e.message.find("condition.field belongs to value_*"), std::string::npos) << e.message;
  e = first_error(with("  timespan: 90m\n", "  timespan: 90m\n  grouping: x\n"));
  EXPECT_NE(e.message.find("unknown correlation key 'grouping'"), std::string::npos) << e.message;
  EXPECT_EQ(e.pos.line, 13u);
  e = first_error(with("    lt: 20\n", "    below: 20\n"));
  EXPECT_NE(e.message.find("unknown condition 'below'"), std::string::npos) << e.message;
  e = first_error(with("  rules:\n    - failed_logon\n    - 5638f7c0-ac70-491d-8465-2a65075e0d86\n", ""));
  EXPECT_NE(e.message.find("names the rules it correlates"), std::string::npos) << "[" << e.message << "]";
  e = first_error(with("  aliases:\n", "  generate: maybe\n  aliases:\n"));
  EXPECT_NE(e.message.find("generate is true or false"), std::string::npos) << e.message;
}

TEST(SigmaCorrelation, CorrelationsVigilDoesNotRunAreSkippedWithTheReason) {
  const std::string percentile =
      "title: p\ncorrelation:\n  type: value_percentile\n  rules: [a]\n  group-by: [Computer]\n  timespan: 1d\n"
      "  condition:\n    field: Image\n    lte: 1\n";
  Translated t = translate(percentile);
  ASSERT_EQ(t.file.skipped.size(), 1u);
  EXPECT_NE(t.file.skipped[0].message.find("value_percentile"), std::string::npos);
  EXPECT_EQ(t.file.skipped[0].code, "sigma.skipped");
  const std::string fewer =
      "title: t\ncorrelation:\n  type: temporal\n  rules: [a, b]\n  group-by: [User]\n  timespan: 5m\n"
      "  condition:\n    lt: 2\n";
  t = translate(fewer);
  ASSERT_EQ(t.file.skipped.size(), 1u);
  EXPECT_NE(t.file.skipped[0].message.find("only gt, gte and eq"), std::string::npos) << t.file.skipped[0].message;
}

TEST(SigmaCorrelation, GroupByFieldsAreReadWhereTheRulesQueryReadsThem) {
  // A process-creation rule: Image is read as Sysmon and flat exports spell
  // it, as Security 4688 does (NewProcessName), and as ECS (process.executable).
  Translated t = translate(rule_with("  sel:\n    Image|endswith: '\\\\whoami.exe'\n  condition: sel\n"));
  ASSERT_TRUE(t.rule());
  const std::vector<std::string> paths = sigma_field_paths("Image", *t.rule());
  auto has = [&](const std::string& p) { return std::find(paths.begin(), paths.end(), p) != paths.end(); };
  EXPECT_EQ(paths.front(), "winlog.event_data.Image");
  EXPECT_TRUE(has("Image"));
  EXPECT_TRUE(has("winlog.event_data.NewProcessName"));
  EXPECT_TRUE(has("process.executable"));
  EXPECT_EQ(sigma_field_paths("Computer", *t.rule()), (std::vector<std::string>{"winlog.computer_name", "host.name"}));
  EXPECT_EQ(sigma_field_paths("EventID", *t.rule()), (std::vector<std::string>{"event.code"}));
  // Another rule's field is its own name.
  Rule elastic;
  EXPECT_EQ(sigma_field_paths("host.name", elastic), (std::vector<std::string>{"host.name"}));
}

namespace {
// A directory of Sigma files, removed afterwards.
struct SigmaDir {
  std::filesystem::path path;
  SigmaDir() {
    path = std::filesystem::temp_directory_path() /
           ("vigil-sigma-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(path);
  }
  ~SigmaDir() { std::filesystem::remove_all(path); }
  void write(const std::string& name, const std::string& text) const { std::ofstream(path / name) << text; }
};

const char* kWhoami =
    "title: Whoami\nid: 11111111-0000-4000-8000-000000000001\nname: whoami_run\n"
    "logsource:\n  product: windows\n  category: process_creation\n"
    "detection:\n  sel:\n    Image|endswith: '\\whoami.exe'\n  condition: sel\n";
const char* kNet =
    "title: Net\nid: 11111111-0000-4000-8000-000000000002\n"
    "logsource:\n  product: windows\n  category: process_creation\n"
    "detection:\n  sel:\n    Image|endswith: '\\net.exe'\n  condition: sel\n";
}  // namespace

TEST(SigmaFilter, TheConditionIsAddedToTheRulesItNames) {
  SigmaDir dir;
  dir.write("a.yml", kWhoami);
  dir.write("b.yml", kNet);
  dir.write("f.yml",
            "title: Admins are expected\nid: 22222222-0000-4000-8000-000000000001\n"
            "logsource:\n  product: windows\n  category: process_creation\n"
            "filter:\n  rules:\n    - whoami_run\n  adm:\n    User|startswith: 'CORP\\adm_'\n  condition: not adm\n");
  LoadedRules loaded = load_rules({dir.path.string()}, 1);
  ASSERT_EQ(loaded.rules.size(), 2u);
  EXPECT_EQ(loaded.sigma_filters, 1u);
  EXPECT_TRUE(loaded.diagnostics.empty());
  const Rule& whoami = loaded.rules[0].name == "Whoami" ? loaded.rules[0] : loaded.rules[1];
  const Rule& net = loaded.rules[0].name == "Whoami" ? loaded.rules[1] : loaded.rules[0];
  EXPECT_TRUE(test::eql_matches_doc(whoami.query, sysmon1(R"({"Image":"C:\\x\\whoami.exe","User":"CORP\\bob"})")));
  EXPECT_FALSE(test::eql_matches_doc(whoami.query, sysmon1(R"({"Image":"C:\\x\\whoami.exe","User":"CORP\\adm_bob"})")));
  EXPECT_EQ(whoami.extra.at("sigma.filters"), "[\"22222222-0000-4000-8000-000000000001\"]");
  EXPECT_TRUE(test::eql_matches_doc(net.query, sysmon1(R"({"Image":"C:\\x\\net.exe","User":"CORP\\adm_bob"})")))
      << "a rule the filter does not name is unchanged";
  EXPECT_EQ(net.extra.count("sigma.filters"), 0u);
}

TEST(SigmaFilter, AnyAppliesToEveryRuleOfTheLogSourceAndUnknownNamesWarn) {
  SigmaDir dir;
  dir.write("a.yml", kWhoami);
  dir.write("b.yml", kNet);
  dir.write("f.yml",
            "title: Not on the build server\n"
            "logsource:\n  product: windows\n  category: process_creation\n"
            "filter:\n  rules: any\n  build:\n    Computer: BUILD01\n  condition: not build\n"
            "---\n"
            "title: Not here\nlogsource:\n  product: windows\n  category: image_load\n"
            "filter:\n  rules: any\n  x:\n    ImageLoaded: 'y'\n  condition: not x\n"
            "---\n"
            "title: Typo\nlogsource:\n  product: windows\n  category: process_creation\n"
            "filter:\n  rules: [whoami_rnu]\n  x:\n    User: 'y'\n  condition: not x\n");
  LoadedRules loaded = load_rules({dir.path.string()}, 1);
  ASSERT_EQ(loaded.rules.size(), 2u);
  for (const Rule& r : loaded.rules) {
    const std::string exe = r.name == "Whoami" ? "whoami.exe" : "net.exe";
    const std::string event = R"({"event":{"code":"1"},"winlog":{"provider_name":"Microsoft-Windows-Sysmon","computer_name":")";
    EXPECT_TRUE(test::eql_matches_doc(r.query, event + R"(WKS1","event_data":{"Image":"C:\\)" + exe + R"("}}})")) << r.name;
    EXPECT_FALSE(test::eql_matches_doc(r.query, event + R"(BUILD01","event_data":{"Image":"C:\\)" + exe + R"("}}})")) << r.name;
    EXPECT_EQ(r.extra.at("sigma.filters"), "[\"Not on the build server\"]") << "the image_load filter is not applied";
  }
  ASSERT_EQ(loaded.diagnostics.size(), 1u);
  const RuleDiagnostic& d = loaded.diagnostics[0];
  EXPECT_TRUE(d.warning);
  EXPECT_NE(d.error.message.find("names 'whoami_rnu', which no loaded Sigma rule has"), std::string::npos) << d.error.message;
  EXPECT_EQ(d.error.pos.line, 26u);
  EXPECT_EQ(d.error.pos.column, 11u);
}

TEST(SigmaFilter, ErrorsNameLineAndColumn) {
  auto filter = [](const std::string& body) {
    return "title: f\nlogsource:\n  product: windows\n  category: process_creation\nfilter:\n" + body;
  };
  Error e = first_error(filter("  rules: [a]\n  sel:\n    User: x\n  condition: sel and other\n"));
  EXPECT_NE(e.message.find("no search identifier 'other'"), std::string::npos) << e.message;
  EXPECT_EQ(e.pos.line, 9u);
  e = first_error(filter("  sel:\n    User: x\n  condition: not sel\n"));
  EXPECT_NE(e.message.find("names the rules it applies to"), std::string::npos) << e.message;
  e = first_error(filter("  rules: [a]\n  sel:\n    User: x\n"));
  EXPECT_NE(e.message.find("one condition"), std::string::npos) << e.message;
}
