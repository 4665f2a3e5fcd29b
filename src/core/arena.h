// Arena: a bump allocator that owns the memory of one batch of events.
// Values and strings of a batch point into it; reset() drops them all at
// once, so the hot path never frees individual objects.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace vigil {

class Arena {
 public:
  explicit Arena(std::size_t block_size = 64 * 1024) : block_size_(block_size) {}
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  Arena(Arena&&) noexcept = default;
  Arena& operator=(Arena&&) noexcept = default;

  void* allocate(std::size_t size, std::size_t align = alignof(std::max_align_t)) {
    std::size_t offset = (used_ + align - 1) & ~(align - 1);
    if (blocks_.empty() || offset + size > capacity_) {
      grow(size + align);
      offset = (used_ + align - 1) & ~(align - 1);
    }
    used_ = offset + size;
    return blocks_[current_].get() + offset;
  }

  template <typename T>
  T* allocate_array(std::size_t count) {
    static_assert(std::is_trivially_destructible_v<T>, "arena objects are never destroyed");
    return static_cast<T*>(allocate(sizeof(T) * count, alignof(T)));
  }

  // Copies text into the arena; the view stays valid until reset().
  std::string_view copy(std::string_view text) {
    if (text.empty()) return {};
    char* dst = static_cast<char*>(allocate(text.size(), 1));
    std::memcpy(dst, text.data(), text.size());
    return {dst, text.size()};
  }

  // Keeps the largest blocks for reuse; every view handed out is invalid after.
  void reset();

  std::size_t bytes_reserved() const { return reserved_; }

 private:
  void grow(std::size_t min_size);

  std::size_t block_size_;
  std::vector<std::unique_ptr<char[]>> blocks_;
  std::vector<std::size_t> block_sizes_;
  std::size_t current_ = 0;
  std::size_t used_ = 0;
  std::size_t capacity_ = 0;
  std::size_t reserved_ = 0;
};

}  // namespace vigil
