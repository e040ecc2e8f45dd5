// The working-day calendar (registry/working_days.hpp): a year's days off
// computed from the calendar's data, layer by layer.
#include "registry/working_days.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>
#include <utility>

namespace licgate::registry {

namespace {

using std::chrono::sys_days;

int yearOf(Date date) {
  return static_cast<int>(date.year());
}

std::size_t dayOfYear(Date date) {
  const Date first{date.year(), std::chrono::January, std::chrono::day{1}};
  return static_cast<std::size_t>((sys_days{date} - sys_days{first}).count());
}

bool inForce(const RecurringHoliday& holiday, int year) {
  return (!holiday.from_year || year >= *holiday.from_year) &&
         (!holiday.until_year || year <= *holiday.until_year);
}

// The date of `holiday` in `year`; nullopt when it is not in force then or
// the day does not exist that year (29 February of a common year).
std::optional<Date> occurrence(const RecurringHoliday& holiday, int year) {
  if (!inForce(holiday, year)) {
    return std::nullopt;
  }
  const Date date{std::chrono::year{year}, std::chrono::month{holiday.month},
                  std::chrono::day{holiday.day}};
  if (!date.ok()) {
    return std::nullopt;
  }
  return date;
}

// The day-off table of the year of the dates asked, rebuilt only when a
// walk crosses into another year. `Build` maps a year to its table.
template <typename Build>
class YearCursor {
 public:
  explicit YearCursor(Build build) : build_(std::move(build)) {}

  bool isDayOff(Date date) {
    if (!loaded_ || year_ != yearOf(date)) {
      year_ = yearOf(date);
      table_ = build_(year_);
      loaded_ = true;
    }
    return table_[dayOfYear(date)];
  }

 private:
  Build build_;
  bool loaded_ = false;
  int year_ = 0;
  std::array<bool, 366> table_{};
};

}  // namespace

WorkingCalendar::WorkingCalendar(WorkingCalendarData data) : data_(std::move(data)) {
  for (unsigned day = 0; day < 7; ++day) {
    if (!isWeekend(std::chrono::weekday{day})) {
      return;
    }
  }
  throw std::invalid_argument("working calendar: every day of the week is a weekend day");
}

bool WorkingCalendar::isWeekend(std::chrono::weekday day) const {
  return std::find(data_.weekend.begin(), data_.weekend.end(), day) != data_.weekend.end();
}

bool WorkingCalendar::isBaseDayOff(Date date) const {
  if (isWeekend(std::chrono::weekday{sys_days{date}})) {
    return true;
  }
  const int year = yearOf(date);
  for (const auto& holiday : data_.holidays) {
    if (occurrence(holiday, year) == date) {
      return true;
    }
  }
  return std::any_of(data_.one_off.begin(), data_.one_off.end(),
                     [&](const OneOffHoliday& holiday) { return holiday.date == date; });
}

// Builds the table in the order of the layers (working_days.hpp), each
// overriding the one before.
WorkingCalendar::YearTable WorkingCalendar::daysOffOf(int year) const {
  YearTable table{};
  const Date first{std::chrono::year{year}, std::chrono::January, std::chrono::day{1}};
  const Date last{std::chrono::year{year}, std::chrono::December, std::chrono::day{31}};

  // Layer 1: weekends and holidays.
  for (sys_days day = sys_days{first}; day <= sys_days{last}; day += std::chrono::days{1}) {
    table[dayOfYear(Date{day})] = isBaseDayOff(Date{day});
  }

  // Layer 2: carry-over. The previous year's holidays count too: one late
  // in December on a weekend may carry into January.
  std::vector<Date> carrying;
  for (int y : {year - 1, year}) {
    for (const auto& holiday : data_.holidays) {
      auto date = occurrence(holiday, y);
      if (holiday.carries_over && date) {
        carrying.push_back(*date);
      }
    }
  }
  for (const auto& holiday : data_.one_off) {
    const int y = yearOf(holiday.date);
    if (holiday.carries_over && (y == year - 1 || y == year)) {
      carrying.push_back(holiday.date);
    }
  }
  std::sort(carrying.begin(), carrying.end());
  carrying.erase(std::unique(carrying.begin(), carrying.end()), carrying.end());

  // Date order matters: the first holiday of a weekend takes the first free
  // day, the second the next one.
  std::set<sys_days> taken;
  for (Date holiday : carrying) {
    if (!isWeekend(std::chrono::weekday{sys_days{holiday}})) {
      continue;
    }
    sys_days day = sys_days{holiday} + std::chrono::days{1};
    while (isBaseDayOff(Date{day}) || taken.contains(day)) {
      day += std::chrono::days{1};
    }
    taken.insert(day);
  }
  for (sys_days day : taken) {
    if (yearOf(Date{day}) == year) {
      table[dayOfYear(Date{day})] = true;
    }
  }

  // Layer 3: the decree's transfers.
  for (const auto& transfer : data_.transfers) {
    if (yearOf(transfer.date) == year) {
      table[dayOfYear(transfer.date)] = transfer.kind == TransferKind::kDayOff;
    }
  }
  return table;
}

bool WorkingCalendar::isWorkingDay(Date date) const {
  return !daysOffOf(yearOf(date))[dayOfYear(date)];
}

Date WorkingCalendar::addWorkingDays(Date start, int n) const {
  YearCursor cursor([this](int year) { return daysOffOf(year); });
  const std::chrono::days step{n < 0 ? -1 : 1};
  sys_days day{start};

  // The constructor guarantees a working weekday, so every week has one
  // and the walk ends.
  for (int left = n < 0 ? -n : n; left > 0;) {
    day += step;
    if (!cursor.isDayOff(Date{day})) {
      --left;
    }
  }
  return Date{day};
}

int WorkingCalendar::workingDaysBetween(Date from, Date to) const {
  if (sys_days{to} < sys_days{from}) {
    return -workingDaysBetween(to, from);
  }
  YearCursor cursor([this](int year) { return daysOffOf(year); });
  int count = 0;
  for (sys_days day = sys_days{from} + std::chrono::days{1}; day <= sys_days{to};
       day += std::chrono::days{1}) {
    if (!cursor.isDayOff(Date{day})) {
      ++count;
    }
  }
  return count;
}

}  // namespace licgate::registry
