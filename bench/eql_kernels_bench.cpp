// Google Benchmark kernels: document decoding with projection, predicate
// evaluation on a decoded event, and wildcard matching.
#include <benchmark/benchmark.h>

#include "core/wildcard.h"
#include "eql/compiler.h"
#include "ingest/event_reader.h"

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
