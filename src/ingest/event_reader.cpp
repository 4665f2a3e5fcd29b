// EventReader: input dispatch, and the parallel EVTX path. EVTX chunks are
// independent (each has its own string and template tables), so groups of
// chunks are decoded on worker threads into their own batches; the reading
// thread hands the batches to the sink strictly in file order, so results
// never depend on the number of threads. At most a few groups per thread are
// decoded ahead of the sink, which bounds memory whatever the file size.
#include "ingest/event_reader.h"

#include <charconv>

#include <simdjson.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <vector>

#include "core/document.h"
#include "core/text.h"
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

enum class InputKind { Evtx, Xml, Json, Utf16Json, Unknown };

// What an input holds, from its first bytes. Binary content that is neither
// EVTX nor UTF-16 XML or JSON (a pcap or an executable inside an archive: NUL
// bytes, which UTF-8 JSON text never has) is Unknown and reported once for
// the input instead of once per line. Text always goes to the JSON reader,
// which reports bad lines one by one and keeps the good ones.
InputKind detect(std::string_view head) {
  if (is_evtx(head)) return InputKind::Evtx;
  if (looks_like_event_xml(head)) return InputKind::Xml;
  if (head.starts_with("\xFF\xFE")) {  // UTF-16LE after its byte order mark
    const char first = first_significant(utf16le_to_utf8(head.substr(2, 256)));
    if (first == '{' || first == '[') return InputKind::Utf16Json;
  }
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
           std::string_view file, SourceUnit unit, std::uint64_t offset = 0, bool values_in_batch = false) {
    builder_.reset(batch.arena);
    build_windows_document(windows_event, builder_, values_in_batch);
    Event event;
    event.document = builder_.finish();
    fill_event_fields(event.document, fields_, batch.arena, event, scratch_);
    set_event_timestamp(event, options_.timestamp_field.value_or(FieldRegistry::kTimestamp));
    event.input_index = input_index;
    event.line = line;
    event.unit = unit;
    event.file = file;
    event.offset = offset;
    // EVTX: the EventRecordID the record states (Event Viewer's, winlog.record_id), else the header's.
    if (unit == SourceUnit::Record) {
      std::uint64_t id = 0;
      const std::string_view text = windows_event.record_id;
      if (!text.empty() && std::from_chars(text.data(), text.data() + text.size(), id).ec == std::errc()) event.line = id;
    }
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
// Damage found while decoding, reported with its file once handed on.
struct ChunkIssue {
  std::uint64_t offset;
  std::string reason;
  bool warning;
};

void report_issues(std::vector<ChunkIssue>& issues, const std::string& file, InputReport& report) {
  for (auto& issue : issues) {
    if (issue.warning) {
      report.warning(file, issue.offset, std::move(issue.reason));
    } else {
      report.skipped(file, 0, issue.offset, std::move(issue.reason));
    }
  }
  issues.clear();
}

// The chunks of group `g` (kChunksPerGroup of them, fewer at the end).
std::span<const std::uint64_t> chunks_of(const std::vector<std::uint64_t>& chunks, std::size_t g) {
  const std::size_t first = std::min(g * kChunksPerGroup, chunks.size());
  return std::span<const std::uint64_t>(chunks).subspan(first, std::min(kChunksPerGroup, chunks.size() - first));
}

struct ChunkGroup {
  EventBatch batch;
  std::unique_ptr<WindowsEventSink> sink;  // made on first use, then kept with the group
  std::vector<ChunkIssue> issues;
};

}  // namespace

struct EventReader::Impl {
  const FieldRegistry& fields;
  ReaderOptions options;
  std::uint64_t next_ordinal = 0;
  NdjsonReader ndjson;

  Impl(const FieldRegistry& f, ReaderOptions o) : fields(f), options(o), ndjson(fields, options, next_ordinal) {}

