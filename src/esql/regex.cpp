// Regex translation into RE2 syntax (see regex.h for what is rewritten and
// what is refused).
#include "esql/regex.h"

#include <bitset>
#include <map>
#include <optional>

#include <fmt/format.h>

namespace vigil::esql {
namespace {

Error regex_error(std::size_t offset, std::string message) {
  return Error{"esql.regex", std::move(message), {1, static_cast<std::uint32_t>(offset + 1), static_cast<std::uint32_t>(offset)}};
}

// `c` written so RE2 reads it as itself.
void append_literal(std::string& out, char c) {
  const unsigned char u = static_cast<unsigned char>(c);
  if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '_' || u >= 0x80) {
    out += c;
  } else {
    out += fmt::format("\\x{:02x}", u);
  }
}

// A set of characters: the ASCII ones listed; every non-ASCII one when `others`.
struct CharSet {
  std::bitset<128> ascii;
  bool others = false;
  void add_range(unsigned a, unsigned b) {
    for (unsigned c = a; c <= b && c < 128; ++c) ascii.set(c);
  }
  void add_class(char k) {  // \d \w \s and their negations
    CharSet s;
    switch (k | 0x20) {
      case 'd': s.add_range('0', '9'); break;
      case 'w':
        s.add_range('0', '9');
        s.add_range('a', 'z');
        s.add_range('A', 'Z');
        s.ascii.set('_');
        break;
      case 's':
        for (char c : std::string_view(" \t\n\r\f\v")) s.ascii.set(static_cast<unsigned char>(c));
        break;
    }
    if (k >= 'A' && k <= 'Z') {
      s.ascii.flip();
      s.others = true;
    }
    ascii |= s.ascii;
    others = others || s.others;
  }
  std::string render() const {
    std::string out = "[";
    if (others) out += "\\x{80}-\\x{10FFFF}";
    for (unsigned c = 0; c < 128; ++c) {
      if (ascii.test(c)) out += fmt::format("\\x{:02x}", c);
    }
    if (out == "[") return "[^\\x00-\\x{10FFFF}]";  // empty: matches nothing
    return out + "]";
  }
};

char escape_char(char e) {
  switch (e) {
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'f': return '\f';
    case 'e': return '\x1b';
    case 'a': return '\a';
    default: return e;
  }
}

// Parses one single-character atom at regex[i] (a class, an escape, `.` or a
// literal ASCII character) into a set; advances i. nullopt if it is not one.
std::optional<CharSet> single_char_atom(std::string_view r, std::size_t& i) {
  if (i >= r.size()) return std::nullopt;
  CharSet s;
  const char c = r[i];
  if (c == '\\' && i + 1 < r.size()) {
    const char e = r[i + 1];
    if (std::string_view("dDwWsS").find(e) != std::string_view::npos) {
      s.add_class(e);
    } else if (std::isalnum(static_cast<unsigned char>(e)) && std::string_view("nrtfea").find(e) == std::string_view::npos) {
      return std::nullopt;  // \b, \x.., \p{..}: not a plain character
    } else {
      s.add_range(static_cast<unsigned char>(escape_char(e)), static_cast<unsigned char>(escape_char(e)));
    }
    i += 2;
    return s;
  }
  if (c == '[') {
    std::size_t j = i + 1;
    bool negate = false;
    if (j < r.size() && r[j] == '^') {
      negate = true;
      ++j;
    }
    bool first = true;
    while (j < r.size() && (r[j] != ']' || first)) {
      first = false;
      unsigned lo;
      if (r[j] == '\\' && j + 1 < r.size()) {
        const char e = r[j + 1];
        if (std::string_view("dDwWsS").find(e) != std::string_view::npos) {
          s.add_class(e);
          j += 2;
          continue;
        }
        if (std::isalnum(static_cast<unsigned char>(e)) && std::string_view("nrtfea").find(e) == std::string_view::npos)
          return std::nullopt;
        lo = static_cast<unsigned char>(escape_char(e));
        j += 2;
      } else if (r[j] == '[' || static_cast<unsigned char>(r[j]) >= 0x80) {
        return std::nullopt;  // nested classes, non-ASCII members
      } else {
        lo = static_cast<unsigned char>(r[j]);
        ++j;
      }
      unsigned hi = lo;
      if (j + 1 < r.size() && r[j] == '-' && r[j + 1] != ']') {
        if (r[j + 1] == '\\') {
          if (j + 2 >= r.size() || std::isalnum(static_cast<unsigned char>(r[j + 2]))) return std::nullopt;
          hi = static_cast<unsigned char>(r[j + 2]);
          j += 3;
        } else {
          hi = static_cast<unsigned char>(r[j + 1]);
          j += 2;
        }
      }
      s.add_range(lo, hi);
    }
    if (j >= r.size()) return std::nullopt;
    i = j + 1;
    if (negate) {
      s.ascii.flip();
      s.others = !s.others;
    }
    return s;
  }
  if (c == '.') {
    s.ascii.set();
    s.ascii.reset('\n');
    s.others = true;
    ++i;
    return s;
  }
  if (static_cast<unsigned char>(c) < 0x80 && std::string_view("()|*+?{}^$").find(c) == std::string_view::npos) {
    s.add_range(static_cast<unsigned char>(c), static_cast<unsigned char>(c));
    ++i;
    return s;
  }
  return std::nullopt;
}

// `(?!a|[bc]|\d)` at regex[i] (i at '('): the union of its single-character alternatives.
std::optional<CharSet> lookahead_set(std::string_view r, std::size_t& i) {
  std::size_t j = i + 3;
  CharSet all;
  while (true) {
    auto one = single_char_atom(r, j);
    if (!one) return std::nullopt;
    all.ascii |= one->ascii;
    all.others = all.others || one->others;
    if (j < r.size() && r[j] == '|') {
      ++j;
      continue;
    }
    if (j < r.size() && r[j] == ')') break;
    return std::nullopt;
  }
  i = j + 1;
  return all;
}

// The Java/Oniguruma → RE2 rewrite, with an optional expansion hook for GROK's %{...}.
struct JavaTranslator {
  std::string_view r;
  TranslatedRegex out;
  std::size_t base = 0;  // offset of `r` in what the user wrote (errors)

