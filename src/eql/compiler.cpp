// AST → Program. Decisions made here, once per query, so evaluation never
// makes them per event:
//  - `== null`, `: null` become IsNull; `!=`, `!:`, `not in` become Not(...);
//  - constant lists become hash sets; `:` patterns without wildcards join the
//    set (folded), the others compile to WildcardPatterns; regexes to RE2;
//  - and/or chains are flattened and ordered cheapest first (DESIGN.md);
//  - predicates that Elasticsearch executes as Lucene queries (a field
//    against constants, directly under and/or/not) are marked two-valued:
//    a missing field makes them false rather than null, so `not` of them is
//    true, exactly as Elasticsearch's must_not behaves.
#include "eql/compiler.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "core/text.h"
#include "eql/parser.h"

namespace vigil::eql {
namespace {

class Compiler {
 public:
  Compiler(Program& program, FieldRegistry& fields, const CompileOptions& options)
      : p_(program), fields_(fields), options_(options) {}

  std::uint32_t compile(const Node& n, bool query_context) {
    switch (n.kind) {
      case NodeKind::Null: return constant(Value::null(), n);
      case NodeKind::Bool: return constant(Value::boolean(n.bool_value), n);
      case NodeKind::Integer: return constant(Value::integer(n.int_value), n);
      case NodeKind::Decimal: return constant(Value::floating(n.decimal_value), n);
      case NodeKind::String: return constant(Value::string(own(n.text)), n);
      case NodeKind::Field: return emit({OpCode::Field, 0, 0, fields_.intern_reference(n.text), 0, 0, n.pos}, {});
      case NodeKind::Not: return negate(compile(*n.children[0], query_context), n);
      case NodeKind::And:
      case NodeKind::Or: return logical(n, query_context);
      case NodeKind::Compare: return comparison(n, query_context);
      case NodeKind::Arithmetic: {
        std::uint32_t l = compile(*n.children[0], false);
        std::uint32_t r = compile(*n.children[1], false);
        return emit({OpCode::Arith, 0, static_cast<std::uint8_t>(n.arith), 0, 0, 0, n.pos}, {l, r});
      }
      case NodeKind::Negate: return emit({OpCode::Negate, 0, 0, 0, 0, 0, n.pos}, {compile(*n.children[0], false)});
      case NodeKind::In: return in_list(n, query_context);
      case NodeKind::Match: return match(n, query_context);
      case NodeKind::Call: return call(n, query_context);
    }
    return constant(Value::null(), n);
  }

  std::uint32_t category_filter(const std::string& category, SourcePos pos) {
    std::uint32_t field = emit({OpCode::Field, 0, 0, fields_.intern(options_.event_category_field), 0, 0, pos}, {});
    ConstantSet set;
    set.strings.insert(category);
    p_.sets.push_back(std::move(set));
    return emit({OpCode::InSet, kTwoValued, 0, static_cast<std::uint32_t>(p_.sets.size() - 1), 0, 0, pos}, {field});
  }

  std::uint32_t conjunction(const std::vector<std::uint32_t>& items, SourcePos pos) {
    std::vector<std::uint32_t> parts;
    for (std::uint32_t i : items) {
      const Instr& ins = p_.instrs[i];
      if (ins.op == OpCode::And) {
        parts.insert(parts.end(), p_.children.begin() + ins.first_child,
                     p_.children.begin() + ins.first_child + ins.child_count);
      } else {
        parts.push_back(i);
      }
    }
    order_conjuncts(parts);
    return emit({OpCode::And, 0, 0, 0, 0, 0, pos}, parts);
  }

 private:
  std::string_view own(const std::string& s) {
    p_.strings.push_back(s);
    return p_.strings.back();
  }

  std::uint32_t emit(Instr ins, const std::vector<std::uint32_t>& kids) {
    ins.first_child = static_cast<std::uint32_t>(p_.children.size());
    ins.child_count = static_cast<std::uint32_t>(kids.size());
    p_.children.insert(p_.children.end(), kids.begin(), kids.end());
    p_.instrs.push_back(ins);
    return static_cast<std::uint32_t>(p_.instrs.size() - 1);
  }

