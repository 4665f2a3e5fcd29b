// `vigil hunt`: load and compile the rules (a rule that fails is reported and
// left out; the others run), read every input once through the HuntEngine,
// emulate each rule's schedule, write the alert documents (NDJSON, stdout or
// an atomically written file) in a deterministic order, and summarize on
// stderr: alerts per rule, per severity, per host.
#include "cli/hunt_command.h"
#include "core/text.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <unordered_set>

#include "cli/baseline_command.h"
#include "cli/event_output.h"
#include "cli/exit_codes.h"
#include "cli/input_diagnostics.h"
#include "core/atomic_file.h"
#include "core/worker_pool.h"
#include "coverage/coverage.h"
#include "detect/hunt_engine.h"
#include "detect/rule_set.h"
#include "detect/schedule.h"
#include "detect/suppression.h"
#include "ingest/event_reader.h"
#include "output/alert_document.h"
#include "output/alert_store.h"
#include "store/baseline_store.h"
#include "store/rule_cache.h"

namespace vigil {

void add_hunt_command(CLI::App& app, HuntCommandOptions& o) {
  auto* cmd = app.add_subcommand("hunt", "Run detection rules over inputs and write alerts");
  cmd->add_option("--rules,-r", o.rules, "Rule file or directory (Elastic detection-rules TOML); repeat for more")
      ->required()
      ->allow_extra_args(false);
  cmd->add_option("inputs", o.inputs,
                  "Inputs: EVTX, event XML, NDJSON/JSON (also .gz/.zst), archives, directories; '-' for stdin")
      ->required();
  cmd->add_option("-o,--output", o.output, "Alert NDJSON file ('-' for stdout); written atomically")
      ->capture_default_str();
  cmd->add_option("--db", o.db, "Also add the alerts to this SQLite alert store (see `vigil alerts`)");
  cmd->add_option("--exceptions", o.exception_files,
                  "Exception list export (Kibana NDJSON); its items apply to the rules that list it in exceptions_list")
      ->allow_extra_args(false);
  cmd->add_option("--value-list", o.value_lists, "Value list for 'is in list' entries: ID=FILE (one value per line)")
      ->allow_extra_args(false);
  cmd->add_option("--apply-list", o.lists_for_all_rules, "Apply this exception list (list_id) to every rule")
      ->allow_extra_args(false);
  cmd->add_flag("--no-schedule", o.no_schedule,
                "Alert on every match once, ignoring the rules' interval/from/max_signals schedule");
  cmd->add_flag("--fail-on-alert", o.fail_on_alert, "Exit 1 when any alert was produced");
  cmd->add_flag("--no-rule-cache", o.no_rule_cache,
                "Parse every rule file, neither reading nor filling the parsed-rule cache (docs/rules.md)");
  cmd->add_flag("--strict", o.strict, "Exit 3 if any record is malformed or any input unreadable");
  cmd->add_flag("--quiet,-q", o.quiet, "No summary on stderr");
  cmd->add_flag("--profile-rules", o.profile_rules,
                "Print the rules that took the most matching time, with the events each ran on (what the rule index could not rule out)");
  cmd->add_option("--threads", o.threads, "Threads for parsing rule files, decoding (EVTX chunks and files, NDJSON lines) and rule matching (0 = one per core)")->capture_default_str();
  cmd->add_option("--max-detections-per-rule", o.max_detections_per_rule,
                  "Matches kept per rule for scheduling; more are counted and reported")
      ->capture_default_str();
  cmd->add_option("--max-open-sequences", o.max_open_sequences,
                  "Partial sequences held per sequence rule; the oldest are evicted (and counted) beyond it")
      ->capture_default_str();
  cmd->add_option("--baseline", o.baseline,
                  "Baseline from `vigil baseline learn`: terms it knows are not rare and never new");
  cmd->add_option("--max-terms", o.max_terms,
                  "Rarity terms held in memory, and terms per new_terms rule; the least recently seen are evicted "
                  "(and counted) beyond it")
      ->capture_default_str();
  cmd->add_flag("--coverage", o.coverage,
                "Also say per host how many rules the data leaves ready, degraded or blind (details: vigil coverage)");
  cmd->footer(
      "Exit codes: 0 ok, 1 alerts found with --fail-on-alert, 2 usage or rule error,\n"
      "3 malformed/unreadable input with --strict. Alert fields: docs/alerts.md.");
}

namespace {

struct AlertLine {
  AlertSummary summary;
  std::string json;  // the alert documents of one detection (a sequence has several)
};

void print_summary(const std::vector<AlertLine>& alerts, const RuleSet& set, const std::vector<RuleRunStats>& stats,
                   std::uint64_t events, std::uint64_t bytes, double seconds, std::size_t inputs,
                   std::size_t cached_files) {
  std::fprintf(stderr, "vigil hunt: %zu rules over %llu events (%.1f MB) from %zu input(s) in %.2f s (%.0f events/s)\n",
               set.compiled.size(), static_cast<unsigned long long>(events), bytes / 1e6, inputs, seconds,
               seconds > 0 ? events / seconds : 0.0);
  if (cached_files > 0) {
    std::fprintf(stderr, "  %zu of %zu rule files from the parsed-rule cache (--no-rule-cache parses them all)\n",
                 cached_files, set.files);
  }
  std::map<std::string, std::size_t> by_severity;
  std::map<std::pair<std::string, std::string>, std::size_t> by_rule;  // (severity, name)
  std::map<std::string, std::size_t> by_host;
  std::size_t total = 0;
  for (const auto& a : alerts) {
    if (a.summary.building_block) continue;
    ++total;
    ++by_severity[a.summary.severity];
    ++by_rule[{a.summary.severity, a.summary.rule_name}];
    ++by_host[a.summary.host.empty() ? "(no host.name)" : a.summary.host];
  }
  if (total == 0) {
    std::fprintf(stderr, "no alerts\n");
  } else {
    std::fprintf(stderr, "%zu alert(s): critical %zu, high %zu, medium %zu, low %zu, from %zu rule(s) on %zu host(s)\n",
                 total, by_severity["critical"], by_severity["high"], by_severity["medium"], by_severity["low"],
                 by_rule.size(), by_host.size());
    static const std::map<std::string, int> kRank = {{"critical", 0}, {"high", 1}, {"medium", 2}, {"low", 3}};
    std::vector<std::pair<std::pair<std::string, std::string>, std::size_t>> rows(by_rule.begin(), by_rule.end());
    std::sort(rows.begin(), rows.end(), [&](const auto& a, const auto& b) {
      int ra = kRank.count(a.first.first) ? kRank.at(a.first.first) : 4;
      int rb = kRank.count(b.first.first) ? kRank.at(b.first.first) : 4;
      if (ra != rb) return ra < rb;
      if (a.second != b.second) return a.second > b.second;
      return a.first.second < b.first.second;
    });
    std::fprintf(stderr, "  %-9s %7s  %s\n", "severity", "alerts", "rule");
    for (const auto& [k, n] : rows) std::fprintf(stderr, "  %-9s %7zu  %s\n", k.first.c_str(), n, printable(k.second).c_str());
    std::fprintf(stderr, "  %-30s %7s\n", "host", "alerts");
    for (const auto& [h, n] : by_host) std::fprintf(stderr, "  %-30s %7zu\n", printable(h).c_str(), n);
  }
  for (std::size_t r = 0; r < stats.size(); ++r) {
    const RuleRunStats& s = stats[r];
    const std::string& name = set.compiled[r].rule->name;
    const Rule& rule = *set.compiled[r].rule;
    // (count, what it means) for every count worth a note.
    const std::pair<std::uint64_t, std::string> notes[] = {
        {s.outside_windows, fmt::format("sequence(s) longer than the rule's lookback (from = {}): its schedule never "
                                        "sees them", rule.from)},
        {s.suppressed, "alert(s) folded into others by alert_suppression"},
        {s.excepted, "match(es) covered by exceptions"},
        {s.capped, fmt::format("match(es) left out by max_signals = {} in every run that held them", rule.max_signals)},
        {s.dropped, "match(es) beyond --max-detections-per-rule were counted, not alerted"},
        {s.not_rare, "match(es) left out: their value was not rare (vigil.rarity)"},
        {s.baseline_known, "term(s) known to the baseline (not new)"},
        {s.terms_evicted, "term(s) evicted from the new-terms history at --max-terms"},
        {s.sequences.evicted, "partial sequence(s) evicted at --max-open-sequences"},
    };
    for (const auto& [count, what] : notes) {
      if (count) std::fprintf(stderr, "note: %s: %llu %s\n", name.c_str(), static_cast<unsigned long long>(count), what.c_str());
    }
  }
}

}  // namespace

int run_hunt_command(const HuntCommandOptions& o) {
  auto started = std::chrono::steady_clock::now();
  auto rule_cache = RuleCache::open_default(o.no_rule_cache);
  auto set = compile_rules(o.rules, {}, o.threads, rule_cache.get());
  for (const auto& d : set->diagnostics) std::fputs(format_rule_diagnostic(d).c_str(), stderr);
  if (set->compiled.empty()) {
    std::fprintf(stderr, "vigil: no runnable rule in the given rule paths\n");
    return kExitUsage;
  }
  for (const auto& path : o.inputs) {
    struct stat st {};
    if (path != "-" && ::stat(path.c_str(), &st) != 0) {
      std::fprintf(stderr, "vigil: %s: no such file\n", path.c_str());
      return kExitUsage;
    }
  }
  HostState context(set->fields);  // before the reader: its fields join the projection
  std::vector<RuleNeeds> needs;  // --coverage
  std::optional<DataProfiler> profiler;
  if (o.coverage) {
    needs = rule_needs(*set);
    profiler.emplace(*set, needs);
  }
  ExceptionLists exceptions;
  for (const auto& spec : o.value_lists) {
    std::size_t eq = spec.find('=');
    auto added = eq == std::string::npos ? Result<bool>(Error{"exceptions.usage", "--value-list wants ID=FILE: " + spec})
                                         : exceptions.add_value_list(spec.substr(0, eq), spec.substr(eq + 1));
    if (!added) {
      std::fprintf(stderr, "vigil: %s\n", added.error().message.c_str());
      return kExitUsage;
    }
  }
  for (const auto& file : o.exception_files) {
    auto loaded = exceptions.load(file, set->fields);  // before the reader: entry fields join the projection
    if (!loaded) {
      std::fprintf(stderr, "vigil: %s [%s]\n", loaded.error().message.c_str(), loaded.error().code.c_str());
      return kExitUsage;
    }
  }
  std::unique_ptr<BaselineStore> baseline;
  if (!o.baseline.empty()) {
    baseline = open_baseline(o.baseline, /*must_exist=*/true);
    if (!baseline) return kExitUsage;
    if (auto begun = baseline->begin_read(); !begun) {
      std::fprintf(stderr, "vigil: %s\n", begun.error().message.c_str());
      return kExitUsage;
    }
  }
  HuntOptions hopts;
  hopts.baseline = baseline.get();
  hopts.max_terms = o.max_terms;
  hopts.exceptions = &exceptions;
  hopts.lists_for_all_rules = o.lists_for_all_rules;
  hopts.context = &context;
  hopts.max_detections_per_rule = o.max_detections_per_rule;
  hopts.sequence_limits.max_open = o.max_open_sequences;
  // The reader decodes the next block while the engine matches the current
  // one, so matching gets half the threads (one of two cores: the other
  // decodes) and decoding all of them: on the OTRF benchmark, 1.97 -> 1.8 s
  // on two cores against matching on both.
  const unsigned cores = resolve_threads(o.threads);
  hopts.threads = std::max(1u, cores / 2);
  hopts.profile = o.profile_rules;
  HuntEngine engine(*set, hopts);
  ReaderOptions ropts;
  ropts.threads = cores;
  // Small batches: an event's decoded fields are still in the CPU cache when
  // the rules read them (4096-event batches took a quarter longer).
  ropts.batch_size = 512;
  EventReader reader(set->fields, ropts);
  ReadStats stats;
  // A progress line on a terminal: input, events, events/s, MB/s (bytes as the readers account them).
  const bool progress = !o.quiet && ::isatty(fileno(stderr));
  auto last_progress = std::chrono::steady_clock::now();
  auto show_progress = [&](std::size_t input, bool done) {
    auto now = std::chrono::steady_clock::now();
    if (!done && now - last_progress < std::chrono::milliseconds(250)) return;
    last_progress = now;
    double secs = std::max(1e-3, std::chrono::duration<double>(now - started).count());
    std::fprintf(stderr, "\r\033[Kinput %zu/%zu  %llu events  %.0f events/s  %.1f MB/s", input + 1, o.inputs.size(),
                 static_cast<unsigned long long>(engine.events()), engine.events() / secs, stats.bytes / secs / 1e6);
    if (done) std::fputs("\r\033[K", stderr);
  };
  reader.read_all(o.inputs, [&](EventBatch& batch) {
    engine.add(batch);
    if (profiler) {
      for (const Event& e : batch.events) profiler->observe(e);
    }
    if (progress && !batch.events.empty()) show_progress(batch.events.back().input_index, false);
    return true;
  }, stats);
  if (progress) show_progress(o.inputs.size() - 1, true);
  std::vector<RuleRunStats> rule_stats;
  auto detections = engine.finish(rule_stats);

  std::vector<AlertLine> alerts;
  AlertWriter writer;
  // The same event read twice (a dataset in two archives, overlapping
  // exports) is the same alert: its id is a hash of rule and document.
  std::unordered_set<std::string> written_ids;
  std::uint64_t duplicates = 0;
  std::vector<AlertSummary> stored;  // for --db
  for (std::size_t r = 0; r < detections.size(); ++r) {
    const Rule& rule = *set->compiled[r].rule;
    auto scheduled = o.no_schedule ? unscheduled_alerts(detections[r], rule_stats[r])
                                   : schedule_alerts(detections[r], rule, rule_stats[r]);
    for (const auto& sa : suppress_alerts(rule, detections[r], scheduled, rule_stats[r])) {
      const ScheduledAlert& s = sa.alert;
      std::string json;
      auto summaries = writer.write(rule, detections[r][s.detection], s.time, json,
                                    sa.suppression ? &*sa.suppression : nullptr);
      if (!written_ids.insert(summaries.front().id).second) {
        ++duplicates;
        continue;
      }
      alerts.push_back({summaries.front(), std::move(json)});
      for (std::size_t k = 1; k < summaries.size(); ++k) alerts.push_back({summaries[k], {}});
      if (!o.db.empty()) stored.insert(stored.end(), summaries.begin(), summaries.end());
    }
  }
  // Deterministic order: alert time, first event time, rule, id (a sequence's
  // building blocks follow its alert, in the same string).
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < alerts.size(); ++i) {
    if (!alerts[i].json.empty()) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
    const AlertSummary& a = alerts[x].summary;
    const AlertSummary& b = alerts[y].summary;
    if (a.time != b.time) return a.time < b.time;
    if (a.original_time != b.original_time) return a.original_time < b.original_time;
    if (a.rule_name != b.rule_name) return a.rule_name < b.rule_name;
    return a.id < b.id;
  });

  std::optional<AtomicFile> file;
  if (!open_output(o.output, file)) return kExitUsage;
  {
    OutputBuffer out(file ? file->stream() : stdout);
    for (std::size_t i : order) {
      out.buffer() += alerts[i].json;
      if (out.buffer().size() > (1 << 20)) out.flush();
    }
  }
  if (!o.db.empty()) {
    auto store = AlertStore::open(o.db);
    if (!store) {
      std::fprintf(stderr, "vigil: %s\n", store.error().message.c_str());
      return kExitUsage;
    }
    auto added = (*store)->add(stored);
    if (!added) {
      std::fprintf(stderr, "vigil: %s\n", added.error().message.c_str());
      return kExitUsage;
    }
    if (!o.quiet) {
      std::fprintf(stderr, "alert store %s: %zu new alert document(s), %zu already there\n", o.db.c_str(), *added,
                   stored.size() - *added);
    }
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  print_diagnostics(stats);
  if (!o.quiet) {
    print_summary(alerts, *set, rule_stats, engine.events(), stats.bytes, seconds, o.inputs.size(),
                  rule_cache ? rule_cache->hits() : 0);
    if (duplicates) {
      std::fprintf(stderr, "note: %llu alert(s) for events read more than once were written once\n",
                   static_cast<unsigned long long>(duplicates));
    }
  }
  if (!o.quiet && engine.rarity_evicted()) {
    std::fprintf(stderr, "note: rarity: %llu term(s) evicted at --max-terms (least recently seen first)\n",
                 static_cast<unsigned long long>(engine.rarity_evicted()));
  }
  if (!o.quiet && (context.stats().processes_evicted || context.stats().files_evicted)) {
    std::fprintf(stderr, "note: triage state evicted %llu process(es) and %llu file(s) (oldest first) to stay bounded\n",
                 static_cast<unsigned long long>(context.stats().processes_evicted),
                 static_cast<unsigned long long>(context.stats().files_evicted));
  }
  if (profiler && !o.quiet) {
    std::fprintf(stderr, "coverage (rules ready / degraded / blind per host; `vigil coverage` says why):\n");
    for (const auto& [host, profile] : profiler->hosts()) {
      std::size_t counts[3] = {0, 0, 0};
      for (const RuleNeeds& n : needs) ++counts[static_cast<int>(judge(*set, n, profile).status)];
      std::fprintf(stderr, "  %-30s %5zu / %5zu / %5zu\n", printable(host).c_str(), counts[0], counts[1], counts[2]);
    }
  }
  if (o.profile_rules) {
    std::vector<std::size_t> by_cost(rule_stats.size());
    for (std::size_t i = 0; i < by_cost.size(); ++i) by_cost[i] = i;
    std::sort(by_cost.begin(), by_cost.end(), [&](std::size_t a, std::size_t b) {
      if (rule_stats[a].eval_ns != rule_stats[b].eval_ns) return rule_stats[a].eval_ns > rule_stats[b].eval_ns;
      return rule_stats[a].evaluations > rule_stats[b].evaluations;
    });
    std::uint64_t total_ns = 0, total_evaluations = 0;
    for (const RuleRunStats& s : rule_stats) {
      total_ns += s.eval_ns;
      total_evaluations += s.evaluations;
    }
    const auto events = static_cast<double>(std::max<std::uint64_t>(1, engine.events()));
    std::fprintf(stderr, "rule matching: %llu evaluations over %llu events (%.1f per event), %.0f ms (all threads)\n",
                 static_cast<unsigned long long>(total_evaluations), static_cast<unsigned long long>(engine.events()),
                 static_cast<double>(total_evaluations) / events, static_cast<double>(total_ns) / 1e6);
    const RuleIndex& index = *set->index;
    std::fprintf(stderr,
                 "rule index: %zu term(s) filed by a required value (%zu fields), %zu by a pattern literal (%zu fields), "
                 "%zu by each branch's, %zu by category; %zu fields decoded per event\n",
                 index.rules_by_value(), index.indexed_fields(), index.rules_by_pattern(), index.pattern_fields(),
                 index.rules_by_branch(), index.rules_by_category(), set->fields.size());
    std::fprintf(stderr, "  %9s %6s %11s %9s  %s\n", "ms", "share", "evaluated", "detected", "rule");
    for (std::size_t n = 0; n < std::min<std::size_t>(25, by_cost.size()); ++n) {
      const RuleRunStats& s = rule_stats[by_cost[n]];
      std::fprintf(stderr, "  %9.1f %5.1f%% %11llu %9llu  %s\n", static_cast<double>(s.eval_ns) / 1e6,
                   total_ns ? 100.0 * static_cast<double>(s.eval_ns) / static_cast<double>(total_ns) : 0.0,
                   static_cast<unsigned long long>(s.evaluations), static_cast<unsigned long long>(s.detections),
                   printable(set->compiled[by_cost[n]].rule->name).c_str());
    }
  }
  if (o.strict && input_had_errors(stats)) return kExitInput;
  if (!commit_output(file)) return kExitUsage;
  if (set->failed() > 0) return kExitUsage;
  bool any = std::any_of(alerts.begin(), alerts.end(), [](const AlertLine& a) { return !a.summary.building_block; });
  return o.fail_on_alert && any ? kExitAlerts : kExitOk;
}

}  // namespace vigil
