// Coverage: rule needs from compiled queries, the data profile, verdicts.
#include "coverage/coverage.h"

#include "core/text.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>


namespace vigil {
namespace {

// Fields every normalized event has or that only classify it: never a reason.
bool ambient(std::string_view f) {
  return f == "@timestamp" || f == "event.category" || f == "event.type" || f == "event.kind" ||
         f == "host.os.type" || f == "host.os.family" || f == "host.os.platform" || f == "host.os.name" ||
         f == "event.module" || f == "event.dataset" || f == "data_stream.dataset" || f == "event.code" ||
         f == "event.provider" || f == "agent.type" || f == "data_stream.type" || f == "host.name";
}

bool contains(const std::vector<std::string>& v, std::string_view s) { return std::find(v.begin(), v.end(), s) != v.end(); }

std::string short_provider(std::string_view provider) {
  if (provider == "Microsoft-Windows-Sysmon") return "Sysmon";
  if (provider == "Microsoft-Windows-Security-Auditing") return "Security";
  if (provider == "Service Control Manager") return "System";
  if (provider == "Microsoft-Windows-PowerShell") return "PowerShell";
  return std::string(provider);
}

// Adds the values `event.code` (`code`) is tested against at `index` (an
// `in` list or an equality); false if that node tests anything else.
bool code_values(const eql::Program& p, std::uint32_t index, FieldId code, std::vector<std::string>& out) {
  const eql::Instr& ins = p.instrs[index];
  if (ins.child_count < 1) return false;
  const eql::Instr& f = p.instrs[p.children[ins.first_child]];
  if (f.op != eql::OpCode::Field || f.arg != code) return false;
  if (ins.op == eql::OpCode::InSet && ins.child_count == 1) {
    for (const std::string& v : p.sets[ins.arg].strings) out.push_back(v);
    for (double n : p.sets[ins.arg].numbers) out.push_back(std::to_string(static_cast<long long>(n)));
    return true;
  }
  if (ins.op == eql::OpCode::Compare && ins.child_count == 2 && static_cast<eql::CompareOp>(ins.sub) == eql::CompareOp::Eq) {
    const eql::Instr& c = p.instrs[p.children[ins.first_child + 1]];
    if (c.op != eql::OpCode::Constant) return false;
    const Value& v = p.constants[c.arg];
    if (v.is_text()) out.emplace_back(v.as_string());
    else if (v.kind() == ValueKind::Int) out.push_back(std::to_string(v.as_int()));
    else return false;
    return true;
  }
  return false;
}

// The event IDs a term requires: its required event.code values, or those of
// a conjunct that is an `or` of event.code tests only (the ES|QL prefilter's
// `event.code : ("4104") or event.code in (4104)`).
std::vector<std::string> required_codes(const eql::Program& p, FieldId code) {
  if (auto v = required_values(p, code)) return *v;
  const eql::Instr& root = p.instrs[p.root];
  std::vector<std::uint32_t> conjuncts;
  if (root.op == eql::OpCode::And) {
    for (std::uint32_t k = 0; k < root.child_count; ++k) conjuncts.push_back(p.children[root.first_child + k]);
  } else {
    conjuncts.push_back(p.root);
  }
  for (std::uint32_t c : conjuncts) {
    const eql::Instr& ins = p.instrs[c];
    if (ins.op != eql::OpCode::Or) continue;
    std::vector<std::string> values;
    bool all = true;
    for (std::uint32_t k = 0; k < ins.child_count && all; ++k) all = code_values(p, p.children[ins.first_child + k], code, values);
    if (all && !values.empty()) return values;
  }
  return {};
}

// The Windows events whose ECS form can satisfy the term: the category (and
// one of the types), and for every required clause a field the event sets.
std::vector<const EcsMappingEntry*> sources_for(const TermNeeds& t) {
  std::vector<const EcsMappingEntry*> out;
  for (const EcsMappingEntry& e : ecs_mapping_entries()) {
    if (!t.category.empty() && !contains(e.category, t.category)) continue;
    if (!t.types.empty() &&
        std::none_of(t.types.begin(), t.types.end(), [&](const std::string& ty) { return contains(e.type, ty); })) {
      continue;
    }
    // Event IDs and actions the term names: only those events.
    if (!t.codes.empty() && !contains(t.codes, std::to_string(e.id))) continue;
    if (!t.actions.empty() && !contains(t.actions, fold_case(e.action))) continue;
    bool sets_all = std::all_of(t.required.begin(), t.required.end(), [&](const std::vector<std::string>& clause) {
      return std::any_of(clause.begin(), clause.end(), [&](const std::string& f) {
        return ambient(f) || f.starts_with("winlog.") || (f == "event.action" && !e.action.empty()) ||
               std::binary_search(e.fields.begin(), e.fields.end(), f);
      });
    });
    if (sets_all) out.push_back(&e);
  }
  return out;
}

bool filled_value(const Value& v) {
  if (v.is_null()) return false;
  if (v.kind() == ValueKind::Array) return !v.as_array().empty();
  if (v.is_text()) {
    std::string_view s = v.as_string();
    return !s.empty() && s != "-";
  }
  return true;
}

}  // namespace

std::vector<std::string> source_names(const TermNeeds& term) {
  std::vector<std::string> out;
  for (const EcsMappingEntry* e : term.sources) out.push_back(fmt::format("{} {}", short_provider(e->provider), e->id));
  return out;
}

std::vector<RuleNeeds> rule_needs(const RuleSet& set) {
  const FieldId category = set.category_field;
  const FieldId type = set.fields.find("event.type").value_or(FieldId(~0u));
  const std::optional<FieldId> code_field = set.fields.find("event.code");
  const std::optional<FieldId> action_field = set.fields.find("event.action");
  std::vector<RuleNeeds> out;
  for (std::size_t r = 0; r < set.compiled.size(); ++r) {
    RuleNeeds needs{r, {}};
    auto add = [&](const eql::Program& p, std::string label, bool missing, const std::vector<FieldId>& keys,
                   const std::vector<bool>& key_optional) {
      TermNeeds t;
      t.program = &p;
      t.label = std::move(label);
      t.missing = missing;
      t.category = p.category;
      if (t.category.empty()) {
        if (auto values = required_values(p, category); values && values->size() == 1) t.category = values->front();
      }
      if (auto values = required_values(p, type)) t.types = *values;
      if (code_field) t.codes = required_codes(p, *code_field);
      if (action_field) {
        if (auto values = required_values(p, *action_field)) t.actions = *values;
      }
      std::set<std::string> in_clauses;
      auto useful = [&](FieldId f) { return !ambient(set.fields.name(f)); };
      for (const auto& clause : required_field_clauses(p, useful)) {
        std::vector<std::string> names;
        for (FieldId f : clause) names.emplace_back(set.fields.name(f));
        in_clauses.insert(names.begin(), names.end());
        t.required.push_back(std::move(names));
      }
      for (std::size_t k = 0; k < keys.size(); ++k) {
        std::string name(set.fields.name(keys[k]));
        if ((k < key_optional.size() && key_optional[k]) || ambient(name) || in_clauses.count(name)) continue;
        in_clauses.insert(name);
        t.required.push_back({name});
      }
      for (FieldId f : fields_read(p)) {
        std::string name(set.fields.name(f));
        if (!ambient(name) && !in_clauses.count(name) && !contains(t.optional, name)) t.optional.push_back(name);
      }
      std::sort(t.optional.begin(), t.optional.end());
      t.sources = sources_for(t);
      needs.terms.push_back(std::move(t));
    };
    const eql::CompiledAnyQuery& q = set.compiled[r].query;
    if (set.compiled[r].rule->correlation) {
      // A Sigma correlation needs the events of the detection rules it names
      // (a correlation it names is judged as a rule of its own).
      for (const auto& ref : set.compiled[r].correlates) {
        const CompiledRule& named = set.compiled[ref.rule];
        if (named.rule->correlation || named.query.kind != eql::Query::Kind::Event || !named.query.event) continue;
        add(*named.query.event, "correlated rule " + named.rule->name, false, {}, {});
      }
    } else if (q.kind == eql::Query::Kind::Event) {
      // A threshold rule groups by its threshold fields: an event without them is in no group.
      std::vector<FieldId> keys;
      if (const auto& t = set.compiled[r].threshold) {
        keys = t->fields;
        if (t->cardinality_field) keys.push_back(*t->cardinality_field);
      }
      add(*q.event, "query", false, keys, {});
    } else {
      const eql::SequenceProgram& sp = q.kind == eql::Query::Kind::Sequence ? *q.sequence : *q.sample;
      const char* kind = q.kind == eql::Query::Kind::Sequence ? "sequence" : "sample";
      const eql::Program* previous = nullptr;
      std::size_t n = 0;
      for (const auto& stage : sp.stages) {
        ++n;
        if (stage.filter.get() == previous) continue;  // `with runs=N` copies
        previous = stage.filter.get();
        add(*stage.filter, fmt::format("{} term {}", kind, n), stage.missing, stage.keys, stage.key_optional);
        for (FieldId k : stage.keys) needs.terms.back().join_keys.emplace_back(set.fields.name(k));
      }
      if (sp.until) add(*sp.until->filter, "until", true, {}, {});
    }
    out.push_back(std::move(needs));
  }
  return out;
}

std::string explain_needs(const RuleSet& set, const RuleNeeds& needs) {
  const Rule& rule = *set.compiled[needs.rule].rule;
  std::string out = fmt::format("{} ({})\n  file: {}\n  type: {}, severity {}, risk {}\n", rule.name, rule.rule_id,
                                rule.file, rule.type, rule.severity, rule.risk_score);
  for (const Threat& t : rule.threat) {
    for (const auto& tech : t.techniques) {
      out += fmt::format("  ATT&CK: {} {} ({} {})\n", tech.technique.id, tech.technique.name, t.tactic.id, t.tactic.name);
    }
  }
  // A Sigma rule runs as the EQL vigil translated it to: show it.
  if (const auto& c = rule.correlation) {
    std::string what = fmt::format("{} of {}", c->type, fmt::join(c->rules, ", "));
    if (!c->fields.empty()) what += fmt::format(" (field {})", fmt::join(c->fields, ", "));
    if (!c->group_by.empty()) what += fmt::format(" by {}", fmt::join(c->group_by, ", "));
    what += " within " + format_duration(c->timespan_ns);
    for (const CorrelationCondition& k : c->condition) what += fmt::format(", {} {}", k.op, k.value);
    if (c->generate) what += "; the rules alert on their own too (generate)";
    out += "  sigma correlation: " + what + "\n";
  } else if (rule.format == "sigma") {
    out += fmt::format("  sigma, as EQL: {}\n", rule.query);
  }
  for (const TermNeeds& t : needs.terms) {
    out += fmt::format("  {}{}:\n", t.label, t.missing ? " (must NOT be seen: its absence is what the rule detects)" : "");
    out += fmt::format("    events: {}{}\n", t.category.empty() ? "any category" : t.category,
                       t.types.empty() ? "" : " with event.type " + fmt::format("{}", fmt::join(t.types, " or ")));
    for (const auto& clause : t.required) {
      out += fmt::format("    needs: {}\n", fmt::join(clause, " or "));
    }
    if (!t.optional.empty()) out += fmt::format("    also reads: {}\n", fmt::join(t.optional, ", "));
    out += fmt::format("    produced by: {}\n",
                       t.sources.empty() ? std::string("no Windows event vigil maps (needs another source, e.g. "
                                                        "Elastic Defend)")
                                         : fmt::format("{}", fmt::join(source_names(t), ", ")));
  }
  for (const auto& c : set.compiled[needs.rule].rarity) {
    out += fmt::format("  rarity: {} (max_count {})\n", set.rarity_specs[c.spec].description, c.max_count);
  }
  return out;
}

DataProfiler::DataProfiler(RuleSet& set, const std::vector<RuleNeeds>& needs) : set_(set) {
  std::set<FieldId> tracked;
  for (const RuleNeeds& n : needs) {
    for (const TermNeeds& t : n.terms) {
      for (const auto& clause : t.required) {
        for (const auto& f : clause) tracked.insert(*set.fields.find(f));
      }
      for (const auto& f : t.optional) tracked.insert(*set.fields.find(f));
    }
  }
  tracked_.assign(tracked.begin(), tracked.end());
  auto id = [&](std::string_view name) { return set.fields.intern(name); };
  host_ = id("host.name");
  category_ = set.category_field;
  type_ = id("event.type");
  code_ = id("event.code");
  provider_ = id("event.provider");
}

void DataProfiler::observe(const Event& e) {
  const Value& h = e.get(host_);
  HostProfile& host = hosts_[h.is_text() ? std::string(h.as_string()) : std::string("(no host.name)")];
  if (e.has_timestamp) {
    if (host.first == 0 || e.timestamp_ns < host.first) host.first = e.timestamp_ns;
    host.last = std::max(host.last, e.timestamp_ns);
  }
  ++host.events;
  std::vector<std::string_view> cats;
  for_each_text(e.get(category_), [&](std::string_view c) { cats.push_back(c); });
  if (cats.empty()) cats.push_back("");
  // Fill is counted per category and per category/type: a term's base is
  // the events it could match.
  std::vector<std::string> keys;
  for (std::string_view c : cats) {
    keys.emplace_back(c);
    for_each_text(e.get(type_), [&](std::string_view t) { keys.push_back(std::string(c) + "/" + std::string(t)); });
  }
  std::vector<FieldId> present;
  for (FieldId f : tracked_) {
    if (filled_value(e.get(f))) present.push_back(f);
  }
  for (const auto& key : keys) {
    ++host.categories[key];
    auto& filled = host.filled[key];
    for (FieldId f : present) ++filled[f];
  }
  const Value& code = e.get(code_);
  const Value& provider = e.get(provider_);
  if (!code.is_null()) {
    std::string c = code.is_text() ? std::string(code.as_string()) : std::to_string(code.as_int());
    ++host.sources[(provider.is_text() ? std::string(provider.as_string()) : std::string("?")) + " " + c];
  }
}

std::string_view status_name(CoverageStatus s) {
  switch (s) {
    case CoverageStatus::Ready: return "ready";
    case CoverageStatus::Degraded: return "degraded";
    case CoverageStatus::Blind: return "blind";
  }
  return "";
}

Verdict judge(const RuleSet& set, const RuleNeeds& needs, const HostProfile& host) {
  Verdict v;
  for (const TermNeeds& t : needs.terms) {
    if (t.missing) continue;  // a term that must not be seen needs nothing to be collected
    const std::string what = t.category.empty() ? std::string("events") : t.category + " events";
    // The events the term could match: its category, narrowed to its types.
    std::uint64_t events = 0;
    if (t.category.empty()) {
      events = host.events;
    } else if (t.types.empty()) {
      auto it = host.categories.find(t.category);
      events = it == host.categories.end() ? 0 : it->second;
    } else {
      for (const auto& ty : t.types) {
        auto it = host.categories.find(t.category + "/" + ty);
        if (it != host.categories.end()) events += it->second;
      }
    }
    const std::string prefix = needs.terms.size() > 1 ? t.label + ": " : std::string();
    if (events == 0) {
      std::string types = t.types.empty() ? "" : fmt::format(" with event.type {}", fmt::join(t.types, "/"));
      v.add(CoverageStatus::Blind,
            fmt::format("{}no {}{} on this host{}", prefix, what, types,
                        t.sources.empty() ? std::string(" (no Windows event vigil maps produces them)")
                                          : fmt::format(" (they come from {})", fmt::join(source_names(t), ", "))));
      continue;
    }
    // The keys of the events the term could match, and how many have `field`.
    std::vector<std::string> keys;
    if (!t.category.empty() && t.types.empty()) {
      keys.push_back(t.category);
    } else if (!t.category.empty()) {
      for (const auto& ty : t.types) keys.push_back(t.category + "/" + ty);
    } else {
      for (const auto& [c, n] : host.categories) {
        if (c.find('/') == std::string::npos) keys.push_back(c);
      }
    }
    auto fill = [&](const std::string& field) -> std::uint64_t {
      auto id = set.fields.find(field);
      if (!id) return 0;
      std::uint64_t n = 0;
      for (const auto& k : keys) {
        auto cat = host.filled.find(k);
        if (cat == host.filled.end()) continue;
        auto it = cat->second.find(*id);
        if (it != cat->second.end()) n += it->second;
      }
      return std::min(n, events);  // an event in two categories counts once
    };
    const std::uint64_t base = events;
    for (const auto& clause : t.required) {
      std::uint64_t best = 0;
      for (const auto& f : clause) best = std::max(best, fill(f));
      const std::string fields = fmt::format("{}", fmt::join(clause, " / "));
      if (best == 0) {
        v.add(CoverageStatus::Blind, fmt::format("{}{} is never set in the {} {} (the term cannot match)", prefix,
                                                 fields, base, what));
      } else if (best * 2 < base) {
        v.add(CoverageStatus::Degraded, fmt::format("{}{} is set in only {:.0f}% of the {} {}", prefix, fields,
                                                    100.0 * static_cast<double>(best) / static_cast<double>(base), base,
                                                    what));
      }
    }
    for (const auto& f : t.optional) {
      if (fill(f) == 0) {
        v.add(CoverageStatus::Degraded,
              fmt::format("{}{} is never set in the {} {}: the conditions on it never hold", prefix, f, base, what));
      }
    }
  }
  return v;
}

}  // namespace vigil