  std::uint32_t constant(Value v, const Node& n) {
    p_.constants.push_back(v);
    return emit({OpCode::Constant, 0, 0, static_cast<std::uint32_t>(p_.constants.size() - 1), 0, 0, n.pos}, {});
  }

  std::uint32_t negate(std::uint32_t inner, const Node& n) { return emit({OpCode::Not, 0, 0, 0, 0, 0, n.pos}, {inner}); }

  bool ci() const { return options_.case_insensitive; }

  static bool is_field(const Node& n) { return n.kind == NodeKind::Field; }

  // One field tested against constants: `f : (...)`, `f like (...)`, or
  // `f == "text"` (a `like` without wildcards, for fields that hold no IP
  // addresses: IP equality compares addresses, not text).
  struct FieldTest {
    const Node* target;
    MatchOp op;
    std::vector<const Node*> values;
  };
  std::optional<FieldTest> field_test(const Node& c, bool negated) const {
    const Node* m = &c;
    if (negated && c.kind == NodeKind::Not) m = c.children[0].get();
    if (m->kind == NodeKind::Match && is_field(*m->children[0]) && m->negated == (negated && m == &c) &&
        m->match != MatchOp::Regex && m->match != MatchOp::RegexInsensitive) {
      FieldTest t{m->children[0].get(), m->match, {}};
      for (std::size_t i = 1; i < m->children.size(); ++i) t.values.push_back(m->children[i].get());
      return t;
    }
    if (!negated && c.kind == NodeKind::Compare && c.compare == CompareOp::Eq) {
      for (int k = 0; k < 2; ++k) {
        const Node& f = *c.children[k];
        const Node& v = *c.children[1 - k];
        if (is_field(f) && !f.optional && v.kind == NodeKind::String && !WildcardPattern::has_wildcard(v.text) &&
            !FieldRegistry::is_ip_name(f.text)) {
          return FieldTest{&f, MatchOp::Like, {&v}};
        }
      }
    }
    return std::nullopt;
  }

  // `f : "a" or f : "b"` is `f : ("a", "b")`, and `not f : "a" and not f :
  // "b"` is `not f : ("a", "b")` (also in three-valued logic): one set
  // lookup or one pattern scan instead of one test per value. KQL and
  // exception lists write long chains like these.
  std::vector<std::uint32_t> compile_merged(const std::vector<const Node*>& flat, bool conjunction, bool query_context) {
    std::vector<std::uint32_t> parts;
    struct Group {
      FieldTest test;
      const Node* first;  // compiled as written when it stays alone
      std::size_t members;
    };
    std::vector<Group> groups;
    std::vector<const Node*> order;  // nullptr: the next group, where its first member stood
    for (const Node* c : flat) {
      std::optional<FieldTest> t = field_test(*c, conjunction);
      if (!t) {
        order.push_back(c);
        continue;
      }
      auto same = [&](const Group& g) {
        return g.test.op == t->op && g.test.target->text == t->target->text &&
               g.test.target->optional == t->target->optional;
      };
      if (auto it = std::find_if(groups.begin(), groups.end(), same); it != groups.end()) {
        it->test.values.insert(it->test.values.end(), t->values.begin(), t->values.end());
        ++it->members;
      } else {
        groups.push_back({std::move(*t), c, 1});
        order.push_back(nullptr);
      }
    }
    std::size_t next = 0;
    for (const Node* c : order) {
      if (c) {
        parts.push_back(compile(*c, query_context));
        continue;
      }
      const Group& group = groups[next++];
      if (group.members == 1) {
        parts.push_back(compile(*group.first, query_context));
        continue;
      }
      const FieldTest& t = group.test;
      std::uint32_t merged = match_values(*t.target, t.values, t.op, t.target->pos, query_context);
      parts.push_back(conjunction ? emit({OpCode::Not, 0, 0, 0, 0, 0, t.target->pos}, {merged}) : merged);
    }
    return parts;
  }

  std::uint32_t logical(const Node& n, bool query_context) {
    std::vector<const Node*> flat;
    collect(n, n.kind, flat);
    std::vector<std::uint32_t> parts = compile_merged(flat, n.kind == NodeKind::And, query_context);
    if (n.kind == NodeKind::And) {
      order_conjuncts(parts);
    } else {
      order_by_cost(parts);
    }
    return emit({n.kind == NodeKind::And ? OpCode::And : OpCode::Or, 0, 0, 0, 0, 0, n.pos}, parts);
  }

