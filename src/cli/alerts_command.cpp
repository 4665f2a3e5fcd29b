// `vigil alerts`: list (a table, or the documents with --json), summary
// (counts by rule, host or severity) and show (one alert with its building
// blocks, triage context and source locations) over the SQLite alert store.
#include "cli/alerts_command.h"
#include "core/text.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/exit_codes.h"
#include "core/timestamp.h"
#include "output/alert_store.h"
#include "output/json_lookup.h"

#include <algorithm>
#include <cstdlib>
#include <simdjson.h>

namespace vigil {

void add_alerts_command(CLI::App& app, AlertsOptions& o) {
  auto* alerts = app.add_subcommand("alerts", "List and summarize the alerts in an alert store (vigil hunt --db)");
  alerts->require_subcommand(1);
  auto filters = [&](CLI::App* cmd) {
    cmd->add_option("--db", o.db, "Alert store (SQLite)")->capture_default_str();
    cmd->add_option("--rule", o.rule, "Rule name or rule_id (% matches any text in names)");
    cmd->add_option("--host", o.host, "host.name (case-insensitive)");
    cmd->add_option("--severity", o.severity, "At least this severity: low, medium, high, critical")
        ->check(CLI::IsMember({"low", "medium", "high", "critical"}));
    cmd->add_option("--since", o.since,
                    "Alerts at or after this time: ISO 8601, or a partial date (2021, 2021-03, 2021-03-05) from its start");
    cmd->add_option("--until", o.until,
                    "Alerts before this time; a partial date (2021, 2021-03, 2021-03-05) includes its whole span");
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
  auto* show = alerts->add_subcommand("show", "One alert: rule, reason, process and its ancestry, modules, network, "
                                              "file provenance, where each event came from, and a sequence's building blocks");
  show->add_option("--db", o.db, "Alert store (SQLite)")->capture_default_str();
  show->add_option("id", o.id, "kibana.alert.uuid, or its first characters (as `alerts list` shows them)")->required();
  show->add_flag("--json", o.json, "Print the alert document and its building blocks' (NDJSON)");
}

namespace {

// "2021" -> [2021-01-01, 2022-01-01); "2021-03" -> its month; "2021-03-05" -> its day;
// anything else: that instant (ISO 8601), both ends.
std::optional<std::pair<TimestampNs, TimestampNs>> parse_time_span(const std::string& text) {
  auto digits = [&](std::size_t from, std::size_t n) {
    if (text.size() < from + n) return false;
    for (std::size_t i = from; i < from + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
    }
    return true;
  };
  int year = 0, month = 1, day = 1;
  enum { Year, Month, Day, Instant } kind = Instant;
  if (text.size() == 4 && digits(0, 4)) {
    kind = Year;
  } else if (text.size() == 7 && digits(0, 4) && text[4] == '-' && digits(5, 2)) {
    kind = Month;
  } else if (text.size() == 10 && digits(0, 4) && text[4] == '-' && digits(5, 2) && text[7] == '-' && digits(8, 2)) {
    kind = Day;
  }
  if (kind == Instant) {
    auto t = parse_timestamp_text(text);
    if (!t) return std::nullopt;
    return std::pair{*t, *t};
  }
  year = std::stoi(text.substr(0, 4));
  if (kind != Year) month = std::stoi(text.substr(5, 2));
  if (kind == Day) day = std::stoi(text.substr(8, 2));
  if (month < 1 || month > 12 || day < 1 || day > 31) return std::nullopt;
  auto at = [](int y, int m, int d) { return parse_timestamp_text(fmt::format("{:04}-{:02}-{:02}T00:00:00Z", y, m, d)); };
  auto start = at(year, month, day);
  if (!start) return std::nullopt;
  std::optional<TimestampNs> end;
  if (kind == Year) end = at(year + 1, 1, 1);
  if (kind == Month) end = month == 12 ? at(year + 1, 1, 1) : at(year, month + 1, 1);
  if (kind == Day) end = *start + 86400LL * 1000000000LL;
  if (!end) return std::nullopt;
  return std::pair{*start, *end};
}

void print_context(simdjson::dom::object doc) {
  auto context = find_member(doc, "vigil.context");
  simdjson::dom::object c;
  if (!context || context->get_object().get(c)) return;
  auto rows = [&](const char* key, const char* title, auto&& line) {
    simdjson::dom::array arr;
    if (c[key].get_array().get(arr)) return;
    std::printf("%s\n", title);
    for (simdjson::dom::element e : arr) {
      simdjson::dom::object o;
      if (!e.get_object().get(o)) std::printf("  %s\n", line(o).c_str());
    }
  };
  auto field = [](simdjson::dom::object o, const char* k) {
    std::string_view s;
    return o[k].get_string().get(s) ? std::string() : printable(s);
  };
  rows("process_ancestry", "ancestry (parent first):", [&](simdjson::dom::object o) {
    std::string by = field(o, "linked_by");
    return fmt::format("{} (pid {}){}  {}", field(o, "name").empty() ? "?" : field(o, "name"), field(o, "pid"),
                       by.empty() ? "" : " [linked by " + by + "]", field(o, "command_line"));
  });
  rows("modules", "modules loaded:", [&](simdjson::dom::object o) {
    return fmt::format("{}  {} {}  {}", field(o, "time"), field(o, "path"), field(o, "status"), field(o, "signer"));
  });
  rows("network", "connections:", [&](simdjson::dom::object o) {
    return fmt::format("{}  {}:{}", field(o, "time"), field(o, "destination"), field(o, "port"));
  });
  rows("file_provenance", "file provenance:", [&](simdjson::dom::object o) {
    return fmt::format("{}  written by {} (pid {}) at {}", field(o, "path"), field(o, "written_by"),
                       field(o, "written_by_pid"), field(o, "time"));
  });
}

int show_alert(AlertStore& store, const AlertsOptions& o) {
  auto found = store.find(o.id, 20);
  if (!found) {
    std::fprintf(stderr, "vigil: %s\n", found.error().message.c_str());
    return kExitUsage;
  }
  if (found->empty()) {
    std::fprintf(stderr, "vigil: no alert id starts with %s in %s\n", printable(o.id).c_str(), o.db.c_str());
    return kExitUsage;
  }
  if (found->size() > 1) {
    std::fprintf(stderr, "vigil: %zu alerts start with %s; give more of the id:\n", found->size(), printable(o.id).c_str());
    for (const auto& a : *found) std::fprintf(stderr, "  %s  %s\n", a.summary.id.c_str(), printable(a.summary.rule_name).c_str());
    return kExitUsage;
  }
  const StoredAlert& alert = found->front();
  simdjson::dom::parser parser;
  simdjson::dom::object doc;
  if (parser.parse(alert.summary.document).get_object().get(doc)) {
    std::fprintf(stderr, "vigil: the stored document of %s is not JSON\n", alert.summary.id.c_str());
    return kExitUsage;
  }
  const std::string group_id = text_at(doc, "kibana.alert.group.id");
  std::vector<StoredAlert> blocks;
  if (!group_id.empty() && !alert.summary.building_block) {
    auto g = store.group(group_id);
    if (g) blocks = std::move(*g);
  }
  if (o.json) {
    std::printf("%s\n", alert.summary.document.c_str());
    for (const auto& b : blocks) std::printf("%s\n", b.summary.document.c_str());
    return kExitOk;
  }
  std::printf("alert     %s%s\n", alert.summary.id.c_str(), alert.summary.building_block ? " (building block)" : "");
  std::printf("rule      %s  [%s, risk %d, rule_id %s]\n", printable(alert.summary.rule_name).c_str(),
              alert.summary.severity.c_str(), alert.summary.risk_score, printable(alert.summary.rule_id).c_str());
  std::printf("time      %s (alert)  %s (event)\n", format_timestamp(alert.summary.time).c_str(),
              format_timestamp(alert.summary.original_time).c_str());
  std::printf("host      %s\n", printable(alert.summary.host).c_str());
  if (auto u = text_at(doc, "user.name"); !u.empty()) {
    std::string domain = text_at(doc, "user.domain");
    std::printf("user      %s\n", printable(domain.empty() ? u : domain + "\\" + u).c_str());
  }
  std::printf("reason    %s\n", printable(alert.summary.reason).c_str());
  if (auto p = text_at(doc, "process.name"); !p.empty()) {
    std::printf("process   %s (pid %s)  %s\n", printable(p).c_str(), text_at(doc, "process.pid").c_str(),
                printable(text_at(doc, "process.command_line")).c_str());
  }
  if (auto src = find_member(doc, "vigil.source")) std::printf("source    %s\n", printable(source_text(*src)).c_str());
  print_context(doc);
  if (!blocks.empty()) {
    // Each block's term (kibana.alert.group.index) and source, parsed once; shown in term order.
    struct Block {
      long index = 0;
      const StoredAlert* alert = nullptr;
      std::string where = "(unknown)";
    };
    std::vector<Block> shown;
    simdjson::dom::parser block_parser;
    for (const auto& b : blocks) {
      Block row{0, &b};
      simdjson::dom::object bd;
      if (!block_parser.parse(b.summary.document).get_object().get(bd)) {
        row.index = std::atol(text_at(bd, "kibana.alert.group.index").c_str());
        if (auto src = find_member(bd, "vigil.source")) row.where = printable(source_text(*src));
      }
      shown.push_back(std::move(row));
    }
    std::stable_sort(shown.begin(), shown.end(), [](const Block& a, const Block& b) { return a.index < b.index; });
    std::printf("sequence  %zu event(s), group %s\n", shown.size(), group_id.c_str());
    for (const Block& b : shown) {
      std::printf("  %s  %s  %s\n    from %s\n", format_timestamp(b.alert->summary.original_time).c_str(),
                  b.alert->summary.id.substr(0, 12).c_str(), printable(b.alert->summary.reason).c_str(),
                  b.where.c_str());
    }
  }
  return kExitOk;
}

}  // namespace

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
  CLI::App* alerts = app.get_subcommand("alerts");
  if (alerts->got_subcommand("show")) return show_alert(**store, o);
  for (const auto& [flag, text] : {std::pair{"--since", &o.since}, std::pair{"--until", &o.until}}) {
    if (text->empty()) continue;
    auto span = parse_time_span(*text);
    if (!span) {
      std::fprintf(stderr, "vigil: %s %s: not an ISO 8601 time or a date (2021, 2021-03, 2021-03-05)\n", flag,
                   printable(*text).c_str());
      return kExitUsage;
    }
    if (text == &o.since) filter.since = span->first;
    if (text == &o.until) filter.until = span->second == span->first ? span->first : span->second;
  }
  filter.include_building_blocks = o.building_blocks;
  filter.limit = o.limit;
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
  if (!o.json && !rows->empty()) {
    std::printf("%-24s  %-8s  %-12s  %-20s  %-20s  %s\n", "event time", "severity", "id", "host", "user", "rule");
  }
  simdjson::dom::parser parser;
  for (const auto& r : *rows) {
    if (o.json) {
      std::printf("%s\n", r.summary.document.c_str());
      continue;
    }
    simdjson::dom::object doc;
    std::string user;
    if (!parser.parse(r.summary.document).get_object().get(doc)) user = text_at(doc, "user.name");
    std::printf("%-24s  %-8s  %-12s  %-20s  %-20s  %s\n", format_timestamp(r.summary.original_time).c_str(),
                printable(r.summary.severity).c_str(), r.summary.id.substr(0, 12).c_str(),
                printable(r.summary.host).c_str(), printable(user.empty() ? "-" : user).c_str(),
                printable(r.summary.rule_name).c_str());
  }
  return kExitOk;
}

}  // namespace vigil
