// `vigil hunt`: load and compile the rules (a rule that fails is reported and
// left out; the others run), read every input once through the HuntEngine,
// emulate each rule's schedule, write the alert documents (NDJSON, stdout or
// an atomically written file) in a deterministic order, and summarize on
// stderr: alerts per rule, per severity, per host.
#include "cli/hunt_command.h"

#include <CLI/CLI.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>

#include <fmt/format.h>

#include "cli/detection_options.h"
#include "cli/event_output.h"
#include "cli/exit_codes.h"
#include "cli/input_diagnostics.h"
#include "core/atomic_file.h"
#include "core/text.h"
#include "core/worker_pool.h"
#include "coverage/coverage.h"
#include "ingest/event_reader.h"
#include "pipeline/detection_pipeline.h"
#include "report/attack_catalog.h"
#include "report/report_writer.h"

namespace vigil {

void add_hunt_command(CLI::App& app, HuntCommandOptions& o) {
  auto* cmd = app.add_subcommand("hunt", "Run detection rules over inputs and write alerts");
  add_detection_options(*cmd, o.detection);
  cmd->add_option("inputs", o.inputs,
                  "Inputs: EVTX, event XML, NDJSON/JSON (also .gz/.zst), archives, directories; '-' for stdin")
      ->required();
  cmd->add_option("-o,--output", o.output, "Alert NDJSON file ('-' for stdout); written atomically")
      ->capture_default_str();
  cmd->add_flag("--no-schedule", o.no_schedule,
                "Alert on every match once, ignoring the rules' interval/from/max_signals schedule");
  cmd->add_flag("--profile-rules", o.profile_rules,
                "Print the rules that took the most matching time, with the events each ran on (what the rule index could not rule out)");
  cmd->add_option("--report", o.report, "Also write the HTML triage report of these alerts to this file (as vigil report)");
  cmd->add_flag("--coverage", o.coverage,
                "Also say per host how many rules the data leaves ready, degraded or blind (details: vigil coverage)");
  cmd->footer(
      "Exit codes: 0 ok, 1 alerts found with --fail-on-alert, 2 usage or rule error,\n"
      "3 malformed/unreadable input with --strict. Alert fields: docs/alerts.md.");
}

int run_hunt_command(const HuntCommandOptions& ho) {
  const DetectionCommandOptions& o = ho.detection;
  auto started = std::chrono::steady_clock::now();
  DetectionSetup setup;
  if (int rc = prepare_detection(o, setup)) return rc;
  RuleSet* set = setup.set.get();
  for (const auto& path : ho.inputs) {
    struct stat st {};
    if (path != "-" && ::stat(path.c_str(), &st) != 0) {
      std::fprintf(stderr, "vigil: %s: no such file\n", path.c_str());
      return kExitUsage;
    }
  }
  std::vector<RuleNeeds> needs;  // --coverage
  std::optional<DataProfiler> profiler;
  if (ho.coverage) {
    needs = rule_needs(*set);
    profiler.emplace(*set, needs);
  }
  // The reader decodes the next block while the engine matches the current
  // one, so matching gets half the threads (one of two cores: the other
  // decodes) and decoding all of them: on the OTRF benchmark, 1.97 -> 1.8 s
  // on two cores against matching on both.
  const unsigned cores = resolve_threads(o.threads);
  PipelineOptions popts;
  popts.engine = setup.engine_options(o, std::max(1u, cores / 2));
  popts.spill_bytes = o.spill_bytes;
  popts.event_original = !o.no_event_original;
  popts.engine.profile = ho.profile_rules;
  popts.timing = ho.no_schedule ? AlertTiming::Immediate : AlertTiming::Schedule;
  // Alerts are written as the pipeline hands them out (all at the end, in
  // order, for a batch): -o is an AtomicFile, renamed into place only when
  // the hunt succeeds.
  std::optional<AtomicFile> file;
  if (!open_output(ho.output, file)) return kExitUsage;
  AlertDatabase db;
  if (!o.db.empty() && !db.open(o.db)) return kExitUsage;
  AlertTally tally;
  std::optional<ReportData> report;
  if (!ho.report.empty()) {
    report.emplace(AttackCatalog::enterprise());
    for (const auto& path : ho.inputs) report->add_input(path);
  }
  OutputBuffer out(file ? file->stream() : stdout);
  DetectionPipeline pipeline(*set, popts, [&](std::vector<AlertLine>& lines) {
    tally.add(lines);
    for (const AlertLine& a : lines) {
      a.append_lines(out.buffer());
      if (out.buffer().size() > (1 << 20)) out.flush();
    }
    db.add(lines);
    if (report) {
      for (const AlertLine& a : lines) report->add_alert(a.summary.document);
    }
  });
  HuntEngine& engine = pipeline.engine();
  ReaderOptions ropts;
  ropts.threads = cores;
  // Small batches: an event's decoded fields are still in the CPU cache when
  // the rules read them (4096-event batches took a quarter longer).
  ropts.batch_size = 512;
  ropts.stream_json_files = true;  // matching, not line splitting, is a hunt's work (open_byte_source)
  // Fields only rules of some kinds of events read are left undecoded in
  // other events (RuleIndex::deferral(): everything else that reads fields
  // registered its own by now); --coverage profiles every field of every event.
  if (!profiler) ropts.deferral = set->index->deferral(set->fields);
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
    std::fprintf(stderr, "\r\033[Kinput %zu/%zu  %llu events  %.0f events/s  %.1f MB/s", input + 1, ho.inputs.size(),
                 static_cast<unsigned long long>(engine.events()), engine.events() / secs, stats.bytes / secs / 1e6);
    if (done) std::fputs("\r\033[K", stderr);
  };
  reader.read_all(ho.inputs, [&](EventBatch& batch) {
    pipeline.add(batch);
    if (profiler) {
      for (const Event& e : batch.events) profiler->observe(e);
    }
    if (progress && !batch.events.empty()) show_progress(batch.events.back().input_index, false);
    return true;
  }, stats);
  if (progress) show_progress(ho.inputs.size() - 1, true);
  pipeline.finish();
  std::vector<RuleRunStats> rule_stats = pipeline.rule_stats();

