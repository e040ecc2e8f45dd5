// Licence and annex numbers.
//
// | document              | format              | parts                                |
// |-----------------------|---------------------|--------------------------------------|
// | licence (activity)    | YYNNNNNN            | year of issue, sequence in that year |
// | annex                 | NNN                 | sequence within the licence          |
// | export/import licence | GGGCCYYSSSNNNNNN    | goods list, country alpha-2, year,   |
// |                       |                     | seal code, sequence in that year     |
//
// The store allocates the sequences inside the transaction that records the
// issue (registry/store.hpp); these functions only format and check.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "registry/result.hpp"

namespace licgate::registry {

// Sequence limits: over them the year (or licence) has run out of numbers
// and issuing fails with kConflict instead of producing a longer number.
inline constexpr std::uint32_t kMaxActivitySequence = 999'999;
inline constexpr std::uint32_t kMaxAnnexSequence = 999;
inline constexpr std::uint32_t kMaxExportImportSequence = 999'999;

// year: the full year of issue (2026 gives "26"); sequence from 1.
std::string formatActivityNumber(int year, std::uint32_t sequence);
std::string formatAnnexNumber(std::uint32_t sequence);
std::string formatExportImportNumber(std::string_view goods_list, std::string_view country,
                                     int year, std::string_view seal_code, std::uint32_t sequence);

// Shape checks: kInvalidField with the reason ("licence number 2100001 has 7
// digits, not 8"). checkCountryCode rejects look-alike letters from other
// alphabets (Cyrillic "КZ") with a message that says so.
Status checkActivityNumber(std::string_view number);
Status checkAnnexNumber(std::string_view number);
Status checkExportImportNumber(std::string_view number);
Status checkCountryCode(std::string_view code);
Status checkGoodsList(std::string_view goods_list);  // 3 digits
Status checkSealCode(std::string_view seal_code);    // 3 Latin letters or digits

// A legacy number is kept as given: 1 to 32 printable ASCII characters.
Status checkLegacyNumber(std::string_view number);

}  // namespace licgate::registry
