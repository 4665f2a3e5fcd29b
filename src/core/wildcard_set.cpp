// WildcardSet: wildcard patterns as anchored vectorscan expressions, one
// database per set, block mode, stopping at the first match.
#include "core/wildcard_set.h"

#include <hs/hs.h>
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <unordered_map>
#include <new>
#include <stdexcept>
#include <mutex>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/hash.h"
#include "core/string_table.h"
#include "core/text.h"

namespace vigil {
namespace {

// Every live database, so a scratch can be sized for all of them at once.
struct Registry {
  std::mutex mutex;
  std::vector<const hs_database_t*> databases;
  std::atomic<std::uint64_t> generation{1};
};

Registry& registry() {
  static Registry r;
  return r;
}

// `?`: one code point as WildcardPattern counts it (the lead byte decides the
// length; a stray continuation or invalid byte is one character).
constexpr std::string_view kOneCodePoint =
    "(?:[\\x00-\\x7f\\x80-\\xbf\\xf8-\\xff]|[\\xc0-\\xdf][\\x00-\\xff]|[\\xe0-\\xef][\\x00-\\xff]{2}|"
    "[\\xf0-\\xf7][\\x00-\\xff]{3})";

int stop_at_first(unsigned int, unsigned long long, unsigned long long, unsigned int, void* matched) {
  *static_cast<bool*>(matched) = true;
  return 1;  // terminate the scan
}

int note_id(unsigned int id, unsigned long long, unsigned long long, unsigned int, void* ids) {
  static_cast<std::vector<unsigned>*>(ids)->push_back(id);
  return 0;  // go on: every pattern that matches
}

const char* data_of(std::string_view text) { return text.empty() ? "" : text.data(); }

std::vector<std::string> expressions_of(std::span<const WildcardPattern> patterns, std::vector<unsigned>& flags) {
  std::vector<std::string> out;
  for (const WildcardPattern& p : patterns) {
    out.push_back(WildcardSet::to_regex(p));
    flags.push_back(HS_FLAG_DOTALL | HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY |
                    (p.case_insensitive() ? HS_FLAG_CASELESS : 0u));
  }
  return out;
}

std::atomic<CompiledSetStore*> g_store{nullptr};

}  // namespace

std::string WildcardSet::to_regex(const WildcardPattern& pattern) {
  std::string re = "\\A";
  for (char c : pattern.pattern()) {
    auto b = static_cast<unsigned char>(c);
    if (c == '*') {
      re += ".*";
    } else if (c == '?') {
      re += kOneCodePoint;
    } else if ((b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z')) {
      re.push_back(c);
    } else {
      re += fmt::format("\\x{:02x}", b);
    }
  }
  re += "\\z";
  return re;
}

std::unique_ptr<WildcardSet> WildcardSet::compile(std::span<const WildcardPattern> patterns) {
  if (patterns.empty()) return nullptr;
  std::vector<unsigned> flags;
  const std::vector<std::string> expressions = expressions_of(patterns, flags);
  std::vector<const char*> pointers;
  std::vector<unsigned> ids;
  for (std::size_t i = 0; i < expressions.size(); ++i) ids.push_back(static_cast<unsigned>(i));
  for (const auto& e : expressions) pointers.push_back(e.c_str());
  hs_database_t* db = nullptr;
  hs_compile_error_t* error = nullptr;
  if (hs_compile_multi(pointers.data(), flags.data(), ids.data(), static_cast<unsigned>(pointers.size()), HS_MODE_BLOCK,
                       nullptr, &db, &error) != HS_SUCCESS) {
    hs_free_compile_error(error);
    return nullptr;
  }
  if (compiled_set_store()) keep(store_key("patterns", expressions, flags), db);
  return adopt(db);
}

void set_compiled_set_store(CompiledSetStore* store) { g_store.store(store, std::memory_order_release); }
CompiledSetStore* compiled_set_store() { return g_store.load(std::memory_order_acquire); }

std::string WildcardSet::store_key(std::string_view kind, std::span<const std::string> inputs,
                                   std::span<const unsigned> flags) {
  // Each input with its flags and length (no input can pass for two), hashed
  // twice with different seeds: 128 bits, and vectorscan's version.
  std::string all(kind);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    all += fmt::format("\n{}:{}:", i < flags.size() ? flags[i] : 0u, inputs[i].size());
    all += inputs[i];
  }
  return fmt::format("{}:{}:{:016x}{:016x}:{}", kind, hs_version(), fast_hash(all, 0x9e3779b97f4a7c15ull),
                     fast_hash(all, 0xc2b2ae3d27d4eb4full), all.size());
}

std::unique_ptr<WildcardSet> WildcardSet::from_store(const std::string& key) {
  CompiledSetStore* store = compiled_set_store();
  if (!store) return nullptr;
  std::optional<std::string> bytes = store->find(key);
  if (!bytes) return nullptr;
  hs_database_t* db = nullptr;
  // A damaged or foreign entry does not deserialize: compiled again.
  if (hs_deserialize_database(bytes->data(), bytes->size(), &db) != HS_SUCCESS) return nullptr;
  return adopt(db);
}

void WildcardSet::keep(const std::string& key, const hs_database* db) {
  CompiledSetStore* store = compiled_set_store();
  char* bytes = nullptr;
  std::size_t size = 0;
  if (!store || hs_serialize_database(db, &bytes, &size) != HS_SUCCESS) return;
  std::string copy(bytes, size);
  std::free(bytes);
  store->store(key, std::move(copy));
}

std::unique_ptr<WildcardSet> WildcardSet::load(std::span<const WildcardPattern> patterns) {
  if (patterns.empty() || !compiled_set_store()) return nullptr;
  std::vector<unsigned> flags;
  const std::vector<std::string> expressions = expressions_of(patterns, flags);
  return from_store(store_key("patterns", expressions, flags));
}

std::unique_ptr<WildcardSet> WildcardSet::load_literals(std::span<const std::string> literals) {
  if (literals.empty() || !compiled_set_store()) return nullptr;
  const std::vector<unsigned> flags(literals.size(), HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH);
  return from_store(store_key("literals", {literals.begin(), literals.end()}, flags));
}

std::unique_ptr<WildcardSet> WildcardSet::adopt(hs_database* db) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  r.databases.push_back(db);
  r.generation.fetch_add(1, std::memory_order_release);
  return std::unique_ptr<WildcardSet>(new WildcardSet(db));
}

