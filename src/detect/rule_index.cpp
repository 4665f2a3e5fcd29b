// RuleIndex: finding a rule's required literal set in its compiled program,
// and looking events up.
#include "detect/rule_index.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <charconv>
#include <optional>
#include <span>

#include "core/document.h"
#include "core/text.h"

namespace vigil {
namespace {
// The one text an event value holds: the value itself or a one-element
// array's element (nullptr for anything else).
const Value* single_text(const Value& v) {
  if (v.is_text()) return &v;
  if (v.kind() == ValueKind::Array && v.as_array().size() == 1 && v.as_array()[0].is_text()) return &v.as_array()[0];
  return nullptr;
}

// Companion literals kept per filing (Requirement::companions).
constexpr std::size_t kMaxCompanions = 3;

struct Requirement {
  FieldId field;
  std::vector<std::string> values;    // folded
  std::vector<std::string> patterns;  // folded wildcard patterns: the value is one of `values` or matches one of these
  // The patterns are a regex's literals (`*literal*`): structural text
  // (`ntdll.dll+` in every call trace) as often as telling text, so they
  // are filed under only when nothing better is required.
  bool from_regex = false;
  // Literals every matching text also holds besides one of the patterns'
  // (a regex's other runs: `cmd.{0,5}/c.+powershell` filed under
  // "powershell" also needs "cmd" and "/c"). Only a regex leaf sets them;
  // anything merging requirements drops them.
  std::vector<std::string> companions;
};

// Fields whose values most events share: filing rules under them narrows
// nothing (`host.os.type == "windows"` is in nearly every Elastic rule).
bool low_cardinality(std::string_view field) {
  static constexpr std::string_view kFields[] = {
      "host.os.type", "host.os.family", "host.os.platform", "host.os.name", "event.type", "event.kind",
      "event.outcome", "event.module", "event.dataset", "event.provider", "event.action", "event.category",
      "network.direction", "network.transport", "network.protocol", "network.type", "registry.hive",
      "registry.data.type", "winlog.channel", "winlog.provider_name", "winlog.provider_guid", "agent.type", "data_stream.dataset", "data_stream.type",
      "process.code_signature.trusted", "process.code_signature.status", "dll.code_signature.trusted",
      "dll.code_signature.status", "file.code_signature.trusted", "user.domain", "process.pe.company",
      // Sysmon's enumerations: a registry event's EventType (CreateKey,
      // SetValue, ...), an image load's Signed / SignatureStatus, a network
      // connection's Initiated / Protocol, a process's IntegrityLevel.
      "winlog.event_data.EventType", "winlog.event_data.Signed", "winlog.event_data.SignatureStatus",
      "winlog.event_data.Initiated", "winlog.event_data.Protocol", "winlog.event_data.IntegrityLevel",
  };
  if (field.starts_with("data_stream.")) return true;
  for (std::string_view suffix : {"code_signature.exists", "code_signature.signed", "code_signature.valid",
                                  "code_signature.trusted", "code_signature.status"}) {
    if (field.ends_with(suffix)) return true;
  }
  for (std::string_view f : kFields) {
    if (field == f) return true;
  }
  return false;
}

// Fields that say which kind of event it is (`event.code == "10"`): they
// narrow, but a pattern on a field of the event's content narrows more.
bool event_kind(std::string_view field) { return field == "event.code" || field == "winlog.event_id"; }

// Fields with one value on (nearly) every event of a source: filing a rule
// under their value is no better than filing it under "any".
bool everywhere(std::string_view field) {
  static constexpr std::string_view kPrefixes[] = {"host.", "agent.", "ecs.", "data_stream.", "event.kind",
                                                   "event.outcome", "event.module", "event.dataset"};
  return std::any_of(std::begin(kPrefixes), std::end(kPrefixes), [&](std::string_view p) { return field.starts_with(p); });
}

std::string category_type_key(std::string_view category, std::string_view type) {
  std::string key(category);
  key.push_back('\x1f');
  key += type;
  return key;
}

// A whole number's decimal text ("4104"), the key numbers are filed and looked up under.
std::optional<std::string> integral_text(double n) {
  if (!(n == n) || n != std::floor(n) || std::fabs(n) > 9e15) return std::nullopt;
  return std::to_string(static_cast<long long>(n));
}

// Literals one of which every text a regular expression (RE2 syntax)
// matches contains — so a regex rule can be filed by them like a pattern
// rule. Conservative: an alternation needs one from each branch; in a
// sequence, a run of plain characters none of which is optional, or a group
// that must match (its own literals); anything else (classes, `.`, escapes
// like \d, optional parts) breaks a run. nullopt when some branch has no
// literal of three characters or more. `required` (when given, and the
// regex has one branch): appended with every run of two characters or more
// that every match holds, its groups' included.
std::optional<std::vector<std::string>> regex_literals(std::string_view re, int depth = 0,
                                                       std::vector<std::string>* required = nullptr);

// The end of the group opening at `open` (the index of its ')'), or npos.
std::size_t group_end(std::string_view re, std::size_t open) {
  int level = 0;
  for (std::size_t i = open; i < re.size(); ++i) {
    const char c = re[i];
    if (c == '\\') {
      ++i;
    } else if (c == '[') {
      // A class: ']' right after '[' or '[^' is a member.
      std::size_t j = i + 1;
      if (j < re.size() && re[j] == '^') ++j;
      if (j < re.size() && re[j] == ']') ++j;
      while (j < re.size() && re[j] != ']') j += re[j] == '\\' ? 2 : 1;
      i = j;
    } else if (c == '(') {
      ++level;
    } else if (c == ')' && --level == 0) {
      return i;
    }
  }
  return std::string_view::npos;
}

// How many texts a literal of `size` bytes is likely in, in the rough units
// of cost() below: a short one is in many.
std::size_t literal_size_cost(std::size_t size) { return size >= 8 ? 2 : size >= 5 ? 4 : 16; }

std::optional<std::vector<std::string>> sequence_literals(std::string_view seq, int depth,
                                                         std::vector<std::string>* required) {
  std::optional<std::vector<std::string>> best;
  auto literal_cost = [](const std::vector<std::string>& lits) {
    std::size_t c = 0;
    for (const auto& l : lits) c += literal_size_cost(l.size());
    return c;
  };
  auto consider = [&](std::vector<std::string> lits) {
    if (!best || literal_cost(lits) < literal_cost(*best)) best = std::move(lits);
  };
  std::string run;
  auto flush = [&] {
    if (run.size() >= 3) consider({fold_case(run)});
    if (required && run.size() >= 2) required->push_back(fold_case(run));
    run.clear();
  };
  std::size_t i = 0;
  while (i < seq.size()) {
    enum class Atom { Literal, Group, Other } atom = Atom::Other;
    char literal = 0;
    std::string_view group;
    std::size_t j = i + 1;
    const char c = seq[i];
    if (c == '\\') {
      if (i + 1 >= seq.size()) return std::nullopt;
      const char e = seq[i + 1];
      j = i + 2;
      if (std::ispunct(static_cast<unsigned char>(e))) {
        atom = Atom::Literal;
        literal = e;
      } else if (e == 'x' || e == 'p' || e == 'P') {
        if (j < seq.size() && seq[j] == '{') {
          const std::size_t close = seq.find('}', j);
          if (close == std::string_view::npos) return std::nullopt;
          j = close + 1;
        } else {
          j += e == 'x' ? 2 : 1;
        }
      }
    } else if (c == '[') {
      std::size_t k = i + 1;
      if (k < seq.size() && seq[k] == '^') ++k;
      if (k < seq.size() && seq[k] == ']') ++k;
      while (k < seq.size() && seq[k] != ']') k += seq[k] == '\\' ? 2 : 1;
      if (k >= seq.size()) return std::nullopt;
      j = k + 1;
    } else if (c == '(') {
      const std::size_t close = group_end(seq, i);
      if (close == std::string_view::npos) return std::nullopt;
      j = close + 1;
      group = seq.substr(i + 1, close - i - 1);
      atom = Atom::Group;
      if (group.starts_with('?')) {
        // (?:x) and (?flags:x) hold x; (?P<name>x) too; (?flags) is no atom; lookaround is not RE2's.
        const std::size_t colon = group.find_first_of(":<)=!");
        if (colon == std::string_view::npos || group[colon] == '=' || group[colon] == '!') {
          atom = Atom::Other;
        } else if (group[colon] == '<') {
          const std::size_t name_end = group.find('>');
          if (name_end == std::string_view::npos) return std::nullopt;
          group = group.substr(name_end + 1);
        } else {
          group = group.substr(colon + 1);
        }
        if (group.empty() && atom == Atom::Group) atom = Atom::Other;
      }
    } else if (c != '.' && c != '^' && c != '$' && c != '*' && c != '+' && c != '?' && c != '{' && c != '|' &&
               c != ')') {
      atom = Atom::Literal;
      literal = c;
    }
    // Its quantifier: optional (?, *, {0,...}) or repeated (+, {n,...} with n >= 1).
    bool optional = false, repeated = false;
    if (j < seq.size()) {
      const char q = seq[j];
      if (q == '?' || q == '*') {
        optional = true;
        ++j;
      } else if (q == '+') {
        repeated = true;
        ++j;
      } else if (q == '{' && j + 1 < seq.size() && std::isdigit(static_cast<unsigned char>(seq[j + 1]))) {
        const std::size_t close = seq.find('}', j);
        if (close == std::string_view::npos) return std::nullopt;
        optional = seq[j + 1] == '0' && (j + 2 >= seq.size() || !std::isdigit(static_cast<unsigned char>(seq[j + 2])));
        repeated = !optional;
        j = close + 1;
      }
      if (j < seq.size() && (optional || repeated) && (seq[j] == '?' || seq[j] == '+')) ++j;  // lazy, possessive
    }
    if (atom == Atom::Literal && !optional) {
      run.push_back(literal);
      if (repeated) {  // "xa+b": "xa" and "ab" are in every match, "xab" is not
        flush();
        run.push_back(literal);
      }
    } else {
      flush();
      if (atom == Atom::Group && !optional) {
        if (auto inner = regex_literals(group, depth + 1, required)) consider(std::move(*inner));
      }
    }
    i = j;
  }
  flush();
  return best;
}

std::optional<std::vector<std::string>> regex_literals(std::string_view re, int depth,
                                                       std::vector<std::string>* required) {
  if (depth > 8 || re.find("\\Q") != std::string_view::npos) return std::nullopt;
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= re.size(); ++i) {
    if (i < re.size()) {
      const char c = re[i];
      if (c == '\\') {
        if (++i == re.size()) return std::nullopt;  // a dangling escape: not a regex
        continue;
      }
      if (c == '(' || c == '[') {
        std::size_t close;
        if (c == '(') {
          close = group_end(re, i);
        } else {
          std::size_t k = i + 1;
          if (k < re.size() && re[k] == '^') ++k;
          if (k < re.size() && re[k] == ']') ++k;
          while (k < re.size() && re[k] != ']') k += re[k] == '\\' ? 2 : 1;
          close = k < re.size() ? k : std::string_view::npos;
        }
        if (close == std::string_view::npos) return std::nullopt;
        i = close;
        continue;
      }
      if (c != '|') continue;
    }
    // Runs every match holds: only where the regex has one branch.
    const bool whole = start == 0 && i == re.size();
    auto branch = sequence_literals(re.substr(start, i - start), depth, whole ? required : nullptr);
    if (!branch) return std::nullopt;
    for (auto& l : *branch) {
      if (std::find(out.begin(), out.end(), l) == out.end()) out.push_back(std::move(l));
    }
    start = i + 1;
  }
  return out;
}

// A predicate that requires `field` to hold one of a set of strings.
std::optional<Requirement> leaf_requirement(const eql::Program& p, std::uint32_t index) {
  const eql::Instr& ins = p.instrs[index];
  auto field_child = [&](std::uint32_t k) -> std::optional<FieldId> {
    const eql::Instr& c = p.instrs[p.children[ins.first_child + k]];
    if (c.op != eql::OpCode::Field) return std::nullopt;
    return static_cast<FieldId>(c.arg);
  };
  if (ins.op == eql::OpCode::InSet && ins.child_count == 1) {
    auto field = field_child(0);
    const eql::ConstantSet& set = p.sets[ins.arg];
    if (!field || (set.strings.empty() && set.numbers.empty()) || !set.bools.empty() || set.has_null) return std::nullopt;
    Requirement r{*field, {}, {}};
    for (const auto& s : set.strings) r.values.push_back(fold_case(s));
    // Whole numbers are filed as their decimal text (an event's number is looked up the same way).
    for (double n : set.numbers) {
      auto text = integral_text(n);
      if (!text) return std::nullopt;
      r.values.push_back(std::move(*text));
    }
    return r;
  }
  if (ins.op == eql::OpCode::Keywords) {  // Sigma keywords: a pattern on any text of the event
    Requirement r{RuleIndex::kAnyText, {}, {}};
    for (const WildcardPattern& w : p.patterns[ins.arg]) r.patterns.push_back(fold_case(w.pattern()));
    return r;
  }
  if (ins.op == eql::OpCode::Wildcard && ins.child_count == 1) {
    auto field = field_child(0);
    if (!field) return std::nullopt;
    Requirement r{*field, {}, {}};
    for (const WildcardPattern& w : p.patterns[ins.arg]) r.patterns.push_back(fold_case(w.pattern()));
    return r;
  }
  if (ins.op == eql::OpCode::Regex && ins.child_count == 1) {
    // A match holds one of the regex's literals: a pattern `*literal*`.
    auto field = field_child(0);
    if (!field) return std::nullopt;
    Requirement r{*field, {}, {}, true};
    const auto& regexes = p.regexes[ins.arg];
    std::vector<std::string> required;
    for (const auto& re : regexes) {
      if (!re->ok()) return std::nullopt;
      auto literals = regex_literals(re->pattern(), 0, regexes.size() == 1 ? &required : nullptr);
      if (!literals || literals->empty()) return std::nullopt;
      // A `*` or `?` in a literal becomes a wildcard: the pattern lets more through, never less.
      for (const auto& l : *literals) r.patterns.push_back("*" + l + "*");
    }
    // One regex: the runs every match holds go with the literals it is
    // filed under, the longest first (none with a `*` or `?`, which a
    // literal would take as a character).
    std::sort(required.begin(), required.end(),
              [](const std::string& a, const std::string& b) { return a.size() > b.size() || (a.size() == b.size() && a < b); });
    required.erase(std::unique(required.begin(), required.end()), required.end());
    for (std::string& run : required) {
      if (r.companions.size() == kMaxCompanions) break;
      const bool trigger = std::find(r.patterns.begin(), r.patterns.end(), "*" + run + "*") != r.patterns.end();
      if (trigger || run.find_first_of("*?") != std::string::npos) continue;
      r.companions.push_back(std::move(run));
    }
    return r;
  }
  if (ins.op == eql::OpCode::Compare && ins.child_count == 2 &&
      static_cast<eql::CompareOp>(ins.sub) == eql::CompareOp::Eq) {
    for (std::uint32_t k = 0; k < 2; ++k) {
      auto field = field_child(k);
      const eql::Instr& other = p.instrs[p.children[ins.first_child + 1 - k]];
      if (field && other.op == eql::OpCode::Constant && p.constants[other.arg].is_text()) {
        return Requirement{*field, {fold_case(p.constants[other.arg].as_string())}, {}};
      }
      if (field && other.op == eql::OpCode::Constant && p.constants[other.arg].is_numeric()) {
        if (auto text = integral_text(p.constants[other.arg].as_double())) return Requirement{*field, {std::move(*text)}, {}};
      }
    }
  }
  return std::nullopt;
}

// The longest run of a wildcard pattern without '*' or '?': any value the
// pattern matches contains it.
std::string longest_literal(std::string_view pattern) {
  std::string_view best;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= pattern.size(); ++i) {
    if (i == pattern.size() || pattern[i] == '*' || pattern[i] == '?') {
      if (i - start > best.size()) best = pattern.substr(start, i - start);
      start = i + 1;
    }
  }
  return std::string(best);
}

