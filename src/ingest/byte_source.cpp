// ByteSource implementations: mmap for plain files; zlib and libzstd
// streaming decoders; a plain fd reader for stdin and pipes.
#include "ingest/byte_source.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "core/text.h"

namespace vigil {
namespace {

Error io_error(const std::string& what) { return Error{"input.io", what, {}, 1}; }

class FdReader {
 public:
  explicit FdReader(int fd, bool owned) : fd_(fd), owned_(owned) {}
  ~FdReader() {
    if (owned_ && fd_ >= 0) ::close(fd_);
  }
  FdReader(const FdReader&) = delete;
  FdReader& operator=(const FdReader&) = delete;
  Result<std::size_t> read(char* dst, std::size_t capacity) {
    for (;;) {
      ssize_t n = ::read(fd_, dst, capacity);
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno == EINTR) continue;
      return io_error(fmt::format("read failed: {}", std::strerror(errno)));
    }
  }

 private:
  int fd_;
  bool owned_;
};

// Bytes already peeked from the fd (for magic detection) are replayed first.
class PlainStream final : public ByteSource {
 public:
  PlainStream(int fd, bool owned, std::string peeked) : reader_(fd, owned), peeked_(std::move(peeked)) {}
  Result<std::size_t> read(char* dst, std::size_t capacity) override {
    if (peek_pos_ < peeked_.size()) {
      std::size_t n = std::min(capacity, peeked_.size() - peek_pos_);
      std::memcpy(dst, peeked_.data() + peek_pos_, n);
      peek_pos_ += n;
      return n;
    }
    return reader_.read(dst, capacity);
  }

