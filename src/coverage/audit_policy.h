// What Windows auditing the rules need: for every Security (and PowerShell)
// event a rule term can be made from, the advanced audit policy subcategory
// (or the policy setting) that makes Windows write it, as an `auditpol`
// command and as the Group Policy path, with the extra settings some fields
// need (command lines in 4688, SACLs for registry and directory objects).
// A term that Sysmon can also give needs the subcategory only as an
// alternative; one only Windows auditing gives requires it. docs/coverage.md.
#pragma once

#include <string>
#include <vector>

#include "coverage/coverage.h"

namespace vigil {

struct AuditSetting {
  std::string name;         // "Audit Process Creation", "PowerShell Script Block Logging"
  std::string category;     // "Detailed Tracking"; "" for a policy outside auditpol
  std::string command;      // auditpol /set ...; or the registry value that turns it on
  std::string gpo;          // the Group Policy path
  std::vector<int> events;  // the event IDs it writes that rules read
  std::vector<std::string> notes;  // extra settings the rules' fields need
  struct Use {
    std::size_t rule = 0;   // index into RuleSet::compiled
    bool required = false;  // no other source (Sysmon) gives the term
  };
  std::vector<Use> rules;
};

// The settings the rules' terms need, most-used first.
std::vector<AuditSetting> audit_settings(const std::vector<RuleNeeds>& needs);

}  // namespace vigil
