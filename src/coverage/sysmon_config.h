// SysmonConfig: a Sysmon configuration's event filtering (the XML that
// `sysmon -i` takes), and what it means for rules before any data exists:
// which Sysmon event IDs it collects, and whether the events a rule term
// needs pass its include/exclude filters. docs/coverage.md.
//
// Filtering semantics (as Sysmon documents them): per event type, a section
// with onmatch="include" logs only events matching one of its filters (an
// empty include logs nothing), onmatch="exclude" drops the events matching
// one of its filters (an empty exclude drops nothing), and exclude wins
// over include. A filter is one condition, or the conditions of a
// <Rule groupRelation="and"> (or of an event section inside a RuleGroup with
// groupRelation="and"), which must all hold. Conditions compare case-
// insensitively: is, is not, is any, contains, contains any, contains all,
// excludes, excludes any, excludes all, begin with, not begin with, end with,
// not end with, less than, more than, image. An event type the configuration
// does not mention is taken as not collected.
#pragma once

#include <functional>
#include <cstdint>
#include <map>
#include <set>
#include <string_view>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "core/result.h"
#include "coverage/coverage.h"

namespace vigil {

struct SysmonCondition {
  std::string field;  // EventData name: Image, TargetObject, ...
  std::string op;     // lower-case condition
  std::string value;
};

struct SysmonFilter {
  std::string name;  // the rule name, if any (RuleName)
  std::vector<SysmonCondition> conditions;  // all must hold
  // Where it is written (for --suggest to narrow it): the byte offset of
  // the element's '<' in the file, and which element holds its conditions.
  enum class Form : std::uint8_t {
    Condition,    // one condition element directly in the event section
    InOrRule,     // one condition of a <Rule groupRelation="or"> (not narrowed: a Rule cannot hold a Rule)
    AndRule,      // a <Rule groupRelation="and">
    AndSection,   // an event section whose RuleGroup has groupRelation="and"
  };
  Form form = Form::Condition;
  std::size_t offset = 0;
  std::string element;  // the element's name (QueryName, Rule, DnsQuery)
};

struct SysmonEventFilters {
  std::string tag;   // ProcessCreate, ImageLoad, ...
  bool has_include = false;
  bool has_exclude = false;
  std::vector<SysmonFilter> include, exclude;
};

class SysmonConfig {
 public:
  static Result<SysmonConfig> load(const std::string& path);
  static Result<SysmonConfig> parse(const std::string& text, const std::string& path);
  // The filters for a Sysmon event ID; null when the configuration does not mention its type.
  const SysmonEventFilters* filters(int event_id) const;
  const std::string& schema_version() const { return schema_; }
  // Whether Sysmon logs an event of this ID whose EventData values value_of
  // gives (nullopt: the event has no such field): the type is in the
  // configuration, one include filter holds (when it has an include
  // section) and no exclude filter does. For replaying recorded events.
  using ValueOf = std::function<std::optional<std::string>(std::string_view name)>;
  bool collects(int event_id, const ValueOf& value_of) const;
  // Every EventData name a condition reads.
  std::set<std::string> condition_fields() const;

 private:
  std::map<std::string, SysmonEventFilters> by_tag_;
  std::string schema_;
};

// The Sysmon event type (configuration tag) of an event ID ("" if none).
std::string_view sysmon_tag(int event_id);

// What would make a rule's events collected (`vigil coverage --suggest`):
// include conditions to add (an empty field: collect every event of the type,
// for a type the configuration does not mention), and what no include can
// fix (an exclusion that drops the events, a rule that pins no value).
// An addition is an include condition, or (`narrows` set) the narrowing of
// an exclude filter that drops the events: the filter then also requires the
// negated condition (`QueryName is not onedrive.live.com`), so those events
// pass it; they still need an include if the section has includes.
struct SysmonAddition {
  std::string tag;        // ImageLoad, NetworkConnect, ...
  std::string field;      // EventData name; "" = the whole event type
  std::string condition;  // is, begin with, end with, contains (what the events hold)
  std::string value;
  std::string narrows;    // the exclude filter narrowed (described), "" for an include
  SysmonFilter::Form form = SysmonFilter::Form::Condition;
  std::size_t offset = 0;  // the filter's place in the file
  std::string element;
  friend bool operator<(const SysmonAddition& a, const SysmonAddition& b) {
    return std::tie(a.tag, a.offset, a.field, a.condition, a.value) < std::tie(b.tag, b.offset, b.field, b.condition, b.value);
  }
};
struct SysmonSuggestions {
  std::map<SysmonAddition, std::vector<std::string>> additions;  // → the rules each serves
  std::vector<std::string> unfixable;                            // "rule: why"
};

// How a rule fares under the configuration: blind (no term's events can be
// collected), degraded (collected only in part, or the verdict depends on
// values the rule does not pin down) or ready. With `suggestions`, also what
// would collect what is lost.
Verdict judge_sysmon_config(const RuleSet& set, const RuleNeeds& needs, const SysmonConfig& config,
                            SysmonSuggestions* suggestions = nullptr);

// Whether a recorded event of this ID is one the addition includes.
bool addition_holds(const SysmonAddition& a, int event_id, const SysmonConfig::ValueOf& value_of);

// The configuration's text with the suggested includes as new RuleGroups
// (one per event type) before </EventFiltering>, and the narrowed exclude
// filters wrapped or extended in place: text is only inserted, every byte of
// the original is kept.
std::string patch_sysmon_config(const std::string& text, const SysmonSuggestions& suggestions);
// The same load from text (`path` names it in errors).
Result<SysmonConfig> load_sysmon_config_text(const std::string& text, const std::string& path);

}  // namespace vigil
