// ReportData: extracting what an analyst reads from each alert document, and
// writing the interned model.
#include "report/report_data.h"

#include <fmt/format.h>

#include "core/timestamp.h"
#include "core/value.h"
#include "output/json_lookup.h"
#include "report/attack_catalog.h"

namespace vigil {

namespace {

// The source event's fields an alert row shows (label, ECS path), in this
// order; no path: the user, as DOMAIN\name.
struct EventField {
  const char* label;
  const char* path;
};
constexpr EventField kEventFields[] = {
    {"category", "kibana.alert.original_event.category"},
    {"action", "kibana.alert.original_event.action"},
    {"event code", "kibana.alert.original_event.code"},
    {"process", "process.name"},
    {"pid", "process.pid"},
    {"executable", "process.executable"},
    {"command line", "process.command_line"},
    {"entity id", "process.entity_id"},
    {"user", nullptr},
    {"parent", "process.parent.name"},
    {"parent pid", "process.parent.pid"},
    {"parent command line", "process.parent.command_line"},
    {"file", "file.path"},
    {"dll", "dll.path"},
    {"dll signer", "dll.code_signature.subject_name"},
    {"registry", "registry.path"},
    {"registry data", "registry.data.strings"},
    {"dns query", "dns.question.name"},
    {"url", "url.full"},
    {"new terms", "kibana.alert.new_terms"},
    {"channel", "winlog.channel"},
    {"event id", "winlog.event_id"},
    {"record id", "winlog.record_id"},
};

std::int64_t millis(std::string_view iso) {
  auto t = parse_timestamp_text(iso);
  return t ? *t / 1000000 : 0;
}

void append_string(std::string& out, std::string_view s) { append_json_string(out, s); }

void append_strings(std::string& out, const std::vector<std::string>& items) {
  out += '[';
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    append_string(out, items[i]);
  }
  out += ']';
}

template <typename Ints>
void append_ints(std::string& out, const Ints& items) {
  out += '[';
  bool first = true;
  for (auto v : items) {
    if (!first) out += ',';
    first = false;
    out += fmt::format("{}", v);
  }
  out += ']';
}

// A member as text: strings as they are, numbers as written, arrays joined by ", ".
std::string value_text(simdjson::dom::element e) {
  std::string_view s;
  if (!e.get_string().get(s)) return std::string(s);
  simdjson::dom::array arr;
  if (!e.get_array().get(arr)) {
    std::string out;
    for (simdjson::dom::element item : arr) {
      std::string part = value_text(item);
      if (part.empty()) continue;
      if (!out.empty()) out += ", ";
      out += part;
    }
    return out;
  }
  if (e.is_object() || e.is_null()) return {};
  return simdjson::minify(e);
}

std::string member_text(simdjson::dom::object doc, std::string_view path) {
  auto e = find_member(doc, path);
  return e ? value_text(*e) : std::string();
}

std::string field(simdjson::dom::object o, const char* key) {
  simdjson::dom::element e;
  if (o[key].get(e)) return {};
  return value_text(e);
}

}  // namespace

int severity_rank(std::string_view severity) {
  if (severity == "critical") return 3;
  if (severity == "high") return 2;
  if (severity == "medium") return 1;
  return 0;
}

ReportData::ReportData(const AttackCatalog& catalog) : catalog_(catalog) { intern(""); }
ReportData::~ReportData() = default;

std::uint32_t ReportData::intern(std::string_view s) {
  auto [it, added] = string_ids_.try_emplace(std::string(s), static_cast<std::uint32_t>(strings_.size()));
  if (added) strings_.emplace_back(s);
  return it->second;
}

std::uint32_t ReportData::host_index(const std::string& host) {
  auto [it, added] = host_ids_.try_emplace(host, static_cast<std::uint32_t>(hosts_.size()));
  if (added) hosts_.push_back(host);
  return it->second;
}

