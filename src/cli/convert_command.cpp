// `vigil convert`: reads inputs through the same EventReader as every other
// command and writes each event's document. Windows events come out as
// winlogbeat/ECS documents; JSON inputs come out as they are. A file output
// is written atomically (complete or not at all). At the end, stderr says
// how many events had no ECS mapping, per provider and event ID, so nothing
// is left unmapped silently.
#include "cli/convert_command.h"
#include "core/text.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <map>
#include <optional>

#include "cli/event_output.h"
#include "cli/exit_codes.h"
#include "cli/input_diagnostics.h"
#include "core/atomic_file.h"
#include "core/document.h"
#include "ingest/event_reader.h"

namespace vigil {

void add_convert_command(CLI::App& app, ConvertOptions& o) {
  auto* cmd = app.add_subcommand("convert", "Convert inputs to normalized ECS NDJSON (one event per source record)");
  cmd->add_option("inputs", o.inputs,
                  "Inputs: EVTX, event XML, NDJSON/JSON (also .gz/.zst), archives, directories; '-' for stdin")
      ->required();
  cmd->add_option("-o,--output", o.output, "Output file ('-' for stdout); written atomically")->capture_default_str();
  cmd->add_flag("--strict", o.strict, "Exit 3 if any record is malformed or any input unreadable");
  cmd->add_flag("--source", o.source,
                "Add vigil.source to each document: its file and EVTX record id (with byte offset) or line, as alerts name it");
  cmd->add_option("--threads", o.threads, "Decoding threads: EVTX chunks and files, NDJSON lines (0 = one per core)")->capture_default_str();
  cmd->footer("Exit codes: 0 ok, 2 usage error or unwritable output, 3 malformed/unreadable input with --strict.");
}

int run_convert_command(const ConvertOptions& o) {
  FieldRegistry fields;
  const EcsDocumentWriter ecs(fields);
  ReaderOptions ropts;
  ropts.threads = o.threads;
  EventReader reader(fields, ropts);

  std::optional<AtomicFile> file;
  if (!open_output(o.output, file)) return kExitUsage;
  std::uint64_t written = 0;
  std::map<std::string, std::uint64_t> unmapped;  // "provider event_id" → count
  {
    OutputBuffer out(file ? file->stream() : stdout);
    std::string& line = out.buffer();
    auto sink = [&](EventBatch& batch) {
      for (const Event& e : batch.events) {
        ecs.append(line, e, o.source);
        out.line_done();
        ++written;
        if (e.get(ecs.category()).is_null() && e.get(ecs.provider()).is_text()) {
          std::string key(e.get(ecs.provider()).as_string());
          key += ' ';
          if (e.get(ecs.event_id()).is_text()) key += e.get(ecs.event_id()).as_string();
          ++unmapped[key];
        }
      }
      return true;
    };
    ReadStats stats;
    reader.read_all(o.inputs, sink, stats);
    out.flush();
    print_diagnostics(stats);
    std::fprintf(stderr, "vigil: %llu event(s) written", static_cast<unsigned long long>(written));
    std::uint64_t total_unmapped = 0;
    for (const auto& [k, n] : unmapped) total_unmapped += n;
    if (total_unmapped == 0) {
      std::fprintf(stderr, "; every Windows event has an ECS mapping\n");
    } else {
      std::fprintf(stderr, "; %llu Windows event(s) kept with winlog.* fields only (no ECS mapping for them):\n",
                   static_cast<unsigned long long>(total_unmapped));
      for (const auto& [k, n] : unmapped) {
        std::fprintf(stderr, "  %8llu  %s\n", static_cast<unsigned long long>(n), printable(k).c_str());
      }
    }
    if (o.strict && input_had_errors(stats)) return kExitInput;  // the temporary file is removed
  }
  if (!commit_output(file)) return kExitUsage;
  return kExitOk;
}

}  // namespace vigil
