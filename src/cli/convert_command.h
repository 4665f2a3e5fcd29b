// `vigil convert`: every input (EVTX, event XML, JSON, archives, ...) to
// normalized ECS NDJSON, one event per source record.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace vigil {

struct ConvertOptions {
  std::vector<std::string> inputs;
  std::string output = "-";  // "-" is stdout
  bool strict = false;
  bool source = false;  // --source
  unsigned threads = 0;
};

void add_convert_command(CLI::App& app, ConvertOptions& options);
int run_convert_command(const ConvertOptions& options);

}  // namespace vigil
