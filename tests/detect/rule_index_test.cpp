// RuleIndex: which rules an event is a candidate for. The index may only
// narrow: a rule that would match must always be a candidate.
#include "detect/rule_index.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "eql/compiler.h"
#include "ingest/event_reader.h"

using namespace vigil;

namespace {

class Index {
 public:
  // Rule i is queries[i]; `rule_of` (when given) files query i as rule rule_of[i] instead, as the terms
  // of one sequence are filed.
  explicit Index(const std::vector<std::string>& queries, std::vector<std::size_t> rule_of = {})
      : index_(fields_.intern("event.category"), fields_.intern("event.type")), rule_of_(std::move(rule_of)) {
    for (const auto& q : queries) {
      auto compiled = eql::compile_query(q, fields_);
      EXPECT_TRUE(compiled.ok()) << q;
      programs_.push_back(std::move(compiled->program));
      index_.add_event_rule(rule(programs_.size() - 1), *programs_.back(), programs_.back()->category, fields_);
    }
  }
  // The candidates for `doc`, and (checked here) every rule that matches it is one of them.
  std::vector<std::size_t> candidates(std::string_view doc) {
    Event event;
    RuleIndex::Scratch scratch;
    std::vector<std::size_t> out = candidates_with(doc, scratch, event);
    eql::EvalContext ctx;
    for (std::size_t q = 0; q < programs_.size(); ++q) {
      if (eql::matches(*programs_[q], event, ctx)) {
        EXPECT_TRUE(std::binary_search(out.begin(), out.end(), rule(q))) << "query " << q << " matches " << doc;
      }
    }
    return out;
  }
  std::size_t literal_subsets() const { return index_.literal_subsets(); }
  // The same through one scratch kept across calls, as a hunt keeps it.
  std::vector<std::size_t> candidates_kept(std::string_view doc) {
    Event event;
    return candidates_with(doc, kept_, event);
  }

 private:
  std::size_t rule(std::size_t query) const { return rule_of_.empty() ? query : rule_of_[query]; }

  FieldRegistry fields_;
  Arena arena_;
  RuleIndex index_;
  std::vector<std::unique_ptr<eql::Program>> programs_;
  std::vector<std::size_t> rule_of_;
  RuleIndex::Scratch kept_;

  // `doc` decoded into `event`; its candidates sorted, each once.
  std::vector<std::size_t> candidates_with(std::string_view doc, RuleIndex::Scratch& scratch, Event& event) {
    EventReader reader(fields_);
    std::string reason;
    EXPECT_TRUE(reader.decode_one(doc, event, arena_, reason)) << reason;
    std::vector<std::size_t> out;
    index_.candidates(event, out, scratch);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }
};

using Rules = std::vector<std::size_t>;

constexpr std::string_view kStart =
    R"({"event":{"category":"process","type":"start"},"process":{"name":"rundll32.exe","command_line":"x"}})";
constexpr std::string_view kScript =
    R"({"event":{"category":"process","type":"info"},"powershell":{"file":{"script_block_text":"Invoke-Mimikatz"}}})";

}  // namespace

TEST(RuleIndex, LiteralValuesFileRulesUnderTheValue) {
  Index index({R"(process where process.name : ("rundll32.exe", "regsvr32.exe"))",
               R"(process where process.name == "cmd.exe")"});
  EXPECT_EQ(index.candidates(kStart), Rules{0});
  EXPECT_EQ(index.candidates(kScript), Rules{});
}

TEST(RuleIndex, CategoryEntriesAreGatedByTheFieldsTheQueryNeeds) {
  Index index({R"(process where powershell.file.script_block_text : "*mimikatz*")",  // needs the script block
               R"(process where process.name : "*r*")",                            // filed under its pattern
               R"(any where dll.path : "*.dll" or file.path : "*.dll")",           // needs dll.path or file.path
               R"(process where not powershell.file.script_block_text : "*a*")",   // a negation needs nothing
               R"(any where ?dll.name == null or dll.name : "a")",                 // null-safe: needs nothing
               R"(process where event.type == "start" and registry.path : "*")"});
  EXPECT_EQ(index.candidates(kStart), (Rules{1, 3, 4}));
  EXPECT_EQ(index.candidates(kScript), (Rules{0, 3, 4}));  // no process.name: rule 1 cannot match
  EXPECT_EQ(index.candidates(R"({"event":{"category":"file"},"file":{"path":"C:\\a.dll"}})"), (Rules{2, 4}));
  EXPECT_EQ(index.candidates(R"({"event":{"category":"library"},"dll":{"path":"C:\\a.dll","name":"a"}})"),
            (Rules{2, 4}));
  EXPECT_EQ(index.candidates(R"({"event":{"category":"process","type":"start"},"registry":{"path":"k"}})"),
            (Rules{3, 4, 5}));
}

