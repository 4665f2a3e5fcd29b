// Writing events out: the raw document, or a projection of chosen fields as
// a flat JSON object with dotted keys. Output is buffered and written in
// large blocks.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include <optional>

#include "core/atomic_file.h"
#include "core/event.h"
#include "core/field_registry.h"

namespace vigil {

class OutputBuffer {
 public:
  explicit OutputBuffer(std::FILE* out) : out_(out) { buf_.reserve(kFlushAt + 4096); }
  ~OutputBuffer() { flush(); }
  OutputBuffer(const OutputBuffer&) = delete;
  OutputBuffer& operator=(const OutputBuffer&) = delete;
  std::string& buffer() { return buf_; }
  void line_done() {
    buf_.push_back('\n');
    if (buf_.size() >= kFlushAt) flush();
  }
  void flush() {
    if (!buf_.empty()) std::fwrite(buf_.data(), 1, buf_.size(), out_);
    buf_.clear();
    std::fflush(out_);
  }

 private:
  static constexpr std::size_t kFlushAt = 1 << 20;
  std::FILE* out_;
  std::string buf_;
};

// Opens `path` for an atomic write unless it is "-" (stdout); on failure
// prints the reason and returns false.
bool open_output(const std::string& path, std::optional<AtomicFile>& file);
// Commits an output opened by open_output (nothing for stdout); on failure
// prints the reason and returns false.
bool commit_output(std::optional<AtomicFile>& file);

// Renders the event as one NDJSON line (without the newline) into `out`:
// its raw document, or with `projection` non-empty only those fields.
void render_event(std::string& out, const Event& event, const FieldRegistry& fields,
                  const std::vector<FieldId>& projection);

}  // namespace vigil
