// Sigma → EQL: reads a Sigma YAML file with yaml-cpp and writes, per rule,
// the EQL query that means the same (see sigma.h for the decisions). Every
// error names the YAML node it comes from (line and column), so `vigil rules
// check` can put a caret under the offending key, modifier or token.
#include "rules/sigma.h"

#include <fmt/format.h>
#include <re2/re2.h>
#include <toml++/toml.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "core/document.h"
#include "core/hash.h"
#include "core/text.h"
#include "core/value.h"
#include "eql/keywords.h"
#include "ingest/ecs_mapping.h"
#include "rules/eql_text.h"

namespace vigil {

extern const char* const kSigmaLogsourcesTable;  // generated from rules/sigma_logsources.toml

namespace {

// Bounds against hostile files: values after every expansion (anchors that
// repeat a list, windash permutations) and the size of the query made.
constexpr std::size_t kMaxValues = 20000;
constexpr std::size_t kMaxQueryBytes = 8u << 20;
constexpr std::size_t kMaxFileBytes = 4u << 20;

// ---- the log source table ----

struct LogSource {
  std::string provider, channel;
  std::vector<std::int64_t> ids;
  std::vector<std::pair<std::string, std::string>> where;  // EventData field = value
  std::map<std::string, std::string> fields;                // Sigma name → this event's name
};

struct LogSourceTable {
  std::map<std::string, std::vector<LogSource>> categories;
  std::map<std::string, std::vector<std::string>> services;
};

const LogSourceTable& logsource_table() {
  static const LogSourceTable table = [] {
    LogSourceTable t;
    toml::table doc = toml::parse(kSigmaLogsourcesTable);  // compiled in and tested: cannot fail
    if (const toml::array* cats = doc["category"].as_array()) {
      for (const auto& c : *cats) {
        const toml::table& ct = *c.as_table();
        std::vector<LogSource>& sources = t.categories[ct["name"].value_or(std::string())];
        for (const auto& s : *ct["sources"].as_array()) {
          const toml::table& st = *s.as_table();
          LogSource src;
          src.provider = st["provider"].value_or(std::string());
          src.channel = st["channel"].value_or(std::string());
          for (const auto& id : *st["ids"].as_array()) src.ids.push_back(id.value_or(std::int64_t{0}));
          if (const toml::table* w = st["where"].as_table()) {
            for (const auto& [k, v] : *w) src.where.emplace_back(std::string(k.str()), v.value_or(std::string()));
          }
          if (const toml::table* f = st["fields"].as_table()) {
            for (const auto& [k, v] : *f) src.fields[std::string(k.str())] = v.value_or(std::string());
          }
          sources.push_back(std::move(src));
        }
      }
    }
    if (const toml::array* services = doc["service"].as_array()) {
      for (const auto& s : *services) {
        const toml::table& st = *s.as_table();
        std::vector<std::string>& channels = t.services[st["name"].value_or(std::string())];
        for (const auto& ch : *st["channels"].as_array()) channels.push_back(ch.value_or(std::string()));
      }
    }
    return t;
  }();
  return table;
}

// The System part of a Windows event, by its Sigma name.
std::optional<std::string_view> system_field(std::string_view name) {
  static const std::map<std::string_view, std::string_view> fields = {
      {"EventID", "event.code"},
      {"Channel", "winlog.channel"},
      {"Provider_Name", "winlog.provider_name"},
      {"Provider_Guid", "winlog.provider_guid"},
      {"Computer", "winlog.computer_name"},
      {"EventRecordID", "winlog.record_id"},
      {"Keywords", "winlog.keywords"},
      {"Task", "winlog.task"},
      {"Opcode", "winlog.opcode"},
      {"Version", "winlog.version"},
      {"Security_UserID", "winlog.user.identifier"},
      {"Execution_ProcessID", "winlog.process.pid"},
      {"Execution_ThreadID", "winlog.process.thread.id"},
  };
  auto it = fields.find(name);
  if (it == fields.end()) return std::nullopt;
  return it->second;
}

// ATT&CK tactics by the short names Sigma tags use.
struct Tactic {
  std::string_view tag, id, name;
};
constexpr Tactic kTactics[] = {
    {"reconnaissance", "TA0043", "Reconnaissance"},
    {"resource_development", "TA0042", "Resource Development"},
    {"initial_access", "TA0001", "Initial Access"},
    {"execution", "TA0002", "Execution"},
    {"persistence", "TA0003", "Persistence"},
    {"privilege_escalation", "TA0004", "Privilege Escalation"},
    {"defense_evasion", "TA0005", "Defense Evasion"},
    {"credential_access", "TA0006", "Credential Access"},
    {"discovery", "TA0007", "Discovery"},
    {"lateral_movement", "TA0008", "Lateral Movement"},
    {"collection", "TA0009", "Collection"},
    {"command_and_control", "TA0011", "Command and Control"},
    {"exfiltration", "TA0010", "Exfiltration"},
    {"impact", "TA0040", "Impact"},
};

// ---- strings ----

SourcePos pos_of(const YAML::Node& n) {
  const YAML::Mark m = n.Mark();
  if (m.is_null()) return {1, 1, 0};
  return {static_cast<std::uint32_t>(m.line + 1), static_cast<std::uint32_t>(m.column + 1),
          static_cast<std::uint32_t>(m.pos)};
}

Error error_at(const YAML::Node& n, std::string message, std::uint32_t length = 1) {
  return Error{"sigma.rule", std::move(message), pos_of(n), std::max<std::uint32_t>(length, 1)};
}

std::uint32_t scalar_length(const YAML::Node& n) {
  return n.IsScalar() ? static_cast<std::uint32_t>(std::max<std::size_t>(n.Scalar().size(), 1)) : 1;
}

// An EQL field name: plain when every segment is an identifier, else in backquotes.
std::string eql_field(std::string_view name) {
  bool plain = !name.empty();
  bool segment_start = true;
  for (char c : name) {
    if (c == '.') {
      if (segment_start) plain = false;
      segment_start = true;
      continue;
    }
    const bool alpha = std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '@';
    const bool digit = std::isdigit(static_cast<unsigned char>(c));
    if (!(alpha || (digit && !segment_start))) plain = false;
    segment_start = false;
  }
  // A reserved word as a segment (a Sigma field named `Or`, `in`, `Any`) is quoted too.
  if (plain && eql::has_keyword_segment(name)) plain = false;
  if (plain && !segment_start) return std::string(name);
  std::string out = "`";
  for (char c : name) {
    if (c == '`') out.push_back('`');
    out.push_back(c);
  }
  return out + "`";
}

// A Sigma string after its escapes: bytes, each a literal or a wildcard.
struct SigmaString {
  std::string bytes;
  std::vector<char> wild;  // per byte: 0 (literal), '*' or '?'

  void literal(std::string_view s) {
    bytes.append(s);
    wild.insert(wild.end(), s.size(), 0);
  }
  void wildcard(char c) {
    bytes.push_back(c);
    wild.push_back(c);
  }
  void append(const SigmaString& o) {
    bytes += o.bytes;
    wild.insert(wild.end(), o.wild.begin(), o.wild.end());
  }
  bool has_wildcards() const { return std::any_of(wild.begin(), wild.end(), [](char w) { return w != 0; }); }
  bool starts_with_star() const { return !wild.empty() && wild.front() == '*'; }
  bool ends_with_star() const { return !wild.empty() && wild.back() == '*'; }
  // A literal '*' or '?': EQL's patterns cannot say it (no escapes there).
  bool needs_regex() const {
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      if (!wild[i] && (bytes[i] == '*' || bytes[i] == '?')) return true;
    }
    return false;
  }
};

// `\*`, `\?` and `\\` are escapes; any other backslash is itself.
SigmaString parse_sigma_string(std::string_view raw) {
  SigmaString s;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c == '\\' && i + 1 < raw.size() && (raw[i + 1] == '*' || raw[i + 1] == '?' || raw[i + 1] == '\\')) {
      s.literal(std::string_view(&raw[i + 1], 1));
      ++i;
    } else if (c == '*' || c == '?') {
      s.wildcard(c);
    } else {
      s.literal(std::string_view(&c, 1));
    }
  }
  return s;
}

// The three forms `value` takes inside a longer base64 text, by its offset
// modulo 3: encoded after 0, 1 or 2 bytes, without the characters the
// unknown bytes around it also decide.
std::vector<std::string> base64_offsets(std::string_view value) {
  static constexpr std::size_t kStart[] = {0, 2, 3};
  static constexpr std::size_t kCutEnd[] = {0, 3, 2};  // by (length + shift) % 3
  std::vector<std::string> out;
  for (std::size_t shift = 0; shift < 3; ++shift) {
    std::string padded(shift, ' ');
    padded += value;
    std::string enc = base64_encode(padded);
    const std::size_t cut = kCutEnd[(value.size() + shift) % 3];
    const std::size_t end = enc.size() > cut ? enc.size() - cut : 0;
    out.push_back(kStart[shift] < end ? enc.substr(kStart[shift], end - kStart[shift]) : std::string());
  }
  return out;
}

// UTF-8 → code points (an invalid byte stands for itself, as Latin-1).
std::vector<std::uint32_t> code_points(std::string_view s) {
  std::vector<std::uint32_t> out;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) {
      out.push_back(c);
      ++i;
      continue;
    }
    std::uint32_t cp = n == 1 ? c : c & (0x7f >> n);
    bool ok = true;
    for (std::size_t k = 1; k < n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) ok = false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (!ok) {
      out.push_back(c);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += n;
  }
  return out;
}

