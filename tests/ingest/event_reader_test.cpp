// EventReader::read_all: many inputs, EVTX files decoded ahead across file
// boundaries on several threads, give exactly what one thread reading them
// one by one gives (events, their order and input index, diagnostics), and
// stopping early stops.
#include "ingest/event_reader.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/document.h"
#include "ingest/byte_source.h"

using namespace vigil;

namespace {

struct Seen {
  std::vector<std::string> events;  // input index, ordinal, document
  ReadStats stats;
};

Seen read_with(unsigned threads, const std::vector<std::string>& inputs, std::size_t stop_after = 0,
               bool stream_json = false, std::size_t spool_bytes = ReaderOptions{}.spool_bytes) {
  FieldRegistry fields;
  fields.intern("event.code");
  ReaderOptions options;
  options.threads = threads;
  options.stream_json_files = stream_json;
  options.spool_bytes = spool_bytes;
  EventReader reader(fields, options);
  Seen seen;
  reader.read_all(inputs, [&](EventBatch& batch) {
    for (const Event& e : batch.events) {
      std::string line = std::to_string(e.input_index) + " " + std::to_string(e.ordinal) + " ";
      append_event_json(line, e);
      seen.events.push_back(std::move(line));
    }
    return stop_after == 0 || seen.events.size() < stop_after;
  }, seen.stats);
  return seen;
}

std::vector<std::string> inputs() {
  // Small one-chunk logs, a damaged one, a directory, and JSON in between.
  const std::string data = std::string(VIGIL_SHARED_DIR) + "/data";
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(data + "/evtx-edge-cases")) {
    if (entry.path().extension() == ".evtx") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  files.resize(std::min<std::size_t>(files.size(), 12));
  const std::string json = std::filesystem::temp_directory_path() / "vigil_read_all.ndjson";
  std::ofstream(json) << R"({"event":{"code":"1"}})" "\n" "not json\n" R"({"event":{"code":"2"}})" "\n";
  files.insert(files.begin() + 3, json);
  files.push_back(data + "/evtx-attack-samples/AutomatedTestingTools");
  return files;
}

// The same skipped count, bytes and diagnostics (file, line, offset, reason).
void expect_same_stats(const ReadStats& a, const ReadStats& b) {
  EXPECT_EQ(a.skipped, b.skipped);
  EXPECT_EQ(a.bytes, b.bytes);
  ASSERT_EQ(a.diagnostics.size(), b.diagnostics.size());
  for (std::size_t i = 0; i < a.diagnostics.size(); ++i) {
    EXPECT_EQ(a.diagnostics[i].file, b.diagnostics[i].file);
    EXPECT_EQ(a.diagnostics[i].line, b.diagnostics[i].line);
    EXPECT_EQ(a.diagnostics[i].offset, b.diagnostics[i].offset);
    EXPECT_EQ(a.diagnostics[i].reason, b.diagnostics[i].reason);
  }
}

}  // namespace

TEST(EventReader, ReadAllOnThreadsGivesWhatOneThreadGives) {
  const auto in = inputs();
  Seen one = read_with(1, in);
  Seen many = read_with(3, in);
  ASSERT_GT(one.events.size(), 1000u);
  ASSERT_EQ(one.events.size(), many.events.size());
  for (std::size_t i = 0; i < one.events.size(); ++i) ASSERT_EQ(one.events[i], many.events[i]) << "event " << i;
  EXPECT_GT(one.stats.skipped, 0u);  // the JSON line and damaged EVTX records
  expect_same_stats(one.stats, many.stats);
}

TEST(EventReader, ReadAllStopsWhenTheSinkSaysSo) {
  Seen some = read_with(3, inputs(), 10);
  EXPECT_GE(some.events.size(), 10u);
  EXPECT_LT(some.events.size(), 10u + 4096u);  // at most the batch that said stop
}

