// EventReader: input dispatch, and the parallel EVTX path. EVTX chunks are
// independent (each has its own string and template tables), so groups of
// chunks are decoded on worker threads into their own batches; the reading
// thread hands the batches to the sink strictly in file order, so results
// never depend on the number of threads. At most a few groups per thread are
// decoded ahead of the sink, which bounds memory whatever the file size.
#include "ingest/event_reader.h"

#include <simdjson.h>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "core/document.h"
#include "core/worker_pool.h"
#include "ingest/archive_source.h"
#include "ingest/byte_source.h"
#include "ingest/event_xml.h"
#include "ingest/evtx_parser.h"
#include "ingest/ndjson_reader.h"
#include "ingest/windows_event.h"

namespace vigil {
namespace {

constexpr std::size_t kChunksPerGroup = 8;  // 512 KiB of EVTX per task
constexpr std::size_t kStreamBlock = 4u << 20;

enum class InputKind { Evtx, Xml, Json, Unknown };

// What an input holds, from its first bytes. Binary content that is neither
// EVTX nor UTF-16 XML (a pcap or an executable inside an archive: NUL bytes,
// which JSON text never has) is Unknown and reported once for the input
// instead of once per line. Text always goes to the JSON reader, which
// reports bad lines one by one and keeps the good ones.
InputKind detect(std::string_view head) {
  if (is_evtx(head)) return InputKind::Evtx;
  if (looks_like_event_xml(head)) return InputKind::Xml;
  if (head.substr(0, 4096).find('\0') != std::string_view::npos) return InputKind::Unknown;
  return InputKind::Json;
}

const char* kUnknownFormat = "not an event log format vigil reads (EVTX, event XML, JSON); input skipped";

// Turns decoded Windows events into events of a batch.
class WindowsEventSink {
 public:
  WindowsEventSink(const FieldRegistry& fields, const ReaderOptions& options) : fields_(fields), options_(options) {}

  // `values_in_batch`: the event's strings were decoded into batch.arena.
  void add(const WindowsEvent& windows_event, std::uint32_t input_index, std::uint64_t line, EventBatch& batch,
           bool values_in_batch = false) {
    builder_.reset(batch.arena);
    build_windows_document(windows_event, builder_, values_in_batch);
    Event event;
    event.document = builder_.finish();
    fill_event_fields(event.document, fields_, batch.arena, event, scratch_);
    set_event_timestamp(event, options_.timestamp_field.value_or(FieldRegistry::kTimestamp));
    event.input_index = input_index;
    event.line = line;
    batch.events.push_back(event);
  }

 private:
  const FieldRegistry& fields_;
  const ReaderOptions& options_;
  std::vector<PendingField> scratch_;
  Arena unused_{64};  // the builder always works in the batch's arena (reset in add)
  DocBuilder builder_{unused_};
};

// One group of EVTX chunks, decoded by a worker.
struct ChunkGroup {
  EventBatch batch;
  struct Issue {
    std::uint64_t offset;
    std::string reason;
    bool warning;
  };
  std::vector<Issue> issues;
};

}  // namespace

struct EventReader::Impl {
  const FieldRegistry& fields;
  ReaderOptions options;
  std::uint64_t next_ordinal = 0;
  NdjsonReader ndjson;

  Impl(const FieldRegistry& f, ReaderOptions o) : fields(f), options(o), ndjson(fields, options, next_ordinal) {}

  unsigned thread_count() const {
    unsigned n = options.threads ? options.threads : std::thread::hardware_concurrency();
    return std::max(1u, n);
  }

  // Hands a batch of Windows events to the sink, numbering them in order.
  bool emit(EventBatch& batch, const BatchSink& sink, ReadStats& stats) {
    if (batch.events.empty()) return true;
    for (Event& e : batch.events) e.ordinal = next_ordinal++;
    stats.events += batch.events.size();
    bool go_on = sink(batch);
    batch.clear();
    return go_on;
  }

  void decode_group(std::string_view data, std::span<const std::uint64_t> chunks, std::uint32_t input_index,
                    ChunkGroup& group, EvtxScratch& scratch) {
    WindowsEventSink out(fields, options);
    EvtxCallbacks cb;
    cb.on_record = [&](const WindowsEvent& e, std::uint64_t record_id, std::uint64_t) {
      out.add(e, input_index, record_id, group.batch, /*values_in_batch=*/true);
      return true;
    };
    cb.on_error = [&](std::uint64_t offset, std::string reason) {
      group.issues.push_back({offset, std::move(reason), false});
    };
    cb.on_warning = [&](std::uint64_t offset, std::string reason) {
      group.issues.push_back({offset, std::move(reason), true});
    };
    scratch.strings = &group.batch.arena;  // decoded strings go straight to the batch
    for (std::uint64_t offset : chunks) decode_evtx_chunk(data, offset, cb, scratch);
    scratch.strings = nullptr;
  }