std::string utf16(std::string_view s, bool big_endian, bool bom) {
  std::string out;
  auto unit = [&](std::uint32_t u) {
    const char lo = static_cast<char>(u & 0xff), hi = static_cast<char>((u >> 8) & 0xff);
    out.push_back(big_endian ? hi : lo);
    out.push_back(big_endian ? lo : hi);
  };
  if (bom) unit(0xfeff);
  for (std::uint32_t cp : code_points(s)) {
    if (cp >= 0x10000) {
      cp -= 0x10000;
      unit(0xd800 + (cp >> 10));
      unit(0xdc00 + (cp & 0x3ff));
    } else {
      unit(cp);
    }
  }
  return out;
}

// ---- values ----

// One value of a field, after its modifiers.
struct Operand {
  enum class Kind { Pattern, Regex, Cidr, Compare, TimePart, Exists, Null, FieldRef } kind = Kind::Pattern;
  std::vector<SigmaString> alternatives;  // Pattern: any of these (expansions of one value)
  std::string text;  // Regex (RE2 syntax), Cidr, Compare and TimePart (number), FieldRef (Sigma field)
  std::string op;    // Compare: > >= < <=; TimePart: == or those
  std::string part;  // TimePart: minute, hour, day, week, month, year
  bool exists = true;                     // Exists
};

// What a field entry's modifiers say besides transforming values.
struct EntryFlags {
  bool all = false, cased = false, neq = false;
};

// Where a Sigma field is found, each kind a way vigil's inputs spell it.
struct Candidate {
  enum class Kind { System, Raw, Flat, UserData, Ecs } kind;
  std::string field;  // EQL field text
};

class Translator {
 public:
  Translator(const SigmaOptions& options, const YAML::Node& detection, std::vector<const LogSource*> sources,
             bool spaced_names)
      : options_(options), detection_(detection), sources_(std::move(sources)), spaced_names_(spaced_names) {}

  Result<std::string> condition(const YAML::Node& node);

 private:
  Result<std::string> search(const std::string& name, const YAML::Node& node);
  Result<std::string> field_map(const YAML::Node& map);
  Result<std::string> field_entry(const YAML::Node& key, const YAML::Node& value);
  Result<std::string> keywords(const YAML::Node& key, const std::vector<std::string>& modifiers,
                               const std::vector<YAML::Node>& values, const YAML::Node& where);
  Result<Operand> operand(const YAML::Node& value, const std::vector<std::string>& modifiers,
                          const YAML::Node& key);
  Result<std::vector<SigmaString>> expand(const YAML::Node& value, std::string_view raw);
  std::vector<Candidate> candidates(std::string_view sigma_field) const;
  std::string predicate(const std::vector<Candidate>& fields, const Operand& o, const EntryFlags& flags) const;
  std::string pattern_predicate(const std::string& field, const std::vector<SigmaString>& alternatives, bool cased) const;
  Result<bool> count(const YAML::Node& where, std::size_t n);

  const SigmaOptions& options_;
  YAML::Node detection_;
  std::vector<const LogSource*> sources_;
  // Channels other than Sysmon, Security and PowerShell: their EventData
  // names may hold spaces ("Threat Name", which Sigma writes ThreatName), and
  // their data may be in <UserData>: both are read too.
  bool spaced_names_ = false;
  std::size_t values_ = 0;
  std::map<std::string, std::string> translated_;  // search identifier → EQL
};

Result<bool> Translator::count(const YAML::Node& where, std::size_t n) {
  values_ += n;
  if (values_ > kMaxValues) {
    return error_at(where, fmt::format("more than {} values after expansion (aliases, windash, placeholders): too "
                                       "large to run",
                                       kMaxValues));
  }
  return true;
}

// Where a Sigma field is read, as plain field names with their kind (see Candidate).
std::vector<std::pair<Candidate::Kind, std::string>> field_candidates(std::string_view name,
                                                                      const std::vector<const LogSource*>& sources,
                                                                      bool spaced_names, SigmaFieldTarget target) {
  using Kind = Candidate::Kind;
  std::vector<std::pair<Kind, std::string>> out;
  if (auto sys = system_field(name)) {
    out.emplace_back(Kind::System, std::string(*sys));
    return out;
  }
  // The names this field has in the log source's events (Security 4688: NewProcessName).
  std::vector<std::string> names = {std::string(name)};
  for (const LogSource* s : sources) {
    auto it = s->fields.find(std::string(name));
    if (it != s->fields.end() && std::find(names.begin(), names.end(), it->second) == names.end()) {
      names.push_back(it->second);
    }
  }
  // The ECS fields Elastic's mapping copies them to unchanged, from the events of the log source.
  std::vector<std::string> ecs;
  for (const EcsMappingEntry& e : ecs_mapping_entries()) {
    bool of_source = false;
    for (const LogSource* s : sources) {
      if (!s->provider.empty() && s->provider == e.provider &&
          std::find(s->ids.begin(), s->ids.end(), e.id) != s->ids.end()) {
        of_source = true;
      }
    }
    if (!of_source) continue;
    for (const auto& [target_field, source] : e.verbatim) {
      if (std::find(names.begin(), names.end(), source) != names.end() &&
          std::find(ecs.begin(), ecs.end(), target_field) == ecs.end()) {
        ecs.push_back(target_field);
      }
    }
  }
  if (target == SigmaFieldTarget::Elastic) {
    if (ecs.size() == 1) {
      out.emplace_back(Kind::Ecs, ecs[0]);
    } else {
      for (const std::string& n : names) out.emplace_back(Kind::Raw, "winlog.event_data." + n);
    }
    return out;
  }
  for (const std::string& n : names) {
    out.emplace_back(Kind::Raw, "winlog.event_data." + n);
    out.emplace_back(Kind::Flat, n);
    if (spaced_names) {
      // Channels other than Sysmon, Security and PowerShell may hold their data in <UserData>.
      out.emplace_back(Kind::UserData, "winlog.user_data." + n);
      // A space where a lower-case letter or digit meets an upper-case one: ThreatName → Threat Name.
      std::string spaced;
      for (std::size_t i = 0; i < n.size(); ++i) {
        if (i > 0 && std::isupper(static_cast<unsigned char>(n[i])) &&
            (std::islower(static_cast<unsigned char>(n[i - 1])) || std::isdigit(static_cast<unsigned char>(n[i - 1])))) {
          spaced.push_back(' ');
        }
        spaced.push_back(n[i]);
      }
      if (spaced != n) out.emplace_back(Kind::Raw, "winlog.event_data." + spaced);
    }
  }
  for (const std::string& e : ecs) out.emplace_back(Kind::Ecs, e);
  return out;
}

std::vector<Candidate> Translator::candidates(std::string_view name) const {
  std::vector<Candidate> out;
  for (auto& [kind, field] : field_candidates(name, sources_, spaced_names_, options_.target)) {
    out.push_back({kind, kind == Candidate::Kind::System ? field : eql_field(field)});
  }
  return out;
}

// A Sigma pattern as an RE2 pattern matching the whole value.
std::string regex_of(const SigmaString& s, bool cased) {
  std::string out = cased ? "(?s)" : "(?si)";
  for (std::size_t i = 0; i < s.bytes.size(); ++i) {
    if (s.wild[i] == '*') {
      out += ".*";
    } else if (s.wild[i] == '?') {
      out += ".";
    } else {
      out += RE2::QuoteMeta(std::string_view(&s.bytes[i], 1));
    }
  }
  return out;
}

std::string Translator::pattern_predicate(const std::string& field, const std::vector<SigmaString>& alternatives,
                                          bool cased) const {
  std::vector<std::string> patterns, regexes;
  for (const SigmaString& s : alternatives) {
    if (s.needs_regex()) {
      regexes.push_back(eql_quote(regex_of(s, cased)));
    } else {
      patterns.push_back(eql_quote(s.bytes));
    }
  }
  std::vector<std::string> parts;
  auto list = [](const std::vector<std::string>& v) {
    if (v.size() == 1) return v[0];
    std::string out = "(";
    for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i];
    return out + ")";
  };
  if (!patterns.empty()) parts.push_back(field + (cased ? " like " : " : ") + list(patterns));
  if (!regexes.empty()) parts.push_back(field + " regex " + list(regexes));
  return eql_join(parts, " or ");
}

