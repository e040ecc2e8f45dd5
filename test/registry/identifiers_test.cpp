// Holder identifier vectors: KZ IIN/BIN by the two-pass mod-11 rule and the
// Czech IČ, each valid case computed by hand from the rule.
#include "registry/identifiers.hpp"

#include <gtest/gtest.h>

#include <string>

namespace licgate::registry {
namespace {

struct Vector {
  std::string value;
  std::string message;  // empty when valid
};

void expectVectors(Status (*check)(std::string_view), const std::vector<Vector>& vectors) {
  for (const Vector& vector : vectors) {
    Status status = check(vector.value);

    if (vector.message.empty()) {
      EXPECT_TRUE(status.ok()) << vector.value << ": " << status.error().message;
    } else {
      ASSERT_FALSE(status.ok()) << vector.value;
      EXPECT_EQ(status.error().code, ErrorCode::kInvalidField);
      EXPECT_EQ(status.error().message, vector.message);
    }
  }
}

// 9 0 0 1 0 1 3 0 0 0 1 x 1..11 = 51, 51 % 11 = 7.
TEST(Iin, AcceptsCheckDigitOfFirstPass) {
  expectVectors(checkIin, {
                              {"900101300017", ""},
                              {"710602200450", ""},
                              {"950731601019", ""},
                              {"880203100002", ""},
                              {"000229500127", ""},  // 29 February 2000, a leap year
                          });
}

// 8 5 1 2 3 1 4 0 0 2 3 x 1..11 = 142, 142 % 11 = 10; x 3..11,1,2 = 167,
// 167 % 11 = 2.
TEST(Iin, AcceptsCheckDigitOfSecondPass) {
  expectVectors(checkIin, {
                              {"851231400232", ""},
                              {"020504600331", ""},
                              {"900101300811", ""},
                          });
}

TEST(Iin, RejectsNumberWhoseBothPassesGiveTen) {
  expectVectors(checkIin, {
                              {"900101300800",
                               "IIN 900101300800: both passes of the mod-11 "
                               "check give 10, so no check digit is valid"},
                              {"900101301610",
                               "IIN 900101301610: both passes of the mod-11 "
                               "check give 10, so no check digit is valid"},
                          });
}

TEST(Iin, RejectsWrongCheckDigit) {
  expectVectors(checkIin, {
                              {"900101300015", "IIN 900101300015: check digit is 5, expected 7"},
                              {"851231400233", "IIN 851231400233: check digit is 3, expected 2"},
                          });
}

TEST(Iin, RejectsWrongLength) {
  expectVectors(checkIin,
                {
                    {"90010130001", "IIN 90010130001: has 11 characters, not 12 digits"},
                    {"9001013000170", "IIN 9001013000170: has 13 characters, not 12 digits"},
                    {"", "IIN : has 0 characters, not 12 digits"},
                });
}

TEST(Iin, RejectsNonDigits) {
  expectVectors(checkIin, {
                              {"90010130001A", "IIN 90010130001A: character 12 is not a digit"},
                              {" 90101300017", "IIN  90101300017: character 1 is not a digit"},
                          });
}

TEST(Iin, RejectsImpossibleCenturyDigit) {
  expectVectors(checkIin,
                {
                    {"900101000013", "IIN 900101000013: century digit (7th) is 0, expected 1 to 6"},
                    {"900101700017", "IIN 900101700017: century digit (7th) is 7, expected 1 to 6"},
                    {"900101900017", "IIN 900101900017: century digit (7th) is 9, expected 1 to 6"},
                });
}

TEST(Iin, RejectsImpossibleBirthDate) {
  expectVectors(
      checkIin,
      {
          {"900230300017", "IIN 900230300017: birth date 900230 (YYMMDD) is not a day of 1990"},
          {"901301300017", "IIN 901301300017: birth date 901301 (YYMMDD) is not a day of 1990"},
          {"900100300017", "IIN 900100300017: birth date 900100 (YYMMDD) is not a day of 1990"},
          // 1900 was not a leap year, 2000 was.
          {"000229300127", "IIN 000229300127: birth date 000229 (YYMMDD) is not a day of 1900"},
      });
}

// 1 5 0 4 4 0 0 0 0 0 0 x 1..11 = 36, 36 % 11 = 3.
TEST(Bin, AcceptsCheckDigitOfFirstPass) {
  expectVectors(checkBin, {{"150440000003", ""}});
}

TEST(Bin, AcceptsCheckDigitOfSecondPass) {
  expectVectors(checkBin, {{"150440000402", ""}, {"150440000414", ""}});
}

TEST(Bin, RejectsNumberWhoseBothPassesGiveTen) {
  expectVectors(checkBin, {{"150440000440",
                            "BIN 150440000440: both passes of the mod-11 check "
                            "give 10, so no check digit is valid"}});
}

TEST(Bin, RejectsWrongCheckDigit) {
  expectVectors(checkBin, {{"150440000004", "BIN 150440000004: check digit is 4, expected 3"}});
}

TEST(Bin, RejectsImpossibleRegistrationMonth) {
  expectVectors(checkBin, {
                              {"151340000003",
                               "BIN 151340000003: registration month (digits "
                               "3-4) is 13, expected 01 to 12"},
                              {"150040000003",
                               "BIN 150040000003: registration month (digits "
                               "3-4) is 00, expected 01 to 12"},
                          });
}

TEST(Bin, RejectsImpossibleOrganisationKind) {
  expectVectors(checkBin, {
                              {"150430000003",
                               "BIN 150430000003: organisation kind (5th digit) "
                               "is 3, expected 4 to 6"},
                              {"150470000003",
                               "BIN 150470000003: organisation kind (5th digit) "
                               "is 7, expected 4 to 6"},
                          });
}

TEST(Bin, RejectsWrongLengthAndNonDigits) {
  expectVectors(checkBin, {
                              {"15044000000", "BIN 15044000000: has 11 characters, not 12 digits"},
                              {"1504400000-3", "BIN 1504400000-3: character 11 is not a digit"},
                          });
}

// Real IČ of holders in the ERÚ register (shared data, holders file).
TEST(Ico, AcceptsRealNumbers) {
  expectVectors(checkIco, {
                              {"00637076", ""},  // Obec Velký Karlov
                              {"70889953", ""},  // Povodí Vltavy, státní podnik
                              {"63906929", ""},  // Technické služby Humpolec
                          });
}

// 0 0 6 3 7 0 7 x 8..2 = 93, 93 % 11 = 5, (11 - 5) % 10 = 6.
TEST(Ico, RejectsMutatedNumbers) {
  expectVectors(checkIco, {
                              {"00637077", "IČ 00637077: check digit is 7, expected 6"},
                              {"70889952", "IČ 70889952: check digit is 2, expected 3"},
                              {"00673076", "IČ 00673076: check digit is 6, expected 2"},
                          });
}

TEST(Ico, RejectsWrongLengthAndNonDigits) {
  expectVectors(checkIco, {
                              {"637076", "IČ 637076: has 6 characters, not 8 digits"},
                              {"0063707X", "IČ 0063707X: character 8 is not a digit"},
                          });
}

TEST(HolderId, DispatchesOnScheme) {
  EXPECT_TRUE(checkHolderId({IdScheme::kKzIin, "900101300017"}).ok());
  EXPECT_TRUE(checkHolderId({IdScheme::kKzBin, "150440000003"}).ok());
  EXPECT_TRUE(checkHolderId({IdScheme::kCzIco, "00637076"}).ok());
}

TEST(HolderId, AppliesRuleOfItsScheme) {
  Status status = checkHolderId({IdScheme::kCzIco, "900101300017"});

  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message, "IČ 900101300017: has 12 characters, not 8 digits");
}

TEST(HolderId, ReportsSchemeWithoutRuleAsInternal) {
  Status status = checkHolderId({static_cast<IdScheme>(9), "1"});

  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kInternal);
  EXPECT_EQ(status.error().message, "holder id scheme 9 has no check");
}

TEST(HolderId, QuotesInvalidBytesEscaped) {
  Status status = checkIin("90010130\xff\x01z");

  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message, "IIN 90010130\\xFF\\x01z: has 11 characters, not 12 digits");
}

TEST(ReadHolderId, PadsAShortIcoAndChecksIt) {
  auto id = readHolderId(IdScheme::kCzIco, "637076");

  ASSERT_TRUE(id.ok()) << id.error().message;
  EXPECT_EQ(id->value, "00637076");
}

TEST(ReadHolderId, RefusesAWrongCheckDigitAfterPadding) {
  auto id = readHolderId(IdScheme::kCzIco, "637077");

  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.error().code, ErrorCode::kInvalidField);
  EXPECT_EQ(id.error().message, "IČ 00637077: check digit is 7, expected 6");
}

TEST(ReadHolderId, PadsNothingButAnIco) {
  auto id = readHolderId(IdScheme::kKzBin, "40840001231");

  ASSERT_FALSE(id.ok());
  EXPECT_NE(id.error().message.find("40840001231"), std::string::npos) << id.error().message;
}

}  // namespace
}  // namespace licgate::registry
