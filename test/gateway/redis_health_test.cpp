// Tests of Redis outage tracking.
#include "gateway/redis_health.hpp"

#include <gtest/gtest.h>

namespace licgate::gateway {
namespace {

const registry::Error kDown =
    registry::makeError(registry::ErrorCode::kUnavailable, "redis 127.0.0.1:1: refused");

TEST(RedisHealth, CountsOneOutageForManyFailures) {
  RedisHealth health(true);

  health.reportFailure(kDown);
  health.reportFailure(kDown);

  EXPECT_TRUE(health.degraded());
  EXPECT_EQ(health.outages(), 1u);
}

TEST(RedisHealth, EndsTheOutageOnSuccess) {
  RedisHealth health(true);
  health.reportFailure(kDown);

  health.reportSuccess();
  health.reportFailure(kDown);

  EXPECT_TRUE(health.degraded());
  EXPECT_EQ(health.outages(), 2u);
}

TEST(RedisHealth, StartsUp) {
  RedisHealth health(true);

  EXPECT_FALSE(health.degraded());
  EXPECT_EQ(health.outages(), 0u);
}

}  // namespace
}  // namespace licgate::gateway
