// What `vigil hunt` and `vigil run` share: the rule, tuning and limit
// options, and loading what they name (rules, exception lists, value lists,
// baseline, triage state) into one DetectionSetup the pipeline runs on.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "context/host_state.h"
#include "core/result.h"
#include "detect/hunt_engine.h"
#include "detect/rule_set.h"
#include "pipeline/detection_pipeline.h"
#include "rules/exceptions.h"
#include "store/baseline_store.h"
#include "store/rule_cache.h"

namespace CLI {
class App;
}

namespace vigil {

struct DetectionCommandOptions {
  std::vector<std::string> rules;
  std::string db;  // SQLite alert store to add the alerts to
  std::vector<std::string> exception_files;
  std::vector<std::string> value_lists;  // ID=FILE
  std::vector<std::string> lists_for_all_rules;
  std::string baseline;  // SQLite baseline (vigil baseline learn) for rarity and new_terms
  std::string sigma_placeholders;  // YAML: values of Sigma `expand` placeholders
  bool no_rule_cache = false;
  bool fail_on_alert = false;
  bool strict = false;
  bool quiet = false;
  unsigned threads = 0;
  std::size_t max_detections_per_rule = 100000;
  std::size_t spill_bytes = kDefaultSpillBytes;
  bool no_event_original = false;
  HostStateLimits context_limits;
  std::size_t max_open_sequences = 100000;
  std::size_t max_terms = 1000000;
};

void add_detection_options(CLI::App& cmd, DetectionCommandOptions& options);

// The rule loading options --sigma-placeholders names (the file read into
// `placeholders`, which must outlive the returned options); false after
// printing why it cannot be read.
bool rule_load_options(const std::string& placeholders_file, SigmaPlaceholders& placeholders, RuleLoadOptions& out);
// Prints the rule set's diagnostics; Sigma documents that are not run are
// summed up in one line (`vigil rules check` lists them).
void print_rule_diagnostics(const RuleSet& set);

struct DetectionSetup {
  std::unique_ptr<RuleCache> rule_cache;
  SigmaPlaceholders placeholders;
  std::unique_ptr<RuleSet> set;
  std::unique_ptr<HostState> context;
  ExceptionLists exceptions;
  std::unique_ptr<BaselineStore> baseline;
  // Engine options for these resources; matching gets `matching_threads` lanes.
  HuntOptions engine_options(const DetectionCommandOptions& o, unsigned matching_threads);
};

// Loads what the options name, printing rule diagnostics and problems. 0 on
// success, else the exit code (no runnable rule, unreadable list or baseline).
int prepare_detection(const DetectionCommandOptions& options, DetectionSetup& setup);

// Alert counts by severity, rule and host, for the summary on stderr.
class AlertTally {
 public:
  void add(const std::vector<AlertLine>& lines);
  std::size_t total() const { return total_; }
  void print() const;

 private:
  std::map<std::string, std::size_t> by_severity_;
  std::map<std::pair<std::string, std::string>, std::size_t> by_rule_;  // (severity, name)
  std::map<std::string, std::size_t> by_host_;
  std::size_t total_ = 0;
};

// The alert counts, then a note for every count worth one: per rule (alerts
// outside windows, suppressed, excepted, capped, late, evictions), duplicates,
// rarity and triage-state evictions.
// Partial sequences, terms and detections a pipeline evicted at their caps
// (the status lines' and metrics' "evicted").
std::uint64_t evictions(DetectionPipeline& pipeline);

// "note: N what" on stderr when N is not 0.
void print_count_note(std::uint64_t n, const char* what);

// The counts of one pipeline and its triage state, summed over several
// (`vigil run --nats` runs one per partition).
struct DetectionTotals {
  std::vector<RuleRunStats> rules;
  std::uint64_t duplicates = 0, alert_ids_forgotten = 0, rarity_evicted = 0, processes_evicted = 0, files_evicted = 0;
  void add(DetectionPipeline& pipeline, const HostState& context);
};
void print_detection_summary(const AlertTally& tally, const RuleSet& set, const DetectionTotals& totals);
void print_detection_summary(const AlertTally& tally, const RuleSet& set, const std::vector<RuleRunStats>& stats,
                             DetectionPipeline& pipeline, const HostState& context);

class AlertStore;

// The --db alert store, fed alert lines as they are written.
class AlertDatabase {
 public:
  AlertDatabase();
  ~AlertDatabase();
  // Prints the error; false on error.
  bool open(const std::string& path);
  bool is_open() const { return store_ != nullptr; }
  // Adds the lines' documents; the first error is kept (error()).
  void add(const std::vector<AlertLine>& lines);
  const std::optional<Error>& error() const { return error_; }
  // "alert store PATH: N new alert document(s), M already there".
  void print_outcome() const;

 private:
  std::string path_;
  std::unique_ptr<AlertStore> store_;
  std::optional<Error> error_;
  std::size_t added_ = 0;
  std::size_t offered_ = 0;
};

}  // namespace vigil
