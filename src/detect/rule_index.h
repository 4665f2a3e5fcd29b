// RuleIndex: which rules an event can possibly match, without evaluating
// them. A rule (each term of a sequence on its own) is filed under:
//  1. the literal values a field must take (`process.name : ("rundll32.exe",
//     "regsvr32.exe") and ...`), ASCII-folded; an event looks its own value
//     of that field up;
//  2. else a literal piece of each wildcard pattern a field must match (its
//     longest run without wildcards); one search of the event's value finds
//     every rule whose piece it contains. `event.code == "10"` narrows less
//     than a pattern on the event's content, so a rule with both goes here;
//  3. else, for a disjunction with a literal or pattern in every branch, each
//     branch's (`(file.path : "*\\x*") or (registry.value : "y")`);
//  4. else the event categories its query needs (`registry where ...`),
//     refined by required event.type values, or "any".
// Wherever it is filed, a rule only comes to events of the kinds it
// requires: its required values of event.category, event.type, event.action,
// event.code and winlog.channel are bit masks the event's own values
// (computed once per event) must meet, and a field none of whose rules takes
// the event's kind is not looked up at all. And it is gated by up to three clauses of fields
// the query cannot be true without (`powershell.file.script_block_text :
// "*x*"` needs that field; `a : "x" or b : "y"` needs a or b).
// The index only narrows: every candidate still runs its whole program, so
// a rule filed by a case-sensitive value may be a false candidate, never a
// missed one (tests/detect/rule_index_data_test.cpp checks every Elastic rule
// against brute force on the OTRF recordings).
#pragma once

#include <algorithm>
#include <array>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/event.h"
#include "core/event_kinds.h"
#include "core/field_registry.h"
#include "core/string_table.h"
#include "core/wildcard_set.h"
#include "eql/program.h"

namespace vigil {

// What a compiled query term needs (used by the index and by coverage):
// clauses of fields of which an event must have at least one each for the
// term to be true; the literal values (ASCII-folded) a field must take, if the
// term requires one of a set; every field the term reads.
// `useful` says which fields may appear in clauses (an `or` keeps, per branch,
// the first clause of only useful fields).
std::vector<std::vector<FieldId>> required_field_clauses(const eql::Program& program,
                                                        const std::function<bool(FieldId)>& useful);
std::optional<std::vector<std::string>> required_values(const eql::Program& program, FieldId field);
std::vector<FieldId> fields_read(const eql::Program& program);

class RuleIndex {
  struct Entry;          // a filed rule (below)
  struct LiteralSubset;  // the literals of a pattern field one kind of event can use (below)

 public:
  // The field a Sigma keyword search (OpCode::Keywords) reads: every text of
  // the event. Rules are filed under its literals like under a field's.
  static constexpr FieldId kAnyText = FieldRegistry::kNoField - 1;

  RuleIndex(FieldId category_field, FieldId type_field)
      : kind_fields_{category_field, type_field, FieldRegistry::kNoField, FieldRegistry::kNoField,
                    FieldRegistry::kNoField} {}

  // Files rule `rule` (an event query): under a required literal set when its
  // program has one, else under `category` ("" = any).
  void add_event_rule(std::size_t rule, const eql::Program& program, const std::string& category,
                      const FieldRegistry& fields);

  // The fields that say what kind of event it is. A rule that requires
  // values of one only comes to events holding one of them.
  enum Kind : std::size_t { kCategory, kType, kAction, kCode, kChannel, kKinds };
  static_assert(kKinds == kKindFieldCount);