  static void collect(const Node& n, NodeKind kind, std::vector<const Node*>& out) {
    if (n.kind == kind) {
      for (const auto& c : n.children) collect(*c, kind, out);
    } else {
      out.push_back(&n);
    }
  }

  std::uint32_t cost(std::uint32_t i) const {
    const Instr& ins = p_.instrs[i];
    std::uint32_t sum = 0;
    for (std::uint32_t k = 0; k < ins.child_count; ++k) sum += cost(p_.children[ins.first_child + k]);
    switch (ins.op) {
      case OpCode::Constant: return 0;
      case OpCode::Field: return 1;
      case OpCode::IsNull: return 1 + sum;
      case OpCode::InSet: return 2 + sum;
      case OpCode::Compare: return 2 + sum;
      case OpCode::Wildcard:
        return 3 + sum + static_cast<std::uint32_t>(std::min<std::size_t>(p_.patterns[ins.arg].size(), 16) / 4);
      case OpCode::Regex: return 30 + sum;
      case OpCode::Call: return 10 + sum;
      case OpCode::Keywords: return 200;  // walks the whole event
      case OpCode::InList: return 5 + sum;
      default: return 1 + sum;
    }
  }

  // A conjunction stops at its first false part: negations (`not (exception)`),
  // which almost every event passes, go after the positive conditions, which
  // most events fail; within each group, cheapest first.
  void order_conjuncts(std::vector<std::uint32_t>& parts) const {
    std::stable_sort(parts.begin(), parts.end(), [&](std::uint32_t a, std::uint32_t b) {
      bool na = p_.instrs[a].op == OpCode::Not, nb = p_.instrs[b].op == OpCode::Not;
      if (na != nb) return nb;
      return cost(a) < cost(b);
    });
  }

  void order_by_cost(std::vector<std::uint32_t>& parts) const {
    std::stable_sort(parts.begin(), parts.end(), [&](std::uint32_t a, std::uint32_t b) { return cost(a) < cost(b); });
  }

  std::uint32_t comparison(const Node& n, bool query_context) {
    const Node& l = *n.children[0];
    const Node& r = *n.children[1];
    bool equality = n.compare == CompareOp::Eq || n.compare == CompareOp::Seq;
    bool inequality = n.compare == CompareOp::Neq || n.compare == CompareOp::NotSeq;
    if ((equality || inequality) && (l.kind == NodeKind::Null || r.kind == NodeKind::Null)) {
      const Node& other = l.kind == NodeKind::Null ? r : l;
      std::uint32_t is_null = emit({OpCode::IsNull, kTwoValued, 0, 0, 0, 0, n.pos}, {compile(other, false)});
      return inequality ? negate(is_null, n) : is_null;
    }
    std::uint8_t flags = 0;
    if (n.compare == CompareOp::Seq || n.compare == CompareOp::NotSeq || ci()) flags |= kInsensitive;
    bool optional_operand = (is_field(l) && l.optional) || (is_field(r) && r.optional);
    if (optional_operand && (equality || inequality)) flags |= kNullSafe;
    bool field_vs_constant = (is_field(l) && r.is_literal()) || (is_field(r) && l.is_literal());
    if (query_context && field_vs_constant) flags |= kTwoValued;
    CompareOp op = n.compare;
    if (op == CompareOp::Seq || op == CompareOp::Neq || op == CompareOp::NotSeq) op = CompareOp::Eq;
    std::uint32_t a = compile(l, false);
    std::uint32_t b = compile(r, false);
    std::uint32_t cmp = emit({OpCode::Compare, flags, static_cast<std::uint8_t>(op), 0, 0, 0, n.pos}, {a, b});
    return inequality ? negate(cmp, n) : cmp;
  }

