// EventTreeJson: see event_tree_json.h.
#include "ingest/event_tree_json.h"

#include <fmt/format.h>

#include <charconv>

#include "core/timestamp.h"

namespace vigil {

namespace dom = simdjson::dom;

namespace {

constexpr int kMaxUserDataDepth = 16;

// The System object and the object holding it (where EventData and UserData are).
std::optional<std::pair<dom::object, dom::object>> system_of(dom::element root) {
  dom::object top, event, system;
  if (root.get_object().get(top)) return std::nullopt;
  if (!top["Event"].get_object().get(event) && !event["System"].get_object().get(system)) {
    return std::make_pair(system, event);
  }
  if (!top["System"].get_object().get(system) &&
      (top["EventData"].error() == simdjson::SUCCESS || top["UserData"].error() == simdjson::SUCCESS)) {
    return std::make_pair(system, top);
  }
  return std::nullopt;
}

}  // namespace

bool EventTreeJson::looks_like(std::string_view document) {
  if (document.find("\"System\"") == std::string_view::npos) return false;
  dom::parser parser;
  dom::element root;
  return !parser.parse(document.data(), document.size()).get(root) && system_of(root).has_value();
}

// An element's text: a string or a number as written, an object's "#text"
// (xmltodict, evtx_dump) or "Value" (the Go decoders); empty for the rest.
std::string_view EventTreeJson::text(dom::element element) {
  std::string_view s;
  if (!element.get_string().get(s)) return s;
  if (element.is_number() || element.is_bool()) return owned_.emplace_back(simdjson::minify(element));
  dom::object object;
  if (element.get_object().get(object)) return {};
  for (const char* key : {"#text", "Value"}) {
    dom::element inner;
    if (!object[key].get(inner)) return text(inner);
  }
  return {};
}

// An element's attribute: under "#attributes" (evtx_dump), as "@name"
// (xmltodict) or as a member (the Go decoders).
std::string_view EventTreeJson::attribute(dom::element element, std::string_view name) {
  dom::object object, attributes;
  if (element.get_object().get(object)) return {};
  dom::element value;
  if (!object["#attributes"].get_object().get(attributes) && !attributes[name].get(value)) return text(value);
  std::string at = "@" + std::string(name);
  if (!object[at].get(value) || !object[name].get(value)) return text(value);
  return {};
}

// One <Data> as a tree: {"@Name": n, "#text": v}, {"#attributes": {"Name": n}, "#text": v},
// {"Name": n, "Value": v}; a bare text is unnamed (paramN, as EVTX gives it).
void EventTreeJson::add_data_item(dom::element item) {
  std::string_view name = attribute(item, "Name");
  if (name.empty()) name = owned_.emplace_back(fmt::format("param{}", ++unnamed_));
  event_.event_data.push_back({name, text(item)});
}

// EventData as evtx_dump and the Go decoders write it (name: value), or its
// <Data> elements as a list (xmltodict: "Data": [...]; unnamed texts too).
void EventTreeJson::add_event_data(dom::element data) {
  dom::object object;
  if (data.get_object().get(object)) return;
  for (auto [key, value] : object) {
    if (key == "#attributes" || key.starts_with("@")) continue;
    dom::array items;
    dom::object inner;
    if (key == "Data" || key == "#text") {
      if (!value.get_array().get(items)) {
        for (dom::element item : items) add_data_item(item);
      } else if (!value.get_object().get(inner) && inner["#text"].is_array()) {
        add_event_data(value);  // {"#text": ["a", "b"]}: unnamed values
      } else if (!value.is_null()) {
        add_data_item(value);
      }
      continue;
    }
    if (!value.get_array().get(items)) {  // a multi-string value
      WindowsEvent::ArrayValue list{event_.event_data.size(), {}};
      for (dom::element item : items) list.items.push_back(text(item));
      event_.event_data.push_back({key, {}});
      event_.arrays.push_back(std::move(list));
      continue;
    }
    event_.event_data.push_back({key, value.is_null() ? std::string_view() : text(value)});
  }
}

// UserData's leaves (and attributes) under their dotted paths
// (winlog.user_data.*), as EVTX gives them.
void EventTreeJson::add_user_data(dom::element element, const std::string& path, int depth) {
  if (depth > kMaxUserDataDepth) return;
  auto join = [&path](std::string_view name) { return path.empty() ? std::string(name) : path + "." + std::string(name); };
  dom::object object;
  if (element.get_object().get(object) || object["#text"].error() == simdjson::SUCCESS ||
      object["Value"].error() == simdjson::SUCCESS) {
    if (!path.empty()) event_.user_data.push_back({owned_.emplace_back(path), text(element)});
    return;
  }
  for (auto [key, value] : object) {
    dom::object attributes;
    if (key == "#attributes" && !value.get_object().get(attributes)) {
      for (auto [name, attribute] : attributes) {
        event_.user_data.push_back({owned_.emplace_back(join(name)), text(attribute)});
      }
      continue;
    }
    const std::string_view name = key.starts_with("@") ? key.substr(1) : key;  // xmltodict's attributes
    if (name == "xmlns") continue;
    add_user_data(value, join(name), depth + 1);
  }
}

std::optional<std::string> EventTreeJson::normalize(std::string_view document) {
  padded_.assign(document);
  dom::element root;
  if (parser_.parse(padded_).get(root)) return std::nullopt;
  const auto found = system_of(root);
  if (!found) return std::nullopt;
  const dom::object system = found->first;  // not structured bindings: lambdas below capture it (clang 14)
  const dom::object holder = found->second;
  WindowsEvent& e = event_;
  e.clear();
  owned_.clear();
  unnamed_ = 0;
  dom::element v;
  auto child = [&](const char* name) { return system[name].get(v) ? std::string_view() : text(v); };
  auto child_attribute = [&](const char* name, const char* attr) {
    return system[name].get(v) ? std::string_view() : attribute(v, attr);
  };
  e.provider = child_attribute("Provider", "Name");
  e.provider_guid = child_attribute("Provider", "Guid");
  e.event_id = child("EventID");
  e.version = child("Version");
  e.level = child("Level");
  e.task = child("Task");
  e.opcode = child("Opcode");
  e.keywords = child("Keywords");
  e.time_created = child_attribute("TimeCreated", "SystemTime");
  double seconds = 0;  // Velociraptor's parse_evtx() writes the time as epoch seconds
  if (const char* end = e.time_created.data() + e.time_created.size();
      !e.time_created.empty() && std::from_chars(e.time_created.data(), end, seconds).ptr == end) {
    const std::optional<TimestampNs> ns = from_epoch_millis(seconds * 1000.0);
    e.time_created = ns ? std::string_view(owned_.emplace_back(format_timestamp(*ns))) : std::string_view();
  }
  e.record_id = child("EventRecordID");
  e.channel = child("Channel");
  e.computer = child("Computer");
  e.process_id = child_attribute("Execution", "ProcessID");
  e.thread_id = child_attribute("Execution", "ThreadID");
  e.user_id = child_attribute("Security", "UserID");
  if (e.provider.empty() || e.event_id.empty()) return std::nullopt;
  dom::element data;
  if (!holder["EventData"].get(data)) add_event_data(data);
  dom::object user_data;
  if (!holder["UserData"].get(data) && !data.get_object().get(user_data)) {
    // A single wrapper element (<EventXML>, <RuleAndFileData>) is left out, as winlogbeat does.
    std::size_t children = 0;
    dom::element only;
    for (auto [key, value] : user_data) {
      if (key != "#attributes" && !key.starts_with("@")) {
        ++children;
        only = value;
      }
    }
    add_user_data(children == 1 && only.is_object() ? only : data, std::string(), 0);
  }
  arena_.reset();
  DocBuilder builder(arena_);
  build_windows_document(e, builder);
  std::string out;
  append_document_json(out, builder.members());
  return out;
}

}  // namespace vigil
