// The intake of licence events (gateway/intake_flow.hpp).
#include "gateway/intake_flow.hpp"

#include <algorithm>
#include <stdexcept>

#include "gateway/logging.hpp"
#include "gateway/message_id.hpp"
#include "mapping/error_table.hpp"

namespace licgate::gateway {

using adapters::amqp::Delivery;
using adapters::amqp::Settle;
using adapters::amqp::Verdict;
using registry::Disposition;
using registry::ErrorCode;
using registry::Inbound;
using registry::Outcome;

namespace {

registry::Error notAuthorised(std::string message) {
  return registry::makeError(ErrorCode::kNotAuthorised, std::move(message));
}

bool isKnownLicensor(const config::Config& config, const std::string& code) {
  return std::any_of(config.licensors.begin(), config.licensors.end(),
                     [&](const config::LicensorConfig& l) { return l.code == code; });
}

bool countsAsApplied(const std::optional<Outcome>& outcome) {
  return outcome && outcome->disposition != Disposition::kRejected;
}

}  // namespace

IntakeFlow::IntakeFlow(const config::Config& config, registry::Store& store,
                       adapters::redis::SeenIds* seen_ids, RedisHealth& redis_health)
    : config_(config),
      limits_{config.amqp.max_message_bytes},
      store_(store),
      seen_ids_(seen_ids),
      redis_health_(redis_health) {}

// What the first stage learnt of a batch, for the second.
struct IntakeFlow::Prepared final : adapters::amqp::PreparedBatch {
  std::vector<Inbound> inbound;
  std::vector<adapters::redis::MessageKey> ids;
  // Redis' answer for each message; none for those not asked (invalid
  // ones) or when Redis did not answer.
  std::vector<std::optional<adapters::redis::Claim>> claims;
  std::vector<bool> by_redis;  // answered "applied before" by Redis
  std::uint64_t redis_batch = 0;
  bool redis_answered = false;
};

adapters::amqp::StagedProcessor IntakeFlow::processor() {
  adapters::amqp::StagedProcessor stages;
  stages.prepare = [this](const std::vector<Delivery>& batch) { return prepareBatch(batch); };
  stages.commit = [this](adapters::amqp::PreparedBatch* prepared,
                         const std::vector<Delivery>& batch) {
    if (prepared == nullptr) {
      throw std::logic_error("the intake's commit stage got no prepared batch");
    }
    return commitBatch(*prepared, batch);
  };
  return stages;
}

IntakeCounters IntakeFlow::counters() const {
  std::lock_guard lock(counters_mutex_);
  return counters_;
}

registry::Status IntakeFlow::authorise(const std::string& system,
                                       const registry::Event& event) const {
  const config::SystemConfig* sender = config_.findSystem(system);
  if (sender == nullptr) {
    return notAuthorised("system \"" + system + "\" is not known to licgate");
  }
  if (!isKnownLicensor(config_, event.licensor)) {
    return notAuthorised("licensor \"" + event.licensor + "\" is not a licensor of this register");
  }
  if (!sender->mayActFor(event.licensor)) {
    return notAuthorised("system \"" + system + "\" may not act for licensor \"" + event.licensor +
                         "\"");
  }
  return {};
}

// Decoding and authorisation failures travel inside the Inbound: the store
// keeps them as dead letters, so nothing a sender sent disappears.
Inbound IntakeFlow::toInbound(const Delivery& delivery) const {
  Inbound inbound{delivery.sender_system, delivery.message_id, delivery.content_type, delivery.body,
                  registry::makeError(ErrorCode::kInternal, "not decoded")};
  if (inbound.message_id.empty()) {
    // The (system, message id) pair is what makes redelivery safe, so a
    // message without an id cannot be applied; it is still kept under an id
    // made from its content (AMQP 1.0 section 3.2.4: message-id is optional
    // on the wire, but licgate requires it).
    inbound.message_id = "missing-id:" + contentMessageId(delivery.sender_system,
                                                          delivery.content_type, delivery.body);
    inbound.event = registry::makeError(
        ErrorCode::kInvalidField, "message-id: missing; every licence event needs a message id");
  }
  // What the intake refused itself is kept for that reason, which is also
  // the one its sender was given.
  if (delivery.refused) {
    inbound.event = *delivery.refused;
    return inbound;
  }
  if (delivery.message_id.empty()) {
    return inbound;
  }
  if (delivery.sender_system.empty()) {
    inbound.event =
        notAuthorised("the message names no sending system (application property \"system\")");
    return inbound;
  }
  if (config_.findSystem(delivery.sender_system) == nullptr) {
    inbound.event =
        notAuthorised("system \"" + delivery.sender_system + "\" is not known to licgate");
    return inbound;
  }
  inbound.event = mapping::decodeInbound(delivery.body, delivery.content_type, limits_);
  if (inbound.event.ok()) {
    auto allowed = authorise(delivery.sender_system, *inbound.event);
    if (!allowed.ok()) {
      inbound.event = allowed.takeError();
    }
  }
  return inbound;
}

// Only valid events are claimed: an invalid one goes to the store anyway to
// be dead-lettered (or found rejected before), and is never marked applied.
void IntakeFlow::claimInRedis(Prepared& prepared) {
  const std::vector<Inbound>& inbound = prepared.inbound;
  prepared.claims.assign(inbound.size(), std::nullopt);
  prepared.by_redis.assign(inbound.size(), false);
  if (seen_ids_ == nullptr) {
    return;
  }
  std::vector<adapters::redis::MessageKey> keys;
  std::vector<std::size_t> positions;
  for (std::size_t i = 0; i < inbound.size(); ++i) {
    if (inbound[i].event.ok()) {
      keys.push_back(prepared.ids[i]);
      positions.push_back(i);
    }
  }
  if (keys.empty()) {
    return;
  }
  auto claims = seen_ids_->claim(keys);
  if (!claims.ok() || claims->claims.size() != keys.size()) {
    redis_health_.reportFailure(
        claims.ok() ? registry::makeError(ErrorCode::kInternal, "claim answered wrong count")
                    : claims.error());
    return;
  }
  redis_health_.reportSuccess();
  prepared.redis_answered = true;
  prepared.redis_batch = claims->batch;
  for (std::size_t k = 0; k < keys.size(); ++k) {
    const adapters::redis::Claim claim = claims->claims[k];
    prepared.claims[positions[k]] = claim;
    prepared.by_redis[positions[k]] = claim == adapters::redis::Claim::kApplied;
  }
}

// What Redis must learn of the batch besides "applied": claims of messages
// the store did not apply are dropped, and messages that another batch's
// claim held but that the store has (applied before, or now) are taken
// over, so their next copy is answered by Redis.
void IntakeFlow::markAppliedInRedis(const Prepared& prepared,
                                    const std::vector<std::optional<Outcome>>& outcomes) {
  adapters::redis::BatchFate fate;
  for (std::size_t i = 0; i < prepared.claims.size(); ++i) {
    if (!prepared.claims[i]) {
      continue;
    }
    const bool applied = countsAsApplied(outcomes[i]);
    if (*prepared.claims[i] == adapters::redis::Claim::kNew && !applied) {
      fate.not_applied.push_back(prepared.ids[i]);
    } else if (*prepared.claims[i] == adapters::redis::Claim::kHeldElsewhere && applied) {
      fate.applied_before.push_back(prepared.ids[i]);
    }
  }
  std::uint64_t last_sequence = 0;
  for (const std::optional<Outcome>& outcome : outcomes) {
    if (outcome && outcome->disposition == Disposition::kApplied) {
      last_sequence = std::max(last_sequence, outcome->sequence);
    }
  }
  auto marked = seen_ids_->markApplied(prepared.redis_batch, fate, last_sequence);
  if (!marked.ok()) {
    redis_health_.reportFailure(marked.error());
  }
}

std::vector<Verdict> IntakeFlow::processBatch(const std::vector<Delivery>& batch) {
  return commitBatch(*prepareBatch(batch), batch);
}

std::unique_ptr<adapters::amqp::PreparedBatch> IntakeFlow::prepareBatch(
    const std::vector<Delivery>& batch) {
  auto prepared = std::make_unique<Prepared>();
  prepared->inbound.reserve(batch.size());
  prepared->ids.reserve(batch.size());
  for (const auto& delivery : batch) {
    prepared->inbound.push_back(toInbound(delivery));
    const Inbound& inbound = prepared->inbound.back();
    prepared->ids.push_back({inbound.sender_system, inbound.message_id});
  }
  claimInRedis(*prepared);
  return prepared;
}

std::vector<Verdict> IntakeFlow::commitBatch(adapters::amqp::PreparedBatch& prepared_batch,
                                             const std::vector<Delivery>& batch) {
  auto& prepared = dynamic_cast<Prepared&>(prepared_batch);
  if (prepared.inbound.size() != batch.size()) {
    throw std::logic_error("the intake's prepared batch does not match its deliveries");
  }
  std::vector<std::optional<Outcome>> outcomes(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (prepared.by_redis[i]) {
      outcomes[i] = confirmDuplicate(prepared.ids[i]);
      prepared.by_redis[i] = outcomes[i].has_value();
    }
  }
  applyInStore(prepared.inbound, outcomes);

  if (prepared.redis_answered) {
    markAppliedInRedis(prepared, outcomes);
  }
  count(outcomes, prepared.by_redis);
  return answer(batch, prepared.ids, outcomes);
}

// Redis said "applied before": the store's record of the first outcome is
// read (a read, outside any write transaction) to answer with the numbers
// the message was given, and to make sure. A record that is not there (a
// Redis that speaks for what this register never applied) sends the
// message to the store's transaction like any other.
std::optional<Outcome> IntakeFlow::confirmDuplicate(const adapters::redis::MessageKey& id) {
  auto first = store_.findInbound(id.sender_system, id.message_id);
  if (!first.ok() || !first->has_value()) {
    return std::nullopt;
  }
  Outcome outcome = **first;
  if (outcome.disposition != Disposition::kRejected) {
    outcome.disposition = Disposition::kDuplicate;
  }
  return outcome;
}

// One transaction for every message Redis did not answer; when it cannot
// commit, nothing of it was stored and those deliveries stay undecided
// (released).
void IntakeFlow::applyInStore(std::vector<Inbound>& inbound,
                              std::vector<std::optional<Outcome>>& outcomes) {
  std::vector<std::size_t> positions;
  std::vector<Inbound> to_store;
  for (std::size_t i = 0; i < inbound.size(); ++i) {
    if (!outcomes[i]) {
      positions.push_back(i);
      to_store.push_back(std::move(inbound[i]));
    }
  }
  if (to_store.empty()) {
    return;
  }
  auto stored = store_.applyBatch(to_store);
  if (stored.ok() && stored->size() == to_store.size()) {
    store_failing_.store(false);
    for (std::size_t k = 0; k < positions.size(); ++k) {
      outcomes[positions[k]] = std::move((*stored)[k]);
    }
    return;
  }
  if (!store_failing_.exchange(true)) {
    getLogger("intake")->warn("store cannot commit, releasing deliveries until it can: {}",
                              stored.ok() ? "wrong number of outcomes" : stored.error().message);
  }
}

std::vector<Verdict> IntakeFlow::answer(const std::vector<Delivery>& batch,
                                        const std::vector<adapters::redis::MessageKey>& ids,
                                        const std::vector<std::optional<Outcome>>& outcomes) {
  std::vector<Verdict> verdicts;
  verdicts.reserve(outcomes.size());
  auto log = getLogger("intake");
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    verdicts.push_back(verdictFor(outcomes[i]));
    const Verdict& verdict = verdicts.back();
    if (verdict.settle == Settle::kReject) {
      log->error(
          "message {} (correlation {}) from system {} rejected and kept as a dead letter: {}: {}",
          ids[i].message_id, batch[i].correlation_id, ids[i].sender_system, verdict.error_code,
          verdict.description);
    } else {
      log->debug("message {} (correlation {}) from system {}: {} {}", ids[i].message_id,
                 batch[i].correlation_id, ids[i].sender_system, verdict.outcome,
                 verdict.licence_number);
    }
  }
  return verdicts;
}

