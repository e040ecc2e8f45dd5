// Reading AMQP message fields into a Delivery, and the outcome message.
#include "adapters/amqp/message_fields.hpp"

#include <gtest/gtest.h>

#include <proton/binary.hpp>
#include <proton/codec/map.hpp>
#include <proton/uuid.hpp>

#include <map>
#include <vector>

namespace licgate::adapters::amqp {
namespace {

TEST(MessageIdText, KeepsAStringAsItIs) {
  EXPECT_EQ(messageIdText(proton::message_id("licence-event-1")), "licence-event-1");
}

TEST(MessageIdText, WritesAUlongInDecimal) {
  EXPECT_EQ(messageIdText(proton::message_id(std::uint64_t{18446744073709551615u})),
            "ulong:18446744073709551615");
}

TEST(MessageIdText, WritesAUuidInItsCanonicalForm) {
  proton::uuid id =
      proton::uuid::copy("\x12\x34\x56\x78\x9a\xbc\xde\xf0\x01\x23\x45\x67\x89\xab\xcd\xef");

  EXPECT_EQ(messageIdText(proton::message_id(id)), "uuid:12345678-9abc-def0-0123-456789abcdef");
}

TEST(MessageIdText, WritesBinaryAsLowerCaseHex) {
  proton::binary id{0x00, 0xAB, 0x10, 0xFF};

  EXPECT_EQ(messageIdText(proton::message_id(id)), "binary:00ab10ff");
}

TEST(MessageIdText, IsEmptyWithoutAnId) {
  EXPECT_EQ(messageIdText(proton::message_id()), "");
}

TEST(ReadDelivery, TakesTheBytesOfADataSection) {
  proton::message message;
  std::string bytes("<a>\x9a\xe8</a>", 9);
  message.body(proton::binary(bytes.begin(), bytes.end()));
  Delivery delivery;

  auto status = readDelivery(message, delivery);

  ASSERT_TRUE(status.ok());
  EXPECT_EQ(delivery.body, bytes);
}

TEST(ReadDelivery, TakesAnEmptyBodyAsEmpty) {
  proton::message message;
  Delivery delivery;
  delivery.body = "left over";

  auto status = readDelivery(message, delivery);

  ASSERT_TRUE(status.ok());
  EXPECT_EQ(delivery.body, "");
}

TEST(ReadDelivery, RejectsAMapBodyNamingItsType) {
  proton::message message;
  message.body(std::map<std::string, std::string>{{"event", "issue"}});
  Delivery delivery;

  auto status = readDelivery(message, delivery);

  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, registry::ErrorCode::kMalformed);
  EXPECT_NE(status.error().message.find("map"), std::string::npos) << status.error().message;
}

TEST(ReadDelivery, RefusesASystemPropertyThatIsNotAString) {
  proton::message message;
  message.id("m-7");
  message.properties().put("system", std::int32_t{7});
  message.user("licensor-portal");
  Delivery delivery;

  auto status = readDelivery(message, delivery);

  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, registry::ErrorCode::kInvalidField);
  EXPECT_EQ(status.error().message,
            "application property \"system\" is an AMQP int; it names the sending system and "
            "must be a string");
  EXPECT_EQ(delivery.message_id, "m-7") << "kept under its id";
}

TEST(ReadDelivery, RefusesAnEmptySystemProperty) {
  proton::message message;
  message.properties().put("system", std::string());
  message.user("licensor-portal");
  Delivery delivery;

  auto status = readDelivery(message, delivery);

  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, registry::ErrorCode::kInvalidField);
  EXPECT_NE(status.error().message.find("is empty"), std::string::npos) << status.error().message;
}

TEST(ReadDelivery, TakesTheUserIdWithoutASystemProperty) {
  proton::message message;
  message.user("licensor-portal");
  Delivery delivery;

  auto status = readDelivery(message, delivery);

  ASSERT_TRUE(status.ok());
  EXPECT_EQ(delivery.sender_system, "licensor-portal");
}

TEST(OutcomeMessage, DerivesTheOutcomeFromTheSettlementWhenNotGiven) {
  Verdict verdict;
  verdict.settle = Settle::kAccept;
  verdict.description = "applied as journal entry 17";

  proton::message reply = makeOutcomeMessage("replies/tax", proton::message_id("m-1"), verdict);

  EXPECT_EQ(reply.to(), "replies/tax");
  EXPECT_EQ(reply.correlation_id(), proton::message_id("m-1"));
  EXPECT_EQ(proton::get<std::string>(reply.properties().get("outcome")), "accepted");
  EXPECT_FALSE(reply.properties().exists("error"));
  EXPECT_FALSE(reply.properties().exists("licence"));
  EXPECT_EQ(proton::get<std::string>(reply.body()), "applied as journal entry 17");
}

TEST(OutcomeMessage, EscapesADescriptionThatIsNotUtf8) {
  Verdict verdict;
  verdict.settle = Settle::kReject;
  verdict.description = "not valid JSON: last read: '\xff'";

  proton::message reply = makeOutcomeMessage("replies/tax", proton::message_id("m-2"), verdict);

  EXPECT_EQ(proton::get<std::string>(reply.body()), "not valid JSON: last read: '\\xFF'");
  EXPECT_EQ(wireDescription("already fine: \u00e9"), "already fine: \u00e9");
}

}  // namespace
}  // namespace licgate::adapters::amqp
