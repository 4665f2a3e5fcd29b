// The audit policy table and the rules each setting serves.
#include "coverage/audit_policy.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "ingest/ecs_mapping.h"

namespace vigil {
namespace {

constexpr std::string_view kAdvanced =
    "Computer Configuration > Policies > Windows Settings > Security Settings > Advanced Audit Policy Configuration > "
    "Audit Policies > ";

struct Subcategory {
  int event;
  std::string_view subcategory;  // auditpol's name; "" for a setting outside auditpol
  std::string_view category;
  bool failure;                  // the event is written on failure (4625)
  std::string_view name;         // the GPO setting's name
  std::string_view gpo;          // for settings outside Advanced Audit Policy: the full path
  std::string_view command;      // for settings outside auditpol: how to turn it on
};

constexpr Subcategory kTable[] = {
    {4688, "Process Creation", "Detailed Tracking", false, "Audit Process Creation", "", ""},
    {4689, "Process Termination", "Detailed Tracking", false, "Audit Process Termination", "", ""},
    {4657, "Registry", "Object Access", false, "Audit Registry", "", ""},
    {5156, "Filtering Platform Connection", "Object Access", false, "Audit Filtering Platform Connection", "", ""},
    {4697, "Security System Extension", "System", false, "Audit Security System Extension", "", ""},
    {4624, "Logon", "Logon/Logoff", false, "Audit Logon", "", ""},
    {4625, "Logon", "Logon/Logoff", true, "Audit Logon", "", ""},
    {4648, "Logon", "Logon/Logoff", false, "Audit Logon", "", ""},
    {4672, "Special Logon", "Logon/Logoff", false, "Audit Special Logon", "", ""},
    {4662, "Directory Service Access", "DS Access", false, "Audit Directory Service Access", "", ""},
    {5136, "Directory Service Changes", "DS Access", false, "Audit Directory Service Changes", "", ""},
    {4104, "", "", false, "Turn on PowerShell Script Block Logging",
     "Computer Configuration > Administrative Templates > Windows Components > Windows PowerShell > Turn on PowerShell "
     "Script Block Logging",
     "reg add HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\PowerShell\\ScriptBlockLogging /v EnableScriptBlockLogging "
     "/t REG_DWORD /d 1 /f"},
};

const Subcategory* subcategory_of(const EcsMappingEntry& e) {
  for (const Subcategory& s : kTable) {
    if (s.event == e.id) return &s;
  }
  return nullptr;
}

bool reads(const TermNeeds& t, std::string_view prefix) {
  auto has = [&](const std::string& f) { return f.starts_with(prefix); };
  if (std::any_of(t.optional.begin(), t.optional.end(), has)) return true;
  for (const auto& clause : t.required) {
    if (std::any_of(clause.begin(), clause.end(), has)) return true;
  }
  return false;
}

}  // namespace

std::vector<AuditSetting> audit_settings(const std::vector<RuleNeeds>& needs) {
  std::map<std::string, AuditSetting> by_name;
  for (const RuleNeeds& n : needs) {
    // Per setting: whether some term of the rule needs it with no Sysmon alternative.
    std::map<std::string, bool> used;
    for (const TermNeeds& t : n.terms) {
      // A term that names no event category, event ID or field it needs
      // could be any event: it says nothing about auditing.
      // So is one whose fields every mapped event has (winlog.* of an event
      // channel vigil does not map): its sources are all of them.
      if (t.missing || (t.category.empty() && t.codes.empty() && t.required.empty()) || t.sources.size() > 12) continue;
      const bool sysmon = std::any_of(t.sources.begin(), t.sources.end(),
                                      [](const EcsMappingEntry* e) { return e->provider == "Microsoft-Windows-Sysmon"; });
      for (const EcsMappingEntry* e : t.sources) {
        const Subcategory* s = subcategory_of(*e);
        if (!s) continue;
        AuditSetting& a = by_name[std::string(s->name)];
        if (a.name.empty()) {
          a.name = s->name;
          a.category = s->category;
          if (!s->subcategory.empty()) {
            a.gpo = fmt::format("{}{} > {}", kAdvanced, s->category, s->name);
          } else {
            a.gpo = s->gpo;
            a.command = s->command;
          }
        }
        if (!s->subcategory.empty()) {
          // Success and failure as the events need them.
          const bool success = a.command.find("/success:enable") != std::string::npos || !s->failure;
          const bool failure = a.command.find("/failure:enable") != std::string::npos || s->failure;
          a.command = fmt::format("auditpol /set /subcategory:\"{}\"{}{}", s->subcategory,
                                  success ? " /success:enable" : "", failure ? " /failure:enable" : "");
        }
        if (std::find(a.events.begin(), a.events.end(), s->event) == a.events.end()) a.events.push_back(s->event);
        auto note = [&](std::string text) {
          if (std::find(a.notes.begin(), a.notes.end(), text) == a.notes.end()) a.notes.push_back(std::move(text));
        };
        if (s->event == 4688 && (reads(t, "process.command_line") || reads(t, "process.args")))
          note("4688 carries the command line only with \"Include command line in process creation events\" "
               "(Computer Configuration > Administrative Templates > System > Audit Process Creation)");
        if (s->event == 4657)
          note("4657 is written only for keys whose SACL audits Set Value for Everyone: add it on the keys the "
               "rules watch (`vigil rules explain` names them)");
        if (s->event == 4662 || s->event == 5136)
          note("directory service events are written for objects whose SACL audits the access (domain controllers)");
        if (s->event == 5156)
          note("5156 is written for every permitted connection: expect high volume on busy hosts");
        used[a.name] = used[a.name] || !sysmon;
      }
    }
    for (const auto& [name, required] : used) by_name[name].rules.push_back({n.rule, required});
  }
  std::vector<AuditSetting> out;
  for (auto& [name, a] : by_name) {
    std::sort(a.events.begin(), a.events.end());
    out.push_back(std::move(a));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const AuditSetting& a, const AuditSetting& b) { return a.rules.size() > b.rules.size(); });
  return out;
}

}  // namespace vigil
