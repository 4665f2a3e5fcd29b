// json_scan: the steps of the NDJSON single pass. Each either answers
// exactly or declines (nullptr/false); these tests pin both sides.
#include "ingest/json_scan.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

using namespace vigil;
using namespace vigil::json_scan;

namespace {

// A line in a buffer with 64 readable bytes after it, as the reader keeps them.
struct Buffer {
  std::string bytes;
  explicit Buffer(const std::string& line) : bytes(line + std::string(128, 'x')) {}
  const char* begin() const { return bytes.data(); }
  const char* safe() const { return bytes.data() + bytes.size() - 64; }
};

}  // namespace

TEST(JsonScan, BlockMasksAgreeWithThePortableDefinition) {
  std::mt19937 rng(7);
  const char interesting[] = {'"', '\\', 'u', '/', '\n', '\r', '\t', 0, 0x1f, 0x20, 0x7f, static_cast<char>(0x80),
                              static_cast<char>(0xc3), static_cast<char>(0xff), 'a', '{'};
  for (int round = 0; round < 2000; ++round) {
    char block[64];
    for (char& c : block) {
      c = rng() % 2 ? interesting[rng() % sizeof interesting] : static_cast<char>(rng());
    }
    const BlockMasks fast = block_masks(block);
    const BlockMasks portable = block_masks_portable(block);
    ASSERT_EQ(fast.quote, portable.quote) << round;
    ASSERT_EQ(fast.control, portable.control) << round;
    ASSERT_EQ(fast.high, portable.high) << round;
    ASSERT_EQ(fast.backslash, portable.backslash) << round;
    ASSERT_EQ(fast.u_or_slash, portable.u_or_slash) << round;
  }
}

TEST(JsonScan, LineIndexFindsTheLineEndAndDeclinesControlBytes) {
  {
    Buffer b("{\"a\":1}\n{\"b\":2}\n");
    LineIndex index;
    EXPECT_EQ(index.index(b.begin(), b.safe()), b.begin() + 7);
    EXPECT_FALSE(index.high());
  }
  {
    Buffer b("{\"a\":1}\r\n");  // CRLF: the '\r' stays in the line, as trailing space
    LineIndex index;
    EXPECT_EQ(index.index(b.begin(), b.safe()), b.begin() + 8);
  }
  for (const std::string& line :
       {std::string("{\"a\":\t1}\n"), std::string("{\"a\":\"x\ry\"}\n"), std::string("{\"a\":\"\0\"}\n", 10)}) {
    Buffer b(line);
    LineIndex index;
    EXPECT_EQ(index.index(b.begin(), b.safe()), nullptr) << line;
  }
  {
    // A line longer than several blocks, with a UTF-8 byte in its last one.
    std::string line = "{\"a\":\"" + std::string(300, 'z') + "\xc3\xa9\"}\n";
    Buffer b(line);
    LineIndex index;
    EXPECT_EQ(index.index(b.begin(), b.safe()), b.begin() + line.size() - 1);
    EXPECT_TRUE(index.high());
  }
  {
    // The '\n' must lie before `safe`: the walk reads up to 64 bytes past it.
    Buffer b("{\"a\":1}\n");
    LineIndex index;
    EXPECT_EQ(index.index(b.begin(), b.begin() + 7), nullptr);
    EXPECT_EQ(index.index(b.begin(), b.begin()), nullptr);
  }
}

TEST(JsonScan, LineIndexSaysWhetherALineMayHoldAUOrSlashEscape) {
  auto rare = [](const std::string& line) {
    Buffer b(line + "\n");
    LineIndex index;
    EXPECT_NE(index.index(b.begin(), b.safe()), nullptr) << line;
    return index.rare_escapes();
  };
  EXPECT_FALSE(rare(R"({"a":"C:\\Windows\\x \"q\" \t \n","u":"/x/"})"));
  EXPECT_TRUE(rare(R"({"a":"\u0041"})"));
  EXPECT_TRUE(rare(R"({"a":"http:\/\/x"})"));
  // At every offset, so the escape also straddles two 64-byte blocks.
  for (std::size_t pad = 0; pad < 130; ++pad) {
    EXPECT_TRUE(rare("{\"a\":\"" + std::string(pad, 'x') + "\\u00e9\"}")) << pad;
    EXPECT_FALSE(rare("{\"a\":\"" + std::string(pad, 'x') + "\\\\x\"}")) << pad;
  }
  // An escaped backslash before a u may count (yes is always safe).
  (void)rare(R"({"a":"C:\\users"})");
}