TEST(EventReader, LargeNdjsonDecodedOnThreadsMatchesOneThread) {
  // Over 1 MB (decoded on all threads): good lines, malformed ones, blank
  // and CRLF lines, a flat Windows export line, values with escapes.
  const std::string path = std::filesystem::temp_directory_path() / "vigil_parallel.ndjson";
  {
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < 60000; ++i) {
      switch (i % 7) {
        case 0: out << "{\"event\":{\"code\":\"" << i << "\"},\"pad\":\"" << std::string(40, 'x') << "\"}\n"; break;
        case 1: out << "{\"event\":{\"code\":" << i << "}\r\n"; break;  // truncated
        case 2: out << "\n"; break;
        case 3: out << "{\"event\":{\"code\":\"a\\tb" << i << "\"}}\r\n"; break;
        case 4: out << "[1,2]\n"; break;  // not an object
        default: out << "{\"event\":{\"code\":[\"" << i << "\",\"x\"]}}\n"; break;
      }
    }
  }
  ASSERT_GT(std::filesystem::file_size(path), 1u << 20);  // decoded on all threads above 1 MB
  Seen one = read_with(1, {path});
  Seen many = read_with(2, {path});
  ASSERT_GT(one.events.size(), 30000u);
  EXPECT_EQ(one.events, many.events);
  // Three threads (several parts per thread and block, blocks decoded ahead), and stopping early.
  EXPECT_EQ(one.events, read_with(3, {path}).events);
  Seen stopped = read_with(3, {path}, 10);
  EXPECT_GE(stopped.events.size(), 10u);
  EXPECT_LT(stopped.events.size(), one.events.size());
  EXPECT_EQ(one.stats.skipped, many.stats.skipped);
  ASSERT_EQ(one.stats.diagnostics.size(), many.stats.diagnostics.size());
  for (std::size_t i = 0; i < one.stats.diagnostics.size(); ++i) {
    EXPECT_EQ(one.stats.diagnostics[i].line, many.stats.diagnostics[i].line);
    EXPECT_EQ(one.stats.diagnostics[i].reason, many.stats.diagnostics[i].reason);
  }
  std::filesystem::remove(path);
}

TEST(EventReader, AKeptDocumentRendersAsTheEventItself) {
  // Every event of real EVTX recordings and JSON lines: kept (members copied in binary), then rendered.
  FieldRegistry fields;
  fields.intern("event.code");
  EventReader reader(fields, ReaderOptions{});
  ReadStats stats;
  std::size_t documents = 0, events = 0;
  reader.read_all(inputs(), [&](EventBatch& batch) {
    for (const Event& e : batch.events) {
      std::string direct, kept, rendered;
      append_event_json(direct, e);
      append_event_kept(kept, e);
      append_kept_json(rendered, kept);
      EXPECT_EQ(rendered, direct) << "event " << e.ordinal;
      documents += !e.document.empty();
      ++events;
    }
    return true;
  }, stats);
  EXPECT_GT(documents, 1000u);
  EXPECT_GT(events, documents);
  // Every kind of value, and bytes a binary form must not trip over.
  const std::string odd = std::string("a\x1e\"b\\") + '\0' + "\xc3\xa9";
  const Value items[] = {Value::integer(-3), Value::string("x"), Value::boolean(false)};
  const DocMember members[] = {{"winlog.event_data.X", Value::string(odd)},
                               {"n", Value::integer(-9007199254740993)},
                               {"f", Value::floating(0.25)},
                               {"b", Value::boolean(true)},
                               {"z", Value::null()},
                               {"source.ip", Value::ip("10.0.0.1")},
                               {"list", Value::array(items)},
                               {"empty", Value::array({})}};
  Event e;
  e.document = members;
  std::string direct, kept, rendered;
  append_event_json(direct, e);
  append_event_kept(kept, e);
  append_kept_json(rendered, kept);
  EXPECT_EQ(rendered, direct);
  EXPECT_NE(direct.find("\\u001e"), std::string::npos);
}

