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
  auto found = log->find("nobody");
  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_FALSE(found->has_value());
  auto length = log->chainLength("no-chain");
  ASSERT_TRUE(length.ok());
  EXPECT_EQ(*length, 0);
}

TEST_F(ExchangeLogTest, RecordsAMessageWithItsChainAndLicgateId) {
  auto fresh = log_->record(received("m-1", "c-1"));
  ASSERT_TRUE(fresh.ok()) << fresh.error().message;
  EXPECT_TRUE(*fresh);

  auto found = log_->find("m-1");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->correlation_id, "c-1");
  EXPECT_EQ((*found)->licgate_id, "soap-1-m-1");
  EXPECT_EQ((*found)->direction, "received");
  EXPECT_EQ((*found)->sender, "portal");
  EXPECT_EQ((*found)->service_id, "LICGATE_EVENTS");
  EXPECT_EQ((*found)->message_type, "REQUEST");
  EXPECT_EQ((*found)->outcome, "applied");
  EXPECT_EQ(*log_->chainLength("c-1"), 1);
}

TEST_F(ExchangeLogTest, TheFirstRecordOfAMessageStands) {
  ASSERT_TRUE(*log_->record(received("m-1", "c-1")));
  ExchangeRecord again = received("m-1", "c-1");
  again.outcome = "duplicate";
  again.licgate_id = "soap-2-m-1";
  auto fresh = log_->record(again);
  ASSERT_TRUE(fresh.ok());
  EXPECT_FALSE(*fresh);
  EXPECT_EQ((*log_->find("m-1"))->outcome, "applied");
  EXPECT_EQ((*log_->find("m-1"))->licgate_id, "soap-1-m-1");
  EXPECT_EQ(*log_->chainLength("c-1"), 1);
}

TEST_F(ExchangeLogTest, ChainCollectsItsMessagesAndKeysExpire) {
  ASSERT_TRUE(*log_->record(received("m-1", "c-1")));
  ExchangeRecord update = received("m-2", "c-1");
  update.message_type = "UPDATE";
  ASSERT_TRUE(*log_->record(update));
  ASSERT_TRUE(*log_->record(received("m-3", "c-2")));
  EXPECT_EQ(*log_->chainLength("c-1"), 2);
  EXPECT_EQ(*log_->chainLength("c-2"), 1);

  long long ttl = rawInteger("PTTL", "t:shep:chain:c-1");
  EXPECT_GT(ttl, 50'000);
  EXPECT_LE(ttl, 60'000);
  EXPECT_GT(rawInteger("PTTL", "t:shep:message:m-2"), 50'000);
}

TEST_F(ExchangeLogTest, StatusIsNotedOnlyForMessagesLicgateSent) {
  ASSERT_TRUE(*log_->record(received("in-1", "c-1")));
  ExchangeRecord sent = received("out-1", "c-1");
  sent.direction = "sent";
  sent.message_type = "RESPONSE";
  ASSERT_TRUE(*log_->record(sent));
  StatusNote note{"n-1", "DELIVERED", "OK", "delivered", "2026-12-04T10:00:00+06:00", ""};

  auto unknown = log_->noteStatus("nobody", note);
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(*unknown);
  EXPECT_EQ(rawInteger("EXISTS", "t:shep:message:nobody"), 0);
  auto inbound = log_->noteStatus("in-1", note);
  ASSERT_TRUE(inbound.ok());
  EXPECT_FALSE(*inbound);
  EXPECT_EQ((*log_->find("in-1"))->state, "");

  auto noted = log_->noteStatus("out-1", note);
  ASSERT_TRUE(noted.ok());
  EXPECT_TRUE(*noted);
  auto found = log_->find("out-1");
  EXPECT_EQ((*found)->state, "DELIVERED");
  EXPECT_EQ((*found)->status_code, "OK");
  EXPECT_EQ((*found)->status_date, "2026-12-04T10:00:00+06:00");
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
