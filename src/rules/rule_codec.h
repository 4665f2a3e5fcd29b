// Rule <-> bytes: the binary form of a parsed rule (or Sigma file) that the rule cache
// (store/rule_cache.h) keeps, so that a rule file seen before is not parsed
// as TOML again (TOML parsing is most of loading Elastic's rule directories).
// One field list serves both directions; decoding checks every length and
// gives nothing back for bytes it did not write.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "rules/rule.h"
#include "rules/sigma.h"

namespace vigil {

std::string encode_rule(const Rule& rule);
std::optional<Rule> decode_rule(std::string_view bytes);
// A Sigma file as parsed: its rules, filters and the documents it skipped
// (not its errors: a file with one is not cached).
std::string encode_sigma_file(const SigmaFile& file);
std::optional<SigmaFile> decode_sigma_file(std::string_view bytes);

}  // namespace vigil
