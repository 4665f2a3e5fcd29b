// `vigil run --nats URL --state DIR [--worker I/N]`: the detection pipeline
// over NATS JetStream. One pipeline (engine, alerter, triage state) per
// partition of VIGIL_EVENTS this worker owns, fed by that partition's durable
// pull consumer, so a host's events always meet in one pipeline whatever the
// number of workers. The loop: fetch what each partition has, decode it,
// dead-letter what cannot be used, hand the rest to the partition's
// pipeline; alerts go to VIGIL_ALERTS (Nats-Msg-Id = kibana.alert.uuid), -o
// and --db. A checkpoint waits for the server to acknowledge every alert,
// fsyncs -o, saves each partition's last applied stream sequence and state
// in one transaction, and only then acknowledges the events: a restart
// resumes each partition right after its checkpointed sequence and makes
// the same alerts again, which the server and the sinks drop as duplicates.
#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <chrono>
#include <csignal>
#include <ctime>
#include <map>
#include <thread>

#include "cli/exit_codes.h"
#include "cli/input_diagnostics.h"
#include "cli/run_command.h"
#include "core/document.h"
#include "ingest/ndjson_reader.h"
#include "output/alert_file_sink.h"
#include "output/json_lookup.h"
#include "stream/checkpoint_store.h"
#include "stream/metrics_server.h"
#include "stream/nats_bus.h"
#include "stream/source_header.h"

