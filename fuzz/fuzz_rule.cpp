// libFuzzer target: detection-rule TOML through the rule loader (toml++,
// the Elastic rule model, exceptions, KQL translation) and, when the rule
// loads, its query through the EQL compiler and the rule through the cache's
// binary form (it must decode to the same rule). The input is also decoded
// as cache bytes, which must never crash.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "core/field_registry.h"
#include "eql/compiler.h"
#include "rules/rule_codec.h"
#include "rules/rule_loader.h"

using namespace vigil;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)decode_rule(text);
  auto rule = parse_rule_toml(text, "fuzz.toml");
  if (!rule) {
    (void)format_error(rule.error(), "fuzz.toml", text);
    return 0;
  }
  std::optional<Rule> back = decode_rule(encode_rule(*rule));
  if (!back || !(*back == *rule)) __builtin_trap();
  FieldRegistry fields;
  (void)eql::compile_any_query(rule->query, fields);
  return 0;
}
