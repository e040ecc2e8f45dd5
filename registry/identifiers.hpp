// Holder identifiers and their check digits.
//
// KZ IIN/BIN: 12 digits. Check digit (the 12th) by the two-pass mod-11 rule:
// sum of digit[i] * weight[i] over the first 11 digits with weights 1..11,
// modulo 11; when that is 10, again with weights 3..11,1,2; a second 10 makes
// the number invalid. IIN: digits 1-6 are the birth date YYMMDD, digit 7 the
// century and sex (1-6). BIN: digits 1-4 are the registration YYMM, digit 5
// the kind of organisation (4-6).
// CZ IČ: 8 digits, weights 8..2 over the first 7, c = (11 - sum % 11) % 10.
#pragma once

#include <string>
#include <string_view>

#include "registry/model.hpp"
#include "registry/result.hpp"

namespace licgate::registry {

// Each returns kInvalidField naming the value and the rule it breaks
// ("IIN 900101300015: check digit is 5, expected 4").
Status checkIin(std::string_view value);
Status checkBin(std::string_view value);
Status checkIco(std::string_view value);

// Dispatches on the scheme.
Status checkHolderId(const HolderId& id);

// An identifier as a person types it into a search: a Czech IČ of fewer than
// 8 digits is one without its leading zeros (as the ERÚ register writes it)
// and is padded; then the scheme's rule is checked, with its errors.
Result<HolderId> readHolderId(IdScheme scheme, std::string value);

}  // namespace licgate::registry
