// EVTX decoding: file header → chunks (checksums verified) → records →
// binary XML. Templates and names are cached per chunk, keyed by their
// offset in the chunk (the format's own identity for them). Every read is
// bounds-checked against the chunk; a malformed record fails alone, a chunk
// with a bad checksum is skipped whole, and nothing here recurses without a
// depth limit.
#include "ingest/evtx_parser.h"

#include <fmt/format.h>

#include "core/text.h"
#include <zlib.h>

#include <cstring>
#include <memory>
#include <unordered_map>
#include <vector>

#include "core/timestamp.h"
#include "core/value.h"
#include "ingest/ecs_mapping.h"

namespace vigil {
namespace {

constexpr std::size_t kFileHeaderSize = 4096;
constexpr std::size_t kChunkSize = 65536;
constexpr std::size_t kChunkHeaderSize = 512;
constexpr int kMaxDepth = 64;

std::uint16_t u16(const char* p) { std::uint16_t v; std::memcpy(&v, p, 2); return v; }
std::uint32_t u32(const char* p) { std::uint32_t v; std::memcpy(&v, p, 4); return v; }
std::uint64_t u64(const char* p) { std::uint64_t v; std::memcpy(&v, p, 8); return v; }


// UTF-16LE to UTF-8; unpaired surrogates become U+FFFD; stops at a NUL when asked.
std::string utf16(const char* p, std::size_t units, bool stop_at_nul) {
  std::string out;
  out.reserve(units);
  for (std::size_t i = 0; i < units; ++i) {
    std::uint32_t c = u16(p + 2 * i);
    if (c == 0 && stop_at_nul) break;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < units) {
      std::uint32_t lo = u16(p + 2 * (i + 1));
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        append_utf8(out, 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00));
        ++i;
        continue;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    append_utf8(out, c);
  }
  return out;
}

std::string format_guid(const char* p) {
  return fmt::format("{{{:08X}-{:04X}-{:04X}-{:02X}{:02X}-{:02X}{:02X}{:02X}{:02X}{:02X}{:02X}}}", u32(p), u16(p + 4),
                     u16(p + 6), static_cast<unsigned char>(p[8]), static_cast<unsigned char>(p[9]),
                     static_cast<unsigned char>(p[10]), static_cast<unsigned char>(p[11]),
                     static_cast<unsigned char>(p[12]), static_cast<unsigned char>(p[13]),
                     static_cast<unsigned char>(p[14]), static_cast<unsigned char>(p[15]));
}

std::string format_filetime(std::uint64_t ticks) { return format_filetime_text(ticks); }

// An element of a decoded event (or of a template before substitution).
struct XPiece {  // one piece of text content or of an attribute value
  enum class Kind : std::uint8_t { Text, Substitution } kind = Kind::Text;
  std::string text;
  std::uint16_t index = 0;
  bool optional = false;
  bool array_item = false;  // one element of an array value (rendered as a JSON array)
};

struct XElement {
  std::string name;
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

  // Decodes the record's binary XML at [pos, end) into its root element.
  bool decode_record(std::size_t pos, std::size_t end, XElement& root, std::string& error) {
    depth_ = 0;
    error_.clear();
    std::vector<XElement> roots;
    bool ok = parse_fragment(pos, end, roots);
    if (!ok || roots.empty()) {
      error = error_.empty() ? "record has no XML element" : error_;
      return false;
    }
    root = std::move(roots.front());
    return true;
  }

