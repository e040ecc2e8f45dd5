// Charset detection and transcoding: the order of evidence (BOM, XML
// declaration, transport charset, UTF-8), the legacy code pages real senders
// use, and every way the evidence can contradict the bytes.
#include "mapping/encoding.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "mapping/content_type.hpp"

namespace licgate::mapping {
namespace {

using registry::ErrorCode;
using namespace std::string_literals;

// The same Czech, Russian and Kazakh texts as UTF-8 and in their code pages,
// the code-page bytes written out here so that the test does not use the
// converter it checks.
const std::string kCzechUtf8 = "ěščřžýáíéůú ĚŠČŘŽ";
const std::string kCzech1250 =
    "\xEC\x9A\xE8\xF8\x9E\xFD\xE1\xED\xE9\xF9\xFA\x20\xCC\x8A\xC8\xD8\x8E";
const std::string kRussianUtf8 = "Лицензия выдана ООО «Ромашка», Москва";
const std::string kRussian1251 =
    "\xCB\xE8\xF6\xE5\xED\xE7\xE8\xFF\x20\xE2\xFB\xE4\xE0\xED\xE0\x20\xCE\xCE\xCE\x20\xAB\xD0\xEE"
    "\xEC\xE0\xF8\xEA\xE0\xBB\x2C\x20\xCC\xEE\xF1\xEA\xE2\xE0";
const std::string kKazakhUtf8 = "ӘҒҚҢӨҰҮҺІ әғқңөұүһі";
const std::string kKazakh1048 =
    "\xA3\xAA\x8D\xBD\xA5\xA1\xAF\x8E\xB2\x20\xBC\xBA\x9D\xBE\xB4\xA2\xBF\x9E\xB3";

std::string xmlDeclaring(std::string_view encoding, std::string_view body) {
  return "<?xml version=\"1.0\" encoding=\"" + std::string(encoding) + "\"?><name>" +
         std::string(body) + "</name>";
}

const std::string kUtf8Document = xmlDeclaring("UTF-8", kCzechUtf8);

TEST(Encoding, TranscodesWindows1250CzechNamedByTheDeclaration) {
  std::string bytes = xmlDeclaring("windows-1250", kCzech1250);

  auto text = toUtf8(bytes, "", TextKind::kXml);

  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_EQ(*text, kUtf8Document);
}

TEST(Encoding, AcceptsTheAliasesSendersWriteForWindows1250) {
  for (const char* alias : {"cp1250", "x-cp1250", "windows1250", "win-1250", "WINDOWS-1250",
                            "Windows-1250", "CP1250"}) {
    std::string bytes = xmlDeclaring(alias, kCzech1250);

    auto text = toUtf8(bytes, "", TextKind::kXml);

    ASSERT_TRUE(text.ok()) << alias << ": " << text.error().message;
    EXPECT_EQ(*text, kUtf8Document) << alias;
  }
}

TEST(Encoding, TranscodesWindows1251RussianNamedByTheTransport) {
  std::string bytes = "{\"name\":\"" + kRussian1251 + "\"}";

  auto text = toUtf8(bytes, "windows-1251", TextKind::kOther);

  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_EQ(*text, "{\"name\":\"" + kRussianUtf8 + "\"}");
}

TEST(Encoding, AcceptsTheAliasesSendersWriteForWindows1251) {
  for (const char* alias : {"cp1251", "x-cp1251", "windows1251", "win-1251", "windows-1251"}) {
    auto text = toUtf8(kRussian1251, alias, TextKind::kOther);

    ASSERT_TRUE(text.ok()) << alias << ": " << text.error().message;
    EXPECT_EQ(*text, kRussianUtf8) << alias;
  }
}

TEST(Encoding, TranscodesKz1048KazakhLettersUnderEveryName) {
  for (const char* alias : {"KZ-1048", "kz1048", "RK1048", "STRK1048-2002", "kz-1048"}) {
    std::string bytes = xmlDeclaring(alias, kKazakh1048);

    auto text = toUtf8(bytes, "", TextKind::kXml);

    ASSERT_TRUE(text.ok()) << alias << ": " << text.error().message;
    EXPECT_EQ(*text, xmlDeclaring("UTF-8", kKazakhUtf8)) << alias;
  }
}

TEST(Encoding, PassesUtf8WithoutBomUnchanged) {
  auto text = toUtf8(kUtf8Document, "", TextKind::kXml);

  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_EQ(*text, kUtf8Document);
}

TEST(Encoding, StripsTheUtf8Bom) {
  std::string bytes = "\xEF\xBB\xBF" + kUtf8Document;

  auto text = toUtf8(bytes, "", TextKind::kXml);

  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_EQ(*text, kUtf8Document);
}

TEST(Encoding, StripsTheUtf8BomOfJson) {
  auto text = toUtf8("\xEF\xBB\xBF{}", "", TextKind::kOther);

  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_EQ(*text, "{}");
}

// "<?xml" ... in UTF-16LE: each ASCII character followed by a zero byte.
std::string utf16Le(std::string_view ascii) {
  std::string out;
  for (char c : ascii) {
    out += c;
    out += '\0';
  }
  return out;
}

std::string utf16Be(std::string_view ascii) {
  std::string out;
  for (char c : ascii) {
    out += '\0';
    out += c;
  }
  return out;
}

TEST(Encoding, TranscodesUtf16LittleEndianWithBom) {
  std::string bytes = "\xFF\xFE" + utf16Le("<?xml version=\"1.0\" encoding=\"UTF-16\"?><name>") +
                      "\x0D\x01" + utf16Le("</name>");

  auto text = toUtf8(bytes, "", TextKind::kXml);

  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_EQ(*text, xmlDeclaring("UTF-8", "č"));
}

TEST(Encoding, TranscodesUtf16BigEndianWithBom) {
  std::string bytes = "\xFE\xFF" + utf16Be("<?xml version=\"1.0\" encoding=\"utf-16\"?><name>") +
                      "\x01\x0D"s + utf16Be("</name>");

  auto text = toUtf8(bytes, "", TextKind::kXml);

  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_EQ(*text, xmlDeclaring("UTF-8", "č"));
}

TEST(Encoding, RecognisesUtf16WithoutBomByItsFirstCharacters) {
  std::string bytes = utf16Le(xmlDeclaring("UTF-16LE", "x"));

  auto text = toUtf8(bytes, "", TextKind::kXml);

  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_EQ(*text, xmlDeclaring("UTF-8", "x"));
}

TEST(Encoding, TranscodesUtf16JsonWithBom) {
  std::string bytes = "\xFF\xFE" + utf16Le("{}");

  auto text = toUtf8(bytes, "", TextKind::kOther);

  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_EQ(*text, "{}");
}

TEST(Encoding, PrefersTheDeclarationToTheTransportCharset) {
  std::string bytes = xmlDeclaring("windows-1250", kCzech1250);

  auto text = toUtf8(bytes, "utf-8", TextKind::kXml);

  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_EQ(*text, kUtf8Document);
}

TEST(Encoding, UsesTheTransportCharsetForXmlWithoutEncodingDeclaration) {
  std::string bytes = "<?xml version=\"1.0\"?><name>" + kCzech1250 + "</name>";

  auto text = toUtf8(bytes, "windows-1250", TextKind::kXml);

  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_EQ(*text, "<?xml version=\"1.0\"?><name>" + kCzechUtf8 + "</name>");
}

TEST(Encoding, RejectsUtf8BomBeforeWindows1250Declaration) {
  std::string bytes = "\xEF\xBB\xBF" + xmlDeclaring("windows-1250", "x");

  auto text = toUtf8(bytes, "", TextKind::kXml);

  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().code, ErrorCode::kInvalidEncoding);
  EXPECT_EQ(text.error().message,
            "the byte order mark says UTF-8 but the XML declaration says \"windows-1250\"");
}

TEST(Encoding, RejectsUtf16BomBeforeWindows1251Declaration) {
  std::string bytes = "\xFF\xFE" + utf16Le(xmlDeclaring("windows-1251", "x"));

  auto text = toUtf8(bytes, "", TextKind::kXml);

  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().code, ErrorCode::kInvalidEncoding);
  EXPECT_EQ(text.error().message,
            "the byte order mark says UTF-16LE but the XML declaration says \"windows-1251\"");
}

