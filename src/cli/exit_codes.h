// Process exit codes, documented in README.md ("Exit codes").
#pragma once

namespace vigil {
constexpr int kExitOk = 0;
constexpr int kExitAlerts = 1;      // alerts found and --fail-on-alert given
constexpr int kExitUsage = 2;       // bad arguments, query or rule errors
constexpr int kExitInput = 3;       // malformed or unreadable input under --strict
}  // namespace vigil