  out.flush();
  if (db.error()) {
    std::fprintf(stderr, "vigil: %s\n", db.error()->message.c_str());
    return kExitUsage;
  }
  if (!o.quiet) db.print_outcome();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  print_diagnostics(stats);
  if (!o.quiet) {
    std::fprintf(stderr, "vigil hunt: %zu rules over %llu events (%.1f MB) from %zu input(s) in %.2f s (%.0f events/s)\n",
                 set->compiled.size(), static_cast<unsigned long long>(engine.events()), stats.bytes / 1e6,
                 ho.inputs.size(), seconds, seconds > 0 ? engine.events() / seconds : 0.0);
    if (setup.rule_cache && setup.rule_cache->hits() > 0) {
      std::fprintf(stderr, "  %zu of %zu rule files from the parsed-rule cache (--no-rule-cache parses them all)\n",
                   setup.rule_cache->hits(), set->files);
    }
    print_detection_summary(tally, *set, rule_stats, pipeline, *setup.context);
  }
  if (profiler && !o.quiet) {
    std::fprintf(stderr, "coverage (rules ready / degraded / blind per host; `vigil coverage` says why):\n");
    for (const auto& [host, profile] : profiler->hosts()) {
      std::size_t counts[3] = {0, 0, 0};
      for (const RuleNeeds& n : needs) ++counts[static_cast<int>(judge(*set, n, profile).status)];
      std::fprintf(stderr, "  %-30s %5zu / %5zu / %5zu\n", printable(host).c_str(), counts[0], counts[1], counts[2]);
    }
  }
  if (ho.profile_rules) {
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
    if (ropts.deferral) {
      std::string names;
      std::size_t count = 0;
      for (FieldId f = 0; f < set->fields.size(); ++f) {
        if (!ropts.deferral->deferred(f)) continue;
        if (++count <= 8) names += fmt::format("{}{}", count > 1 ? ", " : "", set->fields.name(f));
      }
      std::fprintf(stderr, "  %zu field(s) decoded only in events of the kinds their rules take: %s%s\n", count,
                   names.c_str(), count > 8 ? ", ..." : "");
    }
    std::fprintf(stderr, "  %9s %6s %11s %9s  %s\n", "ms", "share", "evaluated", "detected", "rule");
    for (std::size_t n = 0; n < std::min<std::size_t>(25, by_cost.size()); ++n) {
      const RuleRunStats& s = rule_stats[by_cost[n]];
      std::fprintf(stderr, "  %9.1f %5.1f%% %11llu %9llu  %s\n", static_cast<double>(s.eval_ns) / 1e6,
                   total_ns ? 100.0 * static_cast<double>(s.eval_ns) / static_cast<double>(total_ns) : 0.0,
                   static_cast<unsigned long long>(s.evaluations), static_cast<unsigned long long>(s.detections),
                   printable(set->compiled[by_cost[n]].rule->name).c_str());
    }
  }
  if (report) {
    auto written = write_report(*report, ho.report);
    if (!written) {
      std::fprintf(stderr, "vigil: %s\n", written.error().message.c_str());
      return kExitUsage;
    }
    if (!o.quiet) {
      std::fprintf(stderr, "report: %s (%zu alerts, %.1f MB; open it in a browser)\n", printable(ho.report).c_str(),
                   report->alert_count(), static_cast<double>(*written) / 1e6);
    }
  }
  if (o.strict && input_had_errors(stats)) return kExitInput;
  if (!commit_output(file)) return kExitUsage;
  if (set->failed() > 0) return kExitUsage;
  return o.fail_on_alert && tally.total() > 0 ? kExitAlerts : kExitOk;
}

}  // namespace vigil