TEST(Encoding, RejectsUtf16DeclarationOnEightBitBytes) {
  std::string bytes = xmlDeclaring("UTF-16", "x");

  auto text = toUtf8(bytes, "", TextKind::kXml);

  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().code, ErrorCode::kInvalidEncoding);
  EXPECT_EQ(text.error().message,
            "the XML declaration says \"UTF-16\" but the document's bytes are 8-bit: \"<?xml\" "
            "is written in single bytes and there is no byte order mark");
}

TEST(Encoding, RejectsAUtf16TransportCharsetOnEightBitXml) {
  auto text = toUtf8("<name>x</name>", "utf-16", TextKind::kXml);

  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().code, ErrorCode::kInvalidEncoding);
  EXPECT_EQ(text.error().message,
            "the transport's charset says \"utf-16\" but the document's bytes are 8-bit: \"<\" "
            "is written in a single byte and there is no byte order mark");
}

TEST(Encoding, RejectsUtf8DeclarationOnWindows1250Bytes) {
  std::string bytes = xmlDeclaring("UTF-8", kCzech1250);

  auto text = toUtf8(bytes, "", TextKind::kXml);

  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().code, ErrorCode::kInvalidEncoding);
  EXPECT_EQ(text.error().message,
            "invalid UTF-8 at byte offset 44 (0xEC): UTF-8 named by the XML declaration "
            "contradicts the bytes, which read as windows-1250");
}