TEST(EventReader, NdjsonFilesReadAsStreamsGiveWhatTheMappingGives) {
  // vigil hunt streams NDJSON files (open_byte_source's stream_json): the
  // same events, order, skipped lines, bytes and diagnostics as mapped, for
  // the mixed inputs (EVTX stays mapped) and a file over 1 MB.
  const std::string big = std::filesystem::temp_directory_path() / "vigil_streamed.ndjson";
  {
    std::ofstream out(big, std::ios::binary);
    for (int i = 0; i < 30000; ++i) {
      out << (i % 5 == 4 ? std::string("{\"event\":{\"code\":") + std::to_string(i) + "}\n"  // truncated
                         : "{\"event\":{\"code\":\"" + std::to_string(i) + "\"},\"p\":\"C:\\\\x\\\\" +
                               std::string(30, 'y') + "\"}\n");
    }
  }
  for (const std::vector<std::string>& in : {inputs(), std::vector<std::string>{big}}) {
    for (unsigned threads : {1u, 2u}) {
      Seen mapped = read_with(threads, in);
      Seen streamed = read_with(threads, in, 0, true);
      ASSERT_GT(mapped.events.size(), 1000u);
      EXPECT_EQ(mapped.events, streamed.events);
      EXPECT_GT(streamed.stats.skipped, 0u);
      expect_same_stats(mapped.stats, streamed.stats);
    }
  }
  // Only an NDJSON file is streamed: EVTX and a JSON array stay mapped.
  auto contiguous = [](const std::string& path) {
    auto source = open_byte_source(path, true);
    return source && !(*source)->contiguous().empty();
  };
  EXPECT_FALSE(contiguous(big));
  const std::string array = std::filesystem::temp_directory_path() / "vigil_array.json";
  std::ofstream(array) << " [{\"event\":{\"code\":\"1\"}}]";
  EXPECT_TRUE(contiguous(array));
  const auto in = inputs();
  EXPECT_TRUE(contiguous(in.front())) << in.front();
  auto mapped = open_byte_source(big);
  EXPECT_TRUE(mapped && !(*mapped)->contiguous().empty());
  std::filesystem::remove(big);
  std::filesystem::remove(array);
}

TEST(EventReader, AStreamDecodedWholeBeyondTheSpoolBudgetIsMappedFromATemporaryFile) {
  // A gzipped EVTX file is a stream that EVTX decoding needs whole: beyond
  // spool_bytes it goes to a temporary file in $TMPDIR, mapped, not into
  // memory. The events, bytes and diagnostics are those of the plain file.
  const std::string evtx =
      std::string(VIGIL_SHARED_DIR) + "/data/evtx-attack-samples/AutomatedTestingTools/PanacheSysmon_vs_AtomicRedTeam01.evtx";
  const std::string gz = std::filesystem::temp_directory_path() / "vigil_spooled.evtx.gz";
  {
    std::ifstream in(evtx, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_GT(bytes.size(), 1'000'000u);
    gzFile out = gzopen(gz.c_str(), "wb");
    ASSERT_NE(out, nullptr);
    ASSERT_EQ(gzwrite(out, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
    gzclose(out);
  }
  const Seen plain = read_with(1, {evtx});
  ASSERT_GT(plain.events.size(), 500u);
  auto same_events = [&](const Seen& seen) {
    EXPECT_EQ(seen.events, plain.events);
    EXPECT_EQ(seen.stats.bytes, plain.stats.bytes);
    EXPECT_EQ(seen.stats.skipped, plain.stats.skipped);
  };
  same_events(read_with(1, {gz}, 0, false, 64 * 1024));  // spooled
  same_events(read_with(1, {gz}));                       // in memory (64 MB budget)

  // Where no temporary file can be made, the input is reported, not read
  // into memory beyond the budget; within the budget no file is needed.
  const char* saved = std::getenv("TMPDIR");
  const std::string saved_dir = saved ? saved : "";
  ::setenv("TMPDIR", "/nonexistent/vigil-spool", 1);
  const Seen failed = read_with(1, {gz}, 0, false, 64 * 1024);
  const Seen small = read_with(1, {gz});
  // The budget's edge: a stream of exactly spool_bytes is held in memory,
  // one byte longer is spooled (and so fails here).
  const std::size_t size = std::filesystem::file_size(evtx);
  const Seen at_budget = read_with(1, {gz}, 0, false, size);
  const Seen over_budget = read_with(1, {gz}, 0, false, size - 1);
  if (saved) {
    ::setenv("TMPDIR", saved_dir.c_str(), 1);
  } else {
    ::unsetenv("TMPDIR");
  }
  EXPECT_TRUE(failed.events.empty());
  ASSERT_EQ(failed.stats.diagnostics.size(), 1u);
  EXPECT_NE(failed.stats.diagnostics[0].reason.find("cannot spool the input to a temporary file"), std::string::npos)
      << failed.stats.diagnostics[0].reason;
  EXPECT_EQ(failed.stats.diagnostics[0].file, gz);
  same_events(small);
  same_events(at_budget);
  EXPECT_TRUE(over_budget.events.empty());
  ASSERT_EQ(over_budget.stats.diagnostics.size(), 1u);
  EXPECT_NE(over_budget.stats.diagnostics[0].reason.find("cannot spool"), std::string::npos);
  std::filesystem::remove(gz);
}
