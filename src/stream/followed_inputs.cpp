// FollowedInputs implementation: polling with pread/fstat, no inotify, so
// it behaves the same on every file system (NFS and bind mounts included).
#include "stream/followed_inputs.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include "core/text.h"
#include "ingest/archive_source.h"
#include "ingest/byte_source.h"

namespace vigil {
namespace {

// What a checkpoint keeps of a followed file.
struct TailPosition {
  std::string path;
  std::uint64_t dev = 0, ino = 0;
  std::uint64_t offset = 0, line = 0;
  bool drain_only = false;
};
auto members(Unqualified<TailPosition> auto& p) {
  return std::tie(p.path, p.dev, p.ino, p.offset, p.line, p.drain_only);
}

std::string identity(const struct stat& st) {
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
         std::to_string(st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec);
}

// Whether input whose first bytes are `head` is NDJSON, read line by line as
// it grows: its first significant byte opens an object that ends on its line
// (NdjsonReader::line_delimited). Anything else is read whole once complete.
bool ndjson_lines(std::string_view head) {
  return first_significant(head) == '{' && NdjsonReader::line_delimited(head);
}

// A plain NDJSON file, from its first bytes.
bool plain_ndjson(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char head[256];
  ssize_t n = ::read(fd, head, sizeof head);
  ::close(fd);
  return n > 0 && ndjson_lines({head, static_cast<std::size_t>(n)});
}

constexpr std::size_t kPadding = 64;
constexpr std::size_t kStreamRead = 1 << 20;  // per read() of a stream read whole

}  // namespace

struct FollowedInputs::Tail {
  std::string path;
  std::uint32_t input_index = 0;
  // stdin, a FIFO or a device: read as it comes, to its end (never by offset).
  bool stream = false;
  // A stream or named file that does not start like NDJSON (EVTX, event XML,
  // a JSON array, a compressed file, an archive): read whole by the
  // EventReader, a file once it is complete and once per identity.
  bool whole = false;
  std::string settle_id;   // whole file: identity seen, and since when
  std::int64_t since = 0;
  std::string read_as;     // whole file: identity last read
  bool drain_only = false;  // a rotated file found at restart: read to its end, then dropped
  bool done = false;
  int fd = -1;
  std::uint64_t dev = 0, ino = 0;  // of the file being read (0: none yet)
  std::uint64_t offset = 0, line = 0;
  std::size_t want = 0;  // bytes to read at once (grows for one long line)
  bool skipping = false;  // inside a line longer than max_document_bytes
  std::string pending;    // a stream: bytes after the last '\n' (all of it when read whole)
  // A stream read whole, past ReaderOptions::spool_bytes: what came so far
  // (pending then holds only what came since).
  std::unique_ptr<SpillFile> spool;
  ~Tail() {
    if (fd >= 0 && fd != STDIN_FILENO) ::close(fd);
  }
  // Bytes written that are still to be read.
  bool unread() const {
    if (stream || whole) return !done;
    struct stat st {};
    return fd >= 0 && !skipping && ::fstat(fd, &st) == 0 && static_cast<std::uint64_t>(st.st_size) > offset;
  }
};

struct FollowedInputs::Directory {
  std::string path;
  struct Seen {
    std::string identity;
    std::int64_t since;
  };
  std::map<std::string, Seen> settling;        // path → identity and when it was first seen so
  std::map<std::string, std::string> read_as;  // path → identity it was read with
};

FollowedInputs::FollowedInputs(std::vector<std::string> paths, const FieldRegistry& fields, ReaderOptions reader,
                               FollowOptions options)
    : paths_(std::move(paths)), fields_(fields), reader_options_(reader), options_(options),
      reader_(std::make_unique<EventReader>(fields, reader)),
      ndjson_(std::make_unique<NdjsonReader>(fields, reader_options_, scratch_ordinal_)) {
  ndjson_->learn_local_times(false);
  for (std::size_t i = 0; i < paths_.size(); ++i) {
    const std::string& p = paths_[i];
    std::error_code ec;
    if (p != "-" && std::filesystem::is_directory(p, ec)) {
      auto d = std::make_unique<Directory>();
      d->path = p;
      directories_.push_back(std::move(d));
      continue;
    }
    auto t = std::make_unique<Tail>();
    t->path = p;
    t->input_index = static_cast<std::uint32_t>(i);
    struct stat st {};
    t->stream = p == "-" || (::stat(p.c_str(), &st) == 0 && !S_ISREG(st.st_mode));
    if (p == "-") t->fd = STDIN_FILENO;
    tails_.push_back(std::move(t));
  }
}

FollowedInputs::~FollowedInputs() = default;

FollowedInputs::Tail& FollowedInputs::add_tail(std::string path, bool drain_only) {
  auto t = std::make_unique<Tail>();
  t->path = std::move(path);
  t->input_index = static_cast<std::uint32_t>(paths_.size() + tails_.size());
  t->drain_only = drain_only;
  tails_.push_back(std::move(t));
  return *tails_.back();
}

bool FollowedInputs::forward(EventBatch& batch, const BatchSink& sink) {
  for (Event& e : batch.events) e.ordinal = next_ordinal_++;
  return sink(batch);
}

std::uint64_t FollowedInputs::decode_lines(Tail& t, std::string_view lines, const BatchSink& sink, ReadStats& stats) {
  // `lines` lies in buffer_ with room after it: the padding simdjson reads
  // holds spaces, as after a mapped file's last line.
  const std::size_t len = lines.size();
  std::memset(buffer_.data() + len, ' ', kPadding);
  const std::size_t diagnostics_before = stats.diagnostics.size();
  const std::uint64_t events_before = stats.events;
  InputReport report(stats, reader_options_.max_diagnostics);
  const std::uint64_t base_line = t.line;
  ndjson_->read_contiguous(nullptr, std::string_view(buffer_.data(), len), len + kPadding, t.input_index, t.path,
                           [&](EventBatch& batch) {
                             for (Event& e : batch.events) e.line += base_line;
                             return forward(batch, sink);
                           },
                           report);
  for (std::size_t i = diagnostics_before; i < stats.diagnostics.size(); ++i) {
    stats.diagnostics[i].line += base_line;
    stats.diagnostics[i].offset += t.offset;
  }
  t.line += static_cast<std::uint64_t>(std::count(lines.begin(), lines.end(), '\n'));
  t.offset += len;
  return stats.events - events_before;
}

std::uint64_t FollowedInputs::read_whole(Tail& t, std::int64_t now_ns, const BatchSink& sink, ReadStats& stats) {
  if (t.fd >= 0) {
    ::close(t.fd);
    t.fd = -1;
  }
  t.dev = t.ino = 0;  // not a position to checkpoint: done_ keeps what was read
  struct stat st {};
  if (::stat(t.path.c_str(), &st) != 0) return 0;
  const std::string id = identity(st);
  if (done_.count(id)) {
    t.done = !options_.follow;
    return 0;
  }
  if (options_.follow) {  // complete once unchanged for settle_ns; without --follow it is complete now
    if (t.settle_id != id) {
      t.settle_id = id;
      t.since = now_ns;
      return 0;
    }
    if (now_ns - t.since < options_.settle_ns) return 0;
  }
  if (!t.read_as.empty()) {
    InputReport(stats, reader_options_.max_diagnostics)
        .warning(t.path, 0, "the file changed after it was read (replaced or rewritten): reading it again whole");
  }
  const std::uint64_t before = stats.events;
  reader_->read(t.path, t.input_index, [&](EventBatch& b) { return forward(b, sink); }, stats);
  done_.insert(id);
  t.read_as = id;
  t.done = !options_.follow;
  return stats.events - before;
}

bool FollowedInputs::spool_pending(Tail& t, ReadStats& stats) {
  try {
    if (!t.spool) t.spool = std::make_unique<SpillFile>();
    t.spool->append(t.pending);
    t.pending.clear();
    return true;
  } catch (const std::system_error& e) {
    InputReport(stats, reader_options_.max_diagnostics)
        .failed_input(t.path, t.spool ? t.spool->size() : 0, spool_failure(e));
    t.spool.reset();
    t.pending = std::string();
    t.done = true;
    if (t.fd >= 0 && t.fd != STDIN_FILENO) {  // its writer is not left waiting on a full pipe
      ::close(t.fd);
      t.fd = -1;
    }
    return false;
  }
}

std::uint64_t FollowedInputs::read_tail(Tail& t, std::int64_t now_ns, const BatchSink& sink, ReadStats& stats) {
  if (t.done) return 0;
  if (t.whole && !t.stream) return read_whole(t, now_ns, sink, stats);
  if (t.want == 0) t.want = options_.max_read_bytes;
  std::uint64_t events = 0;
  if (t.stream) {
    if (t.fd < 0) {
      // A FIFO: opened when first polled (waiting for its writer, as `cat` does).
      t.fd = ::open(t.path.c_str(), O_RDONLY | O_CLOEXEC);
      if (t.fd < 0) {
        InputReport(stats, reader_options_.max_diagnostics).failed_input(t.path, 0, std::strerror(errno));
        t.done = true;
        return 0;
      }
    }
    // Everything the pipe holds now, up to one read's worth: a pipe hands out
    // 64 KB per read(), far less than a poll's worth at full speed. A stream
    // read whole reads on to its end.
    std::size_t got = 0;
    while (got < options_.max_read_bytes || t.whole) {
      struct pollfd p {t.fd, POLLIN, 0};
      if (::poll(&p, 1, t.whole ? -1 : 0) <= 0) break;
      const std::size_t room = std::max(options_.max_read_bytes - std::min(got, options_.max_read_bytes), kStreamRead);
      const std::size_t had = t.pending.size();
      t.pending.resize(had + room);
      ssize_t n = ::read(t.fd, t.pending.data() + had, room);
      if (n < 0 && errno == EINTR) n = 0;
      t.pending.resize(had + static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
      if (n <= 0) {
        t.done = true;
        if (!t.whole) t.pending.push_back('\n');  // a last line without its '\n'
        break;
      }
      got += static_cast<std::size_t>(n);
      // Decided by the first bytes written: NDJSON lines as they come, anything else whole.
      if (!t.whole && t.line == 0 && t.offset == 0) {
        t.whole = first_significant(t.pending) != 0 && !ndjson_lines(t.pending);
      }
      if (t.whole && (t.spool || t.pending.size() > reader_options_.spool_bytes) && !spool_pending(t, stats)) return 0;
    }
    if (t.whole) {
      if (!t.done) return 0;
      const std::uint64_t before = stats.events;
      auto forward_to_sink = [&](EventBatch& b) { return forward(b, sink); };
      if (t.spool) {
        if (spool_pending(t, stats)) reader_->read_spilled(*t.spool, t.input_index, t.path, forward_to_sink, stats);
        t.spool.reset();
      } else {
        reader_->read_bytes(t.pending, t.input_index, t.path, forward_to_sink, stats);
      }
      t.pending = std::string();
      return stats.events - before;
    }
    std::size_t end = t.pending.rfind('\n');
    if (end == std::string::npos) return 0;
    buffer_.assign(t.pending, 0, end + 1);
    buffer_.resize(end + 1 + kPadding);
    t.pending.erase(0, end + 1);
    return decode_lines(t, std::string_view(buffer_.data(), end + 1), sink, stats);
  }
  if (t.fd < 0) {
    t.fd = ::open(t.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (t.fd < 0) return 0;  // not there (yet): rotation in progress, or never created
    struct stat st {};
    ::fstat(t.fd, &st);
    if (t.dev != 0 && (t.dev != st.st_dev || t.ino != st.st_ino)) {
      t.offset = t.line = 0;  // another file than the checkpoint's: from its start
    }
    t.dev = st.st_dev;
    t.ino = st.st_ino;
  }
  struct stat st {};
  if (::fstat(t.fd, &st) != 0) return 0;
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size < t.offset) {
    InputReport(stats, reader_options_.max_diagnostics)
        .warning(t.path, t.offset, "the file shrank (truncated): reading it again from its start");
    t.offset = t.line = 0;
  }
  bool partial_line = false;
  if (size > t.offset) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(size - t.offset, t.want));
    buffer_.resize(std::max(buffer_.size(), n + kPadding));
    ssize_t got = ::pread(t.fd, buffer_.data(), n, static_cast<off_t>(t.offset));
    if (got <= 0) return 0;
    std::string_view data(buffer_.data(), static_cast<std::size_t>(got));
    if (t.offset == 0 && !t.skipping) {
      if (first_significant(data) != 0 && !ndjson_lines(data)) {  // not NDJSON: read whole, once complete
        t.whole = true;
        return read_whole(t, now_ns, sink, stats);
      }
    }
    if (t.skipping) {
      std::size_t nl = data.find('\n');
      const std::size_t skip = nl == std::string_view::npos ? data.size() : nl + 1;
      t.offset += skip;
      if (nl != std::string_view::npos) {
        ++t.line;
        t.skipping = false;
      }
      return 0;
    }
    std::size_t last = data.rfind('\n');
    if (last != std::string_view::npos) {
      t.want = options_.max_read_bytes;
      events += decode_lines(t, data.substr(0, last + 1), sink, stats);
    } else if (data.size() == t.want) {
      if (t.want > reader_options_.max_document_bytes) {
        InputReport(stats, reader_options_.max_diagnostics)
            .skipped(t.path, t.line + 1, t.offset, "line longer than the largest document read (64 MB): skipped");
        t.skipping = true;
        t.offset += data.size();
        t.want = options_.max_read_bytes;
      } else {
        t.want *= 2;  // one line longer than a read: read more next time
      }
      return events;
    } else {
      partial_line = true;  // the writer has not finished this line yet
    }
  }
  if (!partial_line && t.offset < size) return events;  // more to read at the next poll
  // Everything complete is read: has the path moved on to another file?
  struct stat now {};
  const bool moved = ::stat(t.path.c_str(), &now) != 0 || static_cast<std::uint64_t>(now.st_dev) != t.dev ||
                     static_cast<std::uint64_t>(now.st_ino) != t.ino;
  if (!moved && !t.drain_only) return events;
  if (partial_line) {
    // The old file ends without a '\n': its last line is complete now.
    const std::size_t rest = static_cast<std::size_t>(size - t.offset);
    buffer_.resize(std::max(buffer_.size(), rest + 1 + kPadding));
    if (::pread(t.fd, buffer_.data(), rest, static_cast<off_t>(t.offset)) == static_cast<ssize_t>(rest)) {
      buffer_[rest] = '\n';
      const std::uint64_t offset = t.offset;
      events += decode_lines(t, std::string_view(buffer_.data(), rest + 1), sink, stats);
      t.offset = offset + rest;
    }
  }
  ::close(t.fd);
  t.fd = -1;
  if (t.drain_only) {
    t.done = true;
    return events;
  }
  t.dev = t.ino = 0;
  t.offset = t.line = 0;
  return events;
}