  std::uint32_t in_list(const Node& n, bool query_context) {
    bool insensitive = n.insensitive || ci();
    bool all_constant = true;
    for (std::size_t i = 1; i < n.children.size(); ++i) all_constant &= n.children[i]->is_literal();
    std::uint32_t operand = compile(*n.children[0], false);
    std::uint32_t result;
    if (all_constant) {
      ConstantSet set;
      for (std::size_t i = 1; i < n.children.size(); ++i) add_to_set(set, *n.children[i], insensitive);
      p_.sets.push_back(std::move(set));
      std::uint8_t flags = (insensitive ? kInsensitive : 0) | (query_context && is_field(*n.children[0]) ? kTwoValued : 0);
      result = emit({OpCode::InSet, flags, 0, static_cast<std::uint32_t>(p_.sets.size() - 1), 0, 0, n.pos}, {operand});
    } else {
      std::vector<std::uint32_t> kids{operand};
      for (std::size_t i = 1; i < n.children.size(); ++i) kids.push_back(compile(*n.children[i], false));
      result = emit({OpCode::InList, static_cast<std::uint8_t>(insensitive ? kInsensitive : 0), 0, 0, 0, 0, n.pos}, kids);
    }
    return n.negated ? negate(result, n) : result;
  }

  static void add_to_set(ConstantSet& set, const Node& c, bool insensitive) {
    switch (c.kind) {
      case NodeKind::String: set.strings.insert(insensitive ? fold_case(c.text) : c.text); break;
      case NodeKind::Integer: set.numbers.push_back(static_cast<double>(c.int_value)); break;
      case NodeKind::Decimal: set.numbers.push_back(c.decimal_value); break;
      case NodeKind::Bool: set.bools.push_back(c.bool_value); break;
      case NodeKind::Null: set.has_null = true; break;
      default: break;
    }
  }

  std::uint32_t match(const Node& n, bool query_context) {
    std::vector<const Node*> values;
    for (std::size_t i = 1; i < n.children.size(); ++i) values.push_back(n.children[i].get());
    std::uint32_t result = match_values(*n.children[0], values, n.match, n.pos, query_context);
    return n.negated ? negate(result, n) : result;
  }

  // `target <op> (values...)`: exact values join a set, wildcard patterns a
  // pattern list, regexes a regex list.
  std::uint32_t match_values(const Node& target, const std::vector<const Node*>& values, MatchOp op, SourcePos pos,
                             bool query_context) {
    std::uint32_t operand = compile(target, false);
    std::uint8_t two = (query_context && is_field(target)) ? kTwoValued : 0;
    std::vector<std::uint32_t> alternatives;
    if (op == MatchOp::Regex || op == MatchOp::RegexInsensitive) {
      bool insensitive = op == MatchOp::RegexInsensitive || ci();
      std::vector<std::unique_ptr<RE2>> res;
      for (const Node* value : values) {
        RE2::Options opts;
        opts.set_log_errors(false);
        opts.set_case_sensitive(!insensitive);
        opts.set_dot_nl(true);
        res.push_back(std::make_unique<RE2>(value->text, opts));
      }
      p_.regexes.push_back(std::move(res));
      alternatives.push_back(emit({OpCode::Regex, static_cast<std::uint8_t>(two | (insensitive ? kInsensitive : 0)), 0,
                                   static_cast<std::uint32_t>(p_.regexes.size() - 1), 0, 0, pos},
                                  {operand}));
    } else {
      bool insensitive = op != MatchOp::Like || ci();
      ConstantSet exact;
      bool any_exact = false;
      bool null_alternative = false;
      std::vector<WildcardPattern> patterns;
      for (const Node* value : values) {
        const Node& c = *value;
        if (c.kind == NodeKind::Null) {
          null_alternative = true;
        } else if (c.kind == NodeKind::String && WildcardPattern::has_wildcard(c.text)) {
          patterns.emplace_back(c.text, insensitive);
        } else {
          add_to_set(exact, c, insensitive);
          any_exact = true;
        }
      }
      std::uint8_t fold = insensitive ? kInsensitive : 0;
      if (any_exact) {
        p_.sets.push_back(std::move(exact));
        alternatives.push_back(emit({OpCode::InSet, static_cast<std::uint8_t>(two | fold), 0,
                                     static_cast<std::uint32_t>(p_.sets.size() - 1), 0, 0, pos},
                                    {operand}));
      }
      if (!patterns.empty()) {
        p_.wildcard_scans.push_back(std::make_unique<AdaptiveWildcards>());
        p_.patterns.push_back(std::move(patterns));
        alternatives.push_back(emit({OpCode::Wildcard, static_cast<std::uint8_t>(two | fold), 0,
                                     static_cast<std::uint32_t>(p_.patterns.size() - 1), 0, 0, pos},
                                    {operand}));
      }
      if (null_alternative) alternatives.push_back(emit({OpCode::IsNull, kTwoValued, 0, 0, 0, 0, pos}, {operand}));
    }
    std::uint32_t result =
        alternatives.size() == 1 ? alternatives[0] : emit({OpCode::Or, 0, 0, 0, 0, 0, pos}, alternatives);
    return result;
  }

