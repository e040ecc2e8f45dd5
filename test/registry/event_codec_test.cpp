#include "registry/event_codec.hpp"

#include <gtest/gtest.h>

namespace licgate::registry {
namespace {

Event makeImport() {
  Event event;
  event.type = EventType::kImport;
  event.licensor = "CZ-ERU";
  event.occurred_on = *parseIsoDate("2021-05-28", "test");
  event.licence_number = "310100016";
  event.number_kind = NumberKind::kLegacy;
  event.holder = Holder{HolderId{IdScheme::kCzIco, "00637076"}, "Obec Velký Karlov",
                        "Velký Karlov 126, 671 28", "", "CZ"};
  event.activity_code = "31";
  event.valid_from = *parseIsoDate("2001-07-01", "test");
  event.valid_until = *parseIsoDate("2026-07-16", "test");
  event.imported_status = LicenceStatus::kActive;
  event.source_version = "18";
  return event;
}

TEST(EventCodec, RoundTripsEveryField) {
  Event event = makeImport();
  event.reason = "lapsed";
  event.annex_number = "001";
  event.annex_status = LicenceStatus::kSuspended;
  event.suspended_until = *parseIsoDate("2027-01-01", "test");

  auto decoded = decodeEvent(encodeEvent(event));

  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(*decoded, event);
}

TEST(EventCodec, WritesFieldsInFixedOrderWithLatinAndCzechText) {
  Event event = makeImport();

  std::string json = encodeEvent(event);

  EXPECT_EQ(json.rfind(R"({"type":"import","licensor":"CZ-ERU","occurredOn":"2021-05-28",)", 0),
            0u);
  EXPECT_NE(json.find("\"name\":\"Obec Velký Karlov\""), std::string::npos);
}

TEST(EventCodec, RejectsTextThatIsNotJson) {
  auto decoded = decodeEvent("{\"type\": ");

  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code, ErrorCode::kMalformed);
  EXPECT_EQ(decoded.error().message,
            "event is not valid JSON: parse error at line 1, column 10: syntax error while "
            "parsing value - unexpected end of input; expected '[', '{', or a literal");
}

TEST(EventCodec, RejectsAFieldGivenTwice) {
  auto decoded =
      decodeEvent(R"({"type":"suspend","occurredOn":"2026-01-05","reason":"a","reason":"b"})");

  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code, ErrorCode::kInvalidField);
  EXPECT_EQ(decoded.error().message, "field \"reason\" is given twice");
}

TEST(EventCodec, RejectsAHolderFieldGivenTwice) {
  auto decoded =
      decodeEvent(R"({"type":"issue","occurredOn":"2026-01-05","holder":{"name":"A","name":"B"}})");

  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().message, "field \"holder.name\" is given twice");
}

TEST(EventCodec, RejectsObjectsInsideATopLevelArray) {
  auto decoded = decodeEvent(R"([{"type":"issue","occurredOn":"2026-01-05"}])");

  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().message, "event JSON must be an object");
}

TEST(EventCodec, RejectsJsonThatIsNotAnObject) {
  auto decoded = decodeEvent("[1, 2]");

  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code, ErrorCode::kMalformed);
}

TEST(EventCodec, RejectsUnknownField) {
  auto decoded = decodeEvent(R"({"type":"issue","occurredOn":"2026-01-05","licensr":"X"})");

  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code, ErrorCode::kInvalidField);
  EXPECT_EQ(decoded.error().message, "unknown field \"licensr\"");
}

TEST(EventCodec, RejectsMissingType) {
  auto decoded = decodeEvent(R"({"occurredOn":"2026-01-05"})");

  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().message, "missing field \"type\"");
}

TEST(EventCodec, RejectsUnknownEventType) {
  auto decoded = decodeEvent(R"({"type":"revoke","occurredOn":"2026-01-05"})");

  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code, ErrorCode::kInvalidField);
  EXPECT_EQ(decoded.error().message.rfind("field \"type\": event type: \"revoke\"", 0), 0u);
}

TEST(EventCodec, RejectsNumberWhereTextIsExpected) {
  auto decoded = decodeEvent(R"({"type":"issue","occurredOn":"2026-01-05","licensor":7})");

  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().message, "field \"licensor\" must be a string");
}

TEST(EventCodec, RejectsBadDate) {
  auto decoded = decodeEvent(R"({"type":"issue","occurredOn":"2026-13-05"})");

  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().message, "occurredOn: \"2026-13-05\" is not a day of the calendar");
}

TEST(EventCodec, RejectsHolderIdWithoutScheme) {
  auto decoded =
      decodeEvent(R"({"type":"issue","occurredOn":"2026-01-05","holder":{"id":"00637076"}})");

  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().message,
            "fields \"holder.idScheme\" and \"holder.id\" must be given together");
}

}  // namespace
}  // namespace licgate::registry
