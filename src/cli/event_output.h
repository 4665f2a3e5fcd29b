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

// An event's normalized ECS document, as `vigil convert` writes it and `vigil
// publish` sends it: the document, with event.code added for ECS JSON that
// names its Windows event ID only under winlog, and with `source` the event's
// vigil.source (file and record). Alerts made from this document get the
// same kibana.alert.uuid as alerts made from the original input.
class EcsDocumentWriter {
 public:
  explicit EcsDocumentWriter(FieldRegistry& fields);
  void append(std::string& out, const Event& e, bool source) const;
  // The registered winlog provider and event ID (for unmapped-event counts).
  FieldId category() const { return category_; }
  FieldId provider() const { return provider_; }
  FieldId event_id() const { return event_id_; }

 private:
  FieldId code_, category_, provider_, event_id_;
};

}  // namespace vigil
