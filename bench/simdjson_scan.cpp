// Baselines the benchmarks compare vigil against: the least work any engine
// must do over an NDJSON file, as a bare simdjson pass.
//
//   simdjson_scan FILE.ndjson            On-Demand (iterate_many): reads
//       process.name from every document and counts the names ending in ".exe": the least work of
//       `process where process.name : "*.exe"` (the query benchmark);
//   simdjson_scan --strings FILE.ndjson  parses every document (DOM) and
//       reads every string value, nested ones included: the least work of a rule that
//       searches every text of an event (a Sigma keyword rule), and a floor
//       under any hunt that reads most fields (the Sigma floor benchmark).
//
// Prints the documents, the seconds (file loaded and parsed), and the
// seconds of the parse alone.
#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string_view>

namespace {

// Adds the length of every string under `element` to `bytes`.
void visit_strings(simdjson::dom::element element, std::size_t& bytes) {
  switch (element.type()) {
    case simdjson::dom::element_type::STRING:
      bytes += std::string_view(element).size();
      break;
    case simdjson::dom::element_type::OBJECT:
      for (auto field : simdjson::dom::object(element)) visit_strings(field.value, bytes);
      break;
    case simdjson::dom::element_type::ARRAY:
      for (auto item : simdjson::dom::array(element)) visit_strings(item, bytes);
      break;
    default:
      break;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const bool strings = argc == 3 && std::strcmp(argv[1], "--strings") == 0;
  if (argc != 2 && !strings) {
    std::fprintf(stderr, "usage: simdjson_scan [--strings] FILE.ndjson\n");
    return 2;
  }
  const char* path = argv[argc - 1];
  auto start = std::chrono::steady_clock::now();
  simdjson::padded_string json;
  if (auto err = simdjson::padded_string::load(path).get(json)) {
    std::fprintf(stderr, "%s\n", simdjson::error_message(err));
    return 1;
  }
  auto loaded = std::chrono::steady_clock::now();
  std::size_t docs = 0, found = 0;
  if (strings) {
    simdjson::dom::parser parser;
    simdjson::dom::document_stream stream;
    if (auto err = parser.parse_many(json, 1 << 24).get(stream)) {
      std::fprintf(stderr, "%s\n", simdjson::error_message(err));
      return 1;
    }
    for (auto doc : stream) {
      simdjson::dom::element element;
      if (doc.get(element)) continue;
      ++docs;
      visit_strings(element, found);
    }
  } else {
    simdjson::ondemand::parser parser;
    simdjson::ondemand::document_stream stream;
    if (auto err = parser.iterate_many(json, 1 << 24).get(stream)) {
      std::fprintf(stderr, "%s\n", simdjson::error_message(err));
      return 1;
    }
    for (auto doc : stream) {
      ++docs;
      std::string_view name;
      if (doc["process"]["name"].get_string().get(name)) continue;
      if (name.size() >= 4) {
        std::string_view tail = name.substr(name.size() - 4);
        bool match = true;
        for (std::size_t i = 0; i < 4; ++i) match &= (tail[i] | 0x20) == ".exe"[i];
        found += match;
      }
    }
  }
  auto end = std::chrono::steady_clock::now();
  double secs = std::chrono::duration<double>(end - start).count();
  double parse = std::chrono::duration<double>(end - loaded).count();
  std::printf("documents=%zu %s=%zu seconds=%.3f parse_seconds=%.3f MB/s=%.1f\n", docs,
              strings ? "string_bytes" : "exe", found, secs, parse, json.size() / secs / 1e6);
  return 0;
}