TEST(Encoding, RejectsInvalidUtf8NamingTheByteOffset) {
  std::string bytes = "{\"name\":\"ab\xC3\x28\"}";

  auto text = toUtf8(bytes, "", TextKind::kOther);

  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().code, ErrorCode::kInvalidEncoding);
  EXPECT_EQ(text.error().message,
            "invalid UTF-8 at byte offset 11 (0xC3); no charset was declared, so UTF-8 was "
            "assumed");
}

TEST(Encoding, RejectsOverlongAndSurrogateUtf8) {
  for (const std::string& bad : {"\xC0\xAF"s, "\xED\xA0\x80"s, "\xF4\x90\x80\x80"s}) {
    auto text = toUtf8("x" + bad, "utf-8", TextKind::kOther);

    ASSERT_FALSE(text.ok());
    EXPECT_EQ(text.error().code, ErrorCode::kInvalidEncoding);
  }
}

TEST(Encoding, RejectsBytesUndefinedInWindows1250) {
  std::string bytes = "ab\x98";

  auto text = toUtf8(bytes, "windows-1250", TextKind::kOther);

  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().code, ErrorCode::kInvalidEncoding);
  EXPECT_EQ(text.error().message,
            "not valid windows-1250 (named by the transport's charset): byte 0x98 is not a "
            "character at byte offset 2");
}

TEST(Encoding, RejectsUtf16CutInsideACharacter) {
  std::string bytes = "\xFF\xFE" + utf16Le("{}") + "\x7B";

  auto text = toUtf8(bytes, "", TextKind::kOther);

  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().code, ErrorCode::kInvalidEncoding);
  EXPECT_EQ(text.error().message,
            "not valid UTF-16LE (named by the byte order mark): the text ends inside a character "
            "at byte offset 4");
}

TEST(Encoding, RejectsAnUnsupportedCharsetInTheDeclaration) {
  std::string bytes = xmlDeclaring("x-klingon", "x");

  auto text = toUtf8(bytes, "", TextKind::kXml);

  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().code, ErrorCode::kUnsupportedEncoding);
  EXPECT_EQ(text.error().message,
            "charset \"x-klingon\" is not supported (supported: UTF-8, UTF-16, windows-1250, "
            "windows-1251, windows-1252, KZ-1048, ISO-8859-1, ISO-8859-2, ISO-8859-5, KOI8-R, "
            "US-ASCII and their common aliases)");
}

TEST(Encoding, RejectsAnUnsupportedTransportCharset) {
  auto text = toUtf8("{}", "ebcdic-cp-us", TextKind::kOther);

  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().code, ErrorCode::kUnsupportedEncoding);
}