std::uint64_t FollowedInputs::poll_directory(Directory& d, std::int64_t now_ns, const BatchSink& sink,
                                             ReadStats& stats) {
  std::uint64_t events = 0;
  for (const std::string& file : list_input_files(d.path)) {
    if (std::any_of(tails_.begin(), tails_.end(), [&](const auto& t) { return t->path == file && !t->drain_only; })) {
      continue;
    }
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) continue;
    const std::string id = identity(st);
    if (done_.count(id)) continue;
    if (st.st_size > 0 && plain_ndjson(file)) {
      events += read_tail(add_tail(file, false), now_ns, sink, stats);
      continue;
    }
    auto& seen = d.settling[file];
    if (seen.identity != id) {
      seen = {id, now_ns};
      continue;
    }
    if (now_ns - seen.since < options_.settle_ns) continue;
    // Complete: size and time unchanged for settle_ns.
    auto previous = d.read_as.find(file);
    if (previous != d.read_as.end()) {
      InputReport(stats, reader_options_.max_diagnostics)
          .warning(file, 0, "the file changed after it was read (replaced or rewritten): reading it again whole");
    }
    const std::uint64_t before = stats.events;
    reader_->read(file, static_cast<std::uint32_t>(paths_.size()), [&](EventBatch& b) { return forward(b, sink); },
                  stats);
    events += stats.events - before;
    done_.insert(id);
    d.read_as[file] = id;
    d.settling.erase(file);
  }
  return events;
}

