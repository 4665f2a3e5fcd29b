// Alert suppression: group values read from the detection's last event.
#include "detect/suppression.h"

#include <simdjson.h>

#include <algorithm>
#include <map>

#include "core/value.h"

namespace vigil {
namespace {

// The JSON of `path` in `obj` (nested objects or dotted keys), or "null".
std::string value_json(simdjson::dom::object obj, std::string_view path, int depth = 0) {
  if (depth > 16) return "null";
  for (auto field : obj) {
    std::string_view key = field.key;
    if (key == path) return simdjson::minify(field.value);
    if (path.size() > key.size() && path.starts_with(key) && path[key.size()] == '.') {
      simdjson::dom::object inner;
      if (!field.value.get_object().get(inner)) {
        std::string found = value_json(inner, path.substr(key.size() + 1), depth + 1);
        if (found != "null") return found;
      }
    }
  }
  return "null";
}

}  // namespace

std::vector<SuppressedAlert> suppress_alerts(const Rule& rule, const std::vector<Detection>& detections,
                                             const std::vector<ScheduledAlert>& scheduled, RuleRunStats& stats) {
  std::vector<SuppressedAlert> out;
  if (!rule.alert_suppression || rule.alert_suppression->group_by.empty()) {
    for (const auto& a : scheduled) out.push_back({a, std::nullopt});
    return out;
  }
  const AlertSuppression& sup = *rule.alert_suppression;
  const bool keep_missing = sup.missing_fields_strategy == "doNotSuppress";
  simdjson::dom::parser parser;
  std::map<std::string, std::size_t> open;  // group key → index in `out` of the alert that absorbs it
  for (const ScheduledAlert& a : scheduled) {
    const Detection& d = detections[a.detection];
    std::string terms = "[";
    std::string key;
    bool missing = false;
    simdjson::dom::object obj;
    std::string last;
    for (auto it = d.events.rbegin(); it != d.events.rend(); ++it) {
      if (!it->empty()) {
        last = *it;
        break;
      }
    }
    simdjson::padded_string padded(last);
    bool parsed = !last.empty() && !parser.parse(padded).get_object().get(obj);
    for (std::size_t i = 0; i < sup.group_by.size(); ++i) {
      std::string value = parsed ? value_json(obj, sup.group_by[i]) : "null";
      missing |= value == "null";
      if (i) terms.push_back(',');
      terms += "{\"field\":";
      append_json_string(terms, sup.group_by[i]);
      terms += ",\"value\":" + value + "}";
      key += value;
      key.push_back('\x1f');
    }
    terms.push_back(']');
    if (missing && keep_missing) {
      out.push_back({a, Suppression{0, d.first_time, d.last_time, terms}});
      continue;
    }
    if (sup.duration_ns == 0) key += std::to_string(a.time);  // per rule run
    auto it = open.find(key);
    if (it != open.end()) {
      SuppressedAlert& kept = out[it->second];
      bool inside = sup.duration_ns == 0 || a.time <= kept.alert.time + sup.duration_ns;
      if (inside) {
        Suppression& s = *kept.suppression;
        ++s.docs_count;
        s.start = std::min(s.start, d.first_time);
        s.end = std::max(s.end, d.last_time);
        ++stats.suppressed;
        continue;
      }
    }
    open[key] = out.size();
    out.push_back({a, Suppression{0, d.first_time, d.last_time, terms}});
  }
  stats.alerts -= std::min<std::uint64_t>(stats.alerts, stats.suppressed);
  return out;
}

}  // namespace vigil
