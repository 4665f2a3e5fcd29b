// Document members: building, JSON rendering and field extraction.
#include "core/document.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <map>
#include <optional>

namespace vigil {

void DocBuilder::list(std::string_view key, std::span<const std::string_view> items, bool keep_empty) {
  if (items.empty() && !keep_empty) return;
  auto* values = arena_->allocate_array<Value>(items.size() ? items.size() : 1);
  for (std::size_t i = 0; i < items.size(); ++i) values[i] = Value::string(stored(items[i]));
  members_.push_back({key, Value::array({values, items.size()})});
}

void DocBuilder::list(std::string_view key, const std::vector<std::string>& items) {
  if (items.empty()) return;
  auto* values = arena_->allocate_array<Value>(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) values[i] = Value::string(arena_->copy(items[i]));
  members_.push_back({key, Value::array({values, items.size()})});
}

std::string_view DocBuilder::key(std::string_view prefix, std::string_view name) {
  char* p = static_cast<char*>(arena_->allocate(prefix.size() + 1 + name.size(), 1));
  std::memcpy(p, prefix.data(), prefix.size());
  p[prefix.size()] = '.';
  std::memcpy(p + prefix.size() + 1, name.data(), name.size());
  return {p, prefix.size() + 1 + name.size()};
}

std::span<const DocMember> DocBuilder::finish() const {
  auto* out = arena_->allocate_array<DocMember>(members_.size());
  std::copy(members_.begin(), members_.end(), out);
  return {out, members_.size()};
}

namespace {

void split_key(std::string_view key, std::vector<std::string_view>& segments) {
  segments.clear();
  for (std::size_t start = 0;;) {
    std::size_t dot = key.find('.', start);
    segments.push_back(key.substr(start, dot - start));
    if (dot == std::string_view::npos) return;
    start = dot + 1;
  }
}

// Writes the members (sorted by key, so every object's members are
// contiguous) as nested objects. `comma` says whether the first member needs
// a leading comma.
void write_nested(std::string& out, std::span<const DocMember> members, bool comma) {
  std::vector<const DocMember*> order;
  order.reserve(members.size());
  for (const auto& m : members) order.push_back(&m);
  std::stable_sort(order.begin(), order.end(), [](const DocMember* a, const DocMember* b) { return a->key < b->key; });
  std::vector<std::string_view> open;  // path of the objects currently open
  std::vector<std::string_view> segments;
  for (std::size_t i = 0; i < order.size(); ++i) {
    split_key(order[i]->key, segments);
    std::size_t parents = segments.size() - 1;
    std::size_t common = 0;
    while (common < open.size() && common < parents && open[common] == segments[common]) ++common;
    while (open.size() > common) {
      out.push_back('}');
      open.pop_back();
      comma = true;
    }
    for (std::size_t s = common; s < parents; ++s) {
      if (comma) out.push_back(',');
      append_json_string(out, segments[s]);
      out += ":{";
      open.push_back(segments[s]);
      comma = false;
    }
    if (comma) out.push_back(',');
    append_json_string(out, segments.back());
    out.push_back(':');
    // Repeated keys are one multi-valued field: write their values as one array.
    std::size_t j = i + 1;
    while (j < order.size() && order[j]->key == order[i]->key) ++j;
    if (j == i + 1) {
      append_json(out, order[i]->value);
    } else {
      out.push_back('[');
      bool first = true;
      for (std::size_t k = i; k < j; ++k) {
        const Value& v = order[k]->value;
        std::span<const Value> items = v.kind() == ValueKind::Array ? v.as_array() : std::span<const Value>(&v, 1);
        for (const Value& item : items) {
          if (!first) out.push_back(',');
          first = false;
          append_json(out, item);
        }
      }
      out.push_back(']');
      i = j - 1;
    }
    comma = true;
  }
  for (std::size_t k = 0; k < open.size(); ++k) out.push_back('}');
}

}  // namespace

void append_document_json(std::string& out, std::span<const DocMember> members) {
  out.push_back('{');
  write_nested(out, members, false);
  out.push_back('}');
}

void append_document_members(std::string& out, std::span<const DocMember> members) {
  write_nested(out, members, true);
}

void append_minified_json(std::string& out, std::string_view text) {
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      out.push_back(c);
      if (c == '\\' && i + 1 < text.size()) {
        out.push_back(text[++i]);
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
      out.push_back(c);
    } else if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
      out.push_back(c);
    }
  }
}

void append_event_json(std::string& out, const Event& event) {
  if (!event.document.empty()) {
    append_document_json(out, event.document);
  } else if (event.source.find('\n') != std::string_view::npos || event.source.find('\r') != std::string_view::npos) {
    append_minified_json(out, event.source);
  } else {
    out += event.source;
  }
}

