// EVTX decoding: file header → chunks (checksums verified) → records →
// binary XML. Templates and names are cached per chunk, keyed by their
// offset in the chunk (the format's own identity for them). Every read is
// bounds-checked against the chunk; a malformed record fails alone, a chunk
// with a bad checksum is skipped whole, and nothing here recurses without a
// depth limit.
#include "ingest/evtx_parser.h"

#include "core/crc32.h"

#include <fmt/format.h>

#include "core/text.h"

#include <charconv>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <vector>

#include "core/timestamp.h"
#include "core/value.h"

namespace vigil {
namespace {

constexpr std::size_t kFileHeaderSize = 4096;
constexpr std::size_t kChunkSize = 65536;
constexpr std::size_t kChunkHeaderSize = 512;
constexpr int kMaxDepth = 64;

std::uint16_t u16(const char* p) { std::uint16_t v; std::memcpy(&v, p, 2); return v; }
std::uint32_t u32(const char* p) { std::uint32_t v; std::memcpy(&v, p, 4); return v; }
std::uint64_t u64(const char* p) { std::uint64_t v; std::memcpy(&v, p, 8); return v; }


std::string utf16(const char* p, std::size_t units, bool stop_at_nul) {
  std::string out;
  out.reserve(units);
  append_utf16le(out, p, units, stop_at_nul);
  return out;
}

// {XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}: the first three groups little-endian.
void append_guid(std::string& out, const char* p) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  auto hex = [&](std::uint64_t v, int digits) {
    for (int i = digits - 1; i >= 0; --i) out.push_back(kDigits[(v >> (4 * i)) & 15]);
  };
  out.push_back('{');
  hex(u32(p), 8);
  out.push_back('-');
  hex(u16(p + 4), 4);
  out.push_back('-');
  hex(u16(p + 6), 4);
  out.push_back('-');
  for (int i = 8; i < 16; ++i) {
    if (i == 10) out.push_back('-');
    hex(static_cast<unsigned char>(p[i]), 2);
  }
  out.push_back('}');
}


// An element of a decoded event (or of a template before substitution).
struct XPiece {  // one piece of text content or of an attribute value
  enum class Kind : std::uint8_t { Text, Substitution } kind = Kind::Text;
  std::string text;
  std::uint16_t index = 0;
  bool optional = false;
  bool array_item = false;  // one element of an array value (rendered as a JSON array)
};

// Element names the decoder looks for, recognised once per template.
enum class Tag : std::uint8_t {
  Other, System, EventData, UserData, Provider, EventID, TimeCreated, EventRecordID, Execution, Security,
  Channel, Computer, Version, Level, Task, Opcode, Keywords, Data,
};

Tag tag_of(std::string_view name) {
  static const std::pair<std::string_view, Tag> kTags[] = {
      {"System", Tag::System}, {"EventData", Tag::EventData}, {"UserData", Tag::UserData},
      {"Provider", Tag::Provider}, {"EventID", Tag::EventID}, {"TimeCreated", Tag::TimeCreated},
      {"EventRecordID", Tag::EventRecordID}, {"Execution", Tag::Execution}, {"Security", Tag::Security},
      {"Channel", Tag::Channel}, {"Computer", Tag::Computer}, {"Version", Tag::Version}, {"Level", Tag::Level},
      {"Task", Tag::Task}, {"Opcode", Tag::Opcode}, {"Keywords", Tag::Keywords}, {"Data", Tag::Data},
  };
  for (const auto& [n, t] : kTags) {
    if (n == name) return t;
  }
  return Tag::Other;
}

struct XElement {
  std::string name;
  Tag tag = Tag::Other;
  std::vector<std::pair<std::string, std::vector<XPiece>>> attributes;
  std::vector<XPiece> content;
  std::vector<XElement> children;
};

// A substitution value of a template instance.
struct SubValue {
  std::uint8_t type;
  std::string_view bytes;
};

class ChunkDecoder {
 public:
  explicit ChunkDecoder(std::string_view chunk) : chunk_(chunk) {}

  // Decodes the record's binary XML at [pos, end) into `out`. Strings are
  // copied into `arena`. The record's template is walked in place with the
  // record's substitution values: nothing is instantiated per record.
  bool decode_record(std::size_t pos, std::size_t end, Arena& arena, WindowsEvent& out, std::string& error) {
    depth_ = 0;
    error_.clear();
    arena_ = &arena;
    out_ = &out;
    nested_used_ = 0;
    bool ok = decode_root(pos, end);
    if (!ok) error = error_.empty() ? "record has no XML element" : error_;
    return ok;
  }

 private:
  // An element of a template together with the substitution values of the
  // instance being decoded (null for elements already instantiated).
  struct Bound {
    const XElement* element;
    const std::vector<SubValue>* values;
  };

