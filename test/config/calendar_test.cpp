// Tests of the calendar loader: the default calendar of Kazakhstan against
// real dates, and one test per kind of problem it reports.
#include "config/calendar.hpp"

#include <gtest/gtest.h>

#include <string>

namespace licgate::config {
namespace {

using registry::Date;
using registry::ErrorCode;
using registry::WorkingCalendar;

Date date(int year, unsigned month, unsigned day) {
  return Date{std::chrono::year{year}, std::chrono::month{month}, std::chrono::day{day}};
}

const std::string kMinimal = R"(
weekend: [saturday, sunday]
holidays:
  - {name: New Year, month: 1, day: 1, carries_over: true}
)";

registry::Result<registry::WorkingCalendarData> parse(const std::string& text) {
  return parseCalendar(text, "calendar.yaml");
}

// The default calendar; a test of it fails, not crashes, when it does not
// load, since an empty calendar (Sundays off) answers the questions wrongly.
WorkingCalendar kazakhstan() {
  auto data = loadCalendarFile(std::string(LICGATE_SOURCE_DIR) + "/config/calendar-kz.yaml");
  EXPECT_TRUE(data.ok()) << data.error().message;
  registry::WorkingCalendarData fallback;
  fallback.weekend = {std::chrono::Sunday};
  return WorkingCalendar(data.ok() ? *data : fallback);
}

TEST(CalendarKz, TakesNauryzAndItsCarryOverOff) {
  WorkingCalendar calendar = kazakhstan();

  for (unsigned day : {21u, 22u, 23u, 25u}) {
    EXPECT_FALSE(calendar.isWorkingDay(date(2024, 3, day))) << "2024-03-" << day;
  }
  EXPECT_TRUE(calendar.isWorkingDay(date(2024, 3, 26)));
}

TEST(CalendarKz, CarriesIndependenceDayFromSaturdayToMonday) {
  WorkingCalendar calendar = kazakhstan();

  EXPECT_FALSE(calendar.isWorkingDay(date(2023, 12, 16)));
  EXPECT_FALSE(calendar.isWorkingDay(date(2023, 12, 18)));
  EXPECT_TRUE(calendar.isWorkingDay(date(2023, 12, 19)));
}

TEST(CalendarKz, KeepsTheFirstOfDecemberOffOnlyUntil2021) {
  WorkingCalendar calendar = kazakhstan();

  EXPECT_FALSE(calendar.isWorkingDay(date(2021, 12, 1)));
  EXPECT_TRUE(calendar.isWorkingDay(date(2022, 12, 1)));
  EXPECT_FALSE(calendar.isWorkingDay(date(2022, 10, 25)));
}

TEST(CalendarKz, TakesAPlainSaturdayOffAndDoesNotCarryKurbanAit) {
  WorkingCalendar calendar = kazakhstan();

  EXPECT_FALSE(calendar.isWorkingDay(date(2024, 4, 13)));
  EXPECT_FALSE(calendar.isWorkingDay(date(2024, 6, 16)));
  EXPECT_TRUE(calendar.isWorkingDay(date(2024, 6, 17)));
  EXPECT_FALSE(calendar.isWorkingDay(date(2023, 6, 28)));
}

TEST(CalendarKz, CountsADeadlineAcrossNauryz) {
  WorkingCalendar calendar = kazakhstan();

  Date deadline = calendar.addWorkingDays(date(2024, 3, 18), 10);

  EXPECT_EQ(registry::formatIsoDate(deadline), "2024-04-04");
  EXPECT_EQ(calendar.workingDaysBetween(date(2024, 3, 20), deadline), 8);
}

TEST(CalendarLoader, ReadsEveryPartOfTheFile) {
  auto data = parse(kMinimal + R"(
one_off:
  - {name: Kurban Ait, date: 2030-05-13, carries_over: false}
decrees:
  - year: 2030
    working_days: [2030-01-05]
    days_off: [2030-01-04]
)");

  ASSERT_TRUE(data.ok()) << data.error().message;
  EXPECT_EQ(data->weekend.size(), 2u);
  ASSERT_EQ(data->holidays.size(), 1u);
  EXPECT_TRUE(data->holidays[0].carries_over);
  EXPECT_FALSE(data->holidays[0].from_year);
  ASSERT_EQ(data->one_off.size(), 1u);
  EXPECT_EQ(data->one_off[0].date, date(2030, 5, 13));
  ASSERT_EQ(data->transfers.size(), 2u);
  EXPECT_EQ(data->transfers[0].kind, registry::TransferKind::kWorkingDay);
  EXPECT_EQ(data->transfers[1].date, date(2030, 1, 4));
}

TEST(CalendarLoader, ReportsEachBadValueWithItsKeyPath) {
  struct Case {
    std::string text;
    std::string message;
  };
  const std::string holidays = "weekend: [sunday]\nholidays:\n  - ";
  const Case cases[] = {
      {holidays + "{name: X, month: 13, day: 1, carries_over: true}",
       "holidays[0].month: 13 is not a month (1..12)"},
      {holidays + "{name: X, month: 4, day: 31, carries_over: true}",
       "holidays[0].day: 31 is not a day of that month (1..30)"},
      {holidays + "{name: X, month: 4, day: 1, from_year: 2022, until_year: 2021, "
                  "carries_over: true}",
       "holidays[0].until_year: 2021 is before from_year (2022)"},
      {holidays + "{name: X, month: 4, day: 1, from_year: 22, carries_over: true}",
       "holidays[0].from_year: 22 is not a year (1900..2999)"},
      {holidays + "{name: X, month: 4, day: 1}", "holidays[0].carries_over: is required"},
      {holidays + "{name: X, month: 4, day: 1, carries_over: yes please}",
       "holidays[0].carries_over: \"yes please\" is not true or false"},
      {holidays + "{name: X, month: 4, day: 1, carries: true, carries_over: true}",
       "holidays[0].carries: unknown key (known: name, month, day, from_year, until_year, "
       "carries_over)"},
      {kMinimal + "one_off:\n  - {name: K, date: 2024-02-30, carries_over: false}",
       "one_off[0].date: \"2024-02-30\" is not a day of the calendar"},
      {kMinimal + "one_off:\n  - {name: K, date: 16.06.2024, carries_over: false}",
       "one_off[0].date: \"16.06.2024\" is not a date of the form YYYY-MM-DD"},
      {kMinimal + "decrees:\n  - {year: 2024, days_off: [2025-01-03]}",
       "decrees[0].days_off[0]: \"2025-01-03\" is not in year 2024"},
      {kMinimal + "decrees:\n  - {year: 2024, working_days: [2024-01-06], days_off: [2024-01-06]}",
       "decrees[0].days_off[0]: \"2024-01-06\" is given twice in decrees[0]"},
      {"weekend: [saturday, sonntag]\nholidays: []",
       "weekend[1]: \"sonntag\" is not one of sunday, monday, tuesday, wednesday, thursday, "
       "friday, saturday"},
      {"weekend: [sunday, sunday]\nholidays: []", "weekend[1]: \"sunday\" given twice"},
      {kMinimal + "holiday: []",
       "holiday: unknown key (known: weekend, holidays, one_off, decrees)"},
      {"holidays: []", "weekend: is required"},
  };

  for (const Case& each : cases) {
    auto data = parse(each.text);

    ASSERT_FALSE(data.ok()) << each.text;
    EXPECT_EQ(data.error().code, ErrorCode::kInvalidField);
    EXPECT_EQ(data.error().message, "calendar.yaml: " + each.message) << each.text;
  }
}

TEST(CalendarLoader, RefusesAWeekWithoutAWorkingDay) {
  auto data = parse(
      "weekend: [monday, tuesday, wednesday, thursday, friday, saturday, sunday]\nholidays: []");

  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.error().message,
            "calendar.yaml: weekend: lists every day of the week: no day would be a working day");
}

TEST(CalendarLoader, RejectsTextThatIsNotYaml) {
  auto data = parse("weekend: [saturday\n");

  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.error().code, ErrorCode::kMalformed);
  EXPECT_TRUE(data.error().message.starts_with("calendar.yaml:")) << data.error().message;
}

TEST(CalendarLoader, ReportsAFileThatCannotBeRead) {
  auto data = loadCalendarFile(std::string(LICGATE_SOURCE_DIR) + "/config");

  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace licgate::config
