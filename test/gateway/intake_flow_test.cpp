// Tests of the intake flow with a real SQLite store in a temporary directory
// and, where Redis matters, a real redis-server. The flow is called as the
// AMQP intake would call it; the AMQP path end to end is in
// licgate_program_test.cpp.
#include "gateway/intake_flow.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "test/gateway/gateway_samples.hpp"
#include "test/gateway/test_support.hpp"

namespace licgate::gateway {
namespace {

using adapters::amqp::Delivery;
using adapters::amqp::Settle;
using registry::EventType;
using testing::delivery;
using testing::importEvent;
using testing::licenceEvent;

class IntakeFlowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry::StoreOptions options;
    options.path = dir_.file("register.db");
    options.synchronous_full = false;
    options.busy_timeout_ms = 100;
    auto store = registry::openSqliteStore(options);
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
  }

  // A SeenIds on a port where nothing listens: every call is kUnavailable.
  std::unique_ptr<adapters::redis::SeenIds> unreachableRedis() {
    adapters::redis::RedisOptions options;
    options.port = testing::pickFreePort();
    options.timeout_ms = 100;
    options.retry_after_ms = 10;
    return adapters::redis::makeSeenIds(options);
  }

  std::unique_ptr<adapters::redis::SeenIds> redisAt(int port) {
    adapters::redis::RedisOptions options;
    options.port = port;
    options.timeout_ms = 500;
    options.retry_after_ms = 10;
    options.key_prefix = "test:";
    return adapters::redis::makeSeenIds(options);
  }

  testing::TempDir dir_;
  std::unique_ptr<registry::Store> store_;
  config::Config config_ = testing::sampleConfig();
  RedisHealth no_redis_{false};
};

TEST_F(IntakeFlowTest, AcceptsAndAppliesValidEvent) {
  IntakeFlow flow(config_, *store_, nullptr, no_redis_);

  auto verdicts = flow.processBatch({delivery("eru-export", "m-1", importEvent("310100016"))});

  ASSERT_EQ(verdicts.size(), 1u);
  EXPECT_EQ(verdicts[0].settle, Settle::kAccept);
  EXPECT_EQ(verdicts[0].outcome, "applied");
  EXPECT_EQ(verdicts[0].licence_number, "310100016");
  auto licence = store_->findLicence("310100016");
  ASSERT_TRUE(licence.ok()) << licence.error().message;
  EXPECT_EQ(licence->holder.name, "Obec Velký Karlov");
}

TEST_F(IntakeFlowTest, AnswersTheSameMessageAgainAsDuplicate) {
  IntakeFlow flow(config_, *store_, nullptr, no_redis_);
  const Delivery message = delivery("eru-export", "m-1", importEvent("310100016"));
  flow.processBatch({message});

  auto verdicts = flow.processBatch({message});

  EXPECT_EQ(verdicts[0].settle, Settle::kAccept);
  EXPECT_EQ(verdicts[0].outcome, "duplicate");
  EXPECT_EQ(flow.counters().duplicate, 1u);
  EXPECT_EQ(flow.counters().duplicate_by_redis, 0u);
}

TEST_F(IntakeFlowTest, RejectsSystemNotConfigured) {
  IntakeFlow flow(config_, *store_, nullptr, no_redis_);

  auto verdicts = flow.processBatch({delivery("intruder", "m-1", importEvent("310100016"))});

  EXPECT_EQ(verdicts[0].settle, Settle::kReject);
  EXPECT_EQ(verdicts[0].condition, "amqp:unauthorized-access");
  EXPECT_EQ(verdicts[0].error_code, "not-authorised");
  EXPECT_EQ(verdicts[0].description, "system \"intruder\" is not known to licgate");
  EXPECT_FALSE(store_->findLicence("310100016").ok());
}

TEST_F(IntakeFlowTest, RejectsSystemActingForAnotherLicensor) {
  IntakeFlow flow(config_, *store_, nullptr, no_redis_);
  auto event = importEvent("310100016");
  event.licensor = testing::kKzLicensor;

  auto verdicts = flow.processBatch({delivery("eru-export", "m-1", event)});

  EXPECT_EQ(verdicts[0].settle, Settle::kReject);
  EXPECT_EQ(verdicts[0].description, "system \"eru-export\" may not act for licensor \"KZ-MIIR\"");
}

