// The parts of continuous detection that need no server: how hosts map to
// partitions and subjects (a deployment depends on them staying the same),
// what the alert file lets a checkpoint record after a restart, and a FIFO
// that `vigil run` reads whole.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include "output/alert_file_sink.h"
#include "core/document.h"
#include "stream/followed_inputs.h"
#include "stream/nats_bus.h"
#include "stream/source_header.h"

namespace vigil {
namespace {

// The JSON reading of a Vigil-Source header, without the fast path.
std::optional<SourceRef> parse_source_json(simdjson::dom::parser& parser, std::string_view text) {
  // A leading space: valid JSON, never the fast form.
  return parse_source(parser, " " + std::string(text));
}

TEST(SourceHeader, TheFastReadingAgreesWithJson) {
  simdjson::dom::parser parser;
  std::size_t fast = 0;
  const std::vector<std::string> paths = {"/var/log/a.evtx", "C:\\logs\\Security.evtx", "x", "p\"q",
                                          "caf\xc3\xa9.ndjson", "tab\there", "\xff\xfe", std::string(300, 'z')};
  for (const std::string& path : paths) {
    for (SourceUnit unit : {SourceUnit::Line, SourceUnit::Record, SourceUnit::Element}) {
      for (std::uint64_t line : {std::uint64_t{1}, std::uint64_t{0}, ~std::uint64_t{0}}) {
        for (std::uint64_t offset : {std::uint64_t{0}, std::uint64_t{123456789}}) {
          Event e;
          e.file = path;
          e.unit = unit;
          e.line = line;
          e.offset = offset;
          const std::string text = event_source_json(e);
          auto a = parse_source(parser, text);
          auto b = parse_source_json(parser, text);
          ASSERT_EQ(a.has_value(), b.has_value()) << text;
          if (!a) continue;
          fast += parse_source_fast(text).has_value();
          EXPECT_EQ(a->file(), b->file()) << text;
          EXPECT_EQ(a->unit, b->unit) << text;
          EXPECT_EQ(a->line, b->line) << text;
          EXPECT_EQ(a->offset, b->offset) << text;
          // (invalid UTF-8 is written as U+FFFD: only valid paths come back as they were)
          if (simdjson::validate_utf8(path.data(), path.size())) {
            EXPECT_EQ(a->file(), path) << text;
          }
        }
      }
    }
  }
  EXPECT_GT(fast, 50u) << "the common form takes the fast reading";
  // Not the exact form: the JSON reading decides, whatever the fast one would say.
  for (std::string text : {"{\"path\":\"a\",\"line\":007}", "{\"path\":\"a\",\"line\":-1}",
                           "{\"path\":\"a\",\"line\":1,\"offset\":2,\"x\":3}", "{\"path\":\"\",\"line\":1}",
                           "{\"path\":\"a\",\"line\":99999999999999999999}", "{\"path\":\"a\",\"line\":1} ",
                           "{\"path\":\"a\nb\",\"line\":1}", "{\"path\":\"a\"}", "{\"path\":\"a\",\"line\":1"}) {
    EXPECT_FALSE(parse_source_fast(text)) << text;
    auto a = parse_source(parser, text);
    auto b = parse_source_json(parser, text);
    ASSERT_EQ(a.has_value(), b.has_value()) << text;
    if (a) {
      EXPECT_EQ(a->line, b->line) << text;
    }
  }
}

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

namespace {
// The events `vigil run` reads from `path` to its end, as documents, and the reasons reported.
std::pair<std::vector<std::string>, std::vector<std::string>> read_to_end(const std::string& path,
                                                                        const ReaderOptions& reader) {
  FieldRegistry fields;
  FollowOptions follow;
  follow.follow = false;
  ReadStats stats;
  std::vector<std::string> documents;
  FollowedInputs inputs({path}, fields, reader, follow);
  // Until the input is read to its end (a FIFO's writer may be slow to start on a loaded machine), 60 s at most.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (bool first = true; first || (!inputs.drained() && std::chrono::steady_clock::now() < deadline); first = false) {
    if (!first) inputs.wait(10'000'000);
    inputs.poll(0, [&](EventBatch& batch) {
      for (const Event& e : batch.events) {
        documents.emplace_back();
        append_event_json(documents.back(), e);
      }
      return true;
    }, stats);
  }
  std::vector<std::string> reasons;
  for (const auto& d : stats.diagnostics) reasons.push_back(d.reason);
  return {documents, reasons};
}

// The events `vigil run` reads from a FIFO an EVTX file is written into (one
// writer thread), with `spool_bytes`: documents, and the reasons reported.
std::pair<std::vector<std::string>, std::vector<std::string>> read_fifo(const std::string& evtx, std::size_t spool_bytes) {
  static const std::string dir = std::filesystem::temp_directory_path();  // before a test changes TMPDIR
  const std::string fifo = dir + "/vigil_fifo_" + std::to_string(::getpid());
  std::filesystem::remove(fifo);
  EXPECT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::signal(SIGPIPE, SIG_IGN);
  std::thread writer([&] {
    std::ifstream in(evtx, std::ios::binary);
    std::ofstream out(fifo, std::ios::binary);
    out << in.rdbuf();
  });
  ReaderOptions reader;
  reader.spool_bytes = spool_bytes;
  // The FIFO's reading end is closed on return: a writer vigil stopped reading gets EPIPE.
  auto read = read_to_end(fifo, reader);
  writer.join();
  std::filesystem::remove(fifo);
  return read;
}
}  // namespace

TEST(FollowedInputs, AByteOrderMarkOrDocumentsOverSeveralLinesAreReadAsJson) {
  // A file PowerShell 5 wrote (Out-File -Encoding utf8): its first line is
  // NDJSON after the mark, read line by line as it grows; an array after
  // one is read whole. Nothing is reported.
  const std::string dir = std::filesystem::temp_directory_path();
  const std::string lines = dir + "/vigil_bom_" + std::to_string(::getpid()) + ".ndjson";
  const std::string array = dir + "/vigil_bom_" + std::to_string(::getpid()) + ".json";
  std::ofstream(lines, std::ios::binary) << "\xEF\xBB\xBF{\"x\":1}\n\xEF\xBB\xBF{\"x\":2}\n";
  std::ofstream(array, std::ios::binary) << "\xEF\xBB\xBF [{\"x\":1},{\"x\":2}]";
  // Documents over several lines (jq ., ConvertTo-Json) are read whole too, not line by line.
  const std::string pretty = dir + "/vigil_pretty_" + std::to_string(::getpid()) + ".json";
  std::ofstream(pretty, std::ios::binary) << "{\n  \"x\": 1\n}\n{\n  \"x\": 2\n}\n";
  for (const std::string& path : {lines, array, pretty}) {
    const auto [documents, reasons] = read_to_end(path, ReaderOptions{});
    EXPECT_EQ(documents, (std::vector<std::string>{R"({"x":1})", R"({"x":2})"})) << path;  // as printed: one line each
    EXPECT_TRUE(reasons.empty()) << path << ": " << reasons[0];
    std::filesystem::remove(path);
  }
}

TEST(FollowedInputs, AStreamReadWholeBeyondTheSpoolBudgetGoesToATemporaryFile) {
  // An EVTX file written into a FIFO is read to its end, then decoded whole:
  // beyond spool_bytes from a temporary file, not from memory. The same
  // events either way; where no temporary file can be made, a reason.
  const std::string evtx =
      std::string(VIGIL_SHARED_DIR) + "/data/evtx-attack-samples/AutomatedTestingTools/PanacheSysmon_vs_AtomicRedTeam01.evtx";
  const auto [in_memory, none] = read_fifo(evtx, std::size_t{64} << 20);
  EXPECT_GT(in_memory.size(), 500u);
  EXPECT_TRUE(none.empty());
  const auto [spooled, also_none] = read_fifo(evtx, 64 * 1024);
  EXPECT_EQ(spooled, in_memory);
  EXPECT_TRUE(also_none.empty());

  const char* saved = std::getenv("TMPDIR");
  const std::string saved_dir = saved ? saved : "";
  ::setenv("TMPDIR", "/nonexistent/vigil-spool", 1);
  const auto [nothing, reasons] = read_fifo(evtx, 64 * 1024);
  // The budget's edge: exactly spool_bytes is held in memory, one byte more is spooled.
  const std::size_t size = std::filesystem::file_size(evtx);
  const auto [at_budget, no_reason] = read_fifo(evtx, size);
  const auto [over_budget, over_reasons] = read_fifo(evtx, size - 1);
  if (saved) {
    ::setenv("TMPDIR", saved_dir.c_str(), 1);
  } else {
    ::unsetenv("TMPDIR");
  }
  EXPECT_TRUE(nothing.empty());
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_NE(reasons[0].find("cannot spool the input to a temporary file"), std::string::npos) << reasons[0];
  EXPECT_EQ(at_budget, in_memory);
  EXPECT_TRUE(no_reason.empty());
  EXPECT_TRUE(over_budget.empty());
  EXPECT_EQ(over_reasons.size(), 1u);
}

}  // namespace vigil
