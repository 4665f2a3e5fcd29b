// Static checks over the AST. Each error points at the node it is about.
#include "eql/analyzer.h"

#include <fmt/format.h>
#include <re2/re2.h>

#include "core/text.h"
#include "eql/functions.h"

namespace vigil::eql {
namespace {

std::string_view type_name(StaticType t) {
  switch (t) {
    case StaticType::Unknown: return "unknown";
    case StaticType::Null: return "null";
    case StaticType::Bool: return "boolean";
    case StaticType::Number: return "number";
    case StaticType::Integer: return "integer";
    case StaticType::String: return "string";
  }
  return "?";
}

bool numeric(StaticType t) { return t == StaticType::Number || t == StaticType::Integer; }

class Analyzer {
 public:
  Result<StaticType> check(const Node& n) {
    switch (n.kind) {
      case NodeKind::Null: return StaticType::Null;
      case NodeKind::Bool: return StaticType::Bool;
      case NodeKind::Integer: return StaticType::Integer;
      case NodeKind::Decimal: return StaticType::Number;
      case NodeKind::String: return StaticType::String;
      case NodeKind::Field:
        add_field(n);
        return StaticType::Unknown;
      case NodeKind::Not:
      case NodeKind::And:
      case NodeKind::Or: {
        for (const auto& c : n.children) {
          auto t = check(*c);
          if (!t) return t;
          if (*t != StaticType::Unknown && *t != StaticType::Bool && *t != StaticType::Null)
            return error(*c, fmt::format("'{}' is a {}, but a boolean condition is needed here", to_eql(*c), type_name(*t)));
        }
        return StaticType::Bool;
      }
      case NodeKind::Compare: {
        auto l = check(*n.children[0]);
        if (!l) return l;
        auto r = check(*n.children[1]);
        if (!r) return r;
        bool ordering = n.compare == CompareOp::Lt || n.compare == CompareOp::Lte || n.compare == CompareOp::Gt ||
                        n.compare == CompareOp::Gte;
        if (ordering && (*l == StaticType::Bool || *r == StaticType::Bool))
          return error(n, fmt::format("'{}' orders booleans; only numbers and strings can be ordered", to_eql(n)));
        if (incompatible(*l, *r))
          return error(n, fmt::format("cannot compare a {} with a {} in '{}'", type_name(*l), type_name(*r), to_eql(n)));
        return StaticType::Bool;
      }
      case NodeKind::Arithmetic:
      case NodeKind::Negate: {
        bool all_integer = true;
        for (const auto& c : n.children) {
          auto t = check(*c);
          if (!t) return t;
          if (*t == StaticType::String || *t == StaticType::Bool)
            return error(*c, fmt::format("arithmetic needs numbers, but '{}' is a {}", to_eql(*c), type_name(*t)));
          all_integer &= *t == StaticType::Integer || *t == StaticType::Unknown;
        }
        return all_integer ? StaticType::Integer : StaticType::Number;
      }
      case NodeKind::In: {
        auto l = check(*n.children[0]);
        if (!l) return l;
        for (std::size_t i = 1; i < n.children.size(); ++i) {
          auto t = check(*n.children[i]);
          if (!t) return t;
          if (incompatible(*l, *t))
            return error(*n.children[i], fmt::format("'in' list mixes a {} with a {}", type_name(*l), type_name(*t)));
        }
        return StaticType::Bool;
      }
      case NodeKind::Match: return check_match(n);
      case NodeKind::Call: return check_call(n);
    }
    return StaticType::Unknown;
  }

  Analysis analysis;

 private:
  static bool incompatible(StaticType a, StaticType b) {
    if (a == StaticType::Unknown || b == StaticType::Unknown || a == StaticType::Null || b == StaticType::Null) return false;
    if (numeric(a) && numeric(b)) return false;
    return a != b;
  }

  void add_field(const Node& n) {
    for (auto& f : analysis.fields) {
      if (f.name == n.text) {
        f.optional = f.optional && n.optional;
        return;
      }
    }
    analysis.fields.push_back({n.text, n.optional});
  }

  Error error(const Node& n, std::string message) const {
    return Error{"eql.type", std::move(message), n.pos, n.length};
  }

  Result<StaticType> check_match(const Node& n) {
    auto l = check(*n.children[0]);
    if (!l) return l;
    bool is_regex = n.match == MatchOp::Regex || n.match == MatchOp::RegexInsensitive;
    for (std::size_t i = 1; i < n.children.size(); ++i) {
      const Node& c = *n.children[i];
      if (n.match != MatchOp::Seq && c.kind != NodeKind::String)
        return error(c, fmt::format("{} needs string patterns, found {}", match_op_text(n.match), to_eql(c)));
      if (n.match == MatchOp::Seq && c.kind != NodeKind::String && c.kind != NodeKind::Null && incompatible(*l, *check(c)))
        return error(c, fmt::format("cannot compare a {} with {}", type_name(*l), to_eql(c)));
      if (is_regex) {
        RE2::Options opts;
        opts.set_log_errors(false);
        RE2 re(c.text, opts);
        if (!re.ok()) return error(c, fmt::format("invalid regular expression: {}", re.error()));
      }
    }
    return StaticType::Bool;
  }

