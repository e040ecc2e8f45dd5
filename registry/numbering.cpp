// Formats and shape checks of licence and annex numbers, and of the parts
// that go into export/import numbers (goods list, country, seal code).
//
// Numbers are read by people and typed into other state systems, so each has
// exactly one spelling: digits, upper-case Latin letters, fixed widths. A
// letter from another alphabet that looks Latin (Cyrillic К in "КZ") would
// make two numbers that print alike and compare unequal, so it is named in
// the error rather than reported as a generic bad character.
#include "registry/numbering.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <optional>
#include <string>

#include "registry/text.hpp"

namespace licgate::registry {

namespace {

struct LookAlike {
  char32_t code_point;
  char latin;
  std::string_view name;
};

// Letters of the Cyrillic (including Kazakh) and Greek alphabets that print
// like a Latin letter in common fonts.
constexpr std::array<LookAlike, 48> kLookAlikes{{
    {U'\u0391', 'A', "GREEK CAPITAL LETTER ALPHA"},
    {U'\u0392', 'B', "GREEK CAPITAL LETTER BETA"},
    {U'\u0395', 'E', "GREEK CAPITAL LETTER EPSILON"},
    {U'\u0396', 'Z', "GREEK CAPITAL LETTER ZETA"},
    {U'\u0397', 'H', "GREEK CAPITAL LETTER ETA"},
    {U'\u0399', 'I', "GREEK CAPITAL LETTER IOTA"},
    {U'\u039A', 'K', "GREEK CAPITAL LETTER KAPPA"},
    {U'\u039C', 'M', "GREEK CAPITAL LETTER MU"},
    {U'\u039D', 'N', "GREEK CAPITAL LETTER NU"},
    {U'\u039F', 'O', "GREEK CAPITAL LETTER OMICRON"},
    {U'\u03A1', 'P', "GREEK CAPITAL LETTER RHO"},
    {U'\u03A4', 'T', "GREEK CAPITAL LETTER TAU"},
    {U'\u03A5', 'Y', "GREEK CAPITAL LETTER UPSILON"},
    {U'\u03A7', 'X', "GREEK CAPITAL LETTER CHI"},
    {U'\u03BF', 'o', "GREEK SMALL LETTER OMICRON"},
    {U'\u0405', 'S', "CYRILLIC CAPITAL LETTER DZE"},
    {U'\u0406', 'I', "CYRILLIC CAPITAL LETTER BYELORUSSIAN-UKRAINIAN I"},
    {U'\u0408', 'J', "CYRILLIC CAPITAL LETTER JE"},
    {U'\u0410', 'A', "CYRILLIC CAPITAL LETTER A"},
    {U'\u0412', 'B', "CYRILLIC CAPITAL LETTER VE"},
    {U'\u0415', 'E', "CYRILLIC CAPITAL LETTER IE"},
    {U'\u041A', 'K', "CYRILLIC CAPITAL LETTER KA"},
    {U'\u041C', 'M', "CYRILLIC CAPITAL LETTER EM"},
    {U'\u041D', 'H', "CYRILLIC CAPITAL LETTER EN"},
    {U'\u041E', 'O', "CYRILLIC CAPITAL LETTER O"},
    {U'\u0420', 'P', "CYRILLIC CAPITAL LETTER ER"},
    {U'\u0421', 'C', "CYRILLIC CAPITAL LETTER ES"},
    {U'\u0422', 'T', "CYRILLIC CAPITAL LETTER TE"},
    {U'\u0423', 'Y', "CYRILLIC CAPITAL LETTER U"},
    {U'\u0425', 'X', "CYRILLIC CAPITAL LETTER HA"},
    {U'\u0430', 'a', "CYRILLIC SMALL LETTER A"},
    {U'\u0435', 'e', "CYRILLIC SMALL LETTER IE"},
    {U'\u043E', 'o', "CYRILLIC SMALL LETTER O"},
    {U'\u0440', 'p', "CYRILLIC SMALL LETTER ER"},
    {U'\u0441', 'c', "CYRILLIC SMALL LETTER ES"},
    {U'\u0443', 'y', "CYRILLIC SMALL LETTER U"},
    {U'\u0445', 'x', "CYRILLIC SMALL LETTER HA"},
    {U'\u0455', 's', "CYRILLIC SMALL LETTER DZE"},
    {U'\u0456', 'i', "CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I"},
    {U'\u0458', 'j', "CYRILLIC SMALL LETTER JE"},
    {U'\u04AE', 'Y', "CYRILLIC CAPITAL LETTER STRAIGHT U"},
    {U'\u04BA', 'H', "CYRILLIC CAPITAL LETTER SHHA"},
    {U'\u04BB', 'h', "CYRILLIC SMALL LETTER SHHA"},
    {U'\u04C0', 'I', "CYRILLIC LETTER PALOCHKA"},
    {U'\u04CF', 'l', "CYRILLIC SMALL LETTER PALOCHKA"},
    {U'\u051A', 'Q', "CYRILLIC CAPITAL LETTER QA"},
    {U'\u051C', 'W', "CYRILLIC CAPITAL LETTER WE"},
    {U'\u051D', 'w', "CYRILLIC SMALL LETTER WE"},
}};

Error invalid(std::string_view what, std::string_view value, std::string_view why) {
  return makeError(ErrorCode::kInvalidField,
                   std::string(what) + " \"" + quoteForMessage(value) + "\" " + std::string(why));
}

std::string formatCodePoint(char32_t code_point) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "U+%04X", static_cast<unsigned>(code_point));
  return buffer;
}

