// WildcardPattern: shapes, case folding, '?' on UTF-8, and the
// no-blow-up guarantee on adversarial inputs.
#include "core/wildcard.h"

#include <gtest/gtest.h>

#include <string>

using vigil::WildcardPattern;

TEST(Wildcard, ShapesAreDetected) {
  EXPECT_EQ(WildcardPattern("cmd.exe", false).shape(), WildcardPattern::Shape::Exact);
  EXPECT_EQ(WildcardPattern("C:\\Windows\\*", false).shape(), WildcardPattern::Shape::Prefix);
  EXPECT_EQ(WildcardPattern("*.exe", false).shape(), WildcardPattern::Shape::Suffix);
  EXPECT_EQ(WildcardPattern("*-enc*", false).shape(), WildcardPattern::Shape::Contains);
  EXPECT_EQ(WildcardPattern("?:\\*\\procexp*.sys", false).shape(), WildcardPattern::Shape::General);
}

TEST(Wildcard, SuffixMatchesCaseInsensitively) {
  WildcardPattern p("*.EXE", true);
  EXPECT_TRUE(p.matches("C:\\Windows\\System32\\cmd.exe"));
  EXPECT_TRUE(p.matches(".exe"));
  EXPECT_FALSE(p.matches("cmd.ex"));
  EXPECT_FALSE(WildcardPattern("*.EXE", false).matches("cmd.exe"));
}

TEST(Wildcard, GeneralPatternsFromElasticRules) {
  WildcardPattern svc("HKLM\\SYSTEM\\ControlSet*\\Services\\*\\ServiceDLL", true);
  EXPECT_TRUE(svc.matches("HKLM\\SYSTEM\\ControlSet001\\Services\\evil\\ServiceDll"));
  EXPECT_FALSE(svc.matches("HKLM\\SYSTEM\\ControlSet001\\Services\\evil\\ImagePath"));
  WildcardPattern drive("?:\\Program Files\\*.exe", true);
  EXPECT_TRUE(drive.matches("C:\\Program Files\\App\\app.exe"));
  EXPECT_FALSE(drive.matches("\\\\server\\Program Files\\app.exe"));
  WildcardPattern mid("*\\MACHINE\\SAM\\SAM\\*\\Account\\Us*ers\\00*03E9\\F", true);
  EXPECT_TRUE(mid.matches("\\REGISTRY\\MACHINE\\SAM\\SAM\\Domains\\Account\\Users\\000003E9\\F"));
}

TEST(Wildcard, QuestionMarkIsOneCodePoint) {
  WildcardPattern p("caf?", false);
  EXPECT_TRUE(p.matches("caf\xc3\xa9"));  // "café": é is two bytes
  EXPECT_FALSE(p.matches("caf"));
  EXPECT_FALSE(p.matches("cafee"));
}

TEST(Wildcard, StarMatchesEmptyAndEverything) {
  EXPECT_TRUE(WildcardPattern("*", false).matches(""));
  EXPECT_TRUE(WildcardPattern("*", false).matches("anything"));
  EXPECT_TRUE(WildcardPattern("a**b", false).matches("ab"));
  EXPECT_TRUE(WildcardPattern("%*%*", false).matches("%SystemRoot%\\x"));
  EXPECT_FALSE(WildcardPattern("", false).matches("x"));
}

TEST(Wildcard, AdversarialInputFinishes) {
  // Classic backtracking trap: many stars and a long near-miss input.
  WildcardPattern p("*a*a*a*a*a*a*a*a*b", false);
  std::string input(20000, 'a');
  EXPECT_FALSE(p.matches(input));
  input.back() = 'b';
  EXPECT_TRUE(p.matches(input));
}
