// Event rendering for `vigil query`.
#include "cli/event_output.h"

#include "core/document.h"

namespace vigil {

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