std::string Translator::predicate(const std::vector<Candidate>& fields, const Operand& o, const EntryFlags& flags) const {
  std::vector<std::string> parts;
  switch (o.kind) {
    case Operand::Kind::Null:
    case Operand::Kind::Exists: {
      const bool present = o.kind == Operand::Kind::Exists && o.exists;
      for (const Candidate& c : fields) parts.push_back(c.field + (present ? " != null" : " == null"));
      return eql_join(parts, present ? " or " : " and ");
    }
    case Operand::Kind::Pattern: {
      // A whole number also matches a field holding it as a number (ECS
      // ports, flat exports' integers), where a text pattern does not.
      std::vector<std::string> numbers;
      for (const SigmaString& a : o.alternatives) {
        const std::string_view b = a.bytes;
        const std::size_t digits = b.size() - (b.starts_with('-') ? 1 : 0);
        if (!a.has_wildcards() && digits > 0 && digits <= 18 &&
            std::all_of(b.end() - static_cast<std::ptrdiff_t>(digits), b.end(),
                        [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
          numbers.emplace_back(b);
        }
      }
      for (const Candidate& c : fields) {
        parts.push_back(pattern_predicate(c.field, o.alternatives, flags.cased));
        if (numbers.empty() || c.kind == Candidate::Kind::System) continue;
        std::string list;
        for (const std::string& n : numbers) list += (list.empty() ? "" : ", ") + n;
        parts.push_back(c.field + " in (" + list + ")");
      }
      break;
    }
    case Operand::Kind::Regex:
      for (const Candidate& c : fields) parts.push_back(c.field + " regex " + eql_quote(o.text));
      break;
    case Operand::Kind::Cidr:
      for (const Candidate& c : fields) parts.push_back(fmt::format("cidrMatch({}, {})", c.field, eql_quote(o.text)));
      break;
    case Operand::Kind::Compare:
      // EventData values are text ("4444"): compared as the number they spell.
      // Guarded so a missing or non-numeric value is false, never null (null
      // would make `not` of the selection null too, where Sigma says true).
      for (const Candidate& c : fields) {
        parts.push_back(c.kind == Candidate::Kind::Ecs || c.kind == Candidate::Kind::System
                            ? fmt::format("({0} != null and {0} {1} {2})", c.field, o.op, o.text)
                            : fmt::format("(number({0}) != null and number({0}) {1} {2})", c.field, o.op, o.text));
      }
      break;
    case Operand::Kind::TimePart:
      // A calendar part of a date (_timePart); false when the value is no date.
      for (const Candidate& c : fields) {
        parts.push_back(fmt::format("(_timePart({0}, \"{1}\") != null and _timePart({0}, \"{1}\") {2} {3})", c.field,
                                    o.part, o.op, o.text));
      }
      break;
    case Operand::Kind::FieldRef: {
      // Field to field, each way an input spells both.
      const std::vector<Candidate> others = candidates(o.text);
      for (const Candidate& c : fields) {
        for (const Candidate& d : others) {
          if (c.kind != d.kind) continue;
          // Both present, or false (a comparison with a missing field is null in EQL).
          parts.push_back(fmt::format("({0} != null and {1} != null and {0} {2} {1})", c.field, d.field,
                                      flags.cased ? "==" : ":"));
        }
      }
      if (parts.empty()) parts.push_back("false");
      break;
    }
  }
  std::string p = eql_join(parts, " or ");
  return flags.neq ? "not " + (parts.size() == 1 ? "(" + p + ")" : p) : p;
}

// The time modifiers (_timePart's parts).
constexpr std::string_view kTimeParts[] = {"minute", "hour", "day", "week", "month", "year"};

const std::set<std::string_view>& known_modifiers() {
  static const std::set<std::string_view> m = [] {
    std::set<std::string_view> names = {
        "contains", "startswith", "endswith", "all", "base64", "base64offset", "utf16le", "utf16be", "utf16", "wide",
        "windash", "re", "i", "m", "s", "cidr", "exists", "cased", "fieldref", "gt", "gte", "lt", "lte", "neq",
        "expand", "ignorecase", "multiline", "dotall"};
    names.insert(std::begin(kTimeParts), std::end(kTimeParts));
    return names;
  }();
  return m;
}

// %name% placeholders (not escaped as \%) replaced by each of their values.
Result<std::vector<SigmaString>> Translator::expand(const YAML::Node& value, std::string_view raw) {
  std::vector<std::string> texts = {std::string()};
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\\' && i + 1 < raw.size() && raw[i + 1] == '%') {
      for (auto& t : texts) t.push_back('%');
      ++i;
      continue;
    }
    if (raw[i] == '%') {
      const std::size_t end = raw.find('%', i + 1);
      if (end != std::string_view::npos && end > i + 1) {
        const std::string name(raw.substr(i + 1, end - i - 1));
        const std::vector<std::string>* values = nullptr;
        if (options_.placeholders) {
          auto it = options_.placeholders->find(name);
          if (it != options_.placeholders->end()) values = &it->second;
        }
        if (!values) {
          return error_at(value, fmt::format("placeholder %{}% has no values: give them in a file with "
                                             "--sigma-placeholders (YAML: {}: [value, ...])",
                                             name, name),
                          scalar_length(value));
        }
        std::vector<std::string> next;
        for (const auto& t : texts) {
          for (const auto& v : *values) next.push_back(t + v);
        }
        if (auto c = count(value, next.size()); !c) return c.error();
        texts = std::move(next);
        i = end;
        continue;
      }
    }
    for (auto& t : texts) t.push_back(raw[i]);
  }
  std::vector<SigmaString> out;
  for (const auto& t : texts) out.push_back(parse_sigma_string(t));
  return out;
}

