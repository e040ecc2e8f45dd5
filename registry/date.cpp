#include "registry/date.hpp"

#include <charconv>
#include <cstdio>

namespace licgate::registry {

namespace {

bool parseDigits(std::string_view text, int& out) {
  for (char c : text) {
    if (c < '0' || c > '9') {
      return false;
    }
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

}  // namespace

Result<Date> parseIsoDate(std::string_view text, std::string_view field) {
  auto fail = [&](std::string_view why) {
    return makeError(ErrorCode::kInvalidField,
                     std::string(field) + ": \"" + std::string(text) + "\" " + std::string(why));
  };
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
    return fail("is not a date of the form YYYY-MM-DD");
  }
  int year = 0;
  int month = 0;
  int day = 0;
  if (!parseDigits(text.substr(0, 4), year) || !parseDigits(text.substr(5, 2), month) ||
      !parseDigits(text.substr(8, 2), day)) {
    return fail("is not a date of the form YYYY-MM-DD");
  }
  Date date{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
            std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok()) {
    return fail("is not a day of the calendar");
  }
  return date;
}

std::string formatIsoDate(Date date) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return buffer;
}

Date todayUtc() {
  return Date{std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now())};
}

}  // namespace licgate::registry
