// `vigil query '<eql>' FILE...`: compile the query (its fields become the
// reader's projection), stream every input through it batch by batch, and
// print matches as NDJSON in input order — or in Elasticsearch's order
// (@timestamp, then --tiebreaker) when asked. Bad documents are skipped and
// listed at the end; --strict turns them into exit code 3.
#include "cli/query_command.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <deque>

#include "cli/event_output.h"
#include "cli/exit_codes.h"
#include "eql/compiler.h"
#include "eql/sample_runner.h"
#include "eql/sequence_runner.h"
#include "cli/input_diagnostics.h"
#include "core/text.h"
#include "core/timestamp.h"
#include "esql/event_row.h"
#include "esql/parser.h"
#include "esql/plan.h"
#include "ingest/event_reader.h"

namespace vigil {
namespace {

std::vector<std::string> split_fields(const std::string& list) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    std::string name = list.substr(start, comma - start);
    name.erase(0, name.find_first_not_of(' '));
    name.erase(name.find_last_not_of(' ') + 1);
    if (!name.empty()) out.push_back(name);
    start = comma + 1;
  }
  return out;
}

// A match kept for ordering or `tail`: its rendered line and sort keys.
struct HeldMatch {
  TimestampNs timestamp;
  Value tiebreaker;  // numbers and strings are copied into `tiebreaker_text`
  std::string tiebreaker_text;
  std::uint64_t ordinal;
  std::string line;
};

bool held_before(const HeldMatch& a, const HeldMatch& b) {
  if (a.timestamp != b.timestamp) return a.timestamp < b.timestamp;
  const Value& x = a.tiebreaker;
  const Value& y = b.tiebreaker;
  if (x.is_numeric() && y.is_numeric() && x.as_double() != y.as_double()) return x.as_double() < y.as_double();
  if (x.is_text() && y.is_text() && a.tiebreaker_text != b.tiebreaker_text) return a.tiebreaker_text < b.tiebreaker_text;
  return a.ordinal < b.ordinal;
}

}  // namespace

void add_query_command(CLI::App& app, QueryOptions& o) {
  CLI::App* cmd = app.add_subcommand("query", "Run an EQL event query over NDJSON / JSON inputs and print matching events");
  cmd->add_option("query", o.query, "EQL query, e.g. 'process where process.name : \"*.exe\"'")->required();
  cmd->add_option("inputs", o.inputs,
                  "Inputs: EVTX, event XML, NDJSON/JSON (also .gz/.zst), archives, directories; '-' for stdin")
      ->required();
  cmd->add_flag("--esql", o.esql,
                "The query is ES|QL ('FROM logs-* | WHERE ... | STATS ...'): print its result rows");
  cmd->add_option("--format", o.format, "ES|QL rows as ndjson, table, or auto (a table on a terminal)")
      ->check(CLI::IsMember({"auto", "ndjson", "table"}))
      ->capture_default_str();
  cmd->add_option("--now", o.now, "ES|QL: the time NOW() returns (RFC 3339; default: the clock)");
  cmd->add_flag("--count,-c", o.count, "Print only the number of matching events");
  cmd->add_flag("--explain", o.explain, "Print the compiled plan and exit");
  cmd->add_option("--fields", o.fields, "Print only these comma-separated fields (flat dotted keys)");
  cmd->add_flag("--strict", o.strict, "Exit 3 if any document is malformed or any input unreadable");
  cmd->add_flag("--case-insensitive", o.case_insensitive,
                "Make every string comparison and function case-insensitive (endgame EQL mode)");
  cmd->add_option("--event-category-field", o.event_category_field, "Field holding the event category")
      ->capture_default_str();
  cmd->add_option("--tiebreaker", o.tiebreaker,
                  "Order matches by @timestamp, then this field (Elasticsearch's tiebreaker_field)");
  cmd->add_option("--timestamp-field", o.timestamp_field,
                  "Field holding the event time: ISO-8601 or epoch milliseconds (Elasticsearch's timestamp_field)")
      ->capture_default_str();
  cmd->add_flag("--order-by-time", o.order_by_time, "Order matches by @timestamp instead of input order");
  cmd->add_flag("--assume-sorted", o.assume_sorted,
                "Sequences: inputs are already in @timestamp order; match while reading (constant memory)");
  cmd->add_option("--max-open-sequences", o.max_open_sequences,
                  "Sequences: partial matches held at once; the oldest are evicted (and counted) beyond it")
      ->capture_default_str();
  cmd->add_option("--threads", o.threads, "Decoding threads: EVTX chunks and files, NDJSON lines (0 = one per core)")->capture_default_str();
  cmd->footer(
      "Exit codes: 0 ok, 2 usage or query error, 3 malformed/unreadable input with --strict.\n"
      "Output: one JSON document per line, in input order unless --order-by-time/--tiebreaker.");
}