std::uint32_t ReportData::rule_index(simdjson::dom::object doc) {
  std::string id = text_at(doc, "kibana.alert.rule.rule_id");
  if (id.empty()) id = text_at(doc, "kibana.alert.rule.name");
  auto [it, added] = rule_ids_.try_emplace(id, static_cast<std::uint32_t>(rules_.size()));
  if (!added) return it->second;
  Rule r;
  r.rule_id = id;
  r.name = text_at(doc, "kibana.alert.rule.name");
  r.type = text_at(doc, "kibana.alert.rule.type");
  r.description = text_at(doc, "kibana.alert.rule.description");
  r.severity = severity_rank(text_at(doc, "kibana.alert.rule.severity"));
  r.risk = std::atoi(text_at(doc, "kibana.alert.rule.risk_score").c_str());
  if (auto refs = find_member(doc, "kibana.alert.rule.references")) {
    simdjson::dom::array arr;
    if (!refs->get_array().get(arr)) {
      for (simdjson::dom::element e : arr) {
        std::string_view s;
        if (!e.get_string().get(s)) r.references.emplace_back(s);
      }
    }
  }
  // kibana.alert.rule.threat: [{tactic: {id}, technique: [{id, name, subtechnique: [{id, name}]}]}]
  auto add_unique = [](std::vector<std::string>& v, std::string s) {
    if (s.empty()) return;
    for (const auto& x : v) {
      if (x == s) return;
    }
    v.push_back(std::move(s));
  };
  if (auto threat = find_member(doc, "kibana.alert.rule.threat")) {
    simdjson::dom::array threats;
    if (!threat->get_array().get(threats)) {
      for (simdjson::dom::element t : threats) {
        simdjson::dom::object to;
        if (t.get_object().get(to)) continue;
        add_unique(r.tactics, text_at(to, "tactic.id"));
        simdjson::dom::array techs;
        if (to["technique"].get_array().get(techs)) continue;
        auto technique = [&](simdjson::dom::object o) {
          std::string tid = field(o, "id");
          if (tid.empty()) return;
          if (!catalog_.technique(tid)) technique_names_.emplace(tid, field(o, "name"));
          add_unique(r.techniques, tid);
        };
        for (simdjson::dom::element te : techs) {
          simdjson::dom::object tech;
          if (te.get_object().get(tech)) continue;
          technique(tech);
          simdjson::dom::array subs;
          if (tech["subtechnique"].get_array().get(subs)) continue;
          for (simdjson::dom::element se : subs) {
            simdjson::dom::object sub;
            if (!se.get_object().get(sub)) technique(sub);
          }
        }
      }
    }
  }
  rules_.push_back(std::move(r));
  return it->second;
}

// A process of vigil.context.process_ancestry, interned: the same parent
// chain under many alerts is stored once.
std::uint32_t ReportData::process_index(simdjson::dom::object p) {
  std::vector<std::uint32_t> row;
  std::string key;
  for (const char* k : {"name", "pid", "entity_id", "executable", "command_line", "user", "start", "linked_by"}) {
    std::string v = field(p, k);
    key += v;
    key += '\x1f';
    row.push_back(intern(v));
  }
  auto [it, added] = process_ids_.try_emplace(key, static_cast<std::uint32_t>(processes_.size()));
  if (added) processes_.push_back(std::move(row));
  return it->second;
}

