// SpillFile implementation: one O_TMPFILE-like file per instance, positional I/O.
#include "core/spill_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <system_error>

namespace vigil {

namespace {
[[noreturn]] void fail(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

int open_anonymous() {
  const char* dir = std::getenv("TMPDIR");
  std::string path = std::string(dir && *dir ? dir : "/tmp");
#ifdef O_TMPFILE
  int fd = ::open(path.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
#endif
  path += "/vigil-spill-XXXXXX";
  fd = ::mkostemp(path.data(), O_CLOEXEC);
  if (fd < 0) fail("creating a spill file");
  ::unlink(path.c_str());
  return fd;
}
}  // namespace

SpillFile::~SpillFile() {
  if (fd_ >= 0) ::close(fd_);
}

SpillRecord SpillFile::append(std::string_view bytes) {
  if (fd_ < 0) fd_ = open_anonymous();
  const SpillRecord record{size_, bytes.size()};
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::pwrite(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(size_ + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("writing the spill file");
    done += static_cast<std::size_t>(n);
  }
  size_ += bytes.size();
  return record;
}

void SpillFile::clear() {
  if (fd_ >= 0 && ::ftruncate(fd_, 0) != 0) fail("truncating the spill file");
  size_ = 0;
}

void SpillFile::read(SpillRecord record, std::string& out) const {
  out.resize(record.size);
  std::size_t done = 0;
  while (done < record.size) {
    const ssize_t n = ::pread(fd_, out.data() + done, record.size - done, static_cast<off_t>(record.offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("reading the spill file");
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace vigil