TEST(JsonScan, StringCloseSkipsEscapedQuotesOnly) {
  struct Case {
    std::string line;
    std::size_t close;  // offset of the closing quote of the string opening at 0; npos: none in the line
  };
  const std::string long_text(150, 'q');
  const Case cases[] = {
      {R"("abc",)", 4},
      {R"("",)", 1},
      {R"("a\"b",)", 5},
      {R"("a\\",)", 4},
      {R"("a\\\"b",)", 7},
      {R"("\\\\",)", 5},
      {"\"" + long_text + "\\\"" + long_text + "\",", 1 + 150 + 2 + 150},
      {R"("unterminated)", std::string::npos},
      {R"("ends escaped\")", std::string::npos},
  };
  for (const Case& c : cases) {
    Buffer b(c.line + "\n");
    LineIndex index;
    ASSERT_NE(index.index(b.begin(), b.safe()), nullptr) << c.line;
    const char* close = index.string_close(b.begin());
    if (c.close == std::string::npos) {
      EXPECT_EQ(close, nullptr) << c.line;
    } else {
      ASSERT_NE(close, nullptr) << c.line;
      EXPECT_EQ(static_cast<std::size_t>(close - b.begin()), c.close) << c.line;
    }
  }
  // Quotes after the line's end are not the string's.
  Buffer b("\"open\n\"}\n");
  LineIndex index;
  ASSERT_NE(index.index(b.begin(), b.safe()), nullptr);
  EXPECT_EQ(index.string_close(b.begin()), nullptr);
}

TEST(JsonScan, NumbersFollowTheJsonGrammar) {
  struct Case {
    std::string text;
    std::size_t length;  // bytes of the number; 0: none
    bool integer;
  };
  const Case cases[] = {
      {"0,", 1, true},         {"-0}", 2, true},       {"12345]", 5, true},   {"-12.5e+3,", 8, false},
      {"1E5,", 3, false},      {"0.25,", 4, false},    {"01,", 1, true},      {"-,", 0, false},
      {"1.,", 0, false},       {".5,", 0, false},      {"1e,", 0, false},     {"+1,", 0, false},
      {"1e+,", 0, false},      {"-a", 0, false},
  };
  for (const Case& c : cases) {
    std::string buf = c.text + std::string(64, ' ');
    bool integer = false;
    const char* end = number_end(buf.data(), integer);
    if (c.length == 0) {
      EXPECT_EQ(end, nullptr) << c.text;
    } else {
      ASSERT_NE(end, nullptr) << c.text;
      EXPECT_EQ(static_cast<std::size_t>(end - buf.data()), c.length) << c.text;
      EXPECT_EQ(integer, c.integer) << c.text;
    }
  }
  std::string long_number = std::string(70, '7') + ",";
  bool integer = false;
  EXPECT_EQ(number_end(long_number.data(), integer), nullptr);  // longer than 63 bytes: simdjson's
}

TEST(JsonScan, SmallIntegersAreThoseInt64HoldsAsSimdjsonReadsThem) {
  std::int64_t v = 0;
  const std::string max18 = "999999999999999999";
  EXPECT_TRUE(small_integer(max18.data(), max18.data() + max18.size(), v));
  EXPECT_EQ(v, 999999999999999999);
  const std::string neg = "-42";
  EXPECT_TRUE(small_integer(neg.data(), neg.data() + neg.size(), v));
  EXPECT_EQ(v, -42);
  const std::string digits19 = "1000000000000000000";
  EXPECT_FALSE(small_integer(digits19.data(), digits19.data() + digits19.size(), v));
  const std::string minus_zero = "-0";
  EXPECT_FALSE(small_integer(minus_zero.data(), minus_zero.data() + minus_zero.size(), v));
}

