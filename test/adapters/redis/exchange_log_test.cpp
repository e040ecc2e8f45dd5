// ExchangeLog against a real redis-server on a free loopback port.
#include "adapters/redis/exchange_log.hpp"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <string>

#include "../redis_process.hpp"

namespace licgate::adapters::redis {
namespace {

using registry::ErrorCode;

class ExchangeLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(redis_.start()) << "redis-server did not start";
    RedisOptions options;
    options.port = redis_.port();
    options.retry_after_ms = 100;
    options.key_prefix = "t:";
    log_ = makeExchangeLog(options, 60'000);
  }

  // `command` with one key argument, on a separate connection.
  long long rawInteger(const std::string& command, const std::string& key) {
    redisContext* context = redisConnect("127.0.0.1", redis_.port());
    auto* reply =
        static_cast<redisReply*>(redisCommand(context, (command + " %s").c_str(), key.c_str()));
    long long value = reply->integer;
    freeReplyObject(reply);
    redisFree(context);
    return value;
  }

  test::RedisProcess redis_;
  std::unique_ptr<ExchangeLog> log_;
};

ExchangeRecord received(const std::string& message_id, const std::string& chain) {
  ExchangeRecord record;
  record.message_id = message_id;
  record.correlation_id = chain;
  record.licgate_id = "soap-1-" + message_id;
  record.direction = "received";
  record.sender = "portal";
  record.service_id = "LICGATE_EVENTS";
  record.message_type = "REQUEST";
  record.outcome = "applied";
  return record;
}

TEST(ExchangeLog, UnknownMessageAndChainAreEmpty) {
  test::RedisProcess redis;
  ASSERT_TRUE(redis.start());
  RedisOptions options;
  options.port = redis.port();
  auto log = makeExchangeLog(options, 1000);
  auto found = log->findReceived("portal", "nobody");
  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_FALSE(found->has_value());
  EXPECT_FALSE(log->findSent("nobody")->has_value());
  auto length = log->chainLength("no-chain");
  ASSERT_TRUE(length.ok());
  EXPECT_EQ(*length, 0);
}

TEST_F(ExchangeLogTest, RecordsAMessageWithItsChainAndLicgateId) {
  auto kept = log_->record(received("m-1", "c-1"));
  ASSERT_TRUE(kept.ok()) << kept.error().message;
  EXPECT_FALSE(kept->has_value()) << "the first record";

  auto found = log_->findReceived("portal", "m-1");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->correlation_id, "c-1");
  EXPECT_EQ((*found)->licgate_id, "soap-1-m-1");
  EXPECT_EQ((*found)->direction, "received");
  EXPECT_EQ((*found)->sender, "portal");
  EXPECT_EQ((*found)->service_id, "LICGATE_EVENTS");
  EXPECT_EQ((*found)->message_type, "REQUEST");
  EXPECT_EQ((*found)->outcome, "applied");
  EXPECT_EQ(*log_->chainLength("c-1"), 1);
  EXPECT_EQ(rawInteger("EXISTS", "t:shep:received:6:portal:m-1"), 1);
}

TEST_F(ExchangeLogTest, TheFirstRecordOfAMessageStandsAndIsReturned) {
  ASSERT_FALSE(log_->record(received("m-1", "c-1"))->has_value());
  ExchangeRecord again = received("m-1", "c-1");
  again.outcome = "duplicate";
  again.licgate_id = "soap-2-m-1";

  auto kept = log_->record(again);

  ASSERT_TRUE(kept.ok() && kept->has_value());
  EXPECT_EQ((*kept)->outcome, "applied");
  EXPECT_EQ((*kept)->licgate_id, "soap-1-m-1");
  EXPECT_EQ((*log_->findReceived("portal", "m-1"))->licgate_id, "soap-1-m-1");
  EXPECT_EQ(*log_->chainLength("c-1"), 1);
}

TEST_F(ExchangeLogTest, TheSameIdFromAnotherSenderIsAnotherMessage) {
  ASSERT_FALSE(log_->record(received("m-1", "c-1"))->has_value());
  ExchangeRecord other = received("m-1", "c-1");
  other.sender = "tax";

  EXPECT_FALSE(log_->record(other)->has_value());
  EXPECT_EQ(*log_->chainLength("c-1"), 2);
  EXPECT_EQ((*log_->findReceived("tax", "m-1"))->sender, "tax");
}

