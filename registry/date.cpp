#include "registry/date.hpp"

#include <charconv>
#include <cstdio>
#include <ctime>

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

// Written digit by digit: every journal payload and licence row formats
// several dates, and snprintf's format parsing cost more than the rest of
// the encoding. Values outside four-digit years and two-digit months and
// days (never in a valid date) go through snprintf, which widens the field.
std::string formatIsoDate(Date date) {
  int year = static_cast<int>(date.year());
  auto month = static_cast<unsigned>(date.month());
  auto day = static_cast<unsigned>(date.day());
  if (year >= 0 && year <= 9999 && month <= 99 && day <= 99) {
    std::string out(10, '-');
    auto put = [&out](std::size_t at, unsigned value, std::size_t width) {
      for (std::size_t i = width; i > 0; --i) {
        out[at + i - 1] = static_cast<char>('0' + value % 10);
        value /= 10;
      }
    };
    put(0, static_cast<unsigned>(year), 4);
    put(5, month, 2);
    put(8, day, 2);
    return out;
  }
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return buffer;
}

Date todayUtc() {
  return Date{std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now())};
}

std::string formatTimestamp(std::chrono::system_clock::time_point time) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

}  // namespace licgate::registry
