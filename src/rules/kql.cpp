// KQL → EQL: a recursive-descent parser over the KQL text that writes the
// equivalent EQL expression as it goes.
#include "rules/kql.h"

#include "eql/keywords.h"
#include "rules/eql_text.h"

#include <fmt/format.h>

#include <cctype>
#include <optional>
#include <vector>

namespace vigil {
namespace {

// Fields Elastic maps as full text (analyzed): a value matches as a phrase.
bool full_text_field(std::string_view field) {
  return field == "powershell.file.script_block_text" || field == "message" || field.ends_with(".text") ||
         field == "winlog.event_data.ScriptBlockText" || field == "error.message";
}

bool is_number(std::string_view s) {
  if (s.empty()) return false;
  std::size_t i = s[0] == '-' ? 1 : 0;
  bool digits = false, dot = false;
  for (; i < s.size(); ++i) {
    if (std::isdigit(static_cast<unsigned char>(s[i]))) {
      digits = true;
    } else if (s[i] == '.' && !dot) {
      dot = true;
    } else {
      return false;
    }
  }
  return digits;
}

class Translator {
 public:
  explicit Translator(std::string_view text) : text_(text) {}

  Result<std::string> run() {
    skip_space();
    if (at_end()) return error("empty query");
    std::string expr;
    if (!or_expr(expr)) return *error_;
    skip_space();
    if (!at_end()) return error(fmt::format("unexpected `{}`", text_[pos_]));
    return "any where " + expr;
  }