Result<Operand> Translator::operand(const YAML::Node& value, const std::vector<std::string>& modifiers,
                                    const YAML::Node& key) {
  Operand o;
  auto has = [&](std::string_view m) { return std::find(modifiers.begin(), modifiers.end(), m) != modifiers.end(); };
  if (value.IsNull() || (value.IsScalar() && value.Tag() == "tag:yaml.org,2002:null")) {
    if (has("exists")) return error_at(value, "exists takes true or false, not null");
    o.kind = Operand::Kind::Null;
    return o;
  }
  if (!value.IsScalar()) return error_at(value, "a field's value must be a string, a number, a boolean or null");
  const std::string& raw = value.Scalar();
  if (has("exists")) {
    if (raw != "true" && raw != "false" && raw != "True" && raw != "False") {
      return error_at(value, "exists takes true or false", scalar_length(value));
    }
    o.kind = Operand::Kind::Exists;
    o.exists = raw == "true" || raw == "True";
    return o;
  }
  if (has("re")) {
    o.kind = Operand::Kind::Regex;
    std::string flags_text;
    if (has("i") || has("ignorecase")) flags_text += 'i';
    if (has("m") || has("multiline")) flags_text += 'm';
    if (has("s") || has("dotall")) flags_text += 's';
    // Sigma's regexes search (anywhere in the value); EQL's regex matches the
    // whole value, so the pattern goes between two `.*`.
    const std::string inner = flags_text.empty() ? raw : "(?" + flags_text + ")" + raw;
    RE2::Options ro;
    ro.set_log_errors(false);
    RE2 check("(?:" + inner + ")", ro);
    if (!check.ok()) {
      return error_at(value, "invalid regular expression: " + check.error() + " (patterns run on RE2: no lookaround, "
                             "no backreferences)", scalar_length(value));
    }
    o.text = "(?s:.*)(?:" + inner + ")(?s:.*)";
    return o;
  }
  if (has("cidr")) {
    o.kind = Operand::Kind::Cidr;
    o.text = raw;
    if (!parse_cidr(raw)) {  // what cidrMatch() accepts
      return error_at(value, "cidr takes an IP network (10.0.0.0/8, fe80::/10) or address", scalar_length(value));
    }
    return o;
  }
  if (has("fieldref")) {
    o.kind = Operand::Kind::FieldRef;
    o.text = raw;
    return o;
  }
  // Time modifiers: a calendar part of a date, compared with a whole number
  // (equal, or by gt/gte/lt/lte given with it).
  std::vector<std::string_view> time_parts;
  for (std::string_view part : kTimeParts) {
    if (has(part)) time_parts.push_back(part);
  }
  if (time_parts.size() > 1) {
    return error_at(key, "one time modifier per field (minute, hour, day, week, month or year)", scalar_length(key));
  }
  if (!time_parts.empty()) {
    const std::string_view part = time_parts[0];
    if (options_.target == SigmaFieldTarget::Elastic) {
      return error_at(key, fmt::format("the {} modifier has no equivalent in Elastic's EQL: not converted", part),
                      scalar_length(key));
    }
    const bool digits = !raw.empty() && raw.size() <= 6 &&
                        std::all_of(raw.begin(), raw.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
    if (!digits) return error_at(value, fmt::format("{} takes a whole number", part), scalar_length(value));
    o.kind = Operand::Kind::TimePart;
    o.part = part;
    o.text = raw;
    o.op = has("gt") ? ">" : has("gte") ? ">=" : has("lt") ? "<" : has("lte") ? "<=" : "==";
    return o;
  }
  for (std::string_view cmp : {"gt", "gte", "lt", "lte"}) {
    if (!has(cmp)) continue;
    // A decimal number as EQL writes it: -?digits(.digits)?
    std::size_t i = raw.starts_with('-') ? 1 : 0;
    const std::size_t int_start = i;
    while (i < raw.size() && std::isdigit(static_cast<unsigned char>(raw[i]))) ++i;
    bool ok = i > int_start;
    if (ok && i < raw.size() && raw[i] == '.') {
      const std::size_t frac = ++i;
      while (i < raw.size() && std::isdigit(static_cast<unsigned char>(raw[i]))) ++i;
      ok = i > frac;
    }
    if (!ok || i != raw.size() || raw.size() > 40) {
      return error_at(value, fmt::format("{} takes a number (digits, a sign, a decimal point)", cmp), scalar_length(value));
    }
    o.kind = Operand::Kind::Compare;
    o.op = cmp == "gt" ? ">" : cmp == "gte" ? ">=" : cmp == "lt" ? "<" : "<=";
    o.text = raw;
    return o;
  }
  // A string (numbers and booleans match as the text the event holds).
  if (has("expand")) {
    auto expanded = expand(value, raw);
    if (!expanded) return expanded.error();
    o.alternatives = std::move(*expanded);
  } else {
    o.alternatives = {parse_sigma_string(raw)};
  }
  for (const std::string& m : modifiers) {
    std::vector<SigmaString> next;
    auto plain = [&](const SigmaString& s) -> Result<bool> {
      if (s.has_wildcards()) {
        return error_at(key, fmt::format("{} cannot encode a wildcard: put contains/startswith/endswith after it", m),
                        scalar_length(key));
      }
      return true;
    };
    if (m == "contains" || m == "startswith" || m == "endswith") {
      for (SigmaString s : o.alternatives) {
        SigmaString w;
        if (m != "startswith" && !s.starts_with_star()) w.wildcard('*');
        w.append(s);
        if (m != "endswith" && !s.ends_with_star()) w.wildcard('*');
        next.push_back(std::move(w));
      }
    } else if (m == "base64" || m == "base64offset") {
      for (const SigmaString& s : o.alternatives) {
        if (auto p = plain(s); !p) return p.error();
        if (m == "base64") {
          SigmaString e;
          e.literal(base64_encode(s.bytes));
          next.push_back(std::move(e));
        } else {
          for (const std::string& v : base64_offsets(s.bytes)) {
            SigmaString e;
            e.literal(v);
            next.push_back(std::move(e));
          }
        }
      }
    } else if (m == "utf16le" || m == "wide" || m == "utf16be" || m == "utf16") {
      for (const SigmaString& s : o.alternatives) {
        if (auto p = plain(s); !p) return p.error();
        SigmaString e;
        e.literal(utf16(s.bytes, m == "utf16be", m == "utf16"));
        next.push_back(std::move(e));
      }
    } else if (m == "windash") {
      // Every dash of the value in each of its five spellings.
      static const std::string_view kDashes[] = {"-", "/", "\xE2\x80\x93", "\xE2\x80\x94", "\xE2\x80\x95"};
      for (const SigmaString& s : o.alternatives) {
        std::vector<SigmaString> forms(1);
        for (std::size_t i = 0; i < s.bytes.size(); ++i) {
          std::size_t dash_len = 0;
          if (!s.wild[i]) {
            for (std::string_view d : kDashes) {
              if (std::string_view(s.bytes).substr(i, d.size()) == d) dash_len = d.size();
            }
          }
          if (dash_len == 0) {
            for (auto& f : forms) {
              if (s.wild[i]) {
                f.wildcard(s.wild[i]);
              } else {
                f.literal(std::string_view(&s.bytes[i], 1));
              }
            }
            continue;
          }
          if (auto c = count(value, forms.size() * 4); !c) return c.error();
          std::vector<SigmaString> grown;
          for (const auto& f : forms) {
            for (std::string_view d : kDashes) {
              SigmaString g = f;
              g.literal(d);
              grown.push_back(std::move(g));
            }
          }
          forms = std::move(grown);
          i += dash_len - 1;
        }
        for (auto& f : forms) next.push_back(std::move(f));
      }
    } else {
      continue;  // not a transformation
    }
    o.alternatives = std::move(next);
  }
  if (auto c = count(value, o.alternatives.size()); !c) return c.error();
  return o;
}

Result<std::string> Translator::field_entry(const YAML::Node& key, const YAML::Node& value) {
  const std::string& text = key.Scalar();
  std::vector<std::string> parts;
  for (std::size_t start = 0;;) {
    const std::size_t bar = text.find('|', start);
    parts.push_back(text.substr(start, bar == std::string::npos ? std::string::npos : bar - start));
    if (bar == std::string::npos) break;
    start = bar + 1;
  }
  const std::string field = parts[0];
  std::vector<std::string> modifiers(parts.begin() + 1, parts.end());
  EntryFlags flags;
  std::size_t at = field.size() + 1;  // the column of each modifier within the key, for the caret
  for (const std::string& m : modifiers) {
    if (!known_modifiers().count(m)) {
      Error e = error_at(key, fmt::format("unknown modifier '{}'", m), static_cast<std::uint32_t>(std::max<std::size_t>(m.size(), 1)));
      e.pos.column += static_cast<std::uint32_t>(at);
      e.pos.offset += static_cast<std::uint32_t>(at);
      return e;
    }
    if ((m == "i" || m == "m" || m == "s") && std::find(modifiers.begin(), modifiers.end(), "re") == modifiers.end()) {
      Error e = error_at(key, fmt::format("modifier '{}' is a flag of 're' and needs it", m));
      e.pos.column += static_cast<std::uint32_t>(at);
      e.pos.offset += static_cast<std::uint32_t>(at);
      return e;
    }
    at += m.size() + 1;
    if (m == "all") flags.all = true;
    if (m == "cased") flags.cased = true;
    if (m == "neq") flags.neq = true;
  }
  std::vector<YAML::Node> values;
  if (value.IsSequence()) {
    for (const auto& v : value) values.push_back(v);
    if (values.empty()) return error_at(value, "an empty list of values matches nothing; remove the field or give values");
  } else {
    values.push_back(value);
  }
  if (auto c = count(key, values.size()); !c) return c.error();
  if (field.empty()) return keywords(key, modifiers, values, key);
  if (flags.all && values.size() == 1 && value.IsScalar()) {
    // Allowed by most tools, discouraged by the specification: the same as without.
    flags.all = false;
  }
  const std::vector<Candidate> fields = candidates(field);
  std::vector<std::string> parts_out;
  std::vector<SigmaString> any_of;  // plain patterns OR'ed into one list
  for (const YAML::Node& v : values) {
    auto o = operand(v, modifiers, key);
    if (!o) return o.error();
    if (o->kind == Operand::Kind::Null && values.size() > 1) {
      return error_at(v, "null cannot be one of several values: put `field: null` in a selection of its own");
    }
    if (o->kind == Operand::Kind::Pattern && !flags.all && !flags.neq) {
      any_of.insert(any_of.end(), o->alternatives.begin(), o->alternatives.end());
      continue;
    }
    parts_out.push_back(predicate(fields, *o, flags));
  }
  if (!any_of.empty()) {
    Operand o;
    o.alternatives = std::move(any_of);
    parts_out.insert(parts_out.begin(), predicate(fields, o, flags));
  }
  // neq: the value differs from every one given.
  return eql_join(parts_out, flags.all || flags.neq ? " and " : " or ");
}

// Keywords: values searched in every text value the event has, whatever
// its field (vigil's _keywords(), which walks the decoded event or its JSON),
// each found anywhere in a value, case-insensitively.
Result<std::string> Translator::keywords(const YAML::Node& key, const std::vector<std::string>& modifiers,
                                         const std::vector<YAML::Node>& values, const YAML::Node& where) {
  EntryFlags flags;
  for (const std::string& m : modifiers) {
    if (m == "all") {
      flags.all = true;
    } else if (m != "contains" && m != "startswith" && m != "endswith" && m != "base64" && m != "base64offset" &&
               m != "utf16le" && m != "utf16be" && m != "utf16" && m != "wide" && m != "windash" && m != "expand") {
      return error_at(where, fmt::format("modifier '{}' cannot apply to a keyword search (values without a field)", m));
    }
  }
  std::vector<std::string> groups;  // one _keywords() per value with `all`, else one for all
  std::vector<std::string> patterns;
  for (const YAML::Node& v : values) {
    auto o = operand(v, modifiers, key);
    if (!o) return o.error();
    if (o->kind != Operand::Kind::Pattern) return error_at(v, "a keyword is a string to search for");
    std::vector<std::string> mine;
    for (SigmaString s : o->alternatives) {
      if (s.needs_regex()) return error_at(v, "a keyword cannot hold an escaped * or ?", scalar_length(v));
      SigmaString w;
      if (!s.starts_with_star()) w.wildcard('*');
      w.append(s);
      if (!s.ends_with_star()) w.wildcard('*');
      mine.push_back(eql_quote(w.bytes));
    }
    if (flags.all) {
      std::string call = "_keywords(";
      for (std::size_t i = 0; i < mine.size(); ++i) call += (i ? ", " : "") + mine[i];
      groups.push_back(call + ")");
    } else {
      patterns.insert(patterns.end(), mine.begin(), mine.end());
    }
  }
  if (!patterns.empty()) {
    std::string call = "_keywords(";
    for (std::size_t i = 0; i < patterns.size(); ++i) call += (i ? ", " : "") + patterns[i];
    groups.push_back(call + ")");
  }
  return eql_join(groups, " and ");
}

Result<std::string> Translator::field_map(const YAML::Node& map) {
  std::vector<std::string> parts;
  for (const auto& kv : map) {
    if (!kv.first.IsScalar()) return error_at(kv.first, "a field name must be a string");
    auto p = field_entry(kv.first, kv.second);
    if (!p) return p.error();
    parts.push_back(*p);
  }
  if (parts.empty()) return error_at(map, "an empty selection matches nothing");
  return eql_join(parts, " and ");
}

Result<std::string> Translator::search(const std::string& name, const YAML::Node& node) {
  auto known = translated_.find(name);
  if (known != translated_.end()) return known->second;
  Result<std::string> out = std::string();
  if (node.IsMap()) {
    out = field_map(node);
  } else if (node.IsSequence()) {
    std::vector<std::string> alternatives;
    std::vector<YAML::Node> words;
    for (const auto& item : node) {
      if (item.IsMap()) {
        auto p = field_map(item);
        if (!p) return p.error();
        alternatives.push_back(*p);
      } else if (item.IsScalar()) {
        words.push_back(item);
      } else {
        return error_at(item, "a list in a detection holds maps (field: value) or keywords");
      }
    }
    if (!words.empty()) {
      auto k = keywords(node, {}, words, words.front());
      if (!k) return k.error();
      alternatives.push_back(*k);
    }
    if (alternatives.empty()) return error_at(node, "an empty selection matches nothing");
    out = eql_join(alternatives, " or ");
  } else if (node.IsScalar()) {
    out = keywords(node, {}, {node}, node);
  } else {
    return error_at(node, fmt::format("'{}' holds nothing to search for", name));
  }
  if (out) translated_[name] = *out;
  return out;
}

// The condition: or < and < not < `x of` < parentheses.
class ConditionParser {
 public:
  ConditionParser(const YAML::Node& node, std::string_view text, std::function<Result<std::string>(const std::string&)> ident,
                  std::vector<std::string> names)
      : node_(node), text_(text), ident_(std::move(ident)), names_(std::move(names)) {}

  Result<std::string> parse() {
    next();
    auto e = expr_or();
    if (!e) return e;
    if (tok_ == "|") {
      return fail("aggregations after '|' (count() by ...) are Sigma 1 syntax, retired: write a correlation rule "
                  "(event_count, value_count) instead");
    }
    if (!tok_.empty()) return fail("unexpected '" + tok_ + "'");
    return e;
  }

 private:
  Error fail(const std::string& message) {
    Error e = error_at(node_, message, static_cast<std::uint32_t>(std::max<std::size_t>(tok_.size(), 1)));
    // A plain or quoted one-line scalar: the token's column is the node's plus its offset.
    const YAML::Mark m = node_.Mark();
    if (!m.is_null() && text_.find('\n') == std::string_view::npos) {
      const std::uint32_t quote = node_.Tag() == "!" ? 1 : 0;
      e.pos.column += static_cast<std::uint32_t>(tok_at_) + quote;
      e.pos.offset += static_cast<std::uint32_t>(tok_at_) + quote;
    }
    return e;
  }
  void next() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    tok_at_ = pos_;
    if (pos_ >= text_.size()) {
      tok_.clear();
      return;
    }
    const char c = text_[pos_];
    if (c == '(' || c == ')' || c == '|') {
      tok_ = std::string(1, c);
      ++pos_;
      return;
    }
    std::size_t end = pos_;
    while (end < text_.size() && !std::isspace(static_cast<unsigned char>(text_[end])) && text_[end] != '(' &&
           text_[end] != ')' && text_[end] != '|') {
      ++end;
    }
    tok_ = std::string(text_.substr(pos_, end - pos_));
    pos_ = end;
  }
  static std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }
  // Operands joined by `word` (or, and), each parsed by `operand`.
  Result<std::string> chain(std::string_view word, Result<std::string> (ConditionParser::*operand)()) {
    auto left = (this->*operand)();
    if (!left) return left;
    std::vector<std::string> parts = {*left};
    while (lower(tok_) == word) {
      next();
      auto right = (this->*operand)();
      if (!right) return right;
      parts.push_back(*right);
    }
    return eql_join(parts, fmt::format(" {} ", word));
  }
  Result<std::string> expr_or() { return chain("or", &ConditionParser::expr_and); }
  Result<std::string> expr_and() { return chain("and", &ConditionParser::expr_not); }
  Result<std::string> expr_not() {
    if (lower(tok_) == "not") {
      next();
      auto inner = expr_not();
      if (!inner) return inner;
      return "not " + wrap(*inner);
    }
    return primary();
  }
  static std::string wrap(const std::string& s) {
    if (s.size() >= 2 && s.front() == '(' && s.back() == ')') return s;
    return "(" + s + ")";
  }
  static bool matches_pattern(std::string_view pattern, std::string_view name) {
    // `*` only, any number of characters.
    std::size_t p = 0, n = 0, star = std::string_view::npos, mark = 0;
    while (n < name.size()) {
      if (p < pattern.size() && pattern[p] == '*') {
        star = p++;
        mark = n;
      } else if (p < pattern.size() && pattern[p] == name[n]) {
        ++p;
        ++n;
      } else if (star != std::string_view::npos) {
        p = star + 1;
        n = ++mark;
      } else {
        return false;
      }
    }
    while (p < pattern.size() && pattern[p] == '*') ++p;
    return p == pattern.size();
  }
  Result<std::string> primary() {
    if (tok_.empty()) return fail("the condition ends where a search identifier was expected");
    if (tok_ == "(") {
      next();
      auto inner = expr_or();
      if (!inner) return inner;
      if (tok_ != ")") return fail("expected ')'");
      next();
      return wrap(*inner);
    }
    if (tok_ == "|") {
      return fail("aggregations after '|' (count() by ...) are Sigma 1 syntax, retired: write a correlation rule "
                  "(event_count, value_count) instead");
    }
    if (tok_ == ")") return fail("unexpected ')'");
    const std::string word = lower(tok_);
    if (word == "and" || word == "or") return fail("'" + tok_ + "' needs a search identifier before it");
    if (word == "1" || word == "all" || word == "any") {
      const bool all = word == "all";
      next();
      if (lower(tok_) != "of") return fail("expected 'of' after '" + word + "'");
      next();
      if (tok_.empty() || tok_ == "(" || tok_ == ")") return fail("expected a search identifier pattern or 'them' after 'of'");
      const bool them = lower(tok_) == "them";
      std::vector<std::string> parts;
      for (const std::string& n : names_) {
        if (them ? !n.starts_with("_") : matches_pattern(tok_, n)) {
          auto e = ident_(n);
          if (!e) return e;
          parts.push_back(wrap(*e));
        }
      }
      if (parts.empty()) return fail(them ? "there are no search identifiers" : "no search identifier matches '" + tok_ + "'");
      next();
      return eql_join(parts, all ? " and " : " or ");
    }
    if (std::isdigit(static_cast<unsigned char>(word[0]))) {
      return fail("only '1 of' and 'all of' are Sigma: '" + tok_ + " of' is not");
    }
    if (std::find(names_.begin(), names_.end(), tok_) == names_.end()) {
      return fail("no search identifier '" + tok_ + "' in the detection");
    }
    auto e = ident_(tok_);
    if (!e) return e;
    next();
    return wrap(*e);
  }

  YAML::Node node_;
  std::string_view text_;
  std::function<Result<std::string>(const std::string&)> ident_;
  std::vector<std::string> names_;
  std::size_t pos_ = 0, tok_at_ = 0;
  std::string tok_;
};

