// libFuzzer target: Sigma rules (YAML) translated to EQL. Whatever the YAML
// (aliases, deep nesting, huge scalars, broken conditions), the loader ends
// with rules or positioned errors; every rule it makes must compile: a
// translation that does not is a bug in the translator (a correlation rule
// has no query: what it names must be there, with positions in the text).
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/field_registry.h"
#include "eql/compiler.h"
#include "rules/sigma.h"

using namespace vigil;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  SigmaFile file = parse_sigma(text, "<sigma>");
  for (const auto* list : {&file.errors, &file.skipped}) {
    for (const Error& e : *list) {
      if (e.pos.offset > text.size()) __builtin_trap();
      (void)format_error(e, "<sigma>", text);
    }
  }
  for (const Rule& rule : file.rules) {
    if (rule.correlation) {
      // A correlation has no query: what it names and how it counts.
      const CorrelationSpec& c = *rule.correlation;
      if (c.rules.empty() || c.rules.size() != c.rule_pos.size() || c.timespan_ns <= 0) __builtin_trap();
      for (const SourcePos& p : c.rule_pos) {
        if (p.offset > text.size()) __builtin_trap();
      }
      continue;
    }
    FieldRegistry fields;
    if (!eql::compile_any_query(rule.query, fields)) __builtin_trap();
  }
  return 0;
}
