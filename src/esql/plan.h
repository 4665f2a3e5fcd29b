// The compiled form of an ES|QL query (esql/ast.h is its symbolic twin):
// every field name resolved to a column, every function to its
// implementation, every regex compiled (RE2), so running it walks no AST and
// looks up no name. compile_plan() refuses what vigil cannot run as ES|QL
// would (unknown functions, lookaround in a regex, ...) with the position.
//
// A plan runs in two parts. The streaming part (every command before the
// first STATS, INLINE STATS, SORT or LIMIT) turns one event's row into zero
// or more rows on its own. The rest needs all the rows of a schedule window
// at once (finish()). A query without the rest is non-aggregating: each row
// stands for its event.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "esql/ast.h"
#include "esql/row.h"

namespace vigil::esql {

// A column the source event provides.
struct SourceField {
  std::string column;  // as the query names it: "process.name.caseless"
  std::string field;   // the event field: "process.name"
  bool lowercase = false;  // a .caseless multi-field: the values lower-cased
  enum class Meta : std::uint8_t { None, Id, Index, Version } meta = Meta::None;  // METADATA _id / _index / _version
};

struct RunContext {
  std::int64_t now = 0;  // NOW(): the schedule run's time (ns); a query's start time for `vigil query`
};

class Step;

class Plan {
 public:
  Plan();
  Plan(Plan&&) noexcept;
  Plan& operator=(Plan&&) noexcept;
  ~Plan();

  // The columns an event's row starts with, in order (make rows with these).
  const std::vector<SourceField>& source_fields() const { return sources_; }
  // Runs the streaming part on one event's row; appends the rows it yields.
  void stream(Row row, std::vector<Row>& out, const RunContext& context) const;
  // Runs the rest over the streamed rows of a window.
  std::vector<Row> finish(std::vector<Row> rows, const RunContext& context) const;
  // Whether the rest exists (STATS, INLINE STATS, SORT or LIMIT), and whether it aggregates.
  bool windowed() const { return split_ < steps_.size(); }
  bool aggregating() const { return aggregating_; }
  const std::vector<std::string>& streamed_columns() const { return streamed_; }
  const std::vector<std::string>& columns() const { return output_; }
  // An EQL query no weaker than the plan's first WHERE commands (conditions
  // it cannot translate are left out): vigil's rule index and matcher run it
  // first, so the plan sees only events that can pass.
  const std::string& prefilter() const { return prefilter_; }
  // The index patterns of FROM.
  const std::vector<std::string>& indices() const { return indices_; }

 private:
  friend Result<Plan> compile_plan(const Query& query);
  std::vector<SourceField> sources_;
  std::vector<std::unique_ptr<Step>> steps_;
  std::size_t split_ = 0;
  bool aggregating_ = false;
  std::vector<std::string> streamed_;
  std::vector<std::string> output_;
  std::string prefilter_ = "any where true";
  std::vector<std::string> indices_;
};

Result<Plan> compile_plan(const Query& query);

}  // namespace vigil::esql
