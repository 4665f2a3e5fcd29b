// libFuzzer target: KQL (the query language of Elastic's `query` rules)
// translated to EQL; a translation must compile or be rejected with a
// position inside the text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/field_registry.h"
#include "eql/compiler.h"
#include "rules/kql.h"

using namespace vigil;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto eql = kql_to_eql(text);
  if (!eql) {
    if (eql.error().pos.offset > text.size()) __builtin_trap();
    (void)format_error(eql.error(), "<kql>", text);
    return 0;
  }
  FieldRegistry fields;
  (void)eql::compile_query(*eql, fields);
  return 0;
}