// A pattern list with a pattern of only `*` lets every value through: it narrows nothing.
bool lets_everything_through(const Requirement& r) {
  return std::any_of(r.patterns.begin(), r.patterns.end(),
                     [](const std::string& p) { return p.find_first_not_of('*') == std::string::npos; });
}

// How many events a requirement is likely to let through, in rough units
// (no statistics of the data: the shape of the values). An exact value lets
// few through, unless it is a number or a short code (access masks, logon
// types, ports: most events of their source share a handful); a pattern as
// many as its longest literal is short (`*.exe` matches nearly every path,
// `*\EDR-Freeze*` nearly none).
std::size_t value_cost(std::string_view v) {
  std::string_view digits = v.starts_with("0x") ? v.substr(2) : v;
  const bool numeric = !digits.empty() && std::all_of(digits.begin(), digits.end(), [&](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) || (digits.size() < v.size() && std::isxdigit(static_cast<unsigned char>(c)));
  });
  return numeric || v.size() <= 3 ? 8 : 1;
}
// Literals (folded) in most paths of a Windows host however long they are:
// the system directories and its busiest process (`TargetImage` ends in
// `\svchost.exe` in 55 % of Sysmon's process-access events in OTRF's
// recordings). A pattern of only such a literal narrows no more than a
// short one.
bool common_path_literal(std::string_view literal) {
  // "c:\windows\", or ":\windows\" of "?:\windows\*"
  if (literal.starts_with(':')) {
    literal.remove_prefix(1);
  } else if (literal.size() >= 2 && literal[1] == ':') {
    literal.remove_prefix(2);
  }
  static constexpr std::string_view kCommon[] = {
      "\\windows\\",   "\\windows\\system32\\", "\\windows\\syswow64\\",       "\\system32\\",
      "\\syswow64\\",  "\\program files\\",     "\\program files",             "\\program files (x86)\\",
      "\\users\\",     "\\svchost.exe",         "\\windows\\system32\\svchost.exe",
  };
  return std::find(std::begin(kCommon), std::end(kCommon), literal) != std::end(kCommon);
}
std::size_t pattern_cost(std::string_view pattern) {
  const std::string literal = longest_literal(pattern);
  if (common_path_literal(literal)) return 16;
  return literal_size_cost(literal.size());
}
// `channels`: the channels the rule requires. A pattern whose literal is part
// of one (`powershell` in a rule of the PowerShell log) is in nearly every
// event of that channel: it narrows no more than a short literal.
std::size_t cost(const Requirement& r, std::span<const std::string> channels = {}) {
  std::size_t c = 0;
  for (const auto& v : r.values) c += value_cost(v);
  for (const auto& p : r.patterns) {
    if (r.from_regex) {
      c += 24;
      continue;
    }
    const bool names_channel = !channels.empty() && [&] {
      const std::string literal = fold_case(longest_literal(p));
      return std::any_of(channels.begin(), channels.end(),
                         [&](const std::string& ch) { return ch.find(literal) != std::string::npos; });
    }();
    c += names_channel ? 16 : pattern_cost(p);
  }
  return c;
}