  bool emit_group(ChunkGroup& group, const std::string& file, const BatchSink& sink, InputReport& report) {
    for (auto& issue : group.issues) {
      if (issue.warning) {
        report.warning(file, issue.offset, std::move(issue.reason));
      } else {
        report.skipped(file, 0, issue.offset, std::move(issue.reason));
      }
    }
    group.issues.clear();
    return emit(group.batch, sink, report.stats());
  }

  bool read_evtx(std::string_view data, std::uint32_t input_index, const std::string& file, const BatchSink& sink,
                 InputReport& report) {
    EvtxCallbacks file_cb;
    file_cb.on_error = [&](std::uint64_t offset, std::string reason) {
      report.skipped(file, 0, offset, std::move(reason));
    };
    file_cb.on_warning = [&](std::uint64_t offset, std::string reason) {
      report.warning(file, offset, std::move(reason));
    };
    std::vector<std::uint64_t> chunks = evtx_chunk_offsets(data, file_cb);
    std::size_t groups = (chunks.size() + kChunksPerGroup - 1) / kChunksPerGroup;
    auto chunks_of = [&](std::size_t g) {
      std::size_t first = g * kChunksPerGroup;
      return std::span<const std::uint64_t>(chunks).subspan(first, std::min(kChunksPerGroup, chunks.size() - first));
    };
    unsigned threads = std::min<std::size_t>(thread_count(), groups);
    if (threads <= 1) {
      ChunkGroup group;  // reused: its arena's pages stay mapped
      EvtxScratch scratch;
      for (std::size_t g = 0; g < groups; ++g) {
        decode_group(data, chunks_of(g), input_index, group, scratch);
        if (!emit_group(group, file, sink, report)) return false;
      }
      return true;
    }
    WorkerPool& workers = pool(threads);
    std::vector<std::unique_ptr<ChunkGroup>> results(groups);
    std::vector<std::unique_ptr<ChunkGroup>> spare;  // emitted groups, reused
    std::mutex mutex;
    std::condition_variable changed;
    std::size_t in_flight = 0;
    auto launch = [&](std::size_t g) {
      std::unique_ptr<ChunkGroup> group;
      if (!spare.empty()) {
        group = std::move(spare.back());
        spare.pop_back();
      } else {
        group = std::make_unique<ChunkGroup>();
      }
      ++in_flight;
      workers.submit([&, g, raw = group.release()] {
        std::unique_ptr<ChunkGroup> owned(raw);
        thread_local EvtxScratch scratch;  // per decoding thread, kept across files
        decode_group(data, chunks_of(g), input_index, *owned, scratch);
        std::lock_guard lock(mutex);
        results[g] = std::move(owned);
        --in_flight;
        changed.notify_all();
      });
    };
    // At most `ahead` groups are decoded ahead of the sink: memory stays
    // bounded whatever the file size.
    const std::size_t ahead = 2 * static_cast<std::size_t>(threads);
    std::size_t launched = 0;
    {
      std::lock_guard lock(mutex);
      for (; launched < std::min(ahead, groups); ++launched) launch(launched);
    }
    bool go_on = true;
    for (std::size_t g = 0; g < groups && go_on; ++g) {
      std::unique_ptr<ChunkGroup> group;
      {
        std::unique_lock lock(mutex);
        changed.wait(lock, [&] { return results[g] != nullptr; });
        group = std::move(results[g]);
      }
      go_on = emit_group(*group, file, sink, report);
      std::lock_guard lock(mutex);
      spare.push_back(std::move(group));
      if (go_on && launched < groups) launch(launched++);
    }
    // Jobs still running point at this frame: wait for them.
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return in_flight == 0; });
    return go_on;
  }

  WorkerPool& pool(unsigned threads) {
    if (!workers_ || workers_->size() != threads) workers_ = std::make_unique<WorkerPool>(threads);
    return *workers_;
  }
  std::unique_ptr<WorkerPool> workers_;  // started on the first parallel input, kept for the next

  bool read_xml(std::string_view data, std::uint32_t input_index, const std::string& file, const BatchSink& sink,
                InputReport& report) {
    WindowsEventSink out(fields, options);
    EventBatch batch;
    bool go_on = true;
    EventXmlCallbacks cb;
    cb.on_event = [&](const WindowsEvent& e, std::uint64_t number, std::uint64_t) {
      out.add(e, input_index, number, batch);
      if (batch.events.size() >= options.batch_size) go_on = emit(batch, sink, report.stats());
      return go_on;
    };
    cb.on_error = [&](std::uint64_t number, std::uint64_t offset, std::string reason) {
      report.skipped(file, number, offset, std::move(reason));
    };
    parse_event_xml(data, cb);
    return go_on && emit(batch, sink, report.stats());
  }

  // A whole input held in memory (an archive entry, a decompressed stream).
  bool read_buffer(std::string& data, std::uint32_t input_index, const std::string& file, const BatchSink& sink,
                   InputReport& report) {
    switch (detect(data)) {
      case InputKind::Evtx: return read_evtx(data, input_index, file, sink, report);
      case InputKind::Xml: return read_xml(data, input_index, file, sink, report);
      case InputKind::Unknown: report.failed_input(file, 0, kUnknownFormat); return true;
      case InputKind::Json: break;
    }
    std::size_t size = data.size();
    data.resize(size + simdjson::SIMDJSON_PADDING, ' ');
    return ndjson.read_contiguous(nullptr, {data.data(), size}, data.size(), input_index, file, sink, report);
  }

  bool read_file(const std::string& path, std::uint32_t input_index, const BatchSink& sink, InputReport& report) {
    auto source = open_byte_source(path);
    if (!source) {
      report.failed_input(path, 0, source.error().message);
      return true;
    }
    ByteSource& src = **source;
    std::string_view whole = src.contiguous();
    if (!whole.empty()) {  // mapped
      report.stats().bytes += whole.size();
      switch (detect(whole)) {
        case InputKind::Evtx: return read_evtx(whole, input_index, path, sink, report);
        case InputKind::Xml: return read_xml(whole, input_index, path, sink, report);
        case InputKind::Unknown: report.failed_input(path, 0, kUnknownFormat); return true;
        case InputKind::Json: break;
      }
      // The mapping is readable up to the end of its last page.
      std::size_t capacity = whole.size() % 4096 == 0 ? whole.size() : whole.size() + (4096 - whole.size() % 4096);
      return ndjson.read_contiguous(&src, whole, capacity, input_index, path, sink, report);
    }
    // Streams: peek enough to tell the kinds apart.
    std::string head;
    char block[4096];
    while (head.size() < 64 && head.find_first_not_of(" \t\r\n\xef\xbb\xbf") == std::string::npos) {
      auto n = src.read(block, sizeof(block));
      if (!n) {
        report.failed_input(path, head.size(), n.error().message);
        return true;
      }
      if (*n == 0) break;
      report.stats().bytes += *n;
      head.append(block, *n);
    }
    std::size_t first = head.find_first_not_of(" \t\r\n");
    bool json_array = first != std::string::npos && head[first] == '[';
    InputKind kind = detect(head);
    if (kind == InputKind::Unknown) {
      report.failed_input(path, 0, kUnknownFormat);
      return true;
    }
    if (kind == InputKind::Json && !json_array) return ndjson.read_stream(src, head, input_index, path, sink, report);
    // EVTX, XML and JSON arrays are decoded from memory.
    std::string all = std::move(head);
    for (;;) {
      std::size_t old = all.size();
      all.resize(old + kStreamBlock);
      auto n = src.read(all.data() + old, kStreamBlock);
      if (!n) {
        all.resize(old);
        report.failed_input(path, old, n.error().message);
        break;
      }
      all.resize(old + *n);
      report.stats().bytes += *n;
      if (*n == 0) break;
    }
    return read_buffer(all, input_index, path, sink, report);
  }
};

EventReader::EventReader(const FieldRegistry& fields, ReaderOptions options)
    : impl_(std::make_unique<Impl>(fields, options)) {}
EventReader::~EventReader() = default;

bool EventReader::decode_one(std::string_view text, Event& event, Arena& arena, std::string& reason) {
  return impl_->ndjson.decode_one(text, event, arena, reason);
}

bool EventReader::read(const std::string& path, std::uint32_t input_index, const BatchSink& sink, ReadStats& stats) {
  InputReport report(stats, impl_->options.max_diagnostics);
  std::error_code ec;
  if (path != "-" && std::filesystem::is_directory(path, ec)) {
    for (const auto& file : list_input_files(path)) {
      if (!read(file, input_index, sink, stats)) return false;
    }
    return true;
  }
  if (path != "-") {
    bool go_on = true;
    bool archive = read_archive(
        path,
        [&](const std::string& name, std::string& data) {
          stats.bytes += data.size();
          go_on = impl_->read_buffer(data, input_index, name, sink, report);
          return go_on;
        },
        [&](std::string reason) { report.failed_input(path, 0, std::move(reason)); });
    if (archive) return go_on;
  }
  return impl_->read_file(path, input_index, sink, report);
}

}  // namespace vigil