Result<std::string> Translator::condition(const YAML::Node& node) {
  std::vector<std::string> names;
  for (const auto& kv : detection_) {
    const std::string k = kv.first.Scalar();
    if (k != "condition" && k != "timeframe") names.push_back(k);
  }
  auto ident = [&](const std::string& name) { return search(name, detection_[name]); };
  std::vector<std::string> alternatives;
  std::vector<YAML::Node> conditions;
  if (node.IsSequence()) {
    for (const auto& c : node) conditions.push_back(c);
  } else {
    conditions.push_back(node);
  }
  if (conditions.empty()) return error_at(node, "the condition is empty");
  for (const YAML::Node& c : conditions) {
    if (!c.IsScalar()) return error_at(c, "a condition is a string such as `selection and not filter`");
    ConditionParser parser(c, c.Scalar(), ident, names);
    auto e = parser.parse();
    if (!e) return e;
    alternatives.push_back(*e);
  }
  return eql_join(alternatives, " or ");
}

std::vector<std::string> string_list(const YAML::Node& n) {
  std::vector<std::string> out;
  if (!n.IsDefined()) return out;  // a missing key (Type() would throw)
  if (n.IsSequence()) {
    for (const auto& v : n) {
      if (v.IsScalar()) out.push_back(v.Scalar());
    }
  } else if (n.IsScalar()) {
    out.push_back(n.Scalar());
  }
  return out;
}

std::string scalar_or(const YAML::Node& n, std::string fallback = {}) {
  return n.IsDefined() && n.IsScalar() ? n.Scalar() : std::move(fallback);
}

// The log source as an EQL condition, or why vigil has none for it.
struct SourceSelection {
  std::string condition;
  std::vector<const LogSource*> sources;
  bool spaced_names = true;  // see Translator::spaced_names_
};

// Sysmon, Security and PowerShell name their EventData without spaces.
bool names_without_spaces(std::string_view provider_or_channel) {
  return provider_or_channel == "Microsoft-Windows-Sysmon" || provider_or_channel == "Security" ||
         provider_or_channel == "Microsoft-Windows-Sysmon/Operational" ||
         provider_or_channel.starts_with("Microsoft-Windows-PowerShell") || provider_or_channel.starts_with("PowerShellCore") ||
         provider_or_channel == "Windows PowerShell";
}