  bool decode_root(std::size_t pos, std::size_t end) {
    while (pos < end) {
      auto token = static_cast<std::uint8_t>(chunk_[pos]);
      switch (token & 0x1f) {
        case 0x0f:  // fragment header
          if (!need(pos, 4, end)) return false;
          pos += 4;
          continue;
        case 0x0c: {  // the usual case: one template instance
          const XElement* tmpl = nullptr;
          if (!read_instance(pos, end, tmpl, record_values_)) return false;
          return extract_event({tmpl, &record_values_});
        }
        case 0x01: {
          NestedRoot& root = new_nested_root();
          if (!parse_element(pos, end, root.element)) return false;
          return extract_event({&root.element, nullptr});
        }
        default:
          return fail(pos, fmt::format("unexpected token 0x{:02x} at the start of a record", token));
      }
    }
    return false;
  }

  // Elements produced by binary XML nested in substitution values (type
  // 0x21), parsed on demand into nested_ (kept until the record is done);
  // returns how many were appended. Template instances in there are bound
  // to their values like the record's own, not instantiated.
  std::size_t nested_children(Bound b) {
    if (!b.values) return 0;
    std::size_t first = nested_used_;
    for (const auto& piece : b.element->content) {
      if (piece.kind != XPiece::Kind::Substitution || piece.index >= b.values->size()) continue;
      const SubValue& v = (*b.values)[piece.index];
      if (v.type != 0x21) continue;
      std::size_t pos = static_cast<std::size_t>(v.bytes.data() - chunk_.data());
      if (!parse_nested(pos, pos + v.bytes.size())) break;
    }
    return nested_used_ - first;
  }

  bool parse_nested(std::size_t pos, std::size_t end) {
    if (++depth_ > kMaxDepth) return fail(pos, "nesting too deep");
    while (pos < end) {
      auto token = static_cast<std::uint8_t>(chunk_[pos]);
      switch (token & 0x1f) {
        case 0x00:
          --depth_;
          return true;
        case 0x0f:
          if (!need(pos, 4, end)) return false;
          pos += 4;
          break;
        case 0x01: {
          NestedRoot& root = new_nested_root();
          if (!parse_element(pos, end, root.element)) {
            --nested_used_;  // a damaged root is not a child
            return false;
          }
          root.bound = {&root.element, nullptr};
          break;
        }
        case 0x0c: {
          NestedRoot& root = new_nested_root();
          const XElement* tmpl = nullptr;
          if (!read_instance(pos, end, tmpl, root.values)) {
            --nested_used_;
            return false;
          }
          root.bound = {tmpl, &root.values};
          break;
        }
        default:
          return fail(pos, fmt::format("unexpected token 0x{:02x} in nested binary XML", token));
      }
    }
    --depth_;
    return true;
  }

  template <typename Fn>
  void for_each_child(Bound b, Fn&& fn) {
    if (b.values) {
      // nested_ may grow while children are visited: walk by index.
      std::size_t first = nested_used_;
      std::size_t count = nested_children(b);
      for (std::size_t i = 0; i < count; ++i) fn(nested_[first + i]->bound);
    }
    for (const auto& c : b.element->children) fn(Bound{&c, b.values});
  }

  // Appends the text of pieces (array values: their items, concatenated).
  void append_text(const std::vector<XPiece>& pieces, const std::vector<SubValue>* values, std::string& out) {
    for (const auto& p : pieces) {
      if (p.kind == XPiece::Kind::Text) {
        out += p.text;
      } else if (values && p.index < values->size()) {
        const SubValue& v = (*values)[p.index];
        if (v.type == 0x21) continue;
        if (v.type & 0x80) {
          for_each_item(v, item_, [&](std::string& item) { out += item; });
        } else {
          render_scalar(v.type, v.bytes, out);
        }
      }
    }
  }

  std::string_view content_text(Bound b) {
    text_.clear();
    append_text(b.element->content, b.values, text_);
    return arena_->copy(text_);
  }

  std::string_view attribute(Bound b, std::string_view name) {
    for (const auto& [n, pieces] : b.element->attributes) {
      if (n != name) continue;
      text_.clear();
      append_text(pieces, b.values, text_);
      return arena_->copy(text_);
    }
    return {};
  }

  bool extract_event(Bound root) {
    if (!error_.empty()) return false;
    for_each_child(root, [&](Bound c) {
      switch (c.element->tag) {
        case Tag::System: extract_system(c); break;
        case Tag::EventData: extract_event_data(c); break;
        case Tag::UserData: extract_user_data(c); break;
        default: break;
      }
    });
    return error_.empty();
  }

