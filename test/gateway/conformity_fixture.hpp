// The conformity flow with an injected clock, a real redis-server and a real
// SQLite register; the channels are a courier that records each parcel and
// lets the test settle it, since what a channel does is the courier's own
// test's matter (these tests are about what the flow does with each
// receipt, and what its APIs show).
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "config/calendar.hpp"
#include "gateway/conformity_flow.hpp"
#include "mapping/conformity.hpp"
#include "test/adapters/redis_process.hpp"
#include "test/gateway/gateway_samples.hpp"
#include "test/gateway/test_support.hpp"

namespace licgate::gateway::testing_conformity {

using registry::QueryState;
using registry::Verdict;

// 2026-12-04 (a Friday) 10:00 in Kazakhstan (UTC+5).
inline constexpr std::int64_t kFridayMorning = 1'796'360'400'000;
inline constexpr std::int64_t kHour = 3'600'000;

class RecordingCourier final : public Courier {
 public:
  struct Sent {
    config::BodyChannel channel;
    Parcel parcel;
    ReceiptCallback done;
  };
  void send(const config::BodyChannel& channel, Parcel parcel, ReceiptCallback done) override {
    std::lock_guard lock(mutex_);
    sent_.push_back({channel, std::move(parcel), std::move(done)});
  }
  // Takes what was sent since the last call.
  std::vector<Sent> take() {
    std::lock_guard lock(mutex_);
    return std::exchange(sent_, {});
  }

 private:
  std::mutex mutex_;
  std::vector<Sent> sent_;
};

inline config::BodyConfig body(std::string id, config::BodyChannel channel,
                               config::SilenceRule rule = config::SilenceRule::kConsent) {
  config::BodyConfig body;
  body.id = id;
  body.name = id;
  body.channel = std::move(channel);
  body.on_silence = rule;
  body.retry = {1000, 8000, 4};
  return body;
}

inline config::Config flowConfig() {
  config::Config config = testing::sampleConfig();
  auto calendar =
      config::loadCalendarFile(std::string(LICGATE_SOURCE_DIR) + "/config/calendar-kz.yaml");
  EXPECT_TRUE(calendar.ok()) << calendar.error().message;
  auto& conformity = config.conformity;
  conformity.calendar_data = calendar.ok() ? *calendar : registry::WorkingCalendarData{};
  conformity.bodies = {
      body("sanitary", {config::BodyChannelKind::kAmqpAddress, "conformity/sanitary", "", ""}),
      body("fire", {config::BodyChannelKind::kAmqpPeer, "queries", "amqp://127.0.0.1:5999", ""},
           config::SilenceRule::kExpire),
      body("ecology", {config::BodyChannelKind::kSoap, "", "", "http://127.0.0.1:5998/q"})};
  conformity.bodies[2].deadline_seconds = 20;
  conformity.activities = {
      {"05.1", {"sanitary", "fire"}}, {"12.3", {"ecology"}}, {"07.7", {"sanitary"}}};
  conformity.outcomes = {
      {testing::kCzLicensor,
       {config::BodyChannelKind::kAmqpAddress, "conformity/outcomes/cz", "", ""}}};
  return config;
}

inline registry::ConformityRequest request(const std::string& application_id,
                                           const std::string& activity = "05.1") {
  return {application_id,
          testing::kCzLicensor,
          {"050540004455", "Alem Energy LLP"},
          activity,
          R"({"site":"Almaty"})"};
}

inline registry::Conclusion conclusion(const std::string& query_id, const std::string& body,
                                       Verdict verdict = Verdict::kConforms) {
  return {query_id, body, verdict, {"checked by " + body}, "Inspector", "MIIB"};
}

class ConformityFlowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(redis_.start());
    registry::StoreOptions options;
    options.path = dir_.file("register.db");
    options.synchronous_full = false;
    // Nothing here waits for another writer but the test that holds the
    // register on purpose.
    options.busy_timeout_ms = 200;
    auto store = registry::openSqliteStore(options);
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
    adapters::redis::RedisOptions redis;
    redis.port = redis_.port();
    redis.timeout_ms = 2000;
    redis.key_prefix = "test:";
    tracker_ = adapters::redis::makeConformityTracker(redis);
    flow_ = std::make_unique<ConformityFlow>(config_, *store_, *tracker_, courier_,
                                             [this] { return now_.load(); });
  }

  // Settles every parcel sent since the last call with `fate`; returns them.
  std::vector<RecordingCourier::Sent> settleAll(Receipt::Fate fate, const std::string& error = "") {
    auto sent = courier_.take();
    for (auto& item : sent) {
      item.done({fate, error});
    }
    flow_->drain();
    return sent;
  }

  // A round of one body (activity 12.3, ecology) opened, its query
  // delivered and concluded: decided, its outcome sent and not yet settled.
  void decideOneBodyRound(const std::string& application_id) {
    ASSERT_TRUE(flow_->request("eru-export", request(application_id, "12.3")).ok());
    settleAll(Receipt::Fate::kDelivered);
    auto concluded =
        flow_->conclude("ecology", conclusion(queryId(application_id, "ecology"), "ecology"));
    ASSERT_TRUE(concluded.ok()) << concluded.error().message;
    flow_->drain();
  }

  registry::QueryView query(const std::string& application_id, const std::string& body) {
    auto round = flow_->round(application_id);
    EXPECT_TRUE(round.ok() && round->has_value());
    for (const auto& q : (*round)->queries) {
      if (q.body == body) {
        return q;
      }
    }
    ADD_FAILURE() << "no query to " << body;
    return {};
  }

  std::string queryId(const std::string& application_id, const std::string& body) {
    return mapping::queryIdFor(application_id, body);
  }

  test::RedisProcess redis_;
  testing::TempDir dir_;
  config::Config config_ = flowConfig();
  std::unique_ptr<registry::Store> store_;
  std::unique_ptr<adapters::redis::ConformityTracker> tracker_;
  RecordingCourier courier_;
  std::atomic<std::int64_t> now_{kFridayMorning};
  std::unique_ptr<ConformityFlow> flow_;
};

}  // namespace licgate::gateway::testing_conformity