std::string describeForeignLetter(char32_t code_point) {
  auto found = std::find_if(kLookAlikes.begin(), kLookAlikes.end(),
                            [&](const LookAlike& l) { return l.code_point == code_point; });
  if (found != kLookAlikes.end()) {
    return "contains " + formatCodePoint(code_point) + " " + std::string(found->name) +
           ", a look-alike of the Latin letter " + std::string(1, found->latin) +
           " from another alphabet";
  }
  if (code_point >= U'\uFF21' && code_point <= U'\uFF3A') {
    std::string latin(1, static_cast<char>('A' + (code_point - U'\uFF21')));
    return "contains " + formatCodePoint(code_point) + " FULLWIDTH LATIN CAPITAL LETTER " + latin +
           ", a look-alike of the Latin letter " + latin + " in full-width form";
  }
  return "contains " + formatCodePoint(code_point) + ", which is not an ASCII character";
}

// The first non-ASCII character of `text`, described for an error message;
// empty when `text` is all ASCII.
std::optional<std::string> findNonAscii(std::string_view text) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto code_point = decodeUtf8(text, pos);
    if (!code_point) {
      return std::string("is not valid UTF-8");
    }
    if (*code_point >= 0x80) {
      return describeForeignLetter(*code_point);
    }
  }
  return std::nullopt;
}

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

bool isUpperLatin(char c) {
  return c >= 'A' && c <= 'Z';
}

bool areDigits(std::string_view text) {
  return std::all_of(text.begin(), text.end(), isDigit);
}

// A sequence part: all digits, and not all zeros, since sequences start at 1.
Status checkSequencePart(std::string_view what, std::string_view number, std::string_view part) {
  if (!areDigits(part)) {
    return invalid(what, number, "has a sequence \"" + std::string(part) + "\" that is not digits");
  }
  if (part.find_first_not_of('0') == std::string_view::npos) {
    return invalid(what, number, "has sequence 0; sequences start at 1");
  }
  return {};
}

Status checkDigitNumber(std::string_view what, std::string_view number, std::size_t digits) {
  if (auto foreign = findNonAscii(number)) {
    return invalid(what, number, *foreign);
  }
  if (number.size() != digits || !areDigits(number)) {
    std::size_t count = std::count_if(number.begin(), number.end(), isDigit);
    if (count == number.size()) {
      return invalid(what, number,
                     "has " + std::to_string(count) + " digits, not " + std::to_string(digits));
    }
    return invalid(what, number, "is not " + std::to_string(digits) + " digits");
  }
  return {};
}

}  // namespace

std::string formatActivityNumber(int year, std::uint32_t sequence) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%02d%06u", year % 100, sequence);
  return buffer;
}

std::string formatAnnexNumber(std::uint32_t sequence) {
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "%03u", sequence);
  return buffer;
}