TEST(RuleIndex, PatternsFileRulesUnderALiteralPieceOfEachPattern) {
  Index index({R"(registry where registry.path : ("*\\CurrentVersion\\Run\\*", "HKLM\\*\\Winlogon\\Shell"))",
               R"(registry where registry.path : "*\\Services\\*\\ImagePath" or registry.path == "x")",
               R"(library where dll.path : "C:\\Windows\\*" and dll.name : ("a.dll", "b*"))",  // broad pattern, own category
               R"(process where process.pid : "4*")",                                         // numbers match as text
               R"(file where file.path : ("?:\\*", "*"))"});                                // "*" narrows nothing
  auto reg = [](std::string_view path) {
    return R"({"event":{"category":"registry"},"registry":{"path":")" + std::string(path) + R"("}})";
  };
  EXPECT_EQ(index.candidates(reg(R"(HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\RUN\\evil)")), Rules{0});
  EXPECT_EQ(index.candidates(reg(R"(HKLM\\Software\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon\\Shell)")), Rules{0});
  EXPECT_EQ(index.candidates(reg(R"(HKLM\\System\\ControlSet001\\Services\\x\\ImagePath)")), Rules{1});
  EXPECT_EQ(index.candidates(reg("x")), Rules{1});
  EXPECT_EQ(index.candidates(reg(R"(HKLM\\Software\\Classes\\abc)")), Rules{});
  // The broad dll.path pattern brings rule 2 to library events only.
  EXPECT_EQ(index.candidates(R"({"event":{"category":"library"},"dll":{"path":"C:\\Windows\\x.dll","name":"b.dll"}})"),
            Rules{2});
  EXPECT_EQ(index.candidates(R"({"event":{"category":"process"},"dll":{"path":"C:\\Windows\\x.dll","name":"b.dll"}})"),
            Rules{});
  EXPECT_EQ(index.candidates(R"({"event":{"category":"process"},"process":{"pid":42}})"), Rules{3});
  EXPECT_EQ(index.candidates(R"({"event":{"category":"process"},"process":{"pid":24}})"), Rules{3});  // holds a "4"
  EXPECT_EQ(index.candidates(R"({"event":{"category":"process"},"process":{"pid":15}})"), Rules{});
  EXPECT_EQ(index.candidates(R"({"event":{"category":"file"},"file":{"path":"relative"}})"), Rules{4});
}

TEST(RuleIndex, FiledRulesComeOnlyToEventsOfTheirCategoriesAndTypes) {
  Index index({R"(process where event.type == "start" and process.name : "installutil.exe")",
               R"(network where process.name : "installutil.exe" and network.direction : "egress")",
               R"(any where event.category == "file" and process.name : "installutil.exe")",
               R"(registry where registry.path : "*\\Run\\*")"});
  auto event = [](std::string_view category, std::string_view type) {
    return R"({"event":{"category":")" + std::string(category) + R"(","type":")" + std::string(type) +
           R"("},"process":{"name":"InstallUtil.exe"},"registry":{"path":"HKLM\\Run\\x"}})";
  };
  EXPECT_EQ(index.candidates(event("process", "start")), Rules{0});
  EXPECT_EQ(index.candidates(event("process", "end")), Rules{});  // same process, not a start
  EXPECT_EQ(index.candidates(event("network", "connection")), Rules{1});
  EXPECT_EQ(index.candidates(event("File", "creation")), Rules{2});  // categories compare folded
  EXPECT_EQ(index.candidates(event("registry", "change")), Rules{3});
  EXPECT_EQ(index.candidates(R"({"event":{"category":["network","process"],"type":["start"]},"process":{"name":"installutil.exe"}})"),
            (Rules{0, 1}));
}