TEST_F(IntakeFlowTest, RejectsLicensorNotInTheRegister) {
  IntakeFlow flow(config_, *store_, nullptr, no_redis_);
  auto event = importEvent("310100016");
  event.licensor = "XX-NOBODY";

  auto verdicts = flow.processBatch({delivery("portal", "m-1", event)});

  EXPECT_EQ(verdicts[0].settle, Settle::kReject);
  EXPECT_EQ(verdicts[0].description, "licensor \"XX-NOBODY\" is not a licensor of this register");
}

TEST_F(IntakeFlowTest, RejectsMessageWithoutSystemAndKeepsIt) {
  IntakeFlow flow(config_, *store_, nullptr, no_redis_);

  auto verdicts = flow.processBatch({delivery("", "m-1", importEvent("310100016"))});

  EXPECT_EQ(verdicts[0].settle, Settle::kReject);
  EXPECT_EQ(store_->counts()->dead_letters, 1u);
  EXPECT_FALSE(store_->findLicence("310100016").ok());
}

TEST_F(IntakeFlowTest, RejectsMessageWithoutIdAndKeepsIt) {
  IntakeFlow flow(config_, *store_, nullptr, no_redis_);

  auto verdicts = flow.processBatch({delivery("eru-export", "", importEvent("310100016"))});

  EXPECT_EQ(verdicts[0].settle, Settle::kReject);
  EXPECT_EQ(verdicts[0].error_code, "invalid-field");
  auto letters = store_->deadLetters(0, 10);
  ASSERT_TRUE(letters.ok());
  ASSERT_EQ(letters->size(), 1u);
  EXPECT_TRUE((*letters)[0].message_id.starts_with("missing-id:sha256:"));
}

TEST_F(IntakeFlowTest, RejectsMalformedBodyAndKeepsItAsDeadLetter) {
  IntakeFlow flow(config_, *store_, nullptr, no_redis_);
  Delivery broken = delivery("eru-export", "m-9", importEvent("310100016"));
  broken.body = "<licenceEvent";

  auto verdicts = flow.processBatch({broken});

  EXPECT_EQ(verdicts[0].settle, Settle::kReject);
  EXPECT_EQ(verdicts[0].condition, "amqp:decode-error");
  auto letters = store_->deadLetters(0, 10);
  ASSERT_TRUE(letters.ok());
  ASSERT_EQ(letters->size(), 1u);
  EXPECT_EQ((*letters)[0].message_id, "m-9");
  EXPECT_EQ((*letters)[0].body, "<licenceEvent");
}

TEST_F(IntakeFlowTest, KeepsADeliveryTheIntakeRefusedAsADeadLetter) {
  IntakeFlow flow(config_, *store_, nullptr, no_redis_);
  Delivery big = delivery("eru-export", "m-1", importEvent("310100016"));
  big.body.clear();
  big.refused = registry::makeError(registry::ErrorCode::kTooLarge,
                                    "the message body of 2000000 bytes is over the limit");

  auto verdicts = flow.processBatch({big});

  EXPECT_EQ(verdicts[0].settle, Settle::kReject);
  EXPECT_EQ(verdicts[0].error_code, "too-large");
  auto letters = store_->deadLetters(0, 10);
  ASSERT_TRUE(letters.ok());
  ASSERT_EQ(letters->size(), 1u);
  EXPECT_EQ((*letters)[0].message_id, "m-1");
  EXPECT_EQ((*letters)[0].reason, "the message body of 2000000 bytes is over the limit");
  EXPECT_EQ(flow.counters().rejected_by_reason.at("too-large"), 1u);
}

TEST_F(IntakeFlowTest, RejectsIllegalTransitionWithPreconditionFailed) {
  IntakeFlow flow(config_, *store_, nullptr, no_redis_);
  flow.processBatch({delivery("eru-export", "m-1", importEvent("310100016"))});

  auto verdicts = flow.processBatch(
      {delivery("eru-export", "m-2", licenceEvent(EventType::kResume, "310100016"))});

  EXPECT_EQ(verdicts[0].settle, Settle::kReject);
  EXPECT_EQ(verdicts[0].condition, "amqp:precondition-failed");
  EXPECT_EQ(verdicts[0].error_code, "illegal-transition");
}

