// `vigil run`: the DetectionPipeline over FollowedInputs, with a watermark,
// an appending alert sink and checkpoints (src/stream/). The loop: poll the
// inputs, hand batches to the pipeline (alerts that became final go to the
// sinks at once), then, every --checkpoint-interval, fsync the alert file
// and save positions + state + the file's length in one transaction.
#include "cli/run_command.h"

#include <CLI/CLI.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <thread>

#include "cli/exit_codes.h"
#include "cli/input_diagnostics.h"
#include "core/hash.h"
#include "core/worker_pool.h"
#include "output/alert_file_sink.h"
#include "output/alert_store.h"
#include "rules/rule_codec.h"
#include "stream/checkpoint_store.h"
#include "stream/followed_inputs.h"

namespace vigil {

void add_run_command(CLI::App& app, RunCommandOptions& o) {
  auto* cmd = app.add_subcommand("run", "Run detection rules continuously over inputs as they grow");
  add_detection_options(*cmd, o.detection);
  cmd->add_option("inputs", o.inputs,
                  "Inputs: NDJSON files (followed as they grow), other event files (EVTX, XML, archives: read whole "
                  "once complete), directories (new files are read once complete), '-' for stdin, FIFOs "
                  "(or --nats)");
  cmd->add_option("-o,--output", o.output, "Alert NDJSON file, appended to ('-' for stdout)")->capture_default_str();
  cmd->add_flag("--follow,-f", o.follow,
                "Keep reading as the inputs grow, are rotated, and new files arrive; stop with SIGTERM or SIGINT");
  cmd->add_option("--state", o.state,
                  "State directory: read positions and detection state are checkpointed there, and a restart "
                  "continues from them");
  cmd->add_option("--schedule", o.schedule,
                  "immediate: a detection is an alert as soon as it completes; elastic: Elastic's rule schedule "
                  "(interval, lookback, max_signals) over event time, as `vigil hunt`")
      ->check(CLI::IsMember({"immediate", "elastic"}))
      ->capture_default_str();
  cmd->add_option("--lateness", o.lateness,
                  "How far behind the newest event time an event may still arrive and be matched in order "
                  "(the watermark's lag)")
      ->capture_default_str();
  cmd->add_option("--poll-interval", o.poll_interval, "How often followed inputs are checked when idle")
      ->capture_default_str();
  cmd->add_option("--checkpoint-interval", o.checkpoint_interval, "How often state is checkpointed (with --state)")
      ->capture_default_str();
  cmd->add_option("--status-interval", o.status_interval, "How often a status line is printed (not with -q)")
      ->capture_default_str();
  cmd->add_option("--max-checkpoint-bytes", o.max_checkpoint_bytes,
                  "A checkpoint larger than this is not written (the previous one stays; counted and reported): "
                  "lower the caps above rather than fill the disk (suffixes: KB, MB, GB)")
      ->transform(CLI::AsSizeValue(false))
      ->capture_default_str();
  cmd->add_option("--max-alert-ids", o.max_alert_ids,
                  "Alert ids remembered to write an alert once; the oldest are forgotten (and counted) beyond it")
      ->capture_default_str();
  cmd->add_option("--nats", o.nats,
                  "Consume events from NATS JetStream (stream VIGIL_EVENTS, filled by `vigil publish`) instead of "
                  "inputs; alerts also go to stream VIGIL_ALERTS. Needs --state")
      ->group("NATS JetStream");
  cmd->add_option("--worker", o.worker,
                  "I/N: this worker owns the partitions p with p mod N == I (default: all partitions)")
      ->group("NATS JetStream");
  cmd->add_option("--partitions", o.partitions, "Partitions of VIGIL_EVENTS, as given to `vigil publish`")
      ->check(CLI::Range(1u, 4096u))
      ->capture_default_str()
      ->group("NATS JetStream");
  cmd->add_option("--max-event-bytes", o.max_event_bytes,
                  "A larger message is dead-lettered, not decoded (suffixes: KB, MB)")
      ->transform(CLI::AsSizeValue(false))
      ->capture_default_str()
      ->group("NATS JetStream");
  cmd->add_option("--metrics-listen", o.metrics_listen,
                  "Serve Prometheus text metrics (events, lag per partition, open sequences, alerts, evictions, "
                  "dead letters) on this address, e.g. 127.0.0.1:9464")
      ->group("NATS JetStream");
  cmd->footer(
      "Exit codes: 0 ok (also after SIGTERM/SIGINT, with a checkpoint), 1 alerts found with --fail-on-alert,\n"
      "2 usage or rule error, 3 malformed/unreadable input with --strict. Details: docs/streaming.md.");
}

namespace {

std::atomic<bool> g_stop{false};
void request_stop(int) { g_stop = true; }

std::optional<std::int64_t> parse_duration(const std::string& text) {
  if (text.size() > 2 && text.ends_with("ms")) {
    try {
      std::size_t used = 0;
      long long v = std::stoll(text.substr(0, text.size() - 2), &used);
      if (used == text.size() - 2 && v >= 0) return v * 1000000LL;
    } catch (...) {
    }
    return std::nullopt;
  }
  if (text == "0") return 0;
  return parse_rule_duration(text);
}

std::int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::unique_ptr<AlertFileSink> open_alert_sink(const RunCommandOptions& o, const std::optional<Checkpoint>& checkpoint) {
  std::optional<std::uint64_t> sink_bytes;
  if (checkpoint && checkpoint->sink_path == o.output) sink_bytes = checkpoint->sink_bytes;
  auto sink = AlertFileSink::open(o.output, sink_bytes);
  if (!sink) {
    std::fprintf(stderr, "vigil: %s\n", sink.error().message.c_str());
    return nullptr;
  }
  return std::move(*sink);
}

// What the state was made with: every compiled rule and the alert timing.
std::string rules_fingerprint(const RuleSet& set, const RunCommandOptions& o, std::string_view extra) {
  Hash128 h;
  h.add(o.schedule);
  if (!extra.empty()) h.add(extra);
  // What the rules say, not where they were read from: `rules/` and
  // `./rules/` (or a moved checkout) are the same rules.
  for (const CompiledRule& c : set.compiled) {
    Rule r = *c.rule;
    r.file.clear();
    h.add(encode_rule(r));
  }
  return h.hex();
}

int run_run_command(const RunCommandOptions& ro) {
  const DetectionCommandOptions& o = ro.detection;
  auto lateness = parse_duration(ro.lateness);
  auto poll_interval = parse_duration(ro.poll_interval);
  auto checkpoint_interval = parse_duration(ro.checkpoint_interval);
  auto status_interval = parse_duration(ro.status_interval);
  if (!lateness || !poll_interval || !checkpoint_interval || !status_interval) {
    std::fprintf(stderr, "vigil: durations are written like 30s, 5m, 200ms\n");
    return kExitUsage;
  }
  if (ro.nats.empty() == ro.inputs.empty()) {
    std::fprintf(stderr, "vigil: run reads either inputs or --nats URL\n");
    return kExitUsage;
  }
  for (const auto& path : ro.inputs) {
    struct stat st {};
    if (path != "-" && !ro.follow && ::stat(path.c_str(), &st) != 0) {
      std::fprintf(stderr, "vigil: %s: no such file\n", path.c_str());
      return kExitUsage;
    }
  }
  DetectionSetup setup;
  if (int rc = prepare_detection(o, setup)) return rc;
  if (!ro.nats.empty()) {
    return run_from_nats(ro, setup, RunDurations{*lateness, *poll_interval, *checkpoint_interval, *status_interval});
  }
  const RuleSet& set = *setup.set;
  const unsigned cores = resolve_threads(o.threads);
  PipelineOptions popts;
  popts.engine = setup.engine_options(o, std::max(1u, cores / 2));
  popts.spill_bytes = o.spill_bytes;
  popts.event_original = !o.no_event_original;
  popts.timing = ro.schedule == "elastic" ? AlertTiming::Schedule : AlertTiming::Immediate;
  popts.lateness_ns = *lateness;
  popts.max_alert_ids = ro.max_alert_ids;

  std::unique_ptr<CheckpointStore> store;
  std::optional<Checkpoint> checkpoint;
  const std::string fingerprint = rules_fingerprint(set, ro, "");
  if (!ro.state.empty()) {
    auto opened = CheckpointStore::open(ro.state);
    if (!opened) {
      std::fprintf(stderr, "vigil: %s\n", opened.error().message.c_str());
      return kExitUsage;
    }
    store = std::move(*opened);
    checkpoint = store->load();
    if (checkpoint && checkpoint->rules_hash != fingerprint) {
      std::fprintf(stderr,
                   "vigil: %s holds the state of other rules or another --schedule; use another --state directory "
                   "(or remove this one to start over)\n",
                   ro.state.c_str());
      return kExitUsage;
    }
  }
  std::unique_ptr<AlertFileSink> sink = open_alert_sink(ro, checkpoint);
  if (!sink) return kExitUsage;
  AlertDatabase db;
  if (!o.db.empty() && !db.open(o.db)) return kExitUsage;

  AlertTally tally;
  std::optional<Error> sink_error;
  DetectionPipeline pipeline(set, popts, [&](std::vector<AlertLine>& lines) {
    tally.add(lines);
    std::string text;
    for (const AlertLine& l : lines) l.append_lines(text);
    if (auto w = sink->write(text); !w && !sink_error) sink_error = w.error();
    db.add(lines);
    if (db.error() && !sink_error) sink_error = db.error();
  });
  ReaderOptions ropts;
  ropts.threads = cores;
  ropts.batch_size = 512;
  ropts.deferral = set.index->deferral(set.fields);  // as in `vigil hunt`
  FollowOptions follow_options;
  follow_options.follow = ro.follow;
  FollowedInputs inputs(ro.inputs, set.fields, ropts, follow_options);
  ReadStats stats;
  if (checkpoint) {
    if (!inputs.load(checkpoint->inputs, stats) || !pipeline.load(checkpoint->pipeline)) {
      std::fprintf(stderr, "vigil: %s: the checkpoint cannot be read by this build; use another --state directory\n",
                   store->path().c_str());
      return kExitUsage;
    }
    sink->drop_replayed_if([&](std::string_view id) { return pipeline.wrote(id); });
    if (!o.quiet) {
      std::fprintf(stderr, "vigil run: resuming from the checkpoint in %s\n", ro.state.c_str());
    }
  }

  std::signal(SIGTERM, request_stop);
  std::signal(SIGINT, request_stop);
  std::uint64_t checkpoints_over_cap = 0;
  bool last_written = true;
  auto checkpoint_now = [&]() -> bool {
    if (auto synced = sink->sync(); !synced) {
      std::fprintf(stderr, "vigil: %s\n", synced.error().message.c_str());
      return false;
    }
    if (!store) return true;
    Checkpoint c{fingerprint, inputs.save(), pipeline.save(), ro.output, sink->checkpoint_bytes(),
                 static_cast<std::int64_t>(std::time(nullptr))};
    if (c.inputs.size() + c.pipeline.size() > ro.max_checkpoint_bytes) {
      if (checkpoints_over_cap++ == 0) {
        std::fprintf(stderr,
                     "vigil run: warning: a checkpoint of %zu bytes is over --max-checkpoint-bytes %zu; not written "
                     "(a restart resumes from the previous one). Lower --max-open-sequences, --max-terms or "
                     "--max-tracked-processes, or raise the cap\n",
                     c.inputs.size() + c.pipeline.size(), ro.max_checkpoint_bytes);
      }
      last_written = false;
      return true;
    }
    last_written = true;
    if (auto saved = store->save(c); !saved) {
      std::fprintf(stderr, "vigil: %s: %s\n", store->path().c_str(), saved.error().message.c_str());
      return false;
    }
    return true;
  };
  // A first checkpoint before any alert is written: a kill before the first
  // interval then finds the alert file's length to resume from.
  if (store && !checkpoint && !checkpoint_now()) return kExitUsage;
  const auto started = std::chrono::steady_clock::now();
  auto last_checkpoint = started, last_status = started;
  std::uint64_t events_at_status = 0;
  auto status = [&](bool force) {
    auto now = std::chrono::steady_clock::now();
    if (o.quiet || (!force && now - last_status < std::chrono::nanoseconds(*status_interval))) return;
    const double secs = std::max(1e-3, std::chrono::duration<double>(now - last_status).count());
    const std::uint64_t events = pipeline.engine().events();
    const std::uint64_t evicted = evictions(pipeline);
    std::fprintf(stderr,
                 "vigil run: %llu events (%.0f/s), %zu file(s) followed, %zu open sequence(s), %zu alert(s), "
                 "%llu skipped, %llu evicted, watermark %s\n",
                 static_cast<unsigned long long>(events), static_cast<double>(events - events_at_status) / secs,
                 inputs.files_followed(), pipeline.engine().open_sequences(), tally.total(),
                 static_cast<unsigned long long>(stats.skipped), static_cast<unsigned long long>(evicted),
                 pipeline.watermark() == INT64_MIN ? "-" : format_timestamp(pipeline.watermark()).c_str());
    last_status = now;
    events_at_status = events;
  };
  int rc = kExitOk;
  std::size_t diagnostics_shown = 0;
  while (true) {
    const std::uint64_t read = inputs.poll(wall_ns(), [&](EventBatch& batch) {
      pipeline.add(batch);
      return !sink_error;
    }, stats);
    if (sink_error) {
      rc = kExitUsage;
      break;
    }
    if (ro.follow && !o.quiet) print_new_diagnostics(stats, "vigil run", diagnostics_shown);
    if (o.strict && input_had_errors(stats)) {
      rc = kExitInput;
      break;
    }
    auto now = std::chrono::steady_clock::now();
    if (store && now - last_checkpoint >= std::chrono::nanoseconds(*checkpoint_interval)) {
      if (!checkpoint_now()) return kExitUsage;
      last_checkpoint = now;
    }
    status(false);
    if (g_stop) break;
    if (!ro.follow && read == 0 && inputs.drained()) {
      pipeline.finish();  // the end of the inputs: everything held is final
      break;
    }
    if (read == 0) inputs.wait(std::max<std::int64_t>(*poll_interval, 1000000));
  }
  if (rc == kExitOk || rc == kExitInput) {
    if (!checkpoint_now()) return kExitUsage;
  }
  if (sink_error) {
    std::fprintf(stderr, "vigil: %s\n", sink_error->message.c_str());
    return kExitUsage;
  }
  print_diagnostics(stats);
  if (!o.quiet) {
    status(true);
    std::vector<RuleRunStats> rule_stats = pipeline.rule_stats();
    print_detection_summary(tally, set, rule_stats, pipeline, *setup.context);
    if (sink->replayed()) {
      std::fprintf(stderr, "note: %llu alert line(s) created again after the restart were already in %s\n",
                   static_cast<unsigned long long>(sink->replayed()), ro.output.c_str());
    }
    if (checkpoints_over_cap) {
      std::fprintf(stderr, "note: %llu checkpoint(s) over --max-checkpoint-bytes were not written\n",
                   static_cast<unsigned long long>(checkpoints_over_cap));
    }
    if (g_stop) {
      std::fprintf(stderr, "vigil run: stopped by a signal; %s\n",
                   store && !last_written ? "the last checkpoint was over the cap, not written" : "state checkpointed");
    }
  }
  if (rc != kExitOk) return rc;
  if (set.failed() > 0) return kExitUsage;
  return o.fail_on_alert && tally.total() > 0 ? kExitAlerts : kExitOk;
}

}  // namespace vigil
