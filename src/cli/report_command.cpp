// `vigil report`: alerts (NDJSON files or the SQLite store) and, optionally,
// coverage verdicts → one offline HTML file.
#include "cli/report_command.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>

#include "cli/exit_codes.h"
#include "core/text.h"
#include "output/alert_store.h"
#include "report/attack_catalog.h"
#include "report/report_writer.h"

namespace vigil {

void add_report_command(CLI::App& app, ReportOptions& o) {
  auto* cmd = app.add_subcommand("report",
                                 "Write the HTML triage report: overview, timeline, per-host stories with "
                                 "process trees, ATT&CK matrix (one offline file)");
  cmd->add_option("alerts", o.inputs, "Alert NDJSON files as vigil hunt writes them ('-' for stdin)");
  cmd->add_option("--db", o.db, "Read the alerts from this alert store (vigil hunt --db) instead");
  cmd->add_option("--coverage", o.coverage, "Colour the ATT&CK matrix by this coverage (vigil coverage --json > FILE)");
  cmd->add_option("-o,--output", o.output, "The HTML file (written atomically)")->capture_default_str();
  cmd->add_option("--title", o.title, "A title for the page (the case or host set)");
  cmd->add_flag("--strict", o.strict, "Exit 3 when an input line is not an alert document");
  cmd->footer(
      "Exit codes: 0 ok, 2 usage error or unreadable input, 3 a line that is no alert with --strict.\n"
      "Details: docs/report.md.");
}

namespace {

// Adds the coverage file (if any) to `data`; false after printing why not.
bool add_coverage(ReportData& data, const std::string& path) {
  if (path.empty()) return true;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "vigil: %s: cannot read\n", printable(path).c_str());
    return false;
  }
  std::stringstream text;
  text << in.rdbuf();
  if (auto why = data.set_coverage(text.str(), path)) {
    std::fprintf(stderr, "vigil: %s: %s\n", printable(path).c_str(), why->c_str());
    return false;
  }
  return true;
}

}  // namespace

int run_report_command(const ReportOptions& o) {
  if (o.inputs.empty() == o.db.empty()) {
    std::fprintf(stderr, "vigil: give alert files or --db (one of the two)\n");
    return kExitUsage;
  }
  ReportData data(AttackCatalog::enterprise());
  data.set_title(o.title);
  if (!add_coverage(data, o.coverage)) return kExitUsage;
  SkippedLines skipped;
  if (!o.db.empty()) {
    auto store = AlertStore::open(o.db);
    if (!store) {
      std::fprintf(stderr, "vigil: %s\n", store.error().message.c_str());
      return kExitUsage;
    }
    AlertFilter all;
    all.include_building_blocks = true;
    all.limit = std::numeric_limits<std::size_t>::max();
    std::uint64_t line = 0;
    auto n = (*store)->each(all, [&](StoredAlert&& a) {
      ++line;
      if (auto why = data.add_alert(a.summary.document)) skipped.add(o.db, line, std::move(*why));
    });
    if (!n) {
      std::fprintf(stderr, "vigil: %s\n", n.error().message.c_str());
      return kExitUsage;
    }
    data.add_input(o.db);
  }
  for (const std::string& path : o.inputs) {
    auto n = read_alert_file(data, path, skipped);
    if (!n) {
      std::fprintf(stderr, "vigil: %s\n", n.error().message.c_str());
      return kExitUsage;
    }
    data.add_input(path);
  }
  data.set_skipped(skipped.count);
  auto written = write_report(data, o.output);
  if (!written) {
    std::fprintf(stderr, "vigil: %s\n", written.error().message.c_str());
    return kExitUsage;
  }
  for (const SkippedLine& s : skipped.first) {
    std::fprintf(stderr, "vigil: %s:%llu: skipped: %s\n", printable(s.file).c_str(),
                 static_cast<unsigned long long>(s.line), s.reason.c_str());
  }
  if (skipped.count > skipped.first.size()) {
    std::fprintf(stderr, "vigil: ... and %llu more skipped line(s)\n",
                 static_cast<unsigned long long>(skipped.count - skipped.first.size()));
  }
  std::fprintf(stderr, "vigil report: %zu alert(s), %zu host(s) -> %s (%.1f MB)\n", data.alert_count(),
               data.host_count(), printable(o.output).c_str(), static_cast<double>(*written) / 1e6);
  return o.strict && skipped.count > 0 ? kExitInput : kExitOk;
}

}  // namespace vigil