  unsigned thread_count() const { return resolve_threads(options.threads); }

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
                    std::string_view file, ChunkGroup& group, EvtxScratch& scratch) {
    if (!group.sink) group.sink = std::make_unique<WindowsEventSink>(fields, options);
    WindowsEventSink& out = *group.sink;
    EvtxCallbacks cb;
    cb.on_record = [&](const WindowsEvent& e, std::uint64_t record_id, std::uint64_t offset) {
      out.add(e, input_index, record_id, group.batch, file, SourceUnit::Record, offset, /*values_in_batch=*/true);
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
    report_issues(group.issues, file, report);
    return emit(group.batch, sink, report.stats());
  }

  bool read_evtx(std::string_view data, std::uint32_t input_index, const std::string& file, const BatchSink& sink,
                 InputReport& report);

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
      out.add(e, input_index, number, batch, file, SourceUnit::Element);
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
      case InputKind::Utf16Json: return read_utf16_json(data, input_index, file, sink, report);
      case InputKind::Unknown: report.failed_input(file, 0, kUnknownFormat); return true;
      case InputKind::Json: break;
    }
    std::size_t size = data.size();
    data.resize(size + simdjson::SIMDJSON_PADDING, ' ');
    return ndjson.read_contiguous(nullptr, {data.data(), size}, data.size(), input_index, file, sink, report);
  }

  // JSON saved as UTF-16LE (what Windows PowerShell 5's `>` and Out-File
  // write by default), converted to UTF-8 whole and read as any JSON: the
  // offsets of its diagnostics count bytes of the converted text.
  bool read_utf16_json(std::string_view data, std::uint32_t input_index, const std::string& file,
                       const BatchSink& sink, InputReport& report) {
    std::string text = utf16le_to_utf8(data.substr(2));
    return read_buffer(text, input_index, file, sink, report);
  }

  bool read_file(const std::string& path, std::uint32_t input_index, const BatchSink& sink, InputReport& report) {
    auto source = open_byte_source(path, options.stream_json_files);
    if (!source) {
      report.failed_input(path, 0, source.error().message);
      return true;
    }
    return read_source(path, **source, input_index, sink, report);
  }

  // An input already opened (not an archive).
  bool read_source(const std::string& path, ByteSource& src, std::uint32_t input_index, const BatchSink& sink,
                   InputReport& report) {
    std::string_view whole = src.contiguous();
    if (!whole.empty()) {  // mapped
      report.stats().bytes += whole.size();
      return read_mapped(path, src, input_index, sink, report);
    }
    // Streams: peek enough to tell the kinds apart. A read may return a few
    // bytes only (a pipe, the replayed magic of a peeked stream): JSON is
    // known from its first byte, and a live NDJSON stream must not wait for
    // more; anything else reads on to 512 bytes (EVTX and UTF-16 XML need more
    // than four to be told apart).
    std::string head;
    char block[4096];
    auto known = [&head] {
      const char first = first_significant(head);
      return head.size() >= 512 || first == '{' || first == '[';
    };
    bool ended = false;
    auto read_more = [&] {  // one read into head; false when it failed (reported)
      auto n = src.read(block, sizeof(block));
      if (!n) {
        report.failed_input(path, head.size(), n.error().message);
        return false;
      }
      ended = *n == 0;
      report.stats().bytes += *n;
      head.append(block, *n);
      return true;
    };
    while (!known() && !ended) {
      if (!read_more()) return true;
    }
    const bool json_array = first_significant(head) == '[';
    InputKind kind = detect(head);
    if (kind == InputKind::Unknown) {
      report.failed_input(path, 0, kUnknownFormat);
      return true;
    }
    if (kind == InputKind::Json && !json_array) {
      // NDJSON, unless its first document goes on past its first line (read
      // whole, like an array): wait for that line (it comes before anything
      // of the stream can be decoded anyway), to 4 MB.
      while (!ended && head.find('\n') == std::string::npos && head.size() < kStreamBlock) {
        if (!read_more()) return true;
      }
      if (NdjsonReader::line_delimited(head)) return ndjson.read_stream(src, head, input_index, path, sink, report);
    }
    // EVTX, XML, JSON arrays and documents over several lines are decoded whole: from memory up to
    // options.spool_bytes, beyond that from a temporary file, mapped (a
    // compressed EVTX file or stdin of any size in bounded memory).
    std::string all = std::move(head);
    std::uint64_t offset = all.size();
    std::optional<SpillFile> spool;
    try {
      for (;;) {
        if (!spool && all.size() > options.spool_bytes) spool.emplace();  // longer than the budget
        if (spool) {
          spool->append(all);
          all.clear();
        }
        std::size_t old = all.size();
        all.resize(old + kStreamBlock);
        auto n = src.read(all.data() + old, kStreamBlock);
        if (!n) {
          all.resize(old);
          report.failed_input(path, offset, n.error().message);
          break;
        }
        all.resize(old + *n);
        offset += *n;
        report.stats().bytes += *n;
        if (*n == 0) break;
      }
      if (!spool) return read_buffer(all, input_index, path, sink, report);
      spool->append(all);
    } catch (const std::system_error& e) {
      report.failed_input(path, offset, spool_failure(e));
      return true;
    }
    return read_spilled(path, *spool, input_index, sink, report);
  }

  // A stream spooled to `spool`, mapped.
  bool read_spilled(const std::string& path, const SpillFile& spool, std::uint32_t input_index, const BatchSink& sink,
                    InputReport& report) {
    auto mapped = open_spilled(spool);
    if (!mapped || (*mapped)->contiguous().empty()) {
      report.failed_input(path, 0, mapped ? "empty input" : mapped.error().message);
      return true;
    }
    return read_mapped(path, **mapped, input_index, sink, report);
  }

  // A contiguous input (a mapping), by its kind.
  bool read_mapped(const std::string& path, ByteSource& src, std::uint32_t input_index, const BatchSink& sink,
                   InputReport& report) {
    const std::string_view whole = src.contiguous();
    switch (detect(whole)) {
      case InputKind::Evtx: return read_evtx(whole, input_index, path, sink, report);
      case InputKind::Xml: return read_xml(whole, input_index, path, sink, report);
      case InputKind::Utf16Json: return read_utf16_json(whole, input_index, path, sink, report);
      case InputKind::Unknown: report.failed_input(path, 0, kUnknownFormat); return true;
      case InputKind::Json: break;
    }
    // The mapping is readable up to the end of its last page.
    std::size_t capacity = whole.size() % 4096 == 0 ? whole.size() : whole.size() + (4096 - whole.size() % 4096);
    return ndjson.read_contiguous(&src, whole, capacity, input_index, path, sink, report);
  }
};