TEST_F(IntakeFlowTest, DecidesEachMessageOfABatchOnItsOwn) {
  IntakeFlow flow(config_, *store_, nullptr, no_redis_);

  auto verdicts = flow.processBatch({
      delivery("eru-export", "m-1", importEvent("310100016")),
      delivery("eru-export", "m-2", licenceEvent(EventType::kResume, "310100016")),
      delivery("eru-export", "m-3", licenceEvent(EventType::kSuspend, "310100016")),
  });

  ASSERT_EQ(verdicts.size(), 3u);
  EXPECT_EQ(verdicts[0].outcome, "applied");
  EXPECT_EQ(verdicts[1].outcome, "rejected");
  EXPECT_EQ(verdicts[2].outcome, "applied");
  EXPECT_EQ(store_->findLicence("310100016")->status, registry::LicenceStatus::kSuspended);
}

TEST_F(IntakeFlowTest, AnswersIdenticalImportAsUnchanged) {
  IntakeFlow flow(config_, *store_, nullptr, no_redis_);
  flow.processBatch({delivery("eru-export", "m-1", importEvent("310100016"))});

  auto verdicts = flow.processBatch({delivery("eru-export", "m-2", importEvent("310100016"))});

  EXPECT_EQ(verdicts[0].settle, Settle::kAccept);
  EXPECT_EQ(verdicts[0].outcome, "unchanged");
  EXPECT_EQ(flow.counters().unchanged, 1u);
}

TEST_F(IntakeFlowTest, CountsDispositionsAndRejectionReasons) {
  IntakeFlow flow(config_, *store_, nullptr, no_redis_);

  flow.processBatch({
      delivery("eru-export", "m-1", importEvent("310100016")),
      delivery("eru-export", "m-1", importEvent("310100016")),
      delivery("eru-export", "m-2", licenceEvent(EventType::kResume, "310100016")),
      delivery("eru-export", "m-3", licenceEvent(EventType::kSuspend, "319999999")),
      delivery("nobody", "m-4", importEvent("310100017")),
  });
  const IntakeCounters counters = flow.counters();

  EXPECT_EQ(counters.batches, 1u);
  EXPECT_EQ(counters.messages, 5u);
  EXPECT_EQ(counters.applied, 1u);
  EXPECT_EQ(counters.duplicate, 1u);
  EXPECT_EQ(counters.rejected, 3u);
  EXPECT_EQ(counters.rejected_by_reason.at("illegal-transition"), 1u);
  EXPECT_EQ(counters.rejected_by_reason.at("unknown-licence"), 1u);
  EXPECT_EQ(counters.rejected_by_reason.at("not-authorised"), 1u);
}

TEST_F(IntakeFlowTest, ReleasesBatchWhenStoreCannotCommit) {
  IntakeFlow flow(config_, *store_, nullptr, no_redis_);
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(dir_.file("register.db").c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);

  auto verdicts = flow.processBatch({delivery("eru-export", "m-1", importEvent("310100016")),
                                     delivery("eru-export", "m-2", importEvent("310100017"))});
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);

  ASSERT_EQ(verdicts.size(), 2u);
  EXPECT_EQ(verdicts[0].settle, Settle::kRelease);
  EXPECT_EQ(verdicts[1].settle, Settle::kRelease);
  EXPECT_EQ(flow.counters().released, 2u);
  EXPECT_FALSE(store_->findLicence("310100016").ok());
}

TEST_F(IntakeFlowTest, AnswersDuplicateFromRedisWithoutTheStore) {
  testing::RedisServer redis(dir_.path());
  redis.start();
  auto seen_ids = redisAt(redis.port());
  RedisHealth health(true);
  IntakeFlow flow(config_, *store_, seen_ids.get(), health);
  const Delivery message = delivery("eru-export", "m-1", importEvent("310100016"));
  flow.processBatch({message});

  auto verdicts = flow.processBatch({message});

  EXPECT_EQ(verdicts[0].settle, Settle::kAccept);
  EXPECT_EQ(verdicts[0].outcome, "duplicate");
  EXPECT_EQ(verdicts[0].licence_number, "310100016");
  EXPECT_EQ(flow.counters().duplicate_by_redis, 1u);
  EXPECT_FALSE(health.degraded());
}

