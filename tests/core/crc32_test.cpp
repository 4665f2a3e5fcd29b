// vigil::crc32 gives zlib's values for every length and alignment, whether
// the carry-less-multiplication path (>= 64 bytes) or zlib computes them.
#include "core/crc32.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <vector>

TEST(Crc32, MatchesZlibForEveryLengthAndOffset) {
  std::mt19937 rng(3);
  std::vector<unsigned char> buf(70000);
  for (auto& b : buf) b = static_cast<unsigned char>(rng());
  for (std::size_t len : {0u, 1u, 15u, 16u, 63u, 64u, 65u, 79u, 80u, 127u, 128u, 129u, 511u, 4096u, 65536u, 69999u}) {
    for (std::size_t offset : {0u, 1u, 7u}) {
      if (offset + len > buf.size()) continue;
      const auto expected = static_cast<std::uint32_t>(::crc32(0, buf.data() + offset, static_cast<uInt>(len)));
      EXPECT_EQ(vigil::crc32(0, buf.data() + offset, len), expected) << len << " at " << offset;
    }
  }
  for (int round = 0; round < 2000; ++round) {
    std::size_t len = rng() % 3000, offset = rng() % 64;
    const auto expected = static_cast<std::uint32_t>(::crc32(0, buf.data() + offset, static_cast<uInt>(len)));
    ASSERT_EQ(vigil::crc32(0, buf.data() + offset, len), expected) << len << " at " << offset;
  }
  // Continuing a CRC over two pieces is the CRC of the whole.
  std::uint32_t whole = vigil::crc32(0, buf.data(), 5000);
  EXPECT_EQ(vigil::crc32(vigil::crc32(0, buf.data(), 1234), buf.data() + 1234, 5000 - 1234), whole);
  EXPECT_EQ(vigil::crc32(0, "123456789", 9), 0xCBF43926u);  // the standard check value
}
