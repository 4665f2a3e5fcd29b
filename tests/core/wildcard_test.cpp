// WildcardPattern: shapes, case folding, '?' on UTF-8, the no-blow-up
// guarantee on adversarial inputs, exact agreement with the definition;
// WildcardSet (vectorscan) agreeing with the patterns one by one.
#include "core/text.h"
#include "core/wildcard.h"
#include "core/wildcard_set.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <random>
#include <string>
#include <vector>

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

// ---- exact semantics, and WildcardSet agreeing with WildcardPattern ----

namespace {

std::size_t code_point_bytes(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xe) return 3;
  if ((lead >> 3) == 0x1e) return 4;
  return 1;
}

// The definition, by exhaustive search: some way to split the input fits.
bool reference_match(std::string_view pattern, std::string_view input, bool fold) {
  if (pattern.empty()) return input.empty();
  char pc = pattern[0];
  if (pc == '*') {
    for (std::size_t k = 0; k <= input.size(); ++k) {
      if (reference_match(pattern.substr(1), input.substr(k), fold)) return true;
    }
    return false;
  }
  if (input.empty()) return false;
  if (pc == '?') {
    std::size_t n = code_point_bytes(static_cast<unsigned char>(input[0]));
    return n <= input.size() && reference_match(pattern.substr(1), input.substr(n), fold);
  }
  auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
  bool same = fold ? lower(pc) == lower(input[0]) : pc == input[0];
  return same && reference_match(pattern.substr(1), input.substr(1), fold);
}

std::string random_text(std::mt19937& rng, std::string_view alphabet, std::size_t max_len) {
  std::string s;
  std::size_t n = rng() % (max_len + 1);
  for (std::size_t i = 0; i < n; ++i) s += alphabet[rng() % alphabet.size()];
  return s;
}

}  // namespace

TEST(Wildcard, QuestionMarkBeforeALaterSegmentTakesTheEarliestEnd) {
  // "*?b*?b*" on F0 62 62 80 62: the leftmost "?b" starts at 0, where the
  // 4-byte lead F0 makes '?' end at 4 and the segment at 5, leaving nothing
  // for the second "?b"; starting at 1 it ends at 3, and "\x80b" follows.
  std::string input = "\xf0\x62\x62\x80\x62";
  EXPECT_TRUE(reference_match("*?b*?b*", input, false));
  EXPECT_TRUE(WildcardPattern("*?b*?b*", false).matches(input));
}

TEST(Wildcard, PatternsMatchExactlyWhatTheDefinitionSays) {
  std::mt19937 rng(7);
  // Letters, separators, a two-byte and a four-byte character, stray bytes.
  const std::string input_alphabet = std::string("aAbB\\.x") + "\xc3\xa9" + "\xf0\x9f\x98\x80" + "\x80\xff";
  const std::string pattern_alphabet = "aAbB\\.**??";
  for (int i = 0; i < 20000; ++i) {
    std::string pattern = random_text(rng, pattern_alphabet, 7);
    std::string input = random_text(rng, input_alphabet, 10);
    bool fold = (rng() & 1) != 0;
    WildcardPattern p(pattern, fold);
    ASSERT_EQ(p.matches(input), reference_match(p.pattern(), input, fold))
        << "pattern '" << pattern << "' input '" << input << "' fold " << fold;
  }
}

