// The fast duplicate check of inbound message ids, in Redis.
//
// Key: "<prefix>seen:<sender system>:<message id>". A claim is one atomic
// SET key <token> NX PX <lease>: the first process to see a message claims
// it. After the store commits, markApplied sets the value to "applied" with
// the long expiry. A later claim that finds "applied" is a duplicate and is
// answered without touching the store; a claim held by another token (a
// process that is working on it or crashed) falls through to the store,
// whose transaction is the durable check. So Redis can lose keys, expire
// them or be down without the register ever applying a message twice.
//
// Blocking: every call waits for Redis (with the configured timeout). When
// Redis is unreachable calls return kUnavailable; the client reconnects on
// the next call after `retry_after_ms`.
//
// Thread-safe: one connection, guarded by a mutex, so calls from several
// threads run one at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "registry/result.hpp"

namespace licgate::adapters::redis {

struct RedisOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  int timeout_ms = 200;
  int retry_after_ms = 1000;
  std::string key_prefix = "licgate:";
  std::int64_t lease_ms = 60'000;            // a claim held while a message is worked on
  std::int64_t applied_ttl_ms = 86'400'000;  // how long "applied" is remembered
};

enum class Claim : std::uint8_t {
  kNew,            // claimed now: go ahead
  kApplied,        // this message was applied before: a duplicate
  kHeldElsewhere,  // another claim holds it: let the store decide
};

struct MessageKey {
  std::string sender_system;
  std::string message_id;
};

class SeenIds {
 public:
  virtual ~SeenIds() = default;

  // Claims each key (pipelined: one round trip for the batch).
  virtual registry::Result<std::vector<Claim>> claim(const std::vector<MessageKey>& keys) = 0;

  // Marks keys as applied (pipelined). Call only after the store commit.
  virtual registry::Status markApplied(const std::vector<MessageKey>& keys) = 0;

  // PING; kUnavailable when Redis does not answer.
  virtual registry::Status ping() = 0;
};

// Does not connect yet: the first call does, so licgate starts with Redis down.
std::unique_ptr<SeenIds> makeSeenIds(const RedisOptions& options);

}  // namespace licgate::adapters::redis
