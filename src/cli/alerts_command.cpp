// `vigil alerts`: list (a table, or the documents with --json) and summary
// (counts by rule, host or severity) over the SQLite alert store.
#include "cli/alerts_command.h"
#include "core/text.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/exit_codes.h"
#include "core/timestamp.h"
#include "output/alert_store.h"

namespace vigil {

void add_alerts_command(CLI::App& app, AlertsOptions& o) {
  auto* alerts = app.add_subcommand("alerts", "List and summarize the alerts in an alert store (vigil hunt --db)");
  alerts->require_subcommand(1);
  auto filters = [&](CLI::App* cmd) {
    cmd->add_option("--db", o.db, "Alert store (SQLite)")->capture_default_str();
    cmd->add_option("--rule", o.rule, "Rule name or rule_id (% matches any text in names)");
    cmd->add_option("--host", o.host, "host.name");
    cmd->add_option("--severity", o.severity, "At least this severity: low, medium, high, critical")
        ->check(CLI::IsMember({"low", "medium", "high", "critical"}));
    cmd->add_option("--since", o.since, "Alerts at or after this time (ISO 8601)");
    cmd->add_flag("--building-blocks", o.building_blocks, "Include sequence building-block alerts");
  };
  auto* list = alerts->add_subcommand("list", "One line per alert, oldest first");
  filters(list);
  list->add_option("--limit", o.limit, "At most this many alerts")->capture_default_str();
  list->add_flag("--json", o.json, "Print the alert documents (NDJSON) instead of a table");
  auto* summary = alerts->add_subcommand("summary", "Alert counts by rule, host or severity");
  filters(summary);
  summary->add_option("--by", o.by, "rule, host or severity")->check(CLI::IsMember({"rule", "host", "severity"}))
      ->capture_default_str();
}

int run_alerts_command(CLI::App& app, const AlertsOptions& o) {
  auto store = AlertStore::open(o.db);
  if (!store) {
    std::fprintf(stderr, "vigil: %s\n", store.error().message.c_str());
    return kExitUsage;
  }
  AlertFilter filter;
  if (!o.rule.empty()) filter.rule = o.rule;
  if (!o.host.empty()) filter.host = o.host;
  if (!o.severity.empty()) filter.severity = o.severity;
  if (!o.since.empty()) {
    auto t = parse_timestamp_text(o.since);
    if (!t) {
      std::fprintf(stderr, "vigil: --since %s: not an ISO 8601 time\n", o.since.c_str());
      return kExitUsage;
    }
    filter.since = *t;
  }
  filter.include_building_blocks = o.building_blocks;
  filter.limit = o.limit;
  CLI::App* alerts = app.get_subcommand("alerts");
  if (alerts->got_subcommand("summary")) {
    auto counts = (*store)->count_by(o.by, filter);
    if (!counts) {
      std::fprintf(stderr, "vigil: %s\n", counts.error().message.c_str());
      return kExitUsage;
    }
    std::uint64_t total = 0;
    for (const auto& c : *counts) total += c.count;
    std::printf("%llu alert(s) in %s\n", static_cast<unsigned long long>(total), o.db.c_str());
    std::printf("  %7s  %-9s %s\n", "alerts", o.by == "severity" ? "severity" : "highest", o.by.c_str());
    for (const auto& c : *counts) {
      std::printf("  %7llu  %-9s %s\n", static_cast<unsigned long long>(c.count), c.severity.c_str(),
                  c.key.empty() ? "(none)" : printable(c.key).c_str());
    }
    return kExitOk;
  }
  auto rows = (*store)->list(filter);
  if (!rows) {
    std::fprintf(stderr, "vigil: %s\n", rows.error().message.c_str());
    return kExitUsage;
  }
  for (const auto& r : *rows) {
    if (o.json) {
      std::printf("%s\n", r.summary.document.c_str());
    } else {
      std::printf("%s  %-8s  %-28s  %s\n", format_timestamp(r.summary.original_time).c_str(),
                  printable(r.summary.severity).c_str(), printable(r.summary.host).c_str(),
                  printable(r.summary.reason).c_str());
    }
  }
  return kExitOk;
}

}  // namespace vigil
