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

TEST(Text, FoldingAppendsOnlyAsciiLettersLowered) {
  std::string out = "HOST|";
  append_folded(out, "C:\\Windows\\\xc3\x89T\xc3\xa9 Z@[`{");
  EXPECT_EQ(out, "HOST|c:\\windows\\\xc3\x89t\xc3\xa9 z@[`{");
  append_folded(out, "");
  EXPECT_EQ(out.size(), 27u);
  EXPECT_EQ(fold_case("PowerShell.EXE"), "powershell.exe");
}

TEST(Text, FindTextFoldedAgreesWithTheNaiveSearch) {
  // find_text filters 16/32 positions at a time on the needle's first and
  // last characters (0x20 bit set: letters fold, '\\' and '|' or '@' and '`'
  // collide) and verifies candidates; it must find exactly what a
  // position-by-position search finds, in the vector loop and in the tail.
  auto naive = [](std::string_view h, std::string_view n, std::size_t from) -> std::size_t {
    for (std::size_t i = from; i + n.size() <= h.size(); ++i) {
      if (vigil::equals_folded(h.substr(i, n.size()), n)) return i;
    }
    return std::string_view::npos;
  };
  std::uint32_t seed = 12345;
  auto rnd = [&] { return seed = seed * 1103515245 + 12345, (seed >> 16) & 0x7fff; };
  const char alphabet[] = "aAbB.\\*x|@`";
  for (int round = 0; round < 40000; ++round) {
    std::string h, n;
    for (int i = 0, len = rnd() % 100; i < len; ++i) h.push_back(alphabet[rnd() % 11]);
    for (int i = 0, len = 1 + rnd() % 4; i < len; ++i) n.push_back(alphabet[rnd() % 11]);
    std::size_t from = h.empty() ? 0 : rnd() % (h.size() + 1);
    ASSERT_EQ(vigil::find_text(h, n, from, true), naive(h, n, from)) << h << " / " << n << " from " << from;
  }
  EXPECT_EQ(vigil::find_text("Invoke-Mimikatz", "MIMI", 0, true), 7u);
  EXPECT_EQ(vigil::find_text("abc", "", 2, true), 2u);
  EXPECT_EQ(vigil::find_text("ab", "abc", 0, true), std::string_view::npos);
}

TEST(Printable, ShowsControlCharactersAndInvalidUtf8AsHexEscapes) {
  EXPECT_EQ(printable("WKS-01.corp.example"), "WKS-01.corp.example");
  EXPECT_EQ(printable("C:\\Users\\été\\😀.exe"), "C:\\Users\\été\\😀.exe");  // backslashes and UTF-8 kept
  EXPECT_EQ(printable("a\x1b[2Jb"), "a\\x1b[2Jb");                            // ESC: cursor and screen control
  EXPECT_EQ(printable("\x1b]0;title\x07"), "\\x1b]0;title\\x07");             // OSC retitle, BEL
  EXPECT_EQ(printable(std::string("\0\t\n\r\x7f", 5)), "\\x00\\x09\\x0a\\x0d\\x7f");
  EXPECT_EQ(printable("\xC2\x9B" "31m"), "\\xc2\\x9b31m");                    // C1 CSI (U+009B)
  EXPECT_EQ(printable("\xC2\xA0"), "\xC2\xA0");                               // U+00A0 is not a control
  EXPECT_EQ(printable("bad\xFF\xC0\xAF"), "bad\\xff\\xc0\\xaf");              // not UTF-8
}

TEST(Text, FirstSignificantSkipsAByteOrderMarkThenBlanks) {
  EXPECT_EQ(first_significant(""), '\0');
  EXPECT_EQ(first_significant("\xEF\xBB\xBF"), '\0');
  EXPECT_EQ(first_significant(" \t\r\n"), '\0');
  EXPECT_EQ(first_significant("\xEF\xBB\xBF \r\n{"), '{');
  EXPECT_EQ(significant_start("\xEF\xBB\xBF \r\n{"), 6u);
  EXPECT_EQ(first_significant("\n["), '[');
  // Only before the blanks: a mark after them is text (not JSON).
  EXPECT_EQ(first_significant(" \xEF\xBB\xBF{"), '\xEF');
  EXPECT_EQ(first_significant("\xEF\xBB{"), '\xEF');  // not a whole mark
  EXPECT_EQ(utf8_bom_length("\xEF\xBB\xBF"), 3u);
  EXPECT_EQ(utf8_bom_length("\xEF\xBB"), 0u);
}
