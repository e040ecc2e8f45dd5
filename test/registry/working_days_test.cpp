// Tests of the working-day calendar: each layer (weekends and holidays,
// carry-over, decree transfers) and the counting of working days, on a
// calendar shaped like Kazakhstan's (config/calendar-kz.yaml).
#include "registry/working_days.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace licgate::registry {
namespace {

using std::chrono::Saturday;
using std::chrono::Sunday;

Date date(int year, unsigned month, unsigned day) {
  return Date{std::chrono::year{year}, std::chrono::month{month}, std::chrono::day{day}};
}

RecurringHoliday holiday(unsigned month, unsigned day, bool carries_over,
                         std::optional<int> from_year = std::nullopt,
                         std::optional<int> until_year = std::nullopt) {
  return RecurringHoliday{"", month, day, from_year, until_year, carries_over};
}

WorkingCalendarData kazakhstanLike() {
  WorkingCalendarData data;
  data.weekend = {Saturday, Sunday};
  data.holidays = {
      holiday(1, 1, true),         holiday(1, 2, true),
      holiday(1, 7, false),        holiday(3, 8, true),
      holiday(3, 21, true),        holiday(3, 22, true),
      holiday(3, 23, true),        holiday(5, 1, true),
      holiday(10, 25, true, 2022), holiday(12, 1, true, 2012, 2021),
      holiday(12, 16, true),       holiday(12, 17, true, std::nullopt, 2021),
  };
  data.one_off = {{"Kurban Ait", date(2024, 6, 16), false}};
  return data;
}

TEST(WorkingCalendar, TakesSaturdayAndSundayOff) {
  WorkingCalendar calendar(kazakhstanLike());

  EXPECT_FALSE(calendar.isWorkingDay(date(2024, 4, 13)));
  EXPECT_FALSE(calendar.isWorkingDay(date(2024, 4, 14)));
  EXPECT_TRUE(calendar.isWorkingDay(date(2024, 4, 15)));
}

TEST(WorkingCalendar, KeepsAHolidayOnlyInTheYearsItApplies) {
  WorkingCalendar calendar(kazakhstanLike());

  EXPECT_FALSE(calendar.isWorkingDay(date(2021, 12, 1)));
  EXPECT_TRUE(calendar.isWorkingDay(date(2022, 12, 1)));
  EXPECT_TRUE(calendar.isWorkingDay(date(2021, 10, 25)));
  EXPECT_FALSE(calendar.isWorkingDay(date(2022, 10, 25)));
}

TEST(WorkingCalendar, CarriesASaturdayHolidayToMonday) {
  WorkingCalendar calendar(kazakhstanLike());

  EXPECT_FALSE(calendar.isWorkingDay(date(2023, 12, 18)));
  EXPECT_TRUE(calendar.isWorkingDay(date(2023, 12, 19)));
}

TEST(WorkingCalendar, CarriesTheLastDayOfAHolidaySpanPastTheWeekend) {
  WorkingCalendar calendar(kazakhstanLike());

  for (unsigned day : {21u, 22u, 23u, 24u, 25u}) {
    EXPECT_FALSE(calendar.isWorkingDay(date(2024, 3, day))) << "2024-03-" << day;
  }
  EXPECT_TRUE(calendar.isWorkingDay(date(2024, 3, 26)));
}

TEST(WorkingCalendar, GivesTwoWeekendHolidaysADayEach) {
  WorkingCalendar calendar(kazakhstanLike());

  EXPECT_FALSE(calendar.isWorkingDay(date(2022, 1, 3)));
  EXPECT_FALSE(calendar.isWorkingDay(date(2022, 1, 4)));
  EXPECT_TRUE(calendar.isWorkingDay(date(2022, 1, 5)));
  EXPECT_FALSE(calendar.isWorkingDay(date(2020, 3, 24)));
  EXPECT_FALSE(calendar.isWorkingDay(date(2020, 3, 25)));
  EXPECT_TRUE(calendar.isWorkingDay(date(2020, 3, 26)));
}

TEST(WorkingCalendar, CarriesPastADayThatIsAHolidayAnyway) {
  WorkingCalendar calendar(kazakhstanLike());

  EXPECT_FALSE(calendar.isWorkingDay(date(2023, 1, 2)));
  EXPECT_FALSE(calendar.isWorkingDay(date(2023, 1, 3)));
  EXPECT_TRUE(calendar.isWorkingDay(date(2023, 1, 4)));
}

TEST(WorkingCalendar, DoesNotCarryAHolidayThatDoesNotCarryOver) {
  WorkingCalendar calendar(kazakhstanLike());

  EXPECT_TRUE(calendar.isWorkingDay(date(2023, 1, 9)));
  EXPECT_FALSE(calendar.isWorkingDay(date(2024, 6, 16)));
  EXPECT_TRUE(calendar.isWorkingDay(date(2024, 6, 17)));
}

TEST(WorkingCalendar, CarriesAHolidayIntoTheNextYear) {
  auto data = kazakhstanLike();
  data.holidays.push_back(holiday(12, 31, true));

  WorkingCalendar calendar(std::move(data));

  EXPECT_FALSE(calendar.isWorkingDay(date(2023, 1, 3)));
  EXPECT_FALSE(calendar.isWorkingDay(date(2023, 1, 4)));
  EXPECT_TRUE(calendar.isWorkingDay(date(2023, 1, 5)));
}

TEST(WorkingCalendar, LetsTheDecreeOverrideWeekendsHolidaysAndCarryOver) {
  auto data = kazakhstanLike();
  data.transfers = {{date(2024, 3, 30), TransferKind::kWorkingDay},
                    {date(2024, 3, 25), TransferKind::kWorkingDay},
                    {date(2024, 3, 29), TransferKind::kDayOff}};

  WorkingCalendar calendar(std::move(data));

  EXPECT_TRUE(calendar.isWorkingDay(date(2024, 3, 30)));
  EXPECT_TRUE(calendar.isWorkingDay(date(2024, 3, 25)));
  EXPECT_FALSE(calendar.isWorkingDay(date(2024, 3, 29)));
}

TEST(WorkingCalendar, KeepsTwentyNinthOfFebruaryInLeapYearsOnly) {
  auto data = kazakhstanLike();
  data.holidays.push_back(holiday(2, 29, false));

  WorkingCalendar calendar(std::move(data));

  EXPECT_FALSE(calendar.isWorkingDay(date(2024, 2, 29)));
  EXPECT_TRUE(calendar.isWorkingDay(date(2023, 2, 28)));
  EXPECT_TRUE(calendar.isWorkingDay(date(2023, 3, 1)));
}

TEST(WorkingCalendar, RefusesAWeekWithoutAWorkingDay) {
  WorkingCalendarData data;
  for (unsigned day = 0; day < 7; ++day) {
    data.weekend.push_back(std::chrono::weekday{day});
  }

  EXPECT_THROW(WorkingCalendar{std::move(data)}, std::invalid_argument);
}

TEST(AddWorkingDays, CountsFromTheDayAfterTheStart) {
  WorkingCalendar calendar(kazakhstanLike());
  struct Case {
    Date start;
    int n;
    Date expected;
  };
  const Case cases[] = {
      {date(2024, 4, 12), 0, date(2024, 4, 12)},   // Friday, nothing added
      {date(2024, 4, 12), 1, date(2024, 4, 15)},   // Friday -> Monday
      {date(2024, 4, 13), 1, date(2024, 4, 15)},   // Saturday -> Monday
      {date(2024, 4, 15), 1, date(2024, 4, 16)},   // Monday -> Tuesday
      {date(2024, 4, 15), 10, date(2024, 4, 29)},  // two weeks
  };

  for (const Case& each : cases) {
    EXPECT_EQ(calendar.addWorkingDays(each.start, each.n), each.expected)
        << formatIsoDate(each.start) << " + " << each.n;
  }
}

TEST(AddWorkingDays, SkipsTheNauryzHolidaysAndTheirCarryOver) {
  WorkingCalendar calendar(kazakhstanLike());

  EXPECT_EQ(calendar.addWorkingDays(date(2024, 3, 20), 1), date(2024, 3, 26));
  EXPECT_EQ(calendar.addWorkingDays(date(2024, 3, 18), 10), date(2024, 4, 4));
}

TEST(AddWorkingDays, CountsBackwardsForANegativeNumber) {
  WorkingCalendar calendar(kazakhstanLike());

  EXPECT_EQ(calendar.addWorkingDays(date(2024, 3, 26), -1), date(2024, 3, 20));
  EXPECT_EQ(calendar.addWorkingDays(date(2024, 3, 24), -2), date(2024, 3, 19));
}

TEST(WorkingDaysBetween, CountsTheEndAndNotTheStart) {
  WorkingCalendar calendar(kazakhstanLike());

  EXPECT_EQ(calendar.workingDaysBetween(date(2024, 3, 20), date(2024, 3, 20)), 0);
  EXPECT_EQ(calendar.workingDaysBetween(date(2024, 3, 20), date(2024, 3, 26)), 1);
  EXPECT_EQ(calendar.workingDaysBetween(date(2024, 3, 19), date(2024, 3, 25)), 1);
}

TEST(WorkingDaysBetween, IsNegativeForADeadlineAlreadyPassed) {
  WorkingCalendar calendar(kazakhstanLike());

  EXPECT_EQ(calendar.workingDaysBetween(date(2024, 3, 26), date(2024, 3, 20)), -1);
}

TEST(WorkingDaysBetween, UndoesAddWorkingDays) {
  WorkingCalendar calendar(kazakhstanLike());
  const Date starts[] = {date(2021, 12, 15), date(2022, 12, 30), date(2024, 3, 20),
                         date(2024, 3, 23), date(2024, 6, 14)};

  for (Date start : starts) {
    for (int n : {0, 1, 2, 5, 10, 30, 250}) {
      EXPECT_EQ(calendar.workingDaysBetween(start, calendar.addWorkingDays(start, n)), n)
          << formatIsoDate(start) << " + " << n;
    }
  }
}

}  // namespace
}  // namespace licgate::registry