  void extract_system(Bound system) {
    WindowsEvent& e = *out_;
    for_each_child(system, [&](Bound c) {
      switch (c.element->tag) {
        case Tag::Provider:
          e.provider = attribute(c, "Name");
          e.provider_guid = attribute(c, "Guid");
          break;
        case Tag::EventID: e.event_id = content_text(c); break;
        case Tag::TimeCreated: e.time_created = attribute(c, "SystemTime"); break;
        case Tag::EventRecordID: e.record_id = content_text(c); break;
        case Tag::Execution:
          e.process_id = attribute(c, "ProcessID");
          e.thread_id = attribute(c, "ThreadID");
          break;
        case Tag::Security: e.user_id = attribute(c, "UserID"); break;
        case Tag::Channel: e.channel = content_text(c); break;
        case Tag::Computer: e.computer = content_text(c); break;
        case Tag::Version: e.version = content_text(c); break;
        case Tag::Level: e.level = content_text(c); break;
        case Tag::Task: e.task = content_text(c); break;
        case Tag::Opcode: e.opcode = content_text(c); break;
        case Tag::Keywords: e.keywords = content_text(c); break;
        default: break;
      }
    });
  }

  // <Data Name="x">v</Data> → x = v; unnamed Data elements are param1,
  // param2, ... as winlogbeat names them; array values keep their items.
  void extract_event_data(Bound data) {
    WindowsEvent& e = *out_;
    int unnamed = 0;
    for_each_child(data, [&](Bound d) {
      std::string_view name = attribute(d, "Name");
      if (name.empty()) {
        name = d.element->tag == Tag::Data ? arena_->copy(fmt::format("param{}", ++unnamed)) : d.element->name;
      }
      // An array value (a single substitution of an array type) keeps its items.
      const auto& pieces = d.element->content;
      if (d.values && pieces.size() == 1 && pieces[0].kind == XPiece::Kind::Substitution &&
          pieces[0].index < d.values->size() && ((*d.values)[pieces[0].index].type & 0x80)) {
        WindowsEvent::ArrayValue array{e.event_data.size(), {}};
        for_each_item((*d.values)[pieces[0].index], item_,
                      [&](std::string& item) { array.items.push_back(arena_->copy(item)); });
        e.arrays.push_back(std::move(array));
        e.event_data.push_back({name, {}});
        return;
      }
      bool items_only = !pieces.empty();
      for (const auto& p : pieces) items_only &= p.kind == XPiece::Kind::Text && p.array_item;
      if (items_only) {  // already instantiated (nested binary XML) array value
        WindowsEvent::ArrayValue array{e.event_data.size(), {}};
        for (const auto& p : pieces) array.items.push_back(arena_->copy(p.text));
        e.arrays.push_back(std::move(array));
        e.event_data.push_back({name, {}});
        return;
      }
      e.event_data.push_back({name, content_text(d)});
    });
  }

  // UserData payloads become dotted paths under winlog.user_data; a single
  // wrapper element (e.g. <EventXML>) is left out, as winlogbeat does.
  void extract_user_data(Bound user_data) {
    std::size_t children = 0;
    Bound only{nullptr, nullptr};
    for_each_child(user_data, [&](Bound c) {
      ++children;
      only = c;
    });
    std::string path;
    flatten(children == 1 ? only : user_data, path, 0);
  }

  void flatten(Bound e, std::string& path, int depth) {
    if (depth > kMaxDepth) return;
    auto key = [&](std::string_view name) {
      return arena_->copy(path.empty() ? std::string(name) : path + "." + std::string(name));
    };
    for (const auto& [n, pieces] : e.element->attributes) {
      text_.clear();
      append_text(pieces, e.values, text_);
      out_->user_data.push_back({key(n), arena_->copy(text_)});
    }
    for_each_child(e, [&](Bound c) {
      bool leaf = c.element->attributes.empty() && c.element->children.empty() && nested_children_count(c) == 0;
      if (leaf) {
        out_->user_data.push_back({key(c.element->name), content_text(c)});
        return;
      }
      std::size_t size = path.size();
      if (!path.empty()) path.push_back('.');
      path += c.element->name;
      flatten(c, path, depth + 1);
      path.resize(size);
    });
  }

  std::size_t nested_children_count(Bound b) {
    if (!b.values) return 0;
    std::size_t n = 0;
    for (const auto& piece : b.element->content) {
      n += piece.kind == XPiece::Kind::Substitution && piece.index < b.values->size() &&
           (*b.values)[piece.index].type == 0x21;
    }
    return n;
  }

  bool fail(std::size_t pos, std::string what) {
    if (error_.empty()) error_ = fmt::format("binary XML at chunk offset {}: {}", pos, what);
    return false;
  }

  bool need(std::size_t pos, std::size_t n, std::size_t end) {
    if (pos + n > end || pos + n > chunk_.size()) return fail(pos, "truncated");
    return true;
  }

  const char* at(std::size_t pos) const { return chunk_.data() + pos; }

  // Name string at `offset`: next offset (4), hash (2), char count (2), UTF-16, NUL.
  bool name_at(std::uint32_t offset, std::string& name, std::size_t& size) {
    // In size_t: a 32-bit offset near 4 GiB plus 8 wraps to a small number
    // (found by fuzz/fuzz_evtx: the check passed and the read went 4 GiB out).
    if (static_cast<std::size_t>(offset) + 8 > chunk_.size()) return fail(offset, "name offset outside the chunk");
    std::uint16_t chars = u16(at(offset + 6));
    size = 8 + 2 * static_cast<std::size_t>(chars) + 2;
    if (offset + size > chunk_.size()) return fail(offset, "name runs past the chunk");
    auto it = names_.find(offset);
    if (it == names_.end()) it = names_.emplace(offset, utf16(at(offset + 8), chars, false)).first;
    name = it->second;
    return true;
  }

