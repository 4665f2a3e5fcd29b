// SpillFile: an anonymous temporary file (created in $TMPDIR, unlinked at
// once, gone when closed or when the process dies) for what a stage would
// otherwise hold in memory without bound: detections waiting for the end of
// a batch hunt, alert lines waiting to be sorted. Records are appended and
// read back by position; nothing is ever rewritten.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vigil {

struct SpillRecord {
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
};

class SpillFile {
 public:
  SpillFile() = default;
  ~SpillFile();
  SpillFile(const SpillFile&) = delete;
  SpillFile& operator=(const SpillFile&) = delete;

  // Both throw std::system_error when the file cannot be made, written
  // (disk full) or read: what was spilled is needed, there is no fallback.
  SpillRecord append(std::string_view bytes);
  void read(SpillRecord record, std::string& out) const;
  std::uint64_t size() const { return size_; }
  // The open file (-1 before the first append), for mapping what was spilled
  // (open_spilled(), ingest/byte_source.h); a mapping outlives this object.
  int descriptor() const { return fd_; }
  // Forgets every record (the file is truncated; earlier records are invalid).
  void clear();

 private:
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

// The byte budget a stage keeps in memory before it spills.
inline constexpr std::size_t kDefaultSpillBytes = std::size_t{256} << 20;

}  // namespace vigil
