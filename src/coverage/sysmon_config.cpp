// Sysmon configuration: XML (pugixml) → filters; judging rule terms with
// probe values derived from what the terms require.
#include "coverage/sysmon_config.h"

#include <fmt/format.h>
#include <pugixml.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>

#include "core/text.h"
#include "core/wildcard.h"
#include "detect/rule_index.h"
#include "ingest/ecs_mapping.h"

namespace vigil {
namespace {

struct TagIds {
  std::string_view tag;
  int ids[3];
};
constexpr TagIds kTags[] = {
    {"ProcessCreate", {1, 0, 0}},        {"FileCreateTime", {2, 0, 0}},   {"NetworkConnect", {3, 0, 0}},
    {"ProcessTerminate", {5, 0, 0}},     {"DriverLoad", {6, 0, 0}},       {"ImageLoad", {7, 0, 0}},
    {"CreateRemoteThread", {8, 0, 0}},   {"RawAccessRead", {9, 0, 0}},    {"ProcessAccess", {10, 0, 0}},
    {"FileCreate", {11, 0, 0}},          {"RegistryEvent", {12, 13, 14}}, {"FileCreateStreamHash", {15, 0, 0}},
    {"PipeEvent", {17, 18, 0}},          {"WmiEvent", {19, 20, 21}},      {"DnsQuery", {22, 0, 0}},
    {"FileDelete", {23, 0, 0}},          {"ClipboardChange", {24, 0, 0}}, {"ProcessTampering", {25, 0, 0}},
    {"FileDeleteDetected", {26, 0, 0}},  {"FileBlockExecutable", {27, 0, 0}},
    {"FileBlockShredding", {28, 0, 0}},  {"FileExecutableDetected", {29, 0, 0}},
};

enum class Tri { False, True, Unknown };

// A value the rule's events are known to carry in one EventData field: the
// value itself, or an EQL wildcard pattern every such value matches (`*` any
// run, `?` one character; a leading "?:" is read as the system drive "C:",
// as Sysmon configurations write paths).
struct Probe {
  std::string value;
  bool pattern = false;
};
using Probes = std::map<std::string, Probe>;  // EventData name → probe

std::vector<std::string> split_any(std::string_view v) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= v.size()) {
    std::size_t semi = v.find(';', start);
    std::string part(v.substr(start, semi == std::string_view::npos ? std::string_view::npos : semi - start));
    if (!part.empty()) out.push_back(fold_case(part));
    if (semi == std::string_view::npos) break;
    start = semi + 1;
  }
  return out;
}

// One condition on one (whole) value.
Tri condition_on(const SysmonCondition& c, std::string_view value) {
  const std::string v = fold_case(value);
  const std::string want = fold_case(c.value);
  auto tri = [](bool b) { return b ? Tri::True : Tri::False; };
  auto has = [&](const std::string& s) { return v.find(s) != std::string::npos; };
  const std::string& op = c.op;
  if (op == "is" || op.empty()) return tri(v == want);
  if (op == "is not") return tri(v != want);
  if (op == "is any") {
    auto any = split_any(c.value);
    return tri(std::find(any.begin(), any.end(), v) != any.end());
  }
  if (op == "contains") return tri(has(want));
  if (op == "contains any") {
    auto any = split_any(c.value);
    return tri(std::any_of(any.begin(), any.end(), has));
  }
  if (op == "contains all") {
    auto all = split_any(c.value);
    return tri(std::all_of(all.begin(), all.end(), has));
  }
  // As Sysmon documents them: "excludes any" holds when one or more of the
  // values is absent, "excludes all" when none of them is present.
  if (op == "excludes") return tri(!has(want));
  if (op == "excludes any") {
    auto any = split_any(c.value);
    return tri(!std::all_of(any.begin(), any.end(), has));
  }
  if (op == "excludes all") {
    auto all = split_any(c.value);
    return tri(!std::any_of(all.begin(), all.end(), has));
  }
  if (op == "begin with") return tri(v.starts_with(want));
  if (op == "not begin with") return tri(!v.starts_with(want));
  if (op == "end with") return tri(v.ends_with(want));
  if (op == "not end with") return tri(!v.ends_with(want));
  if (op == "image") {
    std::size_t slash = v.find_last_of('\\');
    std::string base = slash == std::string::npos ? v : v.substr(slash + 1);
    return tri(v == want || base == want);
  }
  if (op == "less than" || op == "more than") {
    char* end = nullptr;
    double a = std::strtod(v.c_str(), &end);
    if (end == v.c_str()) return Tri::Unknown;
    double b = std::strtod(want.c_str(), nullptr);
    return tri(op == "less than" ? a < b : a > b);
  }
  return Tri::Unknown;
}