 private:
  FdReader reader_;
  std::string peeked_;
  std::size_t peek_pos_ = 0;
};

class MappedFile final : public ByteSource {
 public:
  MappedFile(const void* data, std::size_t size) : data_(data), size_(size) {}
  ~MappedFile() override {
    if (data_ != nullptr && size_ > 0) ::munmap(const_cast<void*>(data_), size_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  std::string_view contiguous() const override { return {static_cast<const char*>(data_), size_}; }
  void release_before(std::size_t offset) override {
    // Whole 2 MB ranges only: a file cached in 2 MB folios is mapped with one
    // entry per 2 MB, and releasing part of one unmaps all of it, the rest to
    // be faulted back page by page.
    constexpr std::size_t kRelease = 2u << 20;
    std::size_t end = std::min(offset, size_) / kRelease * kRelease;
    if (end > released_) {
      ::madvise(static_cast<char*>(const_cast<void*>(data_)) + released_, end - released_, MADV_DONTNEED);
      released_ = end;
    }
    populate_ahead(offset);
  }
  // Maps the pages ahead of `offset` in one call rather than one fault per
  // few pages (the bytes are in the page cache; kernels before 5.14 refuse,
  // and faults do it as before).
  void populate_ahead(std::size_t offset) {
    constexpr std::size_t kAhead = 16u << 20;
    if (offset + kAhead / 2 < populated_ || populated_ >= size_) return;
    // madvise wants a page-aligned start; `populated_` ends wherever the last range did.
    std::size_t from = std::max(populated_, offset) / 4096 * 4096;
    std::size_t to = std::min(size_, offset + kAhead);
    ::madvise(static_cast<char*>(const_cast<void*>(data_)) + from, to - from, MADV_POPULATE_READ);
    populated_ = to;
  }
  Result<std::size_t> read(char* dst, std::size_t capacity) override {
    std::size_t n = std::min(capacity, size_ - pos_);
    std::memcpy(dst, static_cast<const char*>(data_) + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  const void* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  std::size_t released_ = 0;
  std::size_t populated_ = 0;
};

// Decompressing sources pull compressed blocks from an inner PlainStream.
class GzipStream final : public ByteSource {
 public:
  explicit GzipStream(std::unique_ptr<ByteSource> inner) : inner_(std::move(inner)), in_(1 << 18) {
    std::memset(&z_, 0, sizeof(z_));
    ok_ = inflateInit2(&z_, 15 + 32) == Z_OK;  // +32: accept gzip and zlib headers
  }
  ~GzipStream() override {
    if (ok_) inflateEnd(&z_);
  }
  GzipStream(const GzipStream&) = delete;
  GzipStream& operator=(const GzipStream&) = delete;
  Compression compression() const override { return Compression::Gzip; }
  Result<std::size_t> read(char* dst, std::size_t capacity) override {
    if (!ok_) return io_error("gzip: cannot initialise decoder");
    z_.next_out = reinterpret_cast<Bytef*>(dst);
    z_.avail_out = static_cast<uInt>(std::min<std::size_t>(capacity, 1u << 30));
    while (z_.avail_out > 0 && !done_) {
      if (z_.avail_in == 0) {
        auto n = inner_->read(in_.data(), in_.size());
        if (!n) return n.error();
        if (*n == 0) {
          if (!stream_end_) return io_error(fmt::format("gzip: truncated input after {} compressed bytes", consumed_));
          done_ = true;
          break;
        }
        consumed_ += *n;
        z_.next_in = reinterpret_cast<Bytef*>(in_.data());
        z_.avail_in = static_cast<uInt>(*n);
      }
      if (stream_end_) {
        // Concatenated gzip members (as `cat a.gz b.gz` makes) are one stream.
        inflateReset(&z_);
        stream_end_ = false;
      }
      int rc = inflate(&z_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        stream_end_ = true;
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return io_error(fmt::format("gzip: corrupt data near compressed byte {}: {}", consumed_ - z_.avail_in,
                                    z_.msg ? z_.msg : "error"));
      }
    }
    return capacity - z_.avail_out;
  }

 private:
  std::unique_ptr<ByteSource> inner_;
  std::vector<char> in_;
  z_stream z_;
  bool ok_ = false;
  bool stream_end_ = false;
  bool done_ = false;
  std::size_t consumed_ = 0;
};

class ZstdStream final : public ByteSource {
 public:
  explicit ZstdStream(std::unique_ptr<ByteSource> inner)
      : inner_(std::move(inner)), in_(ZSTD_DStreamInSize()), ctx_(ZSTD_createDCtx()) {}
  ~ZstdStream() override { ZSTD_freeDCtx(ctx_); }
  ZstdStream(const ZstdStream&) = delete;
  ZstdStream& operator=(const ZstdStream&) = delete;
  Compression compression() const override { return Compression::Zstd; }
  Result<std::size_t> read(char* dst, std::size_t capacity) override {
    ZSTD_outBuffer out{dst, capacity, 0};
    while (out.pos < out.size) {
      if (input_.pos == input_.size) {
        auto n = inner_->read(in_.data(), in_.size());
        if (!n) return n.error();
        if (*n == 0) {
          if (last_rc_ != 0) return io_error(fmt::format("zstd: truncated input after {} compressed bytes", consumed_));
          break;
        }
        consumed_ += *n;
        input_ = ZSTD_inBuffer{in_.data(), *n, 0};
      }
      std::size_t rc = ZSTD_decompressStream(ctx_, &out, &input_);
      if (ZSTD_isError(rc)) {
        return io_error(fmt::format("zstd: corrupt data near compressed byte {}: {}", consumed_, ZSTD_getErrorName(rc)));
      }
      last_rc_ = rc;
    }
    return out.pos;
  }

 private:
  std::unique_ptr<ByteSource> inner_;
  std::vector<char> in_;
  ZSTD_DCtx* ctx_;
  ZSTD_inBuffer input_{nullptr, 0, 0};
  std::size_t last_rc_ = 0;
  std::size_t consumed_ = 0;
};

Compression detect(std::string_view head) {
  if (head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0x1f && static_cast<unsigned char>(head[1]) == 0x8b)
    return Compression::Gzip;
  if (head.size() >= 4 && static_cast<unsigned char>(head[0]) == 0x28 && static_cast<unsigned char>(head[1]) == 0xb5 &&
      static_cast<unsigned char>(head[2]) == 0x2f && static_cast<unsigned char>(head[3]) == 0xfd)
    return Compression::Zstd;
  return Compression::None;
}

std::unique_ptr<ByteSource> wrap(Compression c, std::unique_ptr<ByteSource> inner) {
  switch (c) {
    case Compression::Gzip: return std::make_unique<GzipStream>(std::move(inner));
    case Compression::Zstd: return std::make_unique<ZstdStream>(std::move(inner));
    case Compression::None: break;
  }
  return inner;
}

}  // namespace

namespace {
// Whether the file at `fd` begins (after a UTF-8 byte order mark and blanks) with '{'.
bool starts_json_object(int fd) {
  char head[256];
  const ssize_t n = ::pread(fd, head, sizeof head, 0);
  return n > 0 && first_significant({head, static_cast<std::size_t>(n)}) == '{';
}
}  // namespace

Result<std::unique_ptr<ByteSource>> open_spilled(const SpillFile& file) {
  const auto size = static_cast<std::size_t>(file.size());
  if (size == 0) return std::unique_ptr<ByteSource>(std::make_unique<MappedFile>(nullptr, 0));
  void* data = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, file.descriptor(), 0);
  if (data == MAP_FAILED) return io_error(fmt::format("cannot map the spooled input: {}", std::strerror(errno)));
  ::madvise(data, size, MADV_SEQUENTIAL);
  return std::unique_ptr<ByteSource>(std::make_unique<MappedFile>(data, size));
}

std::string spool_failure(const std::exception& e) {
  return fmt::format("cannot spool the input to a temporary file ({}): set TMPDIR to a directory with room for it",
                     e.what());
}

Result<std::unique_ptr<ByteSource>> open_byte_source(const std::string& path, bool stream_json) {
  int fd = STDIN_FILENO;
  bool owned = false;
  if (path != "-") {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return io_error(fmt::format("cannot open '{}': {}", path, std::strerror(errno)));
    owned = true;
    struct stat st {};
    if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
      ::close(fd);
      return io_error(fmt::format("cannot read '{}': {}", path, S_ISDIR(st.st_mode) ? "is a directory" : std::strerror(errno)));
    }
    if (S_ISREG(st.st_mode) && st.st_size > 0 && !(stream_json && starts_json_object(fd))) {
      auto size = static_cast<std::size_t>(st.st_size);
      void* data = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
      ::close(fd);
      if (data == MAP_FAILED) return io_error(fmt::format("cannot map '{}': {}", path, std::strerror(errno)));
      ::madvise(data, size, MADV_SEQUENTIAL);
      auto mapped = std::make_unique<MappedFile>(data, size);
      mapped->populate_ahead(0);
      Compression c = detect(mapped->contiguous().substr(0, 4));
      if (c == Compression::None) return std::unique_ptr<ByteSource>(std::move(mapped));
      return wrap(c, std::move(mapped));
    }
  }
  // stdin, pipes, FIFOs and empty files: peek the magic bytes, then stream.
  FdReader peek(fd, false);
  std::string head(4, '\0');
  std::size_t got = 0;
  while (got < head.size()) {
    auto n = peek.read(head.data() + got, head.size() - got);
    if (!n) {
      if (owned) ::close(fd);
      return n.error();
    }
    if (*n == 0) break;
    got += *n;
  }
  head.resize(got);
  Compression c = detect(head);
  std::unique_ptr<ByteSource> plain = std::make_unique<PlainStream>(fd, owned, std::move(head));
  return wrap(c, std::move(plain));
}

}  // namespace vigil