Result<SourceSelection> select_source(const YAML::Node& logsource, bool& skip) {
  skip = false;
  if (!logsource || !logsource.IsMap()) return error_at(logsource, "logsource must be a map (product, category, service)");
  const std::string product = scalar_or(logsource["product"]);
  const std::string category = scalar_or(logsource["category"]);
  const std::string service = scalar_or(logsource["service"]);
  const LogSourceTable& table = logsource_table();
  if (!product.empty() && product != "windows") {
    skip = true;
    return error_at(logsource, fmt::format("log source product '{}': vigil reads Windows events only", product));
  }
  SourceSelection out;
  if (!category.empty()) {
    auto it = table.categories.find(category);
    if (it == table.categories.end()) {
      skip = true;
      return error_at(logsource["category"],
                      fmt::format("no mapping for log source category '{}' (docs/sigma.md lists the mapped ones)", category),
                      scalar_length(logsource["category"]));
    }
    std::vector<std::string> branches;
    std::set<std::int64_t> all_ids;
    bool every_has_ids = true;
    for (const LogSource& s : it->second) {
      out.sources.push_back(&s);
      if (names_without_spaces(s.provider.empty() ? s.channel : s.provider)) out.spaced_names = false;
      std::vector<std::string> c;
      if (!s.provider.empty()) c.push_back("winlog.provider_name : " + eql_quote(s.provider));
      if (!s.channel.empty()) c.push_back("winlog.channel : " + eql_quote(s.channel));
      if (!s.ids.empty()) {
        std::string ids;
        for (std::int64_t id : s.ids) {
          ids += (ids.empty() ? "" : ", ") + eql_quote(std::to_string(id));
          all_ids.insert(id);
        }
        c.push_back("event.code in (" + ids + ")");
      } else {
        every_has_ids = false;
      }
      for (const auto& [f, v] : s.where) {
        c.push_back("(" + eql_field("winlog.event_data." + f) + " : " + eql_quote(v) + " or " + eql_field(f) + " : " +
                    eql_quote(v) + ")");
      }
      branches.push_back(eql_join(c, " and "));
    }
    std::string cond = eql_join(branches, " or ");
    if (every_has_ids && branches.size() > 1) {
      // The event IDs of every branch, up front: the rule index files the rule by them.
      std::string ids;
      for (std::int64_t id : all_ids) ids += (ids.empty() ? "" : ", ") + eql_quote(std::to_string(id));
      cond = "event.code in (" + ids + ") and " + cond;
    }
    out.condition = cond;
    return out;
  }
  if (!service.empty()) {
    auto it = table.services.find(service);
    if (it == table.services.end()) {
      skip = true;
      return error_at(logsource["service"],
                      fmt::format("no mapping for log source service '{}' (docs/sigma.md lists the mapped ones)", service),
                      scalar_length(logsource["service"]));
    }
    std::string channels;
    for (const std::string& c : it->second) {
      channels += (channels.empty() ? "" : ", ") + eql_quote(c);
      if (names_without_spaces(c)) out.spaced_names = false;
    }
    out.condition = it->second.size() == 1 ? "winlog.channel : " + channels : "winlog.channel : (" + channels + ")";
    return out;
  }
  if (product == "windows") {
    out.condition = "winlog.channel != null";  // any Windows event
    return out;
  }
  skip = true;
  return error_at(logsource, "the log source names no product, category or service vigil knows");
}

void add_threat(Rule& rule, const std::vector<std::string>& tags) {
  std::vector<const Tactic*> tactics;
  std::vector<std::string> techniques;  // T1234 or T1234.001
  for (const std::string& t : tags) {
    if (!t.starts_with("attack.")) continue;
    std::string rest = t.substr(7);
    for (const Tactic& tactic : kTactics) {
      std::string dashed(tactic.tag);
      std::replace(dashed.begin(), dashed.end(), '_', '-');
      if (rest == tactic.tag || rest == dashed) tactics.push_back(&tactic);
    }
    if (rest.size() >= 5 && (rest[0] == 't' || rest[0] == 'T') && std::isdigit(static_cast<unsigned char>(rest[1]))) {
      for (char& c : rest) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      techniques.push_back(rest);
    }
  }
  for (const Tactic* tactic : tactics) {
    Threat th;
    th.tactic = {std::string(tactic->id), std::string(tactic->name),
                 fmt::format("https://attack.mitre.org/tactics/{}/", tactic->id)};
    for (const std::string& t : techniques) {
      const std::size_t dot = t.find('.');
      const std::string parent = t.substr(0, dot);
      auto it = std::find_if(th.techniques.begin(), th.techniques.end(),
                             [&](const ThreatTechnique& x) { return x.technique.id == parent; });
      if (it == th.techniques.end()) {
        th.techniques.push_back({{parent, "", fmt::format("https://attack.mitre.org/techniques/{}/", parent)}, {}});
        it = th.techniques.end() - 1;
      }
      if (dot != std::string::npos) {
        it->subtechniques.push_back({t, "", fmt::format("https://attack.mitre.org/techniques/{}/{}/", parent, t.substr(dot + 1))});
      }
    }
    rule.threat.push_back(std::move(th));
  }
}

// sigma_key() reads it back.
void keep_sigma_key(Rule& rule, const std::string& key, const std::string& value) {
  if (value.empty()) return;
  std::string json;
  append_json_string(json, value);
  rule.extra["sigma." + key] = json;
}