// Whether `text` matches the folded wildcard pattern (`*`, `?`).
bool glob_matches(std::string_view text, std::string_view pattern) {
  std::size_t t = 0, p = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++t, ++p;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++, mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1, t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// One condition on the values a pattern stands for: true when all of them
// meet it, false when none can, else unknown (its literal start, end and
// runs decide what they can).
Tri condition_on_pattern(const SysmonCondition& c, std::string_view pattern) {
  std::string pat = fold_case(pattern);
  if (pat.starts_with("?:")) pat[0] = 'c';
  const std::size_t first = pat.find_first_of("*?"), last = pat.find_last_of("*?");
  if (first == std::string::npos) return condition_on(c, pat);
  const std::string prefix = pat.substr(0, first), suffix = pat.substr(last + 1);
  std::vector<std::string> runs;
  for (std::size_t start = 0; start <= pat.size();) {
    std::size_t next = pat.find_first_of("*?", start);
    if (next == std::string::npos) next = pat.size();
    if (next > start) runs.push_back(pat.substr(start, next - start));
    start = next + 1;
  }
  const std::string want = fold_case(c.value);
  auto in_runs = [&](const std::string& w) {
    return std::any_of(runs.begin(), runs.end(), [&](const std::string& r) { return r.find(w) != std::string::npos; });
  };
  auto could_be = [&](const std::string& x) { return glob_matches(x, pat); };
  // A literal end of every value (start or end) against a condition on that end.
  auto affix = [](const std::string& known, const std::string& w, bool at_start) {
    if (at_start ? known.starts_with(w) : known.ends_with(w)) return Tri::True;
    if (at_start ? w.starts_with(known) : w.ends_with(known)) return Tri::Unknown;
    return Tri::False;
  };
  auto negate = [](Tri t) { return t == Tri::Unknown ? t : t == Tri::True ? Tri::False : Tri::True; };
  const std::string& op = c.op;
  if (op == "is" || op.empty()) return could_be(want) ? Tri::Unknown : Tri::False;
  if (op == "is not") return could_be(want) ? Tri::Unknown : Tri::True;
  if (op == "is any") {
    auto any = split_any(c.value);
    return std::any_of(any.begin(), any.end(), could_be) ? Tri::Unknown : Tri::False;
  }
  if (op == "contains") return in_runs(want) ? Tri::True : Tri::Unknown;
  if (op == "contains any") {
    auto any = split_any(c.value);
    return std::any_of(any.begin(), any.end(), in_runs) ? Tri::True : Tri::Unknown;
  }
  if (op == "contains all") {
    auto all = split_any(c.value);
    return std::all_of(all.begin(), all.end(), in_runs) ? Tri::True : Tri::Unknown;
  }
  if (op == "excludes") return in_runs(want) ? Tri::False : Tri::Unknown;
  if (op == "excludes any") {  // one or more absent: false when every one is surely present
    auto any = split_any(c.value);
    return std::all_of(any.begin(), any.end(), in_runs) ? Tri::False : Tri::Unknown;
  }
  if (op == "excludes all") {  // none present: false when one is surely present
    auto all = split_any(c.value);
    return std::any_of(all.begin(), all.end(), in_runs) ? Tri::False : Tri::Unknown;
  }
  if (op == "begin with") return affix(prefix, want, true);
  if (op == "not begin with") return negate(affix(prefix, want, true));
  if (op == "end with") return affix(suffix, want, false);
  if (op == "not end with") return negate(affix(suffix, want, false));
  if (op == "image") {
    if (want.find('\\') != std::string::npos) return could_be(want) ? Tri::Unknown : Tri::False;
    // The file name: known when the literal end holds a backslash.
    const std::size_t slash = suffix.find_last_of('\\');
    if (slash != std::string::npos) return suffix.substr(slash + 1) == want ? Tri::True : Tri::False;
    return could_be("c:\\" + want) || could_be(want) ? Tri::Unknown : Tri::False;
  }
  return Tri::Unknown;
}

Tri condition_on(const SysmonCondition& c, const Probe& probe) {
  return probe.pattern ? condition_on_pattern(c, probe.value) : condition_on(c, probe.value);
}

Tri condition_holds(const SysmonCondition& c, const Probes& probes) {
  auto it = probes.find(c.field);
  if (it == probes.end()) return Tri::Unknown;
  return condition_on(c, it->second);
}

// A recorded event's condition: a field the event lacks matches nothing.
bool condition_on_event(const SysmonCondition& c, const SysmonConfig::ValueOf& value_of) {
  std::optional<std::string> v = value_of(c.field);
  return v && condition_on(c, std::string_view(*v)) == Tri::True;
}

bool any_on_event(const std::vector<SysmonFilter>& filters, const SysmonConfig::ValueOf& value_of) {
  return std::any_of(filters.begin(), filters.end(), [&](const SysmonFilter& f) {
    return std::all_of(f.conditions.begin(), f.conditions.end(),
                       [&](const SysmonCondition& c) { return condition_on_event(c, value_of); });
  });
}

Tri filter_holds(const SysmonFilter& f, const Probes& probes) {
  Tri out = Tri::True;
  for (const auto& c : f.conditions) {
    Tri t = condition_holds(c, probes);
    if (t == Tri::False) return Tri::False;
    if (t == Tri::Unknown) out = Tri::Unknown;
  }
  return out;
}

Tri any_filter(const std::vector<SysmonFilter>& filters, const Probes& probes, const SysmonFilter** which) {
  Tri out = Tri::False;
  for (const auto& f : filters) {
    Tri t = filter_holds(f, probes);
    if (t == Tri::True) {
      if (which) *which = &f;
      return Tri::True;
    }
    if (t == Tri::Unknown) out = Tri::Unknown;
  }
  return out;
}

std::string describe(const SysmonFilter& f) {
  std::string out;
  for (const auto& c : f.conditions) {
    out += fmt::format("{}{} {} \"{}\"", out.empty() ? "" : " and ", c.field, c.op.empty() ? "is" : c.op, c.value);
  }
  return f.name.empty() ? out : fmt::format("{} ({})", out, f.name);
}

// A string that matches an EQL wildcard pattern: `*` dropped, `?` as a letter.
// Alternatives of required values per ECS field: literal sets and wildcard
// patterns a conjunction of the term requires.
// How a probe value was required, as a Sysmon condition and its value:
// (is, v) for equalities and lists, (begin with / end with / contains, the
// literal part) for wildcard patterns.
struct WrittenAs {
  std::string condition, text;
  bool pattern = false;  // the probe value is the rule's wildcard pattern
};
using Written = std::map<std::string, WrittenAs>;

WrittenAs condition_of_pattern(std::string_view pattern) {
  const bool lead = pattern.starts_with('*'), trail = pattern.ends_with('*');
  constexpr bool kPattern = true;  // the probe is the pattern itself
  std::string_view core = pattern.substr(lead ? 1 : 0);
  if (trail && !core.empty()) core.remove_suffix(1);
  if (core.find_first_of("*?") == std::string_view::npos) {
    const std::string c(core);
    if (lead && trail) return {"contains", c, kPattern};
    if (lead) return {"end with", c, kPattern};
    if (trail) return {"begin with", c, kPattern};
    return {"is", c, kPattern};
  }
  // Inner wildcards (?:\Windows\*\x.dll, python*.exe): the literal end
  // (a file or value name is a path's most telling part) unless it is short
  // (.exe), else the literal start, else the longest literal run.
  std::string best, cur, first;
  bool at_start = true;
  for (char ch : pattern) {
    if (ch == '*' || ch == '?') {
      if (at_start) first = cur;
      at_start = false;
      if (cur.size() > best.size()) best = cur;
      cur.clear();
    } else {
      cur += ch;
    }
  }
  if (cur.size() > best.size()) best = cur;
  const std::string& last = cur;  // empty when the pattern ends with a wildcard
  if (!last.empty() && (last.size() >= 8 || last.size() >= best.size())) return {"end with", last, kPattern};
  if (!first.empty() && (first.size() >= 8 || first.size() >= best.size())) return {"begin with", first, kPattern};
  return {"contains", best, kPattern};
}

void required_texts(const eql::Program& p, std::uint32_t index, std::map<FieldId, std::vector<std::string>>& out,
                    int depth = 0, Written* written = nullptr) {
  const eql::Instr& ins = p.instrs[index];
  if (depth > 16) return;
  if (ins.op == eql::OpCode::And) {
    for (std::uint32_t k = 0; k < ins.child_count; ++k)
      required_texts(p, p.children[ins.first_child + k], out, depth + 1, written);
    return;
  }
  if (ins.op == eql::OpCode::InSet && ins.child_count == 1) {
    const eql::Instr& f = p.instrs[p.children[ins.first_child]];
    if (f.op != eql::OpCode::Field || p.sets[ins.arg].strings.empty()) return;
    auto& list = out[static_cast<FieldId>(f.arg)];
    if (!list.empty()) return;
    list.clear();
    for (const std::string& v : p.sets[ins.arg].strings) {
      list.push_back(v);
      if (written) (*written)[v] = {"is", v};
    }
    std::sort(list.begin(), list.end());
    return;
  }
  if (ins.op == eql::OpCode::Compare && ins.child_count == 2 &&
      static_cast<eql::CompareOp>(ins.sub) == eql::CompareOp::Eq) {
    const eql::Instr& f = p.instrs[p.children[ins.first_child]];
    const eql::Instr& c = p.instrs[p.children[ins.first_child + 1]];
    if (f.op == eql::OpCode::Field && c.op == eql::OpCode::Constant && p.constants[c.arg].is_text()) {
      auto& list = out[static_cast<FieldId>(f.arg)];
      if (list.empty()) {
        list.emplace_back(p.constants[c.arg].as_string());
        if (written) (*written)[list.back()] = {"is", list.back()};
      }
    }
    return;
  }
  if (ins.op == eql::OpCode::Wildcard && ins.child_count == 1) {
    const eql::Instr& f = p.instrs[p.children[ins.first_child]];
    if (f.op != eql::OpCode::Field) return;
    auto& list = out[static_cast<FieldId>(f.arg)];
    if (!list.empty()) return;
    for (const auto& pattern : p.patterns[ins.arg]) {
      list.emplace_back(pattern.pattern());
      if (written) (*written)[list.back()] = condition_of_pattern(pattern.pattern());
    }
  }
}

// Every text a term compares `field` with, in any branch (and, or; not
// under not): the values the field may take in the term's events.
void possible_texts(const eql::Program& p, std::uint32_t index, FieldId field, std::vector<std::string>& out,
                    int depth = 0) {
  const eql::Instr& ins = p.instrs[index];
  if (depth > 16 || out.size() > 64) return;
  if (ins.op == eql::OpCode::And || ins.op == eql::OpCode::Or) {
    for (std::uint32_t k = 0; k < ins.child_count; ++k) possible_texts(p, p.children[ins.first_child + k], field, out, depth + 1);
    return;
  }
  std::map<FieldId, std::vector<std::string>> one;
  required_texts(p, index, one, depth);
  auto it = one.find(field);
  if (it == one.end()) return;
  for (auto& v : it->second) {
    if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(std::move(v));
  }
}

// The process a term's events belong to, as a sequence join carries it:
// terms joined on process.entity_id (or process.pid) share their process,
// so the process.name / process.executable values one term requires are
// the Image of the other terms' events (a network connection "by the
// regsvr32 process" is a Sysmon 3 event with Image ...\regsvr32.exe).
struct CarriedProcess {
  std::vector<std::string> names;        // process.name values (an Image's end)
  std::vector<std::string> executables;  // process.executable values
  std::string from;                      // the term it comes from ("sequence term 1")
  std::string key;                       // the join field
};

std::optional<CarriedProcess> carried_process(const RuleSet& set, const RuleNeeds& needs, std::size_t term) {
  const TermNeeds& t = needs.terms[term];
  const auto name = set.fields.find("process.name");
  const auto executable = set.fields.find("process.executable");
  if (!name && !executable) return std::nullopt;
  // The term's own process values win: nothing to carry.
  auto texts_of = [&](const TermNeeds& x, std::optional<FieldId> f) {
    std::vector<std::string> out;
    if (f) possible_texts(*x.program, x.program->root, *f, out);
    return out;
  };
  if (!texts_of(t, name).empty() || !texts_of(t, executable).empty()) return std::nullopt;
  for (std::size_t k = 0; k < t.join_keys.size(); ++k) {
    if (t.join_keys[k] != "process.entity_id" && t.join_keys[k] != "process.pid") continue;
    for (std::size_t j = 0; j < needs.terms.size(); ++j) {
      const TermNeeds& other = needs.terms[j];
      if (j == term || other.missing || k >= other.join_keys.size() || other.join_keys[k] != t.join_keys[k]) continue;
      CarriedProcess c{texts_of(other, name), texts_of(other, executable), other.label, t.join_keys[k]};
      if (!c.names.empty() || !c.executables.empty()) return c;
    }
  }
  return std::nullopt;
}

}  // namespace

