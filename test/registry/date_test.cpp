#include "registry/date.hpp"

#include <gtest/gtest.h>

namespace licgate::registry {
namespace {

TEST(IsoDate, ParsesAndFormatsRoundTrip) {
  auto date = parseIsoDate("2021-05-28", "issued_on");

  ASSERT_TRUE(date.ok());
  EXPECT_EQ(formatIsoDate(*date), "2021-05-28");
  EXPECT_EQ(static_cast<int>(date->year()), 2021);
}

TEST(IsoDate, FormatsPaddedAndOutOfRangeFieldsAsPrintfWould) {
  using std::chrono::day;
  using std::chrono::month;
  using std::chrono::year;
  struct Case {
    Date date;
    const char* text;
  };
  const Case cases[] = {
      {Date{year(7), month(1), day(2)}, "0007-01-02"},
      {Date{year(9999), month(12), day(31)}, "9999-12-31"},
      {Date{year(0), month(10), day(10)}, "0000-10-10"},
      {Date{year(-5), month(3), day(4)}, "-005-03-04"},
      {Date{year(12345), month(3), day(4)}, "12345-03-04"},
      {Date{year(2026), month(200), day(0)}, "2026-200-00"},
  };

  for (const Case& each : cases) {
    EXPECT_EQ(formatIsoDate(each.date), each.text);
  }
}

TEST(Timestamp, IsUtcToTheSecond) {
  using namespace std::chrono;
  auto time = sys_days{year(2026) / 1 / 31} + hours(12) + seconds(5) + milliseconds(900);

  EXPECT_EQ(formatTimestamp(time), "2026-01-31T12:00:05Z");
}

TEST(IsoDate, RejectsDayNotInCalendar) {
  auto date = parseIsoDate("2021-02-30", "valid_from");

  ASSERT_FALSE(date.ok());
  EXPECT_EQ(date.error().code, ErrorCode::kInvalidField);
  EXPECT_EQ(date.error().message, "valid_from: \"2021-02-30\" is not a day of the calendar");
}

TEST(IsoDate, RejectsWrongShape) {
  auto date = parseIsoDate("28.05.2021", "issued_on");

  ASSERT_FALSE(date.ok());
  EXPECT_NE(date.error().message.find("YYYY-MM-DD"), std::string::npos);
}

}  // namespace
}  // namespace licgate::registry