// Exact values narrow more than patterns; then the cheaper (see cost()).
bool narrower(const Requirement& a, const Requirement& b) {
  if (a.patterns.empty() != b.patterns.empty()) return a.patterns.empty();
  return cost(a) < cost(b);
}

// Every requirement an expression implies (any one of them must hold when it
// is true): a conjunction implies each conjunct's; a disjunction implies, per
// field constrained in every branch, the union of the branches' values.
std::vector<Requirement> requirements(const eql::Program& p, std::uint32_t index, int depth = 0) {
  const eql::Instr& ins = p.instrs[index];
  std::vector<Requirement> out;
  if (depth > 32) return out;
  if (ins.op == eql::OpCode::And) {
    for (std::uint32_t k = 0; k < ins.child_count; ++k) {
      auto more = requirements(p, p.children[ins.first_child + k], depth + 1);
      out.insert(out.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
    }
    return out;
  }
  if (ins.op == eql::OpCode::Or) {
    std::vector<std::vector<Requirement>> branches;
    for (std::uint32_t k = 0; k < ins.child_count; ++k) branches.push_back(requirements(p, p.children[ins.first_child + k], depth + 1));
    if (branches.empty()) return out;
    for (const Requirement& candidate : branches.front()) {
      Requirement merged{candidate.field, {}, {}};
      bool everywhere = true;
      for (const auto& branch : branches) {
        // Per branch, the narrowest requirement on the field: exact values before patterns.
        const Requirement* smallest = nullptr;
        for (const Requirement& r : branch) {
          if (r.field == candidate.field && (!smallest || narrower(r, *smallest))) smallest = &r;
        }
        if (!smallest) {
          everywhere = false;
          break;
        }
        merged.values.insert(merged.values.end(), smallest->values.begin(), smallest->values.end());
        merged.patterns.insert(merged.patterns.end(), smallest->patterns.begin(), smallest->patterns.end());
      }
      if (everywhere && std::none_of(out.begin(), out.end(), [&](const Requirement& r) { return r.field == merged.field; })) {
        for (auto* list : {&merged.values, &merged.patterns}) {
          std::sort(list->begin(), list->end());
          list->erase(std::unique(list->begin(), list->end()), list->end());
        }
        out.push_back(std::move(merged));
      }
    }
    return out;
  }
  if (auto r = leaf_requirement(p, index)) out.push_back(std::move(*r));
  return out;
}

// Requirements of which at least one holds whenever the expression is true,
// each on a field worth filing under (`indexable`): a conjunction takes the
// cheapest of its conjuncts' sets, a disjunction needs one set per branch
// (`(file.path : "*\\remcos\\*") or (registry.value : "Remcos")` gives both).
template <typename Indexable, typename Cost>
std::optional<std::vector<Requirement>> alternatives(const eql::Program& p, std::uint32_t index, const Indexable& indexable,
                                                     const Cost& cost_of, int depth = 0) {
  const eql::Instr& ins = p.instrs[index];
  if (depth > 32) return std::nullopt;
  auto set_cost = [&](const std::vector<Requirement>& set) {
    std::size_t c = 0;
    for (const Requirement& r : set) c += cost_of(r);
    return c;
  };
  if (ins.op == eql::OpCode::And) {
    std::optional<std::vector<Requirement>> best;
    for (std::uint32_t k = 0; k < ins.child_count; ++k) {
      auto set = alternatives(p, p.children[ins.first_child + k], indexable, cost_of, depth + 1);
      if (set && (!best || set_cost(*set) < set_cost(*best))) best = std::move(set);
    }
    return best;
  }
  if (ins.op == eql::OpCode::Or) {
    std::vector<Requirement> all;
    for (std::uint32_t k = 0; k < ins.child_count; ++k) {
      auto set = alternatives(p, p.children[ins.first_child + k], indexable, cost_of, depth + 1);
      if (!set) return std::nullopt;
      all.insert(all.end(), std::make_move_iterator(set->begin()), std::make_move_iterator(set->end()));
    }
    return all;
  }
  auto r = leaf_requirement(p, index);
  if (!r || !indexable(*r)) return std::nullopt;
  return std::vector<Requirement>{std::move(*r)};
}

bool field_of(const eql::Program& p, const eql::Instr& ins, std::uint32_t k, FieldId& field) {
  const eql::Instr& c = p.instrs[p.children[ins.first_child + k]];
  if (c.op != eql::OpCode::Field) return false;
  field = static_cast<FieldId>(c.arg);
  return true;
}

// What the expression cannot be true without, as clauses: each clause lists
// fields of which the event must have at least one. A comparison with a
// literal, a wildcard, regex or `in` test (no null in its set) needs its
// field; a conjunction needs every conjunct's clauses; a disjunction needs,
// per branch, one of that branch's clauses (`useful` says which clauses are
// worth keeping: fields most events have narrow nothing). Negations,
// functions and null-safe equalities need nothing.
using Clause = std::vector<FieldId>;
template <typename Useful>
std::vector<Clause> required_fields(const eql::Program& p, std::uint32_t index, const Useful& useful, int depth = 0) {
  const eql::Instr& ins = p.instrs[index];
  std::vector<Clause> out;
  if (depth > 32) return out;
  FieldId f = 0;
  switch (ins.op) {
    case eql::OpCode::And:
      for (std::uint32_t k = 0; k < ins.child_count; ++k) {
        for (Clause& c : required_fields(p, p.children[ins.first_child + k], useful, depth + 1)) {
          if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(std::move(c));
        }
      }
      return out;
    case eql::OpCode::Or: {
      Clause merged;
      for (std::uint32_t k = 0; k < ins.child_count; ++k) {
        std::vector<Clause> branch = required_fields(p, p.children[ins.first_child + k], useful, depth + 1);
        auto best = std::find_if(branch.begin(), branch.end(), [&](const Clause& c) {
          return std::all_of(c.begin(), c.end(), useful);
        });
        if (best == branch.end()) return out;
        for (FieldId g : *best) {
          if (std::find(merged.begin(), merged.end(), g) == merged.end()) merged.push_back(g);
        }
      }
      if (!merged.empty()) out.push_back(std::move(merged));
      return out;
    }
    case eql::OpCode::Wildcard:
    case eql::OpCode::Regex:
      if (ins.child_count == 1 && field_of(p, ins, 0, f)) out.push_back({f});
      return out;
    case eql::OpCode::InSet:
      if (ins.child_count == 1 && !p.sets[ins.arg].has_null && field_of(p, ins, 0, f)) out.push_back({f});
      return out;
    case eql::OpCode::Compare: {
      if (ins.child_count != 2 || (ins.flags & eql::kNullSafe) ||
          static_cast<eql::CompareOp>(ins.sub) == eql::CompareOp::Neq) {
        return out;
      }
      for (std::uint32_t k = 0; k < 2; ++k) {
        const eql::Instr& other = p.instrs[p.children[ins.first_child + 1 - k]];
        if (field_of(p, ins, k, f) && other.op == eql::OpCode::Constant && !p.constants[other.arg].is_null()) {
          out.push_back({f});
          break;
        }
      }
      return out;
    }
    default:
      return out;
  }
}

// The any-text field (Sigma keywords) is searched in the event's JSON as
// written, where a text's `\` and `"` stand escaped: its literals are
// escaped the same way (JSON's own escapes for the two).
void append_json_escaped_quotes(std::string& out, std::string_view text) {
  for (char c : text) {
    if (c == '\\' || c == '"') out.push_back('\\');
    out.push_back(c);
  }
}
// A literal with a control character (which JSON may write as \n or
// \u000a) is not filed under a literal at all.
std::string any_text_literal(std::string_view piece) {
  if (std::any_of(piece.begin(), piece.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; })) return {};
  std::string out;
  append_json_escaped_quotes(out, piece);
  return out;
}

