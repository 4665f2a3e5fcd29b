// Elastic detection-rules TOML → Rule, with positions for every error.
#include "rules/rule_loader.h"

#include "core/document.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include "rules/rule_codec.h"
#include "rules/sigma.h"

#include <cctype>

#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/hash.h"
#include "core/text.h"
#include "core/worker_pool.h"

namespace vigil {

std::optional<std::int64_t> parse_rule_duration(std::string_view text) {
  if (text.size() < 2) return std::nullopt;
  std::int64_t unit = 0;
  switch (text.back()) {
    case 's': unit = 1000000000LL; break;
    case 'm': unit = 60LL * 1000000000LL; break;
    case 'h': unit = 3600LL * 1000000000LL; break;
    case 'd': unit = 86400LL * 1000000000LL; break;
    default: return std::nullopt;
  }
  std::int64_t n = 0;
  for (char c : text.substr(0, text.size() - 1)) {
    if (c < '0' || c > '9' || n > 1000000000LL) return std::nullopt;
    n = n * 10 + (c - '0');
  }
  std::int64_t ns = 0;
  if (__builtin_mul_overflow(n, unit, &ns)) return std::nullopt;  // beyond ~292 years
  return ns;
}

namespace {

SourcePos pos_of(const toml::node& node) {
  const auto& b = node.source().begin;
  return {static_cast<std::uint32_t>(std::max<std::uint32_t>(b.line, 1)),
          static_cast<std::uint32_t>(std::max<std::uint32_t>(b.column, 1)), 0};
}

// Compact JSON (one line): kept keys go into alert documents as they are.
std::string to_json(const toml::node& node) {
  std::ostringstream out;
  if (auto* t = node.as_table()) {
    out << toml::json_formatter{*t};
  } else if (auto* a = node.as_array()) {
    out << toml::json_formatter{*a};
  } else {
    // A scalar: wrap it to reuse the formatter, then unwrap.
    toml::array wrapper;
    wrapper.push_back(node);
    out << toml::json_formatter{wrapper};
    std::string s = out.str();
    std::size_t open = s.find('[');
    std::size_t close = s.rfind(']');
    std::string inner = open != std::string::npos && close > open ? s.substr(open + 1, close - open - 1) : s;
    inner.erase(0, inner.find_first_not_of(" \n\t"));
    inner.erase(inner.find_last_not_of(" \n\t") + 1);
    return inner;
  }
  std::string compact;
  append_minified_json(compact, out.str());
  return compact;
}

// Reads [rule] keys with type checks; the first error wins.
class RuleReader {
 public:
  RuleReader(const toml::table& table, std::string prefix) : table_(table), prefix_(std::move(prefix)) {}

  std::optional<Error> error;
  std::set<std::string> used;

  void string(const char* key, std::string& out) {
    const toml::node* n = get(key);
    if (!n) return;
    if (auto v = n->value<std::string>()) {
      out = *v;
    } else {
      fail(*n, fmt::format("`{}{}` must be a string", prefix_, key));
    }
  }
  void integer(const char* key, int& out) {
    const toml::node* n = get(key);
    if (!n) return;
    if (auto v = n->value<std::int64_t>(); v && *v >= INT32_MIN && *v <= INT32_MAX) {
      out = static_cast<int>(*v);
    } else {
      fail(*n, fmt::format("`{}{}` must be an integer", prefix_, key));
    }
  }
  void strings(const char* key, std::vector<std::string>& out) {
    const toml::node* n = get(key);
    if (!n) return;
    const toml::array* a = n->as_array();
    if (!a) return fail(*n, fmt::format("`{}{}` must be an array of strings", prefix_, key));
    for (const auto& item : *a) {
      if (auto v = item.value<std::string>()) {
        out.push_back(*v);
      } else {
        return fail(item, fmt::format("`{}{}` must be an array of strings", prefix_, key));
      }
    }
  }
  const toml::node* get(const char* key) {
    used.insert(key);
    return table_.get(key);
  }
  void fail(const toml::node& node, std::string message) {
    if (!error) error = Error{"rule.schema", std::move(message), pos_of(node)};
  }

