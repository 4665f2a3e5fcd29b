// FollowedInputs: what `vigil run` reads, polled: files followed like
// `tail -F`, directories whose new files are read once complete, stdin.
//  - A followed NDJSON file is read line by line as it grows (a line counts
//    once its '\n' is written). Rotation: when the path names another file
//    (renamed away, a new one created) the old file is read to its end
//    first; a file that shrinks was truncated and is read from its start.
//    Files are known by identity (device, inode), so a checkpoint taken
//    before a rotation finds the renamed file in the same directory and
//    reads its rest: nothing is read twice, nothing skipped.
//  - In a followed directory, plain NDJSON files are followed as above; any
//    other input (EVTX, event XML, archives, compressed files) is read whole
//    once its size and modification time have stayed the same for `settle`,
//    and once per identity (a file replaced under the same name is read
//    again, and said so).
//  - A named file that does not start like NDJSON (EVTX, event XML, a JSON
//    array, compressed, an archive) is read whole like a directory's file;
//    without --follow (FollowOptions::follow false) at once, as it is.
//  - "-" reads stdin as it comes, to its end, and so is a named FIFO or
//    device (opened once, when first polled). A stream that does not start
//    like NDJSON is read to its end, then decoded whole.
// Positions are saved and restored with save() / load() (stream checkpoints).
// Events are numbered across everything read, restarts included.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/codec.h"
#include "ingest/event_reader.h"
#include "ingest/input_report.h"
#include "ingest/ndjson_reader.h"

namespace vigil {

struct FollowOptions {
  std::int64_t settle_ns = 1'000'000'000;  // a directory's file is complete once unchanged this long
  std::size_t max_read_bytes = 8u << 20;    // read per file and poll (more comes at the next poll)
  bool follow = true;                       // false: named files are complete as they are (no settling)
};

class FollowedInputs {
 public:
  FollowedInputs(std::vector<std::string> paths, const FieldRegistry& fields, ReaderOptions reader, FollowOptions options);
  ~FollowedInputs();

  // Reads what is new. `now_ns` is the wall clock (for a directory's files
  // to settle). Returns the number of events handed to `sink`.
  std::uint64_t poll(std::int64_t now_ns, const BatchSink& sink, ReadStats& stats);
  // No input can give more: every path is a regular file or stdin read to
  // its end, or a directory whose files are all read (for a run without --follow).
  bool drained() const;
  // Idle: waits up to `timeout_ns` for more input (stdin: until it is
  // readable; files have no such signal here and are polled after it).
  void wait(std::int64_t timeout_ns) const;
  std::size_t files_followed() const;

  std::string save() const;
  // Restores positions; a file rotated while vigil was stopped is found by
  // its identity next to its old path. Problems are reported as warnings.
  bool load(std::string_view bytes, ReadStats& stats);

  struct Tail;
  struct Directory;

 private:
  std::uint64_t read_tail(Tail& t, std::int64_t now_ns, const BatchSink& sink, ReadStats& stats);
  // A stream read whole: what it holds so far moves to its spool file. False
  // (reported, the input done) when no temporary file can take it.
  bool spool_pending(Tail& t, ReadStats& stats);
  // A named file read whole (not NDJSON): once complete and once per identity.
  std::uint64_t read_whole(Tail& t, std::int64_t now_ns, const BatchSink& sink, ReadStats& stats);
  std::uint64_t decode_lines(Tail& t, std::string_view lines, const BatchSink& sink, ReadStats& stats);
  std::uint64_t poll_directory(Directory& d, std::int64_t now_ns, const BatchSink& sink, ReadStats& stats);
  // Numbers the events of a batch and passes it on.
  bool forward(EventBatch& batch, const BatchSink& sink);
  // A file found after start (in a followed directory, or rotated away):
  // followed, or with `drain_only` read to its end and dropped.
  Tail& add_tail(std::string path, bool drain_only);

  std::vector<std::string> paths_;
  const FieldRegistry& fields_;
  ReaderOptions reader_options_;
  FollowOptions options_;
  std::vector<std::unique_ptr<Tail>> tails_;
  std::vector<std::unique_ptr<Directory>> directories_;
  std::unique_ptr<EventReader> reader_;
  std::unique_ptr<NdjsonReader> ndjson_;
  std::uint64_t scratch_ordinal_ = 0;  // the NdjsonReader's count (events are renumbered)
  std::uint64_t next_ordinal_ = 0;
  std::set<std::string> done_;  // identities of whole files read
  std::string buffer_;
};

}  // namespace vigil