namespace {

ReaderOptions reader_options(const QueryOptions& o, FieldRegistry& fields) {
  ReaderOptions r;
  r.threads = o.threads;
  if (o.timestamp_field != "@timestamp") r.timestamp_field = fields.intern(o.timestamp_field);
  return r;
}

void print_sequence_stats(const eql::MatcherStats& s) {
  if (s.evicted + s.out_of_order + s.history_dropped == 0) return;
  std::fprintf(stderr,
               "vigil: sequence state: %llu partial match(es) evicted at the --max-open-sequences cap, %llu event(s) "
               "out of time order, %llu missing-event timestamp(s) dropped\n",
               static_cast<unsigned long long>(s.evicted), static_cast<unsigned long long>(s.out_of_order),
               static_cast<unsigned long long>(s.history_dropped));
}

// Sequences and samples: one NDJSON line per match with its join keys and events.
int run_correlation(const QueryOptions& o, const eql::SequenceProgram& program, FieldRegistry& fields,
                    const std::vector<FieldId>& projection, std::optional<FieldId> tiebreaker, bool sample) {
  eql::RunnerOptions ropts;
  ropts.tiebreaker = tiebreaker;
  ropts.assume_sorted = o.assume_sorted;
  ropts.limits.max_open = o.max_open_sequences;
  auto render = [&](const Event& e) -> std::shared_ptr<const std::string> {
    if (o.count) return nullptr;  // --count keeps no event text
    auto out = std::make_shared<std::string>();
    render_event(*out, e, fields, projection);
    return out;
  };
  std::unique_ptr<eql::SequenceRunner> seq;
  std::unique_ptr<eql::SampleRunner> smp;
  if (sample) {
    smp = std::make_unique<eql::SampleRunner>(program, render);
  } else {
    seq = std::make_unique<eql::SequenceRunner>(program, ropts, render);
  }
  eql::EvalContext ctx;
  ReadStats stats;
  EventReader reader(fields, reader_options(o, fields));
  auto sink = [&](EventBatch& batch) {
    for (const Event& e : batch.events) {
      if (seq) seq->add(e, ctx);
      else smp->add(e, ctx);
    }
    return true;
  };
  reader.read_all(o.inputs, sink, stats);
  std::vector<eql::SequenceMatch> matches = seq ? seq->finish() : smp->finish();
  OutputBuffer out(stdout);
  if (o.count) {
    out.buffer() += fmt::format("{}", matches.size());
    out.line_done();
  } else {
    for (const auto& m : matches) {
      std::string& line = out.buffer();
      line += "{\"join_keys\":";
      line += m.join_keys;
      line += ",\"events\":[";
      for (std::size_t i = 0; i < m.events.size(); ++i) {
        if (i) line.push_back(',');
        line += m.events[i] ? m.events[i]->text() : std::string_view("{\"missing\":true}");
      }
      line += "]}";
      out.line_done();
    }
  }
  out.flush();
  print_diagnostics(stats);
  if (seq) print_sequence_stats(seq->stats());
  if (o.strict && input_had_errors(stats)) return kExitInput;
  return kExitOk;
}

// The rows as an aligned text table (long cells cut at 60 characters).
void print_table(const std::vector<std::string>& columns, const std::vector<esql::Row>& rows) {
  auto text = [](const esql::Cell& c) {
    std::string out;
    if (c.empty()) return std::string("null");
    for (std::size_t i = 0; i < c.size(); ++i) {
      if (i) out += ", ";
      out += esql::datum_text(c[i]);
    }
    for (char& ch : out) {
      if (ch == '\n' || ch == '\r' || ch == '\t') ch = ' ';
    }
    if (out.size() > 60) out = out.substr(0, 57) + "...";
    return printable(out);
  };
  std::vector<std::size_t> width(columns.size());
  for (std::size_t c = 0; c < columns.size(); ++c) width[c] = columns[c].size();
  std::vector<std::vector<std::string>> cells;
  for (const auto& r : rows) {
    cells.emplace_back();
    for (std::size_t c = 0; c < columns.size(); ++c) {
      cells.back().push_back(text(r[c]));
      width[c] = std::max(width[c], cells.back().back().size());
    }
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& values) {
    for (std::size_t c = 0; c < values.size(); ++c) {
      out += values[c];
      if (c + 1 < values.size()) out += std::string(width[c] - values[c].size() + 2, ' ');
    }
    out += '\n';
  };
  line(columns);
  std::vector<std::string> rule;
  for (std::size_t w : width) rule.push_back(std::string(w, '-'));
  line(rule);
  for (const auto& r : cells) line(r);
  std::fputs(out.c_str(), stdout);
}

// `vigil query --esql`: the plan's prefilter picks candidate events (rule
// index semantics, see esql/plan.h), the streaming part runs per event, the
// rest once over all rows with NOW() = --now or the clock.
int run_esql_query(const QueryOptions& o) {
  auto parsed = esql::parse_query(o.query);
  if (!parsed) {
    std::fputs(format_error(parsed.error(), "<query>", o.query).c_str(), stderr);
    return kExitUsage;
  }
  auto plan = esql::compile_plan(*parsed);
  if (!plan) {
    std::fputs(format_error(plan.error(), "<query>", o.query).c_str(), stderr);
    return kExitUsage;
  }
  esql::RunContext context;
  if (!o.now.empty()) {
    auto t = parse_timestamp_text(o.now);
    if (!t) {
      std::fprintf(stderr, "vigil: --now: '%s' is not a time (RFC 3339, e.g. 2026-01-31T12:00:00Z)\n", o.now.c_str());
      return kExitUsage;
    }
    context.now = *t;
  } else {
    context.now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  }
  FieldRegistry fields;
  auto prefilter = eql::compile_any_query(plan->prefilter(), fields, eql::CompileOptions{});
  if (!prefilter || prefilter->kind != eql::Query::Kind::Event) {
    std::fprintf(stderr, "vigil: internal error: the ES|QL prefilter does not compile: %s\n", plan->prefilter().c_str());
    return kExitUsage;
  }
  if (o.explain) {
    fmt::print("prefilter (EQL): {}\nsource columns:", plan->prefilter());
    for (const auto& s : plan->source_fields()) fmt::print(" {}", s.column);
    fmt::print("\nstreamed columns:");
    for (const auto& c : plan->streamed_columns()) fmt::print(" {}", c);
    fmt::print("\nresult columns:");
    for (const auto& c : plan->columns()) fmt::print(" {}", c);
    fmt::print("\n{}\n", plan->windowed() ? (plan->aggregating() ? "aggregating (rows are collected, then aggregated)"
                                                                     : "collected (SORT / LIMIT over all rows)")
                                          : "streaming (one row per event)");
    return kExitOk;
  }
  for (const auto& path : o.inputs) {
    struct stat st {};
    if (path != "-" && ::stat(path.c_str(), &st) != 0) {
      std::fprintf(stderr, "vigil: %s: no such file\n", path.c_str());
      return kExitUsage;
    }
  }
  esql::EventRows rows_of(*plan, fields);
  const bool table = o.format == "table" || (o.format == "auto" && ::isatty(STDOUT_FILENO));
  // ES|QL's implicit LIMIT 1000 when the query sets none.
  bool has_limit = false;
  for (const auto& c : parsed->commands) has_limit = has_limit || c.kind == esql::Command::Kind::Limit;
  const std::size_t implicit_limit = has_limit ? SIZE_MAX : 1000;
  constexpr std::size_t kMaxHeldRows = 10000000;
  std::vector<esql::Row> rows;
  std::uint64_t dropped = 0;
  std::size_t printed = 0;
  OutputBuffer out(stdout);
  const bool streaming = !plan->windowed() && !table && !o.count;
  eql::EvalContext ctx;
  ReadStats stats;
  EventReader reader(fields, reader_options(o, fields));
  auto sink = [&](EventBatch& batch) {
    for (const Event& e : batch.events) {
      if (!eql::matches(*prefilter->event, e, ctx)) continue;
      std::vector<esql::Row> produced;
      plan->stream(rows_of.row(e, rows_of.needs_id() ? esql::event_id(e) : std::string()), produced, context);
      for (auto& r : produced) {
        if (streaming) {
          out.buffer() += esql::row_json(plan->streamed_columns(), r);
          out.line_done();
          if (++printed >= implicit_limit) return false;
        } else if (rows.size() < kMaxHeldRows) {
          rows.push_back(std::move(r));
        } else {
          ++dropped;
        }
      }
      if (!plan->windowed() && rows.size() >= implicit_limit) return false;
    }
    return true;
  };
  reader.read_all(o.inputs, sink, stats);
  if (!streaming) {
    rows = plan->finish(std::move(rows), context);
    if (rows.size() > implicit_limit) rows.resize(implicit_limit);
    if (o.count) {
      out.buffer() += fmt::format("{}", rows.size());
      out.line_done();
    } else if (table) {
      out.flush();
      print_table(plan->columns(), rows);
    } else {
      for (const auto& r : rows) {
        out.buffer() += esql::row_json(plan->columns(), r);
        out.line_done();
      }
    }
    printed = rows.size();
  }
  out.flush();
  if (printed >= implicit_limit && !has_limit)
    std::fprintf(stderr, "vigil: stopped at ES|QL's implicit LIMIT 1000 (add '| LIMIT n' for more)\n");
  if (dropped)
    std::fprintf(stderr, "vigil: %llu row(s) beyond %zu held rows were left out of the aggregation\n",
                 static_cast<unsigned long long>(dropped), kMaxHeldRows);
  print_diagnostics(stats);
  if (o.strict && input_had_errors(stats)) return kExitInput;
  return kExitOk;
}

}  // namespace

