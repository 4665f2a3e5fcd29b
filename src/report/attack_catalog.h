// AttackCatalog: MITRE ATT&CK Enterprise (tactics in matrix order, techniques
// and sub-techniques with their tactics and platforms), compiled in from
// report/attack/enterprise-attack.tsv. The HTML report draws its matrix from
// it and `vigil coverage --navigator` checks technique ids against it.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace vigil {

struct AttackTactic {
  std::string id;         // TA0002
  std::string shortname;  // execution (the Navigator's and the kill chain's name)
  std::string name;       // Execution
};

struct AttackTechnique {
  std::string id;                    // T1059 or T1059.001
  std::string name;                  // Command and Scripting Interpreter
  std::vector<std::size_t> tactics;  // indexes into AttackCatalog::tactics()
  std::vector<std::string> platforms;
  bool subtechnique() const { return id.find('.') != std::string::npos; }
};

class AttackCatalog {
 public:
  // The compiled-in catalog (parsed once).
  static const AttackCatalog& enterprise();
  // Parses the TSV form (kind, id, name, tactics or shortname, platforms; '#' comments).
  static AttackCatalog parse(std::string_view tsv);

  const std::string& version() const { return version_; }
  const std::vector<AttackTactic>& tactics() const { return tactics_; }
  const std::vector<AttackTechnique>& techniques() const { return techniques_; }
  // The technique or sub-technique with this id (case-sensitive, as ATT&CK writes them), or null.
  const AttackTechnique* technique(std::string_view id) const;
  const AttackTactic* tactic(std::string_view id_or_shortname) const;

 private:
  std::string version_;
  std::vector<AttackTactic> tactics_;
  std::vector<AttackTechnique> techniques_;
  std::unordered_map<std::string, std::size_t> by_id_;
};

}  // namespace vigil
