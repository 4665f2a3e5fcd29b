// Arena block management: blocks are kept across reset() so a steady stream
// of batches of similar size stops allocating after the first one.
#include "core/arena.h"

#include <algorithm>

namespace vigil {

void Arena::grow(std::size_t min_size) {
  // Reuse a later block that was kept from a previous batch if it is large enough.
  for (std::size_t i = blocks_.empty() ? 0 : current_ + 1; i < blocks_.size(); ++i) {
    if (block_sizes_[i] >= min_size) {
      std::swap(blocks_[i], blocks_[blocks_.empty() ? 0 : current_ + 1]);
      std::swap(block_sizes_[i], block_sizes_[current_ + 1]);
      current_ = current_ + 1;
      used_ = 0;
      capacity_ = block_sizes_[current_];
      return;
    }
  }
  std::size_t size = std::max(block_size_, min_size);
  blocks_.push_back(std::make_unique_for_overwrite<char[]>(size));  // no zero-fill: pages stay untouched until used
  block_sizes_.push_back(size);
  reserved_ += size;
  // Move the new block right after the current one so that blocks before
  // current_ are exactly the ones in use.
  std::size_t fresh = blocks_.size() - 1;
  std::size_t target = blocks_.size() == 1 ? 0 : current_ + 1;
  std::swap(blocks_[fresh], blocks_[target]);
  std::swap(block_sizes_[fresh], block_sizes_[target]);
  current_ = target;
  used_ = 0;
  capacity_ = size;
}

void Arena::reset() {
  // Free oversized one-off blocks beyond a few; keep the rest for reuse.
  constexpr std::size_t kKeepBlocks = 16;
  if (blocks_.size() > kKeepBlocks) {
    blocks_.resize(kKeepBlocks);
    block_sizes_.resize(kKeepBlocks);
    reserved_ = 0;
    for (auto s : block_sizes_) reserved_ += s;
  }
  current_ = 0;
  used_ = 0;
  capacity_ = blocks_.empty() ? 0 : block_sizes_[0];
}

}  // namespace vigil