// ---- EVTX chunk groups decoded ahead on worker threads ----

namespace {
// An EVTX file whose chunk groups are in a pipeline; its bytes (and the
// mapping, when the pipeline owns it) stay until the last group is handed on.
struct PipelinedFile {
  std::unique_ptr<ByteSource> source;  // may be null: `data` then belongs to the caller
  std::string_view data;
  std::string path;
  std::uint32_t input_index = 0;
  std::vector<std::uint64_t> chunks;
  std::vector<ChunkIssue> file_issues;  // from the file header, reported before its records
};
}  // namespace

// Chunk groups of one or more files, decoded on the reader's workers (at
// most `ahead` in flight or done) and handed to the sink strictly in the
// order they were added: results never depend on the thread count.
class EvtxPipeline {
 public:
  EvtxPipeline(EventReader::Impl& impl, const BatchSink& sink, InputReport& report, unsigned threads)
      : impl_(impl), sink_(sink), report_(report), workers_(impl.pool(threads)), ahead_(4 * std::size_t{threads}) {}
  EvtxPipeline(const EvtxPipeline&) = delete;
  EvtxPipeline& operator=(const EvtxPipeline&) = delete;
  ~EvtxPipeline() { finish(); }

  // Queues every chunk group of `file`, handing on what is due.
  void add(const std::shared_ptr<PipelinedFile>& file) {
    const std::size_t groups = std::max<std::size_t>(1, (file->chunks.size() + kChunksPerGroup - 1) / kChunksPerGroup);
    for (std::size_t g = 0; g < groups && go_on_; ++g) {
      {
        std::lock_guard lock(mutex_);
        slots_.push_back(std::make_unique<Slot>(Slot{file, g, nullptr}));
        launch_some();
      }
      while (go_on_ && slots_.size() > ahead_) emit_front();
    }
  }
  // Hands on everything queued and waits for the workers; false when the sink asked to stop.
  bool finish() {
    while (emit_front()) {
    }
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return in_flight_ == 0; });
    return go_on_;
  }
  bool go_on() const { return go_on_; }

 private:
  struct Slot {
    std::shared_ptr<PipelinedFile> file;
    std::size_t group;  // which kChunksPerGroup chunks of the file
    std::unique_ptr<ChunkGroup> result;
  };

  void launch_some() {  // with mutex_ held
    while (next_launch_ < slots_.size() && in_flight_ < ahead_) {
      Slot* slot = slots_[next_launch_++].get();
      std::unique_ptr<ChunkGroup> group;
      if (!impl_.spare_groups.empty()) {
        group = std::move(impl_.spare_groups.back());
        impl_.spare_groups.pop_back();
      } else {
        group = std::make_unique<ChunkGroup>();
      }
      ++in_flight_;
      workers_.submit([this, slot, raw = group.release()] {
        std::unique_ptr<ChunkGroup> owned(raw);
        thread_local EvtxScratch scratch;  // per decoding thread, kept across files
        const PipelinedFile& f = *slot->file;
        impl_.decode_group(f.data, chunks_of(f.chunks, slot->group), f.input_index, f.path, *owned, scratch);
        std::lock_guard lock(mutex_);
        slot->result = std::move(owned);
        --in_flight_;
        changed_.notify_all();
      });
    }
  }

  // Hands on the front slot once decoded; false when there is none.
  bool emit_front() {
    std::unique_ptr<Slot> slot;
    {
      std::unique_lock lock(mutex_);
      if (slots_.empty()) return false;
      if (next_launch_ == 0) {  // never launched: the sink asked to stop
        slots_.pop_front();
        return true;
      }
      changed_.wait(lock, [&] { return slots_.front()->result != nullptr; });
      slot = std::move(slots_.front());
      slots_.pop_front();
      --next_launch_;
    }
    PipelinedFile& file = *slot->file;
    if (slot->group == 0) report_issues(file.file_issues, file.path, report_);
    if (go_on_) go_on_ = impl_.emit_group(*slot->result, file.path, sink_, report_);
    std::lock_guard lock(mutex_);
    impl_.spare_groups.push_back(std::move(slot->result));
    if (go_on_) launch_some();
    return true;
  }

  EventReader::Impl& impl_;
  const BatchSink& sink_;
  InputReport& report_;
  WorkerPool& workers_;
  const std::size_t ahead_;
  std::deque<std::unique_ptr<Slot>> slots_;  // in output order
  std::size_t next_launch_ = 0;              // index into slots_ of the first not yet launched
  std::size_t in_flight_ = 0;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool go_on_ = true;
};

