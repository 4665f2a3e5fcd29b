// Wildcard matching over segments; `?` consumes one UTF-8 code point. The
// answer is the regular-expression one (some way to split the input fits),
// which WildcardSet relies on: both must agree on every input.
#include "core/wildcard.h"

#include "core/text.h"

namespace vigil {
namespace {

std::size_t code_point_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xe) return 3;
  if ((lead >> 3) == 0x1e) return 4;
  return 1;  // invalid lead byte: treat as one character
}

}  // namespace

WildcardPattern::WildcardPattern(std::string_view pattern, bool case_insensitive)
    : pattern_(case_insensitive ? fold_case(pattern) : std::string(pattern)), fold_(case_insensitive) {
  std::string_view p = pattern_;
  bool has_q = p.find('?') != std::string_view::npos;
  std::size_t stars = 0;
  for (char c : p) stars += c == '*';
  leading_star_ = !p.empty() && p.front() == '*';
  trailing_star_ = !p.empty() && p.back() == '*';
  if (!has_q) {
    if (stars == 0) {
      shape_ = Shape::Exact;
      literal_ = pattern_;
      return;
    }
    if (stars == 1 && trailing_star_ && p.size() > 1) {
      shape_ = Shape::Prefix;
      literal_ = std::string(p.substr(0, p.size() - 1));
      return;
    }
    if (stars == 1 && leading_star_ && p.size() > 1) {
      shape_ = Shape::Suffix;
      literal_ = std::string(p.substr(1));
      return;
    }
    if (stars == 2 && leading_star_ && trailing_star_ && p.size() > 2) {
      shape_ = Shape::Contains;
      literal_ = std::string(p.substr(1, p.size() - 2));
      return;
    }
  }
  shape_ = Shape::General;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= p.size(); ++i) {
    if (i == p.size() || p[i] == '*') {
      if (i > start) segments_.emplace_back(p.substr(start, i - start));
      start = i + 1;
    }
  }
}

std::size_t WildcardPattern::match_segment_at(std::string_view input, std::size_t pos,
                                              std::string_view segment) const {
  for (char pc : segment) {
    if (pos >= input.size()) return std::string_view::npos;
    if (pc == '?') {
      pos += code_point_length(static_cast<unsigned char>(input[pos]));
      if (pos > input.size()) return std::string_view::npos;
      continue;
    }
    char ic = fold_ ? fold_char(input[pos]) : input[pos];
    if (ic != pc) return std::string_view::npos;
    ++pos;
  }
  return pos;
}

std::size_t WildcardPattern::earliest_end(std::string_view input, std::size_t from, std::string_view segment) const {
  // Later segments only need room after this one, so the match that ends
  // first is the one to take. Without '?' that is the leftmost; with '?' a
  // later start can end sooner (the length of a code point depends on its
  // lead byte), so keep looking while a later start still could.
  const bool variable = segment.find('?') != std::string_view::npos;
  std::size_t best = std::string_view::npos;
  for (std::size_t i = from; i < input.size() && i < best; ++i) {
    std::size_t end = match_segment_at(input, i, segment);
    if (end == std::string_view::npos) continue;
    if (!variable) return end;
    best = std::min(best, end);
  }
  return best;
}

bool WildcardPattern::matches(std::string_view input) const {
  switch (shape_) {
    case Shape::Exact:
      return fold_ ? equals_folded(input, literal_) : input == literal_;
    case Shape::Prefix:
      return input.size() >= literal_.size() &&
             (fold_ ? equals_folded(input.substr(0, literal_.size()), literal_) : input.starts_with(literal_));
    case Shape::Suffix:
      return input.size() >= literal_.size() &&
             (fold_ ? equals_folded(input.substr(input.size() - literal_.size()), literal_)
                    : input.ends_with(literal_));
    case Shape::Contains:
      return find_text(input, literal_, 0, fold_) != std::string_view::npos;
    case Shape::General: break;
  }
  if (segments_.empty()) return leading_star_ || input.empty();  // "*", "**" or ""
  std::size_t pos = 0;
  std::size_t first = 0;
  std::size_t last = segments_.size();
  if (!leading_star_) {
    pos = match_segment_at(input, 0, segments_[0]);
    if (pos == std::string_view::npos) return false;
    first = 1;
    if (segments_.size() == 1 && !trailing_star_) return pos == input.size();
  }
  if (!trailing_star_) --last;  // the final segment must end the input
  for (std::size_t i = first; i < last; ++i) {
    pos = earliest_end(input, pos, segments_[i]);
    if (pos == std::string_view::npos) return false;
  }
  if (trailing_star_) return true;
  // The last segment must match at the end. With '?' a segment's byte length
  // varies, so try every start at or after pos whose match ends exactly at the end.
  const std::string& tail = segments_.back();
  if (first > last) return pos == input.size();  // single segment already consumed
  for (std::size_t start = pos; start <= input.size(); ++start) {
    if (match_segment_at(input, start, tail) == input.size()) return true;
  }
  return false;
}

}  // namespace vigil
