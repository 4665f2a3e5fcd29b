// Google Benchmark kernels: document decoding with projection (one document;
// a block of NDJSON lines by the single pass and by simdjson alone),
// predicate evaluation on a decoded event, and wildcard matching.
#include <benchmark/benchmark.h>

#include "core/wildcard.h"
#include "eql/compiler.h"
#include "ingest/event_reader.h"
#include "ingest/ndjson_reader.h"

using namespace vigil;

namespace {
const char* kDoc =
    R"({"@timestamp":"2026-11-01T00:00:01.000Z","event":{"category":["process"],"type":["start"],"action":"create_process","sequence":11},)"
    R"("host":{"name":"WKSTN-11","id":"host-11"},"process":{"name":"svchost.exe","pid":896,"entity_id":"{16-0}",)"
    R"("executable":"C:\\Windows\\System32\\svchost.exe","command_line":"C:\\Windows\\system32\\svchost.exe -k netsvcs",)"
    R"("args":["C:\\Windows\\system32\\svchost.exe","-k","netsvcs"],"parent":{"name":"services.exe","pid":524}},)"
    R"("user":{"name":"SYSTEM","domain":"NT AUTHORITY"}})";

void BM_DecodeProjected(benchmark::State& state) {
  FieldRegistry fields;
  fields.intern("process.name");
  fields.intern("event.category");
  EventReader reader(fields);
  Arena arena;
  std::string doc(kDoc);
  for (auto _ : state) {
    Event e;
    std::string reason;
    benchmark::DoNotOptimize(reader.decode_one(doc, e, arena, reason));
    arena.reset();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * doc.size()));
}
BENCHMARK(BM_DecodeProjected);

// 10,000 lines of kDoc (pid and host varied) read as a mapped file is, with
// ten projected fields; argument 1: the single pass, 0: simdjson alone.
void BM_ReadNdjsonLines(benchmark::State& state) {
  FieldRegistry fields;
  for (const char* f : {"@timestamp", "event.category", "event.type", "host.name", "process.name", "process.pid",
                        "process.executable", "process.command_line", "process.args", "process.parent.name"}) {
    fields.intern(f);
  }
  std::string data;
  for (int i = 0; i < 10000; ++i) {
    std::string line(kDoc);
    line.replace(line.find("896"), 3, std::to_string(1000 + i));
    line.replace(line.find("WKSTN-11"), 8, "WKSTN-" + std::to_string(i % 97));
    data += line + "\n";
  }
  ReaderOptions options;
  options.threads = 1;
  options.single_pass = state.range(0) == 1;
  std::uint64_t events = 0;
  for (auto _ : state) {
    std::uint64_t ordinal = 0;
    NdjsonReader reader(fields, options, ordinal);
    ReadStats stats;
    InputReport report(stats, 10);
    reader.read_contiguous(nullptr, data, data.size(), 0, "bench", [&](EventBatch& batch) {
      events += batch.events.size();
      return true;
    }, report);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * data.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(events));
}
BENCHMARK(BM_ReadNdjsonLines)->Arg(0)->Arg(1);

void BM_EvaluateRuleLikeQuery(benchmark::State& state) {
  FieldRegistry fields;
  auto compiled = eql::compile_query(
      R"(process where process.name : ("svchost.exe", "rundll32.exe") and process.args : ("-k", "/c") and )"
      R"(not process.parent.name : "services.exe" and process.command_line : "*netsvcs*")",
      fields);
  EventReader reader(fields);
  Arena arena;
  Event e;
  std::string reason;
  std::string doc(kDoc);
  reader.decode_one(doc, e, arena, reason);
  eql::EvalContext ctx;
  for (auto _ : state) benchmark::DoNotOptimize(eql::matches(*compiled->program, e, ctx));
}
BENCHMARK(BM_EvaluateRuleLikeQuery);

void BM_WildcardGeneral(benchmark::State& state) {
  WildcardPattern p("?:\\Windows\\*\\System32\\*.dll", true);
  std::string input = "C:\\Windows\\WinSxS\\amd64_microsoft\\System32\\kernelbase.DLL";
  for (auto _ : state) benchmark::DoNotOptimize(p.matches(input));
}
BENCHMARK(BM_WildcardGeneral);
}  // namespace

BENCHMARK_MAIN();