namespace {
// The chunks of an EVTX file; damage in its header goes to the file's issues.
std::shared_ptr<PipelinedFile> pipelined_file(std::string_view data, std::string path, std::uint32_t input_index) {
  auto file = std::make_shared<PipelinedFile>();
  file->data = data;
  file->path = std::move(path);
  file->input_index = input_index;
  EvtxCallbacks cb;
  cb.on_error = [&](std::uint64_t offset, std::string reason) {
    file->file_issues.push_back({offset, std::move(reason), false});
  };
  cb.on_warning = [&](std::uint64_t offset, std::string reason) {
    file->file_issues.push_back({offset, std::move(reason), true});
  };
  file->chunks = evtx_chunk_offsets(data, cb);
  return file;
}
}  // namespace

bool EventReader::Impl::read_evtx(std::string_view data, std::uint32_t input_index, const std::string& file,
                                  const BatchSink& sink, InputReport& report) {
  std::shared_ptr<PipelinedFile> f = pipelined_file(data, file, input_index);
  if (thread_count() <= 1 || f->chunks.size() <= kChunksPerGroup) {
    // One group (or one thread): decode on this thread, reusing one group.
    report_issues(f->file_issues, file, report);
    for (std::size_t g = 0; g * kChunksPerGroup < f->chunks.size(); ++g) {
      decode_group(data, chunks_of(f->chunks, g), input_index, file, serial_group, serial_scratch);
      if (!emit_group(serial_group, file, sink, report)) return false;
    }
    return true;
  }
  EvtxPipeline pipeline(*this, sink, report, thread_count());
  pipeline.add(f);
  return pipeline.finish();
}

