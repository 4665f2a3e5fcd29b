// libFuzzer target: the Sysmon configuration reader and the judgement and
// suggestions made from it (`vigil coverage --sysmon-config --suggest`).
// Any bytes load or are rejected with a message; a configuration that loads
// is judged against the seed pack, and the patched configuration it
// suggests loads again. Conditions vigil does not know, odd schema versions,
// entity references and huge values: a verdict, never a crash or a hang.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "coverage/coverage.h"
#include "coverage/sysmon_config.h"
#include "detect/rule_set.h"

using namespace vigil;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::unique_ptr<RuleSet> set = compile_rules({VIGIL_SOURCE_DIR "/rules/windows"});
  static const std::vector<RuleNeeds> needs = rule_needs(*set);
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto config = load_sysmon_config_text(text, "<fuzz>");
  if (!config) {
    if (config.error().message.empty()) __builtin_trap();
    return 0;
  }
  SysmonSuggestions suggestions;
  for (const RuleNeeds& n : needs) (void)judge_sysmon_config(*set, n, *config, &suggestions);
  const std::string patched = patch_sysmon_config(text, suggestions);
  if (!suggestions.additions.empty() && !load_sysmon_config_text(patched, "<patched>")) __builtin_trap();
  return 0;
}