  // Per-thread working space of candidates().
  struct Scratch {
    WildcardScratch wildcards;
    std::string text;      // a number rendered for matching
    std::string all_text;  // the event's texts, joined (the kAnyText field's value)
    std::vector<unsigned> matched;  // the literals a text not remembered contains
    KindBits kinds{};  // the event's
    // The last text looked up per kind, value and pattern field, with its
    // answer: events come in runs of one kind and one process, so the next
    // event often holds the same text and skips the lookup.
    struct Memo {
      std::string text;
      bool valid = false;
      std::uint64_t bits = 0;         // kind fields: the text's bits
      std::vector<unsigned> matched;  // pattern fields: the literals the text contains
      const LiteralSubset* searched = nullptr;  // pattern fields: among these (null: all)
      const std::vector<Entry>* entries = nullptr;  // value fields: the rules filed under the text
      static constexpr std::size_t kMaxText = 4096;  // longer texts are looked up every time
      bool holds(std::string_view t) const { return valid && text == t; }
      void remember(std::string_view t) {
        valid = t.size() <= kMaxText;
        if (valid) text.assign(t);
      }
    };
    std::array<Memo, kKinds> kind_memo;
    std::vector<Memo> value_memo;    // per value field
    std::vector<Memo> pattern_memo;  // per pattern field
    // The indexed fields whose gates an event's kinds leave open, for the
    // last few kinds seen: most events then pass over a handful of fields
    // instead of testing every gate. A Scratch serves one RuleIndex.
    struct OpenFields {
      KindBits kinds{};
      bool valid = false;
      std::vector<std::uint32_t> values;    // positions in the value indexes
      std::vector<std::uint32_t> patterns;  // positions in the pattern indexes
      std::vector<const LiteralSubset*> searched;  // in step with patterns: the literals to search (null: all)
    };
    static constexpr std::size_t kOpenFieldSets = 16;
    std::array<OpenFields, kOpenFieldSets> open_fields;
    std::size_t open_fields_last = 0;  // the set the previous event used
    std::size_t open_fields_next = 0;  // the set replaced next (round robin)
  };
  // Appends the candidate rules for `event` (a rule may appear twice when an
  // event has several matching values; callers dedupe).
  void candidates(const Event& event, std::vector<std::size_t>& out, Scratch& scratch) const;

  // The fields the NDJSON reader may leave undecoded in events of kinds none
  // of their readers takes (null: none): fields only rule terms filed here
  // read (no intern() pinned them, and every query reference to them is in
  // a filed term), none of them a term of any kind.
  std::shared_ptr<const FieldDeferral> deferral(const FieldRegistry& fields) const;

  std::size_t rules_by_value() const { return by_value_count_; }
  std::size_t rules_by_pattern() const { return by_pattern_count_; }
  std::size_t rules_by_branch() const { return by_branch_count_; }
  std::size_t rules_by_category() const { return by_category_count_; }
  std::size_t indexed_fields() const { return value_fields_.size(); }
  // Literal subsets made so far (RuleIndex::LiteralSubset), over all pattern fields.
  std::size_t literal_subsets() const;
  std::size_t pattern_fields() const { return pattern_fields_.size(); }

 private:
  static constexpr std::size_t kMaxGates = 3;
  struct Entry {
    std::size_t rule;
    std::vector<std::vector<FieldId>> gates;  // per gate: the event must have one of these fields
    KindBits kinds{};  // per kind field: the event must hold one of these values (0: any)
    bool operator==(const Entry&) const = default;
  };
  void file(const std::string& key, const Entry& entry);
  void file_values(FieldId field, const std::vector<std::string>& values, const Entry& entry);
  // `values` are matched as patterns without wildcards.
  // `companions`: literals the text must also hold for the entry to be a candidate.
  void file_patterns(FieldId field, const std::vector<std::string>& values, const std::vector<std::string>& patterns,
                     const Entry& entry, const std::vector<std::string>& companions = {});
  // Entries the event can reach: its kinds, then its gates.
  static bool admits(const Entry& e, const Event& event, const Scratch& scratch) {
    return kinds_take(e.kinds, scratch.kinds) && open(e, event);
  }
  void append_open(const std::vector<Entry>& entries, const Event& event, const Scratch& scratch,
                   std::vector<std::size_t>& out) const;
  // The fields open to events of scratch.kinds (remembered in the scratch).
  const Scratch::OpenFields& open_fields(Scratch& scratch) const;

  // Whether an indexed field is looked at for an event: some rule filed
  // under it takes the event's kinds (Scratch::OpenFields remembers which
  // fields those are per kinds) and the event holds it.
  struct FieldGate {
    FieldId field;
    KindBits kinds;  // what some entry filed under the field takes: either_kinds() of theirs
  };
  // Filing under `field` in `indexes` (gated by `gates`, in step): its
  // position, appended with `make` when new; the gate takes the entry's kinds.
  template <typename Index, typename Make>
  static std::size_t gate_position(std::vector<FieldGate>& gates, std::vector<Index>& indexes, FieldId field,
                                   const Entry& entry, Make&& make) {
    auto it = std::find_if(gates.begin(), gates.end(), [&](const FieldGate& g) { return g.field == field; });
    if (it == gates.end()) {
      gates.push_back({field, entry.kinds});
      indexes.push_back(make());
      it = gates.end() - 1;
    }
    it->kinds = either_kinds(it->kinds, entry.kinds);
    return static_cast<std::size_t>(it - gates.begin());
  }

