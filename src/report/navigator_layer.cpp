// navigator_layer: coverage verdicts → Navigator layer JSON.
#include "report/navigator_layer.h"

#include <fmt/format.h>

#include <cmath>
#include <set>

#include "core/value.h"
#include "report/attack_catalog.h"

namespace vigil {

namespace {

constexpr const char* kReady = "#8ec843";
constexpr const char* kDegraded = "#ffe766";
constexpr const char* kBlind = "#ff6666";

}  // namespace

NavigatorLayer navigator_layer(const std::vector<NavigatorTechnique>& techniques, const AttackCatalog& catalog,
                               const std::string& name, const std::string& description) {
  NavigatorLayer layer;
  std::set<std::string> parents_with_subs;
  for (const NavigatorTechnique& t : techniques) {
    const std::size_t dot = t.id.find('.');
    if (dot != std::string::npos && catalog.technique(t.id)) parents_with_subs.insert(t.id.substr(0, dot));
  }
  std::string entries;
  for (const NavigatorTechnique& t : techniques) {
    if (!catalog.technique(t.id)) {
      layer.unknown_ids.push_back(t.id);
      continue;
    }
    std::uint64_t ready = 0, degraded = 0, blind = 0;
    std::string comment;
    for (const NavigatorRule& r : t.rules) {
      ready += r.ready;
      degraded += r.degraded;
      blind += r.blind;
      const std::uint64_t n = r.ready + r.degraded + r.blind;
      std::string line = r.name + ": ";
      if (n <= 1) {
        line += r.blind ? "blind" : r.degraded ? "degraded" : "ready";
      } else {
        line += fmt::format("ready on {} of {}", r.ready, n);
        if (r.degraded) line += fmt::format(", degraded on {}", r.degraded);
        if (r.blind) line += fmt::format(", blind on {}", r.blind);
      }
      if (!r.worst_reason.empty() && (r.blind || r.degraded)) line += " — " + r.worst_reason;
      comment += (comment.empty() ? "" : "\n") + line;
    }
    const std::uint64_t total = ready + degraded + blind;
    const int score =
        total ? static_cast<int>(std::lround(100.0 * static_cast<double>(ready) / static_cast<double>(total))) : 0;
    const char* color = total == 0 ? "" : ready == total ? kReady : (ready == 0 && degraded == 0) ? kBlind : kDegraded;
    entries += entries.empty() ? "\n    " : ",\n    ";
    entries += fmt::format(
        "{{\"techniqueID\":{},\"score\":{},\"color\":\"{}\",\"comment\":{},\"enabled\":true,"
        "\"metadata\":[{{\"name\":\"rules\",\"value\":\"{}\"}},{{\"name\":\"ready\",\"value\":\"{}\"}},"
        "{{\"name\":\"degraded\",\"value\":\"{}\"}},{{\"name\":\"blind\",\"value\":\"{}\"}}],\"showSubtechniques\":{}}"
        "}",
        json_string(t.id), score, color, json_string(comment), t.rules.size(), ready, degraded, blind,
        parents_with_subs.count(t.id) ? "true" : "false");
    ++layer.techniques;
  }
  layer.json = fmt::format(
      "{{\n  \"name\":{},\n  \"versions\":{{\"attack\":{},\"navigator\":\"5.1.0\",\"layer\":\"4.5\"}},\n"
      "  \"domain\":\"enterprise-attack\",\n  \"description\":{},\n  \"filters\":{{\"platforms\":[\"Windows\"]}},\n"
      "  \"sorting\":3,\n  "
      "\"layout\":{{\"layout\":\"side\",\"showID\":true,\"showName\":true,\"expandedSubtechniques\":\"annotated\"}},\n"
      "  \"hideDisabled\":false,\n  \"techniques\":[{}\n  ],\n"
      "  \"gradient\":{{\"colors\":[\"{}\",\"{}\",\"{}\"],\"minValue\":0,\"maxValue\":100}},\n"
      "  \"legendItems\":[{{\"label\":\"ready\",\"color\":\"{}\"}},{{\"label\":\"degraded (some verdicts not "
      "ready)\",\"color\":\"{}\"}},"
      "{{\"label\":\"blind\",\"color\":\"{}\"}}],\n"
      "  \"showTacticRowBackground\":false,\n  \"selectTechniquesAcrossTactics\":true,\n"
      "  \"selectSubtechniquesWithParent\":false,\n  \"selectVisibleTechniques\":false,\n"
      "  \"metadata\":[{{\"name\":\"generator\",\"value\":\"vigil coverage --navigator\"}}]\n}}\n",
      json_string(name), json_string(catalog.version().substr(0, catalog.version().find('.'))),
      json_string(description), entries, kBlind, kDegraded, kReady, kReady, kDegraded, kBlind);
  return layer;
}

}  // namespace vigil
