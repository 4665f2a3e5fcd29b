// AtomicFile: temporary file + fsync + rename(2), which POSIX makes atomic.
#include "core/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace vigil {

Result<AtomicFile> AtomicFile::create(const std::string& path) {
  std::filesystem::path target(path);
  std::string temp = (target.parent_path() / ("." + target.filename().string() + ".XXXXXX")).string();
  if (target.parent_path().empty()) temp = "." + target.filename().string() + ".XXXXXX";
  int fd = mkstemp(temp.data());
  if (fd < 0) return Error{"io.create", path + ": cannot create a temporary file next to it: " + std::strerror(errno)};
  // mkstemp creates 0600; the result should have the permissions any new file gets.
  mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd, 0666 & ~mask);
  std::FILE* file = fdopen(fd, "w");
  if (!file) {
    ::close(fd);
    ::unlink(temp.c_str());
    return Error{"io.create", path + ": " + std::strerror(errno)};
  }
  return AtomicFile(path, temp, file);
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : path_(std::move(other.path_)), temp_(std::move(other.temp_)), file_(std::exchange(other.file_, nullptr)) {}

AtomicFile::~AtomicFile() {
  if (file_) {
    std::fclose(file_);
    ::unlink(temp_.c_str());
  }
}

bool AtomicFile::commit(std::string& error) {
  bool ok = std::fflush(file_) == 0 && ::fsync(fileno(file_)) == 0;
  int saved = errno;
  ok = std::fclose(file_) == 0 && ok;
  file_ = nullptr;
  if (ok && ::rename(temp_.c_str(), path_.c_str()) == 0) {
    // Make the rename itself durable.
    std::string dir = std::filesystem::path(path_).parent_path().string();
    int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
    return true;
  }
  if (ok) saved = errno;
  error = path_ + ": " + std::strerror(saved);
  ::unlink(temp_.c_str());
  return false;
}

std::optional<std::string> write_file_atomically(const std::string& path, std::string_view content) {
  auto file = AtomicFile::create(path);
  if (!file) return file.error().message;
  if (std::fwrite(content.data(), 1, content.size(), file->stream()) != content.size()) return path + ": write failed";
  std::string error;
  if (!file->commit(error)) return error;
  return std::nullopt;
}

}  // namespace vigil
