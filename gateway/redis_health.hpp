// Whether Redis answers, as the intake and /readyz see it.
//
// Redis is an accelerator in front of the store's durable duplicate check
// (adapters/redis/seen_ids.hpp): when it is down licgate keeps taking events
// on the store alone, reports "redis":"degraded" in /readyz and in the
// licgate_redis_degraded gauge, and logs one warning per outage rather than
// one per batch.
#pragma once

#include <atomic>
#include <cstdint>

#include "registry/result.hpp"

namespace licgate::gateway {

class RedisHealth {
 public:
  // `enabled` false: Redis is not configured; degraded() stays false.
  explicit RedisHealth(bool enabled) : enabled_(enabled) {}

  bool enabled() const { return enabled_; }
  bool degraded() const { return degraded_.load(); }

  // Outages begun since start (a counter for /metrics).
  std::uint64_t outages() const { return outages_.load(); }

  // A call to Redis failed. The first failure of an outage logs a warning
  // naming the error. Thread-safe.
  void reportFailure(const registry::Error& error);

  // A call to Redis succeeded; ends an outage (logged at info). Thread-safe.
  void reportSuccess();

 private:
  const bool enabled_;
  std::atomic<bool> degraded_{false};
  std::atomic<std::uint64_t> outages_{0};
};

}  // namespace licgate::gateway