bool EventReader::read_all(const std::vector<std::string>& inputs, const BatchSink& sink, ReadStats& stats) {
  Impl& impl = *impl_;
  if (impl.thread_count() <= 1) {
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      if (!read(inputs[i], static_cast<std::uint32_t>(i), sink, stats)) return false;
    }
    return true;
  }
  // Hundreds of small EVTX files (one chunk each, as collected logs often
  // are) leave nothing to split inside a file: decode the next files while
  // this one is handed over. Output order is input order, as with read().
  InputReport report(stats, impl.options.max_diagnostics);
  EvtxPipeline pipeline(impl, sink, report, impl.thread_count());
  std::vector<std::pair<std::string, std::uint32_t>> files;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    std::error_code ec;
    if (inputs[i] != "-" && std::filesystem::is_directory(inputs[i], ec)) {
      for (auto& f : list_input_files(inputs[i])) files.emplace_back(std::move(f), static_cast<std::uint32_t>(i));
    } else {
      files.emplace_back(inputs[i], static_cast<std::uint32_t>(i));
    }
  }
  bool go_on = true;
  std::error_code ec;
  for (const auto& [path, index] : files) {
    std::unique_ptr<ByteSource> source;
    std::string_view whole;
    if (path != "-") {
      if (auto opened = open_byte_source(path, impl.options.stream_json_files)) {
        source = std::move(*opened);
        whole = source->contiguous();
      }
    }
    if (whole.empty() || detect(whole) != InputKind::Evtx) {
      // Anything but a mapped EVTX file: in order, after what is pending. A
      // mapped file that cannot be an archive is read as it was opened, and
      // so is a stream that cannot be one: an uncompressed one (a regular
      // file is then NDJSON starting with '{') or any FIFO or device, whose
      // bytes come once and are never looked into for archives.
      go_on = pipeline.finish();
      const bool plain = source && (whole.empty() ? source->compression() == Compression::None ||
                                                        !std::filesystem::is_regular_file(path, ec)
                                                  : !may_be_archive(whole));
      if (go_on && plain) {
        InputReport file_report(stats, impl.options.max_diagnostics);
        go_on = impl.read_source(path, *source, index, sink, file_report);
      } else if (go_on) {
        source.reset();
        go_on = read(path, index, sink, stats);
      }
    } else {
      report.stats().bytes += whole.size();
      std::shared_ptr<PipelinedFile> file = pipelined_file(whole, path, index);
      file->source = std::move(source);
      pipeline.add(file);
      go_on = pipeline.go_on();
    }
    if (!go_on) break;
  }
  return pipeline.finish() && go_on;
}

EventReader::EventReader(const FieldRegistry& fields, ReaderOptions options)
    : impl_(std::make_unique<Impl>(fields, options)) {}
EventReader::~EventReader() = default;

bool EventReader::decode_one(std::string_view text, Event& event, Arena& arena, std::string& reason) {
  return impl_->ndjson.decode_one(text, event, arena, reason);
}

bool EventReader::read_bytes(std::string& data, std::uint32_t input_index, const std::string& name,
                             const BatchSink& sink, ReadStats& stats) {
  InputReport report(stats, impl_->options.max_diagnostics);
  stats.bytes += data.size();
  return impl_->read_buffer(data, input_index, name, sink, report);
}

bool EventReader::read_spilled(const SpillFile& file, std::uint32_t input_index, const std::string& name,
                               const BatchSink& sink, ReadStats& stats) {
  InputReport report(stats, impl_->options.max_diagnostics);
  stats.bytes += file.size();
  return impl_->read_spilled(name, file, input_index, sink, report);
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
