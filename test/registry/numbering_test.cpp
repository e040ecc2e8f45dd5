// Licence and annex number formats and shape checks, including letters from
// other alphabets that look Latin.
#include "registry/numbering.hpp"

#include <gtest/gtest.h>

#include <string>

namespace licgate::registry {
namespace {

std::string messageOf(const Status& status) {
  return status.ok() ? std::string("ok") : status.error().message;
}

TEST(Numbering, FormatsActivityNumberFromYearAndSequence) {
  EXPECT_EQ(formatActivityNumber(2026, 1), "26000001");
  EXPECT_EQ(formatActivityNumber(2025, 999999), "25999999");
  EXPECT_EQ(formatActivityNumber(2001, 42), "01000042");
}

TEST(Numbering, FormatsAnnexNumber) {
  EXPECT_EQ(formatAnnexNumber(1), "001");
  EXPECT_EQ(formatAnnexNumber(170), "170");
}

TEST(Numbering, FormatsExportImportNumber) {
  EXPECT_EQ(formatExportImportNumber("012", "KZ", 2026, "A7B", 35), "012KZ26A7B000035");
}

TEST(Numbering, AcceptsNumbersOfTheRightShape) {
  EXPECT_EQ(messageOf(checkActivityNumber("26000001")), "ok");
  EXPECT_EQ(messageOf(checkAnnexNumber("001")), "ok");
  EXPECT_EQ(messageOf(checkExportImportNumber("012KZ26A7B000035")), "ok");
  EXPECT_EQ(messageOf(checkLegacyNumber("310100016")), "ok");
}

TEST(Numbering, RejectsActivityNumberOfWrongShape) {
  struct Case {
    std::string number;
    std::string message;
  };
  const Case cases[] = {
      {"2100001", "licence number \"2100001\" has 7 digits, not 8"},
      {"210000001", "licence number \"210000001\" has 9 digits, not 8"},
      {"21-00001", "licence number \"21-00001\" is not 8 digits"},
      {"21000000", "licence number \"21000000\" has sequence 0; sequences start at 1"},
  };

  for (const Case& c : cases) {
    Status status = checkActivityNumber(c.number);

    ASSERT_FALSE(status.ok()) << c.number;
    EXPECT_EQ(status.error().code, ErrorCode::kInvalidField);
    EXPECT_EQ(status.error().message, c.message);
  }
}

TEST(Numbering, RejectsAnnexNumberOfWrongShape) {
  EXPECT_EQ(messageOf(checkAnnexNumber("1")), "annex number \"1\" has 1 digits, not 3");
  EXPECT_EQ(messageOf(checkAnnexNumber("000")),
            "annex number \"000\" has sequence 0; sequences start at 1");
  EXPECT_EQ(messageOf(checkAnnexNumber("0a1")), "annex number \"0a1\" is not 3 digits");
}

TEST(Numbering, RejectsExportImportNumberNamingTheBadPart) {
  EXPECT_EQ(messageOf(checkExportImportNumber("012KZ26A7B00003")),
            "export/import licence number \"012KZ26A7B00003\" has 15 characters, not 16 "
            "(GGGCCYYSSSNNNNNN)");
  EXPECT_EQ(messageOf(checkExportImportNumber("01XKZ26A7B000035")),
            "export/import licence number \"01XKZ26A7B000035\" has a bad part: goods list number "
            "\"01X\" is not 3 digits");
  EXPECT_EQ(messageOf(checkExportImportNumber("012Kz26A7B000035")),
            "export/import licence number \"012Kz26A7B000035\" has a bad part: country code "
            "\"Kz\" is not 2 upper-case Latin letters (ISO 3166-1 alpha-2)");
  EXPECT_EQ(messageOf(checkExportImportNumber("012KZ2XA7B000035")),
            "export/import licence number \"012KZ2XA7B000035\" has a year \"2X\" that is not 2 "
            "digits");
  EXPECT_EQ(messageOf(checkExportImportNumber("012KZ26a7b000035")),
            "export/import licence number \"012KZ26a7b000035\" has a bad part: seal code "
            "\"a7b\" is not 3 upper-case Latin letters or digits");
  EXPECT_EQ(messageOf(checkExportImportNumber("012KZ26A7B000000")),
            "export/import licence number \"012KZ26A7B000000\" has sequence 0; sequences start "
            "at 1");
}

TEST(Numbering, RejectsExportImportNumberWithCyrillicCountry) {
  Status status = checkExportImportNumber("012\u041aZ26A7B000035");

  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message,
            "export/import licence number \"012\u041aZ26A7B000035\" contains U+041A CYRILLIC "
            "CAPITAL LETTER KA, a look-alike of the Latin letter K from another alphabet");
}

TEST(CountryCode, AcceptsLatinUpperCase) {
  EXPECT_EQ(messageOf(checkCountryCode("KZ")), "ok");
  EXPECT_EQ(messageOf(checkCountryCode("CZ")), "ok");
}

TEST(CountryCode, NamesCyrillicLookAlike) {
  Status status = checkCountryCode("\u041aZ");  // Cyrillic КZ

  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kInvalidField);
  EXPECT_EQ(status.error().message,
            "country code \"\u041aZ\" contains U+041A CYRILLIC CAPITAL LETTER KA, a look-alike of "
            "the Latin letter K from another alphabet");
}