// Text holding every text value of the event, escaped as any_text_literal()
// escapes literals (a literal a value contains is in it): the raw JSON
// itself when it spells every character as itself or with `\\` or `\"`
// (no `\u` or `\/` escape: the reader may know, else one pass over the
// backslashes checks); else the raw JSON with those escapes undone (the
// characters they spell written as any_text_literal() writes them), built in
// `buffer`; events without raw JSON (EVTX, XML) give their values, escaped
// the same way, each followed by a NUL. Keys and other tokens of the raw
// JSON may add literals, never take one away: the index only narrows.
std::string_view any_text(const Event& event, std::string& buffer) {
  const std::string_view json = event.source;
  if (event.document.empty() && !json.empty()) {
    if (event.json_escapes == Event::JsonEscapes::Plain) return json;
    buffer.clear();
    std::string decoded;
    std::size_t at = 0;  // copied up to here
    // An escaped backslash is crossed whole: `\\u` is a backslash and a u.
    for (std::size_t i = json.find('\\'); i != std::string_view::npos && i + 1 < json.size(); i = json.find('\\', i)) {
      const char e = json[i + 1];
      if (e != 'u' && e != '/') {
        i += 2;
        continue;
      }
      buffer.append(json, at, i - at);
      std::size_t end = e == '/' ? i + 2 : std::min(json.size(), i + 6);
      // A surrogate pair is two escapes in a row: unescape_json() joins them.
      if (e == 'u' && end + 6 <= json.size() && json[end] == '\\' && json[end + 1] == 'u') end += 6;
      unescape_json(json.substr(i, end - i), decoded);
      append_json_escaped_quotes(buffer, decoded);
      at = i = end;
    }
    if (at == 0) return json;  // no escape to undo
    buffer.append(json, at, std::string_view::npos);
    return buffer;
  }
  buffer.clear();
  any_event_text(event, [&](std::string_view t) {
    append_json_escaped_quotes(buffer, t);
    buffer.push_back('\0');
    return false;
  });
  return buffer;
}

