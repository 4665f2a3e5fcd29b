// append_json_string: JSON escaping of attacker-controlled text, which need
// not be UTF-8 (event XML, flat exports): the output must always be valid JSON.
#include <gtest/gtest.h>

#include <string>

#include "core/value.h"

using namespace vigil;

namespace {

std::string json(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

const std::string kReplacement = "\xEF\xBF\xBD";  // U+FFFD

}  // namespace

TEST(JsonString, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(json("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(json("\n\r\t"), R"("\n\r\t")");
  EXPECT_EQ(json(std::string("\x00\x01\x1f\x7f", 4)), R"("\u0000\u0001\u001f\u007f")");
  // C1 controls too (U+009B is a CSI some terminals act on); U+00A0 is text.
  EXPECT_EQ(json("\xC2\x80\xC2\x9B" "1J\xC2\xA0"), "\"\\u0080\\u009b1J\xC2\xA0\"");
}

TEST(JsonString, KeepsWellFormedUtf8) {
  // 2, 3 and 4 bytes, the first (past the C1 controls) and last code points of each length.
  const std::string text = "\xC2\xA0 \xDF\xBF \xE0\xA0\x80 \xEF\xBF\xBF \xF0\x90\x80\x80 \xF4\x8F\xBF\xBF é € 😀";
  EXPECT_EQ(json(text), "\"" + text + "\"");
}

TEST(JsonString, ReplacesEveryByteThatIsNotWellFormedUtf8) {
  const std::pair<std::string, std::string> cases[] = {
      {"\x80", kReplacement},                               // lone continuation byte
      {"a\x90z", "a" + kReplacement + "z"},                 // found by fuzz/fuzz_event_xml
      {"\xC0\xAF", kReplacement + kReplacement},            // overlong '/'
      {"\xC1\xBF", kReplacement + kReplacement},            // overlong
      {"\xE0\x80\xAF", kReplacement + kReplacement + kReplacement},  // overlong 3-byte
      {"\xED\xA0\x80", kReplacement + kReplacement + kReplacement},  // UTF-16 surrogate D800
      {"\xF0\x80\x80\xAF", std::string() + kReplacement + kReplacement + kReplacement + kReplacement},  // overlong 4-byte
      {"\xF4\x90\x80\x80", std::string() + kReplacement + kReplacement + kReplacement + kReplacement},  // past U+10FFFF
      {"\xF5\x80", kReplacement + kReplacement},            // no such lead byte
      {"\xFF", kReplacement},
      {"ok\xE2\x82", "ok" + kReplacement + kReplacement},   // truncated at the end
      {"\xE2\x82" "a", kReplacement + kReplacement + "a"},  // truncated before ASCII
      {"\xC3\xA9\xC3", "\xC3\xA9" + kReplacement},          // a good sequence, then a cut one
  };
  for (const auto& [in, want] : cases) EXPECT_EQ(json(in), "\"" + want + "\"") << in;
}
