// Alert documents: the source event's members copied through simdjson's DOM
// (alerts are few; events are parsed again only when they alert), the
// kibana.alert.* members written from the rule and the detection.
#include "output/alert_document.h"

#include "output/json_lookup.h"

#include <simdjson.h>

#include <fmt/format.h>

#include <set>
#include <unordered_map>

#include "core/hash.h"
#include "core/timestamp.h"
#include "core/value.h"

namespace vigil {
namespace dom = simdjson::dom;

namespace {

// A member by dotted path (nested objects or dotted keys).
std::optional<dom::element> lookup(dom::object obj, std::string_view path) { return find_member(obj, path); }

// Every leaf (non-object value) of an object as (dotted path, JSON).
void flatten_leaves(dom::object obj, const std::string& prefix, std::vector<std::pair<std::string, std::string>>& out,
                    int depth) {
  for (auto field : obj) {
    std::string path = prefix.empty() ? std::string(field.key) : prefix + "." + std::string(field.key);
    dom::object inner;
    if (depth < 8 && !field.value.get_object().get(inner)) {
      flatten_leaves(inner, path, out, depth + 1);
    } else {
      out.emplace_back(std::move(path), simdjson::minify(field.value));
    }
  }
}

// The text of a field (its first value for arrays), or "".
std::string text_of(const std::optional<dom::element>& e) {
  if (!e) return {};
  dom::element v = *e;
  dom::array arr;
  if (!v.get_array().get(arr)) {
    for (dom::element first : arr) {
      v = first;
      break;
    }
  }
  std::string_view s;
  if (!v.get_string().get(s)) return std::string(s);
  std::int64_t i;
  if (!v.get_int64().get(i)) return std::to_string(i);
  return {};
}

void key(std::string& out, std::string_view name) {
  out.push_back(',');
  append_json_string(out, name);
  out.push_back(':');
}
void member(std::string& out, std::string_view name, std::string_view text) {
  key(out, name);
  append_json_string(out, text);
}
void member_raw(std::string& out, std::string_view name, std::string_view json) {
  key(out, name);
  out += json;
}
void member_list(std::string& out, std::string_view name, const std::vector<std::string>& items) {
  key(out, name);
  out.push_back('[');
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out.push_back(',');
    append_json_string(out, items[i]);
  }
  out.push_back(']');
}

// The members of `obj` (the first event's) whose value is the same in every
// other event at the same place, nested as the events nest them; each as
// ,"key":value (an object only when something under it is common).
void write_common_members(std::string& out, dom::object obj, const std::vector<dom::object>& others, int depth) {
  for (auto field : obj) {
    const std::string_view k = field.key;
    if (depth == 0 && (k == "@timestamp" || k.starts_with("kibana") || k.starts_with("vigil") || k == "event" ||
                       k.starts_with("event."))) {
      continue;
    }
    dom::object inner;
    if (depth < 8 && !field.value.get_object().get(inner)) {
      std::vector<dom::object> next;
      for (dom::object o : others) {
        dom::object sub;
        if (o.at_key(k).get_object().get(sub)) break;
        next.push_back(sub);
      }
      if (next.size() != others.size()) continue;  // not an object in every event
      std::string members;
      write_common_members(members, inner, next, depth + 1);
      if (members.empty()) continue;
      key(out, k);
      out.push_back('{');
      out.append(members, 1, std::string::npos);  // without the leading ','
      out.push_back('}');
      continue;
    }
    const std::string value = simdjson::minify(field.value);
    bool same = true;
    for (dom::object o : others) {
      dom::element v;
      if (o.at_key(k).get(v) || simdjson::minify(v) != value) {
        same = false;
        break;
      }
    }
    if (same) member_raw(out, k, value);
  }
}

// ECS log.file.path for an alert whose source has no log.* of its own: the
// "path" string of its vigil.source ({"path":"...",...}), as a JSON literal.
void write_log_file_path(std::string& out, dom::object source, const std::string& source_json) {
  constexpr std::string_view kHead = "{\"path\":\"";
  if (!source_json.starts_with(kHead)) return;
  dom::element own;
  if (!source.at_key("log").get(own)) return;
  std::size_t end = kHead.size();
  while (end < source_json.size() && source_json[end] != '"') end += source_json[end] == '\\' ? 2 : 1;
  if (end >= source_json.size()) return;
  const std::string_view literal(source_json.data() + kHead.size() - 1, end - kHead.size() + 2);
  key(out, "log");
  out += "{\"file\":{\"path\":";
  out += literal;
  out += "}}";
}

std::string entry_json(const ThreatEntry& e) {
  std::string out = "{\"id\":";
  append_json_string(out, e.id);
  out += ",\"name\":";
  append_json_string(out, e.name);
  out += ",\"reference\":";
  append_json_string(out, e.reference);
  out += "}";
  return out;
}

// kibana.alert.rule.threat: the rule's threat entries as Elastic stores them.
std::string threat_json(const Rule& rule) {
  std::string out = "[";
  for (std::size_t i = 0; i < rule.threat.size(); ++i) {
    const Threat& t = rule.threat[i];
    if (i) out.push_back(',');
    out += "{\"framework\":";
    append_json_string(out, t.framework);
    out += ",\"tactic\":" + entry_json(t.tactic) + ",\"technique\":[";
    for (std::size_t j = 0; j < t.techniques.size(); ++j) {
      if (j) out.push_back(',');
      const ThreatTechnique& tech = t.techniques[j];
      std::string e = entry_json(tech.technique);
      e.pop_back();
      out += e + ",\"subtechnique\":[";
      for (std::size_t k = 0; k < tech.subtechniques.size(); ++k) {
        if (k) out.push_back(',');
        out += entry_json(tech.subtechniques[k]);
      }
      out += "]}";
    }
    out += "]}";
  }
  return out + "]";
}

// ECS threat.* (arrays of the ids, names and references), from the rule.
void write_ecs_threat(std::string& out, const Rule& rule) {
  if (rule.threat.empty()) return;
  std::vector<std::string> tactic_id, tactic_name, tactic_ref, tech_id, tech_name, tech_ref, sub_id, sub_name, sub_ref;
  for (const Threat& t : rule.threat) {
    tactic_id.push_back(t.tactic.id);
    tactic_name.push_back(t.tactic.name);
    tactic_ref.push_back(t.tactic.reference);
    for (const auto& tech : t.techniques) {
      tech_id.push_back(tech.technique.id);
      tech_name.push_back(tech.technique.name);
      tech_ref.push_back(tech.technique.reference);
      for (const auto& sub : tech.subtechniques) {
        sub_id.push_back(sub.id);
        sub_name.push_back(sub.name);
        sub_ref.push_back(sub.reference);
      }
    }
  }
  // ECS threat.*, nested like every other field of the alert.
  auto object = [](std::string& o, std::string_view name, const std::vector<std::string>& id,
                   const std::vector<std::string>& names, const std::vector<std::string>& ref) {
    key(o, name);
    std::string inner;
    member_list(inner, "id", id);
    member_list(inner, "name", names);
    member_list(inner, "reference", ref);
    return inner;
  };
  std::string threat;
  member(threat, "framework", rule.threat.front().framework);
  std::string tactic = object(threat, "tactic", tactic_id, tactic_name, tactic_ref);
  threat += "{" + tactic.substr(1) + "}";
  std::string technique = object(threat, "technique", tech_id, tech_name, tech_ref);
  if (!sub_id.empty()) {
    std::string sub = object(technique, "subtechnique", sub_id, sub_name, sub_ref);
    technique += "{" + sub.substr(1) + "}";
  }
  threat += "{" + technique.substr(1) + "}";
  key(out, "threat");
  out += "{" + threat.substr(1) + "}";
}

// The sentence Elastic puts in kibana.alert.reason, from the event's fields.
std::string reason_of(const Rule& rule, std::optional<dom::object> ev) {
  auto get = [&](std::string_view path) { return ev ? text_of(lookup(*ev, path)) : std::string(); };
  std::string category = get("event.category");
  std::string out = category.empty() ? std::string("event") : category + " event";
  std::vector<std::string> parts;
  if (auto p = get("process.name"); !p.empty()) parts.push_back("with process " + p);
  if (auto p = get("process.parent.name"); !p.empty()) parts.push_back("parent process " + p);
  if (auto f = get("file.name"); !f.empty() && category != "library") parts.push_back("file " + f);
  if (auto d = get("dll.name"); !d.empty()) parts.push_back("library " + d);
  if (auto r = get("registry.path"); !r.empty()) parts.push_back("registry " + r);
  if (auto s = get("source.ip"); !s.empty()) parts.push_back("source " + s + (get("source.port").empty() ? "" : ":" + get("source.port")));
  if (auto d = get("destination.ip"); !d.empty())
    parts.push_back("destination " + d + (get("destination.port").empty() ? "" : ":" + get("destination.port")));
  if (auto u = get("user.name"); !u.empty()) parts.push_back("by " + u);
  if (auto h = get("host.name"); !h.empty()) parts.push_back("on " + h);
  // "process event with process x.exe, parent process y.exe, by alice on WKS1 created ..."
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i == 0 || parts[i].starts_with("on ") ? " " : ", ") + parts[i];
  out += fmt::format(" created {} alert {}.", rule.severity, rule.name);
  return out;
}

