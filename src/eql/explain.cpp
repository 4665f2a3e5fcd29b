// --explain: the compiled program as an indented tree, so a rule author can
// see what the engine will actually run (sets, wildcard shapes, ordering,
// which predicates are two-valued).
#include <fmt/format.h>

#include "eql/compiler.h"

namespace vigil::eql {
namespace {

std::string_view shape_name(WildcardPattern::Shape s) {
  switch (s) {
    case WildcardPattern::Shape::Exact: return "exact";
    case WildcardPattern::Shape::Prefix: return "prefix";
    case WildcardPattern::Shape::Suffix: return "suffix";
    case WildcardPattern::Shape::Contains: return "contains";
    case WildcardPattern::Shape::General: return "glob";
  }
  return "?";
}

void render(const Program& p, const FieldRegistry& fields, std::uint32_t i, int depth, std::string& out) {
  const Instr& ins = p.instrs[i];
  std::string pad(static_cast<std::size_t>(depth) * 2, ' ');
  std::string flags;
  if (ins.flags & kInsensitive) flags += " case-insensitive";
  if (ins.flags & kTwoValued) flags += " missing=false";
  std::string line;
  switch (ins.op) {
    case OpCode::Constant: {
      std::string v;
      append_json(v, p.constants[ins.arg]);
      line = fmt::format("const {}", v);
      break;
    }
    case OpCode::Field: line = fmt::format("field {}", fields.name(ins.arg)); break;
    case OpCode::Not: line = "not"; break;
    case OpCode::And: line = "and (cheapest first)"; break;
    case OpCode::Or: line = "or"; break;
    case OpCode::Compare: line = fmt::format("compare {}", compare_op_text(static_cast<CompareOp>(ins.sub))); break;
    case OpCode::IsNull: line = "is-null"; break;
    case OpCode::Arith: line = fmt::format("arithmetic {}", arith_op_text(static_cast<ArithOp>(ins.sub))); break;
    case OpCode::Negate: line = "negate"; break;
    case OpCode::InList: line = "in (expressions)"; break;
    case OpCode::InSet: {
      const ConstantSet& s = p.sets[ins.arg];
      std::string items;
      std::size_t shown = 0;
      for (const auto& str : s.strings) {
        if (shown++ == 8) {
          items += ", ...";
          break;
        }
        items += (items.empty() ? "" : ", ");
        append_json_string(items, str);
      }
      for (double n : s.numbers) items += (items.empty() ? "" : ", ") + fmt::format("{}", n);
      for (bool b : s.bools) items += (items.empty() ? "" : ", ") + std::string(b ? "true" : "false");
      line = fmt::format("in-set[{}] {{{}}}", s.strings.size() + s.numbers.size() + s.bools.size(), items);
      break;
    }
    case OpCode::Keywords: {
      std::string items;
      for (const auto& w : p.patterns[ins.arg]) {
        items += (items.empty() ? "" : ", ");
        append_json_string(items, w.pattern());
      }
      line = fmt::format("keywords (any text value of the event)[{}] {}", p.patterns[ins.arg].size(), items);
      break;
    }
    case OpCode::Wildcard: {
      std::string items;
      for (const auto& w : p.patterns[ins.arg]) {
        items += (items.empty() ? "" : ", ");
        append_json_string(items, w.pattern());
        items += fmt::format(" ({})", shape_name(w.shape()));
      }
      line = fmt::format("wildcard[{}] {}", p.patterns[ins.arg].size(), items);
      break;
    }
    case OpCode::Regex: {
      std::string items;
      for (const auto& re : p.regexes[ins.arg]) {
        items += (items.empty() ? "" : ", ");
        append_json_string(items, re->pattern());
      }
      line = fmt::format("regex (RE2, full match) {}", items);
      break;
    }
    case OpCode::Call: line = fmt::format("call {}", p.functions[ins.arg]->name); break;
  }
  out += fmt::format("{}{}{}\n", pad, line, flags);
  for (std::uint32_t k = 0; k < ins.child_count; ++k) render(p, fields, p.children[ins.first_child + k], depth + 1, out);
}

}  // namespace

std::string explain(const SequenceProgram& program, const FieldRegistry& fields) {
  std::string out = fmt::format("query: {}\n", program.source);
  out += fmt::format("maxspan: {}\n", program.maxspan_ns < 0 ? std::string("none")
                                                              : fmt::format("{} ms", program.maxspan_ns / 1000000));
  auto term = [&](const StageProgram& st, const std::string& title) {
    std::string keys;
    for (std::size_t i = 0; i < st.keys.size(); ++i) {
      keys += fmt::format("{}{}{}", i ? ", " : "", st.key_optional[i] ? "?" : "", fields.name(st.keys[i]));
    }
    out += fmt::format("{}{} (category {}; join keys: {})\n", title, st.missing ? " [missing]" : "",
                       st.filter->category.empty() ? "any" : st.filter->category, keys.empty() ? "none" : keys);
    render(*st.filter, fields, st.filter->root, 1, out);
  };
  for (std::size_t i = 0; i < program.stages.size(); ++i) term(program.stages[i], fmt::format("term {}", i + 1));
  if (program.until) term(*program.until, "until");
  for (const auto& pipe : program.pipes) {
    out += fmt::format("pipe: {} {}\n", pipe.kind == Pipe::Kind::Head ? "head" : "tail", pipe.count);
  }
  return out;
}

std::string explain(const Program& program, const FieldRegistry& fields) {
  std::string out = fmt::format("query: {}\n", program.source);
  out += fmt::format("category: {}\n", program.category.empty() ? "any" : program.category);
  out += "fields read:";
  for (std::size_t i = 0; i < fields.size(); ++i) out += fmt::format(" {}", fields.name(static_cast<FieldId>(i)));
  out += "\nplan:\n";
  render(program, fields, program.root, 1, out);
  for (const auto& pipe : program.pipes) {
    out += fmt::format("pipe: {} {}\n", pipe.kind == Pipe::Kind::Head ? "head" : "tail", pipe.count);
  }
  return out;
}

}  // namespace vigil::eql
