// Baseline for the query benchmark: the least work any engine must do to
// answer `process where process.name : "*.exe"` — a bare simdjson On-Demand
// pass (iterate_many over the NDJSON file) that reads process.name from
// every document and counts the names ending in ".exe". vigil's figure is
// compared against this (BENCHMARKS.md).
//
// usage: simdjson_scan FILE.ndjson
#include <simdjson.h>

#include <chrono>
#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: simdjson_scan FILE.ndjson\n");
    return 2;
  }
  auto start = std::chrono::steady_clock::now();
  simdjson::padded_string json;
  if (auto err = simdjson::padded_string::load(argv[1]).get(json)) {
    std::fprintf(stderr, "%s\n", simdjson::error_message(err));
    return 1;
  }
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document_stream stream;
  if (auto err = parser.iterate_many(json, 1 << 24).get(stream)) {
    std::fprintf(stderr, "%s\n", simdjson::error_message(err));
    return 1;
  }
  std::size_t docs = 0, exe = 0;
  for (auto doc : stream) {
    ++docs;
    std::string_view name;
    if (doc["process"]["name"].get_string().get(name)) continue;
    if (name.size() >= 4) {
      std::string_view tail = name.substr(name.size() - 4);
      bool match = true;
      for (std::size_t i = 0; i < 4; ++i) match &= (tail[i] | 0x20) == ".exe"[i];
      exe += match;
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("documents=%zu exe=%zu seconds=%.3f MB/s=%.1f\n", docs, exe, secs, json.size() / secs / 1e6);
  return 0;
}