std::string_view sysmon_tag(int event_id) {
  for (const auto& t : kTags) {
    for (int id : t.ids) {
      if (id == event_id) return t.tag;
    }
  }
  return "";
}

Result<SysmonConfig> SysmonConfig::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"sysmon.config", fmt::format("{}: cannot be read", path)};
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse(text, path);
}

Result<SysmonConfig> load_sysmon_config_text(const std::string& text, const std::string& path) {
  return SysmonConfig::parse(text, path);
}

Result<SysmonConfig> SysmonConfig::parse(const std::string& text, const std::string& path) {
  pugi::xml_document doc;
  pugi::xml_parse_result parsed = doc.load_buffer(text.data(), text.size());
  if (!parsed) {
    return Error{"sysmon.config", fmt::format("{}: byte {}: {}", path, parsed.offset, parsed.description())};
  }
  pugi::xml_node root = doc.child("Sysmon");
  pugi::xml_node filtering = root.child("EventFiltering");
  if (!root || !filtering) return Error{"sysmon.config", path + ": not a Sysmon configuration (no <Sysmon><EventFiltering>)"};
  SysmonConfig config;
  config.schema_ = root.attribute("schemaversion").as_string();
  auto condition_of = [](const pugi::xml_node& n) {
    return SysmonCondition{n.name(), fold_case(n.attribute("condition").as_string()), n.child_value()};
  };
  // An element's '<' (pugixml's offset points at its name).
  auto place = [](const pugi::xml_node& n) {
    const std::ptrdiff_t at = n.offset_debug();
    return at > 0 ? static_cast<std::size_t>(at - 1) : std::size_t{0};
  };
  auto add_section = [&](const pugi::xml_node& section, bool and_group) {
    std::string_view tag = section.name();
    if (std::none_of(std::begin(kTags), std::end(kTags), [&](const TagIds& t) { return t.tag == tag; })) return;
    SysmonEventFilters& f = config.by_tag_[std::string(tag)];
    f.tag = tag;
    const bool include = std::string_view(section.attribute("onmatch").as_string()) == "include";
    (include ? f.has_include : f.has_exclude) = true;
    auto& list = include ? f.include : f.exclude;
    SysmonFilter grouped;
    for (pugi::xml_node c : section.children()) {
      if (c.type() != pugi::node_element) continue;
      if (std::string_view(c.name()) == "Rule") {
        SysmonFilter rule{c.attribute("name").as_string(), {}, SysmonFilter::Form::AndRule, place(c), "Rule"};
        const bool all = std::string_view(c.attribute("groupRelation").as_string()) == "and";
        for (pugi::xml_node rc : c.children()) {
          if (rc.type() != pugi::node_element) continue;
          if (all) {
            rule.conditions.push_back(condition_of(rc));
          } else {
            list.push_back({rc.attribute("name").as_string(), {condition_of(rc)}, SysmonFilter::Form::InOrRule,
                            place(rc), rc.name()});
          }
        }
        if (all && !rule.conditions.empty()) list.push_back(std::move(rule));
      } else if (and_group) {
        grouped.conditions.push_back(condition_of(c));
      } else {
        list.push_back({c.attribute("name").as_string(), {condition_of(c)}, SysmonFilter::Form::Condition, place(c),
                        c.name()});
      }
    }
    if (!grouped.conditions.empty()) {
      grouped.form = SysmonFilter::Form::AndSection;
      grouped.offset = place(section);
      grouped.element = std::string(tag);
      list.push_back(std::move(grouped));
    }
  };
  for (pugi::xml_node n : filtering.children()) {
    if (n.type() != pugi::node_element) continue;
    if (std::string_view(n.name()) == "RuleGroup") {
      const bool and_group = std::string_view(n.attribute("groupRelation").as_string()) == "and";
      for (pugi::xml_node section : n.children()) {
        if (section.type() == pugi::node_element) add_section(section, and_group);
      }
    } else {
      add_section(n, false);
    }
  }
  return config;
}