  // A name reference: an offset, followed by the name itself when it is defined right here.
  bool read_name(std::size_t& pos, std::size_t end, std::string& name) {
    if (!need(pos, 4, end)) return false;
    std::uint32_t offset = u32(at(pos));
    pos += 4;
    std::size_t size = 0;
    if (!name_at(offset, name, size)) return false;
    if (offset == pos) pos += size;
    return true;
  }

  // Parses tokens until EOF (0x00) or `end`, appending root elements.
  bool parse_fragment(std::size_t& pos, std::size_t end, std::vector<XElement>& out) {
    if (++depth_ > kMaxDepth) return fail(pos, "nesting too deep");
    while (pos < end) {
      auto token = static_cast<std::uint8_t>(chunk_[pos]);
      switch (token & 0x1f) {
        case 0x00:  // end of fragment
          ++pos;
          --depth_;
          return true;
        case 0x0f:  // fragment header: token, major, minor, flags
          if (!need(pos, 4, end)) return false;
          pos += 4;
          break;
        case 0x01: {
          XElement e;
          if (!parse_element(pos, end, e)) return false;
          out.push_back(std::move(e));
          break;
        }
        case 0x0c: {
          std::vector<XElement> produced;
          if (!parse_template_instance(pos, end, produced)) return false;
          for (auto& p : produced) out.push_back(std::move(p));
          break;
        }
        default:
          return fail(pos, fmt::format("unexpected token 0x{:02x} outside an element", token));
      }
    }
    --depth_;
    return true;
  }

  bool parse_element(std::size_t& pos, std::size_t end, XElement& e) {
    if (++depth_ > kMaxDepth) return fail(pos, "nesting too deep");
    bool has_attributes = (chunk_[pos] & 0x40) != 0;
    if (!need(pos, 11, end)) return false;
    pos += 1 + 2 + 4;  // token, dependency id, element size
    if (!read_name(pos, end, e.name)) return false;
    e.tag = tag_of(e.name);
    if (has_attributes) {
      if (!need(pos, 4, end)) return false;
      pos += 4;  // attribute list size
      for (;;) {
        if (!need(pos, 1, end)) return false;
        auto t = static_cast<std::uint8_t>(chunk_[pos]);
        if ((t & 0x1f) != 0x06) break;
        ++pos;
        std::string attr;
        if (!read_name(pos, end, attr)) return false;
        std::vector<XPiece> value;
        if (!parse_values(pos, end, value)) return false;
        e.attributes.emplace_back(std::move(attr), std::move(value));
        if ((t & 0x40) == 0) break;  // last attribute
      }
    }
    if (!need(pos, 1, end)) return false;
    auto close = static_cast<std::uint8_t>(chunk_[pos]);
    if (close == 0x03) {  // close empty element
      ++pos;
      --depth_;
      return true;
    }
    if (close != 0x02) return fail(pos, fmt::format("expected the end of the start tag, found 0x{:02x}", close));
    ++pos;
    // Content: text, substitutions and child elements until the end tag.
    for (;;) {
      if (!need(pos, 1, end)) return false;
      auto t = static_cast<std::uint8_t>(chunk_[pos]);
      switch (t & 0x1f) {
        case 0x04:  // end element
          ++pos;
          --depth_;
          return true;
        case 0x01: {
          XElement child;
          if (!parse_element(pos, end, child)) return false;
          e.children.push_back(std::move(child));
          break;
        }
        case 0x0c: {
          std::vector<XElement> produced;
          if (!parse_template_instance(pos, end, produced)) return false;
          for (auto& p : produced) e.children.push_back(std::move(p));
          break;
        }
        case 0x05: case 0x07: case 0x08: case 0x09: case 0x0d: case 0x0e: {
          if (!parse_one_value(pos, end, e.content)) return false;
          break;
        }
        case 0x0a: case 0x0b: {  // processing instructions carry no event data
          if (!skip_pi(pos, end)) return false;
          break;
        }
        default:
          return fail(pos, fmt::format("unexpected token 0x{:02x} in element content", t));
      }
    }
  }

  bool skip_pi(std::size_t& pos, std::size_t end) {
    auto t = static_cast<std::uint8_t>(chunk_[pos] & 0x1f);
    ++pos;
    if (t == 0x0a) {
      std::string ignored;
      return read_name(pos, end, ignored);
    }
    if (!need(pos, 2, end)) return false;
    std::size_t chars = u16(at(pos));
    pos += 2;
    if (!need(pos, 2 * chars, end)) return false;
    pos += 2 * chars;
    return true;
  }

