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

// A value the rule's events are known to carry in one EventData field.
struct Probe {
  std::string value;
  bool suffix_only = false;  // only the end is known (a file name for an Image path)
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

Tri condition_holds(const SysmonCondition& c, const Probes& probes) {
  auto it = probes.find(c.field);
  if (it == probes.end()) return Tri::Unknown;
  const std::string v = fold_case(it->second.value);
  const bool partial = it->second.suffix_only;
  const std::string want = fold_case(c.value);
  auto tri = [](bool b) { return b ? Tri::True : Tri::False; };
  auto has = [&](const std::string& s) { return v.find(s) != std::string::npos; };
  const std::string& op = c.op;
  if (op == "is" || op.empty()) return partial ? (v.ends_with(want) ? Tri::Unknown : Tri::False) : tri(v == want);
  if (op == "is not") return partial ? Tri::Unknown : tri(v != want);
  if (op == "is any") {
    auto any = split_any(c.value);
    if (partial) return std::any_of(any.begin(), any.end(), [&](const std::string& a) { return a.ends_with(v); }) ? Tri::Unknown : Tri::False;
    return tri(std::find(any.begin(), any.end(), v) != any.end());
  }
  if (op == "contains") return has(want) ? Tri::True : partial ? Tri::Unknown : Tri::False;
  if (op == "contains any") {
    auto any = split_any(c.value);
    return std::any_of(any.begin(), any.end(), has) ? Tri::True : partial ? Tri::Unknown : Tri::False;
  }
  if (op == "contains all") {
    auto all = split_any(c.value);
    return std::all_of(all.begin(), all.end(), has) ? Tri::True : partial ? Tri::Unknown : Tri::False;
  }
  if (op == "excludes") return has(want) ? Tri::False : partial ? Tri::Unknown : Tri::True;
  if (op == "excludes any") {
    auto any = split_any(c.value);
    return std::any_of(any.begin(), any.end(), has) ? Tri::False : partial ? Tri::Unknown : Tri::True;
  }
  if (op == "excludes all") {
    auto all = split_any(c.value);
    return std::all_of(all.begin(), all.end(), has) ? Tri::False : partial ? Tri::Unknown : Tri::True;
  }
  if (op == "begin with") return partial ? Tri::Unknown : tri(v.starts_with(want));
  if (op == "not begin with") return partial ? Tri::Unknown : tri(!v.starts_with(want));
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
std::string probe_of_pattern(std::string_view pattern) {
  std::string out;
  for (char c : pattern) {
    if (c == '*') continue;
    out.push_back(c == '?' ? 'C' : c);
  }
  return out;
}

// Alternatives of required values per ECS field: literal sets and wildcard
// patterns a conjunction of the term requires.
// How a probe value was required, as a Sysmon condition and its value:
// (is, v) for equalities and lists, (begin with / end with / contains, the
// literal part) for wildcard patterns.
using Written = std::map<std::string, std::pair<std::string, std::string>>;

std::pair<std::string, std::string> condition_of_pattern(std::string_view pattern) {
  const bool lead = pattern.starts_with('*'), trail = pattern.ends_with('*');
  std::string_view core = pattern.substr(lead ? 1 : 0);
  if (trail && !core.empty()) core.remove_suffix(1);
  if (core.find_first_of("*?") == std::string_view::npos) {
    const std::string c(core);
    if (lead && trail) return {"contains", c};
    if (lead) return {"end with", c};
    if (trail) return {"begin with", c};
    return {"is", c};
  }
  // Inner wildcards (?:\Windows\*\x.dll): the longest literal run.
  std::string best, cur;
  for (char ch : pattern) {
    if (ch == '*' || ch == '?') {
      if (cur.size() > best.size()) best = cur;
      cur.clear();
    } else {
      cur += ch;
    }
  }
  if (cur.size() > best.size()) best = cur;
  if (pattern.ends_with(best) && !pattern.ends_with("*")) return {"end with", best};
  return {"contains", best};
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
      list.push_back(probe_of_pattern(pattern.pattern()));
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
        SysmonFilter rule{c.attribute("name").as_string(), {}};
        const bool all = std::string_view(c.attribute("groupRelation").as_string()) == "and";
        for (pugi::xml_node rc : c.children()) {
          if (rc.type() != pugi::node_element) continue;
          if (all) {
            rule.conditions.push_back(condition_of(rc));
          } else {
            list.push_back({rc.attribute("name").as_string(), {condition_of(rc)}});
          }
        }
        if (all && !rule.conditions.empty()) list.push_back(std::move(rule));
      } else if (and_group) {
        grouped.conditions.push_back(condition_of(c));
      } else {
        list.push_back({c.attribute("name").as_string(), {condition_of(c)}});
      }
    }
    if (!grouped.conditions.empty()) list.push_back(std::move(grouped));
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
      // The include conditions that would collect this term's events of this ID.
      std::vector<SysmonAddition> fixes;
      for (const auto& [field, values] : texts) {
        std::string name(set.fields.name(field));
        for (const auto& [ecs, source] : entry->sources) {
          if (ecs != name && ecs + ".path" != name && ecs + ".name" != name) continue;
          for (const auto& value : values) {
            auto w = written.find(value);
            auto [condition, text] = w != written.end() ? w->second : std::pair<std::string, std::string>{"is", value};
            if (name.ends_with(".name") && ecs + ".name" == name) {
              condition = condition == "is" || condition == "end with" ? "end with" : condition;
              if (condition == "end with" && !text.starts_with("\\")) text = "\\" + text;
            }
            fixes.push_back({tag, source, condition, text});
          }
        }
        if (!fixes.empty()) break;
      }
      if (fixes.empty() && carried) {
        for (const auto& [ecs, source] : entry->sources) {
          if (ecs != "process.executable") continue;
          for (const auto& n : carried->names) fixes.push_back({tag, source, "end with", "\\" + n});
          for (const auto& x : carried->executables) fixes.push_back({tag, source, "is", x});
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
            cannot(fmt::format("Sysmon {} ({}): {} is excluded by {}: narrow that exclusion", id, tag, labels[a],
                               describe(*excluded_by)));
          } else if (included == Tri::False) {
            lost.push_back(fmt::format("{}{} matches none of the {} include rules", labels[a], context, f->include.size()));
            if (a < add_on_loss.size()) suggest(add_on_loss[a]);
          } else if (included == Tri::True) {
            // An exclusion on other fields (a noisy process writing the same key)
            // drops some of these events, not the kind.
            ++collected;
          } else {
            ++unknown;
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
      // Probe alternatives: each required value of each mapped field.
      std::vector<Probes> alternatives;
      std::vector<std::string> labels;
      for (const auto& [field, values] : texts) {
        std::string name(set.fields.name(field));
        for (const auto& [ecs, source] : entry->sources) {
          // registry.path ← "registry" (a path transform), dll.name ← "dll",
          // process.name ← Image (basename): a name is only the path's end.
          if (ecs != name && ecs + ".path" != name && ecs + ".name" != name) continue;
          const bool basename = name.ends_with(".name");
          for (const auto& value : values) {
            Probes p;
            p[source] = Probe{basename ? "\\" + value : value, basename};
            alternatives.push_back(std::move(p));
            labels.push_back(fmt::format("{} \"{}\"", name, value));
          }
        }
        if (!alternatives.empty()) break;  // one field's alternatives are enough to judge
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
            process.push_back({{source, Probe{"\\" + n, true}}});
            process_labels.push_back(fmt::format("the process of {} (process.name \"{}\")", carried->from, n));
            process_fixes.push_back({tag, source, "end with", "\\" + n});
          }
          for (const auto& x : carried->executables) {
            process.push_back({{source, Probe{x, false}}});
            process_labels.push_back(fmt::format("the process of {} (process.executable \"{}\")", carried->from, x));
            process_fixes.push_back({tag, source, "is", x});
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
      for (const EcsMappingEntry* entry : sysmon) {
        if (!category.empty() && std::find(entry->category.begin(), entry->category.end(), category) == entry->category.end())
          continue;
        std::vector<std::string> entry_why;
        const CoverageStatus s = judge_entry(entry, entry_why);
        best = std::min(best, s);  // the better of alternative event IDs
        for (auto& w : entry_why) why.push_back(std::move(w));
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

std::string patch_sysmon_config(const std::string& text, const SysmonSuggestions& suggestions) {
  if (suggestions.additions.empty()) return text;
  std::string block = "\n  <!-- added by vigil coverage (suggest): these rules collect the events the named vigil rules need -->\n";
  std::string tag;
  for (const auto& [a, rules] : suggestions.additions) {
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
