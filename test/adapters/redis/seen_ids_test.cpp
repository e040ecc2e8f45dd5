// SeenIds against a real redis-server on a free loopback port.
#include "adapters/redis/seen_ids.hpp"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "../redis_process.hpp"

namespace licgate::adapters::redis {
namespace {

using registry::ErrorCode;

class SeenIdsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(redis_.start()) << "redis-server did not start"; }

  RedisOptions options() const {
    RedisOptions options;
    options.port = redis_.port();
    options.retry_after_ms = 100;
    options.key_prefix = "t:";
    return options;
  }

  // What Redis itself holds under `key`, read on a separate connection.
  std::string rawGet(const std::string& key) {
    redisContext* context = redisConnect("127.0.0.1", redis_.port());
    auto* reply = static_cast<redisReply*>(redisCommand(context, "GET %s", key.c_str()));
    std::string value = reply->type == REDIS_REPLY_STRING ? reply->str : "<none>";
    freeReplyObject(reply);
    redisFree(context);
    return value;
  }

  // `key` empty: a command without arguments.
  long long rawCommandInteger(const std::string& command, const std::string& key) {
    redisContext* context = redisConnect("127.0.0.1", redis_.port());
    auto* reply = static_cast<redisReply*>(
        key.empty() ? redisCommand(context, command.c_str())
                    : redisCommand(context, (command + " %s").c_str(), key.c_str()));
    long long value = reply->integer;
    freeReplyObject(reply);
    redisFree(context);
    return value;
  }

  test::RedisProcess redis_;
};

const MessageKey kFirst{"tax", "m-1"};
const MessageKey kSecond{"tax", "m-2"};

std::vector<Claim> claimsOf(const registry::Result<Claims>& claims) {
  return claims.ok() ? claims->claims : std::vector<Claim>{};
}

TEST_F(SeenIdsTest, ClaimsUnseenKeysAsNew) {
  auto seen = makeSeenIds(options());

  auto claims = seen->claim({kFirst, kSecond});

  ASSERT_TRUE(claims.ok()) << claims.error().message;
  EXPECT_EQ(claims->claims, (std::vector<Claim>{Claim::kNew, Claim::kNew}));
}

TEST_F(SeenIdsTest, EachClaimIsANewBatch) {
  auto seen = makeSeenIds(options());

  auto first = seen->claim({kFirst});
  auto second = seen->claim({kSecond});

  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(first->batch, second->batch);
}

TEST_F(SeenIdsTest, KeyHeldByABatchNotAppliedIsHeldElsewhere) {
  auto seen = makeSeenIds(options());
  auto other = makeSeenIds(options());
  ASSERT_TRUE(seen->claim({kFirst}).ok());

  auto claims = other->claim({kFirst, kSecond});

  EXPECT_EQ(claimsOf(claims), (std::vector<Claim>{Claim::kHeldElsewhere, Claim::kNew}));
}

TEST_F(SeenIdsTest, KeyOfAnAppliedBatchIsClaimedAsApplied) {
  auto seen = makeSeenIds(options());
  auto other = makeSeenIds(options());
  auto first = seen->claim({kFirst, kSecond});
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(seen->markApplied(first->batch, {}, 0).ok());

  auto claims = other->claim({kSecond, kFirst});

  EXPECT_EQ(claimsOf(claims), (std::vector<Claim>{Claim::kApplied, Claim::kApplied}));
}

TEST_F(SeenIdsTest, ClaimIsOneKeyWithTheBatchAndTheLongExpiry) {
  auto seen = makeSeenIds(options());

  auto claims = seen->claim({kFirst});

  ASSERT_TRUE(claims.ok());
  std::string value = rawGet("t:seen:tax:m-1");
  EXPECT_EQ(value.size(), 32u + 1 + std::to_string(claims->batch).size()) << value;
  EXPECT_EQ(value.substr(value.find(':') + 1), std::to_string(claims->batch));
  long long ttl_ms = rawCommandInteger("PTTL", "t:seen:tax:m-1");
  EXPECT_GT(ttl_ms, 86'000'000);
  EXPECT_LE(ttl_ms, 86'400'000);
}