std::optional<std::string> ReportData::add_alert(std::string_view document) {
  simdjson::dom::object doc;
  if (parser_.parse(document.data(), document.size()).get_object().get(doc)) return "not a JSON object";
  std::string id = text_at(doc, "kibana.alert.uuid");
  if (id.empty()) return "no kibana.alert.uuid: not an alert document";
  if (!alert_ids_.insert(id).second) return std::nullopt;
  std::string severity = text_at(doc, "kibana.alert.severity");
  if (severity.empty()) severity = text_at(doc, "kibana.alert.rule.severity");
  const bool building_block = find_member(doc, "kibana.alert.building_block_type").has_value();
  const std::string group = text_at(doc, "kibana.alert.group.id");
  const int flags = (building_block ? 1 : 0) | (!group.empty() && !building_block ? 2 : 0);

  std::string out = "[";
  out += fmt::format("{},{},{},{},{},{},{},{},{},{},", intern(id), millis(text_at(doc, "@timestamp")),
                     millis(text_at(doc, "kibana.alert.original_time")), rule_index(doc),
                     host_index(text_at(doc, "host.name")), severity_rank(severity),
                     intern(text_at(doc, "kibana.alert.reason")), flags, intern(group),
                     std::atoi(text_at(doc, "kibana.alert.group.index").c_str()));
  // The event's fields: [label, value, label, value, ...].
  std::vector<std::uint32_t> fields;
  auto add_field = [&](std::string_view label, const std::string& value) {
    if (value.empty()) return;
    fields.push_back(intern(label));
    fields.push_back(intern(value));
  };
  for (const EventField& f : kEventFields) {
    if (f.path) {
      add_field(f.label, member_text(doc, f.path));
      continue;
    }
    std::string user = text_at(doc, "user.name"), domain = text_at(doc, "user.domain");
    add_field(f.label, domain.empty() || user.empty() ? user : domain + "\\" + user);
  }
  for (const char* side : {"source", "destination"}) {
    std::string ip = text_at(doc, fmt::format("{}.ip", side)), port = text_at(doc, fmt::format("{}.port", side));
    if (ip.empty()) ip = text_at(doc, fmt::format("{}.domain", side));
    add_field(side, port.empty() ? ip : ip + ":" + port);
  }
  append_ints(out, fields);
  // vigil.context: ancestry (parent first), modules, file provenance, network.
  std::vector<std::uint32_t> ancestry, modules, provenance, network;
  simdjson::dom::object context;
  if (auto c = find_member(doc, "vigil.context"); c && !c->get_object().get(context)) {
    auto rows = [&](const char* key, auto&& add) {
      simdjson::dom::array arr;
      if (context[key].get_array().get(arr)) return;
      for (simdjson::dom::element e : arr) {
        simdjson::dom::object o;
        if (!e.get_object().get(o)) add(o);
      }
    };
    rows("process_ancestry", [&](simdjson::dom::object o) { ancestry.push_back(process_index(o)); });
    rows("modules", [&](simdjson::dom::object o) {
      for (const char* k : {"path", "signer", "status", "time"}) modules.push_back(intern(field(o, k)));
    });
    rows("file_provenance", [&](simdjson::dom::object o) {
      for (const char* k : {"path", "written_by", "written_by_pid", "written_by_executable", "time"}) {
        provenance.push_back(intern(field(o, k)));
      }
    });
    rows("network", [&](simdjson::dom::object o) {
      for (const char* k : {"destination", "port", "time"}) network.push_back(intern(field(o, k)));
    });
  }
  for (const auto* list : {&ancestry, &modules, &provenance, &network}) {
    out += ',';
    append_ints(out, *list);
  }
  // Where the event(s) came from.
  std::vector<std::uint32_t> sources;
  if (auto src = find_member(doc, "vigil.source")) {
    sources.push_back(intern(source_text(*src)));
  } else if (auto many = find_member(doc, "vigil.sources")) {
    simdjson::dom::array arr;
    if (!many->get_array().get(arr)) {
      for (simdjson::dom::element e : arr) sources.push_back(intern(source_text(e)));
    }
  } else if (auto path = text_at(doc, "log.file.path"); !path.empty()) {
    sources.push_back(intern(path));
  }
  out += ',';
  append_ints(out, sources);
  out += ']';
  alerts_.push_back(std::move(out));
  return std::nullopt;
}

