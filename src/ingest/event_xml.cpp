// Event XML: <Event> elements are found by a linear scan and each is parsed
// alone with pugixml, so one damaged event costs only itself and exports
// without a root element (wevtutil's) need no rewriting.
#include "ingest/event_xml.h"

#include <fmt/format.h>
#include <pugixml.hpp>

#include <cstring>

#include "core/arena.h"
#include "core/text.h"

namespace vigil {
namespace {

constexpr int kMaxDepth = 64;

std::string_view local_name(const char* name) {
  std::string_view n(name);
  std::size_t colon = n.find(':');
  return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

std::string_view skip_bom_and_space(std::string_view s) {
  const std::size_t first = significant_start(s);
  return first == std::string_view::npos ? std::string_view() : s.substr(first);
}

// Position of the next "<Event" start tag (not "<Events", not "<EventData").
std::size_t find_event_start(std::string_view text, std::size_t from) {
  for (;;) {
    std::size_t p = text.find("<Event", from);
    if (p == std::string_view::npos) return p;
    char next = p + 6 < text.size() ? text[p + 6] : '\0';
    if (next == ' ' || next == '>' || next == '\t' || next == '\r' || next == '\n' || next == '/') return p;
    from = p + 6;
  }
}

class EventXmlDecoder {
 public:
  bool decode(const pugi::xml_node& event_node, WindowsEvent& out) {
    arena_.reset();
    out.clear();
    out_ = &out;
    for (pugi::xml_node c : event_node.children()) {
      if (c.type() != pugi::node_element) continue;
      std::string_view name = local_name(c.name());
      if (name == "System") {
        system(c);
      } else if (name == "EventData") {
        event_data(c);
      } else if (name == "UserData") {
        std::size_t elements = 0;
        pugi::xml_node only;
        for (pugi::xml_node u : c.children()) {
          if (u.type() == pugi::node_element) {
            ++elements;
            only = u;
          }
        }
        std::string path;
        flatten(elements == 1 ? only : c, path, 0);
      }
    }
    return true;
  }

 private:
  void system(const pugi::xml_node& system_node) {
    WindowsEvent& e = *out_;
    for (pugi::xml_node c : system_node.children()) {
      if (c.type() != pugi::node_element) continue;
      std::string_view name = local_name(c.name());
      if (name == "Provider") {
        e.provider = c.attribute("Name").value();
        e.provider_guid = c.attribute("Guid").value();
      } else if (name == "EventID") {
        e.event_id = c.child_value();
      } else if (name == "TimeCreated") {
        e.time_created = c.attribute("SystemTime").value();
      } else if (name == "EventRecordID") {
        e.record_id = c.child_value();
      } else if (name == "Execution") {
        e.process_id = c.attribute("ProcessID").value();
        e.thread_id = c.attribute("ThreadID").value();
      } else if (name == "Security") {
        e.user_id = c.attribute("UserID").value();
      } else if (name == "Channel") {
        e.channel = c.child_value();
      } else if (name == "Computer") {
        e.computer = c.child_value();
      } else if (name == "Version") {
        e.version = c.child_value();
      } else if (name == "Level") {
        e.level = c.child_value();
      } else if (name == "Task") {
        e.task = c.child_value();
      } else if (name == "Opcode") {
        e.opcode = c.child_value();
      } else if (name == "Keywords") {
        e.keywords = c.child_value();
      }
    }
  }

  // All text under a node (Data values may be split by entities or CDATA).
  std::string_view text_of(const pugi::xml_node& node) {
    std::string text;
    for (pugi::xml_node t : node.children()) {
      if (t.type() == pugi::node_pcdata || t.type() == pugi::node_cdata) text += t.value();
    }
    return arena_.copy(text);
  }

  void event_data(const pugi::xml_node& data_node) {
    int unnamed = 0;
    for (pugi::xml_node d : data_node.children()) {
      if (d.type() != pugi::node_element) continue;
      std::string_view name = d.attribute("Name").value();
      std::string_view element = local_name(d.name());
      if (name.empty()) name = element == "Data" ? arena_.copy(fmt::format("param{}", ++unnamed)) : element;
      out_->event_data.push_back({name, text_of(d)});
    }
  }

  void flatten(const pugi::xml_node& node, std::string& path, int depth) {
    if (depth > kMaxDepth) return;
    auto key = [&](std::string_view name) {
      return arena_.copy(path.empty() ? std::string(name) : path + "." + std::string(name));
    };
    for (pugi::xml_attribute a : node.attributes()) {
      std::string_view name = local_name(a.name());
      if (std::string_view(a.name()).starts_with("xmlns")) continue;
      out_->user_data.push_back({key(name), a.value()});
    }
    for (pugi::xml_node c : node.children()) {
      if (c.type() != pugi::node_element) continue;
      bool leaf = c.first_attribute().empty() && !c.find_child([](pugi::xml_node n) {
        return n.type() == pugi::node_element;
      });
      std::string_view name = local_name(c.name());
      if (leaf) {
        out_->user_data.push_back({key(name), text_of(c)});
        continue;
      }
      std::size_t size = path.size();
      if (!path.empty()) path.push_back('.');
      path += name;
      flatten(c, path, depth + 1);
      path.resize(size);
    }
  }

  Arena arena_{4096};
  WindowsEvent* out_ = nullptr;
};

}  // namespace

bool looks_like_event_xml(std::string_view head) {
  if (head.starts_with("\xff\xfe")) {  // UTF-16LE: look at the first characters
    std::string start = utf16le_to_utf8(head.substr(2, std::min<std::size_t>(head.size() - 2, 256) & ~std::size_t{1}));
    return looks_like_event_xml(start);
  }
  std::string_view s = skip_bom_and_space(head);
  return s.starts_with("<?xml") || s.starts_with("<Events") || s.starts_with("<Event ") ||
         s.starts_with("<Event>") || s.starts_with("<Event\t") || s.starts_with("<Event\r") || s.starts_with("<Event\n");
}

bool parse_event_xml(std::string_view input, const EventXmlCallbacks& cb) {
  std::string converted;
  std::string_view text = input;
  if (input.starts_with("\xff\xfe")) {
    converted = utf16le_to_utf8(input.substr(2));
    text = converted;
  }
  EventXmlDecoder decoder;
  WindowsEvent event;
  pugi::xml_document doc;
  std::uint64_t number = 0;
  for (std::size_t start = find_event_start(text, 0); start != std::string_view::npos;) {
    ++number;
    std::size_t close = text.find("</Event>", start);
    std::size_t next = find_event_start(text, start + 6);
    // A self-closing or unterminated event ends where the next one starts.
    std::size_t end = close == std::string_view::npos ? (next == std::string_view::npos ? text.size() : next)
                                                      : close + 8;
    if (next != std::string_view::npos && next < end) end = next;
    std::string_view segment = text.substr(start, end - start);
    pugi::xml_parse_result result = doc.load_buffer(segment.data(), segment.size(), pugi::parse_default | pugi::parse_ws_pcdata_single,
                                                    pugi::encoding_utf8);
    pugi::xml_node node = doc.child("Event");
    if (!node) {
      for (pugi::xml_node c : doc.children()) {
        if (c.type() == pugi::node_element && local_name(c.name()) == "Event") node = c;
      }
    }
    if (!result || !node) {
      // pugixml may report the offset just past the end of a truncated segment: clamp it.
      std::uint64_t where = start + (result ? 0 : std::min<std::uint64_t>(static_cast<std::uint64_t>(result.offset),
                                                                            segment.size() ? segment.size() - 1 : 0));
      cb.on_error(number, where,
                  fmt::format("malformed event XML: {}", result ? "no <Event> element" : result.description()));
    } else {
      decoder.decode(node, event);
      if (!cb.on_event(event, number, start)) return false;
    }
    start = next;
  }
  return true;
}

}  // namespace vigil
