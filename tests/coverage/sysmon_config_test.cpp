// Sysmon configuration verdicts and suggestions on small rules and
// configurations written here: wildcard patterns as probes, or-branches,
// joined processes, the includes --suggest writes and the replay filter.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "coverage/coverage.h"
#include "coverage/sysmon_config.h"
#include "detect/rule_set.h"

namespace vigil {
namespace {

class SysmonConfigTest : public ::testing::Test {
 protected:
  std::filesystem::path dir_ = std::filesystem::temp_directory_path() /
                               ("vigil-sysmon-config-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                                "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
  void SetUp() override { std::filesystem::create_directories(dir_); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // The verdict of one EQL rule under a configuration whose <EventFiltering> holds `filtering`.
  struct Judged {
    Verdict verdict;
    SysmonSuggestions suggestions;
    Verdict after;  // under the configuration patched with the suggestions
  };
  Judged judge(const std::string& query, const std::string& filtering) {
    const auto rule = dir_ / "rule.toml";
    std::ofstream(rule) << "[rule]\nrule_id = \"00000000-0000-0000-0000-000000000001\"\nname = \"r\"\n"
                           "description = \"d\"\nrisk_score = 21\nseverity = \"low\"\ntype = \"eql\"\nlanguage = \"eql\"\n"
                           "query = '''\n" << query << "\n'''\n";
    auto set = compile_rules({rule.string()});
    EXPECT_EQ(set->compiled.size(), 1u) << query;
    const std::string text = "<Sysmon schemaversion=\"4.90\">\n<EventFiltering>\n" + filtering + "\n</EventFiltering>\n</Sysmon>\n";
    auto config = load_sysmon_config_text(text, "test.xml");
    EXPECT_TRUE(static_cast<bool>(config));
    const std::vector<RuleNeeds> needs = rule_needs(*set);
    Judged out;
    out.verdict = judge_sysmon_config(*set, needs[0], *config, &out.suggestions);
    auto patched = load_sysmon_config_text(patch_sysmon_config(text, out.suggestions), "patched.xml");
    EXPECT_TRUE(static_cast<bool>(patched));
    out.after = judge_sysmon_config(*set, needs[0], *patched);
    return out;
  }
  static std::vector<std::string> includes(const SysmonSuggestions& s) {
    std::vector<std::string> out;
    for (const auto& [a, rules] : s.additions) out.push_back(a.tag + " " + a.field + " " + a.condition + " " + a.value);
    return out;
  }
};

const char* kRegistryInclude = R"(<RuleGroup groupRelation="or"><RegistryEvent onmatch="include">%s</RegistryEvent></RuleGroup>)";

std::string registry_include(const std::string& conditions) {
  std::string out = kRegistryInclude;
  out.replace(out.find("%s"), 2, conditions);
  return out;
}

TEST_F(SysmonConfigTest, AWildcardPatternIsJudgedByItsLiteralStartEndAndRuns) {
  const std::string query = R"(registry where registry.path : "HKLM\\SYSTEM\\*ControlSet*\\Services\\*\\ServiceDLL")";
  // Every value the pattern stands for ends with \ServiceDLL: ready.
  EXPECT_EQ(judge(query, registry_include(R"(<TargetObject condition="end with">\ServiceDll</TargetObject>)")).verdict.status,
            CoverageStatus::Ready);
  // ... and holds \Services\ (a literal run).
  EXPECT_EQ(judge(query, registry_include(R"(<TargetObject condition="contains">\Services\</TargetObject>)")).verdict.status,
            CoverageStatus::Ready);
  // No value starting with HKLM\SYSTEM\ starts with HKLM\SOFTWARE: blind.
  EXPECT_EQ(judge(query, registry_include(R"(<TargetObject condition="begin with">HKLM\SOFTWARE</TargetObject>)")).verdict.status,
            CoverageStatus::Blind);
  // Some values start with HKLM\SYSTEM\CurrentControlSet\Services, others (ControlSet001) not: degraded,
  // and the include the rule's pattern reads as makes it ready.
  auto some = judge(query, registry_include(R"(<TargetObject condition="begin with">HKLM\SYSTEM\CurrentControlSet\Services</TargetObject>)"));
  EXPECT_EQ(some.verdict.status, CoverageStatus::Degraded);
  EXPECT_EQ(includes(some.suggestions), std::vector<std::string>{"RegistryEvent TargetObject end with \\servicedll"});
  EXPECT_EQ(some.after.status, CoverageStatus::Ready);
}

TEST_F(SysmonConfigTest, ProcessNamesAreImageEndingsAndPatternEndsStayAsWritten) {
  auto netsh = judge(R"(library where process.name : "netsh.exe" and dll.name : "evil.dll")",
                     R"(<RuleGroup groupRelation="or"><ImageLoad onmatch="include"/></RuleGroup>)");
  EXPECT_EQ(netsh.verdict.status, CoverageStatus::Blind);
  const auto added = includes(netsh.suggestions);
  ASSERT_EQ(added.size(), 1u);
  EXPECT_TRUE(added[0] == "ImageLoad Image end with \\netsh.exe" || added[0] == "ImageLoad ImageLoaded end with \\evil.dll")
      << added[0];
  EXPECT_EQ(netsh.after.status, CoverageStatus::Ready);
  // `*AAA.AAA`: any file name ending so (not only \AAA.AAA).
  auto sdelete = judge(R"(file where event.type == "creation" and file.name : "*AAA.AAA")",
                       R"(<RuleGroup groupRelation="or"><FileCreate onmatch="include"><TargetFilename condition="end with">.exe</TargetFilename></FileCreate></RuleGroup>)");
  EXPECT_EQ(includes(sdelete.suggestions), std::vector<std::string>{"FileCreate TargetFilename end with aaa.aaa"});
  EXPECT_EQ(sdelete.after.status, CoverageStatus::Ready);
}

TEST_F(SysmonConfigTest, OrBranchesAreEachIncludedAndOtherCategoriesNeedNothing) {
  // A DLL from a user-writable path or an unsigned one: one include per branch.
  auto dll = judge(R"(library where dll.path : "?:\\Users\\*" or dll.code_signature.exists == false)",
                   R"(<RuleGroup groupRelation="or"><ImageLoad onmatch="include"/></RuleGroup>)");
  EXPECT_EQ(includes(dll.suggestions),
            (std::vector<std::string>{"ImageLoad ImageLoaded contains :\\users\\", "ImageLoad Signed is false"}));
  EXPECT_EQ(dll.after.status, CoverageStatus::Ready);
  // The process branch of an `any` term needs no ImageLoad include; process.code_signature is never in
  // Sysmon 1, so that branch needs no ProcessCreate include either.
  auto any = judge(R"(any where (event.category == "library" and process.name : "x.exe") or
                     (event.category == "process" and (process.parent.name : "x.exe" or process.code_signature.trusted == false)))",
                   R"(<RuleGroup groupRelation="or"><ImageLoad onmatch="include"/><ProcessCreate onmatch="include"/></RuleGroup>)");
  EXPECT_EQ(includes(any.suggestions),
            (std::vector<std::string>{"ImageLoad Image end with \\x.exe", "ProcessCreate ParentImage end with \\x.exe"}));
  EXPECT_EQ(any.after.status, CoverageStatus::Ready);
}

TEST_F(SysmonConfigTest, ArgumentsAreInTheCommandLineAndEventDataFieldsAreThemselves) {
  auto args = judge(R"(process where event.type == "start" and process.args : "/i:http*")",
                    R"(<RuleGroup groupRelation="or"><ProcessCreate onmatch="include"><Image condition="end with">\cmd.exe</Image></ProcessCreate></RuleGroup>)");
  EXPECT_EQ(includes(args.suggestions), std::vector<std::string>{"ProcessCreate CommandLine contains /i:http"});
  EXPECT_EQ(args.after.status, CoverageStatus::Ready);
  auto lsass = judge(R"(process where event.code == "10" and winlog.event_data.TargetImage : "*\\lsass.exe")",
                     R"(<RuleGroup groupRelation="or"><ProcessAccess onmatch="include"/></RuleGroup>)");
  EXPECT_EQ(includes(lsass.suggestions), std::vector<std::string>{"ProcessAccess TargetImage end with \\lsass.exe"});
  EXPECT_EQ(lsass.after.status, CoverageStatus::Ready);
}

TEST_F(SysmonConfigTest, AnExclusionIsNarrowedInPlaceOrNamed) {
  const std::string query = R"(registry where registry.path : "HKLM\\SOFTWARE\\Microsoft\\NetSh\\*")";
  const std::string include = registry_include(R"(<TargetObject condition="contains">\NetSh</TargetObject>)");
  // Exclude wins over include: the exclusion gets the negated condition of the events the rule needs.
  auto narrowed = judge(query, include + R"(<RuleGroup groupRelation="or"><RegistryEvent onmatch="exclude"><TargetObject condition="begin with">HKLM\SOFTWARE\Microsoft</TargetObject></RegistryEvent></RuleGroup>)");
  EXPECT_EQ(narrowed.verdict.status, CoverageStatus::Blind);
  ASSERT_EQ(narrowed.suggestions.additions.size(), 1u);
  const SysmonAddition& a = narrowed.suggestions.additions.begin()->first;
  EXPECT_EQ(a.narrows, "TargetObject begin with \"HKLM\\SOFTWARE\\Microsoft\"");
  EXPECT_EQ(a.condition + " " + a.value, "begin with hklm\\software\\microsoft\\netsh\\");
  EXPECT_EQ(narrowed.after.status, CoverageStatus::Ready);
  // An exclusion inside a <Rule groupRelation="or"> cannot hold a Rule: named, not narrowed.
  auto named = judge(query, include + R"(<RuleGroup groupRelation="or"><RegistryEvent onmatch="exclude"><Rule groupRelation="or"><TargetObject condition="begin with">HKLM\SOFTWARE\Microsoft</TargetObject></Rule></RegistryEvent></RuleGroup>)");
  EXPECT_TRUE(named.suggestions.additions.empty());
  ASSERT_FALSE(named.suggestions.unfixable.empty());
  EXPECT_NE(named.suggestions.unfixable[0].find("narrow that exclusion"), std::string::npos);
}

TEST_F(SysmonConfigTest, ThePatchOnlyInsertsText) {
  const std::string text = R"(<Sysmon schemaversion="4.90"><EventFiltering>
  <RuleGroup groupRelation="or">
    <DnsQuery onmatch="exclude">
      <QueryName condition="end with">.live.com</QueryName> <!-- noisy -->
      <Rule groupRelation="and"><QueryName condition="end with">.microsoft.com</QueryName><Image condition="is">x.exe</Image></Rule>
    </DnsQuery>
  </RuleGroup></EventFiltering></Sysmon>)";
  auto config = load_sysmon_config_text(text, "t.xml");
  ASSERT_TRUE(static_cast<bool>(config));
  const SysmonEventFilters* dns = config->filters(22);
  ASSERT_NE(dns, nullptr);
  ASSERT_EQ(dns->exclude.size(), 2u);
  SysmonSuggestions s;
  for (const SysmonFilter& f : dns->exclude) {
    s.additions[{"DnsQuery", "QueryName", "is", "onedrive.live.com", "x", f.form, f.offset, f.element}] = {"r1"};
  }
  s.additions[{"ImageLoad", "Image", "end with", "\\regsvr32.exe"}] = {"r2"};
  const std::string patched = patch_sysmon_config(text, s);
  std::size_t i = 0;
  for (char c : patched) {
    if (i < text.size() && text[i] == c) ++i;
  }
  EXPECT_EQ(i, text.size()) << patched;  // every byte of the original, in order
  EXPECT_NE(patched.find(R"(<Rule groupRelation="and"><QueryName condition="end with">.live.com</QueryName><QueryName condition="is not">onedrive.live.com</QueryName></Rule> <!-- noisy -->)"),
            std::string::npos) << patched;
  EXPECT_NE(patched.find(R"(<Image condition="is">x.exe</Image><!-- vigil coverage (suggest): narrowed so that r1 get their events --><QueryName condition="is not">onedrive.live.com</QueryName></Rule>)"),
            std::string::npos) << patched;
  auto reloaded = load_sysmon_config_text(patched, "p.xml");
  ASSERT_TRUE(static_cast<bool>(reloaded));
  auto event = [](std::string query) -> SysmonConfig::ValueOf {
    return [query](std::string_view name) -> std::optional<std::string> {
      if (name == "QueryName") return query;
      if (name == "Image") return std::string("x.exe");
      return std::nullopt;
    };
  };
  EXPECT_FALSE(config->collects(22, event("onedrive.live.com")));
  EXPECT_TRUE(reloaded->collects(22, event("onedrive.live.com")));
  EXPECT_FALSE(reloaded->collects(22, event("g.live.com")));       // still excluded
  EXPECT_FALSE(reloaded->collects(22, event("x.microsoft.com")));  // the and-Rule still excludes it
  EXPECT_NE(reloaded->filters(7), nullptr);
}

TEST_F(SysmonConfigTest, RecordedEventsAreFilteredAsSysmonDoes) {
  auto config = load_sysmon_config_text(R"(<Sysmon schemaversion="4.90"><EventFiltering>
  <RuleGroup groupRelation="or">
    <ProcessCreate onmatch="include">
      <Image condition="end with">\regsvr32.exe</Image>
      <Rule groupRelation="and"><Image condition="image">cmd.exe</Image><CommandLine condition="contains">/c</CommandLine></Rule>
    </ProcessCreate>
    <ProcessCreate onmatch="exclude"><CommandLine condition="contains">/s /u</CommandLine></ProcessCreate>
    <NetworkConnect onmatch="exclude"><DestinationPort condition="is">443</DestinationPort></NetworkConnect>
    <ImageLoad onmatch="include"/>
  </RuleGroup></EventFiltering></Sysmon>)", "t.xml");
  ASSERT_TRUE(static_cast<bool>(config));
  auto event = [](std::map<std::string, std::string> fields) -> SysmonConfig::ValueOf {
    return [fields](std::string_view name) -> std::optional<std::string> {
      auto it = fields.find(std::string(name));
      return it == fields.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
  };
  EXPECT_TRUE(config->collects(1, event({{"Image", "C:\\Windows\\System32\\REGSVR32.EXE"}, {"CommandLine", "x"}})));
  EXPECT_FALSE(config->collects(1, event({{"Image", "C:\\Windows\\System32\\regsvr32.exe"}, {"CommandLine", "regsvr32 /s /u x"}})));
  EXPECT_TRUE(config->collects(1, event({{"Image", "C:\\Windows\\System32\\cmd.exe"}, {"CommandLine", "cmd /c x"}})));
  EXPECT_FALSE(config->collects(1, event({{"Image", "C:\\Windows\\System32\\cmd.exe"}, {"CommandLine", "cmd"}})));
  EXPECT_FALSE(config->collects(1, event({{"CommandLine", "no image"}})));
  EXPECT_TRUE(config->collects(3, event({{"DestinationPort", "80"}})));
  EXPECT_FALSE(config->collects(3, event({{"DestinationPort", "443"}})));
  EXPECT_FALSE(config->collects(7, event({{"ImageLoaded", "x.dll"}})));   // an empty include
  EXPECT_FALSE(config->collects(11, event({{"TargetFilename", "x"}})));   // not in the configuration
  // "excludes any": one or more of the values absent; "excludes all": none present (Sysmon's documentation).
  auto lists = load_sysmon_config_text(R"(<Sysmon schemaversion="4.90"><EventFiltering><RuleGroup groupRelation="or">
    <ProcessCreate onmatch="include"><CommandLine condition="excludes any">-a;-b</CommandLine></ProcessCreate>
    <FileCreate onmatch="include"><TargetFilename condition="excludes all">.exe;.dll</TargetFilename></FileCreate>
  </RuleGroup></EventFiltering></Sysmon>)", "l.xml");
  ASSERT_TRUE(static_cast<bool>(lists));
  EXPECT_TRUE(lists->collects(1, event({{"CommandLine", "x -a"}})));
  EXPECT_FALSE(lists->collects(1, event({{"CommandLine", "x -a -b"}})));
  EXPECT_TRUE(lists->collects(11, event({{"TargetFilename", "c:\\x.txt"}})));
  EXPECT_FALSE(lists->collects(11, event({{"TargetFilename", "c:\\x.dll"}})));
  EXPECT_TRUE(addition_holds({"ImageLoad", "ImageLoaded", "end with", "\\evil.dll"}, 7, event({{"ImageLoaded", "C:\\x\\EVIL.dll"}})));
  EXPECT_FALSE(addition_holds({"ImageLoad", "ImageLoaded", "end with", "\\evil.dll"}, 1, event({{"ImageLoaded", "C:\\x\\evil.dll"}})));
  EXPECT_TRUE(addition_holds({"ImageLoad", "", "", ""}, 7, event({})));
}

}  // namespace
}  // namespace vigil
