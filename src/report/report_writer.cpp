// read_alert_file / write_report.
#include "report/report_writer.h"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "core/atomic_file.h"
#include "core/timestamp.h"
#include "report/html_report.h"

namespace vigil {

Result<std::uint64_t> read_alert_file(ReportData& data, const std::string& path, SkippedLines& skipped) {
  std::FILE* f = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (!f) return Error{"report.input", path + ": " + std::strerror(errno)};
  std::uint64_t added = 0, line_no = 0;
  std::string pending;  // a line that spans reads
  std::vector<char> buf(1 << 20);
  auto take = [&](std::string_view line) {
    ++line_no;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty()) return;
    if (auto why = data.add_alert(line)) {
      skipped.add(path, line_no, std::move(*why));
      return;
    }
    ++added;
  };
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) {
    std::string_view chunk(buf.data(), n);
    std::size_t begin = 0;
    while (true) {
      const std::size_t nl = chunk.find('\n', begin);
      if (nl == std::string_view::npos) {
        pending.append(chunk.substr(begin));
        break;
      }
      if (pending.empty()) {
        take(chunk.substr(begin, nl - begin));
      } else {
        pending.append(chunk.substr(begin, nl - begin));
        take(pending);
        pending.clear();
      }
      begin = nl + 1;
    }
  }
  const bool failed = std::ferror(f) != 0;
  if (!pending.empty()) take(pending);
  if (f != stdin) std::fclose(f);
  if (failed) return Error{"report.input", path + ": read error"};
  return added;
}

Result<std::uint64_t> write_report(const ReportData& data, const std::string& path) {
  const auto now = std::chrono::system_clock::now();
  // Whole milliseconds: format_timestamp then writes .123Z, not nine digits.
  const auto ns = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() * 1000000LL;
  const std::string title = data.title().empty() ? "vigil report" : "vigil report: " + data.title();
  std::string page = render_html_report(data.to_json(format_timestamp(ns)), title);
  if (auto error = write_file_atomically(path, page)) return Error{"report.output", *error};
  return static_cast<std::uint64_t>(page.size());
}

}  // namespace vigil