std::optional<std::string> ReportData::set_coverage(std::string_view json, std::string_view file) {
  simdjson::dom::parser parser;
  simdjson::dom::object doc;
  if (parser.parse(json.data(), json.size()).get_object().get(doc)) {
    return "not a JSON object (expected what `vigil coverage --json` prints)";
  }
  simdjson::dom::array techniques;
  if (doc["techniques"].get_array().get(techniques))
    return "no \"techniques\" array (expected `vigil coverage --json` output)";
  Coverage c;
  c.file = std::string(file);
  for (simdjson::dom::element e : techniques) {
    simdjson::dom::object t;
    if (e.get_object().get(t)) continue;
    std::string id = field(t, "id");
    if (id.empty()) continue;
    Coverage::Row row;
    std::uint64_t n = 0;
    if (!t["ready"].get_uint64().get(n)) row.ready = n;
    if (!t["degraded"].get_uint64().get(n)) row.degraded = n;
    if (!t["blind"].get_uint64().get(n)) row.blind = n;
    simdjson::dom::array names;
    if (!t["rules"].get_array().get(names)) {
      for (simdjson::dom::element r : names) {
        std::string_view s;
        if (!r.get_string().get(s)) row.rules.emplace_back(s);
      }
    }
    if (!catalog_.technique(id)) technique_names_.emplace(id, field(t, "name"));
    c.techniques[id] = std::move(row);
  }
  coverage_ = std::move(c);
  return std::nullopt;
}

std::string ReportData::to_json(std::string_view generated_at) const {
  std::string out;
  std::size_t size = 1024;
  for (const auto& s : strings_) size += s.size() + 3;
  for (const auto& a : alerts_) size += a.size() + 1;
  out.reserve(size);
  out += "{\"v\":1,\"title\":";
  append_string(out, title_);
  out += ",\"generated\":";
  append_string(out, generated_at);
  out += ",\"inputs\":";
  append_strings(out, inputs_);
  out += fmt::format(",\"skipped\":{},\"s\":[", skipped_);
  for (std::size_t i = 0; i < strings_.size(); ++i) {
    if (i) out += ',';
    append_string(out, strings_[i]);
  }
  out += "],\"hosts\":";
  append_strings(out, hosts_);
  out += ",\"rules\":[";
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    const Rule& r = rules_[i];
    out += i ? ",[" : "[";
    append_string(out, r.rule_id);
    out += ',';
    append_string(out, r.name);
    out += fmt::format(",{},{},", r.severity, r.risk);
    append_string(out, r.type);
    out += ',';
    append_string(out, r.description);
    for (const auto* list : {&r.references, &r.techniques, &r.tactics}) {
      out += ',';
      append_strings(out, *list);
    }
    out += ']';
  }
  out += "],\"procs\":[";
  for (std::size_t i = 0; i < processes_.size(); ++i) {
    if (i) out += ',';
    append_ints(out, processes_[i]);
  }
  out += "],\"alerts\":[";
  for (std::size_t i = 0; i < alerts_.size(); ++i) {
    if (i) out += ",\n";
    out += alerts_[i];
  }
  out += "],\"attack\":{\"version\":";
  append_string(out, catalog_.version());
  out += ",\"tactics\":[";
  for (std::size_t i = 0; i < catalog_.tactics().size(); ++i) {
    const AttackTactic& t = catalog_.tactics()[i];
    if (i) out += ',';
    append_strings(out, {t.id, t.shortname, t.name});
  }
  out += "],\"techniques\":[";
  for (std::size_t i = 0; i < catalog_.techniques().size(); ++i) {
    const AttackTechnique& t = catalog_.techniques()[i];
    out += i ? ",[" : "[";
    append_string(out, t.id);
    out += ',';
    append_string(out, t.name);
    out += ',';
    append_ints(out, t.tactics);
    out += ']';
  }
  out += "],\"other\":{";
  bool first = true;
  for (const auto& [id, name] : technique_names_) {
    if (!first) out += ',';
    first = false;
    append_string(out, id);
    out += ':';
    append_string(out, name);
  }
  out += "}},\"coverage\":";
  if (!coverage_) {
    out += "null";
  } else {
    out += "{\"file\":";
    append_string(out, coverage_->file);
    out += ",\"techniques\":{";
    first = true;
    for (const auto& [id, row] : coverage_->techniques) {
      if (!first) out += ',';
      first = false;
      append_string(out, id);
      out += fmt::format(":[{},{},{},", row.ready, row.degraded, row.blind);
      append_strings(out, row.rules);
      out += ']';
    }
    out += "}}";
  }
  out += "}";
  return out;
}

}  // namespace vigil
