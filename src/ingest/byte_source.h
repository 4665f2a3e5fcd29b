// ByteSource: the bytes of one input, whatever wraps them. Plain files are
// memory-mapped (zero copy); gzip and zstd (detected from their magic bytes,
// not the file name) and stdin ("-") are decompressed/read in blocks.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

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
Result<std::unique_ptr<ByteSource>> open_byte_source(const std::string& path);

}  // namespace vigil
