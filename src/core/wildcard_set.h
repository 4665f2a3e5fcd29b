// WildcardSet: many wildcard patterns tested in one scan (vectorscan). A
// `field : ("a*", "*b*", ...)` list of dozens of patterns — registry paths,
// PowerShell function names in script blocks — costs one pass over the value
// instead of one per pattern. Matching is what the patterns say one by one
// (WildcardPattern): `*` any run of bytes, `?` one UTF-8 code point (a lead
// byte and the continuation bytes it announces), ASCII case folding for `:`.
//
// Each thread scans with its own WildcardScratch; a scratch grows to fit
// every set compiled so far the first time it meets one it does not fit.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <span>
#include <string_view>
#include <vector>

#include "core/wildcard.h"

struct hs_database;
struct hs_scratch;

namespace vigil {

class WildcardScratch {
 public:
  WildcardScratch() = default;
  WildcardScratch(const WildcardScratch&) = delete;
  WildcardScratch& operator=(const WildcardScratch&) = delete;
  ~WildcardScratch();

 private:
  friend class WildcardSet;
  hs_scratch* scratch_ = nullptr;
  std::uint64_t generation_ = 0;  // the sets compiled when it was last sized
};

class WildcardSet {
 public:
  // Null when the patterns cannot be compiled (the caller tests them one by one).
  static std::unique_ptr<WildcardSet> compile(std::span<const WildcardPattern> patterns);
  // Plain strings found anywhere in the text, ASCII case folded: matching()
  // then names every literal the text contains (a cheap prefilter).
  static std::unique_ptr<WildcardSet> compile_literals(std::span<const std::string> literals);
  WildcardSet(const WildcardSet&) = delete;
  WildcardSet& operator=(const WildcardSet&) = delete;
  ~WildcardSet();

  // Longest text a scan takes (block mode counts in unsigned int); test longer ones pattern by pattern.
  static constexpr std::size_t kMaxText = 1u << 31;
  // True when any pattern matches all of `text` (at most kMaxText bytes).
  bool matches_any(std::string_view text, WildcardScratch& scratch) const;
  // Appends the index of every pattern that matches all of `text` (in no particular order).
  void matching(std::string_view text, WildcardScratch& scratch, std::vector<unsigned>& out) const;

  // The pattern as the regular expression vectorscan compiles (exposed for tests).
  static std::string to_regex(const WildcardPattern& pattern);

 private:
  explicit WildcardSet(hs_database* db) : db_(db) {}
  static std::unique_ptr<WildcardSet> adopt(hs_database* db);
  // Sizes the scratch for every set compiled so far, if it is not yet.
  static void prepare(WildcardScratch& scratch);
  hs_database* db_;
};

// A list of patterns that is tested one by one until that has cost about
// what compiling it would (vectorscan: 0.4-1.8 ms per glob, measured on the
// Elastic rules' lists), then in one scan: the rent-or-buy rule, never more
// than twice the cheaper of the two. Both give the same answers; only the
// cost differs. Safe to use from several threads at once.
class AdaptiveWildcards {
 public:
  // One-by-one pattern tests per pattern of the list before compiling (a
  // test costs ~20 ns, compiling ~1 ms per pattern), and the fewest
  // patterns worth compiling.
  static constexpr std::uint64_t kTestsPerPattern = 50'000;
  static constexpr std::size_t kMinPatterns = 4;

  AdaptiveWildcards() = default;
  AdaptiveWildcards(const AdaptiveWildcards&) = delete;
  AdaptiveWildcards& operator=(const AdaptiveWildcards&) = delete;
  ~AdaptiveWildcards();

  bool matches_any(std::span<const WildcardPattern> patterns, std::string_view text, WildcardScratch& scratch) const;
  bool is_compiled() const { return set_.load(std::memory_order_acquire) != nullptr; }

 private:
  // The compiled set once it is worth having, else null.
  const WildcardSet* compiled(std::span<const WildcardPattern> patterns) const;

  mutable std::atomic<std::uint64_t> tests_{0};  // patterns tested one by one so far
  mutable std::atomic<bool> claimed_{false};     // a thread has taken on compiling
  mutable std::atomic<WildcardSet*> set_{nullptr};  // owned once compiled
};

// Plain strings (ASCII case folded) searched for in texts: matching() names
// every literal a text contains. Searched one by one (a SIMD substring
// search each) until that has cost about what compiling them into one
// vectorscan literal database would (~1 ms a set), then scanned in one
// pass. Both give the same answers. Safe to use from several threads.
class AdaptiveLiterals {
 public:
  // One-by-one searches before compiling.
  static constexpr std::uint64_t kSearchesBeforeCompiling = 50'000;

  explicit AdaptiveLiterals(std::vector<std::string> literals) : literals_(std::move(literals)) {}
  AdaptiveLiterals(const AdaptiveLiterals&) = delete;
  AdaptiveLiterals& operator=(const AdaptiveLiterals&) = delete;
  ~AdaptiveLiterals();

  // Appends the index of every literal `text` contains (in no particular order).
  void matching(std::string_view text, WildcardScratch& scratch, std::vector<unsigned>& out) const;
  bool is_compiled() const { return set_.load(std::memory_order_acquire) != nullptr; }

 private:
  std::vector<std::string> literals_;  // folded, none empty
  mutable std::atomic<std::uint64_t> searches_{0};
  mutable std::atomic<bool> claimed_{false};
  mutable std::atomic<WildcardSet*> set_{nullptr};  // owned once compiled
};

}  // namespace vigil