// At most `limit` bytes of an attacker-controlled value in a sentence, cut on a UTF-8 boundary.
std::string clip(std::string v, std::size_t limit = 200) {
  if (v.size() <= limit) return v;
  std::size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(v[cut]) & 0xC0) == 0x80) --cut;
  v.resize(cut);
  return v + "...";
}

// One event of a sequence in words: who did what to which object ("winword.exe wrote C:\x.dll").
std::string event_in_words(dom::object ev) {
  auto get = [&](std::string_view path) { return text_of(lookup(ev, path)); };
  const auto types = lookup(ev, "event.type");  // a string or an array of them
  auto has_type = [&](std::string_view type) {
    if (!types) return false;
    auto is = [&](dom::element v) {
      std::string_view s;
      return !v.get_string().get(s) && s == type;
    };
    dom::array many;
    if (types->get_array().get(many)) return is(*types);
    for (dom::element v : many) {
      if (is(v)) return true;
    }
    return false;
  };
  std::string category = get("event.category");
  std::string process = get("process.name");
  std::string actor = process.empty() ? std::string("a process") : clip(process);
  auto first_of = [&](std::initializer_list<std::string_view> paths) {
    for (auto p : paths) {
      if (auto v = get(p); !v.empty()) return clip(v);
    }
    return std::string();
  };
  if (category == "library") {
    if (auto dll = first_of({"dll.path", "dll.name", "file.path"}); !dll.empty()) return actor + " loaded " + dll;
  } else if (category == "file") {
    if (auto path = first_of({"file.path", "file.name"}); !path.empty()) {
      if (has_type("deletion")) return actor + " deleted " + path;
      if (has_type("creation") || has_type("change")) return actor + " wrote " + path;
      return actor + " touched " + path;
    }
  } else if (category == "process") {
    if (has_type("start")) {
      std::string command = first_of({"process.command_line", "process.executable"});
      std::string parent = get("process.parent.name");
      std::string s = (parent.empty() ? std::string() : clip(parent) + " ") + "started " + actor;
      return command.empty() ? s : s + " (" + command + ")";
    }
    if (has_type("end")) return actor + " ended";
  } else if (category == "network") {
    if (auto name = get("dns.question.name"); !name.empty()) return actor + " looked up " + clip(name);
    if (auto ip = get("destination.ip"); !ip.empty()) {
      std::string port = get("destination.port");
      return actor + " connected to " + clip(ip) + (port.empty() ? "" : ":" + clip(port));
    }
  } else if (category == "registry") {
    if (auto key = first_of({"registry.path", "registry.key"}); !key.empty()) {
      std::string data = get("registry.data.strings");
      return actor + " set " + key + (data.empty() ? "" : " = " + clip(data));
    }
  }
  std::string s = (category.empty() ? std::string("event") : category + " event");
  return process.empty() ? s : s + " with process " + actor;
}