TEST(WildcardSet, OneScanAgreesWithEachPatternAlone) {
  std::mt19937 rng(11);
  const std::string input_alphabet = std::string("aAbB\\.x\n") + "\xc3\xa9" + "\xf0\x9f\x98\x80" + "\x80\xff";
  const std::string pattern_alphabet = "aAbB\\.x\n**??";
  vigil::WildcardScratch scratch;
  int matched = 0;
  for (int round = 0; round < 300; ++round) {
    std::vector<WildcardPattern> patterns;
    bool fold = (rng() & 1) != 0;
    std::size_t count = 1 + rng() % 8;
    for (std::size_t k = 0; k < count; ++k) patterns.emplace_back(random_text(rng, pattern_alphabet, 6), fold);
    auto set = vigil::WildcardSet::compile(patterns);
    ASSERT_NE(set, nullptr);
    for (int j = 0; j < 100; ++j) {
      std::string input = random_text(rng, input_alphabet, 9);
      bool expected = std::any_of(patterns.begin(), patterns.end(), [&](const WildcardPattern& p) { return p.matches(input); });
      matched += expected;
      ASSERT_EQ(set->matches_any(input, scratch), expected) << "input '" << input << "'";
    }
  }
  EXPECT_GT(matched, 1000);  // the random cases are not all misses
}

TEST(WildcardSet, AnchoredAtBothEndsAndCaseFoldedOnlyWhenAsked) {
  std::vector<WildcardPattern> folded{{"?:\\windows\\*.exe", true}, {"*\\temp\\*", true}, {"cmd.exe", true}};
  auto set = vigil::WildcardSet::compile(folded);
  vigil::WildcardScratch scratch;
  EXPECT_TRUE(set->matches_any("C:\\Windows\\System32\\CMD.EXE", scratch));
  EXPECT_TRUE(set->matches_any("CMD.exe", scratch));
  EXPECT_FALSE(set->matches_any("C:\\Windows\\cmd.exe\n", scratch));  // no match before a final newline
  EXPECT_FALSE(set->matches_any("xcmd.exe", scratch));
  EXPECT_TRUE(set->matches_any("D:\\Users\\x\\TEMP\\a.dll", scratch));
  std::vector<WildcardPattern> exact{{"*.EXE", false}, {"A?", false}};
  auto strict = vigil::WildcardSet::compile(exact);
  EXPECT_FALSE(strict->matches_any("cmd.exe", scratch));
  EXPECT_TRUE(strict->matches_any("cmd.EXE", scratch));
  EXPECT_TRUE(strict->matches_any("A\xc3\xa9", scratch));
  EXPECT_FALSE(strict->matches_any("a\xc3\xa9", scratch));
}

TEST(WildcardSet, AdaptiveListGivesTheSameAnswersBeforeAndAfterCompiling) {
  std::vector<WildcardPattern> patterns;
  for (const char* p : {"*\\run\\*", "*\\runonce\\*", "?:\\users\\*\\startup\\*", "*.lnk", "*\\winlogon\\shell"}) {
    patterns.emplace_back(p, true);
  }
  const std::vector<std::pair<std::string, bool>> inputs = {
      {"HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\evil", true},
      {"C:\\Users\\bob\\Startup\\x.exe", true},
      {"C:\\Users\\bob\\Desktop\\x.LNK", true},
      {"HKLM\\Software\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon\\Shell", true},
      {"HKLM\\Software\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon\\Userinit", false},
      {"", false}};
  vigil::AdaptiveWildcards adaptive;
  vigil::WildcardScratch scratch;
  // Every round tests at least one pattern per input: the list is compiled within this many rounds.
  const std::uint64_t bound = vigil::AdaptiveWildcards::kTestsPerPattern * patterns.size() / inputs.size() + 1;
  std::uint64_t round = 0;
  for (; round < bound && !adaptive.is_compiled(); ++round) {
    for (const auto& [input, expected] : inputs) ASSERT_EQ(adaptive.matches_any(patterns, input, scratch), expected) << input;
  }
  ASSERT_TRUE(adaptive.is_compiled()) << "after " << round << " rounds";
  EXPECT_GT(round, 1000u);  // not before one-by-one testing has cost about what compiling does
  for (int more = 0; more < 10; ++more) {
    for (const auto& [input, expected] : inputs) ASSERT_EQ(adaptive.matches_any(patterns, input, scratch), expected) << input;
  }
}

