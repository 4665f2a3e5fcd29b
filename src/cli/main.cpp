// The `vigil` command: subcommand dispatch. Exceptions stop here.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "cli/alerts_command.h"
#include "cli/baseline_command.h"
#include "cli/convert_command.h"
#include "cli/coverage_command.h"
#include "cli/exit_codes.h"
#include "cli/hunt_command.h"
#include "cli/rules_command.h"
#include "cli/publish_command.h"
#include "cli/run_command.h"
#include "cli/query_command.h"
#include "cli/report_command.h"

int main(int argc, char** argv) {
  CLI::App app{"vigil — detection engine for Windows endpoint telemetry"};
  app.set_version_flag("--version", "vigil 0.1.0");
  app.require_subcommand(1);
  vigil::QueryOptions query;
  vigil::add_query_command(app, query);
  vigil::ConvertOptions convert;
  vigil::add_convert_command(app, convert);
  vigil::HuntCommandOptions hunt;
  vigil::add_hunt_command(app, hunt);
  vigil::RunCommandOptions run;
  vigil::add_run_command(app, run);
  vigil::PublishOptions publish;
  vigil::add_publish_command(app, publish);
  vigil::AlertsOptions alerts;
  vigil::add_alerts_command(app, alerts);
  vigil::BaselineOptions baseline;
  vigil::add_baseline_command(app, baseline);
  vigil::CoverageOptions coverage;
  vigil::add_coverage_command(app, coverage);
  vigil::ReportOptions report;
  vigil::add_report_command(app, report);
  vigil::RulesOptions rules;
  vigil::add_rules_command(app, rules);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? vigil::kExitOk : vigil::kExitUsage;
  }
  try {
    if (app.got_subcommand("query")) return vigil::run_query_command(query);
    if (app.got_subcommand("convert")) return vigil::run_convert_command(convert);
    if (app.got_subcommand("rules")) return vigil::run_rules_command(app, rules);
    if (app.got_subcommand("hunt")) return vigil::run_hunt_command(hunt);
    if (app.got_subcommand("run")) return vigil::run_run_command(run);
    if (app.got_subcommand("publish")) return vigil::run_publish_command(publish);
    if (app.got_subcommand("alerts")) return vigil::run_alerts_command(app, alerts);
    if (app.got_subcommand("coverage")) return vigil::run_coverage_command(coverage);
    if (app.got_subcommand("report")) return vigil::run_report_command(report);
    if (app.got_subcommand("baseline")) return vigil::run_baseline_command(app, baseline);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vigil: internal error: %s\n", e.what());
    return vigil::kExitUsage;
  }
  return vigil::kExitUsage;
}
