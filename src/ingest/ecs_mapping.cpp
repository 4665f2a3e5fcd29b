// Interpreter of the Windows → ECS mapping table.
#include "ingest/ecs_mapping.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <tuple>
#include <memory>
#include <unordered_map>

#include "core/text.h"
#include "core/value.h"

namespace vigil {

extern const char* const kWindowsEcsTable;  // generated from mappings/windows_ecs.toml

namespace {

enum class Transform {
  Text, Long, Bool, Basename, Args, Hashes, DomainUser, FilePath, RegistryPath, RegistryData,
  Transport, DirectionInitiated, DirectionWfp, Trusted, SplitSemicolon, Ip, LogonType,
};

struct FieldRule {
  std::string target;
  std::vector<std::string> sources;  // "A+B" joins A and B with a backslash
  Transform transform;
  // target + "." + suffix for the transforms that write sub-fields, made once
  // so documents can point at them.
  std::unordered_map<std::string, std::string> sub_keys;
  std::string_view sub(std::string_view suffix) const { return sub_keys.at(std::string(suffix)); }
};

// The sub-fields each transform may write.
std::vector<std::string_view> suffixes_of(Transform t) {
  switch (t) {
    case Transform::Hashes: return {"md5", "sha1", "sha256", "sha512", "imphash"};
    case Transform::DomainUser: return {"domain", "name"};
    case Transform::FilePath: return {"path", "name", "directory", "extension"};
    case Transform::RegistryPath: return {"path", "hive", "key", "value"};
    case Transform::RegistryData: return {"type", "strings"};
    default: return {};
  }
}

struct EventRule {
  std::vector<std::string> category;
  std::vector<std::string> type;
  std::string action;
  std::vector<FieldRule> fields;
};

Transform parse_transform(const std::string& name) {
  static const std::unordered_map<std::string, Transform> kNames = {
      {"text", Transform::Text}, {"long", Transform::Long}, {"bool", Transform::Bool},
      {"basename", Transform::Basename}, {"args", Transform::Args}, {"hashes", Transform::Hashes},
      {"domain_user", Transform::DomainUser}, {"file_path", Transform::FilePath},
      {"registry_path", Transform::RegistryPath}, {"registry_data", Transform::RegistryData},
      {"transport", Transform::Transport}, {"direction_initiated", Transform::DirectionInitiated},
      {"direction_wfp", Transform::DirectionWfp}, {"trusted", Transform::Trusted},
      {"split_semicolon", Transform::SplitSemicolon}, {"device_path", Transform::Text}, {"ip", Transform::Ip},
      {"logon_type", Transform::LogonType},
  };
  auto it = kNames.find(name);
  if (it == kNames.end()) throw std::logic_error("windows_ecs.toml: unknown transform " + name);
  return it->second;
}

// The table is part of the program: a malformed table is a build defect, so
// loading it throws (a programmer error, caught by every test run).
const std::unordered_map<std::string, EventRule>& table() {
  static const std::unordered_map<std::string, EventRule> rules = [] {
    std::unordered_map<std::string, EventRule> out;
    toml::table t = toml::parse(kWindowsEcsTable);
    for (auto& node : *t["event"].as_array()) {
      auto& e = *node.as_table();
      EventRule r;
      // Events Elastic does not classify (4662, 5136) have no category or type.
      if (auto* c = e["category"].as_array()) {
        for (auto& v : *c) r.category.push_back(*v.value<std::string>());
      }
      if (auto* c = e["type"].as_array()) {
        for (auto& v : *c) r.type.push_back(*v.value<std::string>());
      }
      r.action = e["action"].value_or(std::string());
      for (auto& f : *e["fields"].as_array()) {
        auto& a = *f.as_array();
        FieldRule fr;
        fr.target = *a[0].value<std::string>();
        std::string source = *a[1].value<std::string>();
        for (std::size_t start = 0;;) {
          std::size_t plus = source.find('+', start);
          fr.sources.push_back(source.substr(start, plus - start));
          if (plus == std::string::npos) break;
          start = plus + 1;
        }
        fr.transform = parse_transform(a.size() > 2 ? *a[2].value<std::string>() : "text");
        for (std::string_view suffix : suffixes_of(fr.transform)) {
          fr.sub_keys.emplace(std::string(suffix), fr.target + "." + std::string(suffix));
        }
        if (fr.transform == Transform::Hashes && fr.target.ends_with(".hash")) {
          // ECS keeps the import hash with the PE header fields: process.pe.imphash.
          fr.sub_keys["imphash"] = fr.target.substr(0, fr.target.size() - 5) + ".pe.imphash";
        }
        r.fields.push_back(std::move(fr));
      }
      std::string key = fmt::format("{}#{}", e["provider"].value_or(std::string()), e["id"].value_or<std::int64_t>(0));
      out.emplace(std::move(key), std::move(r));
    }
    return out;
  }();
  return rules;
}

}  // namespace

const std::vector<EcsMappingEntry>& ecs_mapping_entries() {
  static const std::vector<EcsMappingEntry> entries = [] {
    std::vector<EcsMappingEntry> out;
    for (const auto& [key, rule] : table()) {
      EcsMappingEntry e;
      std::size_t hash = key.rfind('#');
      e.provider = key.substr(0, hash);
      e.id = std::stoll(key.substr(hash + 1));
      e.category = rule.category;
      e.type = rule.type;
      e.action = rule.action;
      for (const FieldRule& f : rule.fields) {
        if (f.sub_keys.empty()) {
          e.fields.push_back(f.target);
        } else {
          for (const auto& [suffix, sub] : f.sub_keys) e.fields.push_back(sub);
        }
        for (const auto& source : f.sources) e.sources.emplace_back(f.target, source);
        if (f.sources.size() == 1 && (f.transform == Transform::Text || f.transform == Transform::Long)) {
          e.verbatim.emplace_back(f.target, f.sources[0]);
        }
        const bool readable = f.transform == Transform::Text || f.transform == Transform::Long ||
                              f.transform == Transform::Bool || f.transform == Transform::Ip ||
                              f.transform == Transform::Basename || f.transform == Transform::FilePath ||
                              f.transform == Transform::RegistryPath;
        if (f.transform == Transform::Basename && f.sources.size() == 1) e.basename.emplace_back(f.target, f.sources[0]);
        if ((f.transform == Transform::Args || f.transform == Transform::SplitSemicolon) && f.sources.size() == 1) {
          e.contained.emplace_back(f.target, f.sources[0]);
        }
        if (!readable || f.sources.size() > 1) {
          for (const auto& source : f.sources) e.derived.emplace_back(f.target, source);
        }
      }
      std::sort(e.fields.begin(), e.fields.end());
      out.push_back(std::move(e));
    }
    std::sort(out.begin(), out.end(), [](const EcsMappingEntry& a, const EcsMappingEntry& b) {
      return std::tie(a.provider, a.id) < std::tie(b.provider, b.id);
    });
    return out;
  }();
  return entries;
}

namespace {

std::string_view basename(std::string_view path) {
  std::size_t slash = path.find_last_of("\\/");
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::optional<std::int64_t> parse_long(std::string_view s) {
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s.remove_prefix(2);
    base = 16;
  }
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty() || v > static_cast<std::uint64_t>(INT64_MAX))
    return std::nullopt;
  return static_cast<std::int64_t>(v);
}

// "\REGISTRY\MACHINE\..." and "HKEY_LOCAL_MACHINE\..." become "HKLM\...", as ECS shows them.
std::string normalize_registry_path(std::string_view path) {
  static const std::pair<std::string_view, std::string_view> kHives[] = {
      {"\\REGISTRY\\MACHINE", "HKLM"}, {"\\REGISTRY\\USER", "HKU"}, {"HKEY_LOCAL_MACHINE", "HKLM"},
      {"HKEY_CURRENT_USER", "HKCU"},   {"HKEY_USERS", "HKU"},        {"HKEY_CLASSES_ROOT", "HKCR"},
      {"HKEY_CURRENT_CONFIG", "HKCC"},
  };
  for (const auto& [long_name, abbrev] : kHives) {
    if (path.size() >= long_name.size() && equals_folded(path.substr(0, long_name.size()), long_name) &&
        (path.size() == long_name.size() || path[long_name.size()] == '\\')) {
      return std::string(abbrev) + std::string(path.substr(long_name.size()));
    }
  }
  return std::string(path);
}

void apply(DocBuilder& w, const FieldRule& rule, std::string_view value) {
  const std::string& t = rule.target;
  switch (rule.transform) {
    case Transform::Text: w.text(t, value); return;
    case Transform::Ip:  // Windows writes "-" or "" when there is no address
      if (parse_ip(value)) w.text(t, value);
      return;
    case Transform::Long:
      if (auto n = parse_long(value)) w.integer(t, *n);
      return;
    case Transform::LogonType: {
      // Logon type numbers by the names Elastic's rules test (winlog.logon.type).
      static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
          {"2", "Interactive"}, {"3", "Network"}, {"4", "Batch"}, {"5", "Service"}, {"7", "Unlock"},
          {"8", "NetworkCleartext"}, {"9", "NewCredentials"}, {"10", "RemoteInteractive"},
          {"11", "CachedInteractive"}};
      for (const auto& [number, name] : kTypes) {
        if (value == number) w.text(t, name);
      }
      return;
    }
    case Transform::Bool:
      if (equals_folded(value, "true")) w.boolean(t, true);
      if (equals_folded(value, "false")) w.boolean(t, false);
      return;
    case Transform::Trusted:
      if (!value.empty()) w.boolean(t, equals_folded(value, "Valid"));
      return;
    case Transform::Basename: w.text(t, basename(value)); return;
    case Transform::Args: w.list(t, split_command_line(value)); return;
    case Transform::Hashes: {
      // "SHA1=..,MD5=..,SHA256=..,IMPHASH=.." (or a single "SHA256=...")
      std::size_t start = 0;
      while (start < value.size()) {
        std::size_t comma = value.find(',', start);
        std::string_view item = value.substr(start, comma - start);
        std::size_t eq = item.find('=');
        if (eq != std::string_view::npos) {
          std::string algo = fold_case(item.substr(0, eq));
          const std::string_view digest = item.substr(eq + 1);
          // Sysmon writes an all-zero IMPHASH for a file that is not a PE image: no import hash.
          const bool no_imports = algo == "imphash" && digest.find_first_not_of('0') == std::string_view::npos;
          if ((algo == "md5" || algo == "sha1" || algo == "sha256" || algo == "sha512" || algo == "imphash") &&
              !no_imports) {
            w.text(rule.sub(algo), fold_case(digest));
          }
        }
        if (comma == std::string_view::npos) break;
        start = comma + 1;
      }
      return;
    }
    case Transform::DomainUser: {
      std::size_t slash = value.find('\\');
      if (slash == std::string_view::npos) {
        w.text(rule.sub("name"), value);
      } else {
        w.text(rule.sub("domain"), std::string_view(value).substr(0, slash));
        w.text(rule.sub("name"), std::string_view(value).substr(slash + 1));
      }
      return;
    }
    case Transform::FilePath: {
      if (value.empty()) return;
      std::string_view path = value;
      std::string_view name = basename(path);
      w.text(rule.sub("path"), path);
      w.text(rule.sub("name"), name);
      if (name.size() < path.size()) w.text(rule.sub("directory"), path.substr(0, path.size() - name.size() - 1));
      if (auto dot = name.rfind('.'); dot != std::string_view::npos && dot + 1 < name.size())
        w.text(rule.sub("extension"), fold_case(name.substr(dot + 1)));
      return;
    }
    case Transform::RegistryPath: {
      if (value.empty()) return;
      std::string path = normalize_registry_path(value);
      w.text(rule.sub("path"), path);
      std::size_t first = path.find('\\');
      std::size_t last = path.rfind('\\');
      w.text(rule.sub("hive"), std::string_view(path).substr(0, first));
      if (first != std::string::npos && last > first) w.text(rule.sub("key"), std::string_view(path).substr(first + 1, last - first - 1));
      if (last != std::string::npos) w.text(rule.sub("value"), std::string_view(path).substr(last + 1));
      return;
    }
    case Transform::RegistryData: {
      if (value.empty()) return;
      // Sysmon writes "DWORD (0x00000001)", "QWORD (0x...-0x...)", "Binary Data" or the string.
      if (value.starts_with("DWORD (") && value.size() > 8) {
        w.text(rule.sub("type"), "REG_DWORD");
        if (auto n = parse_long(std::string_view(value).substr(7, value.size() - 8))) {
          w.list(rule.sub("strings"), std::vector<std::string>{fmt::format("{}", *n)});
          return;
        }
      } else if (value.starts_with("QWORD (")) {
        w.text(rule.sub("type"), "REG_QWORD");
      } else if (value == "Binary Data") {
        w.text(rule.sub("type"), "REG_BINARY");
      } else {
        w.text(rule.sub("type"), "REG_SZ");
      }
      w.list(rule.sub("strings"), std::vector<std::string>{std::string(value)});
      return;
    }
    case Transform::Transport: {
      std::string v = fold_case(value);
      if (v == "6") v = "tcp";
      if (v == "17") v = "udp";
      if (v == "1") v = "icmp";
      w.text(t, v);
      return;
    }
    case Transform::DirectionInitiated:
      if (!value.empty()) w.text(t, equals_folded(value, "true") ? "egress" : "ingress");
      return;
    case Transform::DirectionWfp:
      if (value == "%%14593") w.text(t, "egress");
      if (value == "%%14592") w.text(t, "ingress");
      return;
    case Transform::SplitSemicolon: {
      std::vector<std::string> parts;
      std::size_t start = 0;
      while (start <= value.size()) {
        std::size_t semi = value.find(';', start);
        std::string part(value.substr(start, semi - start));
        part.erase(0, part.find_first_not_of(' '));
        part.erase(part.find_last_not_of(' ') + 1);
        if (!part.empty() && part != "-") parts.push_back(part);  // "-": no value
        if (semi == std::string_view::npos) break;
        start = semi + 1;
      }
      w.list(t, parts);
      return;
    }
  }
}

}  // namespace