// Fields nearly every event has: a gate on them narrows nothing.
bool common_field(std::string_view field) {
  static constexpr std::string_view kPrefixes[] = {"host.", "agent.", "event.", "user.", "ecs.", "winlog.channel",
                                                   "winlog.provider_name", "@timestamp", "process.name",
                                                   "process.executable", "process.pid", "process.entity_id"};
  for (std::string_view prefix : kPrefixes) {
    if (field.starts_with(prefix)) return true;
  }
  return false;
}

}  // namespace

std::vector<std::vector<FieldId>> required_field_clauses(const eql::Program& program,
                                                        const std::function<bool(FieldId)>& useful) {
  std::vector<std::vector<FieldId>> out;
  for (auto& clause : required_fields(program, program.root, useful)) {
    if (std::all_of(clause.begin(), clause.end(), useful)) out.push_back(std::move(clause));
  }
  return out;
}

std::optional<std::vector<std::string>> required_values(const eql::Program& program, FieldId field) {
  std::optional<std::vector<std::string>> best;
  for (Requirement& r : requirements(program, program.root)) {
    if (r.field == field && r.patterns.empty() && (!best || r.values.size() < best->size())) best = std::move(r.values);
  }
  return best;
}

std::vector<FieldId> fields_read(const eql::Program& program) {
  std::vector<FieldId> out;
  for (const eql::Instr& ins : program.instrs) {
    if (ins.op == eql::OpCode::Field && std::find(out.begin(), out.end(), ins.arg) == out.end()) {
      out.push_back(static_cast<FieldId>(ins.arg));
    }
  }
  return out;
}

void RuleIndex::file(const std::string& key, const Entry& entry) {
  std::vector<Entry>& list = key.empty() ? any_ : by_category_[key];
  list.push_back(entry);
}

void RuleIndex::file_values(FieldId field, const std::vector<std::string>& values, const Entry& entry) {
  ValueIndex& index = value_fields_[gate_position(value_gates_, value_fields_, field, entry, [] { return ValueIndex{}; })];
  for (const auto& v : values) {
    index.longest = std::max(index.longest, v.size());
    auto& list = index.rules[v];
    // The terms of one sequence come one by one, each with its own kinds.
    if (list.empty() || !(list.back() == entry)) list.push_back(entry);
  }
}

void RuleIndex::file_patterns(FieldId field, const std::vector<std::string>& values,
                              const std::vector<std::string>& patterns, const Entry& entry,
                              const std::vector<std::string>& companions) {
  // The patterns a field must match (one scan per event for all the rules
  // filed under the field); exact values join as patterns without wildcards.
  PatternIndex& index = *pattern_fields_[gate_position(pattern_gates_, pattern_fields_, field, entry,
                                                        [] { return std::make_unique<PatternIndex>(); })];
  // Filed with the kinds it requires: a broad pattern ("C:\\Windows\\*")
  // then still only brings the rule to its own events.
  const std::size_t filed = index.filed.size();
  index.filed.push_back(entry);
  // A companion is searched for with the field's literals (no rule is filed
  // under it): the scan that finds the trigger says whether it is there too.
  std::vector<unsigned> with;
  if (field != kAnyText) {
    for (const std::string& c : companions) with.push_back(static_cast<unsigned>(index.by_literal.position(c)));
  }
  index.companions.push_back(std::move(with));
  auto add = [&](std::vector<std::size_t>& list) {
    if (list.empty() || list.back() != filed) list.push_back(filed);
  };
  for (const auto* list : {&values, &patterns}) {
    for (const std::string& text : *list) {
      std::string piece = longest_literal(text);
      if (field == kAnyText) piece = any_text_literal(piece);
      add(piece.empty() ? index.unconditional : index.by_literal[piece]);
    }
  }
}