TEST(RuleIndex, TheTermsOfOneSequenceAreFiledEachWithItsOwnCategory) {
  // Both terms require the same process.name value: filed under it twice, once per category.
  Index index({R"(process where event.type == "start" and process.name : "installutil.exe")",
               R"(network where process.name : "installutil.exe")"},
              {0, 0});
  EXPECT_EQ(index.candidates(R"({"event":{"category":"process","type":"start"},"process":{"name":"installutil.exe"}})"),
            Rules{0});
  EXPECT_EQ(index.candidates(R"({"event":{"category":"network"},"process":{"name":"installutil.exe"}})"), Rules{0});
  EXPECT_EQ(index.candidates(R"({"event":{"category":"file"},"process":{"name":"installutil.exe"}})"), Rules{});
}

TEST(RuleIndex, APatternOnTheEventsContentIsPreferredToItsEventCode) {
  // `event.code == "10"` holds for every process-access event; the lsass pattern for few.
  Index index({R"(process where event.code == "10" and winlog.event_data.TargetImage : "?:\\Windows\\system32\\lsass.exe")"});
  EXPECT_EQ(index.candidates(R"({"event":{"category":"process","code":"10"},"winlog":{"event_data":{"TargetImage":"C:\\Windows\\system32\\lsass.exe"}}})"),
            Rules{0});
  EXPECT_EQ(index.candidates(R"({"event":{"category":"process","code":"10"},"winlog":{"event_data":{"TargetImage":"C:\\Windows\\explorer.exe"}}})"),
            Rules{});
}

TEST(RuleIndex, TheConjunctLettingFewestEventsThroughIsFiled) {
  // A short literal (`.exe`) or a number (an access mask) lets most events
  // through; a long literal few. Sigma's forms of one field are or-ed.
  Index index({R"(any where (process.executable : ("*\\EDR-Freeze*", "*\\EDRFreeze*") or Image : ("*\\EDR-Freeze*", "*\\EDRFreeze*")) and
                            (process.executable : "*.exe" or Image : "*.exe"))",
               R"(any where winlog.event_data.GrantedAccess == "0x1400" and
                            winlog.event_data.TargetImage : ("*:\\Windows\\Sysmon.exe", "*:\\Windows\\Sysmon64.exe"))"});
  EXPECT_EQ(index.candidates(R"({"process":{"executable":"C:\\Windows\\notepad.exe"}})"), Rules{});
  EXPECT_EQ(index.candidates(R"({"Image":"C:\\tools\\EDR-Freeze.exe"})"), Rules{0});
  EXPECT_EQ(index.candidates(R"({"winlog":{"event_data":{"GrantedAccess":"0x1400","TargetImage":"C:\\Windows\\lsass.exe"}}})"),
            Rules{});
  EXPECT_EQ(index.candidates(R"({"winlog":{"event_data":{"GrantedAccess":"0x1400","TargetImage":"C:\\Windows\\Sysmon64.exe"}}})"),
            Rules{1});
}