  // Attribute values: value tokens until something else starts.
  bool parse_values(std::size_t& pos, std::size_t end, std::vector<XPiece>& out) {
    for (;;) {
      if (!need(pos, 1, end)) return false;
      auto t = static_cast<std::uint8_t>(chunk_[pos] & 0x1f);
      if (t != 0x05 && t != 0x08 && t != 0x09 && t != 0x0d && t != 0x0e && t != 0x07) return true;
      if (!parse_one_value(pos, end, out)) return false;
    }
  }

  bool parse_one_value(std::size_t& pos, std::size_t end, std::vector<XPiece>& out) {
    auto t = static_cast<std::uint8_t>(chunk_[pos] & 0x1f);
    switch (t) {
      case 0x05: {  // value: type, then (for strings) char count and UTF-16
        if (!need(pos, 2, end)) return false;
        std::uint8_t type = static_cast<std::uint8_t>(chunk_[pos + 1]);
        pos += 2;
        if (type != 0x01) return fail(pos, fmt::format("value token of type 0x{:02x}", type));
        if (!need(pos, 2, end)) return false;
        std::size_t chars = u16(at(pos));
        pos += 2;
        if (!need(pos, 2 * chars, end)) return false;
        out.push_back({XPiece::Kind::Text, utf16(at(pos), chars, false), 0, false});
        pos += 2 * chars;
        return true;
      }
      case 0x07: {  // CDATA
        if (!need(pos, 3, end)) return false;
        std::size_t chars = u16(at(pos + 1));
        pos += 3;
        if (!need(pos, 2 * chars, end)) return false;
        out.push_back({XPiece::Kind::Text, utf16(at(pos), chars, false), 0, false});
        pos += 2 * chars;
        return true;
      }
      case 0x08: {  // character reference
        if (!need(pos, 3, end)) return false;
        std::string s;
        append_utf8(s, u16(at(pos + 1)));
        out.push_back({XPiece::Kind::Text, std::move(s), 0, false});
        pos += 3;
        return true;
      }
      case 0x09: {  // entity reference
        ++pos;
        std::string name;
        if (!read_name(pos, end, name)) return false;
        static const std::pair<const char*, const char*> kEntities[] = {
            {"amp", "&"}, {"lt", "<"}, {"gt", ">"}, {"quot", "\""}, {"apos", "'"}};
        std::string text = "&" + name + ";";
        for (const auto& [n, v] : kEntities) {
          if (name == n) text = v;
        }
        out.push_back({XPiece::Kind::Text, std::move(text), 0, false});
        return true;
      }
      case 0x0d:
      case 0x0e: {  // normal / optional substitution: id (2), type (1)
        if (!need(pos, 4, end)) return false;
        out.push_back({XPiece::Kind::Substitution, {}, u16(at(pos + 1)), t == 0x0e});
        pos += 4;
        return true;
      }
      default: return fail(pos, fmt::format("unexpected value token 0x{:02x}", t));
    }
  }

  // Template instance: token, unknown (1), template id (4), definition offset (4),
  // [inline definition], value count (4), descriptors (size 2, type 1, pad 1), values.
  bool read_instance(std::size_t& pos, std::size_t end, const XElement*& tmpl, std::vector<SubValue>& values) {
    if (!need(pos, 10, end)) return false;
    std::uint32_t def_offset = u32(at(pos + 6));
    pos += 10;
    if (!template_at(def_offset, tmpl)) return false;
    if (def_offset == pos) {  // defined inline: skip its header (24 bytes) and data
      if (!need(pos, 24, end)) return false;
      pos += 24 + static_cast<std::size_t>(u32(at(pos + 20)));
    }
    if (!need(pos, 4, end)) return false;
    std::uint32_t count = u32(at(pos));
    pos += 4;
    if (count > 4096 || !need(pos, 4 * static_cast<std::size_t>(count), end)) return fail(pos, "bad substitution count");
    values.resize(count);
    std::size_t data = pos + 4 * static_cast<std::size_t>(count);
    for (std::uint32_t i = 0; i < count; ++i) {
      std::size_t size = u16(at(pos + 4 * i));
      std::uint8_t type = static_cast<std::uint8_t>(chunk_[pos + 4 * i + 2]);
      if (!need(data, size, end)) return fail(data, "substitution value runs past the record");
      values[i] = {type, chunk_.substr(data, size)};
      data += size;
    }
    pos = data;
    return true;
  }

  // A template instance inside nested binary XML: instantiated in full (rare).
  bool parse_template_instance(std::size_t& pos, std::size_t end, std::vector<XElement>& out) {
    const XElement* tmpl = nullptr;
    std::vector<SubValue> values;
    if (!read_instance(pos, end, tmpl, values)) return false;
    XElement instance;
    if (!instantiate(*tmpl, values, instance)) return false;
    out.push_back(std::move(instance));
    return true;
  }