// A sequence's reason walks its events in order:
// "sequence on WKS1: winword.exe wrote C:\x.dll, then rundll32.exe loaded C:\x.dll created medium alert <rule>."
std::string sequence_reason(const Rule& rule, const std::vector<std::optional<dom::object>>& sources) {
  std::string host;
  std::string steps;
  for (const auto& s : sources) {
    if (!s) continue;
    if (host.empty()) host = text_of(lookup(*s, "host.name"));
    if (!steps.empty()) steps += ", then ";
    steps += event_in_words(*s);
  }
  std::string out = "sequence";
  if (!host.empty()) out += " on " + clip(host);
  if (!steps.empty()) out += ": " + steps;
  out += fmt::format(" created {} alert {}.", rule.severity, rule.name);
  return out;
}

// A Sigma correlation's reason says what was counted where:
// "correlation on WKS1: 12 events of Failed logon (TargetUserName=bob) within 10m, the last: ... created high alert <rule>."
std::string correlation_reason(const Rule& rule, std::string_view json,
                               const std::vector<std::optional<dom::object>>& sources) {
  dom::parser parser;
  dom::object c;
  const simdjson::padded_string text(json);
  if (parser.parse(text).get_object().get(c)) return sequence_reason(rule, sources);
  auto str = [&](const char* key) {
    std::string_view v;
    return c[key].get_string().get(v) ? std::string() : std::string(v);
  };
  auto num = [&](const char* key) {
    dom::element e;
    if (c[key].get(e)) return std::string();
    std::string out = simdjson::to_string(e);
    return out;
  };
  std::string rules, group, fields;
  dom::array list;
  if (!c["rules"].get_array().get(list)) {
    for (dom::element r : list) {
      std::string_view name;
      if (r["name"].get_string().get(name)) continue;
      rules += (rules.empty() ? "" : ", ") + clip(std::string(name));
    }
  }
  dom::object g;
  if (!c["group"].get_object().get(g)) {
    for (auto [k, v] : g) {
      std::string_view value;
      if (v.get_string().get(value)) continue;
      group += (group.empty() ? "" : ", ") + std::string(k) + "=" + clip(std::string(value));
    }
  }
  if (!c["field"].get_array().get(list)) {
    for (dom::element f : list) {
      std::string_view name;
      if (!f.get_string().get(name)) fields += (fields.empty() ? "" : ", ") + std::string(name);
    }
  }
  const std::string type = str("type"), matches = num("matches");
  std::string what;
  if (type == "event_count") {
    what = num("count") + " events of " + rules;
  } else if (type == "value_count") {
    what = num("distinct") + " distinct " + fields + " in " + matches + " events of " + rules;
  } else if (type == "value_sum") {
    what = fields + " summing to " + num("sum") + " over " + matches + " events of " + rules;
  } else if (type == "value_avg") {
    what = fields + " averaging " + num("avg") + " over " + matches + " events of " + rules;
  } else {
    what = rules + (type == "temporal_ordered" ? " in that order" : "");
  }
  std::string host;
  const dom::object* last = nullptr;
  for (const auto& s : sources) {
    if (!s) continue;
    if (host.empty()) host = text_of(lookup(*s, "host.name"));
    last = &*s;
  }
  std::string out = "correlation";
  if (!host.empty()) out += " on " + clip(host);
  out += ": " + what;
  if (!group.empty()) out += " (" + group + ")";
  out += " within " + str("timespan");
  if (last) out += ", the last: " + event_in_words(*last);
  out += fmt::format(" created {} alert {}.", rule.severity, rule.name);
  return out;
}

}  // namespace

