// AtomicFile: writes a file so that readers (and a crash, or kill -9) only
// ever see the old content or the complete new one: data goes to a
// temporary file in the same directory, is fsync'ed, then renamed over the
// target. Destroyed without commit(), the temporary file is removed.
#pragma once

#include <cstdio>
#include <optional>
#include <utility>
#include <string>
#include <string_view>

#include "core/result.h"

namespace vigil {

class AtomicFile {
 public:
  // Opens the temporary file next to `path`; the error says why not.
  static Result<AtomicFile> create(const std::string& path);
  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&&) = delete;
  AtomicFile(const AtomicFile&) = delete;
  ~AtomicFile();

  std::FILE* stream() { return file_; }
  // Flushes, fsyncs and renames the temporary file over the target. On
  // failure returns false with `error` set; the target is untouched.
  bool commit(std::string& error);

 private:
  AtomicFile(std::string path, std::string temp, std::FILE* file) : path_(std::move(path)), temp_(std::move(temp)), file_(file) {}
  std::string path_;
  std::string temp_;
  std::FILE* file_ = nullptr;
};

// Writes `content` to `path` through an AtomicFile: the old file or the whole
// new one, never part of it. Returns why it failed, or nullopt.
std::optional<std::string> write_file_atomically(const std::string& path, std::string_view content);

}  // namespace vigil
