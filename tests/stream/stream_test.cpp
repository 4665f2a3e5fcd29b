// The parts of continuous detection that need no server: how hosts map to
// partitions and subjects (a deployment depends on them staying the same),
// and what the alert file lets a checkpoint record after a restart.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "output/alert_file_sink.h"
#include "stream/nats_bus.h"

namespace vigil {
namespace {

TEST(Partition, FnvOfLowerCaseNameModN) {
  // FNV-1a 32 of "msedgewin10" is 0x612f92df (docs/streaming.md's formula): 15 of 16.
  EXPECT_EQ(partition_of("MSEDGEWIN10", 16), 15u);
  EXPECT_EQ(partition_of("msedgewin10", 16), 15u);
  EXPECT_EQ(partition_of("IEWIN7", 16), 12u);
  EXPECT_EQ(partition_of("PC01.example.corp", 16), 11u);
  EXPECT_EQ(partition_of("", 16), 2166136261u % 16);
  EXPECT_EQ(partition_of("anything", 1), 0u);
  for (std::uint32_t n : {2u, 3u, 7u, 64u}) EXPECT_LT(partition_of("host-x", n), n);
}

TEST(Partition, SubjectTokenEscapesWhatNatsForbids) {
  EXPECT_EQ(subject_token("PC01.example.corp"), "PC01%2Eexample%2Ecorp");
  EXPECT_EQ(subject_token("a b*c>d%e"), "a%20b%2Ac%3Ed%25e");
  EXPECT_EQ(subject_token("tab\there"), "tab%09here");
  EXPECT_EQ(subject_token("\xc3\xa9t\xc3\xa9"), "%C3%A9t%C3%A9");
  EXPECT_EQ(subject_token(""), "%00");
  EXPECT_EQ(subject_token("WIN-77LTAPHIQ1R_x"), "WIN-77LTAPHIQ1R_x");
}

std::string line(const std::string& id) { return "{\"kibana.alert.uuid\":\"" + id + "\",\"x\":1}\n"; }

class AlertFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vigil-sink-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/alerts.ndjson";
  }
  void TearDown() override {
    std::remove(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  std::string dir_, path_;
};

TEST_F(AlertFile, CheckpointWaitsForTheReplayToCatchUp) {
  std::uint64_t checkpointed = 0;
  {
    auto sink = AlertFileSink::open(path_, std::nullopt);
    ASSERT_TRUE(sink);
    ASSERT_TRUE((*sink)->write(line("a")));
    checkpointed = (*sink)->checkpoint_bytes();
    ASSERT_TRUE((*sink)->write(line("b") + line("c")));  // after the checkpoint, then a kill
  }
  auto sink = AlertFileSink::open(path_, checkpointed);
  ASSERT_TRUE(sink);
  // The replay has made "b" again, not yet "c": a checkpoint now must not
  // put "c" before its recorded length.
  ASSERT_TRUE((*sink)->write(line("b")));
  EXPECT_EQ((*sink)->replayed(), 1u);
  EXPECT_EQ((*sink)->checkpoint_bytes(), checkpointed);
  ASSERT_TRUE((*sink)->write(line("d")));
  EXPECT_EQ((*sink)->checkpoint_bytes(), checkpointed);
  ASSERT_TRUE((*sink)->write(line("c")));
  EXPECT_EQ((*sink)->checkpoint_bytes(), (*sink)->bytes());
  std::ifstream in(path_);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(all, line("a") + line("b") + line("c") + line("d"));
}

TEST_F(AlertFile, LinesTheStateAlreadyWroteAreNotWaitedFor) {
  std::uint64_t checkpointed = 0;
  {
    auto sink = AlertFileSink::open(path_, std::nullopt);
    ASSERT_TRUE(sink);
    checkpointed = (*sink)->checkpoint_bytes();
    ASSERT_TRUE((*sink)->write(line("a") + line("b")));
  }
  auto sink = AlertFileSink::open(path_, checkpointed);
  ASSERT_TRUE(sink);
  EXPECT_EQ((*sink)->checkpoint_bytes(), checkpointed);
  // The resumed state had written "a" (a checkpoint kept the old length while
  // the replay caught up): no replay makes it again.
  (*sink)->drop_replayed_if([](std::string_view id) { return id == "a"; });
  EXPECT_EQ((*sink)->checkpoint_bytes(), checkpointed);
  (*sink)->drop_replayed_if([](std::string_view id) { return id == "b"; });
  EXPECT_EQ((*sink)->checkpoint_bytes(), (*sink)->bytes());
}

}  // namespace
}  // namespace vigil
