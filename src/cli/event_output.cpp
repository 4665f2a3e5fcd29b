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

EcsDocumentWriter::EcsDocumentWriter(FieldRegistry& fields)
    : code_(fields.intern("event.code")),
      category_(fields.intern("event.category")),
      provider_(fields.intern("winlog.provider_name")),
      event_id_(fields.intern("winlog.event_id")) {}

void EcsDocumentWriter::append(std::string& line, const Event& e, bool source) const {
  std::size_t start = line.size();
  append_event_json(line, e);
  if (e.get(code_).is_null() && e.get(event_id_).is_text() && line.size() > start + 1 && line[start] == '{') {
    std::string member = "\"event.code\":";
    append_json_string(member, e.get(event_id_).as_string());
    member += line.size() > start + 2 && line[start + 1] != '}' ? "," : "";
    line.insert(start + 1, member);
  }
  if (source && line.size() > start + 1 && line.back() == '}') {
    if (std::string src = event_source_json(e); !src.empty()) {
      line.pop_back();
      if (line.size() > start + 1) line.push_back(',');
      line += "\"vigil.source\":" + src + "}";
    }
  }
}

}  // namespace vigil