void RuleIndex::add_event_rule(std::size_t rule, const eql::Program& program, const std::string& category,
                               const FieldRegistry& fields) {
  // The kind fields a query reads are registered: find the ones not known yet.
  static constexpr std::string_view kKindNames[kKinds] = {"", "", "event.action", "event.code", "winlog.channel"};
  for (std::size_t k = kAction; k < kKinds; ++k) {
    if (kind_fields_[k] == FieldRegistry::kNoField) {
      if (auto id = fields.find(kKindNames[k])) kind_fields_[k] = *id;
    }
  }
  auto name_of = [&](FieldId f) { return f == kAnyText ? std::string_view("(any text)") : fields.name(f); };
  auto kind_of = [&](FieldId f) {
    return static_cast<std::size_t>(std::find(kind_fields_.begin(), kind_fields_.end(), f) - kind_fields_.begin());
  };
  std::vector<Requirement> reqs = requirements(program, program.root);
  // First level: the most selective literal requirement (the smallest set).
  const Requirement* best = nullptr;
  const Requirement* patterns = nullptr;
  std::array<const Requirement*, kKinds> kinds{};  // per kind field: its smallest required set
  for (const Requirement& r : reqs) {
    const std::size_t k = kind_of(r.field);
    if (!r.patterns.empty()) {
      if (!lets_everything_through(r) && !low_cardinality(name_of(r.field)) && (!patterns || narrower(r, *patterns))) {
        patterns = &r;
      }
      continue;
    }
    if (k < kKinds && (!kinds[k] || r.values.size() < kinds[k]->values.size())) kinds[k] = &r;
    if (k != kCategory && k != kType && !low_cardinality(name_of(r.field)) &&
        (!best || r.values.size() < best->values.size())) {
      best = &r;
    }
  }
  if (!best && !patterns && category.empty() && !kinds[kCategory]) {
    // No category to file under: any literal requirement narrows more than
    // none (`any where event.action : "service-installed"`).
    for (const Requirement& r : reqs) {
      if (!r.patterns.empty() || everywhere(name_of(r.field))) continue;
      if (!best || r.values.size() < best->values.size()) best = &r;
    }
  }
  // An event ID, or values that let more through than the patterns (numbers, short codes), give way to them.
  if (best && patterns && (event_kind(name_of(best->field)) || cost(*best) > cost(*patterns))) best = nullptr;
  // Every entry is gated by the fields the query needs.
  auto useful = [&](FieldId g) {
    return g != kind_fields_[kCategory] && g != kind_fields_[kType] && !common_field(fields.name(g)) &&
           !low_cardinality(fields.name(g));
  };
  Entry entry{rule, {}, {}};
  for (Clause& c : required_field_clauses(program, useful)) {
    if (entry.gates.size() < kMaxGates) entry.gates.push_back(std::move(c));
  }
  // The categories it requires: the query's own, or an event.category
  // condition of an `any` query.
  std::vector<std::string> cats;
  if (!category.empty()) {
    cats.push_back(category);
  } else if (kinds[kCategory]) {
    cats = kinds[kCategory]->values;
  }
  // Wherever it is filed, a rule only comes to events of the kinds it
  // requires (a process-start rule filed under process.name does not run on
  // that process's other events).
  entry.kinds[kCategory] = kind_names_[kCategory].bits_of(cats);
  for (std::size_t k = kType; k < kKinds; ++k) {
    if (kinds[k]) entry.kinds[k] = kind_names_[k].bits_of(kinds[k]->values);
  }
  // A term filed twice takes what either filing takes.
  if (auto [at, fresh] = term_kinds_.try_emplace(&program, entry.kinds); !fresh) {
    at->second = either_kinds(at->second, entry.kinds);
  }
  // A disjunction whose every branch requires a literal or pattern (of
  // different fields): filed under each branch's. It narrows more than an
  // event ID does (Sigma rules: `event.code in ("1", "4688") and
  // (winlog.event_data.Image : "*\\x.exe" or Image : ...)`).
  auto indexable = [&](const Requirement& r) {
    return kind_of(r.field) == kKinds && !low_cardinality(name_of(r.field)) && !event_kind(name_of(r.field)) &&
           !lets_everything_through(r);
  };
  std::optional<std::vector<Requirement>> branches;
  if ((!best || event_kind(name_of(best->field))) && !patterns) {
    // Costed with the channels the rule requires (see cost()).
    std::span<const std::string> channels;
    if (kinds[kChannel]) channels = kinds[kChannel]->values;
    auto cost_here = [&](const Requirement& r) { return cost(r, channels); };
    branches = alternatives(program, program.root, indexable, cost_here);
    if (branches) best = nullptr;
  }
  if (best) {
    file_values(best->field, best->values, entry);
    ++by_value_count_;
    return;
  }
  if (patterns) {
    file_patterns(patterns->field, patterns->values, patterns->patterns, entry, patterns->companions);
    ++by_pattern_count_;
    return;
  }
  if (branches) {
    for (const Requirement& r : *branches) {
      if (r.patterns.empty()) {
        file_values(r.field, r.values, entry);
      } else {
        file_patterns(r.field, r.values, r.patterns, entry, r.companions);
      }
    }
    ++by_branch_count_;
    return;
  }
  // Third level: categories, refined by required event.type values.
  ++by_category_count_;
  if (cats.empty()) {
    file("", entry);
    return;
  }
  for (const auto& c : cats) {
    if (kinds[kType]) {
      for (const auto& t : kinds[kType]->values) file(category_type_key(c, t), entry);
    } else {
      file(c, entry);
    }
  }
}