  // Parses (once per chunk) the template definition at `offset`.
  bool template_at(std::uint32_t offset, const XElement*& out) {
    auto it = templates_.find(offset);
    if (it != templates_.end()) {
      if (!it->second) return fail(offset, "template refers to itself");
      out = it->second.get();
      return true;
    }
    if (static_cast<std::size_t>(offset) + 24 > chunk_.size()) return fail(offset, "template offset outside the chunk");
    std::size_t size = u32(at(offset + 20));
    std::size_t start = offset + 24;
    if (start + size > chunk_.size()) return fail(offset, "template runs past the chunk");
    templates_[offset] = nullptr;  // guards against a template that instantiates itself
    std::vector<XElement> roots;
    std::size_t pos = start;
    if (!parse_fragment(pos, start + size, roots)) return false;
    if (roots.empty()) return fail(offset, "empty template");
    auto& slot = templates_[offset];
    slot = std::make_unique<XElement>(std::move(roots.front()));
    out = slot.get();
    return true;
  }

  bool instantiate(const XElement& tmpl, const std::vector<SubValue>& values, XElement& out) {
    if (++depth_ > kMaxDepth) return fail(0, "nesting too deep");
    out.name = tmpl.name;
    out.tag = tmpl.tag;
    for (const auto& [name, pieces] : tmpl.attributes) {
      std::vector<XPiece> resolved;
      std::vector<XElement> ignored;
      if (!resolve(pieces, values, resolved, ignored)) return false;
      out.attributes.emplace_back(name, std::move(resolved));
    }
    if (!resolve(tmpl.content, values, out.content, out.children)) return false;
    for (const auto& child : tmpl.children) {
      XElement c;
      if (!instantiate(child, values, c)) return false;
      out.children.push_back(std::move(c));
    }
    --depth_;
    return true;
  }

  bool resolve(const std::vector<XPiece>& pieces, const std::vector<SubValue>& values, std::vector<XPiece>& text,
               std::vector<XElement>& children) {
    for (const auto& p : pieces) {
      if (p.kind == XPiece::Kind::Text) {
        text.push_back(p);
        continue;
      }
      if (p.index >= values.size()) continue;  // Windows renders a missing value as empty
      const SubValue& v = values[p.index];
      if (v.type == 0x21) {  // nested binary XML (EventData/UserData payloads)
        std::vector<XElement> nested;
        std::size_t pos = static_cast<std::size_t>(v.bytes.data() - chunk_.data());
        if (!parse_fragment(pos, pos + v.bytes.size(), nested)) return false;
        for (auto& n : nested) children.push_back(std::move(n));
        continue;
      }
      render_value(v, text);
    }
    return true;
  }

  // Renders a substitution value as Windows renders it in event XML; array
  // values become one piece per item.
  static void render_value(const SubValue& v, std::vector<XPiece>& out) {
    std::string text;
    if (v.type & 0x80) {
      for_each_item(v, text, [&](std::string& item) { out.push_back({XPiece::Kind::Text, item, 0, false, true}); });
      return;
    }
    if (render_scalar(v.type, v.bytes, text)) out.push_back({XPiece::Kind::Text, std::move(text), 0, false});
  }

 public:
  // Calls fn(item_text) for each item of an array value (`scratch` holds the text).
  template <typename Fn>
  static void for_each_item(const SubValue& v, std::string& scratch, Fn&& fn) {
    std::uint8_t base = v.type & 0x7f;
    if (base == 0x01) {  // UTF-16 strings, each NUL-terminated; empty strings count
      std::string all;
      append_utf16le(all, v.bytes.data(), v.bytes.size() / 2, false);
      std::size_t start = 0;
      for (std::size_t i = 0; i < all.size(); ++i) {
        if (all[i] == '\0') {
          scratch.assign(all, start, i - start);
          fn(scratch);
          start = i + 1;
        }
      }
      if (start < all.size()) {
        scratch.assign(all, start);
        fn(scratch);
      }
      return;
    }
    std::size_t width = element_width(base);
    if (width == 0) return;
    for (std::size_t off = 0; off + width <= v.bytes.size(); off += width) {
      scratch.clear();
      if (render_scalar(base, v.bytes.substr(off, width), scratch)) fn(scratch);
    }
  }

