// AlertLineSorter: puts alert line groups (an alert and its building blocks)
// in the pipeline's output order — alert time, first event time, rule name,
// id — however many there are. Groups wait in memory up to a byte budget;
// beyond it they are sorted into runs in a spill file and merged when handed
// out, so a batch hunt that ends in a million alerts holds a budget's worth.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/spill_file.h"
#include "output/alert_document.h"

namespace vigil {

struct AlertLine {
  AlertSummary summary;
  // A sequence's NDJSON lines: its alert, then its building blocks' (whose
  // own json is empty). Empty for a single alert too: its line is its
  // summary.document (held once, not twice).
  std::string json;
  // Appends the lines this alert writes (none for a building block).
  void append_lines(std::string& out) const {
    if (!json.empty()) {
      out += json;
    } else if (!summary.building_block) {
      out += summary.document;
      out.push_back('\n');
    }
  }
};

class AlertLineSorter {
 public:
  using LinesOut = std::function<void(std::vector<AlertLine>& lines)>;
  explicit AlertLineSorter(std::size_t budget_bytes) : budget_(budget_bytes) {}

  // One alert's lines: the alert first, its building blocks after it.
  void add(std::vector<AlertLine> group);
  // Hands every group added since the last flush out in order, a few
  // hundred groups per call, and forgets them.
  void flush(const LinesOut& out);

 private:
  void spill_run();

  std::size_t budget_;
  std::size_t bytes_ = 0;
  std::vector<std::vector<AlertLine>> groups_;
  SpillFile file_;
  std::vector<std::vector<SpillRecord>> runs_;  // each run's groups, in order
};

}  // namespace vigil
