// `vigil baseline`: learn (rules' rarity specs over inputs, into the SQLite
// baseline, one transaction), show (what it knows), suggest (exception items
// for the noisiest alerts of a hunt on benign data).
#include "cli/baseline_command.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>

#include "cli/event_output.h"
#include "cli/exit_codes.h"
#include "cli/input_diagnostics.h"
#include "core/hash.h"
#include "core/text.h"
#include "core/value.h"
#include "detect/rarity.h"
#include "detect/rule_set.h"
#include "ingest/event_reader.h"
#include "output/json_lookup.h"
#include "store/baseline_store.h"
#include "store/rule_cache.h"

namespace vigil {

void add_baseline_command(CLI::App& app, BaselineOptions& o) {
  auto* cmd = app.add_subcommand("baseline", "Learn what is normal (rarity, new terms), show it, suggest exceptions");
  cmd->require_subcommand(1);
  auto* learn = cmd->add_subcommand("learn", "Count the terms of the rules' rarity conditions and new_terms rules");
  learn->add_option("--rules,-r", o.rules, "Rule file or directory; repeat for more")->required()->allow_extra_args(false);
  learn->add_option("inputs", o.inputs, "Known-good inputs (any format vigil reads)")->required();
  learn->add_option("--baseline,-b", o.baseline, "Baseline file (SQLite; created if missing)")->capture_default_str();
  learn->add_option("--max-age", o.max_age, "Drop terms not seen for this long before the newest one (e.g. 90d)");
  learn->add_option("--max-terms", o.max_terms, "Keep at most this many terms (least recently seen go first); 0 = no cap")
      ->capture_default_str();
  learn->add_option("--threads", o.threads, "Decoding threads: EVTX chunks and files, NDJSON lines (0 = one per core)");
  learn->add_flag("--quiet,-q", o.quiet, "No summary on stderr");
  auto* show = cmd->add_subcommand("show", "What a baseline knows: specs, most frequent and rarest terms");
  show->add_option("--baseline,-b", o.baseline, "Baseline file")->capture_default_str();
  show->add_option("--spec", o.spec, "Only this spec (number or id prefix)");
  show->add_option("--entity", o.entity, "Only this host (or user, for user-scoped specs)");
  show->add_option("--limit", o.limit, "Terms listed per spec, most frequent and rarest")->capture_default_str();
  auto* suggest = cmd->add_subcommand("suggest", "Exception items for the noisiest alerts of a hunt on benign data");
  suggest->add_option("alerts", o.alerts, "Alert NDJSON written by `vigil hunt` over known-good data")->required();
  suggest->add_option("--min-alerts", o.min_alerts, "Suggest a value only if it accounts for this many alerts")
      ->capture_default_str();
  suggest->add_option("--top", o.top, "At most this many items per rule")->capture_default_str();
  suggest->add_option("-o,--output", o.output, "Exception list NDJSON ('-' for stdout)")->capture_default_str();
}

std::unique_ptr<BaselineStore> open_baseline(const std::string& path, bool must_exist) {
  if (must_exist && ::access(path.c_str(), R_OK) != 0) {
    std::fprintf(stderr, "vigil: %s: no such baseline (create it with `vigil baseline learn`)\n", path.c_str());
    return nullptr;
  }
  auto opened = BaselineStore::open(path);
  if (!opened) {
    std::fprintf(stderr, "vigil: %s\n", opened.error().message.c_str());
    return nullptr;
  }
  return std::move(*opened);
}

namespace {

// Identifies an input's content cheaply: its path, size and modification
// time (for a directory: of every file under it).
std::optional<std::string> input_key(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  Hash128 h;
  auto add_file = [&](const fs::path& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return;
    h.add(fs::weakly_canonical(p, ec).string()).add(std::to_string(st.st_size))
        .add(std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec));
  };
  if (path == "-") return std::nullopt;  // stdin: never the same twice
  if (fs::is_directory(path, ec)) {
    std::vector<fs::path> files;
    for (auto it = fs::recursive_directory_iterator(path, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file(ec)) files.push_back(it->path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) add_file(f);
  } else {
    add_file(path);
  }
  return h.hex();
}

std::string format_time(TimestampNs t) { return t ? format_timestamp(t) : std::string("-"); }

std::string readable_term(std::string term) {
  std::replace(term.begin(), term.end(), '\x1f', '|');
  return printable(term);
}

int learn(const BaselineOptions& o) {
  auto started = std::chrono::steady_clock::now();
  auto rule_cache = RuleCache::open_default();
  auto set = compile_rules(o.rules, {}, 0, rule_cache.get());
  for (const auto& d : set->diagnostics) std::fputs(format_rule_diagnostic(d).c_str(), stderr);
  // As every command: the rules that compiled run, the others are reported, and exit 2 at the end.
  if (set->rarity_specs.empty()) {
    std::fprintf(stderr, "vigil: the rules have no [[vigil.rarity]] conditions and no new_terms rules: nothing to learn\n");
    return kExitUsage;
  }
  std::optional<std::int64_t> max_age;
  if (!o.max_age.empty()) {
    max_age = parse_rule_duration(o.max_age);
    if (!max_age) {
      std::fprintf(stderr, "vigil: --max-age %s: not a duration like 90d\n", o.max_age.c_str());
      return kExitUsage;
    }
  }
  auto opened = open_baseline(o.baseline, /*must_exist=*/false);
  if (!opened) return kExitUsage;
  BaselineStore& store = *opened;
  // One transaction for the whole run: a kill leaves the baseline as it was.
  if (auto begun = store.begin(); !begun) {
    std::fprintf(stderr, "vigil: %s\n", begun.error().message.c_str());
    return kExitUsage;
  }
  auto fail = [&](const Error& e) {
    store.rollback();
    std::fprintf(stderr, "vigil: %s: %s\n", o.baseline.c_str(), e.message.c_str());
    return kExitUsage;
  };
  std::vector<std::int64_t> numbers;
  for (const RaritySpec& spec : set->rarity_specs) {
    auto n = store.spec_number(spec.id, spec.description, fmt::format("{}", fmt::join(spec.rules, "; ")));
    if (!n) return fail(n.error());
    numbers.push_back(*n);
  }
  RarityTracker tracker(set->rarity_specs, set->fields, nullptr, SIZE_MAX);
  std::optional<Error> error;
  std::uint64_t added = 0;
  // Terms go into the B-tree in key order: neighbouring pages, not random ones.
  struct Pending {
    std::int64_t spec;
    std::string_view entity, term;
    TermStats stats;
  };
  std::vector<Pending> pending;
  auto flush = [&] {
    pending.clear();
    tracker.for_each([&](const RarityTracker::Counted& c) { pending.push_back({numbers[c.spec], c.entity, c.term, c.stats}); });
    std::sort(pending.begin(), pending.end(), [](const Pending& a, const Pending& b) {
      if (a.spec != b.spec) return a.spec < b.spec;
      if (a.entity != b.entity) return a.entity < b.entity;
      return a.term < b.term;
    });
    for (const Pending& p : pending) {
      if (auto r = store.add(p.spec, p.entity, p.term, p.stats); !r) {
        error = r.error();
        break;
      }
      ++added;
    }
    pending.clear();
    tracker.clear();
  };
  constexpr std::size_t kFlushTerms = 1 << 20;  // bounded memory: flush into the transaction
  ReaderOptions ropts;
  ropts.threads = o.threads;
  EventReader reader(set->fields, ropts);
  ReadStats stats;
  std::uint64_t events = 0;
  std::size_t learned = 0, skipped = 0;
  for (std::size_t i = 0; i < o.inputs.size() && !error; ++i) {
    auto key = input_key(o.inputs[i]);
    if (key && store.learned(*key)) {
      if (!o.quiet) std::fprintf(stderr, "%s: learned before (same files), skipped\n", o.inputs[i].c_str());
      ++skipped;
      continue;
    }
    std::uint64_t before = events;
    reader.read(o.inputs[i], static_cast<std::uint32_t>(i), [&](EventBatch& batch) {
      for (const Event& e : batch.events) {
        tracker.observe(e, /*with_new_terms=*/true);
        ++events;
      }
      if (tracker.size() > kFlushTerms) flush();
      return !error;
    }, stats);
    flush();
    if (key) {
      if (auto r = store.record_input(*key, o.inputs[i], events - before); !r) error = r.error();
    }
    ++learned;
  }
  if (error) return fail(*error);
  std::uint64_t aged = 0, evicted = 0;
  if (max_age) {
    auto r = store.age(*max_age);
    if (!r) return fail(r.error());
    aged = *r;
  }
  if (o.max_terms > 0) {
    auto r = store.cap(o.max_terms);
    if (!r) return fail(r.error());
    evicted = *r;
  }
  store.add_counter("terms_aged", static_cast<std::int64_t>(aged));
  store.add_counter("terms_evicted", static_cast<std::int64_t>(evicted));
  if (auto r = store.commit(); !r) return fail(r.error());
  print_diagnostics(stats);
  if (!o.quiet) {
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::fprintf(stderr,
                 "vigil baseline: %zu input(s) learned, %zu skipped, %llu events, %llu term update(s) in %.2f s; "
                 "%s now holds %llu term(s) of %zu spec(s)\n",
                 learned, skipped, static_cast<unsigned long long>(events), static_cast<unsigned long long>(added),
                 seconds, o.baseline.c_str(), static_cast<unsigned long long>(store.term_count()),
                 set->rarity_specs.size());
    if (aged) std::fprintf(stderr, "note: %llu term(s) older than --max-age dropped\n", static_cast<unsigned long long>(aged));
    if (evicted) {
      std::fprintf(stderr, "note: %llu least recently seen term(s) evicted at --max-terms\n",
                   static_cast<unsigned long long>(evicted));
    }
  }
  return set->failed() > 0 ? kExitUsage : kExitOk;
}

int show(const BaselineOptions& o) {
  auto opened = open_baseline(o.baseline, /*must_exist=*/true);
  if (!opened) return kExitUsage;
  BaselineStore& store = *opened;
  auto specs = store.specs();
  if (!specs) {
    std::fprintf(stderr, "vigil: %s\n", specs.error().message.c_str());
    return kExitUsage;
  }
  std::printf("baseline %s: %llu term(s), %llu input(s) learned; %lld aged out, %lld evicted so far\n",
              o.baseline.c_str(), static_cast<unsigned long long>(store.term_count()),
              static_cast<unsigned long long>(store.input_count()), static_cast<long long>(store.counter("terms_aged")),
              static_cast<long long>(store.counter("terms_evicted")));
  std::optional<std::string> entity;
  if (!o.entity.empty()) entity = o.entity;
  bool any = false;
  for (const BaselineSpecRow& spec : *specs) {
    if (!o.spec.empty() && o.spec != std::to_string(spec.number) && !spec.id.starts_with(o.spec)) continue;
    any = true;
    std::printf("\nspec %lld (%s): %s\n  rules: %s\n  %llu term(s) over %llu entit%s\n",
                static_cast<long long>(spec.number), spec.id.substr(0, 12).c_str(), spec.description.c_str(),
                spec.rules.c_str(), static_cast<unsigned long long>(spec.terms),
                static_cast<unsigned long long>(spec.entities), spec.entities == 1 ? "y" : "ies");
    for (bool rarest : {false, true}) {
      auto rows = store.terms(spec.number, entity, rarest, o.limit);
      if (!rows || rows->empty()) continue;
      std::printf("  %s:\n  %8s  %-24s  %-24s  %-20s  %s\n", rarest ? "rarest" : "most frequent", "count", "first seen",
                  "last seen", "entity", "term");
      for (const auto& r : *rows) {
        std::printf("  %8lld  %-24s  %-24s  %-20s  %s\n", static_cast<long long>(r.stats.count),
                    format_time(r.stats.first_seen).c_str(), format_time(r.stats.last_seen).c_str(),
                    r.entity.empty() ? "(fleet)" : printable(r.entity).c_str(), readable_term(r.term).c_str());
      }
    }
  }
  if (!any && !o.spec.empty()) {
    std::fprintf(stderr, "vigil: no spec %s in %s\n", o.spec.c_str(), o.baseline.c_str());
    return kExitUsage;
  }
  return kExitOk;
}

// Fields that pin down what a benign alert was about, most specific first.
constexpr std::string_view kSuggestFields[] = {
    "process.executable", "dll.path", "file.path", "registry.path", "process.parent.executable",
    "destination.ip", "dns.question.name", "process.name", "user.name",
};

// The text of a string member (nested or dotted), if the alert has one.
std::optional<std::string> text_at(simdjson::dom::object doc, std::string_view path) {
  std::string_view s;
  auto e = find_member(doc, path);
  if (!e || e->get(s)) return std::nullopt;
  return std::string(s);
}

int suggest(const BaselineOptions& o) {
  simdjson::dom::parser parser;
  simdjson::padded_string text;
  if (simdjson::padded_string::load(o.alerts).get(text)) {
    std::fprintf(stderr, "vigil: %s: cannot read\n", o.alerts.c_str());
    return kExitUsage;
  }
  struct RuleAlerts {
    std::string name;
    std::size_t alerts = 0;
    std::map<std::pair<std::string, std::string>, std::size_t> values;  // (field, value) → alerts
  };
  std::map<std::string, RuleAlerts> by_rule;  // rule_id →
  std::string_view all(text.data(), text.size());
  std::size_t line_no = 0, bad = 0;
  for_each_line(all, [&](std::string_view line, std::size_t) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) return true;
    simdjson::dom::object doc;
    if (parser.parse(line).get_object().get(doc)) {
      ++bad;
      return true;
    }
    if (text_at(doc, "kibana.alert.building_block_type")) return true;
    auto rule_id = text_at(doc, "kibana.alert.rule.rule_id");
    if (!rule_id) return true;
    RuleAlerts& r = by_rule[*rule_id];
    r.name = text_at(doc, "kibana.alert.rule.name").value_or(*rule_id);
    ++r.alerts;
    for (std::string_view f : kSuggestFields) {
      if (auto v = text_at(doc, f)) ++r.values[{std::string(f), *v}];
    }
    return true;
  });
  std::optional<AtomicFile> file;
  if (!open_output(o.output, file)) return kExitUsage;
  std::string out;
  std::size_t items = 0, rules = 0;
  for (const auto& [rule_id, r] : by_rule) {
    // Greedy: the (field, value) pairs that explain the most alerts, one
    // per field rank, most specific field first on ties.
    std::vector<std::pair<std::pair<std::string, std::string>, std::size_t>> ranked(r.values.begin(), r.values.end());
    auto rank_of = [](const std::string& f) {
      return std::find(std::begin(kSuggestFields), std::end(kSuggestFields), f) - std::begin(kSuggestFields);
    };
    std::stable_sort(ranked.begin(), ranked.end(), [&](const auto& a, const auto& b) {
      if (a.second != b.second) return a.second > b.second;
      return rank_of(a.first.first) < rank_of(b.first.first);
    });
    std::vector<std::string> picked_values;
    std::size_t taken = 0;
    bool header = false;
    for (const auto& [fv, count] : ranked) {
      if (taken == o.top || count < o.min_alerts) break;
      // One item per value: the most specific field that carries it.
      if (std::find(picked_values.begin(), picked_values.end(), fv.second) != picked_values.end()) continue;
      picked_values.push_back(fv.second);
      if (!header) {
        // A rule-default list: its list_id is the rule_id, so `vigil hunt
        // --exceptions FILE` applies its items to that rule only.
        out += "{\"list_id\":";
        append_json_string(out, rule_id);
        out += ",\"type\":\"rule_default\",\"namespace_type\":\"single\",\"name\":";
        append_json_string(out, "Suggested exceptions: " + r.name);
        out += ",\"description\":";
        append_json_string(out, fmt::format("Suggested by vigil baseline suggest from {} alert(s) of the rule on "
                                            "known-good data; review before use.", r.alerts));
        out += "}\n";
        header = true;
        ++rules;
      }
      out += "{\"list_id\":";
      append_json_string(out, rule_id);
      out += ",\"item_id\":";
      append_json_string(out, Hash128().add(rule_id).add(fv.first).add(fv.second).hex());
      out += ",\"type\":\"simple\",\"namespace_type\":\"single\",\"name\":";
      append_json_string(out, fmt::format("{} is {} ({} of {} alerts)", fv.first, fv.second, count, r.alerts));
      out += ",\"description\":";
      append_json_string(out, fmt::format("{} of the rule's {} alert(s) on known-good data had {} = {}", count,
                                          r.alerts, fv.first, fv.second));
      out += ",\"entries\":[{\"field\":";
      append_json_string(out, fv.first);
      out += ",\"operator\":\"included\",\"type\":\"match\",\"value\":";
      append_json_string(out, fv.second);
      out += "}]}\n";
      ++items;
      ++taken;
    }
  }
  {
    OutputBuffer buffer(file ? file->stream() : stdout);
    buffer.buffer() += out;
  }
  if (!commit_output(file)) return kExitUsage;
  std::fprintf(stderr, "vigil baseline suggest: %zu item(s) for %zu rule(s) from %zu rule(s) with alerts%s\n", items,
               rules, by_rule.size(), bad ? fmt::format(" ({} unreadable line(s) skipped)", bad).c_str() : "");
  return kExitOk;
}

}  // namespace

int run_baseline_command(CLI::App& app, const BaselineOptions& o) {
  CLI::App* cmd = app.get_subcommand("baseline");
  if (cmd->got_subcommand("learn")) return learn(o);
  if (cmd->got_subcommand("show")) return show(o);
  if (cmd->got_subcommand("suggest")) return suggest(o);
  return kExitUsage;
}

}  // namespace vigil
