// Sigma rules: the specification's detection semantics (modifiers, wildcards
// and escapes, null and exists, conditions), log sources and field names on
// each input shape vigil reads, rule metadata, and errors with positions.
// Each case translates a rule, compiles its EQL and runs it on events.
#include <gtest/gtest.h>

#include "eql/compiler.h"
#include "ingest/event_reader.h"
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
  // Nesting deeper than the YAML parser allows: an error, not a crash.
  std::string deep = "title: t\nlogsource:\n  product: windows\ndetection:\n  sel: " + std::string(5000, '[') + "\n";
  e = first_error(deep);
  EXPECT_FALSE(e.message.empty());
}