TEST(WildcardSet, ExactPrefixAndSuffixPatternsLookedUpInTablesGiveTheOneByOneAnswers) {
  // Random lists over a small alphabet (so texts often hold a literal at
  // their start or end), both case rules, every shape: each answer is
  // checked against the patterns tested one by one.
  std::mt19937 rng(20261203);
  const std::string alphabet = "aB\\.x*?";  // '*' and '?' make General and Contains patterns too
  auto random_string = [&](std::size_t most) {
    std::string out(std::uniform_int_distribution<std::size_t>(0, most)(rng), ' ');
    for (char& c : out) c = alphabet[std::uniform_int_distribution<std::size_t>(0, alphabet.size() - 1)(rng)];
    return out;
  };
  std::size_t tabled_lists = 0, hits = 0;
  for (int list = 0; list < 300; ++list) {
    const bool fold = list % 2 == 0;
    std::vector<WildcardPattern> patterns;
    const std::size_t n = std::uniform_int_distribution<std::size_t>(1, 40)(rng);
    for (std::size_t i = 0; i < n; ++i) {
      std::string literal = random_string(6);
      for (char& c : literal) {
        if (c == '*' || c == '?') c = 'x';
      }
      switch (std::uniform_int_distribution<int>(0, 4)(rng)) {
        case 0: patterns.emplace_back(literal, fold); break;
        case 1: patterns.emplace_back(literal + "*", fold); break;
        case 2: patterns.emplace_back("*" + literal, fold); break;
        case 3: patterns.emplace_back("*" + literal + "*", fold); break;
        default: patterns.emplace_back(random_string(8), fold); break;
      }
    }
    vigil::AdaptiveWildcards adaptive;
    vigil::WildcardScratch scratch;
    for (int t = 0; t < 200; ++t) {
      std::string text = random_string(12);
      if (t % 3 == 0) {
        for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
      const bool expected = std::any_of(patterns.begin(), patterns.end(), [&](const WildcardPattern& p) {
        return p.matches(text);
      });
      ASSERT_EQ(adaptive.matches_any(patterns, text, scratch), expected)
          << "text '" << text << "', list " << list << " of " << patterns.size();
      hits += expected;
    }
    tabled_lists += adaptive.in_tables() > 0;
  }
  EXPECT_GT(tabled_lists, 100u);  // the tables were used, not only the one-by-one path
  EXPECT_GT(hits, 1000u);
}

TEST(WildcardSet, AnEndswithListOfDllNamesIsLookedUpInTables) {
  std::vector<WildcardPattern> patterns;
  for (const char* dll : {"\\aclui.dll", "\\activeds.dll", "\\apphelp.dll", "\\atl.dll", "\\audioses.dll",
                          "\\cryptbase.dll", "\\dbghelp.dll", "\\version.dll", "\\wldp.dll", "\\winmm.dll"}) {
    patterns.emplace_back(std::string("*") + dll, true);
  }
  patterns.emplace_back("C:\\Windows\\System32\\*", true);
  patterns.emplace_back("*\\temp\\*", true);  // Contains: tested one by one
  vigil::AdaptiveWildcards adaptive;
  vigil::WildcardScratch scratch;
  EXPECT_TRUE(adaptive.matches_any(patterns, "D:\\Tools\\VERSION.DLL", scratch));
  EXPECT_EQ(adaptive.in_tables(), 11u);
  EXPECT_TRUE(adaptive.matches_any(patterns, "c:\\windows\\system32\\x.exe", scratch));
  EXPECT_TRUE(adaptive.matches_any(patterns, "C:\\Users\\x\\Temp\\y.exe", scratch));
  EXPECT_FALSE(adaptive.matches_any(patterns, "D:\\Tools\\version.dll.bak", scratch));
  EXPECT_FALSE(adaptive.matches_any(patterns, "wldp.dll", scratch));  // no backslash before it
  EXPECT_FALSE(adaptive.matches_any(patterns, "", scratch));
}

TEST(WildcardSet, AdaptiveLiteralsNameTheSameLiteralsBeforeAndAfterCompiling) {
  const std::vector<std::string> literals = {"\\run\\", "mimikatz", "lsass.exe", "\\temp\\", ".dll", "a"};
  const std::vector<std::pair<std::string, std::vector<unsigned>>> inputs = {
      {"HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\RUN\\evil", {0, 5}},
      {"Invoke-MimiKatz -DumpCreds", {1, 5}},
      {"C:\\Windows\\System32\\LSASS.EXE", {2, 5}},
      {"C:\\Users\\bob\\AppData\\Local\\Temp\\x.DLL", {3, 4, 5}},
      {"", {}},
      {"nothing here", {}}};
  vigil::AdaptiveLiterals adaptive(literals);
  vigil::WildcardScratch scratch;
  auto check = [&] {
    for (const auto& [input, expected] : inputs) {
      std::vector<unsigned> got;
      adaptive.matching(input, scratch, got);
      std::sort(got.begin(), got.end());
      ASSERT_EQ(got, expected) << input << (adaptive.is_compiled() ? " (compiled)" : " (one by one)");
    }
  };
  std::uint64_t rounds = 0;
  for (; !adaptive.is_compiled() && rounds < vigil::AdaptiveLiterals::kSearchesBeforeCompiling; ++rounds) check();
  ASSERT_TRUE(adaptive.is_compiled());
  EXPECT_GT(rounds, 1000u);  // searched one by one until that cost about what compiling does
  check();
}

TEST(WildcardSet, AdaptiveLiteralsCompileSoonerForLongTexts) {
  // Script blocks run to kilobytes: a search of one costs what hundreds of
  // searches of a path do, and counts so.
  const std::vector<std::string> literals = {"invoke-mimikatz", "sekurlsa", "-encodedcommand", "downloadstring"};
  std::string block(64 * 1024, 'x');
  block.replace(40000, 8, "SekurLSA");
  vigil::AdaptiveLiterals adaptive(literals);
  vigil::WildcardScratch scratch;
  const std::uint64_t per_round = literals.size() * (1 + block.size() / vigil::AdaptiveLiterals::kBytesPerSearch);
  const std::uint64_t bound = vigil::AdaptiveLiterals::kSearchesBeforeCompiling / per_round + 2;
  std::uint64_t rounds = 0;
  for (; !adaptive.is_compiled() && rounds <= bound; ++rounds) {
    std::vector<unsigned> got;
    adaptive.matching(block, scratch, got);
    ASSERT_EQ(got, std::vector<unsigned>{1});
  }
  EXPECT_TRUE(adaptive.is_compiled()) << "after " << rounds << " rounds";
  EXPECT_LE(rounds, bound);
  std::vector<unsigned> got;
  adaptive.matching(block, scratch, got);
  EXPECT_EQ(got, std::vector<unsigned>{1});
}

TEST(WildcardSet, ACoverOfFewPiecesIsFoundForLiteralsThatShareThem) {
  // SigmaHQ's "Mimikatz Use" keywords, as the index folds them.
  const std::vector<std::string> mimikatz = {
      "dpapi::masterkey", "eo.oe.kiwi",        "event::clear",  "event::drop",          "gentilkiwi.com",
      "kerberos::golden", "kerberos::ptc",     "kerberos::ptt", "kerberos::tgt",        "kiwi legit printer",
      "lsadump::",        "mimidrv.sys",       "\\mimilib.dll", "misc::printnightmare", "misc::shadowcopies",
      "misc::skeleton",   "privilege::backup", "privilege::debug", "privilege::driver", "sekurlsa::"};
  EXPECT_EQ(vigil::AdaptiveLiterals::cover_of(mimikatz), (std::vector<std::string>{"::", "kiwi", "mimi"}));
  // Too few literals, a one-byte literal, or no cover of at most a third as many pieces: none.
  EXPECT_TRUE(vigil::AdaptiveLiterals::cover_of({mimikatz.begin(), mimikatz.begin() + 5}).empty());
  std::vector<std::string> with_short = mimikatz;
  with_short.push_back("x");
  EXPECT_TRUE(vigil::AdaptiveLiterals::cover_of(with_short).empty());
  const std::vector<std::string> unrelated = {"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf"};
  EXPECT_TRUE(vigil::AdaptiveLiterals::cover_of(unrelated).empty());
  // Many literals sharing one piece: covered up to the cap, not past it
  // (IOC lists of thousands of hashes are not worth the search).
  std::vector<std::string> numbered;
  for (std::size_t i = 0; i < vigil::AdaptiveLiterals::kMaxLiteralsForCover; ++i) {
    numbered.push_back(fmt::format("{:x}@@{:x}", i * 7919, i));
  }
  EXPECT_EQ(vigil::AdaptiveLiterals::cover_of(numbered), std::vector<std::string>{"@@"});
  numbered.push_back("@@end");
  EXPECT_TRUE(vigil::AdaptiveLiterals::cover_of(numbered).empty());
}

namespace {
std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Searches `texts` `rounds` times (or until the literals are compiled, with
// `until_compiled`); every answer is checked against a one-by-one search.
void check_adaptive(const vigil::AdaptiveLiterals& adaptive, const std::vector<std::string>& literals,
                    const std::vector<std::string>& texts, vigil::WildcardScratch& scratch, std::uint64_t rounds,
                    bool until_compiled = false) {
  for (std::uint64_t r = 0; r < rounds && !(until_compiled && adaptive.is_compiled()); ++r) {
    for (const std::string& text : texts) {
      std::vector<unsigned> got, expected;
      adaptive.matching(text, scratch, got);
      std::sort(got.begin(), got.end());
      for (unsigned i = 0; i < literals.size(); ++i) {
        if (vigil::find_text(text, literals[i], 0, true) != std::string_view::npos) expected.push_back(i);
      }
      ASSERT_EQ(got, expected) << text << (adaptive.cover_in_use() ? " (cover)" : "");
    }
  }
}
}  // namespace

TEST(WildcardSet, LiteralsSearchedThroughTheirCoverAreAllFound) {
  const std::vector<std::string> literals = {"sekurlsa::", "lsadump::", "kerberos::ptt", "privilege::debug",
                                             "gentilkiwi.com", "mimidrv.sys", "event::clear", "misc::skeleton",
                                             "\\mimilib.dll"};
  // Texts with a piece but no literal (IPv6, PowerShell's static calls), each literal in other case, none.
  std::vector<std::string> texts = {"fe80::1%12", "[System.Text.Encoding]::UTF8.GetString($b)", "C:\\Windows\\x.exe",
                                    "kiwi fruit", "mimic"};
  for (const std::string& l : literals) texts.push_back("cmd /c " + upper(l) + " x");
  texts.push_back("SEKURLSA::logonpasswords; LSADUMP::sam");
  vigil::AdaptiveLiterals adaptive(literals);
  vigil::WildcardScratch scratch;
  check_adaptive(adaptive, literals, texts, scratch, vigil::AdaptiveLiterals::kSearchesBeforeCompiling, true);
  ASSERT_TRUE(adaptive.is_compiled());
  // "gentilkiwi.com" alone left: its longest piece, first in byte order.
  EXPECT_EQ(adaptive.cover(), (std::vector<std::string>{"::", "mimi", ".com"}));
  EXPECT_TRUE(adaptive.cover_in_use());
  check_adaptive(adaptive, literals, texts, scratch, 2);
}

TEST(WildcardSet, ACoverInMostTextsIsDropped) {
  const std::vector<std::string> literals = {"\\a1.exe", "\\b2.exe", "\\c3.exe", "\\d4.exe", "\\e5.exe", "\\f6.exe"};
  const std::vector<std::string> texts = {"C:\\Windows\\System32\\svchost.exe", "C:\\Tools\\C3.EXE"};
  vigil::AdaptiveLiterals adaptive(literals);
  vigil::WildcardScratch scratch;
  check_adaptive(adaptive, literals, texts, scratch, vigil::AdaptiveLiterals::kSearchesBeforeCompiling, true);
  ASSERT_TRUE(adaptive.is_compiled());
  check_adaptive(adaptive, literals, texts, scratch, 1);
  EXPECT_EQ(adaptive.cover(), std::vector<std::string>{".exe"});
  EXPECT_TRUE(adaptive.cover_in_use());
  check_adaptive(adaptive, literals, texts, scratch, vigil::AdaptiveLiterals::kCoverTrial / texts.size());
  EXPECT_FALSE(adaptive.cover_in_use());  // every text held ".exe": searched twice for nothing
  check_adaptive(adaptive, literals, texts, scratch, 2);
}

// PieceScan against a plain search of every position: the pieces at each
// offset of texts around its 32-byte blocks and their 3-byte overlap, in
// other case, cut short at the text's end; a text it says holds no piece
// holds none (it may say yes where a byte differs only in its 0x20 bit).
TEST(PieceScan, FindsEveryPieceAtEveryOffsetAndNothingElse) {
  const std::vector<std::string> pieces = {"::", "kiwi", "mim", "\\sys"};
  const vigil::PieceScan scan(pieces);
  auto holds = [&](const std::string& text) {
    for (const std::string& p : pieces) {
      if (vigil::find_text(text, p, 0, true) != std::string_view::npos) return true;
    }
    return false;
  };
  std::mt19937 rng(29);
  const std::string alphabet = "abcdefghijklmnopqrstuvwxyz:\\.KIWIMS -";
  std::size_t found = 0, none = 0;
  for (std::size_t size : {0, 1, 2, 3, 4, 31, 32, 34, 35, 36, 63, 64, 67, 68, 100, 1000}) {
    for (const std::string& p : pieces) {
      for (std::size_t at = 0; at + p.size() <= size; ++at) {
        std::string text(size, 'x');
        text.replace(at, p.size(), at % 2 ? upper(p) : p);
        EXPECT_TRUE(scan.any_in(text)) << p << " at " << at << " of " << size;
        ++found;
        text.resize(at + p.size() - 1);  // cut before its last byte
        EXPECT_EQ(scan.any_in(text), holds(text)) << p << " cut at " << at;
      }
    }
    for (int round = 0; round < 200; ++round) {
      std::string text(size, ' ');
      for (char& c : text) c = alphabet[rng() % alphabet.size()];
      const bool expected = holds(text);
      none += !expected;
      EXPECT_EQ(scan.any_in(text), expected) << text;  // no two bytes here are 0x20 apart but two cases
    }
  }
  EXPECT_GT(found, 1000u);
  EXPECT_GT(none, 1000u);
  // Never a byte past the text: a string's terminating NUL with its 0x20 bit set is a space.
  const vigil::PieceScan spaced(std::vector<std::string>{"x ", "xxx "});
  for (std::size_t size = 1; size < 80; ++size) {
    EXPECT_FALSE(spaced.any_in(std::string(size, 'x'))) << size;
    EXPECT_TRUE(spaced.any_in(std::string(size, 'x') + " ")) << size;
  }
  EXPECT_TRUE(vigil::PieceScan().empty());
  EXPECT_FALSE(vigil::PieceScan().any_in("anything"));
  EXPECT_THROW(vigil::PieceScan(std::vector<std::string>{"x"}), std::invalid_argument);
  EXPECT_THROW(vigil::PieceScan(std::vector<std::string>{"abcde"}), std::invalid_argument);
}
