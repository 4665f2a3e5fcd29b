// libFuzzer target: the ES|QL parser (the queries of Elastic's esql rules).
// Any text parses or is rejected with a position inside it; deep nesting is
// an error, never a stack overflow.
#include <cstddef>
#include <cstdint>
#include <string>

#include "esql/parser.h"

using namespace vigil;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto q = esql::parse_query(text);
  if (!q) {
    if (q.error().pos.offset > text.size()) __builtin_trap();
    (void)format_error(q.error(), "<esql>", text);
    return 0;
  }
  if (q->commands.empty() || q->commands[0].kind != esql::Command::Kind::From) __builtin_trap();
  return 0;
}