namespace vigil {

namespace {

std::atomic<bool> g_nats_stop{false};
void request_nats_stop(int) { g_nats_stop = true; }

constexpr std::int64_t kMaxAckPending = 1 << 20;  // per partition; a checkpoint comes at half of it

struct Partition {
  std::uint32_t id = 0;
  std::unique_ptr<HostState> context;
  std::unique_ptr<DetectionPipeline> pipeline;
  std::unique_ptr<PartitionConsumer> consumer;
  std::uint64_t applied = 0;  // the last stream sequence whose event is in the pipeline's state
  std::uint64_t lag = 0;      // messages of the partition not yet fetched
  std::uint64_t unacked = 0;  // fetched since the last acknowledgment
};

// Checkpoint layout: inputs = "nats <partitions>\n" then "<p> <seq>\n" per
// partition; pipeline = framed (partition, state) pairs.
std::string encode_positions(std::uint32_t partitions, const std::map<std::uint32_t, std::uint64_t>& seqs) {
  std::string out = fmt::format("nats {}\n", partitions);
  for (auto [p, seq] : seqs) out += fmt::format("{} {}\n", p, seq);
  return out;
}

bool decode_positions(std::string_view text, std::uint32_t partitions, std::map<std::uint32_t, std::uint64_t>& seqs) {
  if (!text.starts_with(fmt::format("nats {}\n", partitions))) return false;
  text.remove_prefix(text.find('\n') + 1);
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string line(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    unsigned p = 0;
    unsigned long long seq = 0;
    if (std::sscanf(line.c_str(), "%u %llu", &p, &seq) != 2) return false;
    seqs[p] = seq;
  }
  return true;
}

std::optional<std::pair<std::uint32_t, std::uint32_t>> parse_worker(const std::string& text, std::uint32_t partitions) {
  if (text.empty()) return std::pair<std::uint32_t, std::uint32_t>{0, 1};
  unsigned i = 0, n = 0;
  char extra = 0;
  if (std::sscanf(text.c_str(), "%u/%u%c", &i, &n, &extra) != 2 || n == 0 || i >= n || n > partitions) return std::nullopt;
  return std::pair<std::uint32_t, std::uint32_t>{i, n};
}

}  // namespace

int run_from_nats(const RunCommandOptions& ro, DetectionSetup& setup, const RunDurations& d) {
  const DetectionCommandOptions& o = ro.detection;
  auto worker = parse_worker(ro.worker, ro.partitions);
  if (!worker) {
    std::fprintf(stderr, "vigil: --worker wants I/N with I < N <= --partitions (%u), e.g. 0/2\n", ro.partitions);
    return kExitUsage;
  }
  if (ro.state.empty()) {
    std::fprintf(stderr, "vigil: run --nats needs --state DIR: events are acknowledged once their state is saved there\n");
    return kExitUsage;
  }
  RuleSet& set = *setup.set;
  const FieldId host_name = set.fields.intern("host.name");

  auto opened = CheckpointStore::open(ro.state);
  if (!opened) {
    std::fprintf(stderr, "vigil: %s\n", opened.error().message.c_str());
    return kExitUsage;
  }
  std::unique_ptr<CheckpointStore> store = std::move(*opened);
  std::optional<Checkpoint> checkpoint = store->load();
  const std::string fingerprint = rules_fingerprint(set, ro, fmt::format("nats {}", ro.partitions));
  std::map<std::uint32_t, std::uint64_t> saved_seqs;
  std::map<std::uint32_t, std::string> saved_states;  // kept for partitions this worker does not own now
  if (checkpoint) {
    if (checkpoint->rules_hash != fingerprint || !decode_positions(checkpoint->inputs, ro.partitions, saved_seqs)) {
      std::fprintf(stderr,
                   "vigil: %s holds the state of other rules, another --schedule, another --partitions or file "
                   "inputs; use another --state directory\n",
                   ro.state.c_str());
      return kExitUsage;
    }
    std::string_view blob = checkpoint->pipeline;
    while (!blob.empty()) {
      std::string_view p = take_framed(blob), state = take_framed(blob);
      saved_states[static_cast<std::uint32_t>(std::strtoul(std::string(p).c_str(), nullptr, 10))] = std::string(state);
    }
  }
  std::unique_ptr<AlertFileSink> sink = open_alert_sink(ro, checkpoint);
  if (!sink) return kExitUsage;
  AlertDatabase db;
  if (!o.db.empty() && !db.open(o.db)) return kExitUsage;

  std::unique_ptr<MetricsServer> metrics;
  if (!ro.metrics_listen.empty()) {
    auto listening = MetricsServer::listen(ro.metrics_listen);
    if (!listening) {
      std::fprintf(stderr, "vigil: %s\n", listening.error().message.c_str());
      return kExitUsage;
    }
    metrics = std::move(*listening);
  }
  auto bus = NatsBus::connect(ro.nats, fmt::format("vigil run {}", ro.worker.empty() ? "0/1" : ro.worker), 65536,
                              StreamLimits{});
  if (!bus) {
    std::fprintf(stderr, "vigil: %s\n", bus.error().message.c_str());
    return kExitUsage;
  }

  ReadySignal ready;  // before the consumers, whose threads signal it
  // One pipeline per owned partition (triage state made before the reader:
  // its fields join the projection).
  std::vector<std::unique_ptr<Partition>> parts;
  for (std::uint32_t p = 0; p < ro.partitions; ++p) {
    if (p % worker->second != worker->first) continue;
    auto part = std::make_unique<Partition>();
    part->id = p;
    part->context = std::make_unique<HostState>(set.fields, o.context_limits);
    parts.push_back(std::move(part));
  }
  AlertTally tally;
  std::optional<Error> sink_error;
  auto alerts_out = [&](std::vector<AlertLine>& lines) {
    tally.add(lines);
    std::string text;
    for (const AlertLine& l : lines) {
      const std::size_t start = text.size();
      l.append_lines(text);
      // Each document (a sequence's building blocks follow its shell) is one
      // message whose id is its uuid: a replay is dropped by the server.
      std::string_view rest = std::string_view(text).substr(start);
      while (!rest.empty()) {
        const auto nl = rest.find('\n');
        std::string_view doc = rest.substr(0, nl);
        rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
        const std::string_view uuid = alert_line_id(doc);
        if (uuid.empty()) continue;
        OutMessage m{"vigil.alerts." + subject_token(l.summary.host), doc, uuid, {}};
        if (auto r = (*bus)->publish(m); !r) {
          if (!sink_error) sink_error = r.error();
        }
      }
    }
    if (auto w = sink->write(text); !w && !sink_error) sink_error = w.error();
    db.add(lines);
    if (db.error() && !sink_error) sink_error = db.error();
  };
  const std::int64_t ack_wait = std::max<std::int64_t>(60'000'000'000LL, 4 * d.checkpoint_ns);
  // A partition's pipeline is made when its first event (or its saved
  // state) comes: a worker owning many partitions, few of them busy, does
  // not pay for the others.
  auto make_pipeline = [&](Partition& part) {
    PipelineOptions popts;
    popts.engine = setup.engine_options(o, 1);
    popts.engine.context = part.context.get();
    popts.spill_bytes = o.spill_bytes / std::max<std::size_t>(1, parts.size());
    popts.event_original = !o.no_event_original;
    popts.timing = ro.schedule == "elastic" ? AlertTiming::Schedule : AlertTiming::Immediate;
    popts.lateness_ns = d.lateness_ns;
    popts.max_alert_ids = ro.max_alert_ids;
    part.pipeline = std::make_unique<DetectionPipeline>(set, popts, alerts_out);
  };
  for (auto& part : parts) {
    if (auto seq = saved_seqs.find(part->id); seq != saved_seqs.end()) part->applied = seq->second;
    if (auto s = saved_states.find(part->id); s != saved_states.end()) {
      make_pipeline(*part);
      if (!part->pipeline->load(s->second)) {
        std::fprintf(stderr, "vigil: %s: the checkpoint cannot be read by this build; use another --state directory\n",
                     store->path().c_str());
        return kExitUsage;
      }
      saved_states.erase(s);
    }
    // A partition the state knows (even at 0) goes on right after its
    // checkpointed sequence. Only one it does not know starts where its
    // durable consumer had been acknowledged: the ack floor also moves when
    // a consumer is made again, so it never overrides the state.
    const bool known = saved_seqs.count(part->id) > 0;
    auto consumer =
        PartitionConsumer::open(**bus, part->id, known ? part->applied + 1 : 0, ack_wait, kMaxAckPending, ready);
    if (!consumer) {
      std::fprintf(stderr, "vigil: %s\n", consumer.error().message.c_str());
      return kExitUsage;
    }
    part->consumer = std::move(*consumer);
    if (!known && part->consumer->started_at() > 1 && !o.quiet) {
      std::fprintf(stderr,
                   "vigil run: partition %u: no state in %s; starting after what its consumer had acknowledged "
                   "(stream sequence %llu)\n",
                   part->id, ro.state.c_str(), static_cast<unsigned long long>(part->consumer->started_at()));
    }
  }
  sink->drop_replayed_if([&](std::string_view id) {
    return std::any_of(parts.begin(), parts.end(),
                       [&](const auto& part) { return part->pipeline && part->pipeline->wrote(id); });
  });
  if (checkpoint && !o.quiet) std::fprintf(stderr, "vigil run: resuming from the checkpoint in %s\n", ro.state.c_str());

  ReaderOptions ropts;
  ropts.threads = 1;
  ropts.batch_size = 512;
  ropts.max_document_bytes = ro.max_event_bytes;
  std::uint64_t ordinal_scratch = 0;
  NdjsonReader reader(set.fields, ropts, ordinal_scratch);
  ReadStats stats;
  std::uint64_t dead_letters = 0, redelivered = 0, checkpoints = 0;
  simdjson::dom::parser source_parser;
  std::string buffer;

  // A message no pipeline can use: copied to vigil.deadletter.<partition> with the reason.
  auto publish_dead_letter = [&](const Partition& part, const InMessage& m, const std::string& reason) {
    ++dead_letters;
    const std::string id = fmt::format("dl-{}-{}", part.id, m.stream_seq);  // outlives `out`, which views it
    OutMessage out{fmt::format("vigil.deadletter.{}", part.id), m.data, id,
                   {{kReasonHeader, reason}, {kOriginHeader, fmt::format("{} {}", m.subject, m.stream_seq)}}};
    if (auto r = (*bus)->publish(out); !r && !sink_error) sink_error = r.error();
  };
  // ... and reported by subject and stream sequence.
  auto dead_letter = [&](const Partition& part, const InMessage& m, const std::string& reason) {
    InputReport(stats, ropts.max_diagnostics).skipped(std::string(m.subject), m.stream_seq, 0, reason);
    publish_dead_letter(part, m, reason);
  };

  // Decodes one fetch of a partition and feeds its pipeline.
  auto process = [&](Partition& part, const std::vector<InMessage>& msgs) {
    buffer.clear();
    std::vector<std::size_t> line_msg;  // NDJSON line (0-based) → message
    for (std::size_t i = 0; i < msgs.size(); ++i) {
      const InMessage& m = msgs[i];
      if (m.stream_seq != 0 && m.stream_seq <= part.applied) {
        ++redelivered;  // delivered again after an ack timeout: already in the state
        continue;
      }
      if (m.data.size() > ro.max_event_bytes) {
        dead_letter(part, m, fmt::format("{} bytes, over --max-event-bytes {}", m.data.size(), ro.max_event_bytes));
        continue;
      }
      // A newline is whitespace between JSON tokens and invalid inside a
      // string, so as a space it keeps a (pretty-printed) document one line.
      const std::size_t at = buffer.size();
      buffer.append(m.data);
      if (std::memchr(m.data.data(), '\n', m.data.size()) || std::memchr(m.data.data(), '\r', m.data.size())) {
        std::replace_if(buffer.begin() + static_cast<std::ptrdiff_t>(at), buffer.end(),
                        [](char c) { return c == '\n' || c == '\r'; }, ' ');
      }
      buffer.push_back('\n');
      line_msg.push_back(i);
    }
    if (!msgs.empty()) {
      part.applied = std::max(part.applied, msgs.back().stream_seq);
      part.lag = msgs.back().pending;
      part.unacked += msgs.size();
      part.consumer->keep_for_ack(msgs.size() - 1);
    }
    if (line_msg.empty()) return;
    const std::size_t len = buffer.size();
    buffer.append(simdjson::SIMDJSON_PADDING, ' ');
    std::vector<std::optional<SourceRef>> sources(line_msg.size());
    for (std::size_t l = 0; l < line_msg.size(); ++l) {
      sources[l] = parse_source(source_parser, msgs[line_msg[l]].header_view(kSourceHeader));
    }
    const std::size_t diagnostics_before = stats.diagnostics.size();
    std::vector<char> decoded(line_msg.size(), 0);  // lines the reader made an event of
    InputReport report(stats, ropts.max_diagnostics);
    reader.read_contiguous(nullptr, std::string_view(buffer.data(), len), len + simdjson::SIMDJSON_PADDING, 0, "nats",
                           [&](EventBatch& batch) {
                             std::size_t keep = 0;
                             for (Event& e : batch.events) {
                               if (e.line == 0 || e.line > line_msg.size()) continue;
                               const std::size_t l = e.line - 1;
                               decoded[l] = 1;
                               const InMessage& m = msgs[line_msg[l]];
                               const Value& host = e.get(host_name);
                               if (!host.is_text() || host.as_string().empty()) {
                                 dead_letter(part, m, "no host.name");
                                 continue;
                               }
                               if (partition_of(host.as_string(), ro.partitions) != part.id) {
                                 dead_letter(part, m,
                                             fmt::format("host.name belongs to partition {}, not {}",
                                                         partition_of(host.as_string(), ro.partitions), part.id));
                                 continue;
                               }
                               e.ordinal = m.stream_seq;
                               if (const auto& s = sources[l]) {
                                 e.file = s->file();
                                 e.unit = s->unit;
                                 e.line = s->line;
                                 e.offset = s->offset;
                               } else {
                                 e.file = m.subject;
                                 e.line = m.stream_seq;
                                 e.offset = 0;
                               }
                               batch.events[keep++] = e;
                             }
                             batch.events.resize(keep);
                             if (batch.events.empty()) return true;
                             if (!part.pipeline) make_pipeline(part);
                             part.pipeline->add(batch);
                             return true;
                           },
                           report);
    // Documents the reader refused (counted and reported by it; its
    // report is capped, so the lines without an event tell which): reported
    // by subject and stream sequence, and dead-lettered.
    std::vector<std::string> reasons(line_msg.size());
    for (std::size_t i = diagnostics_before; i < stats.diagnostics.size(); ++i) {
      InputDiagnostic& dg = stats.diagnostics[i];
      if (dg.line == 0 || dg.line > line_msg.size()) continue;
      const InMessage& m = msgs[line_msg[dg.line - 1]];
      reasons[dg.line - 1] = dg.reason;
      dg.file = std::string(m.subject);
      dg.line = m.stream_seq;
      dg.offset = 0;
    }
    for (std::size_t l = 0; l < line_msg.size(); ++l) {
      if (!decoded[l]) publish_dead_letter(part, msgs[line_msg[l]], reasons[l].empty() ? "not a JSON document" : reasons[l]);
    }
  };

  std::signal(SIGTERM, request_nats_stop);
  std::signal(SIGINT, request_nats_stop);
  auto checkpoint_now = [&]() -> bool {
    if (!(*bus)->flush(30'000'000'000LL)) {
      std::fprintf(stderr, "vigil run: warning: the server has not acknowledged every alert; no checkpoint this time\n");
      return false;
    }
    if (auto synced = sink->sync(); !synced) {
      std::fprintf(stderr, "vigil: %s\n", synced.error().message.c_str());
      return false;
    }
    std::map<std::uint32_t, std::uint64_t> seqs = saved_seqs;
    std::string states;
    for (const auto& [p, state] : saved_states) {
      append_framed(states, std::to_string(p));
      append_framed(states, state);
    }
    for (auto& part : parts) {
      seqs[part->id] = part->applied;
      if (!part->pipeline) continue;  // no event yet: no state
      append_framed(states, std::to_string(part->id));
      append_framed(states, part->pipeline->save());
    }
    Checkpoint c{fingerprint, encode_positions(ro.partitions, seqs), std::move(states), ro.output, sink->checkpoint_bytes(),
                 static_cast<std::int64_t>(std::time(nullptr))};
    if (auto saved = store->save(c); !saved) {
      std::fprintf(stderr, "vigil: %s: %s\n", store->path().c_str(), saved.error().message.c_str());
      return false;
    }
    for (auto& part : parts) {
      part->consumer->ack();
      part->unacked = 0;
    }
    ++checkpoints;
    return true;
  };

  // A first checkpoint before any alert is written: a kill before the first
  // interval then finds the alert file's length to resume from.
  if (!checkpoint && !checkpoint_now()) return kExitUsage;
  const auto started = std::chrono::steady_clock::now();
  auto last_checkpoint = started, last_status = started;
  std::uint64_t events_at_status = 0;
  auto events_total = [&] {
    std::uint64_t n = 0;
    for (auto& part : parts) n += part->pipeline ? part->pipeline->engine().events() : 0;
    return n;
  };
  auto status = [&](bool force) {
    auto now = std::chrono::steady_clock::now();
    if (o.quiet || (!force && now - last_status < std::chrono::nanoseconds(d.status_ns))) return;
    const double secs = std::max(1e-3, std::chrono::duration<double>(now - last_status).count());
    const std::uint64_t events = events_total();
    std::uint64_t lag = 0, max_lag = 0, evicted = 0;
    std::uint32_t max_lag_at = 0;
    std::size_t open = 0;
    for (auto& part : parts) {
      lag += part->lag;
      if (part->lag > max_lag) max_lag = part->lag, max_lag_at = part->id;
      if (!part->pipeline) continue;
      open += part->pipeline->engine().open_sequences();
      evicted += evictions(*part->pipeline);
    }
    std::fprintf(stderr,
                 "vigil run: %llu events (%.0f/s), %zu partition(s), lag %llu (most %llu in partition %u), %zu open "
                 "sequence(s), %zu alert(s), %llu dead letter(s), %llu evicted\n",
                 static_cast<unsigned long long>(events), static_cast<double>(events - events_at_status) / secs,
                 parts.size(), static_cast<unsigned long long>(lag), static_cast<unsigned long long>(max_lag),
                 max_lag_at, open, tally.total(), static_cast<unsigned long long>(dead_letters),
                 static_cast<unsigned long long>(evicted));
    last_status = now;
    events_at_status = events;
  };

  auto last_metrics = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  // Prometheus text: per partition what a dashboard plots, then the totals.
  auto update_metrics = [&] {
    auto now = std::chrono::steady_clock::now();
    if (!metrics || now - last_metrics < std::chrono::seconds(1)) return;
    last_metrics = now;
    std::string t;
    auto family = [&](const char* name, const char* type, const char* help) {
      t += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    };
    std::uint64_t evicted = 0;
    family("vigil_events_consumed_total", "counter", "Events handed to detection.");
    for (auto& part : parts) {
      t += fmt::format("vigil_events_consumed_total{{partition=\"{}\"}} {}\n", part->id,
                       part->pipeline ? part->pipeline->engine().events() : 0);
    }
    family("vigil_partition_lag", "gauge", "Messages of the partition not yet pulled.");
    for (auto& part : parts) t += fmt::format("vigil_partition_lag{{partition=\"{}\"}} {}\n", part->id, part->lag);
    family("vigil_open_sequences", "gauge", "Partial sequences held.");
    for (auto& part : parts) {
      t += fmt::format("vigil_open_sequences{{partition=\"{}\"}} {}\n", part->id,
                       part->pipeline ? part->pipeline->engine().open_sequences() : 0);
      if (!part->pipeline) continue;
      evicted += evictions(*part->pipeline);
    }
    family("vigil_alerts_total", "counter", "Alerts made final.");
    t += fmt::format("vigil_alerts_total {}\n", tally.total());
    family("vigil_evictions_total", "counter", "Partial sequences, terms and detections evicted at their caps.");
    t += fmt::format("vigil_evictions_total {}\n", evicted);
    family("vigil_dead_letters_total", "counter", "Messages copied to vigil.deadletter.<partition>.");
    t += fmt::format("vigil_dead_letters_total {}\n", dead_letters);
    family("vigil_checkpoints_total", "counter", "Checkpoints written.");
    t += fmt::format("vigil_checkpoints_total {}\n", checkpoints);
    family("vigil_connected", "gauge", "1 while connected to the NATS server.");
    t += fmt::format("vigil_connected {}\n", (*bus)->connected() ? 1 : 0);
    metrics->publish(std::move(t));
  };
  int rc = kExitOk;
  std::size_t diagnostics_shown = 0;
  bool fetch_failing = false;
  while (!g_nats_stop) {
    std::uint64_t got = 0;
    bool ack_pressure = false;
    if (!(*bus)->connected()) {
      if (!fetch_failing && !o.quiet) {
        std::fprintf(stderr, "vigil run: the connection to %s is lost; retrying until the server is back\n",
                     ro.nats.c_str());
      }
      fetch_failing = true;
      update_metrics();
      std::this_thread::sleep_for(std::chrono::nanoseconds(std::max<std::int64_t>(d.poll_ns, 1'000'000)));
      continue;
    }
    const std::uint64_t ready_before = [&] {
      std::lock_guard lock(ready.mutex);
      return ready.batches;
    }();
    for (auto& part : parts) {
      const std::vector<InMessage>& msgs = part->consumer->take();
      if (msgs.empty()) continue;
      got += msgs.size();
      process(*part, msgs);
      if (part->unacked >= kMaxAckPending / 2) ack_pressure = true;
      if (sink_error) break;
    }
    if (sink_error) {
      rc = kExitUsage;
      break;
    }
    if (fetch_failing && !o.quiet) std::fprintf(stderr, "vigil run: the server is back\n");
    fetch_failing = false;
    if (ro.follow && !o.quiet) print_new_diagnostics(stats, "vigil run", diagnostics_shown);
    if (o.strict && input_had_errors(stats)) {
      rc = kExitInput;
      break;
    }
    auto now = std::chrono::steady_clock::now();
    if (ack_pressure || now - last_checkpoint >= std::chrono::nanoseconds(d.checkpoint_ns)) {
      checkpoint_now();
      last_checkpoint = now;
    }
    status(false);
    update_metrics();
    if (got == 0) {
      // Without --follow the run ends when the server says every partition
      // has been handed over (an empty fetch may only have timed out).
      bool drained = !ro.follow && !fetch_failing;
      for (std::size_t i = 0; drained && i < parts.size(); ++i) {
        auto all_read = parts[i]->consumer->drained();
        drained = all_read && *all_read;
      }
      if (drained) {  // the end of the stream for this run
        for (auto& part : parts) {
          if (part->pipeline) part->pipeline->finish();
        }
        break;
      }
      ready.wait(ready_before, std::max<std::int64_t>(d.poll_ns, 1'000'000));
    }
  }
  if (sink_error) {
    std::fprintf(stderr, "vigil: %s\n", sink_error->message.c_str());
    return kExitUsage;
  }
  if (!checkpoint_now()) {
    std::fprintf(stderr, "vigil run: the last checkpoint stays; a restart makes the alerts after it again\n");
  }
  print_diagnostics(stats);
  if (!o.quiet) {
    status(true);
    DetectionTotals totals;
    for (auto& part : parts) {
      if (part->pipeline) totals.add(*part->pipeline, *part->context);
    }
    print_detection_summary(tally, set, totals);
    const PublishStats ps = (*bus)->publish_stats();
    if (ps.duplicates) {
      std::fprintf(stderr, "note: %llu alert or dead-letter message(s) were already in NATS (made before a restart, or "
                   "by an earlier run over the same events): the server kept one of each\n",
                   static_cast<unsigned long long>(ps.duplicates));
    }
    std::uint64_t restarts = 0;
    for (auto& part : parts) restarts += part->consumer->restarts();
    if (restarts) {
      std::fprintf(stderr, "note: %llu delivery gap(s) (a fetch that timed out while the server sent): the "
                   "partition was read again from the message after the last one received\n",
                   static_cast<unsigned long long>(restarts));
    }
    print_count_note(redelivered, "event(s) delivered again were already applied (skipped)");
    print_count_note(dead_letters, "message(s) dead-lettered to vigil.deadletter.<partition>");
    if (sink->replayed()) {
      std::fprintf(stderr, "note: %llu alert line(s) created again after the restart were already in %s\n",
                   static_cast<unsigned long long>(sink->replayed()), ro.output.c_str());
    }
    if (g_nats_stop) std::fprintf(stderr, "vigil run: stopped by a signal; state checkpointed\n");
  }
  if (const PublishStats ps = (*bus)->publish_stats(); ps.failed) {
    std::fprintf(stderr, "vigil: %llu message(s) refused by the NATS server: %s\n",
                 static_cast<unsigned long long>(ps.failed), (*bus)->last_failure().value_or("").c_str());
    if (rc == kExitOk) rc = kExitUsage;
  }
  if (rc != kExitOk) return rc;
  if (set.failed() > 0) return kExitUsage;
  return o.fail_on_alert && tally.total() > 0 ? kExitAlerts : kExitOk;
}

}  // namespace vigil