// The intake prepares a batch while the one before it commits: a message
// sent again in the next batch is claimed before its first copy is marked
// applied, so the store has to answer it.
TEST_F(IntakeFlowTest, MessageInTheBatchPreparedDuringItsCommitIsADuplicate) {
  testing::RedisServer redis(dir_.path());
  redis.start();
  auto seen_ids = redisAt(redis.port());
  RedisHealth health(true);
  IntakeFlow flow(config_, *store_, seen_ids.get(), health);
  const std::vector<Delivery> first = {delivery("eru-export", "m-1", importEvent("310100016"))};
  const std::vector<Delivery> second = {delivery("eru-export", "m-1", importEvent("310100016")),
                                        delivery("eru-export", "m-2", importEvent("310100017"))};

  auto first_prepared = flow.prepareBatch(first);
  auto second_prepared = flow.prepareBatch(second);
  auto first_verdicts = flow.commitBatch(*first_prepared, first);
  auto second_verdicts = flow.commitBatch(*second_prepared, second);

  EXPECT_EQ(first_verdicts[0].outcome, "applied");
  EXPECT_EQ(second_verdicts[0].outcome, "duplicate");
  EXPECT_EQ(second_verdicts[1].outcome, "applied");
  EXPECT_EQ(flow.counters().duplicate_by_redis, 0u);
  EXPECT_EQ(flow.counters().applied, 2u);
}

// Redis claimed the message, but the store rejected it: its claim is
// dropped, so a copy is not taken for applied.
TEST_F(IntakeFlowTest, RejectedEventSentAgainIsRejectedAgainWithRedis) {
  testing::RedisServer redis(dir_.path());
  redis.start();
  auto seen_ids = redisAt(redis.port());
  RedisHealth health(true);
  IntakeFlow flow(config_, *store_, seen_ids.get(), health);
  const Delivery resume = delivery("eru-export", "m-1", licenceEvent(EventType::kResume, "31"));
  auto first = flow.processBatch({resume});

  auto again = flow.processBatch({resume});

  EXPECT_EQ(first[0].settle, Settle::kReject);
  EXPECT_EQ(again[0].settle, Settle::kReject);
  EXPECT_EQ(again[0].error_code, first[0].error_code);
  EXPECT_EQ(flow.counters().duplicate_by_redis, 0u);
}

TEST_F(IntakeFlowTest, KeepsApplyingOnTheStoreWhenRedisIsDown) {
  auto seen_ids = unreachableRedis();
  RedisHealth health(true);
  IntakeFlow flow(config_, *store_, seen_ids.get(), health);

  auto first = flow.processBatch({delivery("eru-export", "m-1", importEvent("310100016"))});
  auto again = flow.processBatch({delivery("eru-export", "m-1", importEvent("310100016"))});

  EXPECT_EQ(first[0].outcome, "applied");
  EXPECT_EQ(again[0].outcome, "duplicate");
  EXPECT_TRUE(health.degraded());
  EXPECT_EQ(health.outages(), 1u);
}

TEST_F(IntakeFlowTest, EndsTheOutageWhenRedisAnswersAgain) {
  testing::RedisServer redis(dir_.path());
  auto seen_ids = redisAt(redis.port());
  RedisHealth health(true);
  IntakeFlow flow(config_, *store_, seen_ids.get(), health);
  flow.processBatch({delivery("eru-export", "m-1", importEvent("310100016"))});
  ASSERT_TRUE(health.degraded());
  redis.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));

  auto verdicts = flow.processBatch({delivery("eru-export", "m-2", importEvent("310100017"))});

  EXPECT_EQ(verdicts[0].outcome, "applied");
  EXPECT_FALSE(health.degraded());
  EXPECT_EQ(health.outages(), 1u);
}

TEST(Verdict, ReleasesWhenThereIsNoOutcome) {
  auto verdict = verdictFor(std::nullopt);

  EXPECT_EQ(verdict.settle, Settle::kRelease);
}

TEST(Verdict, RejectsWithTheConditionOfTheErrorTable) {
  registry::Outcome outcome;
  outcome.disposition = registry::Disposition::kRejected;
  outcome.error = registry::makeError(registry::ErrorCode::kTooLarge, "body of 2 MB");

  auto verdict = verdictFor(outcome);

  EXPECT_EQ(verdict.settle, Settle::kReject);
  EXPECT_EQ(verdict.condition, "amqp:link:message-size-exceeded");
  EXPECT_EQ(verdict.error_code, "too-large");
  EXPECT_EQ(verdict.description, "body of 2 MB");
}

}  // namespace
}  // namespace licgate::gateway