std::string formatExportImportNumber(std::string_view goods_list, std::string_view country,
                                     int year, std::string_view seal_code, std::uint32_t sequence) {
  char tail[16];
  std::snprintf(tail, sizeof tail, "%06u", sequence);
  char year_part[4];
  std::snprintf(year_part, sizeof year_part, "%02d", year % 100);
  return std::string(goods_list) + std::string(country) + year_part + std::string(seal_code) + tail;
}

Status checkActivityNumber(std::string_view number) {
  LICGATE_RETURN_IF_ERROR(checkDigitNumber("licence number", number, 8));
  return checkSequencePart("licence number", number, number.substr(2));
}

Status checkAnnexNumber(std::string_view number) {
  LICGATE_RETURN_IF_ERROR(checkDigitNumber("annex number", number, 3));
  return checkSequencePart("annex number", number, number);
}

// GGG CC YY SSS NNNNNN: each part is checked by its own rule so the message
// names the part that is wrong.
Status checkExportImportNumber(std::string_view number) {
  constexpr std::string_view kWhat = "export/import licence number";
  if (auto foreign = findNonAscii(number)) {
    return invalid(kWhat, number, *foreign);
  }
  if (number.size() != 16) {
    return invalid(
        kWhat, number,
        "has " + std::to_string(number.size()) + " characters, not 16 (GGGCCYYSSSNNNNNN)");
  }
  auto in_number = [&](Status status) -> Status {
    if (status.ok()) {
      return status;
    }
    return invalid(kWhat, number, "has a bad part: " + status.error().message);
  };
  LICGATE_RETURN_IF_ERROR(in_number(checkGoodsList(number.substr(0, 3))));
  LICGATE_RETURN_IF_ERROR(in_number(checkCountryCode(number.substr(3, 2))));
  if (!areDigits(number.substr(5, 2))) {
    return invalid(kWhat, number,
                   "has a year \"" + std::string(number.substr(5, 2)) + "\" that is not 2 digits");
  }
  LICGATE_RETURN_IF_ERROR(in_number(checkSealCode(number.substr(7, 3))));
  return checkSequencePart(kWhat, number, number.substr(10));
}

Status checkCountryCode(std::string_view code) {
  constexpr std::string_view kWhat = "country code";
  if (auto foreign = findNonAscii(code)) {
    return invalid(kWhat, code, *foreign);
  }
  if (code.size() != 2) {
    return invalid(
        kWhat, code,
        "has " + std::to_string(code.size()) + " characters, not 2 (ISO 3166-1 alpha-2)");
  }
  if (!std::all_of(code.begin(), code.end(), isUpperLatin)) {
    return invalid(kWhat, code, "is not 2 upper-case Latin letters (ISO 3166-1 alpha-2)");
  }
  return {};
}

Status checkGoodsList(std::string_view goods_list) {
  return checkDigitNumber("goods list number", goods_list, 3);
}

// Upper case only, so that one seal code has one spelling inside numbers.
Status checkSealCode(std::string_view seal_code) {
  constexpr std::string_view kWhat = "seal code";
  if (auto foreign = findNonAscii(seal_code)) {
    return invalid(kWhat, seal_code, *foreign);
  }
  bool shaped =
      seal_code.size() == 3 && std::all_of(seal_code.begin(), seal_code.end(),
                                           [](char c) { return isDigit(c) || isUpperLatin(c); });
  if (!shaped) {
    return invalid(kWhat, seal_code, "is not 3 upper-case Latin letters or digits");
  }
  return {};
}

// Printable ASCII only, without spaces at either end: a legacy number is
// compared byte for byte, and invisible differences would split one licence
// into two.
Status checkLegacyNumber(std::string_view number) {
  constexpr std::string_view kWhat = "legacy licence number";
  if (number.empty() || number.size() > 32) {
    return invalid(kWhat, number,
                   "has " + std::to_string(number.size()) + " characters, not 1 to 32");
  }
  if (auto foreign = findNonAscii(number)) {
    return invalid(kWhat, number, *foreign);
  }
  bool printable =
      std::all_of(number.begin(), number.end(), [](char c) { return c >= 0x20 && c <= 0x7E; });
  if (!printable) {
    return invalid(kWhat, number, "contains a control character");
  }
  if (number.front() == ' ' || number.back() == ' ') {
    return invalid(kWhat, number, "starts or ends with a space");
  }
  return {};
}

}  // namespace licgate::registry