  // Appends the text of a non-array value; false when it renders to nothing.
  static bool render_scalar(std::uint8_t type, std::string_view bytes, std::string& out) {
    const char* p = bytes.data();
    std::size_t n = bytes.size();
    auto number = [&](auto x) {
      char buf[32];
      auto r = std::to_chars(buf, buf + sizeof(buf), x);
      out.append(buf, r.ptr);
      return true;
    };
    auto hex_number = [&](std::uint64_t x) {
      char buf[32];
      auto r = std::to_chars(buf, buf + sizeof(buf), x, 16);
      out += "0x";
      out.append(buf, r.ptr);
      return true;
    };
    auto hex_bytes = [&] {  // binary: upper-case hex, as Windows renders it
      static constexpr char kDigits[] = "0123456789ABCDEF";
      for (std::size_t i = 0; i < n; ++i) {
        auto b = static_cast<unsigned char>(p[i]);
        out.push_back(kDigits[b >> 4]);
        out.push_back(kDigits[b & 15]);
      }
      return n > 0;
    };
    switch (type & 0x7f) {
      case 0x00: return false;  // null
      case 0x01: {
        std::size_t before = out.size();
        append_utf16le(out, p, n / 2, true);
        return out.size() > before;
      }
      case 0x02: out.append(p, strnlen(p, n)); return true;
      case 0x03: return n >= 1 && number(static_cast<int>(static_cast<std::int8_t>(p[0])));
      case 0x04: return n >= 1 && number(static_cast<unsigned>(static_cast<std::uint8_t>(p[0])));
      case 0x05: return n >= 2 && number(static_cast<std::int16_t>(u16(p)));
      case 0x06: return n >= 2 && number(u16(p));
      case 0x07: return n >= 4 && number(static_cast<std::int32_t>(u32(p)));
      case 0x08: return n >= 4 && number(u32(p));
      case 0x09: return n >= 8 && number(static_cast<std::int64_t>(u64(p)));
      case 0x0a: return n >= 8 && number(u64(p));
      case 0x0b: if (n >= 4) { float f; std::memcpy(&f, p, 4); out += fmt::format("{}", f); } return n >= 4;
      case 0x0c: if (n >= 8) { double d; std::memcpy(&d, p, 8); out += fmt::format("{}", d); } return n >= 8;
      case 0x0d: if (n >= 4) out += u32(p) ? "true" : "false"; return n >= 4;
      case 0x0e: return hex_bytes();
      case 0x0f: if (n >= 16) append_guid(out, p); return n >= 16;
      case 0x10: return n >= 8 ? hex_number(u64(p)) : n >= 4 ? hex_number(u32(p)) : false;
      case 0x11: if (n >= 8) out += format_filetime_text(u64(p)); return n >= 8;
      case 0x12:
        if (n >= 16) {
          out += fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", u16(p), u16(p + 2), u16(p + 6), u16(p + 8),
                             u16(p + 10), u16(p + 12), u16(p + 14));
        }
        return n >= 16;
      case 0x13: {  // SID: revision, sub-authority count, 48-bit authority (big-endian), sub-authorities
        if (n < 8) return false;
        std::size_t count = static_cast<unsigned char>(p[1]);
        std::uint64_t authority = 0;
        for (int i = 2; i < 8; ++i) authority = (authority << 8) | static_cast<unsigned char>(p[i]);
        out += "S-";
        number(static_cast<unsigned>(static_cast<unsigned char>(p[0])));
        out.push_back('-');
        number(authority);
        for (std::size_t i = 0; i < count && 8 + 4 * i + 4 <= n; ++i) {
          out.push_back('-');
          number(u32(p + 8 + 4 * i));
        }
        return true;
      }
      case 0x14: return n >= 4 && hex_number(u32(p));
      case 0x15: return n >= 8 && hex_number(u64(p));
      default: return hex_bytes();  // unknown type: keep the bytes, in hex
    }
  }

 private:
  static std::size_t element_width(std::uint8_t type) {
    switch (type) {
      case 0x03: case 0x04: return 1;
      case 0x05: case 0x06: return 2;
      case 0x07: case 0x08: case 0x0b: case 0x0d: case 0x14: return 4;
      case 0x09: case 0x0a: case 0x0c: case 0x11: case 0x15: return 8;
      case 0x0f: case 0x12: return 16;
      default: return 0;
    }
  }

  std::string_view chunk_;
  Arena* arena_ = nullptr;
  WindowsEvent* out_ = nullptr;
  std::vector<SubValue> record_values_;  // the record's substitution values (reused)
  // A root of nested binary XML: an element parsed in full, or a template bound to its values.
  struct NestedRoot {
    XElement element;
    std::vector<SubValue> values;
    Bound bound{nullptr, nullptr};
  };
  // Nested roots of the current record (see nested_children()), recycled
  // across records; held by pointer so references stay valid as it grows.
  std::vector<std::unique_ptr<NestedRoot>> nested_;
  std::size_t nested_used_ = 0;

  NestedRoot& new_nested_root() {
    if (nested_used_ == nested_.size()) nested_.push_back(std::make_unique<NestedRoot>());
    NestedRoot& root = *nested_[nested_used_++];
    root.element = XElement();
    root.values.clear();
    root.bound = {nullptr, nullptr};
    return root;
  }
  std::string text_;                     // scratch for one value's text
  std::string item_;                     // scratch for one array item
  std::unordered_map<std::uint32_t, std::string> names_;
  std::unordered_map<std::uint32_t, std::unique_ptr<XElement>> templates_;
  int depth_ = 0;
  std::string error_;
};

bool all_zero(std::string_view bytes) {
  static const char kZeros[4096] = {};
  for (std::size_t off = 0; off < bytes.size(); off += sizeof(kZeros)) {
    std::size_t n = std::min(sizeof(kZeros), bytes.size() - off);
    if (std::memcmp(bytes.data() + off, kZeros, n) != 0) return false;
  }
  return true;
}

