// KQL (Kibana Query Language) for `type = "query"` rules, translated into an
// EQL event query that the EQL compiler then compiles like any other, so
// KQL rules share the program, the index and the engine. The subset Elastic's
// rules use: `field : value`, `field : (a or b and not c)`, `field : *`
// (exists), quoted phrases and unquoted terms with `*` wildcards,
// `and` / `or` / `not`, parentheses, and range comparisons (`field >= 10`).
//
// Semantics follow Elasticsearch on ECS mappings: keyword fields compare
// exactly and case-sensitively (unquoted `*` is a wildcard, quoted text is
// literal); full-text fields (PowerShell script blocks, messages, `*.text`)
// match a quoted or unquoted phrase anywhere in the text, case-insensitively
// (token boundaries are not enforced: a documented approximation). Nested
// field queries (`field:{...}`) are rejected with a position.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace vigil {

// The EQL query ("any where ...") for a KQL query; errors carry positions in `kql`.
Result<std::string> kql_to_eql(std::string_view kql);

}  // namespace vigil