 private:
  const toml::table& table_;
  std::string prefix_;
};

ThreatEntry threat_entry(const toml::node* node) {
  ThreatEntry e;
  if (const toml::table* t = node ? node->as_table() : nullptr) {
    e.id = (*t)["id"].value_or(std::string());
    e.name = (*t)["name"].value_or(std::string());
    e.reference = (*t)["reference"].value_or(std::string());
  }
  return e;
}

void read_threat(const toml::node* node, Rule& rule) {
  const toml::array* threats = node ? node->as_array() : nullptr;
  if (!threats) return;
  for (const auto& item : *threats) {
    const toml::table* t = item.as_table();
    if (!t) continue;
    Threat threat;
    threat.framework = (*t)["framework"].value_or(std::string("MITRE ATT&CK"));
    threat.tactic = threat_entry(t->get("tactic"));
    if (const toml::array* techniques = (*t)["technique"].as_array()) {
      for (const auto& tech : *techniques) {
        ThreatTechnique technique{threat_entry(&tech), {}};
        if (const toml::table* tt = tech.as_table()) {
          if (const toml::array* subs = (*tt)["subtechnique"].as_array()) {
            for (const auto& sub : *subs) technique.subtechniques.push_back(threat_entry(&sub));
          }
        }
        threat.techniques.push_back(std::move(technique));
      }
    }
    rule.threat.push_back(std::move(threat));
  }
}

}  // namespace

namespace {

// toml++ (3.3) asserts instead of failing on a table header whose key starts
// with a character no key can start with (`[[:rule.threat]]`): an abort in
// debug builds on a rule file. Such headers are reported here first.
std::optional<Error> bad_table_header(std::string_view text) {
  std::uint32_t line_no = 0;
  std::string_view open_delimiter;  // inside a multi-line string opened by this
  static constexpr std::string_view kDelimiters[] = {"\"\"\"", "'''"};
  std::optional<Error> error;
  for_each_line(text, [&](std::string_view line, std::size_t) {
    ++line_no;
    std::size_t i = line.find_first_not_of(" \t");
    if (open_delimiter.empty() && i != std::string_view::npos && line[i] == '[') {
      std::size_t k = i + 1;
      if (k < line.size() && line[k] == '[') ++k;
      while (k < line.size() && (line[k] == ' ' || line[k] == '\t')) ++k;
      char c = k < line.size() ? line[k] : '\0';
      // Lines of multi-line arrays start with '[' too: only characters no
      // header key and no array element can start with are refused.
      bool fine = std::isalnum(static_cast<unsigned char>(c)) || c == '\0' ||
                  std::string_view("_-\"'[]{}#,+.").find(c) != std::string_view::npos;
      if (!fine) {
        error = Error{"rule.toml", "expected a key name in the table header",
                      {line_no, static_cast<std::uint32_t>(k + 1), 0}};
        return false;
      }
    }
    // Multi-line strings: an odd number of delimiters on a line opens or closes one.
    for (std::string_view delimiter : kDelimiters) {
      if (!open_delimiter.empty() && open_delimiter != delimiter) continue;
      std::size_t count = 0;
      for (std::size_t at = line.find(delimiter); at != std::string_view::npos; at = line.find(delimiter, at + 3)) ++count;
      if (count % 2 == 1) open_delimiter = open_delimiter.empty() ? delimiter : std::string_view();
    }
    return true;
  });
  return error;
}

}  // namespace

Result<Rule> parse_rule_toml(std::string_view text, const std::string& file) {
  if (auto e = bad_table_header(text)) return *e;
  toml::table doc;
  try {
    doc = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    return Error{"rule.toml", std::string(e.description()),
                 {static_cast<std::uint32_t>(std::max<std::uint32_t>(b.line, 1)),
                  static_cast<std::uint32_t>(std::max<std::uint32_t>(b.column, 1)), 0}};
  }
  Rule rule;
  rule.file = file;
  const toml::table* table = doc["rule"].as_table();
  if (!table) {
    // A rule folder's test cases (rules/tests/*/cases.toml): [[case]] tables, no rule.
    if (doc["case"].as_array()) return Error{"rule.test_cases", "rule test cases, not a rule", {1, 1, 0}};
    return Error{"rule.schema", "no [rule] table: not an Elastic detection rule", {1, 1, 0}};
  }
  RuleReader r(*table, "rule.");
  r.string("rule_id", rule.rule_id);
  r.string("name", rule.name);
  r.string("description", rule.description);
  r.string("severity", rule.severity);
  r.integer("risk_score", rule.risk_score);
  r.string("type", rule.type);
  r.string("language", rule.language);
  r.string("query", rule.query);
  r.string("interval", rule.interval);
  r.string("from", rule.from);
  r.integer("max_signals", rule.max_signals);
  r.integer("version", rule.version);
  r.strings("tags", rule.tags);
  r.strings("index", rule.index);
  r.strings("references", rule.references);
  r.strings("false_positives", rule.false_positives);
  r.strings("author", rule.author);
  r.string("license", rule.license);
  r.string("note", rule.note);
  r.string("building_block_type", rule.building_block_type);
  r.string("timestamp_override", rule.timestamp_override);
  read_threat(r.get("threat"), rule);
  if (const toml::node* ex = r.get("exceptions_list"); ex && ex->as_array()) {
    for (const auto& item : *ex->as_array()) {
      if (const toml::table* t = item.as_table()) rule.exceptions_list.push_back((*t)["list_id"].value_or(std::string()));
    }
  }
  if (const toml::node* s = r.get("alert_suppression")) {
    if (const toml::table* t = s->as_table()) {
      AlertSuppression sup;
      RuleReader sr(*t, "rule.alert_suppression.");
      sr.strings("group_by", sup.group_by);
      sr.string("missing_fields_strategy", sup.missing_fields_strategy);
      if (const toml::table* d = (*t)["duration"].as_table()) {
        auto value = (*d)["value"].value<std::int64_t>();
        auto unit = (*d)["unit"].value<std::string>();
        auto ns = value && unit ? parse_rule_duration(std::to_string(*value) + *unit) : std::nullopt;
        if (!ns) r.fail(*s, "`rule.alert_suppression.duration` must be {value = N, unit = \"s\"|\"m\"|\"h\"}");
        else sup.duration_ns = *ns;
      }
      if (sr.error && !r.error) r.error = sr.error;
      rule.alert_suppression = std::move(sup);
    }
  }
  if (const toml::node* nt = r.get("new_terms"); nt && nt->as_table()) {
    const toml::table& t = *nt->as_table();
    if (const toml::array* v = t["value"].as_array()) {
      for (const auto& f : *v) rule.new_terms_fields.push_back(f.value_or(std::string()));
    }
    if (const toml::array* h = t["history_window_start"].as_array(); h && !h->empty()) {
      if (const toml::table* first = (*h)[0].as_table()) {
        rule.new_terms_history_window_start = (*first)["value"].value_or(std::string());
      }
    }
  }
  if (const toml::node* th = r.get("threshold"); th && th->as_table()) {
    const toml::table& t = *th->as_table();
    ThresholdSpec spec;
    if (const toml::array* f = t["field"].as_array()) {
      for (const auto& x : *f) {
        if (auto v = x.value<std::string>(); v && !v->empty()) spec.fields.push_back(*v);
      }
    } else if (auto one = t["field"].value<std::string>(); one && !one->empty()) {
      spec.fields.push_back(*one);
    }
    spec.value = t["value"].value_or(std::int64_t{0});
    if (const toml::array* card = t["cardinality"].as_array(); card && !card->empty()) {
      if (const toml::table* c = (*card)[0].as_table()) {
        spec.cardinality_field = (*c)["field"].value_or(std::string());
        spec.cardinality_value = (*c)["value"].value_or(std::int64_t{0});
      }
      if (card->size() > 1) r.fail(*th, "`rule.threshold.cardinality` holds one {field, value} table (as Elastic allows)");
    }
    if (spec.value < 1) r.fail(*th, "`rule.threshold.value` must be an integer of at least 1");
    if (spec.fields.size() > 5) r.fail(*th, "`rule.threshold.field` takes at most 5 fields (as Elastic allows)");
    if (!spec.cardinality_field.empty() && spec.cardinality_value < 1) {
      r.fail(*th, "`rule.threshold.cardinality` needs a `value` of at least 1");
    }
    rule.threshold = std::move(spec);
  }
  if (r.error) return *r.error;
  if (rule.type == "threshold" && !rule.threshold) {
    return Error{"rule.schema", "a threshold rule needs a `[rule.threshold]` table (field, value)", {1, 1, 0}};
  }
  if (rule.type == "new_terms") {
    const toml::node* nt = table->get("new_terms");
    SourcePos at = nt ? pos_of(*nt) : SourcePos{1, 1, 0};
    if (rule.new_terms_fields.empty() || rule.new_terms_fields.size() > 3) {
      return Error{"rule.schema", "a new_terms rule needs 1 to 3 fields in `rule.new_terms.value`", at};
    }
    std::string_view start = rule.new_terms_history_window_start;
    auto ns = start.starts_with("now-") ? parse_rule_duration(start.substr(4)) : std::nullopt;
    if (!ns) {
      return Error{"rule.schema", "`rule.new_terms.history_window_start` must be \"now-<duration>\", like \"now-7d\"", at};
    }
    rule.new_terms_history_ns = *ns;
  }
  if (const toml::table* vigil = doc["vigil"].as_table()) {
    if (const toml::node* rarity = vigil->get("rarity")) {
      const toml::array* list = rarity->as_array();
      if (!list) return Error{"rule.schema", "`vigil.rarity` must be an array of tables ([[vigil.rarity]])", pos_of(*rarity)};
      for (const auto& item : *list) {
        const toml::table* t = item.as_table();
        if (!t) return Error{"rule.schema", "`vigil.rarity` must be an array of tables ([[vigil.rarity]])", pos_of(item)};
        RarityCondition c;
        c.pos = pos_of(item);
        RuleReader cr(*t, "vigil.rarity.");
        cr.strings("fields", c.fields);
        cr.string("scope", c.scope);
        cr.string("population", c.population);
        cr.integer("max_count", c.max_count);
        if (cr.error) return *cr.error;
        for (const auto& [key, node] : *t) {
          if (!cr.used.count(std::string(key.str()))) {
            return Error{"rule.schema", fmt::format("unknown key `vigil.rarity.{}` (fields, scope, population, max_count)",
                                                    key.str()), pos_of(node)};
          }
        }
        if (c.fields.empty() || c.fields.size() > 3) {
          return Error{"rule.schema", "`vigil.rarity.fields` needs 1 to 3 field names", c.pos};
        }
        if (c.scope != "host" && c.scope != "user" && c.scope != "fleet") {
          return Error{"rule.schema", "`vigil.rarity.scope` must be \"host\", \"user\" or \"fleet\"",
                       pos_of(*t->get("scope"))};
        }
        if (c.max_count < 0) return Error{"rule.schema", "`vigil.rarity.max_count` must be 0 or more", pos_of(*t->get("max_count"))};
        rule.rarity.push_back(std::move(c));
      }
    }
  }

  // Required keys and their values.
  auto require = [&](const char* key, const std::string& value) -> std::optional<Error> {
    if (!value.empty()) return std::nullopt;
    return Error{"rule.schema", fmt::format("missing `rule.{}`", key), {1, 1, 0}};
  };
  for (auto [key, value] : {std::pair<const char*, const std::string*>{"rule_id", &rule.rule_id},
                            {"name", &rule.name}, {"type", &rule.type}}) {
    if (auto e = require(key, *value)) return *e;
  }
  static const std::set<std::string> kSeverities = {"low", "medium", "high", "critical"};
  if (!kSeverities.count(rule.severity)) {
    return Error{"rule.schema", "`rule.severity` must be low, medium, high or critical", pos_of(*table->get("severity"))};
  }
  if (rule.risk_score < 0 || rule.risk_score > 100) {
    return Error{"rule.schema", "`rule.risk_score` must be between 0 and 100", pos_of(*table->get("risk_score"))};
  }
  if (auto ns = parse_rule_duration(rule.interval)) {
    rule.interval_ns = *ns;
  } else {
    return Error{"rule.schema", "`rule.interval` must be a duration like \"5m\"", pos_of(*table->get("interval"))};
  }
  if (std::string_view from = rule.from; from.starts_with("now-")) {
    if (auto ns = parse_rule_duration(from.substr(4))) {
      rule.lookback_ns = *ns;
    } else {
      return Error{"rule.schema", "`rule.from` must be \"now-<duration>\", like \"now-9m\"", pos_of(*table->get("from"))};
    }
  } else {
    return Error{"rule.schema", "`rule.from` must be \"now-<duration>\", like \"now-9m\"", pos_of(*table->get("from"))};
  }
  if (rule.lookback_ns < rule.interval_ns) rule.lookback_ns = rule.interval_ns;  // Elastic never searches less
  if (rule.max_signals < 1) {
    return Error{"rule.schema", "`rule.max_signals` must be at least 1", pos_of(*table->get("max_signals"))};
  }
  if (const toml::node* q = table->get("query")) {
    rule.query_pos = pos_of(*q);
    // A ''' or """ string: its text starts after the delimiter, and a newline
    // right after the delimiter is not part of it.
    std::size_t line_start = 0;
    for (std::uint32_t l = 1; l < rule.query_pos.line && line_start != std::string_view::npos; ++l) {
      line_start = text.find('\n', line_start);
      if (line_start != std::string_view::npos) ++line_start;
    }
    if (line_start != std::string_view::npos) {
      std::size_t at = line_start + rule.query_pos.column - 1;
      std::string_view rest = text.substr(std::min(at, text.size()));
      if (rest.starts_with("'''") || rest.starts_with("\"\"\"")) {
        rule.query_multiline_literal = rest.starts_with("'''");
        if (rest.size() > 3 && (rest[3] == '\n' || (rest[3] == '\r' && rest.size() > 4 && rest[4] == '\n'))) {
          rule.query_pos = {rule.query_pos.line + 1, 1, 0};
        } else {
          rule.query_pos.column += 3;
        }
      } else {
        rule.query_pos.column += 1;  // "..." or '...'
      }
    }
  }
  // Keep what we do not interpret.
  for (const auto& [key, node] : *table) {
    if (!r.used.count(std::string(key.str()))) rule.extra["rule." + std::string(key.str())] = to_json(node);
  }
  for (const auto& [key, node] : doc) {
    if (key.str() == "rule") continue;
    rule.extra[std::string(key.str())] = to_json(node);
  }
  return rule;
}

namespace {
// What a Sigma file's translation depends on besides its text: the target
// and the placeholder values.
std::string sigma_options_key(const SigmaOptions& options) {
  std::string values;
  if (options.placeholders) {
    for (const auto& [name, list] : *options.placeholders) {
      values += name;
      for (const std::string& v : list) {
        values.push_back('\0');
        values += v;
      }
      values.push_back('\n');
    }
  }
  return fmt::format("sigma:{}:{:016x}:", static_cast<int>(options.target), fast_hash(values, 0x9e3779b97f4a7c15ull));
}
}  // namespace

std::string rule_cache_key(std::string_view text) {
  // Two differently seeded 64-bit hashes of the text and its length: another
  // text under the same key would take a 128-bit collision. Not Hash128
  // (alert ids): it goes byte by byte, 10 ms over Elastic's 4.9 MB of rules
  // against 2 ms for these two. The path is not in it (a rule's only
  // path-dependent field, `file`, is set after a hit).
  return fmt::format("{:016x}{:016x}:{}", fast_hash(text, 0x9e3779b97f4a7c15ull), fast_hash(text, 0xc2b2ae3d27d4eb4full),
                     text.size());
}

LoadedRules load_rules(const std::vector<std::string>& paths, unsigned threads_wanted, ParsedRuleCache* cache,
                       const RuleLoadOptions& options) {
  LoadedRules out;
  std::vector<std::string> files;
  for (const auto& p : paths) {
    std::error_code ec;
    if (std::filesystem::is_directory(p, ec)) {
      std::vector<std::string> found;
      for (auto it = std::filesystem::recursive_directory_iterator(
               p, std::filesystem::directory_options::skip_permission_denied, ec);
           !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_regular_file(ec)) continue;
        const std::string path = it->path().string();
        if (it->path().extension() == ".toml" || is_sigma_path(path)) found.push_back(path);
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.push_back(p);
    }
  }
  // Files parse independently: on every core, each into its own slot, then
  // taken in file order (TOML parsing is most of loading a rule directory).
  // Files the cache holds (same text, same Sigma options) are not parsed.
  struct Parsed {
    std::string text;
    std::optional<Rule> rule;
    std::optional<RuleDiagnostic> diagnostic;
    // Sigma files (several documents each): their rules, filters, and the
    // documents that are none, with why.
    bool sigma = false;
    bool cached = false;
    SigmaFile sigma_file;
  };
  std::vector<Parsed> parsed(files.size());
  std::vector<std::string> keys(cache ? files.size() : 0);  // an unreadable file's stays empty: no entry has it
  const std::string sigma_options = cache ? sigma_options_key(options.sigma) : std::string();
  for (std::size_t i = 0; i < files.size(); ++i) {
    std::ifstream in(files[i], std::ios::binary);
    if (!in) {
      parsed[i].diagnostic = RuleDiagnostic{files[i], Error{"rule.io", "cannot read the file", {1, 1, 0}}, {}};
      continue;
    }
    parsed[i].text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    parsed[i].sigma = is_sigma_path(files[i]);
    if (cache) keys[i] = parsed[i].sigma ? sigma_options + rule_cache_key(parsed[i].text) : rule_cache_key(parsed[i].text);
  }
  if (cache) {
    std::vector<std::optional<std::string>> found = cache->find(keys);
    for (std::size_t i = 0; i < found.size(); ++i) {
      if (parsed[i].diagnostic || !found[i]) continue;
      if (parsed[i].sigma) {
        auto file = decode_sigma_file(*found[i]);
        if (!file) continue;
        parsed[i].sigma_file = std::move(*file);
        for (Rule& r : parsed[i].sigma_file.rules) r.file = files[i];
        for (SigmaFilter& f : parsed[i].sigma_file.filters) f.file = files[i];
        parsed[i].cached = true;
      } else if (auto rule = decode_rule(*found[i])) {
        parsed[i].rule = std::move(*rule);
        parsed[i].rule->file = files[i];
        parsed[i].cached = true;
      }
    }
  }
  std::vector<std::size_t> to_parse;
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (!parsed[i].diagnostic && !parsed[i].cached) to_parse.push_back(i);
  }
  auto parse_one = [&](std::size_t i) {
    if (parsed[i].sigma) {
      parsed[i].sigma_file = parse_sigma(parsed[i].text, files[i], options.sigma);
      return;
    }
    auto rule = parse_rule_toml(parsed[i].text, files[i]);
    if (!rule) {
      parsed[i].diagnostic = RuleDiagnostic{files[i], rule.error(), std::move(parsed[i].text)};
      return;
    }
    parsed[i].rule = std::move(*rule);
  };
  constexpr std::size_t kFilesPerThread = 32;
  const std::size_t threads =
      std::min<std::size_t>(resolve_threads(threads_wanted), (to_parse.size() + kFilesPerThread - 1) / kFilesPerThread);
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t k; (k = next.fetch_add(1)) < to_parse.size();) parse_one(to_parse[k]);
  };
  std::vector<std::thread> helpers;
  for (std::size_t t = 1; t < threads; ++t) helpers.emplace_back(work);
  work();
  for (auto& h : helpers) h.join();
  if (cache) {
    std::vector<std::pair<std::string, std::string>> fresh;
    for (std::size_t i : to_parse) {
      if (parsed[i].sigma && parsed[i].sigma_file.errors.empty()) {
        fresh.emplace_back(keys[i], encode_sigma_file(parsed[i].sigma_file));
      } else if (parsed[i].rule) {
        fresh.emplace_back(keys[i], encode_rule(*parsed[i].rule));
      }
    }
    cache->store(fresh);  // also refreshes the entries hit (see RuleCache)
  }
  std::vector<SigmaFilter> filters;  // applied once every file is read: a filter names rules of any file
  std::size_t rule_count = 0;
  for (const Parsed& p : parsed) rule_count += p.sigma ? p.sigma_file.rules.size() : p.rule ? 1 : 0;
  out.rules.reserve(out.rules.size() + rule_count);  // rules are large: moved once, not on every regrowth
  for (Parsed& p : parsed) {
    if (p.sigma && !p.diagnostic) {
      ++out.files;
      ++out.sigma_files;
      const std::string& file = files[static_cast<std::size_t>(&p - parsed.data())];
      for (Rule& r : p.sigma_file.rules) out.rules.push_back(std::move(r));
      for (SigmaFilter& f : p.sigma_file.filters) filters.push_back(std::move(f));
      for (Error& e : p.sigma_file.errors) out.diagnostics.push_back({file, std::move(e), p.text});
      for (Error& e : p.sigma_file.skipped) {
        ++out.sigma_skipped;
        out.diagnostics.push_back({file, std::move(e), p.text, /*warning=*/true});
      }
      continue;
    }
    if (p.diagnostic && p.diagnostic->error.code == "rule.test_cases") {
      ++out.test_case_files;
      continue;
    }
    ++out.files;
    if (p.rule) {
      out.rules.push_back(std::move(*p.rule));
    } else {
      out.diagnostics.push_back(std::move(*p.diagnostic));
    }
  }
  out.sigma_filters = filters.size();
  std::vector<std::string> warning_files;
  std::vector<Error> warnings = apply_sigma_filters(out.rules, filters, warning_files);
  for (std::size_t i = 0; i < warnings.size(); ++i) {
    for (std::size_t k = 0; k < files.size(); ++k) {
      if (files[k] != warning_files[i]) continue;
      out.diagnostics.push_back({warning_files[i], std::move(warnings[i]), parsed[k].text, /*warning=*/true});
      break;
    }
  }
  return out;
}

}  // namespace vigil
