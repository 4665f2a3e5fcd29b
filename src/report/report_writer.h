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

// Adds every line of an alert NDJSON file ('-': stdin) to `data`; lines that
// are no alert are counted in `skipped` (the first 100 kept with where and why).
// Fails only when the file cannot be read.
Result<std::uint64_t> read_alert_file(ReportData& data, const std::string& path, std::vector<SkippedLine>& skipped,
                                      std::uint64_t& skipped_count);

// Renders the page and writes it atomically; returns its size in bytes.
Result<std::uint64_t> write_report(const ReportData& data, const std::string& path);

}  // namespace vigil