struct AlertWriter::Impl {
  std::vector<std::unique_ptr<dom::parser>> parsers;
  std::vector<simdjson::padded_string> texts;

  std::optional<dom::object> parse(std::size_t slot, const std::string& json) {
    while (parsers.size() <= slot) parsers.push_back(std::make_unique<dom::parser>());
    while (texts.size() <= slot) texts.emplace_back();
    texts[slot] = simdjson::padded_string(json);
    dom::element doc;
    if (parsers[slot]->parse(texts[slot]).get(doc)) return std::nullopt;
    dom::object obj;
    if (doc.get_object().get(obj)) return std::nullopt;
    return obj;
  }

  // The rule's members (write_rule()), rendered once per rule: Sigma rules
  // carry queries of thousands of values, escaped again for every alert.
  std::unordered_map<const Rule*, std::string> rule_members;
  const std::string& members_of(const Rule& rule) {
    auto [it, added] = rule_members.try_emplace(&rule);
    if (added) write_rule(it->second, rule);
    return it->second;
  }

  // The rule's members, shared by every alert of the rule.
  static void write_rule(std::string& out, const Rule& rule) {
    member(out, "kibana.alert.rule.uuid", rule.rule_id);
    member(out, "kibana.alert.rule.rule_id", rule.rule_id);
    member(out, "kibana.alert.rule.name", rule.name);
    member(out, "kibana.alert.rule.description", rule.description);
    member(out, "kibana.alert.rule.severity", rule.severity);
    member_raw(out, "kibana.alert.rule.risk_score", std::to_string(rule.risk_score));
    member(out, "kibana.alert.rule.type", rule.type);
    const bool kql = rule.type == "query";
    const bool new_terms = rule.type == "new_terms";
    const bool threshold = rule.type == "threshold";
    const bool esql = rule.type == "esql";
    member(out, "kibana.alert.rule.rule_type_id",
           esql        ? "siem.esqlRule"
           : threshold ? "siem.thresholdRule"
           : new_terms ? "siem.newTermsRule"
           : kql       ? "siem.queryRule"
                       : "siem.eqlRule");
    member(out, "kibana.alert.rule.category",
           esql        ? "ES|QL Rule"
           : threshold ? "Threshold Rule"
           : new_terms ? "New Terms Rule"
           : kql       ? "Custom Query Rule"
                       : "Event Correlation Rule");
    member(out, "kibana.alert.rule.consumer", "siem");
    member(out, "kibana.alert.rule.producer", "siem");
    member_raw(out, "kibana.alert.rule.enabled", "true");
    member_raw(out, "kibana.alert.rule.version", std::to_string(rule.version));
    member_list(out, "kibana.alert.rule.tags", rule.tags);
    member(out, "kibana.alert.rule.from", rule.from);
    member(out, "kibana.alert.rule.interval", rule.interval);
    member_raw(out, "kibana.alert.rule.max_signals", std::to_string(rule.max_signals));
    member_list(out, "kibana.alert.rule.references", rule.references);
    member_list(out, "kibana.alert.rule.false_positives", rule.false_positives);
    member_list(out, "kibana.alert.rule.author", rule.author);
    if (!rule.license.empty()) member(out, "kibana.alert.rule.license", rule.license);
    const std::string threat = threat_json(rule);
    member_raw(out, "kibana.alert.rule.threat", threat);
    if (!rule.note.empty()) member(out, "kibana.alert.rule.note", rule.note);
    // The rule's parameters as Elastic's alerts carry them: what the rule
    // says, with every key vigil keeps but does not interpret (setup,
    // investigation_fields, related_integrations, required_fields, ...).
    std::string params;
    std::set<std::string_view> written;
    auto raw = [&](std::string_view k, std::string_view json) {
      member_raw(params, k, json);
      written.insert(k);
    };
    auto text = [&](std::string_view k, const std::string& v) {
      if (v.empty()) return;
      member(params, k, v);
      written.insert(k);
    };
    auto list = [&](std::string_view k, const std::vector<std::string>& v) {
      member_list(params, k, v);
      written.insert(k);
    };
    text("rule_id", rule.rule_id);
    text("description", rule.description);
    raw("risk_score", std::to_string(rule.risk_score));
    text("severity", rule.severity);
    text("license", rule.license);
    text("note", rule.note);
    list("author", rule.author);
    list("false_positives", rule.false_positives);
    text("from", rule.from);
    text("to", "now");
    text("interval", rule.interval);
    raw("max_signals", std::to_string(rule.max_signals));
    list("references", rule.references);
    raw("version", std::to_string(rule.version));
    raw("threat", threat);
    list("exceptions_list", rule.exceptions_list);
    text("type", rule.type);
    text("language", rule.language);
    list("index", rule.index);
    text("query", rule.query);
    text("timestamp_override", rule.timestamp_override);
    text("building_block_type", rule.building_block_type);
    if (new_terms) {
      list("new_terms_fields", rule.new_terms_fields);
      text("history_window_start", rule.new_terms_history_window_start);
    }
    if (threshold && rule.threshold) {
      // As Elastic stores it: {field: [...], value, cardinality: [{field, value}]}
      // (member() writes ",key:value": each object drops its first comma).
      std::string t;
      member_list(t, "field", rule.threshold->fields);
      member_raw(t, "value", std::to_string(rule.threshold->value));
      std::string card;
      if (!rule.threshold->cardinality_field.empty()) {
        std::string c;
        member(c, "field", rule.threshold->cardinality_field);
        member_raw(c, "value", std::to_string(rule.threshold->cardinality_value));
        card = "{" + c.substr(1) + "}";
      }
      member_raw(t, "cardinality", "[" + card + "]");
      raw("threshold", "{" + t.substr(1) + "}");
    }
    // Kept keys are compact JSON (rule_loader's to_json): written as they are.
    for (const auto& [k, json] : rule.extra) {
      if (!k.starts_with("rule.") || k.find('.', 5) != std::string::npos) continue;
      if (!written.contains(std::string_view(k).substr(5))) member_raw(params, k.substr(5), json);
    }
    // A Sigma rule's own keys (level, status, logsource, dates): one object.
    if (rule.format == "sigma") {
      std::string sigma, logsource;
      for (const auto& [k, json] : rule.extra) {
        if (k.starts_with("sigma.logsource.")) {
          member_raw(logsource, std::string_view(k).substr(16), json);
        } else if (k.starts_with("sigma.")) {
          member_raw(sigma, std::string_view(k).substr(6), json);
        }
      }
      if (!logsource.empty()) {
        logsource[0] = '{';
        member_raw(sigma, "logsource", logsource + "}");
      }
      if (!sigma.empty()) {
        sigma[0] = '{';
        member_raw(params, "sigma", sigma + "}");
      }
    }
    params[0] = '{';
    params += "}";
    member_raw(out, "kibana.alert.rule.parameters", params);
    write_ecs_threat(out, rule);
  }