void FollowedInputs::wait(std::int64_t timeout_ns) const {
  const int ms = static_cast<int>(std::clamp<std::int64_t>(timeout_ns / 1000000, 1, 60000));
  for (const auto& t : tails_) {
    if (t->stream && !t->done && t->fd >= 0) {  // wakes early when a stream has more; files wait the whole time
      struct pollfd p {t->fd, POLLIN, 0};
      ::poll(&p, 1, ms);
      return;
    }
  }
  ::poll(nullptr, 0, ms);
}

std::uint64_t FollowedInputs::poll(std::int64_t now_ns, const BatchSink& sink, ReadStats& stats) {
  std::uint64_t events = 0;
  for (auto& t : tails_) events += read_tail(*t, now_ns, sink, stats);
  for (auto& d : directories_) events += poll_directory(*d, now_ns, sink, stats);
  tails_.erase(std::remove_if(tails_.begin(), tails_.end(), [](const auto& t) { return t->drain_only && t->done; }),
               tails_.end());
  return events;
}

bool FollowedInputs::drained() const {
  if (std::any_of(tails_.begin(), tails_.end(), [](const auto& t) { return t->unread(); })) return false;
  return std::all_of(directories_.begin(), directories_.end(), [](const auto& d) { return d->settling.empty(); });
}

