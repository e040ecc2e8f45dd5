// Check-digit and plausibility rules of holder identifiers (KZ IIN/BIN, CZ IČ).
//
// A wrong identifier is the most common data-entry fault in a licence record,
// and a holder found under the wrong identifier is a licence nobody can look
// up, so every identifier is checked before it reaches the register.
#include "registry/identifiers.hpp"

#include <array>
#include <chrono>
#include <optional>
#include <string>

#include "registry/text.hpp"

namespace licgate::registry {

namespace {

Error invalid(std::string_view label, std::string_view value, std::string_view why) {
  return makeError(ErrorCode::kInvalidField,
                   std::string(label) + " " + quoteForMessage(value) + ": " + std::string(why));
}

// Checks that `value` is exactly `length` ASCII digits.
Status checkDigits(std::string_view label, std::string_view value, std::size_t length) {
  if (value.size() != length) {
    return invalid(label, value,
                   "has " + std::to_string(value.size()) + " characters, not " +
                       std::to_string(length) + " digits");
  }
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] < '0' || value[i] > '9') {
      return invalid(label, value, "character " + std::to_string(i + 1) + " is not a digit");
    }
  }
  return {};
}

int digitAt(std::string_view value, std::size_t index) {
  return value[index] - '0';
}

int twoDigitsAt(std::string_view value, std::size_t index) {
  return digitAt(value, index) * 10 + digitAt(value, index + 1);
}

// The KZ two-pass mod-11 rule over the first 11 digits. Empty when both
// passes give 10: no check digit can be right, so the number is invalid.
std::optional<int> computeKzCheckDigit(std::string_view value) {
  constexpr std::array<int, 11> kFirstWeights{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  constexpr std::array<int, 11> kSecondWeights{3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2};
  for (const auto& weights : {kFirstWeights, kSecondWeights}) {
    int sum = 0;
    for (std::size_t i = 0; i < weights.size(); ++i) {
      sum += digitAt(value, i) * weights[i];
    }
    if (sum % 11 != 10) {
      return sum % 11;
    }
  }
  return std::nullopt;
}

Status checkKzCheckDigit(std::string_view label, std::string_view value) {
  auto expected = computeKzCheckDigit(value);
  if (!expected) {
    return invalid(label, value,
                   "both passes of the mod-11 check give 10, so no check digit is valid");
  }
  int actual = digitAt(value, 11);
  if (actual != *expected) {
    return invalid(
        label, value,
        "check digit is " + std::to_string(actual) + ", expected " + std::to_string(*expected));
  }
  return {};
}

// Digit 7 of an IIN: 1-2 born in the 19th century, 3-4 in the 20th, 5-6 in
// the 21st (odd male, even female). Empty for the digits no one is given.
std::optional<int> centuryOfIin(int digit) {
  if (digit < 1 || digit > 6) {
    return std::nullopt;
  }
  return 1800 + (digit - 1) / 2 * 100;
}

Status checkIinBirthDate(std::string_view value) {
  auto century = centuryOfIin(digitAt(value, 6));
  if (!century) {
    return invalid(
        "IIN", value,
        "century digit (7th) is " + std::to_string(digitAt(value, 6)) + ", expected 1 to 6");
  }
  std::chrono::year_month_day birth{
      std::chrono::year{*century + twoDigitsAt(value, 0)},
      std::chrono::month{static_cast<unsigned>(twoDigitsAt(value, 2))},
      std::chrono::day{static_cast<unsigned>(twoDigitsAt(value, 4))}};
  if (!birth.ok()) {
    return invalid("IIN", value,
                   "birth date " + std::string(value.substr(0, 6)) + " (YYMMDD) is not a day of " +
                       std::to_string(*century + twoDigitsAt(value, 0)));
  }
  return {};
}

Status checkBinPrefix(std::string_view value) {
  int month = twoDigitsAt(value, 2);
  if (month < 1 || month > 12) {
    return invalid("BIN", value,
                   "registration month (digits 3-4) is " + std::string(value.substr(2, 2)) +
                       ", expected 01 to 12");
  }
  int kind = digitAt(value, 4);
  if (kind < 4 || kind > 6) {
    return invalid(
        "BIN", value,
        "organisation kind (5th digit) is " + std::to_string(kind) + ", expected 4 to 6");
  }
  return {};
}

}  // namespace

Status checkIin(std::string_view value) {
  LICGATE_RETURN_IF_ERROR(checkDigits("IIN", value, 12));
  LICGATE_RETURN_IF_ERROR(checkIinBirthDate(value));
  return checkKzCheckDigit("IIN", value);
}

Status checkBin(std::string_view value) {
  LICGATE_RETURN_IF_ERROR(checkDigits("BIN", value, 12));
  LICGATE_RETURN_IF_ERROR(checkBinPrefix(value));
  return checkKzCheckDigit("BIN", value);
}

// Czech IČ: weights 8..2 over the first seven digits; the remainder 0 gives
// 1 and 1 gives 0, which (11 - r) % 10 covers in one expression.
Status checkIco(std::string_view value) {
  LICGATE_RETURN_IF_ERROR(checkDigits("IČ", value, 8));
  int sum = 0;
  for (std::size_t i = 0; i < 7; ++i) {
    sum += digitAt(value, i) * static_cast<int>(8 - i);
  }
  int expected = (11 - sum % 11) % 10;
  int actual = digitAt(value, 7);
  if (actual != expected) {
    return invalid(
        "IČ", value,
        "check digit is " + std::to_string(actual) + ", expected " + std::to_string(expected));
  }
  return {};
}

Status checkHolderId(const HolderId& id) {
  switch (id.scheme) {
    case IdScheme::kKzIin:
      return checkIin(id.value);
    case IdScheme::kKzBin:
      return checkBin(id.value);
    case IdScheme::kCzIco:
      return checkIco(id.value);
  }
  return makeError(
      ErrorCode::kInternal,
      "holder id scheme " + std::to_string(static_cast<int>(id.scheme)) + " has no check");
}

Result<HolderId> readHolderId(IdScheme scheme, std::string value) {
  bool digits = !value.empty() && value.find_first_not_of("0123456789") == std::string::npos;
  if (scheme == IdScheme::kCzIco && digits && value.size() < 8) {
    value.insert(0, 8 - value.size(), '0');
  }
  HolderId id{scheme, std::move(value)};
  LICGATE_RETURN_IF_ERROR(checkHolderId(id));
  return id;
}

}  // namespace licgate::registry
