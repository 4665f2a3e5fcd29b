// Program execution. Three-valued logic (true / false / null) as EQL
// defines it; predicates over multi-valued fields are true when any value
// satisfies them; two-valued predicates (see compiler.cpp) turn null into
// false. Values are views: nothing here allocates except function results
// that build strings, which go to the context's scratch arena.
#include <cmath>

#include "core/text.h"
#include "core/document.h"
#include "eql/program.h"

namespace vigil::eql {
namespace {

enum class Truth : std::uint8_t { False, True, Null };

Value from_truth(Truth t) { return t == Truth::Null ? Value::null() : Value::boolean(t == Truth::True); }

// Folds "any element is true" over a value that may be an array.
template <typename Fn>
Truth any_of_values(const Value& v, Fn&& test) {
  if (v.kind() != ValueKind::Array) return test(v);
  bool saw_false = false;
  for (const Value& item : v.as_array()) {
    Truth t = test(item);
    if (t == Truth::True) return Truth::True;
    saw_false |= t == Truth::False;
  }
  return saw_false ? Truth::False : Truth::Null;
}

Truth compare_scalar(const Value& a, const Value& b, CompareOp op, bool fold) {
  if (a.is_null() || b.is_null()) return Truth::Null;
  int c;
  if (a.is_numeric() && b.is_numeric()) {
    if (a.kind() == ValueKind::Int && b.kind() == ValueKind::Int) {
      c = a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int() ? 1 : 0;
    } else {
      double x = a.as_double(), y = b.as_double();
      if (std::isnan(x) || std::isnan(y)) return Truth::Null;
      c = x < y ? -1 : x > y ? 1 : 0;
    }
  } else if (a.is_text() && b.is_text()) {
    if (op == CompareOp::Eq && (a.kind() == ValueKind::Ip || b.kind() == ValueKind::Ip)) {
      auto x = parse_ip(a.as_string());
      auto y = parse_ip(b.as_string());
      if (x && y) return *x == *y ? Truth::True : Truth::False;
    }
    if (fold) {
      c = compare_folded(a.as_string(), b.as_string());
    } else {
      int r = a.as_string().compare(b.as_string());
      c = r < 0 ? -1 : r > 0 ? 1 : 0;
    }
  } else if (a.kind() == ValueKind::Bool && b.kind() == ValueKind::Bool) {
    if (op != CompareOp::Eq) return Truth::Null;
    c = a.as_bool() == b.as_bool() ? 0 : 1;
  } else {
    // Different types: never equal, and not ordered.
    return op == CompareOp::Eq ? Truth::False : Truth::Null;
  }
  switch (op) {
    case CompareOp::Eq: return c == 0 ? Truth::True : Truth::False;
    case CompareOp::Lt: return c < 0 ? Truth::True : Truth::False;
    case CompareOp::Lte: return c <= 0 ? Truth::True : Truth::False;
    case CompareOp::Gt: return c > 0 ? Truth::True : Truth::False;
    case CompareOp::Gte: return c >= 0 ? Truth::True : Truth::False;
    default: return Truth::Null;
  }
}

Truth compare_values(const Value& a, const Value& b, CompareOp op, bool fold) {
  return any_of_values(a, [&](const Value& x) {
    return any_of_values(b, [&](const Value& y) { return compare_scalar(x, y, op, fold); });
  });
}

Truth in_set(const Value& v, const ConstantSet& set, bool fold) {
  return any_of_values(v, [&](const Value& x) -> Truth {
    switch (x.kind()) {
      case ValueKind::Null: return Truth::Null;
      case ValueKind::String:
      case ValueKind::Ip: {
        if (set.strings.empty()) return Truth::False;
        std::string_view s = x.as_string();
        if (!fold) return set.strings.contains(s) ? Truth::True : Truth::False;
        return with_folded(s, [&](std::string_view f) { return set.strings.contains(f); }) ? Truth::True : Truth::False;
      }
      case ValueKind::Int:
      case ValueKind::Float: {
        double d = x.as_double();
        for (double n : set.numbers) {
          if (n == d) return Truth::True;
        }
        return Truth::False;
      }
      case ValueKind::Bool: {
        for (bool b : set.bools) {
          if (b == x.as_bool()) return Truth::True;
        }
        return Truth::False;
      }
      case ValueKind::Array: return Truth::Null;
    }
    return Truth::Null;
  });
}

Value scalar_of(const Value& v) {
  if (v.kind() != ValueKind::Array) return v;
  auto items = v.as_array();
  return items.empty() ? Value::null() : items[0];
}

// Text of a scalar for pattern matching; numbers and booleans are rendered.
std::string_view text_for_match(const Value& v, Arena& scratch) {
  if (v.is_text()) return v.as_string();
  std::string tmp;
  append_text(tmp, v);
  return scratch.copy(tmp);
}

}  // namespace

Value evaluate(const Program& p, std::uint32_t index, const Event& event, EvalContext& ctx) {
  const Instr& ins = p.instrs[index];
  const std::uint32_t* kids = p.children.data() + ins.first_child;
  const bool two_valued = (ins.flags & kTwoValued) != 0;
  const bool fold = (ins.flags & kInsensitive) != 0;
  auto settle = [two_valued](Truth t) {
    if (two_valued && t == Truth::Null) t = Truth::False;
    return from_truth(t);
  };
  switch (ins.op) {
    case OpCode::Constant: return p.constants[ins.arg];
    case OpCode::Field: return event.get(ins.arg);
    case OpCode::Not: {
      Value v = evaluate(p, kids[0], event, ctx);
      if (v.kind() != ValueKind::Bool) return Value::null();
      return Value::boolean(!v.as_bool());
    }
    case OpCode::And:
    case OpCode::Or: {
      // `and` stops at the first false, `or` at the first true; otherwise any
      // null operand makes the result null (three-valued logic).
      const bool decisive = ins.op == OpCode::Or;
      bool saw_null = false;
      for (std::uint32_t k = 0; k < ins.child_count; ++k) {
        Value v = evaluate(p, kids[k], event, ctx);
        if (v.kind() != ValueKind::Bool) {
          saw_null = true;
        } else if (v.as_bool() == decisive) {
          return Value::boolean(decisive);
        }
      }
      return saw_null ? Value::null() : Value::boolean(!decisive);
    }
    case OpCode::Compare: {
      Value a = evaluate(p, kids[0], event, ctx);
      Value b = evaluate(p, kids[1], event, ctx);
      if ((ins.flags & kNullSafe) && (a.is_null() || b.is_null())) return Value::boolean(a.is_null() && b.is_null());
      return settle(compare_values(a, b, static_cast<CompareOp>(ins.sub), fold));
    }
    case OpCode::IsNull: {
      Value v = evaluate(p, kids[0], event, ctx);
      bool is_null = v.is_null() || (v.kind() == ValueKind::Array && v.as_array().empty());
      return Value::boolean(is_null);
    }
    case OpCode::Arith: {
      Value a = scalar_of(evaluate(p, kids[0], event, ctx));
      Value b = scalar_of(evaluate(p, kids[1], event, ctx));
      static constexpr char kOps[] = {'+', '-', '*', '/', '%'};
      return arithmetic(kOps[ins.sub], a, b);
    }
    case OpCode::Negate: {
      Value v = scalar_of(evaluate(p, kids[0], event, ctx));
      if (v.kind() == ValueKind::Int) {
        if (v.as_int() == INT64_MIN) return Value::floating(-static_cast<double>(v.as_int()));
        return Value::integer(-v.as_int());
      }
      if (v.kind() == ValueKind::Float) return Value::floating(-v.as_float());
      return Value::null();
    }
    case OpCode::InSet: {
      Value v = evaluate(p, kids[0], event, ctx);
      const ConstantSet& set = p.sets[ins.arg];
      Truth t = in_set(v, set, fold);
      if (t != Truth::True && set.has_null && v.is_null()) t = Truth::True;
      return settle(t);
    }
    case OpCode::InList: {
      Value v = evaluate(p, kids[0], event, ctx);
      if (v.is_null()) return Value::null();
      Truth result = Truth::False;
      for (std::uint32_t k = 1; k < ins.child_count; ++k) {
        Value item = evaluate(p, kids[k], event, ctx);
        Truth t = compare_values(v, item, CompareOp::Eq, fold);
        if (t == Truth::True) return Value::boolean(true);
        if (t == Truth::Null && !item.is_null()) result = Truth::Null;
      }
      return from_truth(result);
    }
    case OpCode::Wildcard: {
      Value v = evaluate(p, kids[0], event, ctx);
      const auto& patterns = p.patterns[ins.arg];
      const AdaptiveWildcards& scan = *p.wildcard_scans[ins.arg];
      Truth t = any_of_values(v, [&](const Value& x) {
        if (x.is_null()) return Truth::Null;
        return scan.matches_any(patterns, text_for_match(x, ctx.scratch), ctx.wildcards) ? Truth::True : Truth::False;
      });
      return settle(t);
    }
    case OpCode::Regex: {
      Value v = evaluate(p, kids[0], event, ctx);
      const auto& regexes = p.regexes[ins.arg];
      Truth t = any_of_values(v, [&](const Value& x) {
        if (x.is_null()) return Truth::Null;
        std::string_view s = text_for_match(x, ctx.scratch);
        for (const auto& re : regexes) {
          if (RE2::FullMatch(s, *re)) return Truth::True;
        }
        return Truth::False;
      });
      return settle(t);
    }
    case OpCode::Keywords: {
      const auto& patterns = p.patterns[ins.arg];
      const AdaptiveWildcards& scan = *p.wildcard_scans[ins.arg];
      return Value::boolean(
          any_event_text(event, [&](std::string_view text) { return scan.matches_any(patterns, text, ctx.wildcards); }));
    }
    case OpCode::Call: {
      constexpr std::uint32_t kInline = 8;
      Value inline_args[kInline];
      Value* args = ins.child_count <= kInline ? inline_args : ctx.scratch.allocate_array<Value>(ins.child_count);
      for (std::uint32_t k = 0; k < ins.child_count; ++k) args[k] = evaluate(p, kids[k], event, ctx);
      const FunctionSpec* f = p.functions[ins.arg];
      Value r;
      // Predicates on a multi-valued first argument test each value.
      if (f->result == ResultType::Bool && ins.child_count > 0 && args[0].kind() == ValueKind::Array &&
          f->name != "cidrMatch") {
        Value first = args[0];
        Truth t = any_of_values(first, [&](const Value& x) {
          args[0] = x;
          Value one = f->impl({args, ins.child_count}, fold, ctx.scratch);
          return one.is_null() ? Truth::Null : (one.as_bool() ? Truth::True : Truth::False);
        });
        r = from_truth(t);
      } else {
        r = f->impl({args, ins.child_count}, fold, ctx.scratch);
      }
      if (two_valued && r.is_null()) return Value::boolean(false);
      return r;
    }
  }
  return Value::null();
}

bool matches(const Program& program, const Event& event, EvalContext& context) {
  Value v = evaluate(program, program.root, event, context);
  context.scratch.reset();
  return v.kind() == ValueKind::Bool && v.as_bool();
}

}  // namespace vigil::eql
