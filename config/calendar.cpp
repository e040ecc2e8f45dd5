// The loader of the working-day calendar file (config/calendar.hpp).
//
// The file is law the operator copies from decrees, so every value is
// checked and every problem reported at once: a mistyped date would
// otherwise move deadlines silently.
#include "config/calendar.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/text_file.hpp"
#include "config/yaml_reader.hpp"
#include "registry/date.hpp"

namespace licgate::config {

using registry::DecreeTransfer;
using registry::ErrorCode;
using registry::OneOffHoliday;
using registry::RecurringHoliday;
using registry::Result;
using registry::TransferKind;
using registry::WorkingCalendarData;

namespace {

constexpr Range kMonth{1, 12, "a month"};
// Wide enough for any decree, narrow enough to catch a two-digit year.
constexpr Range kYear{1900, 2999, "a year"};

constexpr std::string_view kWeekdayNames[] = {"sunday",   "monday", "tuesday", "wednesday",
                                              "thursday", "friday", "saturday"};

// The longest a day of `month` can be: 29 for February, which then occurs
// in leap years only.
unsigned longestDay(unsigned month) {
  constexpr unsigned kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return kDays[month - 1];
}

// A key every entry must give: its absence is a problem.
bool requireKey(Reader& reader, const YAML::Node& map, const std::string& path,
                std::string_view key) {
  if (map[std::string(key)].IsDefined()) {
    return true;
  }
  reader.fail(childPath(path, key), "is required");
  return false;
}

// A required boolean.
bool readFlag(Reader& reader, const YAML::Node& map, const std::string& path, std::string_view key,
              bool& out) {
  return requireKey(reader, map, path, key) && reader.readBool(map, path, key, out);
}

// A list node at `path`, or a problem; an absent optional key is an empty
// list.
bool readList(Reader& reader, const YAML::Node& node, const std::string& path, bool required) {
  if (!node.IsDefined()) {
    if (required) {
      reader.fail(path, "is required");
    }
    return false;
  }
  if (!node.IsSequence()) {
    reader.fail(path, describe(node) + " is not a list");
    return false;
  }
  return true;
}

// A date "YYYY-MM-DD" at `path`, as registry::parseIsoDate checks it.
std::optional<registry::Date> readDate(Reader& reader, const YAML::Node& node,
                                       const std::string& path) {
  if (!node.IsScalar()) {
    reader.fail(path, describe(node) + " is not a date of the form YYYY-MM-DD");
    return std::nullopt;
  }
  auto date = registry::parseIsoDate(node.Scalar(), path);
  if (!date.ok()) {
    // parseIsoDate's message starts with the field it was given.
    reader.fail(path, date.error().message.substr(path.size() + 2));
    return std::nullopt;
  }
  return *date;
}

void readWeekend(Reader& reader, const YAML::Node& node, std::vector<std::chrono::weekday>& out) {
  if (!readList(reader, node, "weekend", true)) {
    return;
  }
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string path = "weekend[" + std::to_string(i) + "]";
    const std::string name = node[i].IsScalar() ? node[i].Scalar() : std::string();
    const auto* found = std::find(std::begin(kWeekdayNames), std::end(kWeekdayNames), name);
    if (!node[i].IsScalar() || found == std::end(kWeekdayNames)) {
      std::vector<std::string> names(std::begin(kWeekdayNames), std::end(kWeekdayNames));
      reader.fail(path, describe(node[i]) + " is not one of " + join(names, ", "));
      continue;
    }
    const std::chrono::weekday day{static_cast<unsigned>(found - std::begin(kWeekdayNames))};
    if (std::find(out.begin(), out.end(), day) != out.end()) {
      reader.fail(path, "\"" + name + "\" given twice");
      continue;
    }
    out.push_back(day);
  }
  // WorkingCalendar refuses such a week: no deadline would ever end.
  if (out.size() == 7) {
    reader.fail("weekend", "lists every day of the week: no day would be a working day");
  }
}

void readHoliday(Reader& reader, const YAML::Node& node, const std::string& path,
                 std::vector<RecurringHoliday>& out) {
  if (!reader.checkMap(node, path,
                       {"name", "month", "day", "from_year", "until_year", "carries_over"})) {
    return;
  }
  RecurringHoliday holiday;
  bool good = requireKey(reader, node, path, "name") &&
              reader.readString(node, path, "name", holiday.name, true);
  const bool month_read = requireKey(reader, node, path, "month") &&
                          reader.readInteger(node, path, "month", kMonth, holiday.month);
  good = month_read && good;
  if (month_read) {
    const Range day_range{1, longestDay(holiday.month), "a day of that month"};
    good = requireKey(reader, node, path, "day") &&
           reader.readInteger(node, path, "day", day_range, holiday.day) && good;
  }

  // The years are optional; each is compared with the other only when both
  // were read.
  int from = 0;
  int until = 0;
  const bool has_from = node["from_year"].IsDefined();
  const bool has_until = node["until_year"].IsDefined();
  const bool from_read = reader.readInteger(node, path, "from_year", kYear, from);
  const bool until_read = reader.readInteger(node, path, "until_year", kYear, until);
  good = from_read && until_read && good;
  if (has_from && from_read) {
    holiday.from_year = from;
  }
  if (has_until && until_read) {
    holiday.until_year = until;
  }
  if (holiday.from_year && holiday.until_year && until < from) {
    reader.fail(childPath(path, "until_year"),
                std::to_string(until) + " is before from_year (" + std::to_string(from) + ")");
    good = false;
  }
  good = readFlag(reader, node, path, "carries_over", holiday.carries_over) && good;
  if (good) {
    out.push_back(std::move(holiday));
  }
}

void readOneOff(Reader& reader, const YAML::Node& node, const std::string& path,
                std::vector<OneOffHoliday>& out) {
  if (!reader.checkMap(node, path, {"name", "date", "carries_over"})) {
    return;
  }
  OneOffHoliday holiday;
  bool good = requireKey(reader, node, path, "name") &&
              reader.readString(node, path, "name", holiday.name, true);
  std::optional<registry::Date> date;
  if (requireKey(reader, node, path, "date")) {
    date = readDate(reader, node["date"], childPath(path, "date"));
  }
  good = readFlag(reader, node, path, "carries_over", holiday.carries_over) && good;
  if (good && date) {
    holiday.date = *date;
    out.push_back(std::move(holiday));
  }
}

// One year's transfers. A date outside the entry's year is refused: it is
// most likely a date copied from the wrong decree.
void readDecree(Reader& reader, const YAML::Node& node, const std::string& path,
                std::vector<DecreeTransfer>& out) {
  if (!reader.checkMap(node, path, {"year", "working_days", "days_off"})) {
    return;
  }
  int year = 0;
  if (!requireKey(reader, node, path, "year") ||
      !reader.readInteger(node, path, "year", kYear, year)) {
    return;
  }
  std::vector<DecreeTransfer> transfers;
  for (auto [key, kind] : {std::pair{"working_days", TransferKind::kWorkingDay},
                           std::pair{"days_off", TransferKind::kDayOff}}) {
    const std::string list_path = childPath(path, key);
    const YAML::Node list = node[key];
    if (!readList(reader, list, list_path, false)) {
      continue;
    }
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string item_path = list_path + "[" + std::to_string(i) + "]";
      auto date = readDate(reader, list[i], item_path);
      if (!date) {
        continue;
      }
      if (static_cast<int>(date->year()) != year) {
        reader.fail(item_path, "\"" + registry::formatIsoDate(*date) + "\" is not in year " +
                                   std::to_string(year));
        continue;
      }
      // A date both worked and off has no meaning; which one the decree
      // says cannot be guessed.
      auto same = std::find_if(transfers.begin(), transfers.end(),
                               [&](const DecreeTransfer& t) { return t.date == *date; });
      if (same != transfers.end()) {
        reader.fail(item_path,
                    "\"" + registry::formatIsoDate(*date) + "\" is given twice in " + path);
        continue;
      }
      transfers.push_back({*date, kind});
    }
  }
  out.insert(out.end(), transfers.begin(), transfers.end());
}