// The title, id, description, level, tags (ATT&CK threat), ... a detection
// or correlation rule carries; returns the level.
std::string fill_metadata(Rule& rule, const YAML::Node& doc, std::string_view text) {
  rule.name = doc["title"].Scalar();
  const std::string id = scalar_or(doc["id"]);
  rule.rule_id = id.empty() ? fmt::format("sigma-{:016x}", fast_hash(text, 0x5a5a5a5a)) : id;
  rule.description = scalar_or(doc["description"]);
  rule.references = string_list(doc["references"]);
  rule.false_positives = string_list(doc["falsepositives"]);
  rule.license = scalar_or(doc["license"], "DRL-1.1");
  for (std::string a : string_list(doc["author"])) {
    for (std::size_t start = 0;;) {
      const std::size_t comma = a.find(',', start);
      std::string one = a.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      one.erase(0, one.find_first_not_of(' '));
      one.erase(one.find_last_not_of(' ') + 1);
      if (!one.empty()) rule.author.push_back(one);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  rule.tags = string_list(doc["tags"]);
  add_threat(rule, rule.tags);
  const std::string level = scalar_or(doc["level"], "medium");
  if (level == "critical") {
    rule.severity = "critical", rule.risk_score = 99;
  } else if (level == "high") {
    rule.severity = "high", rule.risk_score = 73;
  } else if (level == "medium") {
    rule.severity = "medium", rule.risk_score = 47;
  } else if (level == "low") {
    rule.severity = "low", rule.risk_score = 21;
  } else {
    rule.severity = "low", rule.risk_score = 1;  // informational
  }
  // What Sigma says that Elastic's rule has no key for: kept as JSON under
  // sigma.* (alerts carry it as kibana.alert.rule.parameters.sigma).
  keep_sigma_key(rule, "level", level);
  for (const char* k : {"status", "date", "modified", "name"}) keep_sigma_key(rule, k, scalar_or(doc[k]));
  return level;
}

// A Rule from a Sigma document: where it is, what it is, its metadata.
Rule sigma_rule(const YAML::Node& doc, const std::string& file, std::string_view text, SourcePos pos, const char* type,
                const char* language) {
  Rule rule;
  rule.file = file;
  rule.query_pos = pos;
  rule.type = type;
  rule.language = language;
  rule.format = "sigma";
  rule.scheduled = false;  // each detection is an alert (see rules/rule.h)
  fill_metadata(rule, doc, text);
  return rule;
}

// One detection rule document → a Rule (or the reason it is none).
Result<Rule> translate_rule(const YAML::Node& doc, const std::string& file, std::string_view text,
                            const SigmaOptions& options, bool& skip) {
  skip = false;
  const YAML::Node title = doc["title"];
  if (!title || !title.IsScalar()) return error_at(doc, "a Sigma rule needs a title");
  const YAML::Node detection = doc["detection"];
  if (!detection || !detection.IsMap()) return error_at(doc, "a Sigma rule needs a detection map");
  const YAML::Node condition = detection["condition"];
  if (!condition) return error_at(detection, "the detection has no condition");
  const std::string status = scalar_or(doc["status"]);
  if (status == "deprecated" || status == "unsupported") {
    skip = true;
    return error_at(doc["status"], fmt::format("status: {} (SigmaHQ retired it or its tools cannot run it)", status),
                    scalar_length(doc["status"]));
  }
  auto source = select_source(doc["logsource"], skip);
  if (!source) return source.error();
  Translator translator(options, detection, source->sources, source->spaced_names);
  auto det = translator.condition(condition);
  if (!det) return det.error();

  Rule rule = sigma_rule(doc, file, text, pos_of(condition), "eql", "eql");
  rule.query = "any where " + source->condition + " and " + (det->front() == '(' ? *det : "(" + *det + ")");
  if (rule.query.size() > kMaxQueryBytes) return error_at(detection, "the rule's query is too large to run");
  for (const char* k : {"product", "category", "service"}) {
    keep_sigma_key(rule, fmt::format("logsource.{}", k), scalar_or(doc["logsource"][k]));
  }
  return rule;
}


// The rules a filter or correlation names (`rules:` one id or name, or a
// list of them), each with its position; an error at an item that is no name.
std::optional<Error> take_rule_names(const YAML::Node& node, const char* what, std::vector<std::string>& names,
                                     std::vector<SourcePos>& positions) {
  if (node.IsScalar()) {
    names.push_back(node.Scalar());
    positions.push_back(pos_of(node));
  } else if (node.IsSequence()) {
    for (const YAML::Node& r : node) {
      if (!r.IsScalar() || r.Scalar().empty()) return error_at(r, fmt::format("{} is named by its id or name", what));
      names.push_back(r.Scalar());
      positions.push_back(pos_of(r));
    }
  }
  return std::nullopt;
}

// A filter document → a SigmaFilter (or the reason it is none).
Result<SigmaFilter> translate_filter(const YAML::Node& doc, const std::string& file, const SigmaOptions& options,
                                     bool& skip) {
  skip = false;
  const YAML::Node title = doc["title"];
  if (!title || !title.IsScalar()) return error_at(doc, "a Sigma filter needs a title");
  const YAML::Node f = doc["filter"];
  if (!f.IsMap()) return error_at(f, "filter must be a map (rules, selections, condition)");
  SigmaFilter out;
  out.title = title.Scalar();
  out.id = scalar_or(doc["id"]);
  out.file = file;
  out.pos = pos_of(f);
  const YAML::Node rules = f["rules"];
  if (!rules.IsDefined()) {
    return error_at(f, "a filter names the rules it applies to (rules: [id or name, ...], or rules: any)");
  }
  if (rules.IsScalar()) {
    std::string r = rules.Scalar();
    std::transform(r.begin(), r.end(), r.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (r == "any" || r == "all") {
      out.any = true;
    } else if (auto e = take_rule_names(rules, "a filtered rule", out.rules, out.rule_pos)) {
      return *e;
    }
  } else if (rules.IsSequence()) {
    if (auto e = take_rule_names(rules, "a filtered rule", out.rules, out.rule_pos)) return *e;
    out.any = out.rules.empty();  // an empty list: every rule of the log source
  } else if (!rules.IsNull()) {
    return error_at(rules, "rules is a list of rule ids or names, or any");
  } else {
    out.any = true;
  }
  const YAML::Node condition = f["condition"];
  if (!condition.IsDefined() || !condition.IsScalar()) {
    return error_at(condition.IsDefined() ? condition : f, "a filter has one condition (a string)");
  }
  const YAML::Node logsource = doc["logsource"];
  if (!logsource.IsDefined()) return error_at(doc, "a Sigma filter needs a log source");
  auto source = select_source(logsource, skip);
  if (!source) return source.error();
  out.product = scalar_or(logsource["product"]);
  out.category = scalar_or(logsource["category"]);
  out.service = scalar_or(logsource["service"]);
  // The selections: the filter map but for `rules` (a condition's "them").
  YAML::Node detection(YAML::NodeType::Map);
  for (const auto& kv : f) {
    if (kv.first.IsScalar() && kv.first.Scalar() == "rules") continue;
    detection[kv.first] = kv.second;
  }
  Translator translator(options, detection, source->sources, source->spaced_names);
  auto cond = translator.condition(condition);
  if (!cond) return cond.error();
  out.condition = *cond;
  return out;
}

// A correlation document (Sigma correlation specification 2.1) → a Rule of
// type "sigma_correlation" (or the reason it is none). The rules it names
// are found when the rule set is compiled (detect/rule_set.cpp).
Result<Rule> translate_correlation(const YAML::Node& doc, const std::string& file, std::string_view text, bool& skip) {
  skip = false;
  const YAML::Node title = doc["title"];
  if (!title || !title.IsScalar()) return error_at(doc, "a Sigma correlation rule needs a title");
  const YAML::Node c = doc["correlation"];
  if (!c.IsMap()) return error_at(c, "correlation must be a map (type, rules, group-by, timespan, condition)");
  const std::string status = scalar_or(doc["status"]);
  if (status == "deprecated" || status == "unsupported") {
    skip = true;
    return error_at(doc["status"], fmt::format("status: {} (SigmaHQ retired it or its tools cannot run it)", status),
                    scalar_length(doc["status"]));
  }
  static const std::set<std::string_view> known_keys = {"type", "rules", "group-by", "timespan", "condition",
                                                        "aliases", "generate"};
  for (const auto& kv : c) {
    if (!kv.first.IsScalar() || !known_keys.count(kv.first.Scalar())) {
      return error_at(kv.first, fmt::format("unknown correlation key '{}' (type, rules, group-by, timespan, condition, "
                                            "aliases, generate)", kv.first.IsScalar() ? kv.first.Scalar() : "?"),
                      scalar_length(kv.first));
    }
  }
  CorrelationSpec spec;
  const YAML::Node type = c["type"];
  if (!type.IsDefined() || !type.IsScalar()) return error_at(c, "a correlation needs a type");
  spec.type = type.Scalar();
  if (spec.type == "value_percentile") {
    skip = true;
    return error_at(type, "value_percentile correlations are not run: the specification gives no meaning to its "
                          "condition (a percentile of which distribution)", scalar_length(type));
  }
  static const std::set<std::string_view> types = {"event_count", "value_count", "value_sum", "value_avg",
                                                   "temporal", "temporal_ordered"};
  if (!types.count(spec.type)) {
    return error_at(type, fmt::format("unknown correlation type '{}' (event_count, value_count, value_sum, value_avg, "
                                      "temporal, temporal_ordered)", spec.type), scalar_length(type));
  }
  const YAML::Node rules = c["rules"];
  if (rules.IsDefined()) {  // (a missing key: yaml-cpp throws on any question but IsDefined)
    if (auto e = take_rule_names(rules, "a correlated rule", spec.rules, spec.rule_pos)) return *e;
  }
  if (spec.rules.empty()) return error_at(rules.IsDefined() ? rules : c, "a correlation names the rules it correlates (rules: [id or name, ...])");
  const bool temporal = spec.type == "temporal" || spec.type == "temporal_ordered";
  if (temporal && spec.rules.size() < 2 && spec.type == "temporal_ordered") {
    return error_at(rules, "temporal_ordered puts two or more rules in order");
  }
  for (const std::string& g : string_list(c["group-by"])) spec.group_by.push_back(g);
  if (c["group-by"].IsDefined() && !c["group-by"].IsNull() && spec.group_by.empty()) {
    return error_at(c["group-by"], "group-by is a list of field names");
  }
  const YAML::Node timespan = c["timespan"];
  if (!timespan.IsDefined()) return error_at(c, "a correlation needs a timespan (e.g. 10m: Xs, Xm, Xh or Xd)");
  std::optional<std::int64_t> ns = timespan.IsScalar() ? parse_rule_duration(timespan.Scalar()) : std::nullopt;
  if (!ns || *ns <= 0) {
    return error_at(timespan, "timespan is a number and a unit: s, m, h or d (e.g. 90m)", scalar_length(timespan));
  }
  spec.timespan_ns = *ns;
  const YAML::Node cond = c["condition"];
  if (cond.IsDefined() && !cond.IsNull()) {
    if (!cond.IsMap()) return error_at(cond, "condition is a map (gte: 10, field: User, ...)");
    for (const auto& kv : cond) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string();
      if (key == "field") {
        spec.fields = string_list(kv.second);
        if (spec.fields.empty()) return error_at(kv.second, "condition.field names one or more fields");
        continue;
      }
      static const std::set<std::string_view> ops = {"gt", "gte", "lt", "lte", "eq", "neq"};
      if (!ops.count(key)) {
        return error_at(kv.first, fmt::format("unknown condition '{}' (gt, gte, lt, lte, eq, neq, field)", key),
                        scalar_length(kv.first));
      }
      const std::string v = kv.second.IsScalar() ? kv.second.Scalar() : std::string();
      char* end = nullptr;
      const double number = v.empty() ? 0 : std::strtod(v.c_str(), &end);
      if (v.empty() || end != v.c_str() + v.size() || !std::isfinite(number) ||
          v.find_first_not_of("0123456789.-+eE") != std::string::npos) {
        return error_at(kv.second, fmt::format("condition {} takes a number", key), scalar_length(kv.second));
      }
      spec.condition.push_back({key, number});
    }
  }
  const bool valued = spec.type.starts_with("value_");
  if (valued && spec.fields.empty()) {
    return error_at(cond.IsDefined() ? cond : c, fmt::format("a {} correlation names its field (condition: field: ...)", spec.type));
  }
  if (!valued && !spec.fields.empty()) {
    return error_at(cond, fmt::format("condition.field belongs to value_* correlations, not {}", spec.type));
  }
  if (!temporal && spec.condition.empty()) {
    return error_at(cond.IsDefined() ? cond : c, fmt::format("a {} correlation needs a condition (e.g. gte: 10)", spec.type));
  }
  if (temporal) {
    // The count of distinct rules seen: at least one, at most all of them;
    // only lower bounds have a moment at which they become true.
    for (const CorrelationCondition& k : spec.condition) {
      if (k.op != "gt" && k.op != "gte" && k.op != "eq") {
        skip = true;
        return error_at(cond, fmt::format("condition {} on a {} correlation (fewer rules than ...) is not run: only "
                                          "gt, gte and eq say when the rules have been seen", k.op, spec.type));
      }
    }
  }
  const YAML::Node aliases = c["aliases"];
  if (aliases.IsDefined() && !aliases.IsNull()) {
    if (!aliases.IsMap()) return error_at(aliases, "aliases is a map: alias: {rule name: field}");
    for (const auto& kv : aliases) {
      if (!kv.second.IsMap()) return error_at(kv.second, "an alias maps rule names to fields: {rule name: field}");
      auto& per_rule = spec.aliases[kv.first.Scalar()];
      for (const auto& rf : kv.second) {
        if (!rf.second.IsScalar()) return error_at(rf.second, "an alias's field is a field name");
        per_rule[rf.first.Scalar()] = rf.second.Scalar();
      }
    }
  }
  const YAML::Node generate = c["generate"];
  if (generate.IsDefined() && !generate.IsNull()) {
    const std::string g = generate.IsScalar() ? generate.Scalar() : std::string();
    if (g != "true" && g != "false") return error_at(generate, "generate is true or false", scalar_length(generate));
    spec.generate = g == "true";
  }
  Rule rule = sigma_rule(doc, file, text, pos_of(c), "sigma_correlation", "sigma");
  rule.correlation = std::move(spec);
  return rule;
}

}  // namespace

namespace {

// Counts the documents of a YAML stream without building them.
class DocumentCounter final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { start = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
  YAML::Mark start;
};

// yaml-cpp 0.7 (Debian 12) never ends a stream with a ',' where a document's
// root should be (",", "[a],", "&x ,"): each HandleNextDocument makes another
// empty document at the same place, and YAML::LoadAll loops until memory runs
// out (a fuzzer found it). The documents are counted first, without building
// them: no stream has more than its "---" markers and one.
std::optional<Error> yaml_stream_error(std::string_view text) {
  std::size_t markers = 0;
  for (std::size_t at = text.find("---"); at != std::string_view::npos; at = text.find("---", at + 3)) ++markers;
  std::istringstream in{std::string(text)};
  YAML::Parser parser(in);
  DocumentCounter counter;
  for (std::size_t docs = 0; parser.HandleNextDocument(counter);) {
    if (++docs > markers + 1) {
      YAML::Mark m = counter.start;
      if (m.pos < 0 || static_cast<std::size_t>(m.pos) > text.size()) m = YAML::Mark{};
      return Error{"sigma.yaml", "YAML: a ',' where a document should start (outside any [ ] or { })",
                   {static_cast<std::uint32_t>(m.line + 1), static_cast<std::uint32_t>(m.column + 1),
                    static_cast<std::uint32_t>(m.pos)},
                   1};
    }
  }
  return std::nullopt;
}

// One document's translation: its result into `into`; an error into the
// file's errors, or into its skipped list when vigil does not run such a
// document (the reason is the message).
template <typename T, typename Translate>
void take_document(SigmaFile& out, std::vector<T>& into, Translate&& translate) {
  bool skip = false;
  Result<T> r = Error{};
  try {
    r = translate(skip);
  } catch (const YAML::Exception& e) {  // a node of the wrong kind deep in the document
    r = Error{"sigma.yaml", "YAML: " + e.msg, {1, 1, 0}, 1};
  }
  if (r) {
    into.push_back(std::move(*r));
  } else if (skip) {
    Error e = r.error();
    e.code = "sigma.skipped";
    out.skipped.push_back(std::move(e));
  } else {
    out.errors.push_back(r.error());
  }
}

}  // namespace

bool is_sigma_path(std::string_view path) { return path.ends_with(".yml") || path.ends_with(".yaml"); }

SigmaFile parse_sigma(std::string_view text, const std::string& file, const SigmaOptions& options) {
  SigmaFile out;
  if (text.size() > kMaxFileBytes) {
    out.errors.push_back({"sigma.yaml", fmt::format("the file is {} bytes, over the {} a Sigma rule may take", text.size(),
                                                    kMaxFileBytes), {1, 1, 0}, 1});
    return out;
  }
  // UTF-8 text only (as the specification says): yaml-cpp would read a file
  // starting with a NUL byte as UTF-16 or UTF-32, with positions that are
  // not bytes, and a value that is not UTF-8 cannot become an RE2 pattern.
  std::uint32_t line = 1, column = 1;
  for (std::size_t i = 0; i < text.size();) {
    const auto b = static_cast<unsigned char>(text[i]);
    const std::size_t n = b == 0 ? 0 : b < 0x80 ? 1 : utf8_sequence(text.substr(i));
    if (n == 0) {
      out.errors.push_back({"sigma.yaml",
                            text[i] == '\0' ? "a Sigma rule file is UTF-8 text; this one holds a NUL byte"
                                             : "a Sigma rule file is UTF-8 text; this byte is not UTF-8",
                            {line, column, static_cast<std::uint32_t>(i)}, 1});
      return out;
    }
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      column += static_cast<std::uint32_t>(n);
    }
    i += n;
  }
  std::vector<YAML::Node> docs;
  try {
    if (auto stuck = yaml_stream_error(text)) {
      out.errors.push_back(std::move(*stuck));
      return out;
    }
    docs = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    const YAML::Mark m = e.mark;
    // A mark past the text (yaml-cpp can point one past the end of a cut
    // escape) points at the start instead.
    const bool usable = !m.is_null() && m.pos >= 0 && static_cast<std::size_t>(m.pos) <= text.size();
    SourcePos pos = !usable ? SourcePos{1, 1, 0}
                            : SourcePos{static_cast<std::uint32_t>(m.line + 1), static_cast<std::uint32_t>(m.column + 1),
                                        static_cast<std::uint32_t>(m.pos)};
    out.errors.push_back({"sigma.yaml", "YAML: " + e.msg, pos, 1});
    return out;
  }
  // Sigma 1 rule collections (`action: global` merged into the documents
  // after it, `reset`, `repeat`) were retired in Sigma 2: the file is one
  // skipped entry, with the reason, not an error per document.
  for (const YAML::Node& doc : docs) {
    if (doc.IsMap() && doc["action"].IsDefined()) {
      out.skipped.push_back(error_at(doc["action"], "a Sigma 1 rule collection (action: global/reset/repeat), a form "
                                                    "Sigma 2 retired: split it into one rule per document"));
      out.skipped.back().code = "sigma.skipped";
      return out;
    }
  }
  for (const YAML::Node& doc : docs) {
    if (!doc || doc.IsNull()) continue;
    if (!doc.IsMap()) {
      out.errors.push_back(error_at(doc, "a Sigma document is a map (title, logsource, detection, ...)"));
      continue;
    }
    if (doc["filter"] && !doc["detection"]) {
      take_document(out, out.filters, [&](bool& skip) { return translate_filter(doc, file, options, skip); });
    } else if (doc["correlation"]) {
      take_document(out, out.rules, [&](bool& skip) { return translate_correlation(doc, file, text, skip); });
    } else {
      take_document(out, out.rules, [&](bool& skip) { return translate_rule(doc, file, text, options, skip); });
    }
  }
  // A position yaml-cpp reports past the text (a stream it read in another
  // encoding) points at the start instead.
  for (auto* list : {&out.errors, &out.skipped}) {
    for (Error& e : *list) {
      if (e.pos.offset > text.size()) e.pos = {1, 1, 0};
    }
  }
  return out;
}