TEST(Encoding, RejectsAnUnclosedDeclaration) {
  auto text = toUtf8("<?xml version=\"1.0\" encoding=\"UTF-8\"", "", TextKind::kXml);

  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().code, ErrorCode::kMalformed);
  EXPECT_EQ(text.error().message,
            "XML declaration is broken at byte offset 0: no \"?>\" within 512 bytes");
}

TEST(Encoding, RejectsAnUnquotedEncodingInTheDeclaration) {
  auto text = toUtf8("<?xml version=\"1.0\" encoding=UTF-8?><a/>", "", TextKind::kXml);

  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().code, ErrorCode::kMalformed);
  EXPECT_EQ(text.error().message,
            "XML declaration is broken at byte offset 29: value of \"encoding\" is not quoted");
}

TEST(Encoding, MapsAliasesToIconvNames) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"utf8", "UTF-8"},           {"UTF-8", "UTF-8"},       {"x-cp1250", "CP1250"},
      {"win-1250", "CP1250"},      {"cp1251", "CP1251"},     {"KZ-1048", "RK1048"},
      {"STRK1048-2002", "RK1048"}, {"latin2", "ISO-8859-2"}, {"iso-8859-2", "ISO-8859-2"},
      {"us-ascii", "ASCII"},       {"utf-16", "UTF-16"},     {" Windows-1251 ", "CP1251"},
  };
  for (const auto& [alias, expected] : cases) {
    auto name = canonicalCharset(alias);

    ASSERT_TRUE(name.ok()) << alias;
    EXPECT_EQ(*name, expected) << alias;
  }
}

TEST(Encoding, RejectsAnUnknownCharsetName) {
  auto name = canonicalCharset("windows-9999");

  ASSERT_FALSE(name.ok());
  EXPECT_EQ(name.error().code, ErrorCode::kUnsupportedEncoding);
}

TEST(Encoding, WritesKazakhLettersInKz1048) {
  auto bytes = fromUtf8(kKazakhUtf8, "KZ-1048");

  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  EXPECT_EQ(*bytes, kKazakh1048);
}

TEST(Encoding, RefusesToWriteACharacterTheCharsetLacks) {
  auto bytes = fromUtf8("Řád ә", "windows-1250");

  ASSERT_FALSE(bytes.ok());
  EXPECT_EQ(bytes.error().code, ErrorCode::kInvalidEncoding);
  EXPECT_EQ(bytes.error().message,
            "the character \"ә\" at byte offset 6 has no equivalent in windows-1250");
}

TEST(Encoding, RefusesToWriteAnUnknownCharset) {
  auto bytes = fromUtf8("abc", "x-klingon");

  ASSERT_FALSE(bytes.ok());
  EXPECT_EQ(bytes.error().code, ErrorCode::kUnsupportedEncoding);
}

TEST(Encoding, RefusesToWriteFromInvalidUtf8) {
  auto bytes = fromUtf8("a\xFF", "windows-1250");

  ASSERT_FALSE(bytes.ok());
  EXPECT_EQ(bytes.error().code, ErrorCode::kInvalidEncoding);
  EXPECT_EQ(bytes.error().message, "invalid UTF-8 at byte offset 1 (0xFF)");
}

TEST(ContentType, ReadsTheCharsetParameterLowerCased) {
  EXPECT_EQ(charsetOfContentType("application/xml; charset=Windows-1250"), "windows-1250");
  EXPECT_EQ(charsetOfContentType("text/csv;profile=eru-holder;CHARSET=\"UTF-8\""), "utf-8");
  EXPECT_EQ(charsetOfContentType("application/json"), "");
}

TEST(ContentType, ReadsTheMediaTypeWithoutParameters) {
  EXPECT_EQ(mediaTypeOf(" Application/XML ; charset=utf-8"), "application/xml");
  EXPECT_EQ(mediaTypeOf("application/json"), "application/json");
}

TEST(ContentType, ReadsANamedParameterAsWritten) {
  EXPECT_EQ(contentTypeParameter("text/csv; charset=utf-8; profile=eru-holder", "Profile"),
            "eru-holder");
  EXPECT_EQ(contentTypeParameter("text/csv", "profile"), "");
}

}  // namespace
}  // namespace licgate::mapping