// Reads each mapping of the list at `key` with `read_item`.
template <typename Item, typename ReadItem>
void readEach(Reader& reader, const YAML::Node& root, std::string_view key, bool required,
              std::vector<Item>& out, ReadItem read_item) {
  const YAML::Node list = root[std::string(key)];
  if (!readList(reader, list, std::string(key), required)) {
    return;
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    read_item(reader, list[i], std::string(key) + "[" + std::to_string(i) + "]", out);
  }
}

}  // namespace

Result<WorkingCalendarData> parseCalendar(std::string_view yaml_text, std::string_view origin) {
  auto root = parseYaml(yaml_text, origin);
  if (!root.ok()) {
    return root.takeError();
  }
  Reader reader;
  WorkingCalendarData data;
  try {
    if (reader.checkMap(*root, "", {"weekend", "holidays", "one_off", "decrees"})) {
      readWeekend(reader, (*root)["weekend"], data.weekend);
      readEach(reader, *root, "holidays", true, data.holidays, readHoliday);
      readEach(reader, *root, "one_off", false, data.one_off, readOneOff);
      readEach(reader, *root, "decrees", false, data.transfers, readDecree);
    }
  } catch (const YAML::Exception& e) {
    reader.fail("(document)", e.what());
  }
  LICGATE_RETURN_IF_ERROR(reader.result(origin));
  return data;
}

Result<WorkingCalendarData> loadCalendarFile(const std::string& path) {
  auto text = readTextFile(path, "calendar file");
  if (!text.ok()) {
    return text.takeError();
  }
  return parseCalendar(*text, path);
}

}  // namespace licgate::config