std::unique_ptr<WildcardSet> WildcardSet::compile_literals(std::span<const std::string> literals) {
  if (literals.empty()) return nullptr;
  std::vector<const char*> pointers;
  std::vector<std::size_t> lengths;
  std::vector<unsigned> flags(literals.size(), HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH);
  std::vector<unsigned> ids;
  for (const std::string& l : literals) {
    if (l.empty()) return nullptr;  // an empty literal is everywhere: the caller has no prefilter
    pointers.push_back(l.data());
    lengths.push_back(l.size());
    ids.push_back(static_cast<unsigned>(ids.size()));
  }
  hs_database_t* db = nullptr;
  hs_compile_error_t* error = nullptr;
  if (hs_compile_lit_multi(pointers.data(), flags.data(), ids.data(), lengths.data(), static_cast<unsigned>(pointers.size()),
                           HS_MODE_BLOCK, nullptr, &db, &error) != HS_SUCCESS) {
    hs_free_compile_error(error);
    return nullptr;
  }
  if (compiled_set_store()) keep(store_key("literals", {literals.begin(), literals.end()}, flags), db);
  return adopt(db);
}

WildcardSet::~WildcardSet() {
  Registry& r = registry();
  {
    std::lock_guard lock(r.mutex);
    std::erase(r.databases, db_);
  }
  hs_free_database(db_);
}

WildcardScratch::~WildcardScratch() {
  if (scratch_) hs_free_scratch(scratch_);
}

void WildcardSet::prepare(WildcardScratch& scratch) {
  Registry& r = registry();
  if (scratch.generation_ == r.generation.load(std::memory_order_acquire)) return;
  std::lock_guard lock(r.mutex);
  for (const hs_database_t* db : r.databases) {
    if (hs_alloc_scratch(db, &scratch.scratch_) != HS_SUCCESS) throw std::bad_alloc();
  }
  scratch.generation_ = r.generation.load(std::memory_order_relaxed);
}

bool WildcardSet::matches_any(std::string_view text, WildcardScratch& scratch) const {
  prepare(scratch);
  bool matched = false;
  hs_scan(db_, data_of(text), static_cast<unsigned>(text.size()), 0, scratch.scratch_, stop_at_first, &matched);
  return matched;
}

void WildcardSet::matching(std::string_view text, WildcardScratch& scratch, std::vector<unsigned>& out) const {
  prepare(scratch);
  hs_scan(db_, data_of(text), static_cast<unsigned>(text.size()), 0, scratch.scratch_, note_id, &out);
}