  struct ValueIndex {
    StringTable<std::vector<Entry>> rules;
    std::size_t longest = 0;  // of the values filed: a longer text is none of them (CallTrace, script blocks)
  };
  void lookup_values(const Event& event, const Value& v, const ValueIndex& index, std::vector<std::size_t>& out,
                     const Scratch& scratch, Scratch::Memo& memo) const;

  // Rules filed under wildcard patterns of one field, by a literal piece of
  // each pattern (its longest run without wildcards, folded): a value can
  // only match the pattern if it contains the piece. One literal scan per
  // value finds them all.
  struct PatternIndex {
    StringTable<std::vector<std::size_t>> by_literal;    // literal -> indexes into filed; scan ids are its order
    std::vector<std::size_t> unconditional;                // patterns without a literal piece ("*", "?")
    std::once_flag scan_once;
    std::unique_ptr<AdaptiveLiterals> scan;                // null: no literals (every rule here is unconditional)
    std::vector<Entry> filed;
    // In step with filed: the literals (positions in by_literal) a text must
    // also hold for the entry to be a candidate (a regex's other runs).
    std::vector<std::vector<unsigned>> companions;
    // Per kinds of event, the literals whose rules take it, when they are
    // at most half of all (made on first use, shared by every thread).
    // Bounded: an event names its own kinds (an attacker's events may name
    // thousands of combinations); past the caps, an event searches them all.
    static constexpr std::size_t kMaxKinds = 1024;
    static constexpr std::size_t kMaxSubsets = 64;
    std::mutex subsets_mutex;
    std::map<KindBits, const LiteralSubset*> subset_of_kinds;  // null: search them all
    std::map<std::vector<unsigned>, std::unique_ptr<LiteralSubset>> subsets;  // by the literals kept
  };
  // A vectorscan literal search slows as literals are added (20 literals
  // scan at ~5.6 GB/s, 102 at ~2.5 GB/s): an event only searches for the
  // literals of rules that take its kind. SigmaHQ's keyword rules read every
  // text of an event; a Sysmon event searches Mimikatz's 20 keywords, not
  // the 75 antivirus names the Application log's rule looks for.
  struct LiteralSubset {
    std::vector<unsigned> ids;               // position here -> position in by_literal
    std::unique_ptr<AdaptiveLiterals> scan;  // null: none kept (no search at all)
  };
  static const LiteralSubset* subset_for(PatternIndex& index, const KindBits& kinds);
  // `memo` null: the text is not remembered (the any-text field: every event's differs).
  // `subset`: the literals searched (null: all of them).
  void lookup_patterns(const Event& event, const Value& v, PatternIndex& index, const LiteralSubset* subset,
                       std::vector<std::size_t>& out, Scratch& scratch, Scratch::Memo* memo) const;
  static bool open(const Entry& e, const Event& event);  // every gate has a field the event holds

  std::array<FieldId, kKinds> kind_fields_;  // kNoField: no rule reads it
  std::array<KindNames, kKinds> kind_names_;
  std::map<const eql::Program*, KindBits> term_kinds_;  // every term filed, with the kinds it takes
  std::vector<FieldGate> value_gates_;  // in step with value_fields_
  std::vector<ValueIndex> value_fields_;
  std::vector<FieldGate> pattern_gates_;  // in step with pattern_fields_
  std::vector<std::unique_ptr<PatternIndex>> pattern_fields_;
  std::unordered_map<std::string, std::vector<Entry>, StringHash, std::equal_to<>> by_category_;
  std::vector<Entry> any_;
  std::size_t by_value_count_ = 0;
  std::size_t by_pattern_count_ = 0;
  std::size_t by_branch_count_ = 0;
  std::size_t by_category_count_ = 0;
};

}  // namespace vigil