void IntakeFlow::count(const std::vector<std::optional<Outcome>>& outcomes,
                       const std::vector<bool>& by_redis) {
  std::lock_guard lock(counters_mutex_);
  counters_.batches += 1;
  counters_.messages += outcomes.size();
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    if (!outcomes[i]) {
      counters_.released += 1;
      continue;
    }
    switch (outcomes[i]->disposition) {
      case Disposition::kApplied:
        counters_.applied += 1;
        break;
      case Disposition::kDuplicate:
        counters_.duplicate += 1;
        counters_.duplicate_by_redis += by_redis[i] ? 1 : 0;
        break;
      case Disposition::kUnchanged:
        counters_.unchanged += 1;
        break;
      case Disposition::kRejected: {
        counters_.rejected += 1;
        const auto code = outcomes[i]->error ? outcomes[i]->error->code : ErrorCode::kInternal;
        counters_.rejected_by_reason[std::string(registry::errorCodeName(code))] += 1;
        break;
      }
    }
  }
}

Verdict verdictFor(const std::optional<Outcome>& outcome) {
  Verdict verdict;
  if (!outcome) {
    verdict.settle = Settle::kRelease;
    verdict.outcome = "released";
    return verdict;
  }
  verdict.outcome = std::string(registry::dispositionName(outcome->disposition));
  verdict.licence_number = outcome->licence_number;
  if (outcome->disposition != Disposition::kRejected) {
    verdict.settle = Settle::kAccept;
    return verdict;
  }
  const registry::Error error =
      outcome->error.value_or(registry::makeError(ErrorCode::kInternal, "rejected, no reason"));
  const auto& transport = mapping::errorTransport(error.code);
  verdict.settle = transport.amqp_reject ? Settle::kReject : Settle::kRelease;
  verdict.condition = std::string(transport.amqp_condition);
  verdict.description = error.message;
  verdict.error_code = std::string(registry::errorCodeName(error.code));
  return verdict;
}

}  // namespace licgate::gateway
