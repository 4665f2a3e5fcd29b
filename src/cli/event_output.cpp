// Event rendering for `vigil query`.
#include "cli/event_output.h"

#include "core/document.h"

namespace vigil {

bool open_output(const std::string& path, std::optional<AtomicFile>& file) {
  if (path == "-") return true;
  auto created = AtomicFile::create(path);
  if (!created) {
    std::fprintf(stderr, "vigil: %s\n", created.error().message.c_str());
    return false;
  }
  file.emplace(std::move(*created));
  return true;
}

bool commit_output(std::optional<AtomicFile>& file) {
  if (!file) return true;
  std::string error;
  if (file->commit(error)) return true;
  std::fprintf(stderr, "vigil: cannot write %s\n", error.c_str());
  return false;
}

void render_event(std::string& out, const Event& event, const FieldRegistry& fields,
                  const std::vector<FieldId>& projection) {
  if (projection.empty()) {
    append_event_json(out, event);
    return;
  }
  out.push_back('{');
  bool first = true;
  for (FieldId id : projection) {
    const Value& v = event.get(id);
    if (v.is_null()) continue;
    if (!first) out.push_back(',');
    first = false;
    append_json_string(out, fields.name(id));
    out.push_back(':');
    append_json(out, v);
  }
  out.push_back('}');
}

}  // namespace vigil
