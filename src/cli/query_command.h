// `vigil query`: run one EQL event query over inputs and print the matches.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace vigil {

struct QueryOptions {
  std::string query;
  std::vector<std::string> inputs;
  bool count = false;
  bool explain = false;
  bool strict = false;
  bool case_insensitive = false;
  std::string fields;  // comma-separated projection
  std::string event_category_field = "event.category";
  std::string tiebreaker;  // order by @timestamp then this field (as Elasticsearch)
  std::string timestamp_field = "@timestamp";
  bool order_by_time = false;
  bool assume_sorted = false;            // sequences: input already in time order, stream it
  std::size_t max_open_sequences = 100000;
  unsigned threads = 0;
  bool esql = false;           // the query is ES|QL (FROM ... | ...), not EQL
  std::string format = "auto";  // ES|QL rows: ndjson, table, or auto (a table on a terminal)
  std::string now;             // ES|QL NOW(): this time instead of the clock's
};

void add_query_command(CLI::App& app, QueryOptions& options);
int run_query_command(const QueryOptions& options);

}  // namespace vigil
