// Printing what the readers skipped or could not read, for every command.
#pragma once

#include "ingest/input_report.h"

namespace vigil {

// Writes the counts and the kept diagnostics (file:line or file (byte N)) to stderr.
void print_diagnostics(const ReadStats& stats);
// Writes the diagnostics kept since the last call (`shown` counts them), each
// as "PREFIX: file:line (byte N): reason": a run that never ends reports bad
// input as it meets it.
void print_new_diagnostics(const ReadStats& stats, const char* prefix, std::size_t& shown);

// True when something was skipped or unreadable (what --strict turns into exit 3).
inline bool input_had_errors(const ReadStats& stats) { return stats.skipped > 0 || stats.failed_inputs > 0; }

}  // namespace vigil