TEST(RuleIndex, EnumerationsAndCommonPathsGiveWayToTellingLiterals) {
  // Sysmon's enumerations (a registry event's EventType, an image load's
  // Signed) and the literals of most paths (`C:\Windows\`, `\svchost.exe`)
  // are in most events of their kind: SigmaHQ's rules pair them with a
  // telling literal, which is where they are filed.
  Index index({R"(any where winlog.event_data.Signed : "true" and winlog.event_data.ImageLoaded : "*C:\\Debuggers\\dbghelp.dll*")",
               R"(any where winlog.event_data.EventType : "CreateKey" and winlog.event_data.TargetObject : "*\\Explorer\\VolumeCaches\\*")",
               R"(any where winlog.event_data.TargetImage : "*\\svchost.exe" and winlog.event_data.GrantedAccess : "0x143a")",
               R"(any where winlog.event_data.Image : "?:\\Windows\\*" and
                            winlog.event_data.ImageLoaded : ("C:\\Users\\Public\\*", "C:\\PerfLogs\\*"))"});
  EXPECT_EQ(index.candidates(R"({"winlog":{"event_data":{"Signed":"true","Image":"C:\\Windows\\explorer.exe","ImageLoaded":"C:\\Windows\\System32\\ntdll.dll"}}})"),
            Rules{});
  EXPECT_EQ(index.candidates(R"({"winlog":{"event_data":{"Signed":"true","ImageLoaded":"C:\\Debuggers\\dbghelp.dll"}}})"), Rules{0});
  EXPECT_EQ(index.candidates(R"({"winlog":{"event_data":{"EventType":"CreateKey","TargetObject":"HKLM\\System\\Setup"}}})"), Rules{});
  EXPECT_EQ(index.candidates(R"({"winlog":{"event_data":{"EventType":"CreateKey","TargetObject":"HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Explorer\\VolumeCaches\\x"}}})"),
            Rules{1});
  EXPECT_EQ(index.candidates(R"({"winlog":{"event_data":{"TargetImage":"C:\\Windows\\system32\\svchost.exe","GrantedAccess":"0x1000"}}})"),
            Rules{});
  EXPECT_EQ(index.candidates(R"({"winlog":{"event_data":{"TargetImage":"C:\\Windows\\system32\\svchost.exe","GrantedAccess":"0x143a"}}})"),
            Rules{2});
  EXPECT_EQ(index.candidates(R"({"winlog":{"event_data":{"Image":"C:\\Windows\\System32\\svchost.exe","ImageLoaded":"C:\\Users\\Public\\x.dll"}}})"),
            Rules{3});
}

TEST(RuleIndex, ARegexIsFiledUnderTheLiteralsEveryMatchHolds) {
  Index index({
      // a run of plain characters (escaped ones too): "$pshome["
      R"(process where process.command_line regex~ ".*\\$PSHome\\[\\s*\\d{1,3}\\s*\\].*")",
      // an alternation needs one per branch; a group that must match gives its own
      R"(process where process.command_line regex ".*(invoke-mimikatz|sekurlsa::(logon|pth)).*")",
      // optional and repeated characters break runs: "qab?cd" holds "qa" and "cd" (too short to file under);
      // "wx+yzt" holds "wx" and "xyzt", not "wxyzt" ("wxxyzt")
      R"(process where process.command_line regex ".*qab?cd.*")",
      R"(process where process.command_line regex ".*wx+yzt.*")",
  });
  EXPECT_EQ(index.candidates(R"({"event":{"category":"process"},"process":{"command_line":"iex $PSHome[21]+$PSHome[30]"}})"),
            (Rules{0, 2}));
  EXPECT_EQ(index.candidates(R"({"event":{"category":"process"},"process":{"command_line":"powershell -c Invoke-Mimikatz"}})"),
            (Rules{1, 2}));
  EXPECT_EQ(index.candidates(R"({"event":{"category":"process"},"process":{"command_line":"mimikatz sekurlsa::pth /user:x"}})"),
            (Rules{1, 2}));
  // Rule 2 has no literal of three characters: it stays under its category. Rule 3 is filed under "xyzt".
  EXPECT_EQ(index.candidates(R"({"event":{"category":"process"},"process":{"command_line":"wxxxyzt"}})"), (Rules{2, 3}));
  EXPECT_EQ(index.candidates(R"({"event":{"category":"process"},"process":{"command_line":"notepad.exe"}})"), (Rules{2}));
}

TEST(RuleIndex, ARegexNeedsItsOtherRunsBesideTheOneItIsFiledUnder) {
  // Filed under "powershell" (its longest run); "cmd", "/c" and "&&" are in
  // every match too, and a text without them is no candidate. Runs of an
  // alternation or of an optional part are not required.
  Index index({R"q(any where winlog.event_data.Payload regex "(?s:.*)(?:(?i)cmd.{0,5}/c.+powershell.+&&.+)(?s:.*)")q",
               R"q(any where winlog.event_data.Payload regex "(?i)(set|get)-item.+(foo)?powershell")q",
               R"q(any where winlog.event_data.Payload regex "(?i)powershell.+cmd|powershell")q"});
  auto doc = [](std::string_view payload) {
    return R"({"winlog":{"event_data":{"Payload":")" + std::string(payload) + R"("}}})";
  };
  EXPECT_EQ(index.candidates(doc("powershell -nop")), Rules{2});
  EXPECT_EQ(index.candidates(doc("cmd /c powershell -nop")), Rules{2});
  EXPECT_EQ(index.candidates(doc("CMD.exe /C POWERSHELL x && y")), (Rules{0, 2}));
  // A companion is found wherever it is in the text, as the trigger is.
  EXPECT_EQ(index.candidates(doc("&& powershell cmd /c")), (Rules{0, 2}));
  // The second: "set" or "get" (an alternation) and "foo" (optional) are
  // not required; the third has two branches: "cmd" is only in one.
  EXPECT_EQ(index.candidates(doc("get-item x powershell")), (Rules{1, 2}));
  EXPECT_EQ(index.candidates(doc("item powershell")), Rules{2});
}

TEST(RuleIndex, ARegexKeepsAtMostThreeCompanionsTheLongestFirst) {
  // Filed under "powershell"; its other runs "qwert", "asdf", "zxc", "yu":
  // the three longest go with it, the fourth ("yu") does not.
  Index index({R"q(any where winlog.event_data.Payload regex "powershell.+yu.+zxc.+asdf.+qwert")q"});
  auto doc = [](std::string_view payload) {
    return R"({"winlog":{"event_data":{"Payload":")" + std::string(payload) + R"("}}})";
  };
  EXPECT_EQ(index.candidates(doc("powershell zxc asdf qwert")), Rules{0});  // the fourth is not looked for
  EXPECT_EQ(index.candidates(doc("powershell yu asdf qwert")), Rules{});    // the third is
  EXPECT_EQ(index.candidates(doc("powershell yu zxc asdf qwert")), Rules{0});
}

TEST(RuleIndex, ADisjunctionIsFiledUnderALiteralOfEachBranch) {
  Index index({R"(any where (event.category == "file" and file.path : "?:\\Users\\*\\remcos\\logs.dat") or
                            (event.category == "registry" and registry.value : ("Remcos", "licence")))",
               // one branch without a literal: the rule stays under its categories
               R"(process where process.name : "cmd.exe" or process.args_count > 20)"});
  EXPECT_EQ(index.candidates(R"({"event":{"category":"file"},"file":{"path":"C:\\Users\\a\\AppData\\Roaming\\remcos\\logs.dat"}})"),
            Rules{0});
  EXPECT_EQ(index.candidates(R"({"event":{"category":"file"},"file":{"path":"C:\\Users\\a\\x.txt"}})"), Rules{});
  EXPECT_EQ(index.candidates(R"({"event":{"category":"registry"},"registry":{"value":"REMCOS"}})"), Rules{0});
  EXPECT_EQ(index.candidates(R"({"event":{"category":"registry"},"registry":{"value":"Run"}})"), Rules{});
  // A literal of one branch on an event of the other kind: the rule's categories still hold it back.
  EXPECT_EQ(index.candidates(R"({"event":{"category":"process"},"registry":{"value":"Remcos"}})"), Rules{1});
  EXPECT_EQ(index.candidates(R"({"event":{"category":"process"},"process":{"name":"x","args_count":30}})"), Rules{1});
}

