// Calendar dates of the register (issue, validity, suspension, termination).
//
// The register records civil dates, not instants: a licence is valid "from
// 2001-07-01", whatever the time zone of the reader.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "registry/result.hpp"

namespace licgate::registry {

using Date = std::chrono::year_month_day;

// Parses "YYYY-MM-DD" (ISO 8601 calendar date, extended format). Returns
// kInvalidField naming `field` when the text is not such a date or the date
// does not exist (2021-02-30).
Result<Date> parseIsoDate(std::string_view text, std::string_view field);

// Formats as "YYYY-MM-DD".
std::string formatIsoDate(Date date);

// UTC, ISO 8601 with seconds (an xsd:dateTime): "2026-01-31T12:00:05Z".
std::string formatTimestamp(std::chrono::system_clock::time_point time);

// Today's date in UTC, for defaults; tests pass dates explicitly instead.
Date todayUtc();

}  // namespace licgate::registry
