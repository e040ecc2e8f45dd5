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