const SysmonEventFilters* SysmonConfig::filters(int event_id) const {
  auto it = by_tag_.find(std::string(sysmon_tag(event_id)));
  return it == by_tag_.end() ? nullptr : &it->second;
}

bool SysmonConfig::collects(int event_id, const ValueOf& value_of) const {
  const SysmonEventFilters* f = filters(event_id);
  if (!f) return false;
  if (f->has_include && !any_on_event(f->include, value_of)) return false;
  return !any_on_event(f->exclude, value_of);
}

std::set<std::string> SysmonConfig::condition_fields() const {
  std::set<std::string> out;
  for (const auto& [tag, f] : by_tag_) {
    for (const auto* list : {&f.include, &f.exclude}) {
      for (const SysmonFilter& filter : *list) {
        for (const SysmonCondition& c : filter.conditions) out.insert(c.field);
      }
    }
  }
  return out;
}

namespace {

// One way a term's events show in an event ID's EventData.
struct SourceAlternative {
  Probes probe;         // judged against the configuration's filters
  SysmonAddition fix;   // the include that collects it
  std::string label;    // `dll.path "C:\Users\"`
};

// The alternatives for one required value of ECS field `name` (`probe` a
// value it takes, `condition`/`text` how the rule wrote it) in the entry's
// EventData fields that hold it as text: the field itself, a path's name,
// a basename (process.name ← Image: only the end is known, written as
// "end with \name").
void add_source_alternatives(const EcsMappingEntry& entry, const std::string& tag, const std::string& name,
                             const std::string& probe, const WrittenAs& written, std::vector<SourceAlternative>& out) {
  const std::string& condition = written.condition;
  const std::string& text = written.text;
  if (text.empty()) return;  // `?*`: any value, nothing to include on
  // Sysmon compares case-insensitively: one spelling per value.
  auto add = [&](const std::string& source, Probe p, std::string c, std::string t) {
    out.push_back({{{source, std::move(p)}}, {tag, source, std::move(c), fold_case(t)},
                   fmt::format("{} \"{}\"", name, probe)});
  };
  // winlog.event_data.X is the EventData field X itself.
  constexpr std::string_view kEventData = "winlog.event_data.";
  if (name.starts_with(kEventData) && name.size() > kEventData.size() && entry.provider == "Microsoft-Windows-Sysmon") {
    add(name.substr(kEventData.size()), Probe{probe, written.pattern}, condition, text);
    return;
  }
  for (const auto& [ecs, source] : entry.sources) {
    const std::pair<std::string, std::string> pair{ecs, source};
    if (ecs == name &&
        std::find(entry.contained.begin(), entry.contained.end(), pair) != entry.contained.end()) {
      // process.args ← CommandLine: each value occurs in the text.
      add(source, Probe{"*" + probe + "*", true}, "contains", text);
      continue;
    }
    // The value's end of the EventData text: a file or process name (after
    // a backslash), a registry value name, a file extension (after a dot).
    std::string separator;
    if (ecs + ".extension" == name) {
      separator = ".";
    } else if (ecs + ".value" == name || ecs + ".name" == name ||
               (ecs == name && std::find(entry.basename.begin(), entry.basename.end(), pair) != entry.basename.end())) {
      separator = "\\";
    } else if (ecs != name && ecs + ".path" != name) {
      continue;
    }
    if (std::find(entry.derived.begin(), entry.derived.end(), pair) != entry.derived.end()) continue;
    // A whole name is the text's end after the separator; a pattern's end
    // (`*x.dll`, end with x.dll) stays as written.
    std::string c = condition, t = text;
    if (!separator.empty()) {
      if (c == "is") {
        c = "end with";
        t = separator + t;
      } else if (c == "begin with") {
        c = "contains";
        t = separator + t;
      }
    }
    add(source, separator.empty() ? Probe{probe, written.pattern} : Probe{"*" + separator + probe, true}, c, t);
  }
}

// The negation of an include condition (what a narrowed exclude filter adds), or null.
const char* negated(std::string_view condition) {
  if (condition == "is") return "is not";
  if (condition == "begin with") return "not begin with";
  if (condition == "end with") return "not end with";
  if (condition == "contains") return "excludes";
  return nullptr;
}

// The include for values matching a pattern (a literal value: `is`).
SysmonAddition include_of(const std::string& tag, const std::string& source, std::string_view pattern) {
  WrittenAs w = condition_of_pattern(pattern);
  return {tag, source, std::move(w.condition), std::move(w.text)};
}

// How telling a set of alternatives is: its shortest include text.
std::size_t shortest_text(const std::vector<SourceAlternative>& alts) {
  std::size_t out = ~std::size_t{0};
  for (const auto& a : alts) out = std::min(out, a.fix.value.size());
  return out;
}

// A condition every event of a term meets one of (see cover_conditions).
struct CoverCondition {
  FieldId field;
  WrittenAs written;   // as an include writes it
  std::string probe;   // a value meeting it
};

// What cover_conditions looks for: fields an include can name, and the
// event ID's categories (a branch requiring another category matches none
// of its events).
struct CoverTarget {
  std::function<bool(FieldId)> usable;
  std::function<bool(FieldId)> absent;  // a field events of this ID never have
  std::optional<FieldId> category_field;
  const std::vector<std::string>* categories = nullptr;
};

// True when instruction `index` requires an event.category the target's events never have.
bool other_category(const eql::Program& p, std::uint32_t index, const CoverTarget& target) {
  const eql::Instr& ins = p.instrs[index];
  if (!target.category_field || !target.categories || ins.child_count == 0) return false;
  const eql::Instr& f = p.instrs[p.children[ins.first_child]];
  if (f.op != eql::OpCode::Field || f.arg != *target.category_field) return false;
  auto known = [&](std::string_view c) {
    return std::find(target.categories->begin(), target.categories->end(), c) != target.categories->end();
  };
  if (ins.op == eql::OpCode::InSet) {
    for (const std::string& c : p.sets[ins.arg].strings) {
      if (known(c)) return false;
    }
    return true;
  }
  if (ins.op == eql::OpCode::Compare && ins.child_count == 2 &&
      static_cast<eql::CompareOp>(ins.sub) == eql::CompareOp::Eq) {
    const eql::Instr& c = p.instrs[p.children[ins.first_child + 1]];
    return c.op == eql::OpCode::Constant && p.constants[c.arg].is_text() && !known(p.constants[c.arg].as_string());
  }
  return false;
}

// Conditions one of which every event matching instruction `index` meets:
// each branch's for `or` (fails if one branch has none; a branch of another
// event category needs none), the fewest of one conjunct for `and` (on
// fields the target can name); equality, `in`, wildcards,
// startsWith/endsWith/stringContains, and true/false flags. Not under `not`.
bool cover_conditions(const eql::Program& p, std::uint32_t index, const CoverTarget& target,
                      std::vector<CoverCondition>& out, int depth = 0) {
  const eql::Instr& ins = p.instrs[index];
  if (depth > 16 || out.size() > 256) return false;
  auto child = [&](std::uint32_t k) -> const eql::Instr& { return p.instrs[p.children[ins.first_child + k]]; };
  auto field_of = [&](const eql::Instr& f) -> std::optional<FieldId> {
    if (f.op != eql::OpCode::Field || !target.usable(static_cast<FieldId>(f.arg))) return std::nullopt;
    return static_cast<FieldId>(f.arg);
  };
  // A comparison on a field these events never have matches none of them: nothing to include.
  if (ins.child_count > 0 && ins.op != eql::OpCode::And && ins.op != eql::OpCode::Or && ins.op != eql::OpCode::Not &&
      ins.op != eql::OpCode::IsNull && !(ins.op == eql::OpCode::InSet && p.sets[ins.arg].has_null) &&
      !(ins.flags & eql::kNullSafe)) {
    const eql::Instr& f = child(0);
    if (f.op == eql::OpCode::Field && target.absent(static_cast<FieldId>(f.arg))) return true;
  }
  auto text_of = [](const Value& v) -> std::optional<std::string> {
    if (v.is_text()) return std::string(v.as_string());
    if (v.kind() == ValueKind::Bool) return std::string(v.as_bool() ? "true" : "false");
    if (v.kind() == ValueKind::Int) return std::to_string(v.as_int());
    return std::nullopt;
  };
  switch (ins.op) {
    case eql::OpCode::Or:
      for (std::uint32_t k = 0; k < ins.child_count; ++k) {
        if (!cover_conditions(p, p.children[ins.first_child + k], target, out, depth + 1)) return false;
      }
      return ins.child_count > 0;
    case eql::OpCode::And: {
      std::optional<std::vector<CoverCondition>> best;
      for (std::uint32_t k = 0; k < ins.child_count; ++k) {
        if (other_category(p, p.children[ins.first_child + k], target)) return true;  // none of these events
      }
      for (std::uint32_t k = 0; k < ins.child_count; ++k) {
        // The most telling conjunct: the longest shortest text, then the fewest conditions.
        std::vector<CoverCondition> one;
        if (!cover_conditions(p, p.children[ins.first_child + k], target, one, depth + 1)) continue;
        auto shortest = [](const std::vector<CoverCondition>& cs) {
          std::size_t n = ~std::size_t{0};
          for (const auto& c : cs) n = std::min(n, c.written.text.size());
          return n;
        };
        if (!best || shortest(one) > shortest(*best) || (shortest(one) == shortest(*best) && one.size() < best->size())) {
          best = std::move(one);
        }
      }
      if (!best) return false;
      for (auto& c : *best) out.push_back(std::move(c));
      return true;
    }
    case eql::OpCode::InSet: {
      const auto f = ins.child_count == 1 ? field_of(child(0)) : std::nullopt;
      const eql::ConstantSet& set = p.sets[ins.arg];
      if (!f || set.has_null) return false;
      std::size_t n = 0;
      for (const std::string& v : set.strings) out.push_back({*f, {"is", v}, v}), ++n;
      for (double d : set.numbers) {
        if (d != static_cast<double>(static_cast<std::int64_t>(d))) return false;
        const std::string v = std::to_string(static_cast<std::int64_t>(d));
        out.push_back({*f, {"is", v}, v}), ++n;
      }
      for (bool b : set.bools) out.push_back({*f, {"is", b ? "true" : "false"}, b ? "true" : "false"}), ++n;
      return n > 0;
    }
    case eql::OpCode::Compare: {
      if (ins.child_count != 2 || static_cast<eql::CompareOp>(ins.sub) != eql::CompareOp::Eq) return false;
      const auto f = field_of(child(0));
      if (!f || child(1).op != eql::OpCode::Constant) return false;
      const auto v = text_of(p.constants[child(1).arg]);
      if (!v) return false;
      out.push_back({*f, {"is", *v}, *v});
      return true;
    }
    case eql::OpCode::Wildcard: {
      const auto f = ins.child_count == 1 ? field_of(child(0)) : std::nullopt;
      if (!f || p.patterns[ins.arg].empty()) return false;
      for (const auto& pattern : p.patterns[ins.arg]) {
        WrittenAs written = condition_of_pattern(pattern.pattern());
        if (written.text.empty()) return false;  // "*": any value
        out.push_back({*f, std::move(written), pattern.pattern()});
      }
      return true;
    }
    case eql::OpCode::Call: {
      const std::string_view fn = p.functions[ins.arg]->name;
      const char* condition = fn == "startsWith" ? "begin with" : fn == "endsWith" ? "end with"
                              : fn == "stringContains" ? "contains" : nullptr;
      if (!condition || ins.child_count < 2) return false;
      const auto f = field_of(child(0));
      if (!f) return false;
      std::vector<CoverCondition> values;
      for (std::uint32_t k = 1; k < ins.child_count; ++k) {
        if (child(k).op != eql::OpCode::Constant || !p.constants[child(k).arg].is_text()) return false;
        const std::string v(p.constants[child(k).arg].as_string());
        if (v.empty()) return false;
        // The probe: the values it stands for, as a pattern.
        const std::string probe = fn == "startsWith" ? v + "*" : fn == "endsWith" ? "*" + v : "*" + v + "*";
        values.push_back({*f, {condition, v, true}, probe});
      }
      for (auto& c : values) out.push_back(std::move(c));
      return true;
    }
    default:
      return false;
  }
}

}  // namespace

