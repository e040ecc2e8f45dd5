// UTF-8 decoding and the quoting of values in error messages.
#include "registry/text.hpp"

#include <gtest/gtest.h>

namespace licgate::registry {
namespace {

TEST(Utf8, DecodesOneToFourByteSequences) {
  std::string text = "K\u00c9\u041a\U0001F600";
  std::size_t pos = 0;

  auto first = decodeUtf8(text, pos);
  auto second = decodeUtf8(text, pos);
  auto third = decodeUtf8(text, pos);
  auto fourth = decodeUtf8(text, pos);

  EXPECT_EQ(*first, U'K');
  EXPECT_EQ(*second, U'\u00c9');
  EXPECT_EQ(*third, U'\u041a');
  EXPECT_EQ(*fourth, U'\U0001F600');
  EXPECT_EQ(pos, text.size());
}

TEST(Utf8, RejectsOverlongSurrogateAndTruncatedSequences) {
  EXPECT_FALSE(isValidUtf8("\xc0\xaf"));          // overlong "/"
  EXPECT_FALSE(isValidUtf8("\xed\xa0\x80"));      // U+D800, a surrogate
  EXPECT_FALSE(isValidUtf8("\xd0"));              // cut after the lead byte
  EXPECT_FALSE(isValidUtf8("\xf4\x90\x80\x80"));  // over U+10FFFF
  EXPECT_TRUE(isValidUtf8("Velk\u00fd Karlov"));
}

TEST(Utf8, CountsCharactersNotBytes) {
  EXPECT_EQ(countCharacters(""), 0u);
  EXPECT_EQ(countCharacters("abc"), 3u);
  EXPECT_EQ(countCharacters("жжж"), 3u);
  EXPECT_EQ(countCharacters("a\u20AC\U0001F600"), 3u);
  EXPECT_EQ(countCharacters("a\xFF"
                            "b"),
            3u);
}

TEST(QuoteForMessage, EscapesBadBytesAndControlCharacters) {
  EXPECT_EQ(quoteForMessage("a\xff"
                            "b\n\u00e9"),
            "a\\xFFb\\x0A\u00e9");
}

TEST(QuoteForMessage, CutsLongText) {
  EXPECT_EQ(quoteForMessage(std::string(100, 'x'), 10), std::string(10, 'x') + "...");
}

TEST(FindXmlNoncharacter, FindsUFFFEAndUFFFFOnly) {
  EXPECT_EQ(findXmlNoncharacter("ab\uFFFF"), 2u);
  EXPECT_EQ(findXmlNoncharacter("\uFFFEx"), 0u);
  EXPECT_EQ(findXmlNoncharacter("\uFFFD \uFEFF \u20AC"), std::nullopt);
  EXPECT_EQ(findXmlNoncharacter("\xEF\xBF"), std::nullopt);  // cut short
}

TEST(JsonErrorText, DropsTheTagAndEscapesTheBytesTheParserStoppedAt) {
  const std::string what =
      "[json.exception.parse_error.101] parse error at line 1, column 12: syntax error while "
      "parsing value - invalid literal; last read: '\xff'";

  const std::string text = jsonErrorText(what);

  EXPECT_EQ(text,
            "parse error at line 1, column 12: syntax error while parsing value - invalid "
            "literal; last read: '\\xFF'");
  EXPECT_TRUE(isValidUtf8(text));
}

TEST(JsonErrorText, KeepsALongMessageWhole) {
  const std::string what = "[json.exception.parse_error.101] " + std::string(500, 'x') + "\xfe";
  EXPECT_EQ(jsonErrorText(what), std::string(500, 'x') + "\\xFE");
}

}  // namespace
}  // namespace licgate::registry