TEST_F(SeenIdsTest, AppliedBatchIsOneKeyNamedByItsClaimValue) {
  auto seen = makeSeenIds(options());
  auto claims = seen->claim({kFirst, kSecond});
  ASSERT_TRUE(claims.ok());

  ASSERT_TRUE(seen->markApplied(claims->batch, {}, 0).ok());

  std::string batch_key = "t:batch:" + rawGet("t:seen:tax:m-1");
  EXPECT_EQ(rawGet(batch_key), "applied");
  EXPECT_GT(rawCommandInteger("PTTL", batch_key), 86'000'000);
  EXPECT_EQ(rawCommandInteger("DBSIZE", ""), 3);  // two claims, one batch
}

TEST_F(SeenIdsTest, ClaimNotAppliedIsDroppedAndCanBeClaimedAgain) {
  auto seen = makeSeenIds(options());
  auto claims = seen->claim({kFirst, kSecond});
  ASSERT_TRUE(claims.ok());
  BatchFate fate;
  fate.not_applied = {kSecond};
  ASSERT_TRUE(seen->markApplied(claims->batch, fate, 0).ok());

  auto again = seen->claim({kFirst, kSecond});

  EXPECT_EQ(rawGet("t:seen:tax:m-2").substr(33), std::to_string(again->batch));
  EXPECT_EQ(claimsOf(again), (std::vector<Claim>{Claim::kApplied, Claim::kNew}));
}

TEST_F(SeenIdsTest, ClaimTakenOverFromAnUnappliedBatchIsAppliedWithTheNewBatch) {
  auto crashed = makeSeenIds(options());
  ASSERT_TRUE(crashed->claim({kFirst}).ok());
  auto seen = makeSeenIds(options());
  auto claims = seen->claim({kFirst});
  ASSERT_EQ(claimsOf(claims), std::vector<Claim>{Claim::kHeldElsewhere});
  BatchFate fate;
  fate.applied_before = {kFirst};

  ASSERT_TRUE(seen->markApplied(claims->batch, fate, 0).ok());

  auto other = makeSeenIds(options());
  EXPECT_EQ(claimsOf(other->claim({kFirst})), std::vector<Claim>{Claim::kApplied});
}

TEST_F(SeenIdsTest, HighWaterOnlyRises) {
  auto seen = makeSeenIds(options());
  auto other = makeSeenIds(options());
  auto before = seen->highWater();
  auto first = seen->claim({kFirst});
  auto second = other->claim({kSecond});

  ASSERT_TRUE(seen->markApplied(first->batch, {}, 40).ok());
  ASSERT_TRUE(other->markApplied(second->batch, {}, 25).ok());
  auto after = other->highWater();

  ASSERT_TRUE(before.ok() && after.ok());
  EXPECT_EQ(*before, 0u);
  EXPECT_EQ(*after, 40u);
  EXPECT_EQ(rawGet("t:high-water"), "40");
}

TEST_F(SeenIdsTest, MessageMarkedByAnEarlierVersionIsApplied) {
  redisContext* context = redisConnect("127.0.0.1", redis_.port());
  freeReplyObject(redisCommand(context, "SET t:seen:tax:m-1 applied"));
  redisFree(context);
  auto seen = makeSeenIds(options());

  auto claims = seen->claim({kFirst});

  EXPECT_EQ(claimsOf(claims), std::vector<Claim>{Claim::kApplied});
}

TEST_F(SeenIdsTest, SameMessageIdFromAnotherSenderIsNew) {
  auto seen = makeSeenIds(options());
  auto claims = seen->claim({kFirst});
  ASSERT_TRUE(seen->markApplied(claims->batch, {}, 0).ok());

  auto other = seen->claim({MessageKey{"statistics", "m-1"}});

  EXPECT_EQ(claimsOf(other), std::vector<Claim>{Claim::kNew});
}

TEST_F(SeenIdsTest, ClaimExpiresAfterTheTtl) {
  RedisOptions short_ttl = options();
  short_ttl.applied_ttl_ms = 100;
  auto seen = makeSeenIds(short_ttl);
  auto claims = seen->claim({kFirst});
  ASSERT_TRUE(seen->markApplied(claims->batch, {}, 0).ok());

  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  auto again = seen->claim({kFirst});

  EXPECT_EQ(claimsOf(again), std::vector<Claim>{Claim::kNew});
}

TEST_F(SeenIdsTest, EmptyBatchNeedsNoRedis) {
  redis_.stop();
  auto seen = makeSeenIds(options());

  auto claims = seen->claim({});

  ASSERT_TRUE(claims.ok());
  EXPECT_TRUE(claims->claims.empty());
}