  // The source event's members: event.* kept with kind "signal" and copied
  // to kibana.alert.original_event.*; kibana.* members of the source dropped
  // (an event cannot pose as an alert field).
  // `document`, when not empty, becomes event.original (unless the source
  // has its own): the event as it was read, to verify the alert against.
  static void write_source(std::string& out, dom::object source, std::string_view document) {
    std::string original;
    bool wrote_event = false;
    auto add_original = [&](std::string& o) {
      if (document.empty()) return;
      append_json_string(o, "original");
      o.push_back(':');
      append_json_string(o, document);
      o.push_back(',');
    };
    for (auto field : source) {
      std::string_view k = field.key;
      if (k == "@timestamp" || k.starts_with("kibana") || k.starts_with("vigil")) continue;
      if (k == "event") {
        dom::object ev;
        if (!field.value.get_object().get(ev)) {
          key(out, "event");
          out.push_back('{');
          for (auto e : ev) {
            original += ",";
            append_json_string(original, "kibana.alert.original_event." + std::string(e.key));
            original += ":" + simdjson::minify(e.value);
            if (e.key == "kind") continue;
            append_json_string(out, e.key);
            out += ":" + simdjson::minify(e.value) + ",";
          }
          dom::element own;
          if (ev.at_key("original").get(own)) add_original(out);
          out += "\"kind\":\"signal\"}";
          wrote_event = true;
          continue;
        }
      }
      if (k.starts_with("event.")) {
        original += ",";
        append_json_string(original, "kibana.alert.original_event." + std::string(k.substr(6)));
        original += ":" + simdjson::minify(field.value);
        if (k == "event.kind") continue;
      }
      member_raw(out, k, simdjson::minify(field.value));
    }
    if (!wrote_event) {
      key(out, "event");
      out.push_back('{');
      add_original(out);
      out += "\"kind\":\"signal\"}";
    }
    out += original;
  }