 private:
  // ---- lexing helpers ----
  bool at_end() const { return pos_ >= text_.size(); }
  void skip_space() {
    while (!at_end() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  // A keyword (and/or/not, any case) followed by a boundary.
  bool keyword(std::string_view word) {
    skip_space();
    if (text_.size() - pos_ < word.size()) return false;
    for (std::size_t i = 0; i < word.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(text_[pos_ + i])) != word[i]) return false;
    }
    std::size_t end = pos_ + word.size();
    if (end < text_.size() && !std::isspace(static_cast<unsigned char>(text_[end])) && text_[end] != '(' &&
        text_[end] != ')' && text_[end] != '"')
      return false;
    pos_ = end;
    return true;
  }
  bool punct(char c) {
    skip_space();
    if (!at_end() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  Error error(std::string message) const {
    std::uint32_t line = 1, column = 1;
    for (std::size_t i = 0; i < pos_ && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    return Error{"kql.syntax", std::move(message), {line, column, static_cast<std::uint32_t>(pos_)}};
  }
  bool fail(std::string message) {
    if (!error_) error_ = error(std::move(message));
    return false;
  }

  // A value: a quoted phrase (literal) or an unquoted term (backslash escapes, `*` wildcard).
  struct Term {
    std::string text;
    bool quoted = false;
    bool wildcard = false;
  };
  bool term(Term& t) {
    skip_space();
    if (at_end()) return fail("expected a value");
    if (text_[pos_] == '"') {
      ++pos_;
      t.quoted = true;
      while (!at_end() && text_[pos_] != '"') {
        if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) ++pos_;
        t.text.push_back(text_[pos_++]);
      }
      if (at_end()) return fail("unterminated quoted value");
      ++pos_;
      return true;
    }
    std::size_t start = pos_;
    while (!at_end()) {
      char c = text_[pos_];
      if (std::isspace(static_cast<unsigned char>(c)) || c == '(' || c == ')' || c == ':' || c == '<' || c == '>' ||
          c == '{' || c == '}' || c == '"')
        break;
      if (c == '\\' && pos_ + 1 < text_.size()) {
        t.text.push_back(text_[pos_ + 1]);
        pos_ += 2;
        continue;
      }
      if (c == '*') t.wildcard = true;
      t.text.push_back(c);
      ++pos_;
    }
    if (pos_ == start) return fail("expected a value");
    return true;
  }

  // field OP value, as EQL.
  std::string compare(const std::string& field, const Term& t) {
    if (t.wildcard && t.text == "*") return field + " != null";
    if (full_text_field(field)) {
      // A phrase anywhere in the text, case-insensitive (`:` folds case).
      std::string pattern = (!t.quoted && t.wildcard) ? t.text : "*" + t.text + "*";
      return field + " : " + eql_quote(pattern);
    }
    if (!t.quoted && t.wildcard) return field + " like " + eql_quote(t.text);
    if (!t.quoted && is_number(t.text)) return "(" + field + " == " + t.text + " or " + field + " == " + eql_quote(t.text) + ")";
    if (!t.quoted && (t.text == "true" || t.text == "false")) {
      return "(" + field + " == " + t.text + " or " + field + " == " + eql_quote(t.text) + ")";
    }
    return field + " == " + eql_quote(t.text);
  }

  // operand (op operand)*, as a flat chain: long value lists must not nest
  // one level per term.
  template <typename Operand>
  bool chain(std::string_view op, Operand&& operand, std::string& out) {
    std::string part;
    if (!operand(part)) return false;
    std::vector<std::string> parts{part};
    while (keyword(op)) {
      if (!operand(part)) return false;
      parts.push_back(part);
    }
    out = eql_join(parts, std::string(" ") + std::string(op) + " ");
    return true;
  }

  // Values after `field :`: a term, or a parenthesized boolean of terms.
  bool value_or(const std::string& field, std::string& out) {
    return chain("or", [&](std::string& part) { return value_and(field, part); }, out);
  }

  bool value_and(const std::string& field, std::string& out) {
    return chain("and", [&](std::string& part) { return value_not(field, part); }, out);
  }

  bool value_not(const std::string& field, std::string& out) {
    if (keyword("not")) {
      std::string inner;
      if (!value_not(field, inner)) return false;
      out = "not (" + inner + ")";
      return true;
    }
    if (punct('(')) {
      if (++depth_ > 64) return fail("nesting too deep");
      if (!value_or(field, out)) return false;
      --depth_;
      if (!punct(')')) return fail("expected `)`");
      return true;
    }
    Term t;
    if (!term(t)) return false;
    out = compare(field, t);
    return true;
  }

  // ---- boolean structure ----
  bool or_expr(std::string& out) {
    return chain("or", [&](std::string& part) { return and_expr(part); }, out);
  }

  bool and_expr(std::string& out) {
    return chain("and", [&](std::string& part) { return not_expr(part); }, out);
  }

  bool not_expr(std::string& out) {
    if (keyword("not")) {
      std::string inner;
      if (!not_expr(inner)) return false;
      out = "not (" + inner + ")";
      return true;
    }
    if (punct('(')) {
      if (++depth_ > 64) return fail("nesting too deep");
      if (!or_expr(out)) return false;
      --depth_;
      if (!punct(')')) return fail("expected `)`");
      out = "(" + out + ")";
      return true;
    }
    // field : value | field <op> value
    skip_space();
    std::size_t start = pos_;
    while (!at_end() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '.' ||
                         text_[pos_] == '_' || text_[pos_] == '@' || text_[pos_] == '-')) {
      ++pos_;
    }
    if (pos_ == start) return fail("expected a field name");
    std::string field(text_.substr(start, pos_ - start));
    if (field.find('-') != std::string::npos || field.find('@') != std::string::npos || eql::has_keyword_segment(field)) {
      field = "`" + field + "`";
    }
    skip_space();
    for (std::string_view op : {">=", "<=", ">", "<"}) {
      if (text_.substr(pos_, op.size()) == op) {
        pos_ += op.size();
        Term t;
        if (!term(t)) return false;
        out = field + " " + std::string(op) + " " + (is_number(t.text) ? t.text : eql_quote(t.text));
        return true;
      }
    }
    if (!punct(':')) return fail("expected `:` after the field name (free-text queries are not supported)");
    skip_space();
    if (!at_end() && text_[pos_] == '{') return fail("nested field queries (field:{...}) are not supported");
    std::string values;
    if (!value_not(field, values)) return false;
    out = values;
    return true;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  int depth_ = 0;
  std::optional<Error> error_;
};

}  // namespace

Result<std::string> kql_to_eql(std::string_view kql) { return Translator(kql).run(); }

}  // namespace vigil