bool addition_holds(const SysmonAddition& a, int event_id, const SysmonConfig::ValueOf& value_of) {
  if (sysmon_tag(event_id) != a.tag) return false;
  return a.field.empty() || condition_on_event(SysmonCondition{a.field, a.condition, a.value}, value_of);
}

Verdict judge_sysmon_config(const RuleSet& set, const RuleNeeds& needs, const SysmonConfig& config,
                            SysmonSuggestions* suggestions) {
  Verdict v;
  const std::string& rule_name = set.compiled[needs.rule].rule->name;
  // Suggestions wait until their category's verdict is known: none are needed
  // where another event ID of the category is already collected.
  std::vector<SysmonAddition> pending_additions;
  std::vector<std::string> pending_unfixable;
  auto suggest = [&](SysmonAddition a) {
    if (suggestions) pending_additions.push_back(std::move(a));
  };
  auto cannot = [&](const std::string& why) {
    if (suggestions) pending_unfixable.push_back(rule_name + ": " + why);
  };
  auto commit = [&](bool needed) {
    if (suggestions && needed) {
      for (auto& a : pending_additions) {
        auto& rules = suggestions->additions[std::move(a)];
        if (std::find(rules.begin(), rules.end(), rule_name) == rules.end()) rules.push_back(rule_name);
      }
      for (auto& u : pending_unfixable) suggestions->unfixable.push_back(std::move(u));
    }
    pending_additions.clear();
    pending_unfixable.clear();
  };
  const std::optional<FieldId> category_field = set.fields.find("event.category");
  for (std::size_t term_index = 0; term_index < needs.terms.size(); ++term_index) {
    const TermNeeds& term = needs.terms[term_index];
    if (term.missing) continue;
    const std::string prefix = needs.terms.size() > 1 ? term.label + ": " : std::string();
    std::vector<const EcsMappingEntry*> sysmon;
    bool other_sources = false;
    for (const EcsMappingEntry* e : term.sources) {
      if (e->provider == "Microsoft-Windows-Sysmon") {
        sysmon.push_back(e);
      } else {
        other_sources = true;
      }
    }
    if (sysmon.empty()) continue;  // not Sysmon's to give
    std::map<FieldId, std::vector<std::string>> texts;
    Written written;
    required_texts(*term.program, term.program->root, texts, 0, &written);
    const std::optional<CarriedProcess> carried = carried_process(set, needs, term_index);

    // One Sysmon event ID's verdict for the term, with the reasons it is not ready.
    auto judge_entry = [&](const EcsMappingEntry* entry, std::vector<std::string>& why) {
      const int id = static_cast<int>(entry->id);
      const SysmonEventFilters* f = config.filters(id);
      const std::string tag(sysmon_tag(id));
      // The ways the term's events show in this ID's EventData: each a probe
      // judged against the filters and the include that would collect it.
      std::vector<SourceAlternative> alts;
      // One required field's alternatives are enough to judge (every event
      // meets one of them): the most telling field's — the one whose
      // shortest include text is longest (Image end with ".exe" says little).
      std::size_t telling = 0;
      for (const auto& [field, values] : texts) {
        const std::string name(set.fields.name(field));
        std::vector<SourceAlternative> field_alts;
        for (const auto& value : values) {
          auto w = written.find(value);
          add_source_alternatives(*entry, tag, name, value, w != written.end() ? w->second : WrittenAs{"is", value},
                                  field_alts);
        }
        if (field_alts.empty()) continue;
        const std::size_t shortest = shortest_text(field_alts);
        if (alts.empty() || shortest > telling) {
          alts = std::move(field_alts);
          telling = shortest;
        }
      }
      if (alts.empty() || telling < 4) {
        // No conjunction pins a telling value: conditions one of which each of the term's events meets
        // (a branch per `or`, the most telling conjunct per `and`), on fields this ID's EventData holds.
        auto usable = [&](FieldId candidate) {
          std::vector<SourceAlternative> probe;
          add_source_alternatives(*entry, tag, std::string(set.fields.name(candidate)), "x", {"is", "x"}, probe);
          return !probe.empty();
        };
        std::vector<CoverCondition> cover;
        // A field of an ECS object the event maps (process.*) that the mapping never sets.
        auto absent = [&](FieldId candidate) {
          const std::string_view n = set.fields.name(candidate);
          if (std::find(entry->fields.begin(), entry->fields.end(), n) != entry->fields.end()) return false;
          const std::string_view object = n.substr(0, n.find('.'));
          if (object == "winlog" || object == "event" || object == n) return false;
          return std::any_of(entry->fields.begin(), entry->fields.end(), [&](const std::string& mapped) {
            return mapped.size() > object.size() && mapped.starts_with(object) && mapped[object.size()] == '.';
          });
        };
        const CoverTarget target{usable, absent, category_field, &entry->category};
        std::vector<SourceAlternative> covering;
        if (cover_conditions(*term.program, term.program->root, target, cover) && !cover.empty()) {
          for (const CoverCondition& c : cover) {
            add_source_alternatives(*entry, tag, std::string(set.fields.name(c.field)), c.probe, c.written, covering);
          }
        }
        if (!covering.empty() && (alts.empty() || shortest_text(covering) > telling)) alts = std::move(covering);
      }
      std::vector<SysmonAddition> fixes;
      for (const auto& a : alts) fixes.push_back(a.fix);
      if (fixes.empty() && carried) {
        for (const auto& [ecs, source] : entry->sources) {
          if (ecs != "process.executable") continue;
          for (const auto& n : carried->names) fixes.push_back(include_of(tag, source, "*\\" + n));
          for (const auto& x : carried->executables) fixes.push_back(include_of(tag, source, x));
        }
      }
      if (!f) {
        why.push_back(fmt::format("Sysmon {} ({}) is not in the configuration", id, tag));
        if (fixes.empty()) {
          suggest({tag, "", "", ""});  // a type the configuration never mentions: collect it all
        } else {
          for (auto& x : fixes) suggest(x);
        }
        return CoverageStatus::Blind;
      }
      if (!f->has_exclude && f->include.empty()) {
        why.push_back(fmt::format("Sysmon {}: <{} onmatch=\"include\"> has no rules: nothing is collected", id, tag));
        if (fixes.empty()) {
          cannot(fmt::format("Sysmon {} ({}): the rule pins no value to include on; collecting every {} event means "
                             "replacing the empty include with an empty exclude",
                             id, tag, tag));
        } else {
          for (auto& x : fixes) suggest(x);
        }
        return CoverageStatus::Blind;
      }
      // Judges alternatives (any one makes the term): collected, lost or unknown each.
      auto judge_alternatives = [&](const std::vector<Probes>& alternatives, const std::vector<std::string>& labels,
                                    const std::string& context, const std::vector<SysmonAddition>& add_on_loss) {
        std::size_t collected = 0, unknown = 0;
        std::vector<std::string> lost;
        for (std::size_t a = 0; a < alternatives.size(); ++a) {
          const SysmonFilter* excluded_by = nullptr;
          Tri excluded = f->exclude.empty() ? Tri::False : any_filter(f->exclude, alternatives[a], &excluded_by);
          Tri included = f->has_include ? any_filter(f->include, alternatives[a], nullptr) : Tri::True;
          if (excluded == Tri::True) {
            lost.push_back(fmt::format("{}{} excluded by {}", labels[a], context, describe(*excluded_by)));
            if (a < add_on_loss.size() && !add_on_loss[a].field.empty() && negated(add_on_loss[a].condition) &&
                excluded_by->form != SysmonFilter::Form::InOrRule && excluded_by->offset > 0) {
              // Narrow the exclusion to spare these events; they still need an include if none holds.
              SysmonAddition narrowing = add_on_loss[a];
              narrowing.narrows = describe(*excluded_by);
              narrowing.form = excluded_by->form;
              narrowing.offset = excluded_by->offset;
              narrowing.element = excluded_by->element;
              suggest(std::move(narrowing));
              if (included != Tri::True) suggest(add_on_loss[a]);
            } else {
              cannot(fmt::format("Sysmon {} ({}): {} is excluded by {}: narrow that exclusion", id, tag, labels[a],
                                 describe(*excluded_by)));
            }
          } else if (included == Tri::False) {
            lost.push_back(fmt::format("{}{} matches none of the {} include rules", labels[a], context, f->include.size()));
            if (a < add_on_loss.size()) suggest(add_on_loss[a]);
          } else if (included == Tri::True) {
            // An exclusion on other fields (a noisy process writing the same key)
            // drops some of these events, not the kind.
            ++collected;
          } else {
            // Collected only if the event's other fields match an include: the addition makes it sure.
            ++unknown;
            if (a < add_on_loss.size()) suggest(add_on_loss[a]);
          }
        }
        // The alternatives are or-ed (any of the values makes the term): one
        // surely collected with none surely lost is enough.
        for (auto& l : lost) why.push_back(fmt::format("Sysmon {}: {}", id, l));
        if (collected > 0 && lost.empty()) return CoverageStatus::Ready;
        if (collected + unknown > 0) {
          if (unknown)
            why.push_back(fmt::format("Sysmon {}: {} value(s) collected only if other fields match <{}>'s include rules",
                                      id, unknown, tag));
          return CoverageStatus::Degraded;
        }
        return CoverageStatus::Blind;
      };
      std::vector<Probes> alternatives;
      std::vector<std::string> labels;
      for (auto& a : alts) {
        alternatives.push_back(std::move(a.probe));
        labels.push_back(std::move(a.label));
      }
      CoverageStatus status;
      if (alternatives.empty()) {
        if (f->include.empty()) {
          status = CoverageStatus::Ready;
        } else if (!carried) {
          why.push_back(fmt::format("Sysmon {}: only events matching one of the {} include rules of <{}> are collected",
                                    id, f->include.size(), tag));
          cannot(fmt::format("Sysmon {} ({}): the rule pins no value an include could name", id, tag));
          status = CoverageStatus::Degraded;
        } else {
          status = CoverageStatus::Ready;  // judged by the joined process below
        }
      } else {
        status = judge_alternatives(alternatives, labels, "", fixes);
      }
      if (carried) {
        // The joined process's identity is the Image of these events too: the worse of the two judgements.
        std::vector<Probes> process;
        std::vector<std::string> process_labels;
        std::vector<SysmonAddition> process_fixes;
        for (const auto& [ecs, source] : entry->sources) {
          if (ecs != "process.executable") continue;
          for (const auto& n : carried->names) {
            process.push_back({{source, Probe{"*\\" + n, true}}});
            process_labels.push_back(fmt::format("the process of {} (process.name \"{}\")", carried->from, n));
            process_fixes.push_back(include_of(tag, source, "*\\" + n));
          }
          for (const auto& x : carried->executables) {
            process.push_back({{source, Probe{x, x.find_first_of("*?") != std::string::npos}}});
            process_labels.push_back(fmt::format("the process of {} (process.executable \"{}\")", carried->from, x));
            process_fixes.push_back(include_of(tag, source, x));
          }
        }
        if (!process.empty()) {
          const std::string context = fmt::format(", joined by {},", carried->key);
          status = std::max(status, judge_alternatives(process, process_labels, context, process_fixes));
        }
      }
      return status;
    };

    // A term whose branches name several event categories (`network ... or
    // library ...`) needs each branch's events: a category Sysmon cannot
    // collect leaves the term degraded even when another is ready. Event IDs
    // of one category are alternatives (any one suffices).
    std::vector<std::string> categories;
    if (category_field) possible_texts(*term.program, term.program->root, *category_field, categories);
    std::erase_if(categories, [&](const std::string& c) {
      return std::none_of(sysmon.begin(), sysmon.end(), [&](const EcsMappingEntry* e) {
        return std::find(e->category.begin(), e->category.end(), c) != e->category.end();
      });
    });
    if (categories.size() < 2) categories.assign(1, std::string());
    CoverageStatus term_status = CoverageStatus::Ready;
    bool any_collected = false;
    std::vector<std::pair<CoverageStatus, std::string>> reasons;
    for (const std::string& category : categories) {
      CoverageStatus best = CoverageStatus::Blind;
      std::vector<std::string> why;
      // Each event ID's suggestions, to keep those of one: the ID that fares
      // best (one collected ID is enough), the configuration's own on a tie.
      struct Judged {
        CoverageStatus status;
        bool in_config;
        std::size_t additions_end, unfixable_end;
      };
      std::vector<Judged> judged;
      for (const EcsMappingEntry* entry : sysmon) {
        if (!category.empty() && std::find(entry->category.begin(), entry->category.end(), category) == entry->category.end())
          continue;
        std::vector<std::string> entry_why;
        const CoverageStatus s = judge_entry(entry, entry_why);
        judged.push_back({s, config.filters(static_cast<int>(entry->id)) != nullptr, pending_additions.size(),
                          pending_unfixable.size()});
        best = std::min(best, s);  // the better of alternative event IDs
        for (auto& w : entry_why) why.push_back(std::move(w));
      }
      if (!judged.empty()) {
        std::size_t keep = 0;
        for (std::size_t j = 1; j < judged.size(); ++j) {
          if (std::pair{static_cast<int>(judged[j].status), !judged[j].in_config} <
              std::pair{static_cast<int>(judged[keep].status), !judged[keep].in_config}) {
            keep = j;
          }
        }
        auto slice = [&](auto& pending, std::size_t Judged::*end) {
          const std::size_t from = keep == 0 ? 0 : judged[keep - 1].*end, to = judged[keep].*end;
          pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(to), pending.end());
          pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(from));
        };
        slice(pending_additions, &Judged::additions_end);
        slice(pending_unfixable, &Judged::unfixable_end);
      }
      commit(best != CoverageStatus::Ready);
      any_collected = any_collected || best != CoverageStatus::Blind;
      term_status = std::max(term_status, best);  // the worse of the branches
      if (best == CoverageStatus::Ready) continue;
      const std::string branch = category.empty() ? std::string() : fmt::format("the {} branch: ", category);
      for (auto& w : why) reasons.emplace_back(best, branch + w);
      if (why.empty()) reasons.emplace_back(best, branch + "not collected");
    }
    if (term_status == CoverageStatus::Ready) continue;
    // Some branches collected, others not: the term works in part.
    const CoverageStatus verdict = any_collected ? CoverageStatus::Degraded : CoverageStatus::Blind;
    const std::string others = other_sources ? " (other sources — Windows auditing, Elastic Defend — may still provide it)" : "";
    for (const auto& [status, w] : reasons) v.add(verdict, prefix + w + others);
  }
  return v;
}

