// `vigil coverage`: rule needs × data profile → verdicts, as a table or JSON.
#include "cli/coverage_command.h"
#include "core/text.h"

#include <CLI/CLI.hpp>

#include <fstream>
#include <iterator>
#include <set>
#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <optional>

#include "cli/exit_codes.h"
#include "cli/input_diagnostics.h"
#include "core/timestamp.h"
#include "core/value.h"
#include "coverage/coverage.h"
#include "coverage/audit_policy.h"
#include "coverage/sysmon_config.h"
#include "coverage/sysmon_replay.h"
#include "core/atomic_file.h"
#include "ingest/event_reader.h"
#include "report/attack_catalog.h"
#include "report/navigator_layer.h"
#include "store/rule_cache.h"

namespace vigil {

void add_coverage_command(CLI::App& app, CoverageOptions& o) {
  auto* cmd = app.add_subcommand("coverage", "Can the telemetry support the rules? Ready / degraded / blind per rule and host");
  cmd->add_option("--rules,-r", o.rules, "Rule file or directory; repeat for more")->required()->allow_extra_args(false);
  cmd->add_option("inputs", o.inputs, "Inputs to profile (any format vigil reads)");
  cmd->add_option("--sysmon-config", o.sysmon_config, "Also judge this Sysmon configuration (XML)");
  cmd->add_option("--host", o.host, "Only this host (host.name)");
  cmd->add_flag("--json", o.json, "One JSON document: hosts (profile), rules (needs, verdict per host), techniques");
  cmd->add_option("--navigator", o.navigator,
                  "Also write an ATT&CK Navigator layer (format 4.5): per technique a score (share of ready verdicts), "
                  "a colour and the rules with what they miss");
  cmd->add_flag("--all", o.all, "List ready rules too (the table lists degraded and blind ones)");
  cmd->add_flag("--suggest", o.suggest,
                "With --sysmon-config: the include rules to add so that blind and degraded rules' events are collected "
                "(printed; with -o, the patched configuration written), and what no include can fix");
  cmd->add_option("-o,--output", o.output, "With --suggest: write the patched Sysmon configuration to this file");
  cmd->add_flag("--audit-policy", o.audit_policy,
                "Also list the Windows audit settings (auditpol subcategories, PowerShell logging) the rules' Security "
                "and PowerShell events need, as auditpol commands and Group Policy paths");
  cmd->add_option("--threads", o.threads, "Decoding threads: EVTX chunks and files, NDJSON lines (0 = one per core)");
  cmd->footer("Exit codes: 0 ok, 2 usage or rule error. Details: docs/coverage.md.");
}

namespace {

std::string json_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + json_string(items[i]);
  return out + "]";
}

struct TechniqueRow {
  std::string name;
  std::vector<std::size_t> rules;
};

// technique id → name and the rules mapped to it (sub-techniques count for their own id).
std::map<std::string, TechniqueRow> techniques_of(const RuleSet& set) {
  std::map<std::string, TechniqueRow> out;
  for (std::size_t r = 0; r < set.compiled.size(); ++r) {
    for (const Threat& t : set.compiled[r].rule->threat) {
      for (const auto& tech : t.techniques) {
        auto add = [&](const ThreatEntry& e) {
          if (e.id.empty()) return;
          TechniqueRow& row = out[e.id];
          row.name = e.name;
          if (row.rules.empty() || row.rules.back() != r) row.rules.push_back(r);
        };
        add(tech.technique);
        for (const auto& sub : tech.subtechniques) add(sub);
      }
    }
  }
  return out;
}

// A layer: per technique, each rule's verdicts (one per host, or the
// configuration's); false after printing why it could not be written.
bool write_layer(const std::string& path, const std::string& name, const std::string& description, const RuleSet& set,
                 const std::map<std::string, TechniqueRow>& techniques,
                 const std::function<std::vector<const Verdict*>(std::size_t)>& verdicts_of) {
  std::vector<NavigatorTechnique> rows;
  for (const auto& [id, row] : techniques) {
    NavigatorTechnique t{id, {}};
    for (std::size_t r : row.rules) {
      NavigatorRule nr{set.compiled[r].rule->name, 0, 0, 0, {}};
      const Verdict* worst = nullptr;
      for (const Verdict* v : verdicts_of(r)) {
        (v->status == CoverageStatus::Ready ? nr.ready : v->status == CoverageStatus::Degraded ? nr.degraded : nr.blind)++;
        if (!worst || static_cast<int>(v->status) > static_cast<int>(worst->status)) worst = v;
      }
      if (worst && !worst->reasons.empty()) nr.worst_reason = worst->reasons.front();
      t.rules.push_back(std::move(nr));
    }
    rows.push_back(std::move(t));
  }
  NavigatorLayer layer = navigator_layer(rows, AttackCatalog::enterprise(), name, description);
  for (const auto& id : layer.unknown_ids) {
    std::fprintf(stderr, "vigil: technique %s (named by a rule) is not in ATT&CK %s: left out of the layer\n",
                 printable(id).c_str(), AttackCatalog::enterprise().version().c_str());
  }
  if (auto error = write_file_atomically(path, layer.json)) {
    std::fprintf(stderr, "vigil: %s: %s\n", printable(path).c_str(), error->c_str());
    return false;
  }
  std::fprintf(stderr, "navigator layer: %s (%zu technique(s))\n", printable(path).c_str(), layer.techniques);
  return true;
}

// The layer from the data verdicts (rule × host) when inputs were profiled,
// else from the Sysmon configuration's; with --suggest, a second layer from
// the patched configuration's verdicts ("ready after the change"), written
// next to it as NAME-after.json.
bool write_navigator(const CoverageOptions& o, const RuleSet& set, const std::map<std::string, TechniqueRow>& techniques,
                     const std::vector<std::map<std::string, Verdict>>& verdicts,
                     const std::vector<Verdict>& config_verdicts, const std::vector<Verdict>* after) {
  const bool from_data = !o.inputs.empty();
  auto now = [&](std::size_t r) {
    std::vector<const Verdict*> out;
    if (from_data) {
      for (const auto& [host, v] : verdicts[r]) out.push_back(&v);
    } else if (r < config_verdicts.size()) {
      out.push_back(&config_verdicts[r]);
    }
    return out;
  };
  const std::string description =
      from_data ? fmt::format("vigil coverage of {} rule(s) over the profiled data: score = share of rule × host verdicts "
                              "that are ready", set.compiled.size())
                : fmt::format("vigil coverage of {} rule(s) under the Sysmon configuration {}", set.compiled.size(),
                              o.sysmon_config);
  if (!write_layer(o.navigator, "vigil coverage", description, set, techniques, now)) return false;
  if (!after) return true;
  std::string path = o.navigator;
  const std::size_t dot = path.rfind('.');
  const std::size_t slash = path.find_last_of("/\\");
  path.insert(dot != std::string::npos && (slash == std::string::npos || dot > slash) ? dot : path.size(), "-after");
  return write_layer(path, "vigil coverage after the suggested Sysmon changes",
                     fmt::format("vigil coverage of {} rule(s) under the Sysmon configuration {} with the includes "
                                 "`vigil coverage --suggest` adds", set.compiled.size(), o.sysmon_config),
                     set, techniques, [&](std::size_t r) { return std::vector<const Verdict*>{&(*after)[r]}; });
}

// --suggest: the configuration's text, the patched text and the patched configuration.
struct SuggestedPatch {
  std::string text, patched;
  SysmonConfig config;
};

// Judging the patched file can ask for more: a term's events collected only
// once an include exists (a sequence's joined process judged against the new
// ImageLoad includes). Rounds until nothing new is asked (at most four);
// what no include fixes is the last round's.
std::optional<SuggestedPatch> patch_config(const CoverageOptions& o, const RuleSet& set,
                                           const std::vector<RuleNeeds>& needs, SysmonSuggestions& suggestions) {
  std::ifstream in(o.sysmon_config, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto patch = [&]() -> std::optional<SuggestedPatch> {
    std::string patched = patch_sysmon_config(text, suggestions);
    auto reloaded = load_sysmon_config_text(patched, o.output.empty() ? "(patched)" : o.output);
    if (!reloaded) {
      std::fprintf(stderr, "vigil: the patched configuration does not load: %s\n", reloaded.error().message.c_str());
      return std::nullopt;
    }
    return SuggestedPatch{text, std::move(patched), std::move(*reloaded)};
  };
  for (int round = 0;; ++round) {
    std::optional<SuggestedPatch> current = patch();
    if (!current) return std::nullopt;
    SysmonSuggestions more;
    for (const RuleNeeds& n : needs) (void)judge_sysmon_config(set, n, current->config, &more);
    std::size_t added = 0;
    for (auto& [addition, rules] : more.additions) {
      if (!addition.narrows.empty()) {
        // Its place is in the patched text: named, not written.
        for (const auto& r : rules) {
          more.unfixable.push_back(fmt::format("{}: {}: {} {} \"{}\" is excluded by {}: narrow that exclusion", r,
                                               addition.tag, addition.field, addition.condition, addition.value,
                                               addition.narrows));
        }
        continue;
      }
      auto [it, fresh] = suggestions.additions.try_emplace(addition);
      added += fresh;
      for (auto& r : rules) {
        if (std::find(it->second.begin(), it->second.end(), r) == it->second.end()) it->second.push_back(std::move(r));
      }
    }
    if (added == 0 || round == 3) {
      suggestions.unfixable = std::move(more.unfixable);
      return added == 0 ? current : patch();
    }
  }
}

std::string addition_name(const SysmonAddition& a) {
  if (a.field.empty()) return fmt::format("{} (every event)", a.tag);
  std::string out = fmt::format("{} {} {} \"{}\"", a.tag, a.field, a.condition, a.value);
  if (!a.narrows.empty()) out += fmt::format(" (spared by the exclusion {})", a.narrows);
  return out;
}

// What the additions cost on the replayed inputs (printed after the diff).
void print_cost(FILE* out, const SysmonReplay* replay, const SysmonSuggestions& suggestions) {
  if (!replay) {
    std::fprintf(out, "Cost: give recorded events as inputs (for example ../shared/data) to measure the events the "
                      "additions add\n");
    return;
  }
  const SysmonReplayTotals t = replay->totals();
  auto rate = [&](std::uint64_t n) {
    return t.host_days > 0 ? fmt::format(" (≈ {:.0f} per host per day)", t.per_host_day(n)) : std::string();
  };
  std::fprintf(out, "Cost, replaying the inputs' %llu Sysmon event(s) (%zu host recording(s), %.3g host-day(s) of "
               "recording: the hours with Sysmon events) through both filters:\n",
               static_cast<unsigned long long>(t.sysmon_events), t.recordings, t.host_days);
  std::fprintf(out, "  the configuration collects %llu%s; with the additions %llu: +%llu%s\n",
               static_cast<unsigned long long>(t.original), rate(t.original).c_str(),
               static_cast<unsigned long long>(t.patched), static_cast<unsigned long long>(t.added),
               rate(t.added).c_str());
  if (t.lost == 0) {
    std::fprintf(out, "  every event the configuration collects is still collected\n");
  } else {
    std::fprintf(out, "  WARNING: %llu event(s) the configuration collects are no longer collected\n",
                 static_cast<unsigned long long>(t.lost));
  }
  for (const auto& [id, c] : replay->by_id()) {
    if (c.patched == c.original) continue;
    std::fprintf(out, "  Sysmon %d (%s): %llu recorded, %llu collected → %llu\n", id, std::string(sysmon_tag(id)).c_str(),
                 static_cast<unsigned long long>(c.recorded), static_cast<unsigned long long>(c.original),
                 static_cast<unsigned long long>(c.patched));
  }
  // The costliest first; those no recorded event matched, counted.
  std::vector<std::pair<std::uint64_t, const std::pair<const SysmonAddition, std::vector<std::string>>*>> costs;
  std::size_t i = 0;
  for (const auto& entry : suggestions.additions) costs.emplace_back(replay->added_by()[i++], &entry);
  std::stable_sort(costs.begin(), costs.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
  std::size_t unmatched = 0;
  for (const auto& [n, a] : costs) {
    if (n == 0) {
      ++unmatched;
      continue;
    }
    const auto& rules = a->second;
    std::string serves = fmt::format("{}", fmt::join(rules.begin(), rules.begin() + std::min<std::ptrdiff_t>(2, std::ssize(rules)), "; "));
    if (rules.size() > 2) serves += fmt::format(" and {} more", rules.size() - 2);
    std::fprintf(out, "  +%llu%s: %s — for %s\n", static_cast<unsigned long long>(n), rate(n).c_str(),
                 printable(addition_name(a->first)).c_str(), printable(serves).c_str());
  }
  if (unmatched) std::fprintf(out, "  %zu more change(s) matched no replayed event\n", unmatched);
}

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

// Whether `part` is `whole` with text inserted (a subsequence of it).
bool inserted_into(std::string_view part, std::string_view whole) {
  std::size_t i = 0;
  for (char c : whole) {
    if (i < part.size() && part[i] == c) ++i;
  }
  return i == part.size();
}

// The patch as a diff: it only inserts, so each line of the patched text is
// an original line, an original line with text inserted (- and +), or new (+).
void print_diff(FILE* out, std::string_view original, std::string_view patched) {
  const auto before = lines_of(original), after = lines_of(patched);
  std::size_t i = 0;
  for (std::string_view line : after) {
    if (i < before.size() && line == before[i]) {
      ++i;
    } else if (i < before.size() && inserted_into(before[i], line)) {
      std::fprintf(out, "- %s\n+ %s\n", printable(before[i]).c_str(), printable(line).c_str());
      ++i;
    } else {
      std::fprintf(out, "+ %s\n", printable(line).c_str());
    }
  }
}

// --suggest: the additions (the diff), the verdicts the patched file gets, the cost, the patched file.
// `after`: the patched file's verdicts, rule by rule as `before`.
bool print_suggestions(const CoverageOptions& o, const RuleSet& set, const std::vector<Verdict>& before,
                       const std::vector<Verdict>& after, const SysmonSuggestions& suggestions,
                       const SuggestedPatch& patch, const SysmonReplay* replay) {
  const std::string& text = patch.text;
  const std::string& patched = patch.patched;
  std::size_t counts[2][3] = {{0, 0, 0}, {0, 0, 0}};
  std::vector<std::string> still;
  for (std::size_t r = 0; r < before.size(); ++r) {
    ++counts[0][static_cast<int>(before[r].status)];
    ++counts[1][static_cast<int>(after[r].status)];
    if (after[r].status != CoverageStatus::Ready && before[r].status != CoverageStatus::Ready) {
      still.push_back(fmt::format("{} {}: {}", status_name(after[r].status), set.compiled[r].rule->name,
                                  after[r].reasons.empty() ? std::string() : after[r].reasons.front()));
    }
  }
  FILE* out = o.json ? stderr : stdout;
  const std::size_t narrowings = static_cast<std::size_t>(std::count_if(
      suggestions.additions.begin(), suggestions.additions.end(), [](const auto& a) { return !a.first.narrows.empty(); }));
  std::fprintf(out, "Suggested changes to %s (%zu include condition(s), %zu condition(s) narrowing exclusions):\n",
               o.sysmon_config.c_str(), suggestions.additions.size() - narrowings, narrowings);
  print_diff(out, text, patched);
  std::fprintf(out, "rules under the configuration: %zu ready, %zu degraded, %zu blind; with the additions: %zu ready, "
               "%zu degraded, %zu blind\n",
               counts[0][0], counts[0][1], counts[0][2], counts[1][0], counts[1][1], counts[1][2]);
  print_cost(out, replay, suggestions);
  if (!suggestions.unfixable.empty()) {
    std::fprintf(out, "Not fixed by an include (%zu):\n", suggestions.unfixable.size());
    std::set<std::string> seen;
    for (const auto& u : suggestions.unfixable) {
      if (seen.insert(u).second) std::fprintf(out, "  - %s\n", printable(u).c_str());
    }
  }
  if (!still.empty()) {
    std::fprintf(out, "Still not ready with the additions (%zu):\n", still.size());
    for (const auto& s : still) std::fprintf(out, "  - %s\n", printable(s).c_str());
  }
  if (!o.output.empty()) {
    if (auto error = write_file_atomically(o.output, patched)) {
      std::fprintf(stderr, "vigil: %s: %s\n", printable(o.output).c_str(), error->c_str());
      return false;
    }
    std::fprintf(out, "patched configuration: %s\n", printable(o.output).c_str());
  }
  return true;
}

// The "suggest" member of --json: the additions with the rules they serve and what they cost.
std::string suggest_json(const SysmonSuggestions& suggestions, const SysmonReplay* replay) {
  std::string out = "{\"additions\":[";
  std::size_t i = 0;
  for (const auto& [a, rules] : suggestions.additions) {
    out += fmt::format("{}{{\"event_type\":{},\"field\":{},\"condition\":{},\"value\":{},\"rules\":{}", i ? "," : "",
                       json_string(a.tag), json_string(a.field), json_string(a.condition), json_string(a.value),
                       json_list(rules));
    if (!a.narrows.empty()) out += ",\"narrows\":" + json_string(a.narrows);
    if (replay) out += fmt::format(",\"events_added\":{}", replay->added_by()[i]);
    out += "}";
    ++i;
  }
  std::set<std::string> unfixable(suggestions.unfixable.begin(), suggestions.unfixable.end());
  out += fmt::format("],\"unfixable\":{}", json_list({unfixable.begin(), unfixable.end()}));
  if (replay) {
    const SysmonReplayTotals t = replay->totals();
    out += fmt::format(",\"replay\":{{\"sysmon_events\":{},\"original\":{},\"patched\":{},\"added\":{},\"lost\":{},"
                       "\"recordings\":{},\"host_days\":{:.6f},\"added_per_host_day\":{:.1f},\"by_event_id\":{{",
                       t.sysmon_events, t.original, t.patched, t.added, t.lost, t.recordings, t.host_days,
                       t.per_host_day(t.added));
    bool first = true;
    for (const auto& [id, c] : replay->by_id()) {
      out += fmt::format("{}\"{}\":{{\"recorded\":{},\"original\":{},\"patched\":{}}}", first ? "" : ",", id, c.recorded,
                         c.original, c.patched);
      first = false;
    }
    out += "}}";
  }
  return out + "}";
}

}  // namespace

int run_coverage_command(const CoverageOptions& o) {
  auto rule_cache = RuleCache::open_default();
  auto set = compile_rules(o.rules, {}, 0, rule_cache.get());
  for (const auto& d : set->diagnostics) std::fputs(format_rule_diagnostic(d).c_str(), stderr);
  if (set->compiled.empty()) {
    std::fprintf(stderr, "vigil: no runnable rule in the given rule paths\n");
    return kExitUsage;
  }
  if (o.inputs.empty() && o.sysmon_config.empty() && !o.audit_policy) {
    std::fprintf(stderr, "vigil: give inputs to profile, --sysmon-config, --audit-policy, or several\n");
    return kExitUsage;
  }
  std::optional<SysmonConfig> config;
  if (!o.sysmon_config.empty()) {
    auto loaded = SysmonConfig::load(o.sysmon_config);
    if (!loaded) {
      std::fprintf(stderr, "vigil: %s\n", loaded.error().message.c_str());
      return kExitUsage;
    }
    config = std::move(*loaded);
  }
  std::vector<RuleNeeds> needs = rule_needs(*set);
  std::vector<Verdict> config_verdicts;
  SysmonSuggestions suggestions;
  if (o.suggest && !config) {
    std::fprintf(stderr, "vigil: --suggest needs --sysmon-config\n");
    return kExitUsage;
  }
  if (config) {
    for (const RuleNeeds& n : needs)
      config_verdicts.push_back(judge_sysmon_config(*set, n, *config, o.suggest ? &suggestions : nullptr));
  }
  std::optional<SuggestedPatch> patch;
  if (o.suggest && !(patch = patch_config(o, *set, needs, suggestions))) return kExitUsage;
  // With --suggest, the inputs' Sysmon events are replayed through both filters: the cost.
  std::optional<SysmonReplay> replay;
  if (patch && !o.inputs.empty()) replay.emplace(set->fields, *config, patch->config, suggestions);
  DataProfiler profiler(*set, needs);
  ReaderOptions ropts;
  ropts.threads = o.threads;
  EventReader reader(set->fields, ropts);
  ReadStats stats;
  reader.read_all(o.inputs, [&](EventBatch& batch) {
    for (const Event& e : batch.events) {
      profiler.observe(e);
      if (replay) replay->observe(e);
    }
    return true;
  }, stats);
  std::map<std::string, HostProfile> hosts = profiler.hosts();
  if (!o.host.empty()) {
    auto it = hosts.find(o.host);
    std::map<std::string, HostProfile> only;
    if (it != hosts.end()) only.insert(*it);
    hosts = std::move(only);
  }
  // verdicts[rule][host]
  std::vector<std::map<std::string, Verdict>> verdicts(needs.size());
  for (std::size_t r = 0; r < needs.size(); ++r) {
    for (const auto& [name, profile] : hosts) verdicts[r][name] = judge(*set, needs[r], profile);
  }
  auto techniques = techniques_of(*set);
  const SysmonReplay* replayed = replay ? &*replay : nullptr;
  std::vector<Verdict> after;  // the patched file's verdicts: printed, and the navigator's second layer
  if (patch) {
    for (const RuleNeeds& n : needs) after.push_back(judge_sysmon_config(*set, n, patch->config));
  }
  if (patch && !print_suggestions(o, *set, config_verdicts, after, suggestions, *patch, replayed)) return kExitUsage;
  if (!o.navigator.empty() &&
      !write_navigator(o, *set, techniques, verdicts, config_verdicts, patch ? &after : nullptr)) {
    return kExitUsage;
  }
  const std::vector<AuditSetting> audit = o.audit_policy ? audit_settings(needs) : std::vector<AuditSetting>{};
  if (o.json) {
    std::string out = "{\"hosts\":{";
    bool first_host = true;
    for (const auto& [name, p] : hosts) {
      out += (first_host ? "" : ",") + json_string(name) + ":{";
      first_host = false;
      double hours = p.last > p.first ? static_cast<double>(p.last - p.first) / 3.6e12 : 0.0;
      out += fmt::format("\"events\":{},\"first\":{},\"last\":{},\"events_per_hour\":{:.1f},", p.events,
                         json_string(p.first ? format_timestamp(p.first) : ""),
                         json_string(p.last ? format_timestamp(p.last) : ""), hours > 0 ? p.events / hours : 0.0);
      out += "\"categories\":{";
      bool first = true;
      for (const auto& [c, n] : p.categories) {
        out += fmt::format("{}{}:{}", first ? "" : ",", json_string(c.empty() ? "(none)" : c), n);
        first = false;
      }
      out += "},\"sources\":{";
      first = true;
      for (const auto& [s, n] : p.sources) {
        out += fmt::format("{}{}:{}", first ? "" : ",", json_string(s), n);
        first = false;
      }
      out += "},\"field_fill\":{";
      first = true;
      for (const auto& [c, fields] : p.filled) {
        const std::uint64_t base = p.categories.count(c) ? p.categories.at(c) : 0;
        std::map<std::string, double> sorted;
        for (const auto& [f, n] : fields) sorted[std::string(set->fields.name(f))] = base ? double(n) / double(base) : 0.0;
        out += fmt::format("{}{}:{{", first ? "" : ",", json_string(c.empty() ? "(none)" : c));
        first = false;
        bool first_field = true;
        for (const auto& [f, fill] : sorted) {
          out += fmt::format("{}{}:{:.3f}", first_field ? "" : ",", json_string(f), fill);
          first_field = false;
        }
        out += "}";
      }
      out += "}}";
    }
    out += "},\"rules\":[";
    for (std::size_t r = 0; r < needs.size(); ++r) {
      const Rule& rule = *set->compiled[needs[r].rule].rule;
      out += fmt::format("{}{{\"rule_id\":{},\"name\":{},\"file\":{},\"terms\":[", r ? "," : "", json_string(rule.rule_id),
                         json_string(rule.name), json_string(rule.file));
      for (std::size_t t = 0; t < needs[r].terms.size(); ++t) {
        const TermNeeds& term = needs[r].terms[t];
        std::vector<std::string> clauses;
        for (const auto& c : term.required) clauses.push_back(json_list(c));
        out += fmt::format("{}{{\"term\":{},\"category\":{},\"types\":{},\"required\":[{}],\"optional\":{},"
                           "\"sources\":{},\"missing\":{}}}",
                           t ? "," : "", json_string(term.label), json_string(term.category), json_list(term.types),
                           fmt::join(clauses, ","), json_list(term.optional), json_list(source_names(term)),
                           term.missing ? "true" : "false");
      }
      out += "],\"verdicts\":{";
      bool first = true;
      for (const auto& [host, v] : verdicts[r]) {
        out += fmt::format("{}{}:{{\"status\":\"{}\",\"reasons\":{}}}", first ? "" : ",", json_string(host),
                           status_name(v.status), json_list(v.reasons));
        first = false;
      }
      out += "}}";
    }
    out += "]";
    if (config) {
      out += fmt::format(",\"sysmon_config\":{{\"file\":{},\"schema\":{},\"rules\":[", json_string(o.sysmon_config),
                         json_string(config->schema_version()));
      for (std::size_t r = 0; r < needs.size(); ++r) {
        const Rule& rule = *set->compiled[needs[r].rule].rule;
        out += fmt::format("{}{{\"rule_id\":{},\"name\":{},\"status\":\"{}\",\"reasons\":{}}}", r ? "," : "",
                           json_string(rule.rule_id), json_string(rule.name), status_name(config_verdicts[r].status),
                           json_list(config_verdicts[r].reasons));
      }
      out += "]";
      if (patch) out += ",\"suggest\":" + suggest_json(suggestions, replayed);
      out += "}";
    }
    if (o.audit_policy) {
      out += ",\"audit_policy\":[";
      bool first_setting = true;
      for (const AuditSetting& a : audit) {
        std::vector<std::string> required, alternative;
        for (const auto& use : a.rules) (use.required ? required : alternative).push_back(set->compiled[use.rule].rule->name);
        std::vector<std::string> events;
        for (int e : a.events) events.push_back(std::to_string(e));
        out += fmt::format("{}{{\"setting\":{},\"category\":{},\"command\":{},\"gpo\":{},\"events\":[{}],\"notes\":{},"
                           "\"required_by\":{},\"alternative_for\":{}}}",
                           first_setting ? "" : ",", json_string(a.name), json_string(a.category), json_string(a.command),
                           json_string(a.gpo), fmt::join(events, ","), json_list(a.notes), json_list(required),
                           json_list(alternative));
        first_setting = false;
      }
      out += "]";
    }
    out += ",\"techniques\":[";
    bool first = true;
    for (const auto& [id, row] : techniques) {
      std::map<std::string, std::size_t> counts;
      for (std::size_t r : row.rules) {
        for (const auto& [host, v] : verdicts[r]) ++counts[std::string(status_name(v.status))];
      }
      std::vector<std::string> names;
      for (std::size_t r : row.rules) names.push_back(set->compiled[r].rule->name);
      out += fmt::format("{}{{\"id\":{},\"name\":{},\"rules\":{},\"ready\":{},\"degraded\":{},\"blind\":{}}}",
                         first ? "" : ",", json_string(id), json_string(row.name), json_list(names), counts["ready"],
                         counts["degraded"], counts["blind"]);
      first = false;
    }
    out += "]}\n";
    std::fputs(out.c_str(), stdout);
    print_diagnostics(stats);
    return set->failed() > 0 ? kExitUsage : kExitOk;
  }
  // The table.
  std::printf("vigil coverage: %zu rule(s) over %zu host(s)\n", needs.size(), hosts.size());
  if (config) {
    std::size_t counts[3] = {0, 0, 0};
    for (const Verdict& v : config_verdicts) ++counts[static_cast<int>(v.status)];
    std::printf("\nSysmon configuration %s (schema %s): %zu ready, %zu degraded, %zu blind\n", o.sysmon_config.c_str(),
                config->schema_version().c_str(), counts[0], counts[1], counts[2]);
    for (int status = 2; status >= (o.all ? 0 : 1); --status) {
      for (std::size_t r = 0; r < needs.size(); ++r) {
        const Verdict& v = config_verdicts[r];
        if (static_cast<int>(v.status) != status) continue;
        std::printf("  %-9s %s\n", std::string(status_name(v.status)).c_str(), set->compiled[r].rule->name.c_str());
        for (const auto& reason : v.reasons) std::printf("            - %s\n", reason.c_str());
      }
    }
  }
  if (o.audit_policy) {
    std::printf("\nWindows auditing the rules read (%zu setting(s)):\n", audit.size());
    for (const AuditSetting& a : audit) {
      std::size_t required = 0;
      for (const auto& use : a.rules) required += use.required;
      std::printf("  %s%s — events %s: %zu rule(s) need it, %zu more can use it instead of Sysmon\n", a.name.c_str(),
                  a.category.empty() ? "" : fmt::format(" ({})", a.category).c_str(),
                  fmt::format("{}", fmt::join(a.events, ", ")).c_str(), required, a.rules.size() - required);
      std::printf("      %s\n      GPO: %s\n", a.command.c_str(), a.gpo.c_str());
      for (const auto& note : a.notes) std::printf("      note: %s\n", note.c_str());
      if (o.all) {
        for (const auto& use : a.rules)
          std::printf("      %s %s\n", use.required ? "needs:" : "or Sysmon:", set->compiled[use.rule].rule->name.c_str());
      }
    }
  }
  for (const auto& host : hosts) {
    const std::string& name = host.first;  // a plain reference: lambdas below capture it (Clang 14 cannot capture bindings)
    const auto& p = host.second;
    double hours = p.last > p.first ? static_cast<double>(p.last - p.first) / 3.6e12 : 0.0;
    std::printf("\nhost %s: %llu events, %s – %s%s\n", printable(name).c_str(), static_cast<unsigned long long>(p.events),
                p.first ? format_timestamp(p.first).c_str() : "?", p.last ? format_timestamp(p.last).c_str() : "?",
                hours > 0 ? fmt::format(" ({:.3g} events/h)", p.events / hours).c_str() : "");
    std::string cats;
    for (const auto& [c, n] : p.categories) {
      if (c.find('/') == std::string::npos) cats += fmt::format("{}{} {}", cats.empty() ? "" : ", ", c.empty() ? "(none)" : c, n);
    }
    std::printf("  categories: %s\n", printable(cats).c_str());
    std::vector<std::pair<std::uint64_t, std::string>> top;
    for (const auto& [s, n] : p.sources) top.emplace_back(n, s);
    std::sort(top.rbegin(), top.rend());
    std::string sources;
    for (std::size_t i = 0; i < std::min<std::size_t>(12, top.size()); ++i) {
      sources += fmt::format("{}{} ({})", i ? ", " : "", top[i].second, top[i].first);
    }
    if (top.size() > 12) sources += fmt::format(", … {} more", top.size() - 12);
    std::printf("  sources: %s\n", printable(sources).c_str());
    std::size_t counts[3] = {0, 0, 0};
    for (std::size_t r = 0; r < needs.size(); ++r) ++counts[static_cast<int>(verdicts[r].at(name).status)];
    std::printf("  rules: %zu ready, %zu degraded, %zu blind\n", counts[0], counts[1], counts[2]);
    std::vector<std::size_t> order(needs.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      int sa = static_cast<int>(verdicts[a].at(name).status), sb = static_cast<int>(verdicts[b].at(name).status);
      if (sa != sb) return sa > sb;
      return set->compiled[a].rule->name < set->compiled[b].rule->name;
    });
    for (std::size_t r : order) {
      const Verdict& v = verdicts[r].at(name);
      if (v.status == CoverageStatus::Ready && !o.all) continue;
      std::printf("  %-9s %s\n", std::string(status_name(v.status)).c_str(), set->compiled[r].rule->name.c_str());
      for (const auto& reason : v.reasons) std::printf("            - %s\n", reason.c_str());
    }
  }
  if (!techniques.empty() && !hosts.empty()) {
    std::printf("\nATT&CK techniques (rules × hosts: ready / degraded / blind)\n");
    for (const auto& [id, row] : techniques) {
      std::size_t counts[3] = {0, 0, 0};
      for (std::size_t r : row.rules) {
        for (const auto& [host, v] : verdicts[r]) ++counts[static_cast<int>(v.status)];
      }
      std::printf("  %-10s %-48s %3zu rule(s): %zu / %zu / %zu\n", id.c_str(), row.name.substr(0, 48).c_str(),
                  row.rules.size(), counts[0], counts[1], counts[2]);
    }
  }
  print_diagnostics(stats);
  return set->failed() > 0 ? kExitUsage : kExitOk;
}

}  // namespace vigil