std::shared_ptr<const FieldDeferral> RuleIndex::deferral(const FieldRegistry& fields) const {
  // Per field: the references in filed terms, and the kinds of those terms.
  const std::size_t n = fields.size();
  std::vector<std::uint32_t> filed(n, 0);
  std::vector<std::pair<FieldId, KindBits>> read;  // sorted and deduplicated below (SigmaHQ: ~100 k references)
  for (const auto& [program, kinds] : term_kinds_) {
    for (const eql::Instr& ins : program->instrs) {
      if (ins.op != eql::OpCode::Field || ins.arg >= n) continue;
      ++filed[ins.arg];
      read.emplace_back(static_cast<FieldId>(ins.arg), kinds);
    }
  }
  std::sort(read.begin(), read.end());
  read.erase(std::unique(read.begin(), read.end()), read.end());
  std::vector<std::vector<KindBits>> readers(n);
  for (const auto& [f, kinds] : read) readers[f].push_back(kinds);
  auto out = std::make_shared<FieldDeferral>();
  out->names = kind_names_;
  out->gate_of.assign(n, 0);
  out->kind_of.assign(n, 0);
  for (std::size_t k = 0; k < kKinds; ++k) {
    if (kind_fields_[k] < n) out->kind_of[kind_fields_[k]] = static_cast<std::uint8_t>(k + 1);
  }
  for (FieldId f = 0; f < n; ++f) {
    // A reference outside the filed terms (a compiled program that is no
    // rule term here), or a registration by anything else, reads it anywhere.
    // The kind fields say which events take the others.
    if (fields.pinned(f) || filed[f] == 0 || filed[f] != fields.references(f) || out->kind_of[f] != 0) continue;
    std::vector<KindBits>& r = readers[f];
    if (std::any_of(r.begin(), r.end(), [](const KindBits& k) { return k == KindBits{}; })) continue;
    if (r.size() > FieldDeferral::kMaxReaders) {
      // Past the cap, one reader taking what any of them takes.
      KindBits all = r.front();
      for (const KindBits& k : r) all = either_kinds(all, k);
      if (all == KindBits{}) continue;
      r = {all};
    }
    out->gates.push_back(std::move(r));
    out->gate_of[f] = static_cast<std::uint32_t>(out->gates.size());
  }
  if (out->gates.empty()) return nullptr;
  return out;
}

bool RuleIndex::open(const Entry& e, const Event& event) {
  return std::all_of(e.gates.begin(), e.gates.end(), [&](const std::vector<FieldId>& clause) {
    return std::any_of(clause.begin(), clause.end(), [&](FieldId f) { return !event.get(f).is_null(); });
  });
}

void RuleIndex::append_open(const std::vector<Entry>& entries, const Event& event, const Scratch& scratch,
                            std::vector<std::size_t>& out) const {
  for (const Entry& e : entries) {
    if (admits(e, event, scratch)) out.push_back(e.rule);
  }
}

void RuleIndex::lookup_values(const Event& event, const Value& v, const ValueIndex& index, std::vector<std::size_t>& out,
                              const Scratch& scratch, Scratch::Memo& memo) const {
  auto find = [&](std::string_view s) -> const std::vector<Entry>* {
    if (s.size() > index.longest) return nullptr;  // folding keeps the length
    return with_folded(s, [&](std::string_view f) { return index.rules.find(f); });
  };
  auto emit = [&](const std::vector<Entry>* entries) {
    if (!entries) return;
    for (const Entry& e : *entries) {
      if (admits(e, event, scratch)) out.push_back(e.rule);
    }
  };
  if (const Value* text = single_text(v)) {
    std::string_view s = text->as_string();
    if (!memo.holds(s)) {
      memo.entries = find(s);
      memo.remember(s);
    }
    emit(memo.entries);
  } else if (v.kind() == ValueKind::Array) {
    for (const Value& x : v.as_array()) {
      if (x.is_text()) {
        emit(find(x.as_string()));
      } else if (x.is_numeric()) {
        if (auto digits = integral_text(x.as_double())) emit(find(*digits));
      }
    }
  } else if (v.is_numeric()) {
    // A number: the rules filed under its decimal text (`event.code == 4104`, or a rule's "4104").
    if (auto digits = integral_text(v.as_double())) emit(find(*digits));
  }
}

const RuleIndex::LiteralSubset* RuleIndex::subset_for(PatternIndex& index, const KindBits& kinds) {
  std::lock_guard lock(index.subsets_mutex);
  if (auto known = index.subset_of_kinds.find(kinds); known != index.subset_of_kinds.end()) return known->second;
  if (index.subset_of_kinds.size() >= PatternIndex::kMaxKinds) return nullptr;
  const LiteralSubset*& at = index.subset_of_kinds[kinds];
  std::vector<unsigned> kept;
  unsigned m = 0;
  for (const auto& literal : index.by_literal) {
    bool keep = false;
    for (std::size_t f : literal.value) {
      if (!kinds_take(index.filed[f].kinds, kinds)) continue;
      keep = true;
      // Its companions are searched for too (the entry needs them found).
      kept.insert(kept.end(), index.companions[f].begin(), index.companions[f].end());
    }
    if (keep) kept.push_back(m);
    ++m;
  }
  std::sort(kept.begin(), kept.end());
  kept.erase(std::unique(kept.begin(), kept.end()), kept.end());
  if (kept.size() * 2 > m) return nullptr;  // searching them all costs about the same
  auto known = index.subsets.find(kept);
  if (known == index.subsets.end() && index.subsets.size() >= PatternIndex::kMaxSubsets) return nullptr;
  std::unique_ptr<LiteralSubset>& subset = known != index.subsets.end() ? known->second : index.subsets[kept];
  if (!subset) {
    subset = std::make_unique<LiteralSubset>();
    if (!kept.empty()) {
      std::vector<std::string> literals;
      for (unsigned id : kept) literals.push_back(index.by_literal.begin()[id].key);
      subset->scan = std::make_unique<AdaptiveLiterals>(std::move(literals));
    }
    subset->ids = std::move(kept);
  }
  return at = subset.get();
}

std::size_t RuleIndex::literal_subsets() const {
  std::size_t n = 0;
  for (const auto& index : pattern_fields_) {
    std::lock_guard lock(index->subsets_mutex);
    n += index->subsets.size();
  }
  return n;
}