// Per literal length, the literals of that length (folded when the list is).
struct AdaptiveWildcards::Affixes {
  struct ByLength {
    std::size_t length;
    StringTable<char> literals;
  };
  bool fold = false;
  StringTable<char> exact;
  std::size_t longest_exact = 0;
  std::vector<ByLength> prefixes, suffixes;  // by length, ascending
  std::size_t longest_prefix = 0, longest_suffix = 0;
  std::vector<WildcardPattern> rest;  // the others, tested as before
  std::size_t in_tables = 0;

  static void add(std::vector<ByLength>& tables, std::size_t& longest, std::string_view literal) {
    auto it = std::lower_bound(tables.begin(), tables.end(), literal.size(),
                               [](const ByLength& t, std::size_t n) { return t.length < n; });
    if (it == tables.end() || it->length != literal.size()) it = tables.insert(it, ByLength{literal.size(), {}});
    it->literals.insert(literal);
    longest = std::max(longest, literal.size());
  }
  // Whether a table holds a prefix or suffix of `text` (given folded when the list is).
  static bool any_of(const std::vector<ByLength>& tables, std::string_view text, bool suffix) {
    for (const ByLength& t : tables) {
      if (t.length > text.size()) break;
      if (t.literals.contains(suffix ? text.substr(text.size() - t.length) : text.substr(0, t.length))) return true;
    }
    return false;
  }
};

AdaptiveWildcards::AdaptiveWildcards() = default;
AdaptiveWildcards::~AdaptiveWildcards() = default;

const AdaptiveWildcards::Affixes* AdaptiveWildcards::affixes(std::span<const WildcardPattern> patterns) const {
  std::call_once(affixes_once_, [&] {
    using Shape = WildcardPattern::Shape;
    auto tabled = [](const WildcardPattern& p) {
      return (p.shape() == Shape::Exact || p.shape() == Shape::Prefix || p.shape() == Shape::Suffix) &&
             p.literal().size() <= kMaxAffix;
    };
    const std::size_t n = static_cast<std::size_t>(std::count_if(patterns.begin(), patterns.end(), tabled));
    if (n < kMinAffixes) return;
    // One case rule per list (a query's list has one); else no tables.
    if (std::any_of(patterns.begin(), patterns.end(),
                    [&](const WildcardPattern& p) { return p.case_insensitive() != patterns[0].case_insensitive(); })) {
      return;
    }
    auto a = std::make_unique<Affixes>();
    a->fold = patterns[0].case_insensitive();
    for (const WildcardPattern& p : patterns) {
      if (!tabled(p)) {
        a->rest.push_back(p);
        continue;
      }
      ++a->in_tables;
      if (p.shape() == Shape::Exact) {
        a->exact.insert(p.literal());
        a->longest_exact = std::max(a->longest_exact, p.literal().size());
      } else {
        Affixes::add(p.shape() == Shape::Prefix ? a->prefixes : a->suffixes,
                     p.shape() == Shape::Prefix ? a->longest_prefix : a->longest_suffix, p.literal());
      }
    }
    in_tables_.store(a->in_tables, std::memory_order_release);
    affixes_ = std::move(a);
  });
  return affixes_.get();
}

std::size_t AdaptiveWildcards::in_tables() const { return in_tables_.load(std::memory_order_acquire); }

bool AdaptiveWildcards::matches_any(std::span<const WildcardPattern> patterns, std::string_view text,
                                    WildcardScratch& scratch) const {
  const Affixes* a = patterns.size() >= kMinAffixes ? affixes(patterns) : nullptr;
  if (!a) return matches_rest(patterns, text, scratch);
  // The text's head and tail as long as the longest literals, folded when the
  // list is (literals of at most kMaxAffix bytes: on the stack).
  char head_buf[kMaxAffix], tail_buf[kMaxAffix];
  auto folded = [&](std::string_view part, char* buf) {
    if (!a->fold) return part;
    for (std::size_t i = 0; i < part.size(); ++i) buf[i] = fold_char(part[i]);
    return std::string_view(buf, part.size());
  };
  if (text.size() <= a->longest_exact && !a->exact.empty() && a->exact.contains(folded(text, head_buf))) return true;
  if (!a->prefixes.empty() &&
      Affixes::any_of(a->prefixes, folded(text.substr(0, std::min(text.size(), a->longest_prefix)), head_buf), false)) {
    return true;
  }
  if (!a->suffixes.empty()) {
    const std::size_t n = std::min(text.size(), a->longest_suffix);
    if (Affixes::any_of(a->suffixes, folded(text.substr(text.size() - n), tail_buf), true)) return true;
  }
  return !a->rest.empty() && matches_rest(a->rest, text, scratch);
}

