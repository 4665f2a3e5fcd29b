// Triage state: process ancestry from the events' own parent fields, and the
// cases that made it wrong on real recordings (issue 27): Sysmon's all-zero
// GUID for a parent it has not seen, a pid used again years later, a parent
// known only by pid (Security 4688).
#include "context/host_state.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/arena.h"
#include "ingest/event_reader.h"

using namespace vigil;

namespace {

constexpr const char* kZero = "{00000000-0000-0000-0000-000000000000}";

struct Fixture {
  FieldRegistry fields;
  HostState state{fields};
  EventReader reader{fields};
  Arena arena{1 << 16};

  Event decode(const std::string& json) {
    Event e;
    std::string reason;
    EXPECT_TRUE(reader.decode_one(json, e, arena, reason)) << reason << ": " << json;
    return e;
  }
  // A process start on host H; empty strings leave the field out.
  std::string start(const std::string& time, const std::string& guid, int pid, const std::string& name,
                    const std::string& parent_guid, int parent_pid, const std::string& parent_name) {
    std::string j = R"({"@timestamp":")" + time + R"(","host":{"name":"H"},"event":{"category":["process"],"type":["start"]},"process":{)";
    if (!guid.empty()) j += R"("entity_id":")" + guid + R"(",)";
    j += R"("pid":)" + std::to_string(pid) + R"(,"name":")" + name + R"(","parent":{)";
    if (!parent_guid.empty()) j += R"("entity_id":")" + parent_guid + R"(",)";
    if (!parent_name.empty()) j += R"("name":")" + parent_name + R"(",)";
    j += R"("pid":)" + std::to_string(parent_pid) + "}}}";
    return j;
  }
  std::string observe_and_context(const std::vector<std::string>& events) {
    std::string last;
    for (const auto& j : events) {
      Event e = decode(j);
      state.observe(e);
      last = state.context_json(e);
    }
    return last;
  }
};

}  // namespace

TEST(HostState, ZeroGuidParentIsFoundByPidOnTheSameHostAndMarked) {
  // MalSeclogon: Sysmon says parent pid 636, GUID all zeros, name unknown;
  // lsass.exe 636 was seen moments before (a Security 4688 naming it).
  Fixture f;
  std::string ctx = f.observe_and_context({
      f.start("2021-12-07T17:33:01.61Z", "", 6072, "MalSeclogon.exe", "", 636, "lsass.exe"),
      f.start("2021-12-07T17:33:01.63Z", "{747F3D96-9ACD-61AF-D501-000000000102}", 6072, "MalSeclogon.exe", kZero, 636,
              ""),
  });
  EXPECT_NE(ctx.find(R"("name":"lsass.exe","pid":"636")"), std::string::npos) << ctx;
  EXPECT_NE(ctx.find(R"("linked_by":"pid")"), std::string::npos) << ctx;
  EXPECT_EQ(ctx.find("00000000-0000"), std::string::npos) << ctx;
}

TEST(HostState, ZeroGuidParentsAreNotOneProcess) {
  // Two children whose parents Sysmon did not see: each keeps its own parent.
  Fixture f;
  f.observe_and_context({f.start("2020-01-01T00:00:00Z", "{A-1}", 10, "a.exe", kZero, 836, "")});
  std::string ctx = f.observe_and_context({f.start("2020-01-01T00:00:05Z", "{B-1}", 11, "b.exe", kZero, 900, "")});
  EXPECT_NE(ctx.find(R"("pid":"900")"), std::string::npos) << ctx;
  EXPECT_EQ(ctx.find(R"("pid":"836")"), std::string::npos) << ctx;
}

TEST(HostState, APidFromYearsBeforeIsNotTheParent) {
  // A 2020 process with pid 836; a 2021 child of pid 836: not linked, the
  // child's own description of its parent is shown.
  Fixture f;
  f.observe_and_context({f.start("2020-03-01T00:00:00Z", "{OLD-1}", 836, "old.exe", "{P-0}", 4, "System")});
  std::string ctx =
      f.observe_and_context({f.start("2021-12-07T00:00:00Z", "{NEW-1}", 5000, "new.exe", kZero, 836, "services.exe")});
  EXPECT_NE(ctx.find(R"("name":"services.exe","pid":"836")"), std::string::npos) << ctx;
  EXPECT_EQ(ctx.find("old.exe"), std::string::npos) << ctx;
  EXPECT_EQ(ctx.find("linked_by"), std::string::npos) << ctx;
}

TEST(HostState, APidStartedAgainIsAnotherProcess) {
  // Security 4688 only (no GUIDs): pid 700 is cmd.exe, later notepad.exe; a
  // child of 700 after the second start descends from notepad.exe.
  Fixture f;
  std::string ctx = f.observe_and_context({
      f.start("2021-01-01T00:00:00Z", "", 700, "cmd.exe", "", 4, "System"),
      f.start("2021-01-01T01:00:00Z", "", 700, "notepad.exe", "", 4, "System"),
      f.start("2021-01-01T01:00:01Z", "", 701, "child.exe", "", 700, ""),
  });
  EXPECT_NE(ctx.find(R"("name":"notepad.exe","pid":"700")"), std::string::npos) << ctx;
  EXPECT_EQ(ctx.find("cmd.exe"), std::string::npos) << ctx;
}