int run_query_command(const QueryOptions& o) {
  if (o.esql) return run_esql_query(o);
  FieldRegistry fields;
  eql::CompileOptions copts;
  copts.event_category_field = o.event_category_field;
  copts.case_insensitive = o.case_insensitive;
  auto compiled = eql::compile_any_query(o.query, fields, copts);
  if (!compiled) {
    std::fputs(format_error(compiled.error(), "<query>", o.query).c_str(), stderr);
    return kExitUsage;
  }
  std::vector<FieldId> projection;
  for (const auto& name : split_fields(o.fields)) projection.push_back(fields.intern(name));
  std::optional<FieldId> tiebreaker;
  if (!o.tiebreaker.empty()) tiebreaker = fields.intern(o.tiebreaker);
  for (const auto& path : o.inputs) {
    struct stat st {};
    if (!o.explain && path != "-" && ::stat(path.c_str(), &st) != 0) {
      std::fprintf(stderr, "vigil: %s: no such file\n", path.c_str());
      return kExitUsage;
    }
  }
  if (compiled->kind != eql::Query::Kind::Event) {
    const eql::SequenceProgram& sp = compiled->kind == eql::Query::Kind::Sequence ? *compiled->sequence : *compiled->sample;
    if (o.explain) {
      std::fputs(eql::explain(sp, fields).c_str(), stdout);
      return kExitOk;
    }
    return run_correlation(o, sp, fields, projection, tiebreaker, compiled->kind == eql::Query::Kind::Sample);
  }
  const eql::Program& program = *compiled->event;
  if (o.explain) {
    std::fputs(eql::explain(program, fields).c_str(), stdout);
    return kExitOk;
  }

  std::optional<std::int64_t> head;
  std::optional<std::int64_t> tail;
  for (const auto& pipe : program.pipes) {
    // Successive heads/tails compose: head 5 | tail 2 keeps matches 4..5.
    if (pipe.kind == eql::Pipe::Kind::Head) {
      head = head ? std::min(*head, pipe.count) : pipe.count;
    } else {
      tail = tail ? std::min(*tail, pipe.count) : pipe.count;
    }
  }
  const bool ordered = o.order_by_time || tiebreaker.has_value();
  const bool hold = ordered || tail.has_value();

  OutputBuffer out(stdout);
  std::uint64_t matched = 0;
  std::deque<HeldMatch> held;
  eql::EvalContext ctx;
  ReadStats stats;
  EventReader reader(fields, reader_options(o, fields));
  bool stop = false;
  auto sink = [&](EventBatch& batch) {
    for (const Event& e : batch.events) {
      if (!eql::matches(program, e, ctx)) continue;
      ++matched;
      if (!hold) {
        if (!o.count) {
          render_event(out.buffer(), e, fields, projection);
          out.line_done();
        }
        if (head && static_cast<std::int64_t>(matched) >= *head) {
          stop = true;
          return false;
        }
        continue;
      }
      HeldMatch m{e.timestamp_ns, Value::null(), {}, e.ordinal, {}};
      if (tiebreaker) {
        Value t = e.get(*tiebreaker);
        if (t.is_numeric()) m.tiebreaker = t;
        if (t.is_text()) {
          m.tiebreaker_text = std::string(t.as_string());
          m.tiebreaker = Value::string(m.tiebreaker_text);
        }
      }
      render_event(m.line, e, fields, projection);
      held.push_back(std::move(m));
      // Unordered tail only needs the last N (plus head's bound when head comes first).
      if (!ordered && !head && static_cast<std::int64_t>(held.size()) > *tail) held.pop_front();
    }
    return true;
  };
  reader.read_all(o.inputs, sink, stats);
  if (hold) {
    std::vector<HeldMatch> rows(std::make_move_iterator(held.begin()), std::make_move_iterator(held.end()));
    if (ordered) std::stable_sort(rows.begin(), rows.end(), held_before);
    eql::apply_pipes(rows, program.pipes);
    matched = rows.size();
    if (!o.count) {
      for (const auto& row : rows) {
        out.buffer() += row.line;
        out.line_done();
      }
    }
  }
  if (o.count) {
    out.buffer() += fmt::format("{}", matched);
    out.line_done();
  }
  out.flush();
  print_diagnostics(stats);
  if (o.strict && input_had_errors(stats)) return kExitInput;
  return kExitOk;
}

}  // namespace vigil
