// IP / CIDR parsing and case folding.
#include "core/text.h"

#include <gtest/gtest.h>

using namespace vigil;

TEST(Cidr, Ipv4Blocks) {
  auto block = parse_cidr("10.6.48.157/8");
  ASSERT_TRUE(block);
  EXPECT_TRUE(block->contains(*parse_ip("10.255.0.1")));
  EXPECT_FALSE(block->contains(*parse_ip("11.0.0.1")));
  EXPECT_TRUE(parse_cidr("0.0.0.0/0")->contains(*parse_ip("192.168.1.1")));
  EXPECT_TRUE(parse_cidr("192.168.1.7")->contains(*parse_ip("192.168.1.7")));
}

TEST(Cidr, Ipv6Blocks) {
  auto block = parse_cidr("fe80::/10");
  ASSERT_TRUE(block);
  EXPECT_TRUE(block->contains(*parse_ip("fe80::1")));
  EXPECT_FALSE(block->contains(*parse_ip("2001:db8::1")));
  EXPECT_TRUE(parse_cidr("::1/128")->contains(*parse_ip("::1")));
}

TEST(Cidr, RejectsInvalid) {
  EXPECT_FALSE(parse_cidr("10.0.0.0/33"));
  EXPECT_FALSE(parse_cidr("10.0.0/8"));
  EXPECT_FALSE(parse_cidr("10.0.0.0/"));
  EXPECT_FALSE(parse_cidr("not-an-ip"));
  EXPECT_FALSE(parse_ip(std::string(100, '1')));
}

TEST(Text, FoldedComparisons) {
  EXPECT_TRUE(equals_folded("CMD.EXE", "cmd.exe"));
  EXPECT_LT(compare_folded("SYSTE", "systex"), 0);
  EXPECT_EQ(find_text("C:\\Windows\\System32", "system32", 0, true), 11u);
  EXPECT_EQ(find_text("C:\\Windows\\System32", "system32", 0, false), std::string_view::npos);
}