TEST(RuleIndex, KindValuesPastTheSixtyFourthShareBitsAndMissNothing) {
  // SigmaHQ's rules name hundreds of event IDs: past the 64th, values share a
  // bit (by hash), so they still narrow — an event of a value sharing the bit
  // may come to a rule, one the rule needs is never kept away.
  std::vector<std::string> queries;
  for (int i = 0; i < 300; ++i) {
    queries.push_back("process where event.action == \"a" + std::to_string(i) + "\" and process.name : \"p.exe\"");
  }
  Index index(queries);
  for (int i : {0, 63, 64, 69, 200, 299}) {
    auto event = R"({"event":{"category":"process","action":"a)" + std::to_string(i) +
                 R"("},"process":{"name":"p.exe"}})";
    Rules got = index.candidates(event);  // the harness checks that rule i (which matches) is among them
    EXPECT_TRUE(std::binary_search(got.begin(), got.end(), static_cast<std::size_t>(i))) << i;
    // Narrowed by its action's bit: 300 values on 64 bits (about five per bit; a few more by chance).
    EXPECT_LT(got.size(), 20u) << i;
  }
  // A value no rule requires reaches none of them.
  EXPECT_EQ(index.candidates(R"({"event":{"category":"process","action":"other"},"process":{"name":"p.exe"}})"), Rules{});
}

TEST(RuleIndex, LongKindValuesNarrowLikeShortOnes) {
  // event.action values can be long sentences ("Process Create (rule: ProcessCreate)" and longer).
  const std::string action(100, 'x');
  Index index({"process where event.action == \"" + action + "\" and process.name : \"p.exe\""});
  EXPECT_EQ(index.candidates(R"({"event":{"category":"process","action":")" + action +
                             R"("},"process":{"name":"p.exe"}})"),
            Rules{0});
  EXPECT_EQ(index.candidates(R"({"event":{"category":"process","action":"short"},"process":{"name":"p.exe"}})"),
            Rules{});
}