TEST_F(ExchangeLogTest, ColonsInSenderOrIdNeverMakeTwoMessagesOne) {
  ExchangeRecord first = received("x:n3", "c-1");
  first.sender = "e-licensing";
  ExchangeRecord second = received("n3", "c-1");
  second.sender = "e-licensing:x";

  EXPECT_FALSE(log_->record(first)->has_value());
  EXPECT_FALSE(log_->record(second)->has_value()) << "another message, not a delivery again";
  EXPECT_EQ(*log_->chainLength("c-1"), 2);
}

TEST_F(ExchangeLogTest, SetOutcomeChangesARecordedMessageOnly) {
  ExchangeRecord pending = received("m-1", "c-1");
  pending.outcome = std::string(kOutcomePending);
  ASSERT_TRUE(log_->record(pending).ok());

  ASSERT_TRUE(log_->setOutcome("portal", "m-1", "applied").ok());
  ASSERT_TRUE(log_->setOutcome("portal", "never", "applied").ok());

  EXPECT_EQ((*log_->findReceived("portal", "m-1"))->outcome, "applied");
  EXPECT_EQ(rawInteger("EXISTS", "t:shep:received:6:portal:never"), 0);
}

TEST_F(ExchangeLogTest, ChainCollectsItsMessagesAndKeysExpire) {
  ASSERT_TRUE(log_->record(received("m-1", "c-1")).ok());
  ExchangeRecord update = received("m-2", "c-1");
  update.message_type = "UPDATE";
  ASSERT_TRUE(log_->record(update).ok());
  ASSERT_TRUE(log_->record(received("m-3", "c-2")).ok());
  EXPECT_EQ(*log_->chainLength("c-1"), 2);
  EXPECT_EQ(*log_->chainLength("c-2"), 1);

  long long ttl = rawInteger("PTTL", "t:shep:chain:c-1");
  EXPECT_GT(ttl, 50'000);
  EXPECT_LE(ttl, 60'000);
  EXPECT_GT(rawInteger("PTTL", "t:shep:received:6:portal:m-2"), 50'000);
}

OutboundMessage outbound(const std::string& id) {
  OutboundMessage message;
  message.licgate_id = id;
  message.answer = "<soap:Envelope>" + id + "</soap:Envelope>";
  message.correlation_id = "c-" + id;
  message.service_id = "LICGATE_GET_LICENCE";
  message.message_type = "RESPONSE";
  message.message_date = "2026-12-04T10:00:00Z";
  return message;
}

// A message licgate sent, filed under the id the gateway gave it.
void sendOne(ExchangeLog& log, const std::string& id, const std::string& gateway_id) {
  ASSERT_TRUE(log.enqueue(outbound(id), 1'000).ok());
  auto claimed = log.claimDue(1'000, 100);
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  ASSERT_TRUE(log.markSent(**claimed, gateway_id).ok());
}

StatusNote note(const std::string& state, std::int64_t at_ms) {
  return StatusNote{"n", state, "OK", "ok", "2026-12-04T10:00:00Z", "", at_ms};
}

TEST_F(ExchangeLogTest, StatusIsNotedOnlyForMessagesLicgateSent) {
  ASSERT_TRUE(log_->record(received("in-1", "c-1")).ok());
  sendOne(*log_, "out", "gw-1");

  EXPECT_EQ(*log_->noteStatus("nobody", note("DELIVERED", 1)), StatusNoted::kUnknown);
  EXPECT_EQ(rawInteger("EXISTS", "t:shep:sent:nobody"), 0);
  EXPECT_EQ(*log_->noteStatus("in-1", note("DELIVERED", 1)), StatusNoted::kUnknown);

  EXPECT_EQ(*log_->noteStatus("gw-1", note("DELIVERED", 1)), StatusNoted::kNoted);
  auto found = log_->findSent("gw-1");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->state, "DELIVERED");
  EXPECT_EQ((*found)->status_code, "OK");
  EXPECT_EQ((*found)->status_date, "2026-12-04T10:00:00Z");
}

TEST_F(ExchangeLogTest, AnOlderStatusOrDeliveryInProgressAfterAFinalOneIsStale) {
  sendOne(*log_, "out", "gw-1");
  ASSERT_EQ(*log_->noteStatus("gw-1", note("ON_DELIVERY", 1'000)), StatusNoted::kNoted);
  ASSERT_EQ(*log_->noteStatus("gw-1", note("DELIVERED", 2'000)), StatusNoted::kNoted);

  EXPECT_EQ(*log_->noteStatus("gw-1", note("NOT_DELIVERED", 1'500)), StatusNoted::kStale);
  EXPECT_EQ(*log_->noteStatus("gw-1", note("ON_DELIVERY", 3'000)), StatusNoted::kStale);
  EXPECT_EQ((*log_->findSent("gw-1"))->state, "DELIVERED");
  EXPECT_EQ(*log_->noteStatus("gw-1", note("DELIVERY_STOPPED", 3'000)), StatusNoted::kNoted);
  EXPECT_EQ((*log_->findSent("gw-1"))->state, "DELIVERY_STOPPED");
}

TEST_F(ExchangeLogTest, OutboxHandsOutWhatIsDueInOrderOfDueTime) {
  ASSERT_TRUE(log_->enqueue(outbound("late"), 2'000).ok());
  ASSERT_TRUE(log_->enqueue(outbound("early"), 1'000).ok());
  EXPECT_EQ(*log_->outboxSize(), 2);

  auto none = log_->claimDue(999, 100);
  auto first = log_->claimDue(5'000, 100);
  auto second = log_->claimDue(5'000, 100);
  auto third = log_->claimDue(5'000, 100);

  ASSERT_TRUE(none.ok()) << none.error().message;
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ((*first)->licgate_id, "early");
  EXPECT_EQ((*first)->answer, "<soap:Envelope>early</soap:Envelope>");
  EXPECT_EQ((*first)->correlation_id, "c-early");
  EXPECT_EQ((*first)->message_type, "RESPONSE");
  EXPECT_EQ((*first)->message_date, "2026-12-04T10:00:00Z");
  EXPECT_EQ((*first)->attempts, 1);
  ASSERT_TRUE(second.ok() && second->has_value());
  EXPECT_EQ((*second)->licgate_id, "late");
  // Both are leased until 5,100: nothing is due at 5,000 any more.
  ASSERT_TRUE(third.ok());
  EXPECT_FALSE(third->has_value());
}

TEST_F(ExchangeLogTest, AnOutboxMemberWithoutItsMessageIsDropped) {
  ASSERT_TRUE(log_->enqueue(outbound("m"), 1'000).ok());
  redisContext* context = redisConnect("127.0.0.1", redis_.port());
  freeReplyObject(redisCommand(context, "DEL t:shep:out:m"));
  redisFree(context);

  auto claimed = log_->claimDue(1'000, 100);

  ASSERT_TRUE(claimed.ok());
  EXPECT_FALSE(claimed->has_value());
  EXPECT_EQ(*log_->outboxSize(), 0);
}

TEST_F(ExchangeLogTest, AnExpiredLeaseMakesTheMessageDueAgainWithItsAttemptsCounted) {
  ASSERT_TRUE(log_->enqueue(outbound("m"), 1'000).ok());
  ASSERT_TRUE(log_->claimDue(1'000, 500)->has_value());

  EXPECT_FALSE(log_->claimDue(1'499, 500)->has_value());
  auto again = log_->claimDue(1'500, 500);
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_EQ((*again)->attempts, 2);
}

TEST_F(ExchangeLogTest, RetryAtReschedulesAndKeepsTheError) {
  ASSERT_TRUE(log_->enqueue(outbound("m"), 1'000).ok());
  ASSERT_TRUE(log_->claimDue(1'000, 60'000)->has_value());
  ASSERT_TRUE(log_->retryAt("m", 3'000, "HTTP 503").ok());

  EXPECT_FALSE(log_->claimDue(2'999, 100)->has_value());
  auto again = log_->claimDue(3'000, 100);
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_EQ((*again)->last_error, "HTTP 503");
  EXPECT_EQ((*again)->attempts, 2);
}

TEST_F(ExchangeLogTest, MarkSentMovesTheMessageIntoItsChainAsSent) {
  ASSERT_TRUE(log_->record(received("req-1", "c-m")).ok());
  OutboundMessage message = outbound("m");
  message.correlation_id = "c-m";
  ASSERT_TRUE(log_->enqueue(message, 1'000).ok());
  auto claimed = log_->claimDue(1'000, 100);
  ASSERT_TRUE(claimed.ok() && claimed->has_value());

  ASSERT_TRUE(log_->markSent(**claimed, "gw-77").ok());

  EXPECT_EQ(*log_->outboxSize(), 0);
  EXPECT_EQ(rawInteger("EXISTS", "t:shep:out:m"), 0);
  EXPECT_EQ(*log_->chainLength("c-m"), 2);
  auto sent = log_->findSent("gw-77");
  ASSERT_TRUE(sent.ok() && sent->has_value());
  EXPECT_EQ((*sent)->direction, "sent");
  EXPECT_EQ((*sent)->licgate_id, "m");
  EXPECT_EQ((*sent)->correlation_id, "c-m");
  EXPECT_EQ((*sent)->message_type, "RESPONSE");
  // A retry of a message sent meanwhile does not bring it back.
  ASSERT_TRUE(log_->retryAt("m", 2'000, "late").ok());
  EXPECT_EQ(*log_->outboxSize(), 0);
}

TEST_F(ExchangeLogTest, AGatewayIdGivenAgainReplacesTheOldRecord) {
  sendOne(*log_, "first", "gw-1");
  ASSERT_EQ(*log_->noteStatus("gw-1", note("ON_DELIVERY", 1)), StatusNoted::kNoted);

  sendOne(*log_, "second", "gw-1");

  auto sent = log_->findSent("gw-1");
  EXPECT_EQ((*sent)->licgate_id, "second");
  EXPECT_EQ((*sent)->state, "");
}

TEST_F(ExchangeLogTest, GiveUpKeepsTheMessageForTheOperator) {
  ASSERT_TRUE(log_->enqueue(outbound("m"), 1'000).ok());
  ASSERT_TRUE(log_->giveUp("m", "soap:Client: unknown service").ok());

  EXPECT_EQ(*log_->outboxSize(), 0);
  EXPECT_FALSE(log_->claimDue(10'000, 100)->has_value());
  EXPECT_EQ(rawInteger("EXISTS", "t:shep:out:m"), 0);
  EXPECT_EQ(rawInteger("EXISTS", "t:shep:failed:m"), 1);
  EXPECT_GT(rawInteger("PTTL", "t:shep:failed:m"), 50'000);
}

TEST_F(ExchangeLogTest, RecordAndEnqueueAnswersAMessageOnce) {
  OutboundMessage reply = outbound("r-1");
  reply.correlation_id = "c-1";
  auto first = log_->recordAndEnqueue(received("m-1", "c-1"), reply, 1'000);
  OutboundMessage second_reply = outbound("r-2");
  auto again = log_->recordAndEnqueue(received("m-1", "c-1"), second_reply, 1'000);

  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_FALSE(first->has_value());
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_EQ((*again)->licgate_id, "soap-1-m-1");
  EXPECT_EQ(*log_->outboxSize(), 1);
  EXPECT_EQ(*log_->chainLength("c-1"), 1);
  auto claimed = log_->claimDue(1'000, 100);
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  EXPECT_EQ((*claimed)->licgate_id, "r-1");
  EXPECT_EQ((*claimed)->answer, "<soap:Envelope>r-1</soap:Envelope>");
}

TEST_F(ExchangeLogTest, RedisDownIsUnavailable) {
  redis_.stop();
  auto recorded = log_->record(received("m-1", "c-1"));
  ASSERT_FALSE(recorded.ok());
  EXPECT_EQ(recorded.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(recorded.error().message.find("Redis at 127.0.0.1:"), std::string::npos);
  auto length = log_->chainLength("c-1");
  ASSERT_FALSE(length.ok());
  EXPECT_EQ(length.error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace licgate::adapters::redis
