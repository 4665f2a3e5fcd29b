// Windows events as JSON trees of their XML: evtx_dump's JSON lines (the
// evtx crate Chainsaw and Hayabusa read EVTX with: {"Event":{"System":...,
// "EventData":...}}, attributes under "#attributes"), python-evtx through
// xmltodict ("@Name", "#text") and the Go decoders' (attributes as members,
// an element's text as "Value"; System and EventData at the top level too;
// Velociraptor's parse_evtx() among them, its time in epoch seconds).
// Each becomes the document an EVTX record of the same event gives (winlog.*
// and the ECS mapping), so every rule reads them (NdjsonReader decides per
// input, on its first document).
#pragma once

#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "core/arena.h"
#include "ingest/windows_event.h"

namespace vigil {

class EventTreeJson {
 public:
  // Whether `document` (one JSON object) has the shape: an object "System"
  // under "Event" or at the top level, beside EventData or UserData there.
  static bool looks_like(std::string_view document);
  // The event's document as an EVTX record of it gives, or nothing for a
  // document of another shape (or without a provider and an event ID).
  std::optional<std::string> normalize(std::string_view document);

 private:
  std::string_view text(simdjson::dom::element element);
  std::string_view attribute(simdjson::dom::element element, std::string_view name);
  void add_event_data(simdjson::dom::element data);
  void add_data_item(simdjson::dom::element item);
  void add_user_data(simdjson::dom::element element, const std::string& path, int depth);

  simdjson::dom::parser parser_;
  std::string padded_;
  Arena arena_{16 * 1024};
  WindowsEvent event_;
  unsigned unnamed_ = 0;            // <Data> without a Name so far (param1, param2, ...)
  std::deque<std::string> owned_;  // texts made here (numbers, joined paths): stable addresses
};

}  // namespace vigil