std::string sigma_key(const Rule& rule, std::string_view key) {
  auto it = rule.extra.find("sigma." + std::string(key));
  if (it == rule.extra.end() || it->second.size() < 2 || it->second.front() != '"') return {};
  std::string out;
  unescape_json(std::string_view(it->second).substr(1, it->second.size() - 2), out);
  return out;
}

std::vector<Error> apply_sigma_filters(std::vector<Rule>& rules, const std::vector<SigmaFilter>& filters,
                                       std::vector<std::string>& warning_files) {
  std::vector<Error> warnings;
  constexpr std::string_view kAnyWhere = "any where ";
  for (const SigmaFilter& f : filters) {
    std::vector<bool> used(f.rules.size(), false);
    for (Rule& r : rules) {
      if (r.format != "sigma" || r.correlation || !r.query.starts_with(kAnyWhere)) continue;
      bool applies = false;
      if (f.any) {
        // The rule's log source within the filter's: each field the filter names is the rule's.
        applies = (f.product.empty() || f.product == sigma_key(r, "logsource.product")) &&
                  (f.category.empty() || f.category == sigma_key(r, "logsource.category")) &&
                  (f.service.empty() || f.service == sigma_key(r, "logsource.service"));
      } else {
        const std::string name = sigma_key(r, "name");
        for (std::size_t i = 0; i < f.rules.size(); ++i) {
          if (f.rules[i] == r.rule_id || (!name.empty() && f.rules[i] == name)) {
            applies = true;
            used[i] = true;
          }
        }
      }
      if (!applies) continue;
      r.query = fmt::format("any where ({}) and ({})", r.query.substr(kAnyWhere.size()), f.condition);
      std::string& list = r.extra["sigma.filters"];
      if (list.empty()) list = "[]";
      list.pop_back();
      if (list.size() > 1) list.push_back(',');
      append_json_string(list, f.id.empty() ? f.title : f.id);
      list.push_back(']');
    }
    for (std::size_t i = 0; i < f.rules.size(); ++i) {
      if (used[i]) continue;
      Error e{"sigma.filter", fmt::format("the filter '{}' names '{}', which no loaded Sigma rule has (as id or name)",
                                          f.title, f.rules[i]),
              f.rule_pos[i], static_cast<std::uint32_t>(f.rules[i].size())};
      warnings.push_back(std::move(e));
      warning_files.push_back(f.file);
    }
  }
  return warnings;
}

std::vector<std::string> sigma_field_paths(std::string_view name, const Rule& rule) {
  if (name == "Computer" || name == "ComputerName") return {"winlog.computer_name", "host.name"};
  if (rule.format != "sigma" || rule.correlation) return {std::string(name)};
  YAML::Node logsource(YAML::NodeType::Map);
  for (const char* k : {"product", "category", "service"}) {
    if (std::string v = sigma_key(rule, std::string("logsource.") + k); !v.empty()) logsource[k] = v;
  }
  bool skip = false;
  auto source = select_source(logsource, skip);
  std::vector<std::string> out;
  for (auto& [kind, field] : field_candidates(name, source ? source->sources : std::vector<const LogSource*>{},
                                              source ? source->spaced_names : false, SigmaFieldTarget::Vigil)) {
    if (std::find(out.begin(), out.end(), field) == out.end()) out.push_back(std::move(field));
  }
  return out;
}

Result<SigmaPlaceholders> load_sigma_placeholders(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"sigma.placeholders", path + ": cannot read the placeholders file", {1, 1, 0}, 1};
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  SigmaPlaceholders out;
  try {
    YAML::Node doc = YAML::Load(text);
    if (!doc.IsMap()) return Error{"sigma.placeholders", path + ": expected a map of name: [values]", pos_of(doc), 1};
    for (const auto& kv : doc) {
      std::vector<std::string> values = string_list(kv.second);
      if (values.empty()) {
        return Error{"sigma.placeholders", path + ": placeholder '" + kv.first.Scalar() + "' has no values", pos_of(kv.first), 1};
      }
      out[kv.first.Scalar()] = std::move(values);
    }
  } catch (const YAML::Exception& e) {
    return Error{"sigma.placeholders", path + ": YAML: " + e.msg, {static_cast<std::uint32_t>(e.mark.line + 1),
                                                                   static_cast<std::uint32_t>(e.mark.column + 1), 0}, 1};
  }
  return out;
}

}  // namespace vigil
