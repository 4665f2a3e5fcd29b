// `vigil coverage --rules DIR INPUT...`: per rule and host, whether the
// telemetry supports the rule (ready / degraded / blind, with reasons), the
// data profile behind it, and an ATT&CK technique view; `--json` for
// machines; `--sysmon-config FILE` judges a Sysmon configuration before any
// data exists; `--audit-policy` lists the Windows audit settings the rules
// need. docs/coverage.md.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace vigil {

struct CoverageOptions {
  std::vector<std::string> rules;
  std::vector<std::string> inputs;
  std::string sysmon_config;
  std::string host;
  std::string navigator;  // also write an ATT&CK Navigator layer here
  bool json = false;
  bool all = false;
  bool audit_policy = false;  // also say which Windows audit settings the rules need
  bool suggest = false;       // with --sysmon-config: the additions that make blind/degraded rules ready
  std::string output;         // --suggest: write the patched configuration here
  unsigned threads = 0;
};

void add_coverage_command(CLI::App& app, CoverageOptions& options);
int run_coverage_command(const CoverageOptions& options);

}  // namespace vigil