bool AdaptiveWildcards::matches_rest(std::span<const WildcardPattern> patterns, std::string_view text,
                                     WildcardScratch& scratch) const {
  const bool worth_compiling = patterns.size() >= kMinPatterns;
  if (worth_compiling) set_.load_once([&] { return WildcardSet::load(patterns); });
  const WildcardSet* set =
      worth_compiling ? set_.get(kTestsPerPattern * patterns.size(), [&] { return WildcardSet::compile(patterns); })
                      : nullptr;
  if (set && text.size() <= WildcardSet::kMaxText) return set->matches_any(text, scratch);
  std::size_t tested = 0;
  bool found = false;
  for (const WildcardPattern& p : patterns) {
    ++tested;
    if (p.matches(text)) {
      found = true;
      break;
    }
  }
  if (!set && worth_compiling) set_.count(tested);
  return found;
}

PieceScan::PieceScan(std::span<const std::string> pieces) {
  for (const std::string& piece : pieces) {
    if (piece.size() < 2 || piece.size() > 4 || pieces_.size() == kMaxPieces) {
      throw std::invalid_argument("PieceScan: at most 8 pieces of 2 to 4 bytes");
    }
    Piece p;
    p.size = piece.size();
    for (std::size_t k = 0; k < p.size; ++k) p.bytes[k] = static_cast<std::uint8_t>(piece[k] | 0x20);
    pieces_.push_back(p);
  }
}

bool PieceScan::holds_at(const unsigned char* at, std::size_t n, std::size_t i) const {
  for (const Piece& p : pieces_) {
    if (i + p.size > n) continue;
    std::size_t k = 0;
    while (k < p.size && (at[i + k] | 0x20) == p.bytes[k]) ++k;
    if (k == p.size) return true;
  }
  return false;
}

bool PieceScan::any_in(std::string_view text) const {
  const auto* at = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
#if defined(__AVX2__)
  // Positions i..i+31 at once: those where some piece's first and last
  // bytes are (a load at i, one at each piece's last byte), each then
  // checked whole. (An AVX-512 form of this ran slower on the EPYC
  // benchmark machine: 9.2 against 11.9 GB/s comparing every byte.)
  constexpr std::size_t kBlock = 32;
  if (n >= kBlock + 3) {
    __m256i first[kMaxPieces];  // NOLINT(cppcoreguidelines-avoid-c-arrays): std::array drops the alignment
    __m256i last[kMaxPieces];   // NOLINT(cppcoreguidelines-avoid-c-arrays)
    for (std::size_t p = 0; p < pieces_.size(); ++p) {
      first[p] = _mm256_set1_epi8(static_cast<char>(pieces_[p].bytes[0]));
      last[p] = _mm256_set1_epi8(static_cast<char>(pieces_[p].bytes[pieces_[p].size - 1]));
    }
    const __m256i bit = _mm256_set1_epi8(0x20);
    auto load = [&](std::size_t from) {
      return _mm256_or_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(at + from)), bit);
    };
    for (; i + kBlock + 3 <= n; i += kBlock) {
      const __m256i v0 = load(i);
      __m256i hit = _mm256_setzero_si256();
      for (std::size_t p = 0; p < pieces_.size(); ++p) {
        hit = _mm256_or_si256(hit, _mm256_and_si256(_mm256_cmpeq_epi8(v0, first[p]),
                                                    _mm256_cmpeq_epi8(load(i + pieces_[p].size - 1), last[p])));
      }
      for (auto mask = static_cast<std::uint32_t>(_mm256_movemask_epi8(hit)); mask != 0; mask &= mask - 1) {
        if (holds_at(at, n, i + static_cast<std::size_t>(__builtin_ctz(mask)))) return true;
      }
    }
  }
#endif
  for (; i < n; ++i) {
    if (holds_at(at, n, i)) return true;
  }
  return false;
}

AdaptiveLiterals::AdaptiveLiterals(std::vector<std::string> literals) : literals_(std::move(literals)) {}

