#include "cli/publish_command.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "cli/detection_options.h"
#include "cli/event_output.h"
#include "cli/exit_codes.h"
#include "cli/input_diagnostics.h"
#include "core/document.h"
#include "core/hash.h"
#include "ingest/event_reader.h"
#include "rules/rule.h"
#include "stream/nats_bus.h"

namespace vigil {

void add_publish_command(CLI::App& app, PublishOptions& o) {
  auto* cmd = app.add_subcommand("publish", "Normalize inputs to ECS and publish them to NATS JetStream, partitioned by host");
  cmd->add_option("inputs", o.inputs,
                  "Inputs: EVTX, event XML, NDJSON/JSON (also .gz/.zst), archives, directories; '-' for stdin")
      ->required();
  cmd->add_option("--nats", o.nats, "NATS server URL (nats://host:4222)")->required();
  cmd->add_option("--partitions", o.partitions,
                  "Partitions: an event goes to partition hash(host.name) mod N; every publisher and worker of a "
                  "deployment must use the same N")
      ->check(CLI::Range(1u, 4096u))
      ->capture_default_str();
  cmd->add_option("--max-in-flight", o.max_in_flight, "Messages sent and not yet acknowledged by the server, at most")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  cmd->add_option("--duplicate-window", o.duplicate_window,
                  "When vigil creates the streams: how long the server remembers message ids to drop a second copy")
      ->capture_default_str();
  cmd->add_option("--threads", o.threads, "Decoding threads (0 = one per core)")->capture_default_str();
  cmd->add_flag("--strict", o.strict, "Exit 3 if any record is malformed, any input unreadable or any event unpublished");
  cmd->add_flag("-q,--quiet", o.quiet, "No progress line and no summary");
  cmd->footer(
      "Exit codes: 0 ok, 2 usage error or NATS unreachable/refusing, 3 malformed input or unpublished events with "
      "--strict.\nDetails: docs/streaming.md.");
}

int run_publish_command(const PublishOptions& o) {
  auto window = parse_rule_duration(o.duplicate_window);
  if (!window) {
    std::fprintf(stderr, "vigil: --duplicate-window: durations are written like 2m, 1h\n");
    return kExitUsage;
  }
  auto bus = NatsBus::connect(o.nats, "vigil publish", o.max_in_flight, StreamLimits{*window});
  if (!bus) {
    std::fprintf(stderr, "vigil: %s\n", bus.error().message.c_str());
    return kExitUsage;
  }
  FieldRegistry fields;
  const EcsDocumentWriter ecs(fields);
  const FieldId host_name = fields.intern("host.name");
  ReaderOptions ropts;
  ropts.threads = o.threads;
  EventReader reader(fields, ropts);
  ReadStats stats;
  const std::int64_t max_payload = (*bus)->max_payload();
  std::uint64_t sent = 0, no_host = 0, too_large = 0;
  std::optional<Error> publish_error;
  std::string doc;
  const auto started = std::chrono::steady_clock::now();
  const bool progress = !o.quiet && ::isatty(fileno(stderr));
  auto last_progress = started;
  auto show_progress = [&](std::size_t input, bool done) {
    auto now = std::chrono::steady_clock::now();
    if (!done && now - last_progress < std::chrono::milliseconds(250)) return;
    last_progress = now;
    const double secs = std::max(1e-3, std::chrono::duration<double>(now - started).count());
    std::fprintf(stderr, "\r\033[Kinput %zu/%zu  %llu events published  %.0f events/s", input + 1, o.inputs.size(),
                 static_cast<unsigned long long>(sent), static_cast<double>(sent) / secs);
    if (done) std::fputs("\r\033[K", stderr);
  };
  auto note = [&](const Event& e, std::string reason) {
    InputReport(stats, ropts.max_diagnostics).skipped(std::string(e.file), e.line, e.offset, std::move(reason));
  };
  reader.read_all(o.inputs, [&](EventBatch& batch) {
    for (const Event& e : batch.events) {
      const Value& host = e.get(host_name);
      if (!host.is_text() || host.as_string().empty()) {
        ++no_host;
        note(e, "no host.name: not published (events are partitioned by host)");
        continue;
      }
      doc.clear();
      ecs.append(doc, e, false);
      if (static_cast<std::int64_t>(doc.size()) > max_payload) {
        ++too_large;
        note(e, fmt::format("{} bytes, over the server's max_payload ({}): not published", doc.size(), max_payload));
        continue;
      }
      // The source identity: what the record says and where it sits in its
      // file (record id / line, byte offset), not the file's path, so the same
      // log copied elsewhere is the same events.
      const std::string id = Hash128()
                                 .add(doc)
                                 .add(std::to_string(static_cast<int>(e.unit)))
                                 .add(std::to_string(e.line))
                                 .add(std::to_string(e.offset))
                                 .hex();
      const std::string_view h = host.as_string();
      OutMessage m{fmt::format("vigil.events.{}.{}", partition_of(h, o.partitions), subject_token(h)), doc, id, {}};
      if (std::string src = event_source_json(e); !src.empty()) m.headers.emplace_back(kSourceHeader, std::move(src));
      if (auto r = (*bus)->publish(m); !r) {
        publish_error = r.error();
        return false;
      }
      ++sent;
    }
    if (progress && !batch.events.empty()) show_progress(batch.events.back().input_index, false);
    return true;
  }, stats);
  if (progress) show_progress(o.inputs.empty() ? 0 : o.inputs.size() - 1, true);
  const bool flushed = (*bus)->flush(60'000'000'000LL);
  const PublishStats ps = (*bus)->publish_stats();
  print_diagnostics(stats);
  if (publish_error) {
    std::fprintf(stderr, "vigil: %s\n", publish_error->message.c_str());
    return kExitUsage;
  }
  if (!o.quiet) {
    const double secs = std::max(1e-3, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    std::fprintf(stderr,
                 "vigil publish: %llu event(s) to %s in %.2f s (%.0f events/s): %llu stored, %llu already there "
                 "(same message id within the duplicate window)\n",
                 static_cast<unsigned long long>(sent), o.nats.c_str(), secs, static_cast<double>(sent) / secs,
                 static_cast<unsigned long long>(ps.published - ps.duplicates),
                 static_cast<unsigned long long>(ps.duplicates));
    print_count_note(ps.retried, "message(s) sent again after a timeout or a lost connection");
    print_count_note(no_host, "event(s) without host.name not published");
    print_count_note(too_large, "event(s) over the server's max_payload not published");
  }
  if (ps.failed || !flushed) {
    std::fprintf(stderr, "vigil: %llu event(s) refused by the server%s%s\n",
                 static_cast<unsigned long long>(ps.failed + (flushed ? 0 : 1)),
                 ps.failed ? ": " : "", (*bus)->last_failure().value_or("").c_str());
    if (!flushed) std::fprintf(stderr, "vigil: some events were not acknowledged within 60 s\n");
    return kExitUsage;
  }
  if (o.strict && (input_had_errors(stats) || no_host || too_large)) return kExitInput;
  return kExitOk;
}

}  // namespace vigil
