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
#include <deque>
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
  std::unique_ptr<WindowsEventSink> sink;  // made on first use, then kept with the group
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
    if (!group.sink) group.sink = std::make_unique<WindowsEventSink>(fields, options);
    WindowsEventSink& out = *group.sink;
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
      for (std::size_t g = 0; g < groups; ++g) {
        decode_group(data, chunks_of(g), input_index, serial_group, serial_scratch);
        if (!emit_group(serial_group, file, sink, report)) return false;
      }
      return true;
    }
    WorkerPool& workers = pool(threads);
    std::vector<std::unique_ptr<ChunkGroup>> results(groups);
    std::vector<std::unique_ptr<ChunkGroup>>& spare = spare_groups;
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
  // Kept from file to file: their arenas' pages stay mapped (hundreds of
  // small files otherwise pay for mapping and unmapping them each time).
  ChunkGroup serial_group;
  EvtxScratch serial_scratch;
  std::vector<std::unique_ptr<ChunkGroup>> spare_groups;  // emitted groups, reused

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

// ---- many inputs: EVTX files decoded ahead, across file boundaries ----

namespace {
// An EVTX file whose chunk groups are in the pipeline; kept mapped until the
// last of them is emitted.
struct PipelinedFile {
  std::unique_ptr<ByteSource> source;
  std::string path;
  std::uint32_t input_index = 0;
  std::vector<std::uint64_t> chunks;
  std::vector<ChunkGroup::Issue> file_issues;  // from the file header, reported before its records
};
struct PipelineSlot {
  std::shared_ptr<PipelinedFile> file;
  std::size_t group = 0;  // which kChunksPerGroup chunks of the file
  std::unique_ptr<ChunkGroup> result;
};
}  // namespace

bool EventReader::read_all(const std::vector<std::string>& inputs, const BatchSink& sink, ReadStats& stats) {
  Impl& impl = *impl_;
  const unsigned threads = impl.thread_count();
  if (threads <= 1) {
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      if (!read(inputs[i], static_cast<std::uint32_t>(i), sink, stats)) return false;
    }
    return true;
  }
  // Hundreds of small EVTX files (one chunk each, as collected logs often
  // are) leave nothing to split inside a file: decode the next files while
  // this one is handed over. Output order is input order, as with read().
  InputReport report(stats, impl.options.max_diagnostics);
  WorkerPool& workers = impl.pool(threads);
  std::deque<std::unique_ptr<PipelineSlot>> slots;  // in output order
  std::mutex mutex;
  std::condition_variable changed;
  std::size_t in_flight = 0;
  std::size_t next_launch = 0;  // index into slots of the first not yet launched
  std::vector<std::unique_ptr<ChunkGroup>>& spare = impl.spare_groups;
  const std::size_t ahead = 4 * static_cast<std::size_t>(threads);
  bool go_on = true;

  auto launch_some = [&] {  // with mutex held
    while (next_launch < slots.size() && in_flight < ahead) {
      PipelineSlot* slot = slots[next_launch++].get();
      std::unique_ptr<ChunkGroup> group;
      if (!spare.empty()) {
        group = std::move(spare.back());
        spare.pop_back();
      } else {
        group = std::make_unique<ChunkGroup>();
      }
      ++in_flight;
      workers.submit([&, slot, raw = group.release()] {
        std::unique_ptr<ChunkGroup> owned(raw);
        thread_local EvtxScratch scratch;
        const PipelinedFile& f = *slot->file;
        std::size_t first = slot->group * kChunksPerGroup;
        auto chunks = std::span<const std::uint64_t>(f.chunks).subspan(first, std::min(kChunksPerGroup, f.chunks.size() - first));
        impl.decode_group(f.source->contiguous(), chunks, f.input_index, *owned, scratch);
        std::lock_guard lock(mutex);
        slot->result = std::move(owned);
        --in_flight;
        changed.notify_all();
      });
    }
  };
  // Hands over the front slot once decoded; false when there is none.
  auto emit_front = [&]() -> bool {
    std::unique_ptr<PipelineSlot> slot;
    {
      std::unique_lock lock(mutex);
      if (slots.empty()) return false;
      if (next_launch == 0) {  // never launched: the sink asked to stop
        slots.pop_front();
        return true;
      }
      changed.wait(lock, [&] { return slots.front()->result != nullptr; });
      slot = std::move(slots.front());
      slots.pop_front();
      --next_launch;
    }
    if (slot->group == 0) {
      for (auto& issue : slot->file->file_issues) {
        if (issue.warning) {
          report.warning(slot->file->path, issue.offset, std::move(issue.reason));
        } else {
          report.skipped(slot->file->path, 0, issue.offset, std::move(issue.reason));
        }
      }
    }
    if (go_on) go_on = impl.emit_group(*slot->result, slot->file->path, sink, report);
    std::lock_guard lock(mutex);
    spare.push_back(std::move(slot->result));
    if (go_on) launch_some();
    return true;
  };
  auto drain = [&] {
    while (emit_front()) {
    }
  };
  auto finish = [&] {
    drain();
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return in_flight == 0; });
  };

  std::vector<std::pair<std::string, std::uint32_t>> files;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    std::error_code ec;
    if (inputs[i] != "-" && std::filesystem::is_directory(inputs[i], ec)) {
      for (auto& f : list_input_files(inputs[i])) files.emplace_back(std::move(f), static_cast<std::uint32_t>(i));
    } else {
      files.emplace_back(inputs[i], static_cast<std::uint32_t>(i));
    }
  }
  for (const auto& [path, index] : files) {
    if (!go_on) break;
    std::unique_ptr<ByteSource> source;
    std::string_view whole;
    if (path != "-") {
      if (auto opened = open_byte_source(path)) {
        source = std::move(*opened);
        whole = source->contiguous();
      }
    }
    if (whole.empty() || detect(whole) != InputKind::Evtx) {
      // Anything but a mapped EVTX file: in order, after what is pending.
      finish();
      source.reset();
      if (go_on) go_on = read(path, index, sink, stats);
      continue;
    }
    auto file = std::make_shared<PipelinedFile>();
    file->path = path;
    file->input_index = index;
    report.stats().bytes += whole.size();
    EvtxCallbacks file_cb;
    file_cb.on_error = [&](std::uint64_t offset, std::string reason) {
      file->file_issues.push_back({offset, std::move(reason), false});
    };
    file_cb.on_warning = [&](std::uint64_t offset, std::string reason) {
      file->file_issues.push_back({offset, std::move(reason), true});
    };
    file->chunks = evtx_chunk_offsets(whole, file_cb);
    file->source = std::move(source);
    const std::size_t groups = std::max<std::size_t>(1, (file->chunks.size() + kChunksPerGroup - 1) / kChunksPerGroup);
    for (std::size_t g = 0; g < groups; ++g) {
      auto slot = std::make_unique<PipelineSlot>();
      slot->file = file;
      slot->group = g;
      std::lock_guard lock(mutex);
      slots.push_back(std::move(slot));
      launch_some();
    }
    // Keep at most `ahead` groups decoded or decoding beyond the front.
    while (go_on && slots.size() > ahead) emit_front();
  }
  finish();
  return go_on;
}

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
