// Error rendering in the compiler style users know (gcc, rustc, clang).
#include "core/result.h"

#include <fmt/format.h>

#include <algorithm>

namespace vigil {

std::string format_error(const Error& error, std::string_view file, std::string_view text) {
  std::string out = fmt::format("{}:{}:{}: error: {} [{}]\n", file, error.pos.line, error.pos.column,
                                error.message, error.code);
  std::size_t offset = std::min<std::size_t>(error.pos.offset, text.size());
  std::size_t line_start = text.rfind('\n', offset == 0 ? 0 : offset - 1);
  line_start = (line_start == std::string_view::npos || offset == 0) ? 0 : line_start + 1;
  if (offset > 0 && text[offset - 1] == '\n') line_start = offset;
  std::size_t line_end = text.find('\n', offset);
  if (line_end == std::string_view::npos) line_end = text.size();
  std::string_view line = text.substr(line_start, line_end - line_start);
  out += fmt::format("  {}\n  ", line);
  for (std::size_t i = line_start; i < offset; ++i) out.push_back(text[i] == '\t' ? '\t' : ' ');
  std::size_t width = std::max<std::size_t>(1, std::min<std::size_t>(error.length, line_end - offset));
  out.push_back('^');
  for (std::size_t i = 1; i < width; ++i) out.push_back('~');
  out.push_back('\n');
  return out;
}

}  // namespace vigil