std::string event_source_json(const Event& e) {
  if (e.file.empty()) return {};
  std::string out = "{\"path\":";
  append_json_string(out, e.file);
  out += e.unit == SourceUnit::Record ? ",\"record_id\":" : e.unit == SourceUnit::Element ? ",\"element\":" : ",\"line\":";
  out += std::to_string(e.line);
  if (e.offset) out += ",\"offset\":" + std::to_string(e.offset);
  out += "}";
  return out;
}

void append_framed(std::string& out, std::string_view text) {
  const auto n = static_cast<std::uint32_t>(text.size());
  out.append(reinterpret_cast<const char*>(&n), sizeof n);
  out += text;
}

std::string_view take_framed(std::string_view& in) {
  std::uint32_t n = 0;
  if (in.size() < sizeof n) {
    in = {};
    return {};
  }
  std::memcpy(&n, in.data(), sizeof n);
  in.remove_prefix(sizeof n);
  std::string_view text = in.substr(0, n);
  in.remove_prefix(text.size());
  return text;
}

namespace {

// Kept documents: 'J' + JSON text, or 'M' + members, each as framed key
// and value (kind byte, then: text framed; int and float as 8 bytes; bool as
// 1 byte; array as u32 count and its values).
constexpr char kKeptJson = 'J';
constexpr char kKeptMembers = 'M';

template <typename T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

void put_value(std::string& out, const Value& v) {
  out.push_back(static_cast<char>(v.kind()));
  switch (v.kind()) {
    case ValueKind::Null: break;
    case ValueKind::Bool: out.push_back(v.as_bool() ? 1 : 0); break;
    case ValueKind::Int: put(out, v.as_int()); break;
    case ValueKind::Float: put(out, v.as_float()); break;
    case ValueKind::String:
    case ValueKind::Ip: append_framed(out, v.as_string()); break;
    case ValueKind::Array:
      put(out, static_cast<std::uint32_t>(v.as_array().size()));
      for (const Value& x : v.as_array()) put_value(out, x);
      break;
  }
}

// Reads what put_value wrote; arrays are stored in `arrays` (stable addresses).
class KeptReader {
 public:
  explicit KeptReader(std::string_view data) : rest_(data) {}
  bool done() const { return rest_.empty(); }
  std::string_view framed() { return take_framed(rest_); }
  Value value(std::deque<std::vector<Value>>& arrays) {
    const auto kind = static_cast<ValueKind>(take<char>());
    switch (kind) {
      case ValueKind::Null: return Value::null();
      case ValueKind::Bool: return Value::boolean(take<char>() != 0);
      case ValueKind::Int: return Value::integer(take<std::int64_t>());
      case ValueKind::Float: return Value::floating(take<double>());
      case ValueKind::String: return Value::string(framed());
      case ValueKind::Ip: return Value::ip(framed());
      case ValueKind::Array: {
        const auto n = take<std::uint32_t>();
        auto& items = arrays.emplace_back();
        for (std::uint32_t k = 0; k < n; ++k) items.push_back(value(arrays));
        return Value::array(items);
      }
    }
    return Value::null();
  }

 private:
  template <typename T>
  T take() {
    T v{};
    std::memcpy(&v, rest_.data(), sizeof v);
    rest_.remove_prefix(sizeof v);
    return v;
  }
  std::string_view rest_;
};

}  // namespace

void append_event_kept(std::string& out, const Event& event) {
  if (event.document.empty()) {
    out.push_back(kKeptJson);
    append_event_json(out, event);
    return;
  }
  out.push_back(kKeptMembers);
  for (const DocMember& m : event.document) {
    append_framed(out, m.key);
    put_value(out, m.value);
  }
}

void append_kept_json(std::string& out, std::string_view kept) {
  if (kept.empty()) return;
  if (kept.front() == kKeptJson) {
    out += kept.substr(1);
    return;
  }
  KeptReader reader(kept.substr(1));
  std::deque<std::vector<Value>> arrays;
  std::vector<DocMember> members;
  while (!reader.done()) {
    std::string_view key = reader.framed();
    members.push_back({key, reader.value(arrays)});
  }
  append_document_json(out, members);
}