TEST(RuleIndex, FieldsOpenPerEventKindsAreRememberedWithoutGoingStale) {
  // The scratch remembers which indexed fields the last kinds of events
  // leave open (16 sets). Each of 24 categories has its rules on fields of
  // its own, and every event holds all of them: 24 categories interleaved
  // must give what a fresh scratch gives, event after event (a set used for
  // the wrong kinds would look at the wrong fields).
  std::vector<std::string> queries;
  for (int c = 0; c < 24; ++c) {
    const std::string k = std::to_string(c);
    queries.push_back("kind" + k + " where f" + k + R"(.name : ("a.exe", "b.exe"))");
    queries.push_back("kind" + k + " where f" + k + R"(.command_line : "*evil*")");
  }
  Index index(queries);
  std::string fields;
  for (int c = 0; c < 24; ++c) {
    fields += ",\"f" + std::to_string(c) + R"(":{"name":"a.exe","command_line":"run evil now"})";
  }
  for (int round = 0; round < 3; ++round) {
    for (int c = 0; c < 24; ++c) {
      const int kind = (c * 7 + round) % 24;
      const std::string doc = R"({"event":{"category":"kind)" + std::to_string(kind) + "\"}" + fields + "}";
      const Rules fresh = index.candidates(doc);
      EXPECT_EQ(fresh, (Rules{static_cast<std::size_t>(2 * kind), static_cast<std::size_t>(2 * kind + 1)}));
      EXPECT_EQ(index.candidates_kept(doc), fresh) << doc;
    }
  }
}

TEST(RuleIndex, KeywordSearchesAreFiledUnderTheirLiteralsInAnyText) {
  // Sigma keywords: a literal in any text of the event, found in the raw JSON
  // where `\\` and `"` stand escaped, or in the decoded texts when the JSON
  // spells characters with \u or \/ escapes.
  Index index({R"(any where _keywords("*mimikatz*"))", R"(any where _keywords("*\\temp\\x*"))",
               R"(any where _keywords("*say \"hi\"*"))"});
  EXPECT_EQ(index.candidates(R"({"m":"Invoke-Mimikatz"})"), Rules{0});
  EXPECT_EQ(index.candidates(R"({"m":"Invoke-Mimi\u006batz"})"), Rules{0});
  EXPECT_EQ(index.candidates(R"({"p":"C:\\temp\\x.exe"})"), Rules{1});
  EXPECT_EQ(index.candidates(R"({"p":"http:\/\/h\/temp\/mimikatz"})"), Rules{0});
  EXPECT_EQ(index.candidates(R"({"c":"echo say \"hi\" there"})"), Rules{2});
  EXPECT_EQ(index.candidates(R"({"m":"nothing to see"})"), Rules{});
  // \u escapes spelling a backslash or a quote are written as the literals are;
  // a surrogate pair, an escape at the very end of a text, several in a row.
  EXPECT_EQ(index.candidates(R"({"p":"C:\u005ctemp\u005Cx.exe"})"), Rules{1});
  EXPECT_EQ(index.candidates(R"({"c":"say \u0022hi\u0022"})"), Rules{2});
  EXPECT_EQ(index.candidates(R"({"m":"\ud83d\ude00 mimikat\u007a","n":"\u00e9"})"), Rules{0});
  EXPECT_EQ(index.candidates(R"({"m":"\u004d\u0069\u006d\u0069katz"})"), Rules{0});
  // An escaped backslash before a u is a backslash and a u, not an escape.
  EXPECT_EQ(index.candidates(R"({"m":"mimi\\u006batz"})"), Rules{});
  EXPECT_EQ(index.candidates(R"({"m":"mimi\\\u006batz"})"), Rules{});
}