  void write_common(std::string& out, const Rule& rule, const std::string& id, TimestampNs alert_time,
                           TimestampNs original_time, const std::string& reason) {
    member(out, "kibana.alert.uuid", id);
    member(out, "kibana.alert.status", "active");
    member(out, "kibana.alert.workflow_status", "open");
    member(out, "kibana.alert.original_time", format_timestamp(original_time));
    member(out, "kibana.alert.reason", reason);
    member(out, "kibana.alert.severity", rule.severity);
    member_raw(out, "kibana.alert.risk_score", std::to_string(rule.risk_score));
    member_raw(out, "kibana.space_ids", "[\"default\"]");
    member(out, "kibana.version", "9.5.0");
    out += members_of(rule);
    (void)alert_time;
  }
};

namespace {
// A sequence's kibana.alert.group.id: the rule and every event.
std::string sequence_group_id(const Rule& rule, const Detection& d) {
  Hash128 group_hash;
  group_hash.add(rule.rule_id);
  for (const auto& e : d.events) group_hash.add(e);
  return group_hash.hex();
}

bool is_sequence(const Detection& d) { return d.events.size() > 1 || !d.join_keys.empty() || !d.correlation.empty(); }
}  // namespace

std::string AlertWriter::alert_id(const Rule& rule, const Detection& d, TimestampNs alert_time) {
  if (is_sequence(d)) return Hash128().add(sequence_group_id(rule, d)).add("sequence").hex();
  Hash128 id_hash;
  id_hash.add(rule.rule_id).add(d.events[0]);
  for (const auto& v : d.new_terms) id_hash.add(v);  // one alert per new value combination
  // ES|QL: one alert per result row. As Kibana's ids: a non-aggregating row is its event
  // (plus what MV_EXPAND made of it); an aggregating row ("{}": its source is the row) is per run.
  if (!d.esql.empty()) id_hash.add(d.esql);
  if (d.esql == "{}") id_hash.add(std::to_string(alert_time));
  return id_hash.hex();
}

AlertWriter::AlertWriter(bool event_original) : impl_(std::make_unique<Impl>()), event_original_(event_original) {}
AlertWriter::~AlertWriter() = default;

