// Redis outage tracking (gateway/redis_health.hpp).
#include "gateway/redis_health.hpp"

#include "gateway/logging.hpp"

namespace licgate::gateway {

void RedisHealth::reportFailure(const registry::Error& error) {
  if (degraded_.exchange(true)) {
    return;
  }
  outages_.fetch_add(1);
  getLogger("gateway")->warn(
      "redis unavailable, duplicate checks fall back to the store until it answers: {}",
      error.message);
}

void RedisHealth::reportSuccess() {
  if (degraded_.exchange(false)) {
    getLogger("gateway")->info("redis answers again, duplicate checks use it");
  }
}

}  // namespace licgate::gateway