TEST(RuleIndex, RulesComeOnlyToEventsOfTheChannelTheyRequire) {
  // winlog.channel is a kind field: a keyword rule of the Application log
  // (SigmaHQ's antivirus names) is not a candidate for a Security event
  // holding its literal, and a Security event searches only the literals of
  // rules taking it (2 of 6 here).
  Index index({R"(any where winlog.channel : "Application" and _keywords("*adfind*", "*cobalt*", "*chopper*", "*brutel*"))",
               R"(any where winlog.channel : "Security" and _keywords("*mimikatz*"))",
               R"(any where _keywords("*lsadump::*"))"});
  auto doc = [](std::string_view channel, std::string_view text) {
    return R"({"winlog":{"channel":")" + std::string(channel) + R"("},"message":")" + std::string(text) + "\"}";
  };
  EXPECT_EQ(index.candidates(doc("Security", "adfind cobalt mimikatz")), Rules{1});
  EXPECT_EQ(index.candidates(doc("Security", "adfind lsadump::sam")), Rules{2});
  EXPECT_EQ(index.candidates(doc("Application", "adfind mimikatz lsadump::sam")), (Rules{0, 2}));
  EXPECT_EQ(index.candidates(R"({"message":"adfind mimikatz lsadump::sam"})"), Rules{2});
  // Through one scratch, kinds interleaved: each gives what a fresh scratch gives.
  for (const std::string& d : {doc("Security", "adfind mimikatz"), doc("Application", "adfind mimikatz"),
                               doc("Security", "adfind mimikatz"), doc("System", "lsadump::x cobalt")}) {
    EXPECT_EQ(index.candidates_kept(d), index.candidates(d)) << d;
  }
}

TEST(RuleIndex, ALiteralNamingTheRulesOwnChannelIsNotWhereItIsFiled) {
  // SigmaHQ's "Suspicious PowerShell Invocations - Specific - PowerShell
  // Module": a branch needs `powershell` and a Run key in ContextInfo.
  // `powershell` is in nearly every event of the PowerShell log: filed under
  // it, the rule was tried on all of them; it is filed under the Run keys.
  Index index({R"(any where event.code : "4103" and winlog.channel : "Microsoft-Windows-PowerShell/Operational" and
                 ((powershell.context : "*powershell*" and powershell.context : "*reg*" and
                   powershell.context : ("*\\currentversion\\run*", "*\\currentversion\\policies\\explorer\\run*")) or
                  file.path : "*[convert]::frombase64string*"))"});
  auto doc = [](std::string_view context) {
    return R"({"event":{"code":"4103"},"winlog":{"channel":"Microsoft-Windows-PowerShell/Operational"},)"
           R"("powershell":{"context":")" + std::string(context) + "\"}}";
  };
  EXPECT_EQ(index.candidates(doc("Host Application = powershell.exe -nop")), Rules{});
  EXPECT_EQ(index.candidates(doc("powershell reg add HKCU\\\\Software\\\\Microsoft\\\\Windows\\\\CurrentVersion\\\\Run")),
            Rules{0});
}

TEST(RuleIndex, ATextRememberedForOneKindIsSearchedAgainForAnother) {
  // Consecutive events with the same command line remember its literals;
  // a Security event searches only "delta" (its rules' literals), so the
  // Application event after it, with the same text, must search again for
  // the literals of its own rules.
  Index index({R"(any where winlog.channel : "Application" and process.command_line : ("*alpha*", "*beta*", "*gamma*"))",
               R"(any where winlog.channel : "Security" and process.command_line : "*delta*")"});
  auto doc = [](std::string_view channel) {
    return R"({"winlog":{"channel":")" + std::string(channel) + R"("},"process":{"command_line":"alpha delta"}})";
  };
  EXPECT_EQ(index.candidates_kept(doc("Security")), Rules{1});
  EXPECT_EQ(index.candidates_kept(doc("Application")), Rules{0});
  EXPECT_EQ(index.candidates_kept(doc("Security")), Rules{1});
}

TEST(RuleIndex, LiteralSubsetsPerKindsAreBounded) {
  // Events name their own kinds: event.code arrays combine the 60 codes the
  // rules name into 1,770 pairs, each of which keeps 2 of 61 keywords. At
  // most 64 subsets are made per field; past that an event searches every
  // literal, and still gets every rule it matches (Index checks).
  std::vector<std::string> queries;
  for (int c = 0; c < 60; ++c) {
    queries.push_back("any where event.code == \"" + std::to_string(1000 + c) + "\" and _keywords(\"*word" +
                      std::to_string(c) + "x*\")");
  }
  queries.push_back(R"(any where _keywords("*always*"))");
  Index index(queries);
  for (int a = 0; a < 60; ++a) {
    for (int b = a + 1; b < 60; ++b) {
      const std::string doc = R"({"event":{"code":[")" + std::to_string(1000 + a) + R"(",")" +
                              std::to_string(1000 + b) + R"("]},"m":"word)" + std::to_string(a) + "x word" +
                              std::to_string(b) + "x always\"}";
      const Rules expected{static_cast<std::size_t>(a), static_cast<std::size_t>(b), 60};
      ASSERT_EQ(index.candidates_kept(doc), expected) << doc;
    }
  }
  EXPECT_GT(index.literal_subsets(), 0u);
  EXPECT_LE(index.literal_subsets(), 64u);
}