TEST(CountryCode, NamesEveryLookAlikeByItsCodePoint) {
  struct Case {
    std::string code;
    std::string named;
  };
  const Case cases[] = {
      {"K\u0396", "U+0396 GREEK CAPITAL LETTER ZETA"},
      {"\u0412Y", "U+0412 CYRILLIC CAPITAL LETTER VE"},
      {"\u0421Z", "U+0421 CYRILLIC CAPITAL LETTER ES"},
      {"\u0415E", "U+0415 CYRILLIC CAPITAL LETTER IE"},
      {"\u041d\u0423", "U+041D CYRILLIC CAPITAL LETTER EN"},
      {"\u0391M", "U+0391 GREEK CAPITAL LETTER ALPHA"},
      {"U\u04ae", "U+04AE CYRILLIC CAPITAL LETTER STRAIGHT U"},
      {"\u0410\u0422", "U+0410 CYRILLIC CAPITAL LETTER A"},
      {"\uff2bZ", "U+FF2B FULLWIDTH LATIN CAPITAL LETTER K"},
  };

  for (const Case& c : cases) {
    Status status = checkCountryCode(c.code);

    ASSERT_FALSE(status.ok()) << c.code;
    EXPECT_NE(status.error().message.find(c.named), std::string::npos) << status.error().message;
    EXPECT_NE(status.error().message.find("look-alike"), std::string::npos);
  }
}

TEST(CountryCode, RejectsOtherNonLatinLetters) {
  EXPECT_EQ(messageOf(checkCountryCode("D\u00c9")),
            "country code \"D\u00c9\" contains U+00C9, which is not an ASCII character");
}

TEST(CountryCode, RejectsWrongLengthAndCase) {
  EXPECT_EQ(messageOf(checkCountryCode("KAZ")),
            "country code \"KAZ\" has 3 characters, not 2 (ISO 3166-1 alpha-2)");
  EXPECT_EQ(messageOf(checkCountryCode("")),
            "country code \"\" has 0 characters, not 2 (ISO 3166-1 alpha-2)");
  EXPECT_EQ(messageOf(checkCountryCode("kz")),
            "country code \"kz\" is not 2 upper-case Latin letters (ISO 3166-1 alpha-2)");
  EXPECT_EQ(messageOf(checkCountryCode("K1")),
            "country code \"K1\" is not 2 upper-case Latin letters (ISO 3166-1 alpha-2)");
}

TEST(CountryCode, RejectsInvalidUtf8) {
  EXPECT_EQ(messageOf(checkCountryCode("K\xd0")), "country code \"K\\xD0\" is not valid UTF-8");
}

TEST(GoodsList, RequiresThreeDigits) {
  EXPECT_EQ(messageOf(checkGoodsList("012")), "ok");
  EXPECT_EQ(messageOf(checkGoodsList("12")), "goods list number \"12\" has 2 digits, not 3");
}

TEST(SealCode, RequiresThreeUpperCaseLettersOrDigits) {
  EXPECT_EQ(messageOf(checkSealCode("A7B")), "ok");
  EXPECT_EQ(messageOf(checkSealCode("A7")),
            "seal code \"A7\" is not 3 upper-case Latin letters or digits");
  EXPECT_EQ(messageOf(checkSealCode("\u0410BC")),
            "seal code \"\u0410BC\" contains U+0410 CYRILLIC CAPITAL LETTER A, a look-alike of "
            "the Latin letter A from another alphabet");
}

TEST(LegacyNumber, KeepsAnyPrintableAsciiUpTo32Characters) {
  EXPECT_EQ(messageOf(checkLegacyNumber("310100016")), "ok");
  EXPECT_EQ(messageOf(checkLegacyNumber("KZ-2009/17 b")), "ok");
  EXPECT_EQ(messageOf(checkLegacyNumber(std::string(32, '9'))), "ok");
}

TEST(LegacyNumber, RejectsEmptyLongControlAndPaddedNumbers) {
  EXPECT_EQ(messageOf(checkLegacyNumber("")),
            "legacy licence number \"\" has 0 characters, not 1 to 32");
  EXPECT_EQ(
      messageOf(checkLegacyNumber(std::string(33, '9'))),
      "legacy licence number \"" + std::string(33, '9') + "\" has 33 characters, not 1 to 32");
  EXPECT_EQ(messageOf(checkLegacyNumber("31\t01")),
            "legacy licence number \"31\\x0901\" contains a control character");
  EXPECT_EQ(messageOf(checkLegacyNumber(" 310100016")),
            "legacy licence number \" 310100016\" starts or ends with a space");
  EXPECT_EQ(messageOf(checkLegacyNumber("\u041b\u0418\u0426-1")),
            "legacy licence number \"\u041b\u0418\u0426-1\" contains U+041B, which is not an "
            "ASCII character");
}

}  // namespace
}  // namespace licgate::registry
