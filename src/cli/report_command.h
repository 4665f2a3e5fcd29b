// `vigil report (--db alerts.db | ALERTS.ndjson...) [--coverage COVERAGE.json]
// -o report.html`: the self-contained HTML triage report (docs/report.md).
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace vigil {

struct ReportOptions {
  std::vector<std::string> inputs;  // alert NDJSON files ('-': stdin)
  std::string db;                   // or the alert store
  std::string coverage;             // `vigil coverage --json` output
  std::string output = "report.html";
  std::string title;
  bool strict = false;
};

void add_report_command(CLI::App& app, ReportOptions& options);
int run_report_command(const ReportOptions& options);

}  // namespace vigil