  Result<bool> run() {
    std::size_t i = 0;
    while (i < r.size()) {
      const char c = r[i];
      if (c == '\\') {
        if (i + 1 >= r.size()) return regex_error(base + i, "the regex ends with a lone backslash");
        const char e = r[i + 1];
        if (e == 'Q') {  // \Q...\E: literal text
          std::size_t end = r.find("\\E", i + 2);
          std::string_view lit = r.substr(i + 2, end == std::string_view::npos ? std::string_view::npos : end - i - 2);
          for (char x : lit) append_literal(out.pattern, x);
          i = end == std::string_view::npos ? r.size() : end + 2;
          continue;
        }
        if (e == 'Z') {
          out.pattern += "(?:\\n?\\z)";
          i += 2;
          continue;
        }
        if (e == 'h') {
          out.pattern += "[\\t \\x{a0}]";
          i += 2;
          continue;
        }
        if (std::isdigit(static_cast<unsigned char>(e)) && e != '0')
          return regex_error(base + i, "back-references (\\1) cannot run in linear time and are not supported");
        if (e == 'k') return regex_error(base + i, "named back-references (\\k<name>) are not supported");
        if (e == '_') {  // Java reads \_ as '_'; RE2 refuses escaped word characters
          out.pattern += '_';
          i += 2;
          continue;
        }
        out.pattern += c;
        out.pattern += e;
        i += 2;
        continue;
      }
      if (c == '[') {  // copy the class as it is (RE2 reads Java's common class syntax)
        std::size_t j = i + 1;
        if (j < r.size() && r[j] == '^') ++j;
        if (j < r.size() && r[j] == ']') ++j;
        while (j < r.size() && r[j] != ']') {
          if (r[j] == '\\') ++j;
          else if (r[j] == '[') return regex_error(base + j, "nested character classes ([a[b]], [a&&b]) are not supported");
          ++j;
        }
        if (j >= r.size()) return regex_error(base + i, "a character class is not closed");
        for (std::size_t k = i; k <= j; ++k) {
          if (r[k] == '\\' && k + 1 <= j && r[k + 1] == '_') continue;  // [\_] is [_]
          out.pattern += r[k];
          if (r[k] == '\\' && k + 1 <= j) out.pattern += r[++k];
        }
        i = j + 1;
        continue;
      }
      if (c == '(' && i + 2 < r.size() && r[i + 1] == '?') {
        const char k = r[i + 2];
        // (?<name> (Java, Oniguruma) or (?P<name> (Python, RE2): the name starts here.
        std::size_t name_at = 0;
        if (k == '<' && i + 3 < r.size() && r[i + 3] != '=' && r[i + 3] != '!') name_at = i + 3;
        if (k == 'P' && i + 3 < r.size() && r[i + 3] == '<') name_at = i + 4;
        if (name_at) {
          const std::size_t close = r.find('>', name_at);
          if (close == std::string_view::npos) return regex_error(base + i, "a group name is not closed with '>'");
          out.names.emplace_back(r.substr(name_at, close - name_at));
          out.types.emplace_back();
          out.pattern += fmt::format("(?P<g{}>", out.names.size() - 1);
          i = close + 1;
          continue;
        }
        if (k == '>') {  // atomic group: greedy
          out.pattern += "(?:";
          i += 3;
          continue;
        }
        if (k == '!') {
          std::size_t j = i;
          auto minus = lookahead_set(r, j);
          std::size_t after = j;
          auto next = minus ? single_char_atom(r, after) : std::nullopt;
          if (!minus || !next)
            return regex_error(base + i,
                               "lookahead (?!...) is only supported as single characters before a single-character "
                               "atom (RE2 runs in linear time and has no lookaround)");
          CharSet rest = *next;
          rest.ascii &= ~minus->ascii;
          rest.others = rest.others && !minus->others;
          // A quantifier on the atom: its first repetition is the one the lookahead guards.
          if (after < r.size() && (r[after] == '+')) {
            out.pattern += "(?:" + rest.render() + std::string(r.substr(j, after - j)) + "*)";
            ++after;
            if (after < r.size() && (r[after] == '+' || r[after] == '?')) ++after;
          } else if (after < r.size() && (r[after] == '*' || r[after] == '?' || r[after] == '{')) {
            return regex_error(base + i, "a lookahead before an optional or counted atom is not supported");
          } else {
            out.pattern += rest.render();
          }
          i = after;
          continue;
        }
        if (k == '=' || (k == '<' && i + 3 < r.size() && (r[i + 3] == '=' || r[i + 3] == '!')))
          return regex_error(base + i, "lookaround ((?=...), (?<=...), (?<!...)) is not supported: RE2 runs in "
                                       "linear time and has no lookaround");
        // (?flags) and (?flags:...): RE2 knows i, m, s, U; Java's x, u, d, U differ.
        std::size_t j = i + 2;
        while (j < r.size() && (std::isalpha(static_cast<unsigned char>(r[j])) || r[j] == '-')) {
          if (std::string_view("imsU-").find(r[j]) == std::string_view::npos)
            return regex_error(base + j, fmt::format("the regex flag '{}' is not supported (i, m and s are)", r[j]));
          ++j;
        }
        out.pattern.append(r.substr(i, j - i));
        i = j;
        continue;
      }
      if (c == '(') {  // a plain group captures: keep the group numbering in names
        out.names.emplace_back();
        out.types.emplace_back();
        out.pattern += c;
        ++i;
        continue;
      }
      if ((c == '+' || c == '*' || c == '?' || c == '}') && i + 1 < r.size() && r[i + 1] == '+') {
        out.pattern += c;  // possessive: greedy
        i += 2;
        continue;
      }
      out.pattern += c;
      ++i;
    }
    return true;
  }
};

// The grok base patterns (the common part of Logstash's grok-patterns).
const std::map<std::string, std::string, std::less<>>& grok_library() {
  static const std::map<std::string, std::string, std::less<>> kLibrary = {
      {"USERNAME", "[a-zA-Z0-9._-]+"},
      {"USER", "%{USERNAME}"},
      {"EMAILLOCALPART", "[a-zA-Z0-9!#$%&'*+\\-/=?^_`{|}~]{1,64}(?:\\.[a-zA-Z0-9!#$%&'*+\\-/=?^_`{|}~]{1,62}){0,63}"},
      {"EMAILADDRESS", "%{EMAILLOCALPART}@%{HOSTNAME}"},
      {"INT", "(?:[+-]?(?:[0-9]+))"},
      {"BASE10NUM", "(?:[+-]?(?:[0-9]+(?:\\.[0-9]+)?|\\.[0-9]+))"},
      {"NUMBER", "(?:%{BASE10NUM})"},
      {"BASE16NUM", "(?:0[xX]?[0-9a-fA-F]+)"},
      {"POSINT", "\\b(?:[1-9][0-9]*)\\b"},
      {"NONNEGINT", "\\b(?:[0-9]+)\\b"},
      {"WORD", "\\b\\w+\\b"},
      {"NOTSPACE", "\\S+"},
      {"SPACE", "\\s*"},
      {"DATA", ".*?"},
      {"GREEDYDATA", ".*"},
      {"QUOTEDSTRING", "(?:\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`(?:[^`\\\\]|\\\\.)*`)"},
      {"QS", "%{QUOTEDSTRING}"},
      {"UUID", "[A-Fa-f0-9]{8}-(?:[A-Fa-f0-9]{4}-){3}[A-Fa-f0-9]{12}"},
      {"MAC", "(?:(?:[A-Fa-f0-9]{2}[:-]){5}[A-Fa-f0-9]{2}|(?:[A-Fa-f0-9]{4}\\.){2}[A-Fa-f0-9]{4})"},
      {"IPV4", "(?:(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)"},
      {"IPV6", "(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?:%[0-9A-Za-z]+)?"},
      {"IP", "(?:%{IPV6}|%{IPV4})"},
      {"HOSTNAME", "\\b(?:[0-9A-Za-z][0-9A-Za-z-]{0,62})(?:\\.(?:[0-9A-Za-z][0-9A-Za-z-]{0,62}))*(?:\\.?|\\b)"},
      {"IPORHOST", "(?:%{IP}|%{HOSTNAME})"},
      {"HOSTPORT", "%{IPORHOST}:%{POSINT}"},
      {"WINPATH", "(?:[A-Za-z]+:|\\\\)(?:\\\\[^\\\\?*]*)+"},
      {"UNIXPATH", "(?:/[\\w_%!$@:.,+~-]*)+"},
      {"PATH", "(?:%{UNIXPATH}|%{WINPATH})"},
      {"URIPROTO", "[A-Za-z][A-Za-z0-9+\\-.]+"},
      {"URIHOST", "%{IPORHOST}(?::%{POSINT})?"},
      {"URIPATH", "(?:/[A-Za-z0-9$.+!*'(){},~:;=@#%&_\\-]*)+"},
      {"URIQUERY", "[A-Za-z0-9$.+!*'|(){},~@#%&/=:;_?\\-\\[\\]<>]*"},
      {"URI", "%{URIPROTO}://(?:%{USER}(?::[^@]*)?@)?(?:%{URIHOST})?(?:%{URIPATH}(?:\\?%{URIQUERY})?)?"},
      {"MONTHNUM", "(?:0?[1-9]|1[0-2])"},
      {"MONTHDAY", "(?:(?:0[1-9])|(?:[12][0-9])|(?:3[01])|[1-9])"},
      {"YEAR", "(?:\\d\\d){1,2}"},
      {"HOUR", "(?:2[0123]|[01]?[0-9])"},
      {"MINUTE", "(?:[0-5][0-9])"},
      {"SECOND", "(?:(?:[0-5]?[0-9]|60)(?:[:.,][0-9]+)?)"},
      {"TIME", "%{HOUR}:%{MINUTE}(?::%{SECOND})?"},
      {"ISO8601_TIMEZONE", "(?:Z|[+-]%{HOUR}(?::?%{MINUTE}))"},
      {"TIMESTAMP_ISO8601",
       "%{YEAR}-%{MONTHNUM}-%{MONTHDAY}[T ]%{HOUR}:?%{MINUTE}(?::?%{SECOND})?%{ISO8601_TIMEZONE}?"},
      {"LOGLEVEL",
       "(?:[Aa]lert|ALERT|[Tt]race|TRACE|[Dd]ebug|DEBUG|[Nn]otice|NOTICE|[Ii]nfo?(?:rmation)?|INFO?(?:RMATION)?|"
       "[Ww]arn?(?:ing)?|WARN?(?:ING)?|[Ee]rr?(?:or)?|ERR?(?:OR)?|[Cc]rit?(?:ical)?|CRIT?(?:ICAL)?|[Ff]atal|FATAL|"
       "[Ss]evere|SEVERE|EMERG(?:ENCY)?|[Ee]merg(?:ency)?)"},
  };
  return kLibrary;
}

// Expands %{...} (recursively, at most 16 deep) into Java syntax with (?<name>) groups.
Result<std::string> expand_grok(std::string_view p, std::size_t base, int depth,
                                std::vector<std::pair<std::string, std::string>>& typed) {
  if (depth > 16) return regex_error(base, "grok patterns nest too deeply");
  std::string out;
  std::size_t i = 0;
  while (i < p.size()) {
    if (p[i] == '\\' && i + 1 < p.size()) {
      out.append(p.substr(i, 2));
      i += 2;
      continue;
    }
    if (p.substr(i, 2) != "%{") {
      out += p[i++];
      continue;
    }
    const std::size_t close = p.find('}', i);
    if (close == std::string_view::npos) return regex_error(base + i, "a %{ in the grok pattern is not closed");
    std::string_view spec = p.substr(i + 2, close - i - 2);
    std::string_view syntax = spec.substr(0, spec.find(':'));
    std::string_view field, type;
    if (syntax.size() < spec.size()) {
      field = spec.substr(syntax.size() + 1);
      if (auto colon = field.find(':'); colon != std::string_view::npos) {
        type = field.substr(colon + 1);
        field = field.substr(0, colon);
      }
    }
    const auto& lib = grok_library();
    auto it = lib.find(syntax);
    if (it == lib.end())
      return regex_error(base + i + 2, fmt::format("unknown grok pattern %{{{}}}", syntax));
    if (!type.empty() && type != "int" && type != "long" && type != "float" && type != "double" && type != "boolean")
      return regex_error(base + i, fmt::format("unknown grok type '{}' (int, long, float, double, boolean)", type));
    auto inner = expand_grok(it->second, base + i, depth + 1, typed);
    if (!inner) return inner;
    if (field.empty()) {
      out += "(?:" + *inner + ")";
    } else {
      typed.emplace_back(std::string(field), std::string(type));
      out += "(?<" + std::string(field) + ">" + *inner + ")";
    }
    i = close + 1;
  }
  return out;
}

}  // namespace