  // _keywords("a", "b*"): values searched in every text value the event has
  // (Sigma keyword searches), case-insensitively, each its own pattern.
  std::uint32_t keywords(const Node& n) {
    std::vector<WildcardPattern> patterns;
    for (const auto& c : n.children) patterns.emplace_back(c->text, true);
    p_.wildcard_scans.push_back(std::make_unique<AdaptiveWildcards>());
    p_.patterns.push_back(std::move(patterns));
    return emit({OpCode::Keywords, kTwoValued | kInsensitive, 0, static_cast<std::uint32_t>(p_.patterns.size() - 1), 0, 0,
                 n.pos},
                {});
  }

  std::uint32_t call(const Node& n, bool query_context) {
    const FunctionSpec* f = find_function(n.text);
    if (f->name == "_keywords") return keywords(n);
    std::vector<std::uint32_t> args;
    bool translatable = !n.children.empty() && is_field(*n.children[0]);
    for (std::size_t i = 0; i < n.children.size(); ++i) {
      args.push_back(compile(*n.children[i], false));
      if (i > 0) translatable &= n.children[i]->is_literal();
    }
    auto index = static_cast<std::uint32_t>(std::find(p_.functions.begin(), p_.functions.end(), f) - p_.functions.begin());
    if (index == p_.functions.size()) p_.functions.push_back(f);
    std::uint8_t flags = 0;
    if (n.insensitive || (ci() && f->has_insensitive)) flags |= kInsensitive;
    // Elasticsearch runs these as prefix/wildcard/terms queries when given a field and constants.
    bool query_function = f->name == "startsWith" || f->name == "endsWith" || f->name == "stringContains" ||
                          f->name == "cidrMatch";
    if (query_context && translatable && query_function) flags |= kTwoValued;
    return emit({OpCode::Call, flags, 0, index, 0, 0, n.pos}, args);
  }

