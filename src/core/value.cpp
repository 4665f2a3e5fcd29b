// Value rendering: JSON for output, plain text for EQL's string().
#include "core/value.h"

#include "core/text.h"

#include <fmt/format.h>

#include <cmath>

namespace vigil {

std::string_view kind_name(ValueKind kind) {
  switch (kind) {
    case ValueKind::Null: return "null";
    case ValueKind::Bool: return "boolean";
    case ValueKind::Int: return "long";
    case ValueKind::Float: return "double";
    case ValueKind::String: return "keyword";
    case ValueKind::Ip: return "ip";
    case ValueKind::Array: return "array";
  }
  return "unknown";
}

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (std::size_t i = 0; i < s.size();) {
    const char c = s[i];
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80) {
      // Text from logs need not be UTF-8 (event XML, flat exports): a byte
      // that does not start a well-formed sequence becomes U+FFFD, so the
      // output is always valid JSON.
      const std::size_t n = utf8_sequence(s.substr(i));
      if (n == 0) {
        out += "\xEF\xBF\xBD";
        ++i;
      } else if (is_c1_control(s.substr(i, n))) {
        // C1 controls (U+0080-U+009F) escaped like C0: some terminals act on them.
        out += fmt::format("\\u{:04x}", static_cast<unsigned char>(s[i + 1]));
        i += 2;
      } else {
        out.append(s.data() + i, n);
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (u < 0x20 || u == 0x7f) {
          out += fmt::format("\\u{:04x}", u);
        } else {
          out.push_back(c);
        }
    }
    ++i;
  }
  out.push_back('"');
}

std::string json_string(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

static void append_double(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  if (d == std::floor(d) && std::fabs(d) < 1e15) {
    out += fmt::format("{:.1f}", d);
  } else {
    out += fmt::format("{}", d);
  }
}

void append_json(std::string& out, const Value& v) {
  switch (v.kind()) {
    case ValueKind::Null: out += "null"; break;
    case ValueKind::Bool: out += v.as_bool() ? "true" : "false"; break;
    case ValueKind::Int: out += fmt::format("{}", v.as_int()); break;
    case ValueKind::Float: append_double(out, v.as_float()); break;
    case ValueKind::String:
    case ValueKind::Ip: append_json_string(out, v.as_string()); break;
    case ValueKind::Array: {
      out.push_back('[');
      bool first = true;
      for (const Value& item : v.as_array()) {
        if (!first) out.push_back(',');
        first = false;
        append_json(out, item);
      }
      out.push_back(']');
      break;
    }
  }
}

void append_text(std::string& out, const Value& v) {
  switch (v.kind()) {
    case ValueKind::String:
    case ValueKind::Ip: out += v.as_string(); break;
    case ValueKind::Float: {
      double d = v.as_float();
      if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e15) {
        out += fmt::format("{:.1f}", d);
      } else {
        out += fmt::format("{}", d);
      }
      break;
    }
    default: append_json(out, v);
  }
}

}  // namespace vigil
