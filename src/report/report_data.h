// ReportData: alert documents (as `vigil hunt` writes them, from NDJSON files
// or the SQLite store) → the data model the HTML report embeds once, as one
// JSON value. Strings are interned (the same host, rule, process or reason
// text is stored once however many alerts carry it) and alerts are
// positional arrays, so 100 k alerts stay a few MB; the page decodes what it
// shows. The layout is documented in docs/report.md and read by
// report/assets/report.js; the two change together.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace vigil {

class AttackCatalog;

class ReportData {
 public:
  explicit ReportData(const AttackCatalog& catalog);
  ~ReportData();

  // Adds one alert document. Returns why it is not one (not a JSON object, no
  // kibana.alert.uuid) or nullopt. An id seen before is kept once.
  std::optional<std::string> add_alert(std::string_view document);
  // Reads what `vigil coverage --json` printed: the ATT&CK matrix then shows
  // ready / degraded / blind per technique and names the rules.
  std::optional<std::string> set_coverage(std::string_view json, std::string_view file);
  void set_title(std::string title) { title_ = std::move(title); }
  const std::string& title() const { return title_; }
  void add_input(std::string input) { inputs_.push_back(std::move(input)); }
  // Inputs' lines that were not alerts, for the page's "skipped" note.
  void set_skipped(std::uint64_t skipped) { skipped_ = skipped; }

  std::size_t alert_count() const { return alerts_.size(); }
  std::size_t host_count() const { return hosts_.size(); }
  // The model as JSON text (plain JSON: the HTML writer escapes it for its <script> element).
  std::string to_json(std::string_view generated_at) const;

 private:
  struct Rule {
    std::string rule_id, name, type, description;
    int severity = 0, risk = 0;
    std::vector<std::string> references, techniques, tactics;
  };
  struct Coverage {
    std::string file;
    struct Row {
      std::uint64_t ready = 0, degraded = 0, blind = 0;
      std::vector<std::string> rules;
    };
    std::map<std::string, Row> techniques;
  };

  std::uint32_t intern(std::string_view s);
  std::uint32_t rule_index(simdjson::dom::object doc);
  std::uint32_t host_index(const std::string& host);
  std::uint32_t process_index(simdjson::dom::object process);

  const AttackCatalog& catalog_;
  simdjson::dom::parser parser_;
  std::vector<std::string> strings_;
  std::unordered_map<std::string, std::uint32_t> string_ids_;
  std::vector<Rule> rules_;
  std::unordered_map<std::string, std::uint32_t> rule_ids_;
  std::vector<std::string> hosts_;
  std::unordered_map<std::string, std::uint32_t> host_ids_;
  std::vector<std::vector<std::uint32_t>> processes_;
  std::unordered_map<std::string, std::uint32_t> process_ids_;
  std::map<std::string, std::string> technique_names_;  // ids from rules that the catalog does not know
  std::vector<std::string> alerts_;                     // each alert's JSON array, written once
  std::unordered_set<std::string> alert_ids_;
  std::optional<Coverage> coverage_;
  std::string title_;
  std::vector<std::string> inputs_;
  std::uint64_t skipped_ = 0;
};

// Severity names as ranks: low 0, medium 1, high 2, critical 3 (unknown: 0).
int severity_rank(std::string_view severity);

}  // namespace vigil