namespace {
std::string xml_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}
// Comment text: no "--" (not allowed inside an XML comment).
std::string comment_text(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '-' && !out.empty() && out.back() == '-') out += ' ';
    out += c;
  }
  if (!out.empty() && out.back() == '-') out += ' ';
  return out;
}
}  // namespace

namespace {

// The narrowed exclude filters, in place: a single condition becomes a
// <Rule groupRelation="and"> with the negated conditions of the events to
// spare; an and-Rule or and-section gets them as more conditions. From the
// end of the file, so the earlier offsets stay valid.
std::string narrow_exclusions(std::string out, const SysmonSuggestions& suggestions) {
  struct Narrowed {
    const SysmonAddition* filter = nullptr;
    std::string conditions;
    std::vector<std::string> rules;
  };
  std::map<std::size_t, Narrowed> narrowed;
  for (const auto& [a, rules] : suggestions.additions) {
    if (a.narrows.empty()) continue;
    Narrowed& n = narrowed[a.offset];
    if (!n.filter) n.filter = &a;
    n.conditions += fmt::format("<{} condition=\"{}\">{}</{}>", a.field, negated(a.condition), xml_escape(a.value), a.field);
    for (const auto& r : rules) {
      if (std::find(n.rules.begin(), n.rules.end(), r) == n.rules.end()) n.rules.push_back(r);
    }
  }
  for (auto it = narrowed.rbegin(); it != narrowed.rend(); ++it) {
    const SysmonAddition& f = *it->second.filter;
    const std::size_t at = f.offset;
    if (at >= out.size() || out[at] != '<' || out.compare(at + 1, f.element.size(), f.element) != 0) continue;
    const std::string comment = fmt::format("<!-- vigil coverage (suggest): narrowed so that {} get their events -->",
                                            comment_text(fmt::format("{}", fmt::join(it->second.rules, "; "))));
    const std::string close = "</" + f.element + ">";
    if (f.form == SysmonFilter::Form::Condition) {
      const std::size_t gt = out.find('>', at);
      if (gt == std::string::npos) continue;
      std::size_t end = out[gt - 1] == '/' ? gt + 1 : out.find(close, gt);
      if (end == std::string::npos) continue;
      if (out[gt - 1] != '/') end += close.size();
      out.insert(end, it->second.conditions + "</Rule>");
      out.insert(at, comment + "<Rule groupRelation=\"and\">");
    } else {
      const std::size_t end = out.find(close, at);
      if (end == std::string::npos) continue;
      out.insert(end, comment + it->second.conditions);
    }
  }
  return out;
}

}  // namespace

