// Rarity: how often a value combination was seen before, per host, per user
// or fleet-wide. A RaritySpec names the fields whose values form the term,
// the scope, and the population (which events count). Rules ask through
// `[[vigil.rarity]]` conditions (a threshold per rule on a shared spec), and
// new_terms rules keep their history in a spec of their own (their fields,
// fleet scope, their query as population).
//
// The RarityTracker counts terms as events go by, in input order, and adds
// what a baseline (store/baseline_store.h) knew before the run: "seen
// before" for an event is baseline count + earlier events of this run. Its
// table is bounded (max_terms): beyond it the least recently seen terms are
// evicted, and counted.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/codec.h"
#include "core/event.h"
#include "core/field_registry.h"
#include "eql/program.h"
#include "store/baseline_store.h"

namespace vigil {

struct RaritySpec {
  enum class Scope { Host, User, Fleet };
  std::string id;           // stable across runs: a hash of the definition
  std::string description;  // the definition, readable
  std::vector<FieldId> fields;
  Scope scope = Scope::Host;
  const eql::Program* population = nullptr;  // null: every event that has all the fields
  bool new_terms = false;   // a new_terms rule's history: learned, looked up, not tracked in hunts
  std::vector<std::string> rules;  // names of the rules using it
};

// The terms an event has for a spec: its entity (host, user or "" for the
// fleet) and each combination of its field values (multi-valued fields
// expand; at most 100 combinations). False if the event is not in the
// spec's population.
struct SpecTerms {
  std::string entity;
  std::vector<std::string> terms;  // values joined by \x1f
};
bool terms_of(const RaritySpec& spec, const Event& event, FieldId entity_field, eql::EvalContext& context,
              SpecTerms& out);
// The same for an event already known to be in the population (a new_terms
// rule's match: its population is the rule's own query).
bool terms_of_member(const RaritySpec& spec, const Event& event, FieldId entity_field, SpecTerms& out);

class RarityTracker {
 public:
  // `baseline` may be null; spec numbers are looked up in it once.
  RarityTracker(const std::vector<RaritySpec>& specs, const FieldRegistry& fields, BaselineStore* baseline,
                std::size_t max_terms);

  // The smallest "seen before" count among the event's terms for `spec`
  // (baseline + earlier observed events); nullopt when the event is not in
  // the spec's population.
  std::optional<std::int64_t> seen_before(std::size_t spec, const Event& event);
  // Counts the event in every spec whose population it is in (new_terms
  // specs only when `with_new_terms`, as `baseline learn` does).
  void observe(const Event& event, bool with_new_terms = false);

  struct Counted {
    std::size_t spec;
    std::string_view entity;
    std::string_view term;
    TermStats stats;  // this run's counts only
  };
  template <typename F>
  void for_each(F&& f) const {
    for (const auto& [key, entry] : table_) {
      std::size_t spec = static_cast<unsigned char>(key[0]) | (static_cast<std::size_t>(static_cast<unsigned char>(key[1])) << 8);
      std::string_view rest = std::string_view(key).substr(2);
      std::size_t sep = rest.find('\x1e');
      f(Counted{spec, rest.substr(0, sep), rest.substr(sep + 1), {entry.count, entry.first, entry.last}});
    }
  }
  void clear() { table_.clear(); }
  std::size_t size() const { return table_.size(); }
  std::uint64_t evicted() const { return evicted_; }
  const std::vector<RaritySpec>& specs() const { return specs_; }
  // The serialized form (stream checkpoints).
  void save(Encoder& out) const;
  void load(Decoder& in);

 private:
  struct Entry {
    std::int64_t count = 0;
    std::int64_t baseline = 0;
    TimestampNs first = 0;
    TimestampNs last = 0;
    friend auto members(Unqualified<Entry> auto& e) { return std::tie(e.count, e.baseline, e.first, e.last); }
  };
  const std::string& key(std::size_t spec, std::string_view entity, std::string_view term);
  // The term's entry, created (with the baseline's count) on first sight.
  Entry& entry(std::size_t spec, std::string_view entity, std::string_view term, TimestampNs t);
  void make_room();

  const std::vector<RaritySpec>& specs_;
  std::vector<FieldId> entity_fields_;  // per spec
  BaselineStore* baseline_;
  std::vector<std::optional<std::int64_t>> baseline_specs_;  // per spec: its number in the baseline
  std::size_t max_terms_;
  std::unordered_map<std::string, Entry> table_;
  std::uint64_t evicted_ = 0;
  eql::EvalContext context_;
  SpecTerms scratch_;
  std::string key_;
};

// The keys of the least recently seen tenth of a bounded table (at least
// one): what make_room() evicts in one sweep, amortized O(1) per entry.
template <typename Map, typename LastSeen>
std::vector<std::string> least_recent_tenth(const Map& table, LastSeen last_seen) {
  std::vector<std::pair<TimestampNs, const std::string*>> by_age;
  by_age.reserve(table.size());
  for (const auto& [k, v] : table) by_age.emplace_back(last_seen(v), &k);
  std::size_t drop = std::max<std::size_t>(1, table.size() / 10);
  std::nth_element(by_age.begin(), by_age.begin() + static_cast<std::ptrdiff_t>(drop - 1), by_age.end());
  std::vector<std::string> victims;
  victims.reserve(drop);
  for (std::size_t i = 0; i < drop; ++i) victims.push_back(*by_age[i].second);
  return victims;
}

// "host.name" / "user.name" / "" for a scope.
std::string_view scope_field(RaritySpec::Scope scope);
// "host", "user", "fleet".
std::string_view scope_name(RaritySpec::Scope scope);

}  // namespace vigil