void assemble_event_fields(std::vector<PendingField>& pending, std::size_t field_count, Arena& arena, Event& event) {
  auto* slots = arena.allocate_array<std::uint32_t>(field_count);
  std::memset(slots, 0, field_count * sizeof(std::uint32_t));
  auto* values = arena.allocate_array<Value>(pending.size());
  event.field_slots = slots;
  event.field_values = values;
  event.field_count = static_cast<std::uint32_t>(field_count);
  // Fast path: each field seen once, an array's values in one run (ECS
  // documents: `"category":["process"]`, `"type":["start"]`).
  std::uint32_t placed = 0;
  bool simple = true;
  for (std::size_t i = 0; i < pending.size();) {
    const PendingField& p = pending[i];
    if (slots[p.id] != 0) {
      simple = false;
      break;
    }
    if (!p.from_array) {
      values[placed++] = p.value;
      slots[p.id] = placed;
      ++i;
      continue;
    }
    std::size_t end = i + 1;
    while (end < pending.size() && pending[end].id == p.id && pending[end].from_array) ++end;
    std::uint32_t count = 0;
    for (std::size_t k = i; k < end; ++k) count += !pending[k].value.is_null();  // empty-array placeholders add nothing
    Value* items = arena.allocate_array<Value>(count ? count : 1);
    std::uint32_t filled = 0;
    for (std::size_t k = i; k < end; ++k) {
      if (!pending[k].value.is_null()) items[filled++] = pending[k].value;
    }
    values[placed++] = Value::array({items, count});
    slots[p.id] = placed;
    i = end;
  }
  if (simple) return;
  // Arrays or repeated keys: count per field, then place every value in
  // document order (no sort; per-thread tables sized by the registry).
  struct Slot {
    std::uint32_t count = 0;
    std::uint32_t filled = 0;
    bool multi = false;
    bool seen = false;
    Value* items = nullptr;
  };
  thread_local std::vector<Slot> table;
  thread_local std::vector<FieldId> touched;
  if (table.size() < field_count) table.resize(field_count);
  std::memset(slots, 0, field_count * sizeof(std::uint32_t));
  touched.clear();
  for (const auto& p : pending) {
    Slot& t = table[p.id];
    if (!t.seen) {
      t.seen = true;
      touched.push_back(p.id);
    }
    t.multi |= p.from_array;
    if (!(p.from_array && p.value.is_null())) ++t.count;  // empty-array placeholders add nothing
  }
  for (FieldId id : touched) {
    Slot& t = table[id];
    if (t.multi || t.count != 1) t.items = arena.allocate_array<Value>(t.count ? t.count : 1);
  }
  placed = 0;
  for (const auto& p : pending) {
    Slot& t = table[p.id];
    if (!t.items) {
      values[placed++] = p.value;
      slots[p.id] = placed;
    } else if (!(p.from_array && p.value.is_null())) {
      t.items[t.filled++] = p.value;
    }
  }
  for (FieldId id : touched) {
    Slot& t = table[id];
    if (t.items) {
      values[placed++] = Value::array({t.items, t.count});
      slots[id] = placed;
    }
    t = Slot{};
  }
}

void fill_event_fields(std::span<const DocMember> members, const FieldRegistry& fields, Arena& arena, Event& event,
                       std::vector<PendingField>& scratch) {
  scratch.clear();
  for (const auto& m : members) {
    auto id = fields.find(m.key);
    if (!id) continue;
    bool ip = FieldRegistry::is_ip_name(m.key);
    if (m.value.kind() == ValueKind::Array) {
      for (const Value& item : m.value.as_array()) {
        add_pending(scratch, *id, ip && item.is_text() ? Value::ip(item.as_string()) : item, true);
      }
      if (m.value.as_array().empty()) add_pending(scratch, *id, Value::null(), true);
    } else {
      add_pending(scratch, *id, ip && m.value.is_text() ? Value::ip(m.value.as_string()) : m.value, false);
    }
  }
  assemble_event_fields(scratch, fields.size(), arena, event);
}

void set_event_timestamp(Event& event, FieldId timestamp_field) {
  const Value& ts = event.get(timestamp_field);
  event.has_timestamp = false;
  if (ts.is_text()) {
    if (auto t = parse_timestamp_text(ts.as_string())) {
      event.timestamp_ns = *t;
      event.has_timestamp = true;
    }
  } else if (ts.is_numeric()) {
    // Epoch milliseconds (integers exact); beyond what nanoseconds hold, no time.
    auto t = ts.kind() == ValueKind::Int ? from_epoch_millis(ts.as_int()) : from_epoch_millis(ts.as_double());
    if (t) {
      event.timestamp_ns = *t;
      event.has_timestamp = true;
    }
  }
}

