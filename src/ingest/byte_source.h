// ByteSource: the bytes of one input, whatever wraps them. Plain files are
// memory-mapped (zero copy); gzip and zstd (detected from their magic bytes,
// not the file name) and stdin ("-") are decompressed/read in blocks.
#pragma once

#include <cstddef>
#include <exception>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/spill_file.h"

namespace vigil {

enum class Compression { None, Gzip, Zstd };

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // When the whole input is addressable at once (mmap), its bytes; else empty.
  virtual std::string_view contiguous() const { return {}; }
  // Reads up to `capacity` bytes; 0 at end of input. Errors carry the offset.
  virtual Result<std::size_t> read(char* dst, std::size_t capacity) = 0;
  virtual Compression compression() const { return Compression::None; }
  // For contiguous inputs: bytes before `offset` will not be read again, so
  // their pages can leave the process's resident set (bounded memory on
  // inputs of any size).
  virtual void release_before(std::size_t offset) { (void)offset; }
};

// Opens `path` ("-" is stdin) and picks the decoder from the content.
// Regular files are mapped, except with `stream_json`: an uncompressed file
// whose first non-blank byte opens a JSON object (NDJSON) is then read as a
// stream, into a buffer the reader reuses. A hunt spends its time matching,
// not splitting lines over threads, and a file written moments ago (copied,
// unpacked, converted) sits in the page cache in 4 KB pages that a mapping
// pays a fault and TLB misses for: streamed, the SigmaHQ hunt of 500 k
// OTRF events took 3.2 s where mapped it took 4.7 s (3.1 s against 3.5 s
// for a file read from disk; BENCHMARKS.md, session 21).
Result<std::unique_ptr<ByteSource>> open_byte_source(const std::string& path, bool stream_json = false);

// What `file` holds, mapped (a stream spooled to a temporary file, to be
// decoded whole in bounded memory: EventReader).
Result<std::unique_ptr<ByteSource>> open_spilled(const SpillFile& file);
// The reason reported for an input that could not be spooled (SpillFile threw `e`).
std::string spool_failure(const std::exception& e);

}  // namespace vigil