std::vector<std::string> AdaptiveLiterals::cover_of(std::span<const std::string> literals) {
  if (literals.size() < kMinLiteralsForCover || literals.size() > kMaxLiteralsForCover) return {};
  const std::size_t most = std::min(kMaxCoverPieces, literals.size() / 3);
  // A piece as a number: its 2 to 4 bytes, then its length in the top byte
  // (so "ab" and "ab\0" differ); counted in a hash map of numbers rather than
  // of strings (a set of 1,000 literals has ~100,000 pieces).
  auto key_of = [](std::string_view piece) {
    std::uint32_t k = 0;
    for (std::size_t i = 0; i < piece.size(); ++i) k |= std::uint32_t{static_cast<unsigned char>(piece[i])} << (8 * i);
    return static_cast<std::uint64_t>(k) | (static_cast<std::uint64_t>(piece.size()) << 32);
  };
  auto piece_of = [](std::uint64_t key) {
    std::string p(static_cast<std::size_t>(key >> 32), '\0');
    for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<char>((key >> (8 * i)) & 0xff);
    return p;
  };
  std::vector<bool> covered(literals.size(), false);
  std::size_t left = literals.size();
  std::vector<std::string> pieces;
  std::unordered_map<std::uint64_t, std::size_t> counts;
  std::vector<std::uint64_t> in_this;
  while (left > 0) {
    if (pieces.size() == most) return {};
    // Each piece counts the literals not yet covered that contain it (once each).
    counts.clear();
    for (std::size_t i = 0; i < literals.size(); ++i) {
      if (covered[i]) continue;
      const std::string& l = literals[i];
      if (l.size() < 2) return {};  // a one-byte literal is in most texts: no cover helps
      in_this.clear();
      for (std::size_t len = 2; len <= 4 && len <= l.size(); ++len) {
        for (std::size_t at = 0; at + len <= l.size(); ++at) in_this.push_back(key_of(std::string_view(l).substr(at, len)));
      }
      std::sort(in_this.begin(), in_this.end());
      in_this.erase(std::unique(in_this.begin(), in_this.end()), in_this.end());
      for (std::uint64_t k : in_this) ++counts[k];
    }
    // Most literals covered; a 2-byte piece (more common in any text) counts
    // half; then the longer, then the first in byte order (a fixed choice).
    std::string best;
    std::size_t best_score = 0, best_count = 0;
    for (const auto& [key, n] : counts) {
      const std::size_t size = static_cast<std::size_t>(key >> 32);
      const std::size_t score = n * (size >= 3 ? 2 : 1);
      if (score < best_score) continue;
      std::string piece = piece_of(key);
      if (score > best_score || size > best.size() || (size == best.size() && piece < best)) {
        best = std::move(piece);
        best_score = score;
        best_count = n;
      }
    }
    // No piece covers more than the best one: the pieces left cannot cover the rest.
    if (best_count * (most - pieces.size()) < left) return {};
    for (std::size_t i = 0; i < literals.size(); ++i) {
      if (!covered[i] && literals[i].find(best) != std::string::npos) {
        covered[i] = true;
        --left;
      }
    }
    pieces.push_back(std::move(best));
  }
  return pieces;
}

const std::vector<std::string>& AdaptiveLiterals::cover() const {
  std::call_once(cover_once_, [&] {
    cover_ = cover_of(literals_);
    cover_scan_ = PieceScan(cover_);
  });
  return cover_;
}

void AdaptiveLiterals::matching(std::string_view text, WildcardScratch& scratch, std::vector<unsigned>& out) const {
  set_.load_once([&] { return WildcardSet::load_literals(literals_); });
  const WildcardSet* set = set_.get(kSearchesBeforeCompiling, [&] { return WildcardSet::compile_literals(literals_); });
  if (set && text.size() <= WildcardSet::kMaxText) {
    if (cover_in_use()) {
      const bool hit = cover_scan_.any_in(text);
      if (const std::uint64_t n = cover_texts_.load(std::memory_order_relaxed); n < kCoverTrial) {
        cover_texts_.store(n + 1, std::memory_order_relaxed);
        const std::uint64_t hits = cover_hits_.load(std::memory_order_relaxed) + hit;
        cover_hits_.store(hits, std::memory_order_relaxed);
        if (n + 1 == kCoverTrial && hits * 2 > kCoverTrial) cover_off_.store(true, std::memory_order_relaxed);
      }
      if (!hit) return;  // every literal holds a piece: none is in this text
    }
    set->matching(text, scratch, out);
    return;
  }
  for (std::size_t i = 0; i < literals_.size(); ++i) {
    if (find_text(text, literals_[i], 0, true) != std::string_view::npos) out.push_back(static_cast<unsigned>(i));
  }
  if (!set) set_.count(literals_.size() * (1 + text.size() / kBytesPerSearch));
}

}  // namespace vigil