namespace {
// The kinds of an event holding these values of kind fields, as the NDJSON reader computes them.
KindBits kinds_of(const FieldDeferral& deferral, FieldRegistry& fields,
                  const std::vector<std::pair<std::string, std::string>>& values) {
  std::vector<PendingField> pending;
  for (const auto& [name, value] : values) add_pending(pending, fields.intern(name), Value::string(value), false);
  FieldDeferral::Memo memo;
  return deferral.kinds_of(pending, memo);
}
}  // namespace

TEST(RuleIndex, DefersFieldsOnlyTermsOfKnownKindsRead) {
  FieldRegistry fields;
  RuleIndex index(fields.intern("event.category"), fields.intern("event.type"));
  const FieldId pinned = fields.intern("user.name");  // registered by something else than a query
  std::vector<std::unique_ptr<eql::Program>> programs;
  auto file = [&](std::string_view query) {
    auto compiled = eql::compile_query(query, fields);
    EXPECT_TRUE(compiled.ok()) << query;
    programs.push_back(std::move(compiled->program));
    index.add_event_rule(programs.size() - 1, *programs.back(), programs.back()->category, fields);
  };
  file(R"(any where winlog.channel == "Application" and event.code == "1033" and Message : "*Atera*")");
  file(R"(process where process.command_line : "*x*" and user.name == "a")");
  file(R"(any where event.code == "4688" and process.command_line : "*y*")");
  file(R"(any where file.path : "*z*")");                                     // no kind: any event
  file(R"(any where event.code == "11" and (file.path : "*z*" or registry.path : "*r*"))");
  // Compiled, not filed here: its reference to dll.path is read where the index cannot tell.
  auto elsewhere = eql::compile_query(R"(any where dll.path : "*d*")", fields);
  ASSERT_TRUE(elsewhere.ok());
  file(R"(library where dll.path : "*e*")");

  const auto deferral = index.deferral(fields);
  ASSERT_NE(deferral, nullptr);
  auto id = [&](std::string_view name) { return *fields.find(name); };
  EXPECT_TRUE(deferral->deferred(id("Message")));
  EXPECT_TRUE(deferral->deferred(id("process.command_line")));
  EXPECT_TRUE(deferral->deferred(id("registry.path")));
  EXPECT_FALSE(deferral->deferred(pinned));
  EXPECT_FALSE(deferral->deferred(id("file.path")));   // one reader takes any event
  EXPECT_FALSE(deferral->deferred(id("dll.path")));    // a reference outside the filed terms
  EXPECT_FALSE(deferral->deferred(id("event.code")));  // kind fields say which events take the others
  EXPECT_FALSE(deferral->deferred(id("winlog.channel")));

  const FieldId message = id("Message"), command_line = id("process.command_line");
  const KindBits atera = kinds_of(*deferral, fields, {{"winlog.channel", "application"}, {"event.code", "1033"}});
  const KindBits security = kinds_of(*deferral, fields, {{"winlog.channel", "Security"}, {"event.code", "4688"}});
  const KindBits process = kinds_of(*deferral, fields, {{"event.category", "process"}, {"event.code", "1"}});
  const KindBits other = kinds_of(*deferral, fields, {{"winlog.channel", "Application"}, {"event.code", "1034"}});
  EXPECT_TRUE(deferral->takes(message, atera));
  EXPECT_FALSE(deferral->takes(message, security));
  EXPECT_FALSE(deferral->takes(message, other));  // both kinds of its one reader, not either
  EXPECT_TRUE(deferral->takes(command_line, security));
  EXPECT_TRUE(deferral->takes(command_line, process));
  EXPECT_FALSE(deferral->takes(command_line, atera));
}

TEST(RuleIndex, DefersNothingWhenEveryReaderTakesAnyEvent) {
  FieldRegistry fields;
  RuleIndex index(fields.intern("event.category"), fields.intern("event.type"));
  auto compiled = eql::compile_query(R"(any where process.name : "*x*")", fields);
  ASSERT_TRUE(compiled.ok());
  index.add_event_rule(0, *compiled->program, compiled->program->category, fields);
  EXPECT_EQ(index.deferral(fields), nullptr);
}