void RuleIndex::lookup_patterns(const Event& event, const Value& v, PatternIndex& index, const LiteralSubset* subset,
                                std::vector<std::size_t>& out, Scratch& scratch, Scratch::Memo* memo) const {
  if (v.is_null() || (v.kind() == ValueKind::Array && v.as_array().empty())) return;
  std::call_once(index.scan_once, [&] {
    std::vector<std::string> literals;
    for (const auto& e : index.by_literal) literals.push_back(e.key);
    if (!literals.empty()) index.scan = std::make_unique<AdaptiveLiterals>(std::move(literals));
  });
  // `found`: the literals the text holds (null: not searched, no companion is checked).
  auto emit = [&](const std::vector<std::size_t>& filed, const std::vector<unsigned>* found) {
    for (std::size_t f : filed) {
      const bool companions_found =
          !found || std::all_of(index.companions[f].begin(), index.companions[f].end(), [&](unsigned c) {
            return std::find(found->begin(), found->end(), c) != found->end();
          });
      if (companions_found && admits(index.filed[f], event, scratch)) out.push_back(index.filed[f].rule);
    }
  };
  emit(index.unconditional, nullptr);
  const AdaptiveLiterals* search = subset ? subset->scan.get() : index.scan.get();
  if (!search) return;  // no literals (every rule here is unconditional), or none for this kind of event
  // The literals found, as positions in by_literal.
  auto find = [&](std::string_view text, std::vector<unsigned>& matched) {
    search->matching(text, scratch.wildcards, matched);
    if (subset) {
      for (unsigned& m : matched) m = subset->ids[m];
    }
  };
  auto scan = [&](const Value& x) {
    if (x.is_null() || x.kind() == ValueKind::Array) return;
    // Numbers and booleans are matched as text, as the rules' own tests do.
    std::string_view text;
    if (x.is_text()) {
      text = x.as_string();
    } else {
      scratch.text.clear();
      append_text(scratch.text, x);
      text = scratch.text;
    }
    if (!memo) {
      scratch.matched.clear();
      find(text, scratch.matched);
    } else if (!memo->holds(text) || memo->searched != subset) {
      memo->matched.clear();
      find(text, memo->matched);
      memo->searched = subset;
      memo->remember(text);
    }
    const std::vector<unsigned>& found = memo ? memo->matched : scratch.matched;
    for (unsigned m : found) emit(index.by_literal.begin()[m].value, &found);
  };
  if (v.kind() == ValueKind::Array) {
    for (const Value& x : v.as_array()) scan(x);
  } else {
    scan(v);
  }
}

const RuleIndex::Scratch::OpenFields& RuleIndex::open_fields(Scratch& scratch) const {
  for (std::size_t n = 0, k = scratch.open_fields_last; n < Scratch::kOpenFieldSets;
       ++n, k = (k + 1) % Scratch::kOpenFieldSets) {
    const Scratch::OpenFields& set = scratch.open_fields[k];
    if (set.valid && set.kinds == scratch.kinds) {
      scratch.open_fields_last = k;
      return set;
    }
  }
  const std::size_t k = scratch.open_fields_next;
  scratch.open_fields_next = (k + 1) % Scratch::kOpenFieldSets;
  scratch.open_fields_last = k;
  Scratch::OpenFields& set = scratch.open_fields[k];
  set.kinds = scratch.kinds;
  set.valid = true;
  set.values.clear();
  set.patterns.clear();
  set.searched.clear();
  for (std::size_t i = 0; i < value_gates_.size(); ++i) {
    if (kinds_take(value_gates_[i].kinds, scratch.kinds)) set.values.push_back(static_cast<std::uint32_t>(i));
  }
  for (std::size_t i = 0; i < pattern_gates_.size(); ++i) {
    if (!kinds_take(pattern_gates_[i].kinds, scratch.kinds)) continue;
    set.patterns.push_back(static_cast<std::uint32_t>(i));
    set.searched.push_back(subset_for(*pattern_fields_[i], scratch.kinds));
  }
  return set;
}

void RuleIndex::candidates(const Event& event, std::vector<std::size_t>& out, Scratch& scratch) const {
  for (std::size_t k = 0; k < kKinds; ++k) {
    if (kind_fields_[k] == FieldRegistry::kNoField) {
      scratch.kinds[k] = 0;
      continue;
    }
    const Value& v = event.get(kind_fields_[k]);
    Scratch::Memo& memo = scratch.kind_memo[k];
    const Value* text = single_text(v);  // ECS kinds are mostly one-value arrays: ["process"]
    if (!text) {
      scratch.kinds[k] = kind_names_[k].bits_of(v);
    } else if (memo.holds(text->as_string())) {
      scratch.kinds[k] = memo.bits;
    } else {
      scratch.kinds[k] = memo.bits = kind_names_[k].bits_of(*text);
      memo.remember(text->as_string());
    }
  }
  // A field the event lacks, or none of whose rules takes this kind of
  // event, is not looked at.
  if (scratch.value_memo.size() < value_fields_.size()) scratch.value_memo.resize(value_fields_.size());
  if (scratch.pattern_memo.size() < pattern_fields_.size()) scratch.pattern_memo.resize(pattern_fields_.size());
  const Scratch::OpenFields& open = open_fields(scratch);
  for (std::uint32_t i : open.values) {
    const Value& v = event.get(value_gates_[i].field);
    if (!v.is_null()) lookup_values(event, v, value_fields_[i], out, scratch, scratch.value_memo[i]);
  }
  for (std::size_t j = 0; j < open.patterns.size(); ++j) {
    const std::uint32_t i = open.patterns[j];
    PatternIndex& index = *pattern_fields_[i];
    if (pattern_gates_[i].field == kAnyText) {
      // No literal of a rule taking this event: its text is not even gathered.
      if (open.searched[j] && !open.searched[j]->scan && index.unconditional.empty()) continue;
      lookup_patterns(event, Value::string(any_text(event, scratch.all_text)), index, open.searched[j], out, scratch,
                      nullptr);
      continue;
    }
    const Value& v = event.get(pattern_gates_[i].field);
    if (!v.is_null()) lookup_patterns(event, v, index, open.searched[j], out, scratch, &scratch.pattern_memo[i]);
  }
  auto add = [&](std::string_view key) {
    auto it = by_category_.find(key);
    if (it != by_category_.end()) append_open(it->second, event, scratch, out);
  };
  const Value& types = event.get(kind_fields_[kType]);
  std::string key;
  for_each_text(event.get(kind_fields_[kCategory]), [&](std::string_view category) {
    add(category);
    for_each_text(types, [&](std::string_view type) {
      key.assign(category);
      key.push_back('\x1f');
      append_folded(key, type);
      add(key);
    });
  });
  append_open(any_, event, scratch, out);
}

}  // namespace vigil
