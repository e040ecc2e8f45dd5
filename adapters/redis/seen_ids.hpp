// The fast duplicate check of inbound message ids, in Redis.
//
// Key: "<prefix>seen:<sender system>:<message id>", where the gateway makes
// the prefix name the register's incarnation (registry/store.hpp), so that
// no register is answered for with another's keys. A claim is one atomic
// SET key <token>:<batch> NX PX <applied ttl>: the first process to see a
// message claims it for one of its batches (token: 128 random bits per
// process; batch: a counter). After the store commits the batch, one key,
// "<prefix>batch:<token>:<batch>", records that the batch was applied, so
// a batch costs Redis one command per message and one more per batch. A
// later claim that finds the key held reads its value: held by an applied
// batch (or "applied", written by earlier licgate versions), the message is
// a duplicate and is answered without touching the store; held by a batch
// not applied (in work in this or another process, or lost in a crash), it
// falls through to the store, whose transaction is the durable check. So
// Redis can lose keys, expire them or be down without the register ever
// applying a message twice.
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
  std::int64_t applied_ttl_ms = 86'400'000;  // how long a claimed message is remembered
};

enum class Claim : std::uint8_t {
  kNew,            // claimed now for this batch: go ahead
  kApplied,        // this message was applied before: a duplicate
  kHeldElsewhere,  // a batch not (yet) applied holds it: let the store decide
};

struct MessageKey {
  std::string sender_system;
  std::string message_id;
};

// The claims of one batch: `batch` names it for markApplied.
struct Claims {
  std::uint64_t batch = 0;
  std::vector<Claim> claims;  // one per key, in order
};

// What the store made of a claimed batch, for markApplied.
struct BatchFate {
  // Claimed kNew but not applied (rejected, or released when the store
  // could not commit): their claims are dropped, so that the store answers
  // them again.
  std::vector<MessageKey> not_applied;
  // Found kHeldElsewhere and answered by the store as applied before: they
  // are recorded under this batch, so that later copies take the fast path.
  std::vector<MessageKey> applied_before;
};

class SeenIds {
 public:
  virtual ~SeenIds() = default;

  // Claims each key for a new batch (pipelined: one round trip, and one
  // more for the keys found held, to read whose they are).
  virtual registry::Result<Claims> claim(const std::vector<MessageKey>& keys) = 0;

  // Records that `batch` was applied, its `fate` first (in one MULTI/EXEC
  // when there is any), and raises the high-water mark to `last_sequence`,
  // the highest journal sequence the batch committed (0: none). Call only
  // after the store's commit; a batch of which nothing was applied names
  // all its claims in fate.not_applied.
  virtual registry::Status markApplied(std::uint64_t batch, const BatchFate& fate,
                                       std::uint64_t last_sequence) = 0;

  // The highest journal sequence any batch under this prefix committed, 0
  // when none did: a register whose journal ends lower is older than what
  // Redis remembers of it (gateway/serve.cpp).
  virtual registry::Result<std::uint64_t> highWater() = 0;

  // PING; kUnavailable when Redis does not answer.
  virtual registry::Status ping() = 0;
};

// Does not connect yet: the first call does, so licgate starts with Redis down.
std::unique_ptr<SeenIds> makeSeenIds(const RedisOptions& options);

}  // namespace licgate::adapters::redis
