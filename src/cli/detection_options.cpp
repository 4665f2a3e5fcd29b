// Shared options of `vigil hunt` and `vigil run`, and loading what they name.
#include "cli/detection_options.h"

#include <CLI/CLI.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

#include "cli/baseline_command.h"
#include "cli/exit_codes.h"
#include "core/text.h"
#include "output/alert_store.h"

namespace vigil {

void add_detection_options(CLI::App& cmd, DetectionCommandOptions& o) {
  cmd.add_option("--rules,-r", o.rules,
                 "Rule file or directory (Elastic detection-rules TOML, Sigma YAML); repeat for more")
      ->required()
      ->allow_extra_args(false);
  cmd.add_option("--sigma-placeholders", o.sigma_placeholders,
                 "YAML file of values for Sigma `expand` placeholders (name: [values]); see docs/sigma.md");
  cmd.add_option("--db", o.db, "Also add the alerts to this SQLite alert store (see `vigil alerts`)");
  cmd.add_option("--exceptions", o.exception_files,
                 "Exception list export (Kibana NDJSON); its items apply to the rules that list it in exceptions_list")
      ->allow_extra_args(false);
  cmd.add_option("--value-list", o.value_lists, "Value list for 'is in list' entries: ID=FILE (one value per line)")
      ->allow_extra_args(false);
  cmd.add_option("--apply-list", o.lists_for_all_rules, "Apply this exception list (list_id) to every rule")
      ->allow_extra_args(false);
  cmd.add_flag("--fail-on-alert", o.fail_on_alert, "Exit 1 when any alert was produced");
  cmd.add_flag("--no-rule-cache", o.no_rule_cache,
               "Parse every rule file, neither reading nor filling the parsed-rule cache (docs/rules.md)");
  cmd.add_flag("--strict", o.strict, "Exit 3 if any record is malformed or any input unreadable");
  cmd.add_flag("--quiet,-q", o.quiet, "No summary on stderr");
  cmd.add_option("--threads", o.threads,
                 "Threads for parsing rule files, decoding (EVTX chunks and files, NDJSON lines) and rule matching (0 = one per core)")
      ->capture_default_str();
  cmd.add_option("--max-detections-per-rule", o.max_detections_per_rule,
                 "Matches held per rule until they are final; more are counted and reported")
      ->capture_default_str();
  cmd.add_flag("--no-event-original", o.no_event_original,
               "Alerts without event.original (each alert's source document as read): smaller alert files");
  cmd.add_option("--spill-after", o.spill_bytes,
                 "Bytes of held detections, and of alerts waiting to be ordered, kept in memory (each); beyond it "
                 "they go to temporary files in $TMPDIR (suffixes: KB, MB, GB)")
      ->transform(CLI::AsSizeValue(false))
      ->capture_default_str();
  cmd.add_option("--max-open-sequences", o.max_open_sequences,
                 "Partial sequences held per sequence rule; the oldest are evicted (and counted) beyond it")
      ->capture_default_str();
  cmd.add_option("--max-tracked-processes", o.context_limits.max_processes,
                 "Processes the triage context remembers (ancestry, modules, connections), all hosts; the least "
                 "recently seen are evicted (and counted) beyond it")
      ->capture_default_str();
  cmd.add_option("--max-tracked-files", o.context_limits.max_files,
                 "Files the triage context remembers (who wrote them), all hosts; the least recently seen are "
                 "evicted (and counted) beyond it")
      ->capture_default_str();
  cmd.add_option("--baseline", o.baseline,
                 "Baseline from `vigil baseline learn`: terms it knows are not rare and never new");
  cmd.add_option("--max-terms", o.max_terms,
                 "Rarity terms held in memory, and terms per new_terms rule; the least recently seen are evicted "
                 "(and counted) beyond it")
      ->capture_default_str();
}

HuntOptions DetectionSetup::engine_options(const DetectionCommandOptions& o, unsigned matching_threads) {
  HuntOptions h;
  h.baseline = baseline.get();
  h.max_terms = o.max_terms;
  h.exceptions = &exceptions;
  h.lists_for_all_rules = o.lists_for_all_rules;
  h.context = context.get();
  h.max_detections_per_rule = o.max_detections_per_rule;
  h.sequence_limits.max_open = o.max_open_sequences;
  h.threads = matching_threads;
  return h;
}

bool rule_load_options(const std::string& placeholders_file, SigmaPlaceholders& placeholders, RuleLoadOptions& out) {
  if (!placeholders_file.empty()) {
    auto loaded = load_sigma_placeholders(placeholders_file);
    if (!loaded) {
      std::fprintf(stderr, "vigil: %s\n", loaded.error().message.c_str());
      return false;
    }
    placeholders = std::move(*loaded);
    out.sigma.placeholders = &placeholders;
  }
  return true;
}

void print_rule_diagnostics(const RuleSet& set) {
  std::size_t skipped = 0;
  for (const auto& d : set.diagnostics) {
    if (d.error.code == "sigma.skipped") {
      ++skipped;
      continue;
    }
    std::fputs(format_rule_diagnostic(d).c_str(), stderr);
  }
  if (skipped) {
    std::fprintf(stderr,
                 "vigil: %zu Sigma rule(s) not run (log sources other than Windows or not mapped, deprecated, "
                 "correlations): `vigil rules check` lists each with the reason\n",
                 skipped);
  }
}

int prepare_detection(const DetectionCommandOptions& o, DetectionSetup& s) {
  s.rule_cache = RuleCache::open_default(o.no_rule_cache);
  // Vectorscan databases compiled by an earlier run are loaded from it.
  set_compiled_set_store(s.rule_cache.get());
  RuleLoadOptions load;
  if (!rule_load_options(o.sigma_placeholders, s.placeholders, load)) return kExitUsage;
  s.set = compile_rules(o.rules, {}, o.threads, s.rule_cache.get(), load);
  print_rule_diagnostics(*s.set);
  if (s.set->compiled.empty()) {
    std::fprintf(stderr, "vigil: no runnable rule in the given rule paths\n");
    return kExitUsage;
  }
  // Before the reader: the fields the triage state and exception entries read join the projection.
  s.context = std::make_unique<HostState>(s.set->fields, o.context_limits);
  for (const auto& spec : o.value_lists) {
    std::size_t eq = spec.find('=');
    auto added = eq == std::string::npos ? Result<bool>(Error{"exceptions.usage", "--value-list wants ID=FILE: " + spec})
                                         : s.exceptions.add_value_list(spec.substr(0, eq), spec.substr(eq + 1));
    if (!added) {
      std::fprintf(stderr, "vigil: %s\n", added.error().message.c_str());
      return kExitUsage;
    }
  }
  for (const auto& file : o.exception_files) {
    auto loaded = s.exceptions.load(file, s.set->fields);
    if (!loaded) {
      std::fprintf(stderr, "vigil: %s [%s]\n", loaded.error().message.c_str(), loaded.error().code.c_str());
      return kExitUsage;
    }
  }
  if (!o.baseline.empty()) {
    s.baseline = open_baseline(o.baseline, /*must_exist=*/true);
    if (!s.baseline) return kExitUsage;
    if (auto begun = s.baseline->begin_read(); !begun) {
      std::fprintf(stderr, "vigil: %s\n", begun.error().message.c_str());
      return kExitUsage;
    }
  }
  return 0;
}

void AlertTally::add(const std::vector<AlertLine>& lines) {
  for (const auto& a : lines) {
    if (a.summary.building_block) continue;
    ++total_;
    ++by_severity_[a.summary.severity];
    ++by_rule_[{a.summary.severity, a.summary.rule_name}];
    ++by_host_[a.summary.host.empty() ? "(no host.name)" : a.summary.host];
  }
}

void AlertTally::print() const {
  if (total_ == 0) {
    std::fprintf(stderr, "no alerts\n");
    return;
  }
  auto severity = [&](const char* name) {
    auto it = by_severity_.find(name);
    return it == by_severity_.end() ? std::size_t{0} : it->second;
  };
  std::fprintf(stderr, "%zu alert(s): critical %zu, high %zu, medium %zu, low %zu, from %zu rule(s) on %zu host(s)\n",
               total_, severity("critical"), severity("high"), severity("medium"), severity("low"), by_rule_.size(),
               by_host_.size());
  static const std::map<std::string, int> kRank = {{"critical", 0}, {"high", 1}, {"medium", 2}, {"low", 3}};
  std::vector<std::pair<std::pair<std::string, std::string>, std::size_t>> rows(by_rule_.begin(), by_rule_.end());
  std::sort(rows.begin(), rows.end(), [&](const auto& a, const auto& b) {
    int ra = kRank.count(a.first.first) ? kRank.at(a.first.first) : 4;
    int rb = kRank.count(b.first.first) ? kRank.at(b.first.first) : 4;
    if (ra != rb) return ra < rb;
    if (a.second != b.second) return a.second > b.second;
    return a.first.second < b.first.second;
  });
  std::fprintf(stderr, "  %-9s %7s  %s\n", "severity", "alerts", "rule");
  for (const auto& [k, n] : rows) std::fprintf(stderr, "  %-9s %7zu  %s\n", k.first.c_str(), n, printable(k.second).c_str());
  std::fprintf(stderr, "  %-30s %7s\n", "host", "alerts");
  for (const auto& [h, n] : by_host_) std::fprintf(stderr, "  %-30s %7zu\n", printable(h).c_str(), n);
}

namespace {

// Adds every counter of `one` to `sum` (RuleRunStats and the structs in it).
template <class T>
void add_counts(T& sum, const T& one) {
  if constexpr (std::is_arithmetic_v<T>) {
    sum += one;
  } else {
    std::apply([&](auto&... s) { std::apply([&](const auto&... o) { (add_counts(s, o), ...); }, members(one)); },
               members(sum));
  }
}

}  // namespace

std::uint64_t evictions(DetectionPipeline& pipeline) {
  std::uint64_t n = 0;
  for (const RuleRunStats& s : pipeline.rule_stats()) {
    n += s.sequences.evicted + s.terms_evicted + s.dropped + s.correlation.groups_evicted + s.correlation.entries_evicted;
  }
  return n;
}

void print_count_note(std::uint64_t n, const char* what) {
  if (n) std::fprintf(stderr, "note: %llu %s\n", static_cast<unsigned long long>(n), what);
}

void DetectionTotals::add(DetectionPipeline& pipeline, const HostState& context) {
  std::vector<RuleRunStats> stats = pipeline.rule_stats();
  if (rules.empty()) {
    rules = std::move(stats);
  } else {
    for (std::size_t r = 0; r < rules.size() && r < stats.size(); ++r) {
      add_counts(rules[r], stats[r]);
    }
  }
  duplicates += pipeline.stats().duplicates;
  alert_ids_forgotten += pipeline.stats().alert_ids_forgotten;
  rarity_evicted += pipeline.engine().rarity_evicted();
  processes_evicted += context.stats().processes_evicted;
  files_evicted += context.stats().files_evicted;
}

void print_detection_summary(const AlertTally& tally, const RuleSet& set, const std::vector<RuleRunStats>& stats,
                             DetectionPipeline& pipeline, const HostState& context) {
  DetectionTotals totals;
  totals.add(pipeline, context);
  totals.rules = stats;
  print_detection_summary(tally, set, totals);
}

void print_detection_summary(const AlertTally& tally, const RuleSet& set, const DetectionTotals& totals) {
  const std::vector<RuleRunStats>& stats = totals.rules;
  tally.print();
  for (std::size_t r = 0; r < stats.size(); ++r) {
    const RuleRunStats& s = stats[r];
    const std::string& name = set.compiled[r].rule->name;
    const Rule& rule = *set.compiled[r].rule;
    // (count, what it means) for every count worth a note.
    const std::pair<std::uint64_t, std::string> notes[] = {
        {s.outside_windows, fmt::format("match(es) no run of its schedule sees: sequences longer than the rule's "
                                        "lookback (from = {}), or times after the last run a timestamp holds "
                                        "(2262-04-11)", rule.from)},
        {s.suppressed, "alert(s) folded into others by alert_suppression"},
        {s.excepted, "match(es) covered by exceptions"},
        {s.capped, fmt::format("match(es) left out by max_signals = {} in every run that held them", rule.max_signals)},
        {s.dropped, "match(es) beyond --max-detections-per-rule were counted, not alerted"},
        {s.not_rare, "match(es) left out: their value was not rare (vigil.rarity)"},
        {s.baseline_known, "term(s) known to the baseline (not new)"},
        {s.terms_evicted, "term(s) evicted from the new-terms history at --max-terms"},
        {s.sequences.evicted, "partial sequence(s) evicted at --max-open-sequences"},
        {s.late, "event(s) or match(es) that came after event time had passed them (--lateness)"},
        {s.correlation.ungrouped, "match(es) without a value for a group-by or value field: no part in the correlation"},
        {s.correlation.groups_evicted, "correlation group(s) evicted at 100,000 (least recently matched first)"},
        {s.correlation.entries_evicted, "correlation window entries evicted at 100,000 per group (oldest first)"},
    };
    for (const auto& [count, what] : notes) {
      if (count) std::fprintf(stderr, "note: %s: %llu %s\n", name.c_str(), static_cast<unsigned long long>(count), what.c_str());
    }
  }
  // Events without a time: an event rule still alerts (stamped at the epoch:
  // no schedule run holds them); new-terms, threshold and ES|QL rules cannot
  // place them in a window and leave them out.
  std::uint64_t timeless = 0;
  for (const RuleRunStats& s : stats) timeless += s.no_timestamp;
  print_count_note(timeless, "match(es) of events without a time (no @timestamp, no UTC time the reader could take): "
                             "event rules alert them stamped 1970-01-01, new-terms, threshold and ES|QL rules leave "
                             "them out");
  print_count_note(totals.duplicates, "alert(s) for events read more than once were written once");
  print_count_note(totals.alert_ids_forgotten, "alert id(s) forgotten at --max-alert-ids (oldest first)");
  if (totals.rarity_evicted) {
    std::fprintf(stderr, "note: rarity: %llu term(s) evicted at --max-terms (least recently seen first)\n",
                 static_cast<unsigned long long>(totals.rarity_evicted));
  }
  if (totals.processes_evicted || totals.files_evicted) {
    std::fprintf(stderr, "note: triage state evicted %llu process(es) and %llu file(s) (oldest first) to stay bounded\n",
                 static_cast<unsigned long long>(totals.processes_evicted),
                 static_cast<unsigned long long>(totals.files_evicted));
  }
}

AlertDatabase::AlertDatabase() = default;
AlertDatabase::~AlertDatabase() = default;

bool AlertDatabase::open(const std::string& path) {
  auto opened = AlertStore::open(path);
  if (!opened) {
    std::fprintf(stderr, "vigil: %s\n", opened.error().message.c_str());
    return false;
  }
  path_ = path;
  store_ = std::move(*opened);
  return true;
}

void AlertDatabase::add(const std::vector<AlertLine>& lines) {
  if (!store_ || error_) return;
  std::vector<AlertSummary> summaries;
  summaries.reserve(lines.size());
  for (const auto& l : lines) summaries.push_back(l.summary);
  auto added = store_->add(summaries);
  if (!added) {
    error_ = added.error();
    return;
  }
  added_ += *added;
  offered_ += summaries.size();
}

void AlertDatabase::print_outcome() const {
  if (!store_ || error_) return;
  std::fprintf(stderr, "alert store %s: %zu new alert document(s), %zu already there\n", path_.c_str(), added_,
               offered_ - added_);
}

}  // namespace vigil