void unescape_json(std::string_view raw, std::string& out) {
  out.clear();
  auto hex4 = [&](std::size_t at, std::uint32_t& cp) {
    if (at + 4 > raw.size()) return false;
    cp = 0;
    for (std::size_t k = at; k < at + 4; ++k) {
      const char c = raw[k];
      const int h = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (h < 0) return false;
      cp = cp * 16 + static_cast<std::uint32_t>(h);
    }
    return true;
  };
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '\\' || i + 1 >= raw.size()) {
      out.push_back(raw[i]);
      continue;
    }
    const char e = raw[++i];
    switch (e) {
      case 'n': out.push_back('\n'); break;
      case 't': out.push_back('\t'); break;
      case 'r': out.push_back('\r'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'u': {
        std::uint32_t cp = 0, low = 0;
        if (!hex4(i + 1, cp)) {
          out += "\\u";
          break;
        }
        i += 4;
        if (cp >= 0xd800 && cp < 0xdc00 && i + 6 < raw.size() && raw[i + 1] == '\\' && raw[i + 2] == 'u' &&
            hex4(i + 3, low) && low >= 0xdc00 && low < 0xe000) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          i += 6;
        }
        char buf[4];
        std::size_t n = 0;
        if (cp < 0x80) {
          buf[n++] = static_cast<char>(cp);
        } else if (cp < 0x800) {
          buf[n++] = static_cast<char>(0xc0 | (cp >> 6));
          buf[n++] = static_cast<char>(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
          buf[n++] = static_cast<char>(0xe0 | (cp >> 12));
          buf[n++] = static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
          buf[n++] = static_cast<char>(0x80 | (cp & 0x3f));
        } else {
          buf[n++] = static_cast<char>(0xf0 | (cp >> 18));
          buf[n++] = static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
          buf[n++] = static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
          buf[n++] = static_cast<char>(0x80 | (cp & 0x3f));
        }
        out.append(buf, n);
        break;
      }
      default: out.push_back(e); break;  // \" \\ \/ (and anything else as itself)
    }
  }
}

namespace {

bool any_text_value(const Value& v, const std::function<bool(std::string_view)>& test) {
  if (v.is_text()) return test(v.as_string());
  if (v.kind() == ValueKind::Array) {
    for (const Value& item : v.as_array()) {
      if (item.is_text() && test(item.as_string())) return true;
    }
  }
  return false;
}

}  // namespace

bool any_event_text(const Event& event, const std::function<bool(std::string_view)>& test) {
  if (!event.document.empty()) {
    for (const DocMember& m : event.document) {
      if (any_text_value(m.value, test)) return true;
    }
    return false;
  }
  // Raw JSON: each string token, a value unless a ':' follows it (a key).
  const std::string_view json = event.source;
  std::string unescaped;
  for (std::size_t i = 0; i < json.size(); ++i) {
    if (json[i] != '"') continue;
    std::size_t end = i + 1;
    bool escapes = false;
    while (end < json.size() && json[end] != '"') {
      if (json[end] == '\\') {
        escapes = true;
        ++end;
      }
      ++end;
    }
    if (end >= json.size()) break;
    const std::string_view raw = json.substr(i + 1, end - i - 1);
    std::size_t next = end + 1;
    while (next < json.size() && (json[next] == ' ' || json[next] == '\t' || json[next] == '\n' || json[next] == '\r')) ++next;
    i = end;
    if (next < json.size() && json[next] == ':') continue;
    if (!escapes) {
      if (test(raw)) return true;
      continue;
    }
    unescape_json(raw, unescaped);
    if (test(unescaped)) return true;
  }
  return false;
}

namespace {
struct JsonTree {
  std::map<std::string, JsonTree, std::less<>> children;
  std::optional<std::string> value;  // the JSON of a leaf
  bool put(std::string_view path, const std::string& json) {
    const std::size_t dot = path.find('.');
    JsonTree& child = children[std::string(path.substr(0, dot))];
    if (dot == std::string_view::npos) {
      if (!child.children.empty() || child.value) return false;
      child.value = json;
      return true;
    }
    if (child.value) return false;
    return child.put(path.substr(dot + 1), json);
  }
  void write(std::string& out, const std::vector<std::pair<std::string, std::string>>& flat) const {
    out += '{';
    bool first = true;
    auto member = [&](std::string_view k) {
      if (!first) out += ',';
      first = false;
      append_json_string(out, k);
      out += ':';
    };
    for (const auto& [k, child] : children) {
      member(k);
      if (child.value) {
        out += *child.value;
      } else {
        child.write(out, {});
      }
    }
    for (const auto& [k, json] : flat) {
      member(k);
      out += json;
    }
    out += '}';
  }
};
}  // namespace

std::string nested_json_object(const std::vector<std::pair<std::string, std::string>>& members) {
  JsonTree tree;
  std::vector<std::pair<std::string, std::string>> flat;
  for (const auto& [name, json] : members) {
    if (!tree.put(name, json)) flat.emplace_back(name, json);
  }
  std::string out;
  tree.write(out, flat);
  return out;
}

}  // namespace vigil