std::vector<AlertSummary> AlertWriter::write(const Rule& rule, const Detection& d, TimestampNs alert_time,
                                             const std::string& id, std::string& out,
                                             const Suppression* suppression) {
  auto write_suppression = [&] {
    if (!suppression) return;
    member_raw(out, "kibana.alert.suppression.terms", suppression->terms_json);
    member(out, "kibana.alert.suppression.start", format_timestamp(suppression->start));
    member(out, "kibana.alert.suppression.end", format_timestamp(suppression->end));
    member_raw(out, "kibana.alert.suppression.docs_count", std::to_string(suppression->docs_count));
  };
  std::vector<AlertSummary> summaries;
  const bool sequence = is_sequence(d);
  // Each event is written about twice (its fields, event.original) beside
  // the rule's members: sized once rather than grown by doubling.
  std::size_t event_bytes = 0;
  for (const std::string& e : d.events) event_bytes += e.size();
  out.reserve(out.size() + 2 * event_bytes + 8192);
  std::vector<std::optional<dom::object>> sources;
  std::vector<std::string> event_ids;
  for (std::size_t i = 0; i < d.events.size(); ++i) {
    sources.push_back(d.events[i].empty() ? std::nullopt : impl_->parse(i, d.events[i]));
    event_ids.push_back(d.events[i].empty() ? std::string() : Hash128().add(d.events[i]).hex());
  }
  auto host_of = [&](std::optional<dom::object> s) { return s ? text_of(lookup(*s, "host.name")) : std::string(); };
  auto ancestors = [&](const std::vector<std::size_t>& which) {
    std::string a = "[";
    for (std::size_t n = 0; n < which.size(); ++n) {
      if (n) a.push_back(',');
      a += "{\"id\":\"" + event_ids[which[n]] + "\",\"type\":\"event\",\"index\":\"vigil\",\"depth\":0}";
    }
    return a + "]";
  };
  std::string reason = !d.correlation.empty() ? correlation_reason(rule, d.correlation, sources)
                       : sequence ? sequence_reason(rule, sources)
                                  : reason_of(rule, sources[0]);
  if (!sequence) {
    const std::size_t doc_start = out.size();
    out += "{\"@timestamp\":";
    append_json_string(out, format_timestamp(alert_time));
    if (sources[0]) {
      // A threshold signal's source is the bucket Elastic builds (its terms), not an event: no event.original.
      const bool original = event_original_ && d.threshold.empty() && d.esql != "{}";
      Impl::write_source(out, *sources[0], original ? std::string_view(d.events[0]) : std::string_view());
      if (!d.sources.empty()) write_log_file_path(out, *sources[0], d.sources[0]);
    }
    impl_->write_common(out, rule, id, alert_time, d.first_time, reason);
    member_raw(out, "kibana.alert.depth", "1");
    member_raw(out, "kibana.alert.ancestors", ancestors({0}));
    if (!rule.building_block_type.empty()) member(out, "kibana.alert.building_block_type", rule.building_block_type);
    if (!d.new_terms.empty()) member_list(out, "kibana.alert.new_terms", d.new_terms);
    if (!d.threshold.empty()) member_raw(out, "kibana.alert.threshold_result", d.threshold);
    if (!d.esql_columns.empty()) {
      // The columns the query computed (Esql.*), nested beside the event's
      // fields; a name the event already has keeps the event's value.
      if (auto columns = impl_->parse(d.events.size(), d.esql)) {
        for (auto field : *columns) {
          if (sources[0] && !(*sources[0])[field.key].error()) continue;
          key(out, field.key);
          out += simdjson::minify(field.value);
        }
      }
      member_list(out, "vigil.esql.columns", d.esql_columns);
    }
    if (d.context.size() > 2) member_raw(out, "vigil.context", d.context);
    if (!d.sources.empty() && !d.sources[0].empty()) member_raw(out, "vigil.source", d.sources[0]);
    write_suppression();
    out += "}\n";
    summaries.push_back({id, rule.rule_id, rule.name, rule.severity, rule.risk_score, host_of(sources[0]), alert_time,
                         d.first_time, reason, false});
    if (doc_start == 0) {
      out.pop_back();  // the newline
      summaries.back().document = std::move(out);
      out.clear();
    } else {
      summaries.back().document.assign(out, doc_start, out.size() - doc_start - 1);
    }
    return summaries;
  }
  // A sequence: the group id names the sequence; the shell alert carries the
  // members every event shares, then one building-block alert per event.
  const std::string group_id = sequence_group_id(rule, d);
  const std::string& shell_id = id;
  auto block_id = [&](std::size_t i) { return Hash128().add(group_id).add(std::to_string(i)).hex(); };
  const std::size_t doc_start = out.size();
  out += "{\"@timestamp\":";
  append_json_string(out, format_timestamp(alert_time));
  std::vector<std::size_t> present;
  for (std::size_t i = 0; i < sources.size(); ++i) {
    if (sources[i]) present.push_back(i);
  }
  if (!present.empty()) {
    // The fields whose value is the same in every event of the sequence, as
    // Elastic's sequence alert carries them (nested, like any alert).
    std::vector<dom::object> others;
    for (std::size_t n = 1; n < present.size(); ++n) others.push_back(*sources[present[n]]);
    write_common_members(out, *sources[present.front()], others, 0);
  }
  member_raw(out, "event", "{\"kind\":\"signal\"}");
  impl_->write_common(out, rule, shell_id, alert_time, d.first_time, reason);
  // As Elastic writes a sequence: the shell is depth 2, its ancestors are the
  // events (depth 0) and its building-block alerts (depth 1).
  member_raw(out, "kibana.alert.depth", "2");
  member(out, "kibana.alert.group.id", group_id);
  {
    std::string a = ancestors(present);
    a.pop_back();  // ']'
    for (std::size_t i : present) {
      a += ",{\"id\":\"" + block_id(i) + "\",\"type\":\"signal\",\"index\":\".alerts-security.alerts-default\",\"depth\":1,"
           "\"rule\":";
      append_json_string(a, rule.rule_id);
      a += "}";
    }
    a += "]";
    member_raw(out, "kibana.alert.ancestors", a);
  }
  if (!d.join_keys.empty()) member_raw(out, "kibana.alert.rule.parameters.join_keys", d.join_keys);
  if (!d.correlation.empty()) member_raw(out, "vigil.correlation", d.correlation);
  {
    std::string list = "[";
    for (std::size_t n = 0; n < present.size(); ++n) {
      if (n) list.push_back(',');
      const std::size_t i = present[n];
      list += i < d.sources.size() && !d.sources[i].empty() ? d.sources[i] : "null";
    }
    if (present.size() > 0) member_raw(out, "vigil.sources", list + "]");
  }
  // The sequence's context is its last event's (where the behaviour completed).
  if (!present.empty() && present.back() < d.event_contexts.size() && !d.event_contexts[present.back()].empty()) {
    member_raw(out, "vigil.context", d.event_contexts[present.back()]);
  }
  write_suppression();
  out += "}\n";
  std::string host = present.empty() ? std::string() : host_of(sources[present.back()]);
  summaries.push_back({shell_id, rule.rule_id, rule.name, rule.severity, rule.risk_score, host, alert_time,
                       d.first_time, reason, false});
  summaries.back().document.assign(out, doc_start, out.size() - doc_start - 1);
  for (std::size_t n = 0; n < present.size(); ++n) {
    std::size_t i = present[n];
    const std::string block = block_id(i);
    std::string bb_reason = reason_of(rule, sources[i]);
    const std::size_t block_start = out.size();
    out += "{\"@timestamp\":";
    append_json_string(out, format_timestamp(alert_time));
    Impl::write_source(out, *sources[i], event_original_ ? std::string_view(d.events[i]) : std::string_view());
    if (i < d.sources.size()) write_log_file_path(out, *sources[i], d.sources[i]);
    dom::element ts;
    TimestampNs original = d.first_time;
    if (auto t = lookup(*sources[i], "@timestamp"); t && !t->get(ts)) {
      std::string_view s;
      if (!ts.get_string().get(s)) {
        if (auto parsed = parse_timestamp_text(s)) original = *parsed;
      }
    }
    impl_->write_common(out, rule, block, alert_time, original, bb_reason);
    member_raw(out, "kibana.alert.depth", "1");
    member(out, "kibana.alert.building_block_type", "default");
    member(out, "kibana.alert.group.id", group_id);
    member_raw(out, "kibana.alert.group.index", std::to_string(i));
    member_raw(out, "kibana.alert.ancestors", ancestors({i}));
    if (i < d.event_contexts.size() && !d.event_contexts[i].empty()) member_raw(out, "vigil.context", d.event_contexts[i]);
    if (i < d.sources.size() && !d.sources[i].empty()) member_raw(out, "vigil.source", d.sources[i]);
    out += "}\n";
    summaries.push_back({block, rule.rule_id, rule.name, rule.severity, rule.risk_score, host_of(sources[i]), alert_time,
                         original, bb_reason, true});
    summaries.back().document.assign(out, block_start, out.size() - block_start - 1);
  }
  return summaries;
}

}  // namespace vigil
