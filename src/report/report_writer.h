// Reading alert files into a ReportData and writing the page: what
// `vigil report` and `vigil hunt --report` share.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "report/report_data.h"

namespace vigil {

struct SkippedLine {  // an input line that is no alert document
  std::string file;
  std::uint64_t line = 0;
  std::string reason;
};

// Input lines that were no alert: all counted, the first 100 kept with where and why.
struct SkippedLines {
  std::vector<SkippedLine> first;
  std::uint64_t count = 0;
  void add(const std::string& file, std::uint64_t line, std::string reason) {
    ++count;
    if (first.size() < 100) first.push_back({file, line, std::move(reason)});
  }
};

// Adds every line of an alert NDJSON file ('-': stdin) to `data` (lines that
// are no alert to `skipped`). Fails only when the file cannot be read.
Result<std::uint64_t> read_alert_file(ReportData& data, const std::string& path, SkippedLines& skipped);

// Renders the page and writes it atomically; returns its size in bytes.
Result<std::uint64_t> write_report(const ReportData& data, const std::string& path);

}  // namespace vigil
