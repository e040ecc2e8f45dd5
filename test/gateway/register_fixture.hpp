// A register in a temporary directory with the intake flow in front of it,
// as the tests of the gateway's APIs use it: a real SQLite store (without
// an fsync per commit), the sample configuration, no Redis.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "gateway/intake_flow.hpp"
#include "gateway/redis_health.hpp"
#include "registry/store.hpp"
#include "test/gateway/gateway_samples.hpp"
#include "test/gateway/test_support.hpp"

namespace licgate::testing {

class RegisterFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    registry::StoreOptions options;
    options.path = dir_.file("register.db");
    options.synchronous_full = false;
    auto store = registry::openSqliteStore(options);
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
    flow_ = std::make_unique<gateway::IntakeFlow>(config_, *store_, nullptr, redis_health_);
  }

  TempDir dir_;
  config::Config config_ = sampleConfig();
  gateway::RedisHealth redis_health_{false};
  std::unique_ptr<registry::Store> store_;
  std::unique_ptr<gateway::IntakeFlow> flow_;
};

}  // namespace licgate::testing