  Program& p_;
  FieldRegistry& fields_;
  const CompileOptions& options_;
};

}  // namespace

namespace {

// Analyzes and compiles one `category where condition` into its own Program.
Result<std::unique_ptr<Program>> compile_filter(const EventQuery& filter, std::string_view text, FieldRegistry& fields,
                                                const CompileOptions& options, Analysis& analysis) {
  auto checked = analyze(filter);
  if (!checked) return checked.error();
  for (auto& f : checked->fields) analysis.fields.push_back(std::move(f));
  auto p = std::make_unique<Program>();
  p->source = std::string(text);
  p->category = filter.category;
  p->pipes = filter.pipes;
  Compiler c(*p, fields, options);
  std::uint32_t cond = c.compile(*filter.condition, true);
  if (!filter.category.empty()) {
    std::uint32_t cat = c.category_filter(filter.category, filter.category_pos);
    p->root = c.conjunction({cat, cond}, filter.category_pos);
  } else {
    p->root = cond;
  }
  return p;
}

Result<std::vector<StageProgram>> compile_stages(const std::vector<const Stage*>& stages,
                                                 const std::vector<JoinKey>& shared_keys, std::string_view text,
                                                 FieldRegistry& fields, const CompileOptions& options,
                                                 Analysis& analysis, std::size_t& key_count) {
  std::vector<StageProgram> out;
  for (const Stage* stage : stages) {
    const Stage& st = *stage;
    std::size_t n = shared_keys.size() + st.keys.size();
    if (key_count == SIZE_MAX) key_count = n;
    if (n != key_count) {
      return Error{"eql.type",
                   fmt::format("every query term needs the same number of join keys: this one has {}, the first has {}", n,
                               key_count),
                   st.pos, 1};
    }
    auto filter = compile_filter(st.filter, text, fields, options, analysis);
    if (!filter) return filter.error();
    StageProgram sp;
    sp.filter = std::shared_ptr<Program>(std::move(filter.value()));
    for (const auto* list : {&shared_keys, &st.keys}) {
      for (const JoinKey& k : *list) {
        sp.keys.push_back(fields.intern(k.field));
        sp.key_optional.push_back(k.optional);
      }
    }
    sp.missing = st.missing;
    for (std::int64_t r = 0; r < st.runs; ++r) out.push_back(sp);
  }
  return out;
}

std::vector<const Stage*> stage_list(const std::vector<Stage>& stages) {
  std::vector<const Stage*> out;
  for (const Stage& s : stages) out.push_back(&s);
  return out;
}

// The terms (and `until`) of a sequence or sample, sharing one key count.
Result<std::unique_ptr<SequenceProgram>> compile_correlation(const std::vector<Stage>& terms,
                                                             const std::vector<JoinKey>& keys, const Stage* until,
                                                             const std::vector<Pipe>& pipes, std::string_view text,
                                                             FieldRegistry& fields, const CompileOptions& options,
                                                             Analysis& analysis) {
  auto program = std::make_unique<SequenceProgram>();
  program->source = std::string(text);
  program->pipes = pipes;
  std::size_t key_count = SIZE_MAX;
  auto stages = compile_stages(stage_list(terms), keys, text, fields, options, analysis, key_count);
  if (!stages) return stages.error();
  program->stages = std::move(stages.value());
  program->key_count = key_count;
  if (until) {
    auto compiled = compile_stages({until}, keys, text, fields, options, analysis, key_count);
    if (!compiled) return compiled.error();
    program->until = std::move(compiled.value()[0]);
  }
  return program;
}

}  // namespace

Result<CompiledQuery> compile_query(std::string_view text, FieldRegistry& fields, const CompileOptions& options) {
  auto parsed = parse_query(text);
  if (!parsed) return parsed.error();
  CompiledQuery out;
  auto program = compile_filter(*parsed, text, fields, options, out.analysis);
  if (!program) return program.error();
  out.program = std::move(program.value());
  return out;
}

Result<CompiledAnyQuery> compile_any_query(std::string_view text, FieldRegistry& fields, const CompileOptions& options) {
  auto parsed = parse_any_query(text);
  if (!parsed) return parsed.error();
  CompiledAnyQuery out;
  out.kind = parsed->kind;
  switch (parsed->kind) {
    case Query::Kind::Event: {
      auto program = compile_filter(parsed->event, text, fields, options, out.analysis);
      if (!program) return program.error();
      out.event = std::move(program.value());
      return out;
    }
    case Query::Kind::Sequence: {
      const SequenceQuery& q = parsed->sequence;
      auto seq = compile_correlation(q.stages, q.keys, q.until ? &*q.until : nullptr, q.pipes, text, fields, options,
                                     out.analysis);
      if (!seq) return seq.error();
      seq.value()->maxspan_ns = q.maxspan_ns.value_or(-1);
      out.sequence = std::move(seq.value());
      return out;
    }
    case Query::Kind::Sample: {
      const SampleQuery& q = parsed->sample;
      auto sample = compile_correlation(q.stages, q.keys, nullptr, q.pipes, text, fields, options, out.analysis);
      if (!sample) return sample.error();
      out.sample = std::move(sample.value());
      return out;
    }
  }
  return out;
}

Result<CompiledQuery> compile_expression(std::string_view text, FieldRegistry& fields, const CompileOptions& options) {
  auto parsed = parse_expression(text);
  if (!parsed) return parsed.error();
  auto analysis = analyze_expression(**parsed);
  if (!analysis) return analysis.error();
  CompiledQuery out{std::make_unique<Program>(), std::move(analysis.value())};
  out.program->source = std::string(text);
  Compiler c(*out.program, fields, options);
  out.program->root = c.compile(**parsed, false);
  return out;
}

std::vector<const Program*> term_programs(const CompiledAnyQuery& query) {
  if (query.kind == Query::Kind::Event) return {query.event.get()};
  const SequenceProgram& sp = query.kind == Query::Kind::Sequence ? *query.sequence : *query.sample;
  std::vector<const Program*> out;
  for (const auto& stage : sp.stages) out.push_back(stage.filter.get());
  if (sp.until) out.push_back(sp.until->filter.get());
  return out;
}

}  // namespace vigil::eql
