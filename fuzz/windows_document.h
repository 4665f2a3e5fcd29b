// For the Windows fuzz targets: a decoded event through the ECS mapping and
// the JSON rendering every output uses. The rendered document must be valid
// JSON whatever bytes the event held (strings are attacker-controlled).
#pragma once

#include <simdjson.h>

#include <string>

#include "core/arena.h"
#include "core/document.h"
#include "ingest/windows_event.h"

namespace vigil::fuzz {

inline void render_windows_event(const WindowsEvent& event) {
  Arena arena;
  DocBuilder doc(arena);
  build_windows_document(event, doc);
  std::string json;
  append_document_json(json, doc.finish());
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json).get(root) != simdjson::SUCCESS) __builtin_trap();  // output JSON that does not parse
}

}  // namespace vigil::fuzz