TEST(JsonScan, LiteralsAreExact) {
  EXPECT_NE(literal_end("true,"), nullptr);
  EXPECT_NE(literal_end("false}"), nullptr);
  EXPECT_NE(literal_end("null]"), nullptr);
  EXPECT_EQ(literal_end("tru ,"), nullptr);
  EXPECT_EQ(literal_end("nul1,"), nullptr);
  EXPECT_EQ(literal_end("fals ,"), nullptr);
}

namespace {
// unescape() over `text` as the walk hands it over: followed by readable
// bytes (backslashes here, which are not the text's), into a buffer with
// the slack it asks for.
std::string unescaped(const std::string& text) {
  std::string in = text + std::string(64, '\\');
  std::string out(text.size() + kUnescapeSlack, '\0');
  char* end = unescape(in.data(), in.data() + text.size(), out.data());
  if (!end) return "<declined>";
  out.resize(static_cast<std::size_t>(end - out.data()));
  return out;
}
}  // namespace

TEST(JsonScan, UnescapeDecodesWhatSimdjsonDecodesAndDeclinesSurrogates) {
  const auto run = unescaped;
  EXPECT_EQ(run(R"(C:\\Windows\\System32)"), "C:\\Windows\\System32");
  EXPECT_EQ(run(R"(\"q\" \/ \b\f\n\r\t)"), "\"q\" / \b\f\n\r\t");
  EXPECT_EQ(run(R"(caf\u00e9 \u20AC \u0041)"), "caf\xc3\xa9 \xe2\x82\xac A");
  EXPECT_EQ(run(R"(nul\u0000end)"), std::string("nul\0end", 7));
  EXPECT_EQ(run(R"(\ud83d\ude00)"), "<declined>");  // surrogate pairs: simdjson's rules apply
  EXPECT_EQ(run(R"(\udc00)"), "<declined>");
  EXPECT_EQ(run(R"(\x41)"), "<declined>");
  EXPECT_EQ(run(R"(\u00g1)"), "<declined>");
  EXPECT_EQ(run(R"(\u00)"), "<declined>");
}

TEST(JsonScan, UnescapeIsExactAtEveryLengthAndEscapePosition) {
  // Plain runs are copied 32 bytes at a time: texts around and across block
  // boundaries, escapes at every position, against the byte-by-byte reading.
  const auto reference = [](const std::string& text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] != '\\') {
        out.push_back(text[i]);
        continue;
      }
      const char e = text[++i];
      out.push_back(e == 'n' ? '\n' : e == 't' ? '\t' : e);
    }
    return out;
  };
  for (std::size_t size = 0; size <= 100; ++size) {
    const std::string plain(size, 'x');
    EXPECT_EQ(unescaped(plain), plain) << size;
    for (std::size_t at = 0; at + 1 < size; ++at) {
      for (const char* escape : {"\\\\", "\\n", "\\\"", "\\t"}) {
        std::string text = plain;
        text.replace(at, 2, escape);
        EXPECT_EQ(unescaped(text), reference(text)) << text;
      }
    }
  }
  // Escapes every few characters, as Windows paths have them.
  std::string path;
  for (int i = 0; i < 40; ++i) path += "dir" + std::to_string(i) + "\\\\";
  EXPECT_EQ(unescaped(path), reference(path));
}

TEST(JsonScan, BackslashesAreFoundInsideTheTextOnly) {
  for (std::size_t size = 0; size <= 100; ++size) {
    std::string buf(size + 64, 'a');
    EXPECT_FALSE(has_backslash(buf.data(), size)) << size;
    buf[size] = '\\';  // just past the end: not the text's
    EXPECT_FALSE(has_backslash(buf.data(), size)) << size;
    for (std::size_t at = 0; at < size; ++at) {
      std::string one(size + 64, 'a');
      one[at] = '\\';
      EXPECT_TRUE(has_backslash(one.data(), size)) << size << " " << at;
    }
  }
}
