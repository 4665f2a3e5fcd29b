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

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
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

// Compiled sets kept between runs in vectorscan's serialized form: a set
// compiled before is loaded (microseconds) instead of compiled (about a
// millisecond per pattern). Optional, an optimisation only; both calls may
// come from any thread. store/rule_cache.h keeps them next to the parsed rules.
class CompiledSetStore {
 public:
  virtual ~CompiledSetStore() = default;
  virtual std::optional<std::string> find(const std::string& key) = 0;
  virtual void store(const std::string& key, std::string bytes) = 0;
};
// The store every WildcardSet uses (null: none). Not owned; whoever sets it
// unsets it before it goes.
void set_compiled_set_store(CompiledSetStore* store);
CompiledSetStore* compiled_set_store();

class WildcardSet {
 public:
  // Null when the patterns cannot be compiled (the caller tests them one by one).
  static std::unique_ptr<WildcardSet> compile(std::span<const WildcardPattern> patterns);
  // Plain strings found anywhere in the text, ASCII case folded: matching()
  // then names every literal the text contains (a cheap prefilter).
  static std::unique_ptr<WildcardSet> compile_literals(std::span<const std::string> literals);
  // The set an earlier run compiled for these patterns or literals, from the
  // CompiledSetStore; null when there is none (or no store).
  static std::unique_ptr<WildcardSet> load(std::span<const WildcardPattern> patterns);
  static std::unique_ptr<WildcardSet> load_literals(std::span<const std::string> literals);
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
  // The CompiledSetStore's key for a set's inputs, and the set kept under it.
  static std::string store_key(std::string_view kind, std::span<const std::string> inputs, std::span<const unsigned> flags);
  static std::unique_ptr<WildcardSet> from_store(const std::string& key);
  static void keep(const std::string& key, const hs_database* db);
  // Sizes the scratch for every set compiled so far, if it is not yet.
  static void prepare(WildcardScratch& scratch);
  hs_database* db_;
};

// A WildcardSet compiled once testing without it has cost about what
// compiling it would: the rent-or-buy rule, never more than twice the
// cheaper of the two. Callers count their one-by-one tests; get() hands the
// set out once it exists, and the one thread that finds the count past the
// threshold compiles it (null until then, and if vectorscan refuses). Safe
// to use from several threads at once.
class DeferredSet {
 public:
  DeferredSet() = default;
  DeferredSet(const DeferredSet&) = delete;
  DeferredSet& operator=(const DeferredSet&) = delete;
  ~DeferredSet() { delete set_.load(); }

  template <typename Compile>
  const WildcardSet* get(std::uint64_t threshold, Compile&& compile) const {
    const WildcardSet* set = set_.load(std::memory_order_acquire);
    if (set || tests_.load(std::memory_order_relaxed) < threshold || claimed_.exchange(true, std::memory_order_acq_rel)) {
      return set;
    }
    set = compile().release();
    set_.store(const_cast<WildcardSet*>(set), std::memory_order_release);
    return set;
  }
  // Once: a set `load` gives (an earlier run's, from the CompiledSetStore)
  // is taken at once, with no one-by-one tests first.
  template <typename Load>
  void load_once(Load&& load) const {
    if (load_tried_.load(std::memory_order_relaxed) || load_tried_.exchange(true, std::memory_order_acq_rel)) return;
    if (claimed_.exchange(true, std::memory_order_acq_rel)) return;  // another thread is compiling it
    if (auto loaded = load()) {
      set_.store(loaded.release(), std::memory_order_release);
    } else {
      claimed_.store(false, std::memory_order_release);
    }
  }
  // Counted loosely: threads may lose an increment.
  void count(std::uint64_t tests) const {
    tests_.store(tests_.load(std::memory_order_relaxed) + tests, std::memory_order_relaxed);
  }
  bool is_compiled() const { return set_.load(std::memory_order_acquire) != nullptr; }

 private:
  mutable std::atomic<std::uint64_t> tests_{0};     // tested one by one so far
  mutable std::atomic<bool> claimed_{false};        // a thread has taken on compiling
  mutable std::atomic<bool> load_tried_{false};     // load_once() has run
  mutable std::atomic<WildcardSet*> set_{nullptr};  // owned once compiled
};

// A list of patterns tested one by one until that has cost about what
// compiling it would (vectorscan: 0.4-1.8 ms per glob, measured on the
// Elastic rules' lists), then in one scan. Both give the same answers; only
// the cost differs.
//
// Patterns that are a literal, a literal and `*`, or `*` and a literal (a
// Sigma `endswith` list of 350 DLL names) are not tested one by one at all
// when there are kMinAffixes of them: they are looked up in hash tables,
// one lookup per distinct literal length (the text's last 12 bytes in the
// table of 12-byte suffixes, ...). A 350-name list is never tested often
// enough in one run to be compiled, and one by one it cost ~2 us a text.
// The other patterns of the list go on as above.
class AdaptiveWildcards {
 public:
  // One-by-one pattern tests per pattern of the list before compiling (a
  // test costs ~20 ns, compiling ~1 ms per pattern), and the fewest
  // patterns worth compiling.
  static constexpr std::uint64_t kTestsPerPattern = 50'000;
  static constexpr std::size_t kMinPatterns = 4;
  // Exact, prefix and suffix patterns looked up in tables from this many on;
  // literals longer than kMaxAffix stay with the others.
  static constexpr std::size_t kMinAffixes = 8;
  static constexpr std::size_t kMaxAffix = 256;

