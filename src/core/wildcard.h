// WildcardPattern: EQL's `*` (any run of characters) and `?` (exactly one
// character) patterns, compiled once into segments. Each segment between
// stars takes its earliest-ending match, which is exact (later segments only
// need room after it) and runs in O(len(input) * len(pattern)) at worst: no
// backtracking blow-up on attacker-controlled values.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vigil {

class WildcardPattern {
 public:
  WildcardPattern(std::string_view pattern, bool case_insensitive);

  bool matches(std::string_view input) const;

  // Shape of the pattern; the common shapes get dedicated fast paths.
  enum class Shape { Exact, Prefix, Suffix, Contains, General };
  Shape shape() const { return shape_; }
  const std::string& pattern() const { return pattern_; }
  // Exact, Prefix, Suffix, Contains: the literal part (folded when case-insensitive).
  const std::string& literal() const { return literal_; }
  bool case_insensitive() const { return fold_; }
  // True when the pattern has any wildcard character.
  static bool has_wildcard(std::string_view pattern) {
    return pattern.find_first_of("*?") != std::string_view::npos;
  }

 private:
  // Match `segment` (may contain '?') at input[pos]; returns the end or npos.
  std::size_t match_segment_at(std::string_view input, std::size_t pos, std::string_view segment) const;
  // The smallest end of a match of `segment` starting at or after `from`, or npos.
  std::size_t earliest_end(std::string_view input, std::size_t from, std::string_view segment) const;

  std::string pattern_;  // folded when fold_
  bool fold_;
  Shape shape_ = Shape::General;
  std::string literal_;  // for Exact/Prefix/Suffix/Contains: the literal part
  std::vector<std::string> segments_;  // General: the parts between '*'
  bool leading_star_ = false;
  bool trailing_star_ = false;
};

}  // namespace vigil