Result<TranslatedRegex> translate_java_regex(std::string_view regex) {
  JavaTranslator t{regex, {}, 0};
  if (auto ok = t.run(); !ok) return ok.error();
  return std::move(t.out);
}

Result<std::string> translate_lucene_regex(std::string_view r) {
  std::string out = "(?s:";
  std::size_t i = 0;
  while (i < r.size()) {
    const char c = r[i];
    if (c == '\\') {
      if (i + 1 >= r.size()) return regex_error(i, "the regex ends with a lone backslash");
      const char e = r[i + 1];
      if (std::string_view("dDwWsS").find(e) != std::string_view::npos) {
        out += '\\';
        out += e;
      } else {
        append_literal(out, e);  // Lucene: a backslash makes the next character literal
      }
      i += 2;
      continue;
    }
    if (c == '"') {  // "literal text"
      const std::size_t close = r.find('"', i + 1);
      if (close == std::string_view::npos) return regex_error(i, "a quoted string in the regex is not closed");
      for (char x : r.substr(i + 1, close - i - 1)) append_literal(out, x);
      i = close + 1;
      continue;
    }
    if (c == '[') {
      std::size_t j = i + 1;
      if (j < r.size() && r[j] == '^') ++j;
      while (j < r.size() && r[j] != ']') {
        if (r[j] == '\\') ++j;
        ++j;
      }
      if (j >= r.size()) return regex_error(i, "a character class is not closed");
      out.append(r.substr(i, j + 1 - i));
      i = j + 1;
      continue;
    }
    if (c == '{') {  // a repetition {n}, {n,}, {n,m}: copied as written
      const std::size_t close = r.find('}', i);
      if (close == std::string_view::npos) return regex_error(i, "a {repetition} in the regex is not closed");
      out.append(r.substr(i, close + 1 - i));
      i = close + 1;
      continue;
    }
    if (std::string_view("().|*+?").find(c) != std::string_view::npos) {
      out += c;
    } else if (c == '~' || c == '&' || c == '<' || c == '@' || c == '#') {
      append_literal(out, c);  // Lucene's optional operators: ES|QL reads them as characters
    } else {
      append_literal(out, c);
    }
    ++i;
  }
  return out + ")";
}

