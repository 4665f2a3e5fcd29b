// Coverage: can the data support the rules? For each rule, what each of its
// terms needs (event category and types, the fields it cannot match
// without, the fields it only reads, the Windows events that produce them);
// for each host of the data, what it has (categories, source events, time
// range, how often each needed field is filled); and the verdict per rule
// and host: ready, degraded (some condition can never be evaluated, or a
// needed field is mostly empty) or blind (a needed event type or field is
// absent), with the reasons in words.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/event.h"
#include "detect/rule_set.h"
#include "ingest/ecs_mapping.h"

namespace vigil {

struct TermNeeds {
  const eql::Program* program = nullptr;  // the term's compiled query (owned by the RuleSet)
  std::string label;                  // "query", "sequence term 2", "until"
  std::string category;               // "" = any
  std::vector<std::string> types;     // required event.type values (one of), empty = any
  std::vector<std::string> codes;     // required event.code values (one of; event IDs), empty = any
  std::vector<std::string> actions;   // required event.action values (one of, ASCII-folded), empty = any
  std::vector<std::vector<std::string>> required;  // each clause: at least one of these fields
  std::vector<std::string> optional;  // read but not required
  std::vector<const EcsMappingEntry*> sources;  // the Windows events that produce such events
  bool missing = false;               // a missing-event term (![...]): its absence is the point
  std::vector<std::string> join_keys;  // sequence terms: the fields it joins on, in order (`by`)
};

struct RuleNeeds {
  std::size_t rule = 0;  // index into RuleSet::compiled
  std::vector<TermNeeds> terms;
};

std::vector<RuleNeeds> rule_needs(const RuleSet& set);
// "Sysmon 7", "Security 4688": a term's sources, for people.
std::vector<std::string> source_names(const TermNeeds& term);
// The needs as text, for `vigil rules explain`.
std::string explain_needs(const RuleSet& set, const RuleNeeds& needs);

// What one host's data holds.
struct HostProfile {
  std::uint64_t events = 0;
  TimestampNs first = 0, last = 0;
  std::map<std::string, std::uint64_t> categories;  // "process" and "process/start"
  std::map<std::string, std::uint64_t> sources;     // "Microsoft-Windows-Sysmon 7"
  // Per category: how many of its events have each tracked field set.
  std::map<std::string, std::unordered_map<FieldId, std::uint64_t>> filled;
};

class DataProfiler {
 public:
  // Tracks the fill of every field `needs` reads; registers the fields it
  // reads itself (host.name, event.code, ...): build it before the reader.
  DataProfiler(RuleSet& set, const std::vector<RuleNeeds>& needs);
  void observe(const Event& event);
  const std::map<std::string, HostProfile>& hosts() const { return hosts_; }

 private:
  const RuleSet& set_;
  std::vector<FieldId> tracked_;  // every field a rule reads
  FieldId host_, category_, type_, code_, provider_;
  std::map<std::string, HostProfile> hosts_;
};

enum class CoverageStatus { Ready, Degraded, Blind };
std::string_view status_name(CoverageStatus s);

struct Verdict {
  CoverageStatus status = CoverageStatus::Ready;
  std::vector<std::string> reasons;
  // Adds a reason; the status becomes the worse of the two.
  void add(CoverageStatus s, std::string reason) {
    if (static_cast<int>(s) > static_cast<int>(status)) status = s;
    reasons.push_back(std::move(reason));
  }
};

Verdict judge(const RuleSet& set, const RuleNeeds& needs, const HostProfile& host);

}  // namespace vigil
