// An ATT&CK Navigator layer (layer format 4.5) of coverage verdicts: one
// entry per technique the rules map to, scored by the share of rule × host
// verdicts that are ready, coloured ready / degraded / blind, with a comment
// naming each rule, its verdict and what telemetry it misses. The file
// Navigator and DeTT&CT users import. docs/report.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vigil {

class AttackCatalog;

struct NavigatorRule {
  std::string name;
  std::uint64_t ready = 0, degraded = 0, blind = 0;  // verdicts (one per host, or one for a Sysmon config)
  std::string worst_reason;                          // why, for the worst verdict
};

struct NavigatorTechnique {
  std::string id;  // T1059 or T1059.001
  std::vector<NavigatorRule> rules;
};

struct NavigatorLayer {
  std::string json;                      // the layer document
  std::vector<std::string> unknown_ids;  // technique ids not in the catalog: left out
  std::size_t techniques = 0;
};

NavigatorLayer navigator_layer(const std::vector<NavigatorTechnique>& techniques, const AttackCatalog& catalog,
                               const std::string& name, const std::string& description);

}  // namespace vigil