 private:
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
    if (offset + 8 > chunk_.size()) return fail(offset, "name offset outside the chunk");
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
  bool parse_template_instance(std::size_t& pos, std::size_t end, std::vector<XElement>& out) {
    if (!need(pos, 10, end)) return false;
    std::uint32_t def_offset = u32(at(pos + 6));
    pos += 10;
    const XElement* tmpl = nullptr;
    if (!template_at(def_offset, tmpl)) return false;
    if (def_offset == pos) {  // defined inline: skip its header (24 bytes) and data
      if (!need(pos, 24, end)) return false;
      pos += 24 + u32(at(pos + 20));
    }
    if (!need(pos, 4, end)) return false;
    std::uint32_t count = u32(at(pos));
    pos += 4;
    if (count > 4096 || !need(pos, 4 * static_cast<std::size_t>(count), end)) return fail(pos, "bad substitution count");
    std::vector<SubValue> values(count);
    std::size_t data = pos + 4 * static_cast<std::size_t>(count);
    for (std::uint32_t i = 0; i < count; ++i) {
      std::size_t size = u16(at(pos + 4 * i));
      std::uint8_t type = static_cast<std::uint8_t>(chunk_[pos + 4 * i + 2]);
      if (!need(data, size, end)) return fail(data, "substitution value runs past the record");
      values[i] = {type, chunk_.substr(data, size)};
      data += size;
    }
    pos = data;
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

  // Renders a substitution value as Windows renders it in event XML.
  static void render_value(const SubValue& v, std::vector<XPiece>& out, bool array_item = false) {
    const char* p = v.bytes.data();
    std::size_t n = v.bytes.size();
    auto push = [&](std::string s) { out.push_back({XPiece::Kind::Text, std::move(s), 0, false, array_item}); };
    std::uint8_t base = v.type & 0x7f;
    if (v.type & 0x80) {  // arrays
      auto push_item = [&](std::string s) { out.push_back({XPiece::Kind::Text, std::move(s), 0, false, true}); };
      if (base == 0x01) {  // UTF-16 strings, each NUL-terminated; empty strings count
        std::string all = utf16(p, n / 2, false);
        std::size_t start = 0;
        for (std::size_t i = 0; i < all.size(); ++i) {
          if (all[i] == '\0') {
            push_item(all.substr(start, i - start));
            start = i + 1;
          }
        }
        if (start < all.size()) push_item(all.substr(start));
        return;
      }
      std::size_t width = element_width(base);
      if (width == 0) return;
      for (std::size_t off = 0; off + width <= n; off += width) render_value({base, v.bytes.substr(off, width)}, out, true);
      return;
    }
    switch (base) {
      case 0x00: return;  // null
      case 0x01: push(utf16(p, n / 2, true)); return;
      case 0x02: push(std::string(p, strnlen(p, n))); return;
      case 0x03: if (n >= 1) push(fmt::format("{}", static_cast<std::int8_t>(p[0]))); return;
      case 0x04: if (n >= 1) push(fmt::format("{}", static_cast<std::uint8_t>(p[0]))); return;
      case 0x05: if (n >= 2) push(fmt::format("{}", static_cast<std::int16_t>(u16(p)))); return;
      case 0x06: if (n >= 2) push(fmt::format("{}", u16(p))); return;
      case 0x07: if (n >= 4) push(fmt::format("{}", static_cast<std::int32_t>(u32(p)))); return;
      case 0x08: if (n >= 4) push(fmt::format("{}", u32(p))); return;
      case 0x09: if (n >= 8) push(fmt::format("{}", static_cast<std::int64_t>(u64(p)))); return;
      case 0x0a: if (n >= 8) push(fmt::format("{}", u64(p))); return;
      case 0x0b: if (n >= 4) { float f; std::memcpy(&f, p, 4); push(fmt::format("{}", f)); } return;
      case 0x0c: if (n >= 8) { double d; std::memcpy(&d, p, 8); push(fmt::format("{}", d)); } return;
      case 0x0d: if (n >= 4) push(u32(p) ? "true" : "false"); return;
      case 0x0e: {  // binary: upper-case hex, as Windows renders it
        std::string hex;
        for (std::size_t i = 0; i < n; ++i) hex += fmt::format("{:02X}", static_cast<unsigned char>(p[i]));
        push(std::move(hex));
        return;
      }
      case 0x0f: if (n >= 16) push(format_guid(p)); return;
      case 0x10: push(n >= 8 ? fmt::format("0x{:x}", u64(p)) : n >= 4 ? fmt::format("0x{:x}", u32(p)) : ""); return;
      case 0x11: if (n >= 8) push(format_filetime(u64(p))); return;
      case 0x12:
        if (n >= 16) {
          push(fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", u16(p), u16(p + 2), u16(p + 6), u16(p + 8),
                           u16(p + 10), u16(p + 12), u16(p + 14)));
        }
        return;
      case 0x13: {  // SID: revision, sub-authority count, 48-bit authority (big-endian), sub-authorities
        if (n < 8) return;
        std::size_t count = static_cast<unsigned char>(p[1]);
        std::uint64_t authority = 0;
        for (int i = 2; i < 8; ++i) authority = (authority << 8) | static_cast<unsigned char>(p[i]);
        std::string sid = fmt::format("S-{}-{}", static_cast<unsigned char>(p[0]), authority);
        for (std::size_t i = 0; i < count && 8 + 4 * i + 4 <= n; ++i) sid += fmt::format("-{}", u32(p + 8 + 4 * i));
        push(std::move(sid));
        return;
      }
      case 0x14: if (n >= 4) push(fmt::format("0x{:x}", u32(p))); return;
      case 0x15: if (n >= 8) push(fmt::format("0x{:x}", u64(p))); return;
      default: {  // unknown type: keep the bytes, in hex
        std::string hex;
        for (std::size_t i = 0; i < n; ++i) hex += fmt::format("{:02X}", static_cast<unsigned char>(p[i]));
        push(std::move(hex));
      }
    }
  }

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
  std::unordered_map<std::uint32_t, std::string> names_;
  std::unordered_map<std::uint32_t, std::unique_ptr<XElement>> templates_;
  int depth_ = 0;
  std::string error_;
};

std::string text_of(const std::vector<XPiece>& pieces) {
  std::string s;
  for (const auto& p : pieces) s += p.text;
  return s;
}

const XElement* child(const XElement& e, std::string_view name) {
  for (const auto& c : e.children) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::string attribute(const XElement* e, std::string_view name) {
  if (!e) return {};
  for (const auto& [n, v] : e->attributes) {
    if (n == name) return text_of(v);
  }
  return {};
}

// Renders an arbitrary element (UserData payloads) as a JSON object.
void render_element_object(std::string& out, const XElement& e) {
  out.push_back('{');
  bool first = true;
  auto key = [&](const std::string& k) {
    if (!first) out.push_back(',');
    first = false;
    append_json_string(out, k);
    out.push_back(':');
  };
  for (const auto& [n, v] : e.attributes) {
    key(n);
    append_json_string(out, text_of(v));
  }
  for (const auto& c : e.children) {
    key(c.name);
    if (c.children.empty() && c.attributes.empty()) {
      append_json_string(out, text_of(c.content));
    } else {
      render_element_object(out, c);
    }
  }
  out.push_back('}');
}

// <EventData><Data Name="x">v</Data>...</EventData> → {"x":"v",...}; unnamed
// Data elements are numbered param1, param2, ... as winlogbeat does.
void render_event_data(std::string& out, const XElement& data) {
  out.push_back('{');
  bool first = true;
  int unnamed = 0;
  for (const auto& d : data.children) {
    std::string name = attribute(&d, "Name");
    if (name.empty()) name = d.name == "Data" ? fmt::format("param{}", ++unnamed) : d.name;
    if (!first) out.push_back(',');
    first = false;
    append_json_string(out, name);
    out.push_back(':');
    bool is_array = false;
    for (const auto& piece : d.content) is_array |= piece.array_item;
    if (is_array) {  // array values render as JSON arrays
      out.push_back('[');
      bool first_item = true;
      for (const auto& piece : d.content) {
        if (!piece.array_item) continue;
        if (!first_item) out.push_back(',');
        first_item = false;
        append_json_string(out, piece.text);
      }
      out.push_back(']');
    } else {
      append_json_string(out, text_of(d.content));
    }
  }
  out.push_back('}');
}

void field(std::string& out, bool& first, std::string_view name, const std::string& value, bool number = false) {
  if (value.empty()) return;
  if (!first) out.push_back(',');
  first = false;
  append_json_string(out, name);
  out.push_back(':');
  bool digits = number && value.find_first_not_of("0123456789") == std::string::npos && value.size() < 19;
  if (digits) {
    out += value;
  } else {
    append_json_string(out, value);
  }
}

// The record as a winlogbeat-shaped document.
std::string render_record(const XElement& root, std::uint64_t record_id, std::uint64_t written) {
  const XElement* system = child(root, "System");
  auto sys = [&](std::string_view name) -> std::string {
    const XElement* e = system ? child(*system, name) : nullptr;
    return e ? text_of(e->content) : std::string();
  };
  const XElement* provider = system ? child(*system, "Provider") : nullptr;
  const XElement* time = system ? child(*system, "TimeCreated") : nullptr;
  const XElement* execution = system ? child(*system, "Execution") : nullptr;
  const XElement* security = system ? child(*system, "Security") : nullptr;
  std::string event_id = sys("EventID");
  std::string timestamp = attribute(time, "SystemTime");
  if (timestamp.empty()) timestamp = format_filetime(written);
  std::string out = "{";
  bool first = true;
  field(out, first, "@timestamp", timestamp);
  out += first ? "" : ",";
  out += "\"event\":{";
  bool ev_first = true;
  field(out, ev_first, "code", event_id);
  field(out, ev_first, "provider", attribute(provider, "Name"));
  field(out, ev_first, "kind", std::string("event"));
  out += "},\"host\":{";
  bool host_first = true;
  field(out, host_first, "name", sys("Computer"));
  out += "},\"winlog\":{";
  bool w = true;
  field(out, w, "channel", sys("Channel"));
  field(out, w, "computer_name", sys("Computer"));
  field(out, w, "event_id", event_id);
  field(out, w, "provider_name", attribute(provider, "Name"));
  field(out, w, "provider_guid", attribute(provider, "Guid"));
  field(out, w, "record_id", sys("EventRecordID").empty() ? std::to_string(record_id) : sys("EventRecordID"), true);
  field(out, w, "version", sys("Version"), true);
  field(out, w, "level", sys("Level"));
  field(out, w, "task", sys("Task"));
  field(out, w, "opcode", sys("Opcode"));
  field(out, w, "keywords", sys("Keywords"));
  std::string pid = attribute(execution, "ProcessID");
  std::string tid = attribute(execution, "ThreadID");
  if (!pid.empty() || !tid.empty()) {
    out += w ? "" : ",";
    w = false;
    out += "\"process\":{";
    bool p = true;
    field(out, p, "pid", pid, true);
    if (!tid.empty()) {
      out += p ? "" : ",";
      p = false;
      out += "\"thread\":{";
      bool t = true;
      field(out, t, "id", tid, true);
      out += "}";
    }
    out += "}";
  }
  std::string user = attribute(security, "UserID");
  if (!user.empty()) {
    out += w ? "" : ",";
    w = false;
    out += "\"user\":{\"identifier\":";
    append_json_string(out, user);
    out += "}";
  }
  EventDataFields data_fields;
  if (const XElement* data = child(root, "EventData")) {
    out += w ? "" : ",";
    w = false;
    out += "\"event_data\":";
    render_event_data(out, *data);
    for (const auto& d : data->children) {
      std::string name = attribute(&d, "Name");
      if (!name.empty()) data_fields.emplace_back(std::move(name), text_of(d.content));
    }
  }
  if (const XElement* user_data = child(root, "UserData")) {
    out += w ? "" : ",";
    w = false;
    out += "\"user_data\":";
    if (user_data->children.size() == 1) {
      render_element_object(out, user_data->children.front());
    } else {
      render_element_object(out, *user_data);
    }
  }
  out += "}";
  append_ecs_fields(out, attribute(provider, "Name"), event_id, data_fields);
  out += "}";
  return out;
}

bool chunk_checksums_ok(std::string_view chunk, std::string& reason) {
  const auto* p = reinterpret_cast<const Bytef*>(chunk.data());
  uLong header = crc32(0L, p, 120);
  header = crc32(header, p + 128, kChunkHeaderSize - 128);
  if (header != u32(chunk.data() + 124)) {
    reason = "chunk header checksum mismatch";
    return false;
  }
  std::uint32_t free_offset = u32(chunk.data() + 48);
  if (free_offset < kChunkHeaderSize || free_offset > kChunkSize) {
    reason = fmt::format("chunk free-space offset {} out of range", free_offset);
    return false;
  }
  uLong data = crc32(0L, p + kChunkHeaderSize, static_cast<uInt>(free_offset - kChunkHeaderSize));
  if (data != u32(chunk.data() + 52)) {
    reason = "chunk event records checksum mismatch";
    return false;
  }
  return true;
}

}  // namespace

bool parse_evtx(std::string_view file, const EvtxCallbacks& cb) {
  if (!is_evtx(file) || file.size() < kFileHeaderSize) {
    cb.on_error(0, "not an EVTX file or truncated file header");
    return true;
  }
  if (crc32(0L, reinterpret_cast<const Bytef*>(file.data()), 120) != u32(file.data() + 124)) {
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
      if (chunk.find_first_not_of('\0') != std::string_view::npos) cb.on_error(offset, "bad chunk signature");
      continue;
    }
    std::string reason;
    std::uint32_t free_offset = u32(chunk.data() + 48);
    if (free_offset < kChunkHeaderSize || free_offset > kChunkSize) {
      cb.on_error(offset, fmt::format("chunk free-space offset {} out of range; chunk skipped", free_offset));
      continue;
    }
    if (!chunk_checksums_ok(chunk, reason)) {
      // Logs copied from live systems often carry stale checksums while every
      // record is intact (EVTX records carry their own framing): decode the
      // chunk anyway, record by record, and say so.
      cb.on_warning(offset, reason + "; records decoded individually");
    }
    ChunkDecoder decoder(chunk);
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
      XElement root;
      std::string error;
      if (decoder.decode_record(pos + 24, pos + size - 4, root, error)) {
        std::string json = render_record(root, record_id, written);
        if (!cb.on_record(json, record_id, offset + pos)) return false;
      } else {
        cb.on_error(offset + pos, fmt::format("record {}: {}", record_id, error));
      }
      pos += size;
    }
  }
  return true;
}

}  // namespace vigil