std::vector<std::string> split_command_line(std::string_view s) {
  std::vector<std::string> args;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    if (i >= s.size()) break;
    std::string arg;
    bool quoted = false;
    while (i < s.size() && (quoted || (s[i] != ' ' && s[i] != '\t'))) {
      if (s[i] == '\\') {
        std::size_t slashes = 0;
        while (i < s.size() && s[i] == '\\') {
          ++slashes;
          ++i;
        }
        if (i < s.size() && s[i] == '"') {
          arg.append(slashes / 2, '\\');
          if (slashes % 2 == 1) {
            arg.push_back('"');
            ++i;
          }
        } else {
          arg.append(slashes, '\\');
        }
        continue;
      }
      if (s[i] == '"') {
        if (quoted && i + 1 < s.size() && s[i + 1] == '"') {  // "" inside quotes is a literal quote
          arg.push_back('"');
          i += 2;
          continue;
        }
        quoted = !quoted;
        ++i;
        continue;
      }
      arg.push_back(s[i++]);
    }
    args.push_back(std::move(arg));
  }
  return args;
}

// Windows writes "-" (and Sysmon "?") where it has no value, and Sysmon an
// all-zero GUID for a process it has not seen: none of them is a value an ECS
// field should hold (`process.parent.name != null` must not match "-"). The
// raw winlog.event_data.* fields keep them.
static bool is_placeholder(std::string_view value) {
  if (value == "-" || value == "?") return true;
  if (value.size() != 38 || value.front() != '{' || value.back() != '}') return false;
  for (char c : value.substr(1, 36)) {
    if (c != '0' && c != '-') return false;
  }
  return true;
}

void append_ecs_fields(DocBuilder& doc, std::string_view provider, std::string_view event_id,
                       std::span<const EventDataField> event_data) {
  const auto& rules = table();
  thread_local std::string key;  // hot path: no allocation per event
  key.assign(provider).append("#").append(event_id);
  auto it = rules.find(key);
  if (it == rules.end()) return;
  const EventRule& rule = it->second;
  if (!rule.category.empty()) doc.list("event.category", rule.category);
  if (!rule.type.empty()) doc.list("event.type", rule.type);
  doc.text("event.action", rule.action);
  std::string joined;
  for (const FieldRule& f : rule.fields) {
    std::string_view value;
    bool found = false;
    for (const std::string& source : f.sources) {
      for (const auto& d : event_data) {
        if (d.name != source) continue;
        if (f.sources.size() == 1) {
          value = d.value;
        } else {
          if (found) joined.push_back('\\');
          joined.append(d.value);
          value = joined;
        }
        found = true;
        break;
      }
    }
    if (found && !is_placeholder(value)) apply(doc, f, value);
    joined.clear();
  }
}

}  // namespace vigil