std::string patch_sysmon_config(const std::string& original, const SysmonSuggestions& suggestions) {
  if (suggestions.additions.empty()) return original;
  const std::string text = narrow_exclusions(original, suggestions);
  if (std::all_of(suggestions.additions.begin(), suggestions.additions.end(),
                  [](const auto& a) { return !a.first.narrows.empty(); })) {
    return text;
  }
  std::string block = "\n  <!-- added by vigil coverage (suggest): these rules collect the events the named vigil rules need -->\n";
  std::string tag;
  for (const auto& [a, rules] : suggestions.additions) {
    if (!a.narrows.empty()) continue;
    if (a.tag != tag) {
      if (!tag.empty()) block += fmt::format("    </{}>\n  </RuleGroup>\n", tag);
      tag = a.tag;
      if (a.field.empty()) {
        block += fmt::format("  <RuleGroup name=\"vigil: collect every {} event\" groupRelation=\"or\">\n", a.tag);
        block += fmt::format("    <!-- for {} -->\n", comment_text(fmt::format("{}", fmt::join(rules, "; "))));
        block += fmt::format("    <{} onmatch=\"exclude\"/>\n  </RuleGroup>\n", a.tag);
        tag.clear();
        continue;
      }
      block += fmt::format("  <RuleGroup name=\"vigil: {}\" groupRelation=\"or\">\n    <{} onmatch=\"include\">\n", a.tag, a.tag);
    }
    block += fmt::format("      <!-- for {} -->\n      <{} condition=\"{}\">{}</{}>\n",
                         comment_text(fmt::format("{}", fmt::join(rules, "; "))), a.field, a.condition,
                         xml_escape(a.value), a.field);
  }
  if (!tag.empty()) block += fmt::format("    </{}>\n  </RuleGroup>\n", tag);
  const std::size_t at = text.rfind("</EventFiltering>");
  if (at == std::string::npos) return text;
  // Start the block on its own line; the rest of the file is unchanged.
  std::size_t line = at;
  while (line > 0 && (text[line - 1] == ' ' || text[line - 1] == '\t')) --line;
  return text.substr(0, line) + block.substr(1) + text.substr(line);
}

}  // namespace vigil
