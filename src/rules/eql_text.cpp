// Writing EQL text (see eql_text.h).
#include "rules/eql_text.h"

#include <fmt/format.h>

namespace vigil {

std::string eql_quote(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += fmt::format("\\u{{{:02X}}}", c);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
  return out;
}

std::string eql_join(const std::vector<std::string>& parts, std::string_view op) {
  if (parts.size() == 1) return parts[0];
  std::string out = "(";
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) out += op;
    out += parts[i];
  }
  return out + ")";
}

}  // namespace vigil