TEST_F(SeenIdsTest, PingAnswersWhenRedisIsUp) {
  auto seen = makeSeenIds(options());

  auto status = seen->ping();

  EXPECT_TRUE(status.ok()) << status.error().message;
}

TEST_F(SeenIdsTest, RedisDownIsUnavailableNamingTheAddress) {
  redis_.stop();
  auto seen = makeSeenIds(options());

  auto claims = seen->claim({kFirst});

  ASSERT_FALSE(claims.ok());
  EXPECT_EQ(claims.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(claims.error().message.find("127.0.0.1:" + std::to_string(redis_.port())),
            std::string::npos)
      << claims.error().message;
}

TEST_F(SeenIdsTest, MarkAppliedWithRedisDownIsUnavailable) {
  auto seen = makeSeenIds(options());
  auto claims = seen->claim({kFirst});
  ASSERT_TRUE(claims.ok());
  redis_.stop();

  auto status = seen->markApplied(claims->batch, {}, 0);

  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kUnavailable);
}

TEST_F(SeenIdsTest, PingWithRedisDownIsUnavailable) {
  redis_.stop();
  auto seen = makeSeenIds(options());

  auto status = seen->ping();

  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kUnavailable);
}

TEST_F(SeenIdsTest, WorksAgainAfterRedisRestarts) {
  auto seen = makeSeenIds(options());
  ASSERT_TRUE(seen->claim({kFirst}).ok());
  redis_.stop();
  ASSERT_FALSE(seen->claim({kSecond}).ok());
  ASSERT_TRUE(redis_.start());

  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  auto claims = seen->claim({kSecond});

  EXPECT_EQ(claimsOf(claims), std::vector<Claim>{Claim::kNew});
}

TEST_F(SeenIdsTest, DoesNotReconnectBeforeRetryInterval) {
  RedisOptions slow_retry = options();
  slow_retry.retry_after_ms = 60'000;
  redis_.stop();
  auto seen = makeSeenIds(slow_retry);
  ASSERT_FALSE(seen->ping().ok());
  ASSERT_TRUE(redis_.start());

  auto status = seen->ping();

  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("next attempt in"), std::string::npos)
      << status.error().message;
}

TEST_F(SeenIdsTest, SilentRedisTimesOutAsUnavailable) {
  RedisOptions short_timeout = options();
  short_timeout.timeout_ms = 100;
  auto seen = makeSeenIds(short_timeout);
  ASSERT_TRUE(seen->ping().ok());
  redis_.pause();

  auto started = std::chrono::steady_clock::now();
  auto claims = seen->claim({kFirst});
  auto waited = std::chrono::steady_clock::now() - started;
  redis_.resume();

  ASSERT_FALSE(claims.ok());
  EXPECT_EQ(claims.error().code, ErrorCode::kUnavailable);
  EXPECT_LT(waited, std::chrono::seconds(2));
}

// A Redis out of memory refuses every write with an error reply.
TEST_F(SeenIdsTest, ErrorReplyIsUnavailableNamingTheKey) {
  redisContext* context = redisConnect("127.0.0.1", redis_.port());
  freeReplyObject(redisCommand(context, "CONFIG SET maxmemory-policy noeviction"));
  freeReplyObject(redisCommand(context, "CONFIG SET maxmemory 1"));
  redisFree(context);
  auto seen = makeSeenIds(options());

  auto claims = seen->claim({kFirst});

  ASSERT_FALSE(claims.ok());
  EXPECT_EQ(claims.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(claims.error().message.find("t:seen:tax:m-1"), std::string::npos)
      << claims.error().message;
  EXPECT_NE(claims.error().message.find("OOM"), std::string::npos) << claims.error().message;
}

TEST_F(SeenIdsTest, KeyOfAnotherTypeIsLeftToTheStore) {
  redisContext* context = redisConnect("127.0.0.1", redis_.port());
  freeReplyObject(redisCommand(context, "LPUSH t:seen:tax:m-1 x"));
  redisFree(context);
  auto seen = makeSeenIds(options());

  auto claims = seen->claim({kFirst});

  EXPECT_EQ(claimsOf(claims), std::vector<Claim>{Claim::kHeldElsewhere});
}

}  // namespace
}  // namespace licgate::adapters::redis
