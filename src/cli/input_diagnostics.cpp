// Diagnostics printing (see input_diagnostics.h).
#include "cli/input_diagnostics.h"
#include "core/text.h"

#include <cstdio>

namespace vigil {

namespace {
void print_diagnostic(const char* prefix, const InputDiagnostic& d) {
  if (d.line > 0) {
    std::fprintf(stderr, "%s%s:%llu (byte %llu): %s\n", prefix, printable(d.file).c_str(),
                 static_cast<unsigned long long>(d.line), static_cast<unsigned long long>(d.offset),
                 printable(d.reason).c_str());
  } else {
    std::fprintf(stderr, "%s%s (byte %llu): %s\n", prefix, printable(d.file).c_str(),
                 static_cast<unsigned long long>(d.offset), printable(d.reason).c_str());
  }
}
}  // namespace

void print_diagnostics(const ReadStats& stats) {
  if (stats.skipped == 0 && stats.failed_inputs == 0 && stats.warnings == 0) return;
  std::fprintf(stderr, "vigil: %llu document(s) skipped, %llu input(s) failed, %llu warning(s):\n",
               static_cast<unsigned long long>(stats.skipped), static_cast<unsigned long long>(stats.failed_inputs),
               static_cast<unsigned long long>(stats.warnings));
  for (const auto& d : stats.diagnostics) print_diagnostic("  ", d);
  if (stats.diagnostics_dropped > 0) {
    std::fprintf(stderr, "  ... and %llu more\n", static_cast<unsigned long long>(stats.diagnostics_dropped));
  }
}

void print_new_diagnostics(const ReadStats& stats, const char* prefix, std::size_t& shown) {
  const std::string lead = std::string(prefix) + ": ";
  for (; shown < stats.diagnostics.size(); ++shown) print_diagnostic(lead.c_str(), stats.diagnostics[shown]);
}

}  // namespace vigil
