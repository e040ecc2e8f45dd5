// The working-day calendar file (config/calendar-kz.yaml is the default for
// Kazakhstan; docs/working-days.md describes the format): read at start-up
// into the plain data a registry::WorkingCalendar is built from.
#pragma once

#include <string>
#include <string_view>

#include "registry/result.hpp"
#include "registry/working_days.hpp"

namespace licgate::config {

// Parses and checks a calendar. `origin` names the text in messages (the
// file name). Strict like parseConfig: unknown and repeated keys are errors.
// The data returned always makes a valid WorkingCalendar (a week with a
// working day).
//
// Errors: kMalformed when the text is not YAML (with line and column);
// kInvalidField listing every bad value, one per line, each naming the key
// path and the value: "holidays[2].month: 13 is not a month (1..12)".
registry::Result<registry::WorkingCalendarData> parseCalendar(std::string_view yaml_text,
                                                              std::string_view origin);

// Reads `path` and parses it. kNotFound when the file cannot be read,
// naming it.
registry::Result<registry::WorkingCalendarData> loadCalendarFile(const std::string& path);

}  // namespace licgate::config