  AdaptiveWildcards();
  ~AdaptiveWildcards();
  // `patterns` must be the same list at every call (the tables are built at the first).
  bool matches_any(std::span<const WildcardPattern> patterns, std::string_view text, WildcardScratch& scratch) const;
  bool is_compiled() const { return set_.is_compiled(); }
  // How many patterns of the list are looked up in tables (0 before the first call; any thread).
  std::size_t in_tables() const;

 private:
  struct Affixes;
  // The list's exact, prefix and suffix patterns in tables, when worth it (else null).
  const Affixes* affixes(std::span<const WildcardPattern> patterns) const;
  bool matches_rest(std::span<const WildcardPattern> patterns, std::string_view text, WildcardScratch& scratch) const;

  mutable std::once_flag affixes_once_;
  mutable std::unique_ptr<Affixes> affixes_;
  mutable std::atomic<std::size_t> in_tables_{0};  // affixes_->in_tables, readable without the once
  DeferredSet set_;  // the patterns not in tables (all of them when none is)
};

// Whether a text holds one of a few short pieces (2 to 4 bytes each, ASCII
// folded): the search for a cover (AdaptiveLiterals). 32 positions at a
// time, every byte compared with its 0x20 bit set on both sides, a superset
// of case-insensitive equality (`\` also meets `|`, `@` meets a backquote):
// a text it finds no piece in holds none. In line, with no call into
// vectorscan per text: Mimikatz's three pieces over OTRF event lines run
// at ~25 GB/s where vectorscan's literal search of them ran at 11.6
// (BENCHMARKS.md, session 29).
class PieceScan {
 public:
  static constexpr std::size_t kMaxPieces = 8;
  PieceScan() = default;
  explicit PieceScan(std::span<const std::string> pieces);  // at most kMaxPieces, each 2 to 4 bytes
  bool empty() const { return pieces_.empty(); }
  bool any_in(std::string_view text) const;

 private:
  struct Piece {
    std::array<std::uint8_t, 4> bytes{};  // folded and with the 0x20 bit set
    std::size_t size = 0;
  };
  bool holds_at(const unsigned char* at, std::size_t n, std::size_t i) const;  // a piece starts at text[i]
  std::vector<Piece> pieces_;
};

// Plain strings (ASCII case folded) searched for in texts: matching() names
// every literal a text contains. Searched one by one (a SIMD substring
// search each) until that has cost about what compiling them into one
// vectorscan literal database would (~1 ms a set), then scanned in one
// pass. Both give the same answers.
//
// Vectorscan's literal search slows with the number of literals (per event
// line: 1 literal 24.5 GB/s, 3: 12, 8: 7.9, 20: 4.1-4.5, 32+: 2.7;
// BENCHMARKS.md). When a few short pieces cover every literal (each literal
// contains one: Mimikatz's 20 keywords hold "::", "kiwi" or "mimi"), a text
// is first searched for the pieces, and for the literals only when one is
// there. A cover whose pieces turn out to be in most texts is dropped
// after a trial: each text would then be searched twice.
class AdaptiveLiterals {
 public:
  // One-by-one searches of short texts before compiling; a search of a
  // longer text counts once per kBytesPerSearch bytes (PowerShell script
  // blocks run to kilobytes: searched one by one, 50 literals over 6 KB
  // took 75 us).
  static constexpr std::uint64_t kSearchesBeforeCompiling = 50'000;
  static constexpr std::size_t kBytesPerSearch = 256;
  // A cover is sought for this many literals or more, and kept when it has at
  // most a third as many pieces and no more than kMaxCoverPieces.
  // Past kMaxLiteralsForCover (IOC hash lists: 5,600 literals) none is
  // sought: six short pieces in thousands of literals would be in most texts.
  static constexpr std::size_t kMinLiteralsForCover = 6;
  static constexpr std::size_t kMaxLiteralsForCover = 1024;
  static constexpr std::size_t kMaxCoverPieces = 6;
  // Texts searched for the cover before its hit rate is judged: kept when
  // at most half of them held a piece.
  static constexpr std::uint64_t kCoverTrial = 16'384;

  explicit AdaptiveLiterals(std::vector<std::string> literals);

  // Appends the index of every literal `text` contains (in no particular order).
  void matching(std::string_view text, WildcardScratch& scratch, std::vector<unsigned>& out) const;
  bool is_compiled() const { return set_.is_compiled(); }

  // Pieces (substrings of 2 to 4 bytes) such that every literal contains
  // one, found greedily (the piece in the most literals not yet covered
  // first, a 2-byte piece counting half); empty when the literals are too
  // few or no small cover exists.
  static std::vector<std::string> cover_of(std::span<const std::string> literals);
  // The cover texts are searched for once the literals are compiled (empty:
  // none), sought at the first call of this, cover_in_use() or a search of
  // the compiled literals, on whichever thread.
  const std::vector<std::string>& cover() const;
  // Whether texts are searched for the cover first (false once the trial dropped it).
  bool cover_in_use() const { return !cover().empty() && !cover_off_.load(std::memory_order_relaxed); }

 private:
  std::vector<std::string> literals_;  // folded, none empty
  mutable std::vector<std::string> cover_;  // empty: none; written once, by cover()
  mutable std::once_flag cover_once_;
  DeferredSet set_;
  mutable PieceScan cover_scan_;  // the cover's pieces, written with cover_
  // The cover's trial, counted loosely (threads may lose an increment) and
  // no longer once judged.
  mutable std::atomic<std::uint64_t> cover_texts_{0};
  mutable std::atomic<std::uint64_t> cover_hits_{0};
  mutable std::atomic<bool> cover_off_{false};
};

}  // namespace vigil
