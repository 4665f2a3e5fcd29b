// AlertFileSink implementation.
#include "output/alert_file_sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vigil {

std::string_view alert_line_id(std::string_view line) {
  static constexpr std::string_view kKey = "\"kibana.alert.uuid\":\"";
  std::size_t at = line.find(kKey);
  if (at == std::string_view::npos) return {};
  at += kKey.size();
  std::size_t end = line.find('"', at);
  return end == std::string_view::npos ? std::string_view() : line.substr(at, end - at);
}

Result<std::unique_ptr<AlertFileSink>> AlertFileSink::open(const std::string& path,
                                                           std::optional<std::uint64_t> checkpointed_bytes) {
  std::unique_ptr<AlertFileSink> sink(new AlertFileSink());
  sink->path_ = path;
  if (path == "-") {
    sink->file_ = stdout;
    sink->is_stdout_ = true;
    return sink;
  }
  auto fail = [&](const char* what) {
    return Error{"output.open", path + ": " + what + ": " + std::strerror(errno)};
  };
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return fail("cannot open the alert file");
  struct stat st {};
  ::fstat(fd, &st);
  auto size = static_cast<std::uint64_t>(st.st_size);
  // Read the tail written after the checkpoint (or, with none, just enough
  // to find a cut last line).
  std::uint64_t from = checkpointed_bytes && *checkpointed_bytes <= size ? *checkpointed_bytes
                                                                         : (size > (1u << 20) ? size - (1u << 20) : 0);
  std::string tail(size - from, '\0');
  if (!tail.empty() && ::pread(fd, tail.data(), tail.size(), static_cast<off_t>(from)) != static_cast<ssize_t>(tail.size())) {
    ::close(fd);
    return fail("cannot read the alert file");
  }
  std::size_t complete = tail.rfind('\n');
  complete = complete == std::string::npos ? 0 : complete + 1;
  if (complete < tail.size()) {
    // A line cut by a kill: written again by the replay (with no checkpoint
    // it was never a whole alert).
    sink->cut_bytes_ = tail.size() - complete;
    size = from + complete;
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
      ::close(fd);
      return fail("cannot remove a cut last line");
    }
  }
  if (checkpointed_bytes && *checkpointed_bytes <= size) {
    sink->replay_from_ = *checkpointed_bytes;
    std::string_view rest(tail.data(), complete);
    for (std::size_t start = 0; start < rest.size();) {
      std::size_t end = rest.find('\n', start);
      std::string_view id = alert_line_id(rest.substr(start, end - start));
      if (!id.empty()) sink->written_after_checkpoint_.emplace(id);
      start = end + 1;
    }
  }
  sink->file_ = ::fdopen(fd, "ab");
  if (!sink->file_) {
    ::close(fd);
    return fail("cannot open the alert file");
  }
  sink->bytes_ = size;
  return sink;
}

void AlertFileSink::drop_replayed_if(const std::function<bool(std::string_view id)>& known) {
  std::erase_if(written_after_checkpoint_, [&](const std::string& id) { return known(id); });
}

AlertFileSink::~AlertFileSink() {
  if (file_ && !is_stdout_) std::fclose(file_);
}

Result<bool> AlertFileSink::write(std::string_view lines) {
  for (std::size_t start = 0; start < lines.size();) {
    std::size_t end = lines.find('\n', start);
    if (end == std::string_view::npos) end = lines.size() - 1;
    std::string_view line = lines.substr(start, end + 1 - start);
    start = end + 1;
    if (!written_after_checkpoint_.empty()) {
      auto it = written_after_checkpoint_.find(std::string(alert_line_id(line)));
      if (it != written_after_checkpoint_.end()) {
        written_after_checkpoint_.erase(it);
        ++replayed_;
        continue;
      }
    }
    if (std::fwrite(line.data(), 1, line.size(), file_) != line.size()) {
      return Error{"output.write", path_ + ": cannot write alerts: " + std::strerror(errno)};
    }
    if (!is_stdout_) bytes_ += line.size();
  }
  // Readers of the file (a shipper, tail -f) see each batch of alerts at
  // once; durability is sync()'s job, at checkpoints.
  if (std::fflush(file_) != 0) return Error{"output.write", path_ + ": cannot write alerts: " + std::strerror(errno)};
  return true;
}

Result<bool> AlertFileSink::sync() {
  if (std::fflush(file_) != 0 || (!is_stdout_ && ::fsync(fileno(file_)) != 0)) {
    return Error{"output.write", path_ + ": cannot write alerts: " + std::strerror(errno)};
  }
  return true;
}

}  // namespace vigil