std::string translate_like(std::string_view p) {
  std::string out = "(?s:";
  for (std::size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      append_literal(out, p[++i]);
    } else if (c == '*') {
      out += ".*";
    } else if (c == '?') {
      out += '.';
    } else {
      append_literal(out, c);
    }
  }
  return out + ")";
}

Result<TranslatedRegex> translate_grok(std::string_view pattern) {
  std::vector<std::pair<std::string, std::string>> typed;
  auto expanded = expand_grok(pattern, 0, 0, typed);
  if (!expanded) return expanded.error();
  auto t = translate_java_regex(*expanded);
  if (!t) return t;
  for (std::size_t g = 0; g < t->names.size(); ++g) {
    for (const auto& [name, type] : typed) {
      if (name == t->names[g]) t->types[g] = type;
    }
  }
  return t;
}

Result<std::string> translate_replacement(std::string_view rep, const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < rep.size(); ++i) {
    const char c = rep[i];
    if (c == '\\' && i + 1 < rep.size()) {
      ++i;
      if (rep[i] == '\\') out += "\\\\";
      else out += rep[i];
    } else if (c == '$' && i + 1 < rep.size() && std::isdigit(static_cast<unsigned char>(rep[i + 1]))) {
      // Java: the longest number that is still a group ($12 with 11 groups is $1 then "2").
      std::size_t j = i + 1;
      std::size_t group = static_cast<std::size_t>(rep[j] - '0');
      ++j;
      while (j < rep.size() && std::isdigit(static_cast<unsigned char>(rep[j])) &&
             group * 10 + static_cast<std::size_t>(rep[j] - '0') <= names.size()) {
        group = group * 10 + static_cast<std::size_t>(rep[j] - '0');
        ++j;
      }
      if (group > names.size() || group > 9)
        return regex_error(i, fmt::format("the replacement names group {} the regex does not have", group));
      out += '\\';
      out += static_cast<char>('0' + group);
      i = j - 1;
    } else if (c == '$' && i + 1 < rep.size() && rep[i + 1] == '{') {
      const std::size_t close = rep.find('}', i);
      if (close == std::string_view::npos) return regex_error(i, "a ${name} in the replacement is not closed");
      std::string_view name = rep.substr(i + 2, close - i - 2);
      std::size_t group = 0;
      for (std::size_t g = 0; g < names.size(); ++g) {
        if (names[g] == name) group = g + 1;
      }
      if (group == 0 || group > 9)
        return regex_error(i, fmt::format("the replacement names group '{}' the regex does not have", name));
      out += '\\';
      out += static_cast<char>('0' + group);
      i = close;
    } else if (c == '$') {
      return regex_error(i, "a '$' in the replacement must name a group ($1, ${name}) or be written \\$");
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace vigil::esql
