// The intake of licence events: what licgate does with each batch of AMQP
// deliveries on licences/events (adapters/amqp/intake_server.hpp).
//
// For each delivery, in order:
//   1. decode the body by its content type (mapping/inbound_decoder.hpp);
//   2. authorise: the sender system is configured and may act for the
//      event's licensor;
//   3. ask Redis whether (system, message id) was applied before; those are
//      answered "duplicate" after a read of the store's record of the
//      first outcome (which gives the numbers it was given), without a
//      write transaction. With Redis down the store's durable check answers
//      alone (RedisHealth records the outage);
//   4. apply the rest in ONE store transaction (registry/store.hpp); invalid
//      and unauthorised messages go there too, to be kept as dead letters;
//   5. tell Redis the batch was applied, and which of its messages were not;
//   6. answer: applied, duplicate, unchanged -> accept; rejected -> reject
//      with the AMQP condition of mapping/error_table.hpp; store unavailable
//      -> release, so that the sender sends again later.
// Nothing is settled before the store's commit: the verdicts are returned
// only after it.
//
// Steps 1 to 3 are the first stage (prepareBatch), 4 to 6 the second
// (commitBatch); the intake runs them on two threads, so that one batch is
// decoded and looked up in Redis while the one before it commits. A message
// sent again while its first copy is still committing is found claimed but
// not applied in Redis, so the store, which has committed the first copy by
// then, answers it.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "adapters/amqp/intake_server.hpp"
#include "adapters/redis/seen_ids.hpp"
#include "config/config.hpp"
#include "gateway/redis_health.hpp"
#include "mapping/inbound_decoder.hpp"
#include "registry/store.hpp"

namespace licgate::gateway {

// Counts since start, for /api/v1/stats, /metrics and the demo. Duplicates
// include those answered by Redis (also counted apart); unchanged imports
// are counted apart from duplicates.
struct IntakeCounters {
  std::uint64_t batches = 0;
  std::uint64_t messages = 0;
  std::uint64_t applied = 0;
  std::uint64_t duplicate = 0;
  std::uint64_t duplicate_by_redis = 0;
  std::uint64_t unchanged = 0;
  std::uint64_t rejected = 0;
  std::uint64_t released = 0;
  std::map<std::string, std::uint64_t> rejected_by_reason;  // error code name -> count
};

class IntakeFlow {
 public:
  // `seen_ids` is null when Redis is not configured. The store, seen_ids and
  // redis_health must outlive the flow. Only the systems and licensors of
  // `config` and its message size limit are used.
  IntakeFlow(const config::Config& config, registry::Store& store,
             adapters::redis::SeenIds* seen_ids, RedisHealth& redis_health);

  // Decides every delivery of a batch and returns one verdict per delivery,
  // in order: both stages below, one after the other. Blocks on Redis and on
  // the store's commit. Thread-safe: the SOAP services call it from the HTTP
  // threads while the AMQP intake runs its stages (the store serialises the
  // transactions). counters() may be read meanwhile.
  std::vector<adapters::amqp::Verdict> processBatch(
      const std::vector<adapters::amqp::Delivery>& batch);

  // Steps 1 to 3 of a batch. Blocks on Redis. Called from one thread at a
  // time (the intake's prepare thread).
  std::unique_ptr<adapters::amqp::PreparedBatch> prepareBatch(
      const std::vector<adapters::amqp::Delivery>& batch);

  // Steps 4 to 6 of a batch that prepareBatch returned `prepared` for; one
  // verdict per delivery, in order. Blocks on the store's commit and on
  // Redis. Called from one thread at a time (the intake's commit thread),
  // with the batches in the order they were prepared.
  std::vector<adapters::amqp::Verdict> commitBatch(
      adapters::amqp::PreparedBatch& prepared, const std::vector<adapters::amqp::Delivery>& batch);

  // prepareBatch and commitBatch as the intake server's two stages.
  adapters::amqp::StagedProcessor processor();

  IntakeCounters counters() const;

 private:
  struct Prepared;

  registry::Inbound toInbound(const adapters::amqp::Delivery& delivery) const;
  registry::Status authorise(const std::string& system, const registry::Event& event) const;
  void claimInRedis(Prepared& prepared);
  std::optional<registry::Outcome> confirmDuplicate(const adapters::redis::MessageKey& id);
  void markAppliedInRedis(const Prepared& prepared,
                          const std::vector<std::optional<registry::Outcome>>& outcomes);
  void applyInStore(std::vector<registry::Inbound>& inbound,
                    std::vector<std::optional<registry::Outcome>>& outcomes);
  std::vector<adapters::amqp::Verdict> answer(
      const std::vector<adapters::amqp::Delivery>& batch,
      const std::vector<adapters::redis::MessageKey>& ids,
      const std::vector<std::optional<registry::Outcome>>& outcomes);
  void count(const std::vector<std::optional<registry::Outcome>>& outcomes,
             const std::vector<bool>& by_redis);

  config::Config config_;
  mapping::DecodeLimits limits_;
  registry::Store& store_;
  adapters::redis::SeenIds* seen_ids_;
  RedisHealth& redis_health_;
  std::atomic<bool> store_failing_{false};  // warned once per outage

  mutable std::mutex counters_mutex_;
  IntakeCounters counters_;
};

// The verdict for one delivery given its outcome; no outcome means the
// store could not decide and the delivery is released.
adapters::amqp::Verdict verdictFor(const std::optional<registry::Outcome>& outcome);

}  // namespace licgate::gateway
