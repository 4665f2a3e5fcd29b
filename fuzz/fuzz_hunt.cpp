// libFuzzer target: NDJSON events through the whole `vigil hunt` pipeline —
// the seed pack's rules (event queries, sequences, rarity), the rule index,
// exceptions, the triage state, the schedule emulation and the alert
// documents. Every alert written must be valid JSON.
#include <simdjson.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "cli/hunt_command.h"

using namespace vigil;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string dir = std::string("/tmp/vigil-fuzz-hunt-") + std::to_string(::getpid());
  static const bool made = [] {
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    });
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);  // a stale one from an earlier process with this pid will do
    return std::filesystem::is_directory(dir, ec);
  }();
  if (!made) __builtin_trap();
  const std::string input = dir + "/events.ndjson", output = dir + "/alerts.ndjson";
  std::ofstream(input, std::ios::binary).write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  HuntCommandOptions options;
  options.detection.rules = {VIGIL_SOURCE_DIR "/rules/windows"};
  options.inputs = {input};
  options.output = output;
  options.detection.quiet = true;
  options.detection.threads = 1;
  // The run's diagnostics go to /dev/null; stderr comes back for the
  // sanitizers' reports (a crash inside the run is reproduced from its saved
  // input with fuzz_hunt_replay).
  std::fflush(stderr);
  const int saved = ::dup(STDERR_FILENO);
  const int null = ::open("/dev/null", O_WRONLY);
  ::dup2(null, STDERR_FILENO);
  const int rc = run_hunt_command(options);
  std::fflush(stderr);
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  ::close(null);
  if (rc != 0 && rc != 1) __builtin_trap();  // neither usage nor input errors are possible here
  std::ifstream in(output, std::ios::binary);
  const std::string alerts((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(alerts);
  simdjson::ondemand::document_stream stream;
  if (parser.iterate_many(padded).get(stream) != simdjson::SUCCESS) __builtin_trap();
  for (auto doc : stream) {
    simdjson::ondemand::object alert;
    if (doc.get_object().get(alert) != simdjson::SUCCESS) __builtin_trap();
    std::string_view raw;
    if (alert.raw_json().get(raw) != simdjson::SUCCESS) __builtin_trap();  // walks the whole alert
  }
  return 0;
}