std::size_t FollowedInputs::files_followed() const {
  std::size_t n = 0;
  for (const auto& t : tails_) n += !t->stream && !t->done;
  return n;
}

std::string FollowedInputs::save() const {
  std::vector<TailPosition> positions;
  for (const auto& t : tails_) {
    if (t->stream || t->whole || t->done) continue;
    positions.push_back({t->path, t->dev, t->ino, t->offset, t->line, t->drain_only});
  }
  std::vector<std::string> done(done_.begin(), done_.end());
  std::string out;
  Encoder e(out);
  e(next_ordinal_);
  e(positions);
  e(done);
  return out;
}

bool FollowedInputs::load(std::string_view bytes, ReadStats& stats) {
  Decoder d(bytes);
  std::vector<TailPosition> positions;
  std::vector<std::string> done;
  d(next_ordinal_);
  d(positions);
  d(done);
  if (!d.ok() || !d.at_end()) return false;
  done_.insert(done.begin(), done.end());
  InputReport report(stats, reader_options_.max_diagnostics);
  for (const TailPosition& p : positions) {
    if (p.dev == 0) continue;  // never opened: nothing was read
    auto existing = std::find_if(tails_.begin(), tails_.end(), [&](const auto& t) { return t->path == p.path; });
    Tail* t = nullptr;
    if (existing != tails_.end() && !p.drain_only) {
      t = existing->get();
    } else {
      t = &add_tail(p.path, p.drain_only);
    }
    struct stat st {};
    const bool same = ::stat(p.path.c_str(), &st) == 0 && static_cast<std::uint64_t>(st.st_dev) == p.dev &&
                      static_cast<std::uint64_t>(st.st_ino) == p.ino;
    if (same) {
      t->fd = ::open(p.path.c_str(), O_RDONLY | O_CLOEXEC);
      t->dev = p.dev;
      t->ino = p.ino;
      t->offset = p.offset;
      t->line = p.line;
      continue;
    }
    // The path names another file now: the one read before was rotated (or
    // removed) while vigil was stopped. Look for it next to its old path.
    std::error_code ec;
    const auto dir = std::filesystem::path(p.path).parent_path();
    std::string found;
    for (const auto& entry : std::filesystem::directory_iterator(dir.empty() ? "." : dir, ec)) {
      struct stat other {};
      if (::stat(entry.path().c_str(), &other) == 0 && static_cast<std::uint64_t>(other.st_dev) == p.dev &&
          static_cast<std::uint64_t>(other.st_ino) == p.ino) {
        found = entry.path().string();
        break;
      }
    }
    if (!p.drain_only) {
      t->dev = t->ino = 0;  // the path's new file is read from its start
      t->offset = t->line = 0;
    }
    if (found.empty()) {
      report.warning(p.path, p.offset,
                     "the file read before the restart is gone (rotated out of its directory or removed): lines "
                     "written to it after the checkpoint were not read");
      if (p.drain_only) t->done = true;
      continue;
    }
    Tail* rest = p.drain_only ? t : &add_tail(found, true);
    rest->path = found;
    rest->fd = ::open(found.c_str(), O_RDONLY | O_CLOEXEC);
    rest->dev = p.dev;
    rest->ino = p.ino;
    rest->offset = p.offset;
    rest->line = p.line;
  }
  // A file rotated away must be read before its successor: drain-only tails first.
  std::stable_partition(tails_.begin(), tails_.end(), [](const auto& t) { return t->drain_only; });
  return true;
}

}  // namespace vigil