bool chunk_checksums_ok(std::string_view chunk, std::string& reason) {
  const auto* p = reinterpret_cast<const unsigned char*>(chunk.data());
  std::uint32_t header = vigil::crc32(0, p, 120);
  header = vigil::crc32(header, p + 128, kChunkHeaderSize - 128);
  if (header != u32(chunk.data() + 124)) {
    reason = "chunk header checksum mismatch";
    return false;
  }
  std::uint32_t free_offset = u32(chunk.data() + 48);
  if (free_offset < kChunkHeaderSize || free_offset > kChunkSize) {
    reason = fmt::format("chunk free-space offset {} out of range", free_offset);
    return false;
  }
  std::uint32_t data = vigil::crc32(0, p + kChunkHeaderSize, free_offset - kChunkHeaderSize);
  if (data != u32(chunk.data() + 52)) {
    reason = "chunk event records checksum mismatch";
    return false;
  }
  return true;
}

}  // namespace

std::vector<std::uint64_t> evtx_chunk_offsets(std::string_view file, const EvtxCallbacks& cb) {
  std::vector<std::uint64_t> chunks;
  if (!is_evtx(file) || file.size() < kFileHeaderSize) {
    cb.on_error(0, "not an EVTX file or truncated file header");
    return chunks;
  }
  if (vigil::crc32(0, file.data(), 120) != u32(file.data() + 124)) {
    // The header may be stale (a dirty log): report it, read the chunks anyway.
    cb.on_warning(0, "file header checksum mismatch (chunks read anyway)");
  }
  for (std::size_t offset = kFileHeaderSize; offset < file.size(); offset += kChunkSize) {
    if (offset + kChunkSize > file.size()) {
      cb.on_error(offset, fmt::format("truncated chunk ({} of {} bytes)", file.size() - offset, kChunkSize));
      break;
    }
    std::string_view chunk = file.substr(offset, kChunkSize);
    if (chunk.substr(0, 8) != std::string_view("ElfChnk\0", 8)) {
      // Unused chunks at the end of a log are zero-filled; anything else is damage.
      if (!all_zero(chunk)) cb.on_error(offset, "bad chunk signature");
      continue;
    }
    chunks.push_back(offset);
  }
  return chunks;
}

bool decode_evtx_chunk(std::string_view file, std::uint64_t offset, const EvtxCallbacks& cb, EvtxScratch& scratch) {
  std::string_view chunk = file.substr(offset, kChunkSize);
  std::uint32_t free_offset = u32(chunk.data() + 48);
  if (free_offset < kChunkHeaderSize || free_offset > kChunkSize) {
    cb.on_error(offset, fmt::format("chunk free-space offset {} out of range; chunk skipped", free_offset));
    return true;
  }
  std::string reason;
  if (!chunk_checksums_ok(chunk, reason)) {
    // Logs copied from live systems often carry stale checksums while every
    // record is intact (EVTX records carry their own framing): decode the
    // chunk anyway, record by record, and say so.
    cb.on_warning(offset, reason + "; records decoded individually");
  }
  ChunkDecoder decoder(chunk);
  Arena& arena = scratch.strings ? *scratch.strings : scratch.arena;
  WindowsEvent& event = scratch.event;
  std::size_t pos = kChunkHeaderSize;
  while (pos + 28 <= free_offset) {
    if (u32(chunk.data() + pos) != 0x00002a2a) {
      cb.on_error(offset + pos, "bad record signature; rest of chunk skipped");
      break;
    }
    std::uint32_t size = u32(chunk.data() + pos + 4);
    if (size < 28 || pos + size > free_offset || u32(chunk.data() + pos + size - 4) != size) {
      cb.on_error(offset + pos, fmt::format("bad record size {}; rest of chunk skipped", size));
      break;
    }
    std::uint64_t record_id = u64(chunk.data() + pos + 8);
    std::uint64_t written = u64(chunk.data() + pos + 16);
    if (!scratch.strings) arena.reset();
    event.clear();
    std::string error;
    if (decoder.decode_record(pos + 24, pos + size - 4, arena, event, error)) {
      // The record header holds the id and time when the XML lacks them.
      if (event.record_id.empty()) event.record_id = arena.copy(std::to_string(record_id));
      if (event.time_created.empty()) event.time_created = arena.copy(format_filetime_text(written));
      if (!cb.on_record(event, record_id, offset + pos)) return false;
    } else {
      cb.on_error(offset + pos, fmt::format("record {}: {}", record_id, error));
    }
    pos += size;
  }
  return true;
}

bool parse_evtx(std::string_view file, const EvtxCallbacks& cb) {
  EvtxScratch scratch;
  for (std::uint64_t offset : evtx_chunk_offsets(file, cb)) {
    if (!decode_evtx_chunk(file, offset, cb, scratch)) return false;
  }
  return true;
}

}  // namespace vigil
