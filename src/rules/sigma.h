// Sigma rules (YAML, the Sigma specification 2.x) compiled into vigil's one
// rule form: each Sigma detection rule becomes a Rule whose query is EQL, so
// it runs through the same compiler, rule index and alerting as Elastic's
// rules, in the same pass.
//
// What the translation decides (docs/sigma.md says it for users):
//  - the log source (product/category/service) becomes a condition on the
//    event's provider or channel and event ID, from the table in
//    rules/sigma_logsources.toml (compiled in); a log source it has no
//    mapping for is reported, with the reason, never dropped silently;
//  - a Sigma field name (the EventData name: Image, CommandLine, ...) is read
//    wherever vigil's inputs put it: winlog.event_data.<Name> (EVTX, XML,
//    winlogbeat and Elastic Agent documents), <Name> at the top level (flat
//    exports such as the OTRF datasets), the log source's renamed field
//    (Security 4688: Image is NewProcessName), and the ECS field Elastic's
//    mapping copies it to verbatim (process.executable); System fields
//    (EventID, Channel, Provider_Name, Computer, ...) are winlog.* / event.code;
//  - values are case-insensitive unless `cased`; `*` and `?` are wildcards,
//    `\` escapes them; every modifier of the specification is translated
//    (see sigma.cpp) and `re` patterns run on RE2 (linear time).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "rules/rule.h"

namespace vigil {

// Values for `expand` placeholders: name (without the %) → values.
using SigmaPlaceholders = std::map<std::string, std::vector<std::string>>;

// Which field names the EQL uses.
enum class SigmaFieldTarget {
  // Every shape vigil reads (see above): what `hunt` and `run` use.
  Vigil,
  // Documents in Elasticsearch from winlogbeat / Elastic Agent: the ECS field
  // where Elastic's mapping has one, else winlog.event_data.<Name>
  // (`vigil rules convert --to eql`).
  Elastic,
};

struct SigmaOptions {
  const SigmaPlaceholders* placeholders = nullptr;
  SigmaFieldTarget target = SigmaFieldTarget::Vigil;
};

// A Sigma filter (meta-filter document): a condition ANDed to the detection
// rules it names (by id or name), or to every rule of its log source
// (`rules: any`), as pySigma applies them.
struct SigmaFilter {
  std::string title, id, file;
  SourcePos pos;                   // the `filter` key
  bool any = false;                // every rule whose log source is within this one's
  std::vector<std::string> rules;  // else the rules it names
  std::vector<SourcePos> rule_pos;
  std::string product, category, service;
  std::string condition;  // EQL, read with this filter's log source
};

// Applies `filters` to the Sigma detection rules among `rules`; warnings for
// names no rule has (file, position).
std::vector<Error> apply_sigma_filters(std::vector<Rule>& rules, const std::vector<SigmaFilter>& filters,
                                       std::vector<std::string>& warning_files);

// One Sigma file: its rules, and the documents that did not become one.
struct SigmaFile {
  std::vector<Rule> rules;
  std::vector<SigmaFilter> filters;
  std::vector<Error> errors;   // a rule written wrongly: file:line:col
  std::vector<Error> skipped;  // a valid rule vigil does not run, and why (log source, status)
};

// True for a file the loader reads as Sigma (.yml / .yaml).
bool is_sigma_path(std::string_view path);

// Parses and translates every document of a Sigma file. `file` names it in
// the rules (Rule::file) and positions are in `text`.
SigmaFile parse_sigma(std::string_view text, const std::string& file, const SigmaOptions& options = {});

// What a Sigma rule's document said for `key` ("name", "date",
// "logsource.category", ...), which the translation keeps in rule.extra as
// sigma.<key> (a JSON string); "" if it said nothing.
std::string sigma_key(const Rule& rule, std::string_view key);

// The fields (vigil's names, the first one an event has wins) where the
// Sigma field `name` is read on the events of `rule`, a Sigma rule (by its
// log source, as its query reads fields); for any other rule, `name`
// itself. Computer / ComputerName: winlog.computer_name, then host.name.
std::vector<std::string> sigma_field_paths(std::string_view name, const Rule& rule);

// Reads a placeholders file (YAML: name: [values...]).
Result<SigmaPlaceholders> load_sigma_placeholders(const std::string& path);

}  // namespace vigil
