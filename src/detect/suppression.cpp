// Alert suppression: group values read from the detection's last event.
#include "detect/suppression.h"

#include <simdjson.h>

#include <algorithm>

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

Suppressor::Suppressor(const Rule& rule)
    : rule_(rule), active_(rule.alert_suppression && !rule.alert_suppression->group_by.empty()) {}

Suppressor::Outcome Suppressor::add(std::uint64_t handle, const Detection& d, TimestampNs time,
                                    std::optional<Suppression>& alone, RuleRunStats& stats, const Close& close) {
  alone.reset();
  if (!active_) return Outcome::Alone;
  const AlertSuppression& sup = *rule_.alert_suppression;
  std::string terms = "[";
  std::string key;
  bool missing = false;
  const std::string* last = nullptr;
  for (auto it = d.events.rbegin(); it != d.events.rend(); ++it) {
    if (!it->empty()) {
      last = &*it;
      break;
    }
  }
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  simdjson::padded_string padded(last ? *last : std::string());
  const bool parsed = last && !parser.parse(padded).get_object().get(obj);
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
  if (missing && sup.missing_fields_strategy == "doNotSuppress") {
    alone = Suppression{0, d.first_time, d.last_time, terms};
    return Outcome::Alone;
  }
  if (sup.duration_ns == 0) key += std::to_string(time);  // per rule run
  auto it = open_.find(key);
  if (it != open_.end()) {
    Group& kept = it->second;
    if (sup.duration_ns == 0 || time <= saturating_add(kept.time, sup.duration_ns)) {
      Suppression& s = kept.suppression;
      ++s.docs_count;
      s.start = std::min(s.start, d.first_time);
      s.end = std::max(s.end, d.last_time);
      ++stats.suppressed;
      return Outcome::Folded;
    }
    close(kept.handle, std::move(kept.suppression));
    open_.erase(it);
  }
  open_.emplace(std::move(key), Group{handle, time, opened_++, Suppression{0, d.first_time, d.last_time, terms}});
  return Outcome::Opened;
}

void Suppressor::close(TimestampNs created_until, const Close& close) {
  if (open_.empty()) return;
  const std::int64_t duration = rule_.alert_suppression ? rule_.alert_suppression->duration_ns : 0;
  std::vector<std::map<std::string, Group>::iterator> done;
  for (auto it = open_.begin(); it != open_.end(); ++it) {
    const TimestampNs end = saturating_add(it->second.time, duration);
    if (end <= created_until) done.push_back(it);
  }
  std::sort(done.begin(), done.end(), [](const auto& a, const auto& b) { return a->second.opened < b->second.opened; });
  for (auto it : done) {
    close(it->second.handle, std::move(it->second.suppression));
    open_.erase(it);
  }
}

void Suppressor::restore(std::map<std::string, Group> groups, std::uint64_t next_opened) {
  open_ = std::move(groups);
  opened_ = next_opened;
}

}  // namespace vigil