  Result<StaticType> check_call(const Node& n) {
    const FunctionSpec* f = find_function(n.text);
    if (!f) {
      std::string known;
      for (const auto& spec : all_functions()) known += (known.empty() ? "" : ", ") + std::string(spec.name);
      std::string hint;
      if (equals_folded(n.text, "wildcard")) hint = " (use ':' with * and ? patterns)";
      else if (equals_folded(n.text, "match") || equals_folded(n.text, "matchLite")) hint = " (use 'regex' or 'regex~')";
      else if (equals_folded(n.text, "arrayContains")) hint = " (use ':' or 'in'; multi-valued fields match when any value does)";
      return Error{"eql.function", fmt::format("unknown function '{}'{}; known functions: {}", n.text, hint, known), n.pos,
                   static_cast<std::uint32_t>(n.text.size())};
    }
    if (n.insensitive && !f->has_insensitive)
      return error(n, fmt::format("{} has no case-insensitive form '{}~'", f->name, f->name));
    std::size_t argc = n.children.size();
    if (argc < f->min_args || (f->max_args != 255 && argc > f->max_args)) {
      std::string expect = f->max_args == 255 ? fmt::format("at least {}", f->min_args)
                           : f->min_args == f->max_args ? fmt::format("{}", f->min_args)
                                                        : fmt::format("{} to {}", f->min_args, f->max_args);
      return error(n, fmt::format("{} takes {} argument{}, found {}", f->name, expect, expect == "1" ? "" : "s", argc));
    }
    for (std::size_t i = 0; i < argc; ++i) {
      const Node& arg = *n.children[i];
      auto t = check(arg);
      if (!t) return t;
      ArgType want = f->arg_types[std::min<std::size_t>(i, last_declared(*f))];
      if (auto e = check_arg(*f, i, arg, *t, want)) return *e;
    }
    switch (f->result) {
      case ResultType::String: return StaticType::String;
      case ResultType::Number: return StaticType::Number;
      case ResultType::Integer: return StaticType::Integer;
      case ResultType::Bool: return StaticType::Bool;
      case ResultType::Any: return StaticType::Unknown;
    }
    return StaticType::Unknown;
  }

  static std::size_t last_declared(const FunctionSpec& f) {
    // Variadic functions repeat their last declared argument type.
    std::size_t n = std::min<std::size_t>(f.max_args == 255 ? f.variadic_declared : f.max_args, 4);
    return n == 0 ? 0 : n - 1;
  }

  std::optional<Error> check_arg(const FunctionSpec& f, std::size_t i, const Node& arg, StaticType t, ArgType want) {
    auto bad = [&](std::string_view what) {
      return error(arg, fmt::format("argument {} of {}() must be {}, found {} '{}'", i + 1, f.name, what, type_name(t),
                                    to_eql(arg)));
    };
    if (t == StaticType::Unknown || t == StaticType::Null) {
      if (want == ArgType::Constant) return bad("a constant string");
      return std::nullopt;
    }
    switch (want) {
      case ArgType::Any: return std::nullopt;
      case ArgType::String: if (t != StaticType::String) return bad("a string"); return std::nullopt;
      case ArgType::Number: if (!numeric(t)) return bad("a number"); return std::nullopt;
      case ArgType::Integer:
        // A computed number is truncated at run time; a decimal literal is a mistake.
        if (!numeric(t) || arg.kind == NodeKind::Decimal) return bad("an integer");
        return std::nullopt;
      case ArgType::Bool: if (t != StaticType::Bool) return bad("a boolean"); return std::nullopt;
      case ArgType::Constant:
        if (arg.kind != NodeKind::String) return bad("a constant string");
        if (f.name == "cidrMatch" && !parse_cidr(arg.text))
          return error(arg, fmt::format("'{}' is not a valid IP address or CIDR block", arg.text));
        return std::nullopt;
    }
    return std::nullopt;
  }
};

}  // namespace

Result<Analysis> analyze_expression(const Node& node) {
  Analyzer a;
  auto t = a.check(node);
  if (!t) return t.error();
  return std::move(a.analysis);
}

Result<Analysis> analyze(const EventQuery& query) {
  Analyzer a;
  auto t = a.check(*query.condition);
  if (!t) return t.error();
  if (*t != StaticType::Unknown && *t != StaticType::Bool && *t != StaticType::Null) {
    const Node& c = *query.condition;
    return Error{"eql.type", fmt::format("the condition after 'where' must be boolean, found a {} '{}'", type_name(*t), to_eql(c)),
                 c.pos, c.length};
  }
  return std::move(a.analysis);
}

}  // namespace vigil::eql
