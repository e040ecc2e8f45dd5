// The working-day calendar: which dates are working days, for deadlines in
// working days (an interested body's deadline to answer a conformity query)
// and for "working days left" in licensors' views.
//
// The calendar is built from plain data (config/calendar-kz.yaml is the
// default for Kazakhstan; docs/working-days.md describes the rules). Law
// that changes every year (the date of Kurban Ait, the Government's decree
// moving days off) is data the operator keeps up to date, not code.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "registry/date.hpp"

namespace licgate::registry {

// A holiday on the same day every year, in the years [from_year,
// until_year]: from_year absent, in force as far back as the calendar is
// asked; until_year absent, still in force.
struct RecurringHoliday {
  std::string name;
  unsigned month = 1;  // 1..12
  unsigned day = 1;    // 1..31; 29 February occurs in leap years only
  std::optional<int> from_year;
  std::optional<int> until_year;
  // True when the holiday, falling on a weekend day, makes a later working
  // day a day off (see WorkingCalendar).
  bool carries_over = false;
};

// A holiday on one date only, such as the first day of Kurban Ait, whose
// date follows the lunar calendar.
struct OneOffHoliday {
  std::string name;
  Date date;
  bool carries_over = false;
};

// A day moved by the Government's decree: a day off made a working day (a
// Saturday worked in exchange), or a working day made a day off (a bridging
// weekday).
enum class TransferKind : std::uint8_t { kWorkingDay, kDayOff };

struct DecreeTransfer {
  Date date;
  TransferKind kind = TransferKind::kDayOff;
};

struct WorkingCalendarData {
  std::vector<std::chrono::weekday> weekend;  // days of the week that are days off
  std::vector<RecurringHoliday> holidays;
  std::vector<OneOffHoliday> one_off;
  std::vector<DecreeTransfer> transfers;
};

// Whether a date is a working day, in three layers:
//
// 1. A day off is a weekend day, a recurring holiday in force that year, or
//    a one-off holiday.
// 2. Carry-over: each holiday with carries_over that falls on a weekend day
//    makes the first later date a day off that is neither a weekend day, nor
//    a holiday, nor already taken by an earlier holiday's carry-over.
//    Holidays are taken in date order, so two carrying holidays on one
//    weekend give two days: 1 January on a Saturday and 2 January on a
//    Sunday make 3 and 4 January days off; 23 March on a Saturday (after
//    21-22 March on Thursday and Friday) makes Monday 25 March a day off;
//    1 January on a Sunday, with 2 January a holiday anyway, makes 3 January
//    a day off. A carry-over may cross into the next year.
// 3. Decree transfers override both: a date the decree makes a working day
//    is one, a date it makes a day off is one. Carry-over does not look at
//    decrees: a decree is issued knowing the carry-overs and says its own
//    dates.
//
// Immutable after construction and safe to share between threads. Each
// query computes the year it needs (a few dozen holidays); nothing is
// cached, so nothing needs a lock.
class WorkingCalendar {
 public:
  // Throws std::invalid_argument when every day of the week is a weekend
  // day: no date would be a working day and addWorkingDays would never
  // end. parseCalendar refuses such a file first; this guards other callers.
  explicit WorkingCalendar(WorkingCalendarData data);

  const WorkingCalendarData& data() const { return data_; }

  // True when `date` is a working day. `date` must be a valid date.
  bool isWorkingDay(Date date) const;

  // The n-th working day after `start`, counting from the day after it:
  // a request received on `start` with a deadline of n working days is due
  // by the end of addWorkingDays(start, n). `start` itself is never counted,
  // working day or not. n == 0 gives `start`; n < 0 counts backwards: the
  // |n|-th working day before `start`.
  Date addWorkingDays(Date start, int n) const;

  // The number of working days d with from < d <= to: the working days
  // left between today (`from`) and a deadline (`to`), the deadline counted
  // and today not. When to < from, minus the number of working days d with
  // to < d <= from (how far a deadline is overdue: the working days after
  // it up to today). workingDaysBetween(s, addWorkingDays(s, n)) == n for
  // every n >= 0; backwards the two differ by design, since the n-th
  // working day before s is counted and s is not.
  int workingDaysBetween(Date from, Date to) const;

 private:
  // The days off of one year, indexed by day of the year (0 = 1 January).
  using YearTable = std::array<bool, 366>;

  YearTable daysOffOf(int year) const;
  bool isBaseDayOff(Date date) const;
  bool isWeekend(std::chrono::weekday day) const;

  WorkingCalendarData data_;
};

}  // namespace licgate::registry
