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
  std::vector<bool> by_redis;
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
std::vector<bool> IntakeFlow::findAppliedInRedis(const std::vector<Inbound>& inbound,
                                                 bool& redis_answered) {
  std::vector<bool> applied(inbound.size(), false);
  redis_answered = false;
  if (seen_ids_ == nullptr) {
    return applied;
  }
  std::vector<adapters::redis::MessageKey> keys;
  std::vector<std::size_t> positions;
  for (std::size_t i = 0; i < inbound.size(); ++i) {
    if (inbound[i].event.ok()) {
      keys.push_back({inbound[i].sender_system, inbound[i].message_id});
      positions.push_back(i);
    }
  }
  if (keys.empty()) {
    return applied;
  }
  auto claims = seen_ids_->claim(keys);
  if (!claims.ok() || claims->size() != keys.size()) {
    redis_health_.reportFailure(
        claims.ok() ? registry::makeError(ErrorCode::kInternal, "claim answered wrong count")
                    : claims.error());
    return applied;
  }
  redis_health_.reportSuccess();
  redis_answered = true;
  for (std::size_t k = 0; k < keys.size(); ++k) {
    applied[positions[k]] = (*claims)[k] == adapters::redis::Claim::kApplied;
  }
  return applied;
}

void IntakeFlow::markAppliedInRedis(const std::vector<adapters::redis::MessageKey>& ids,
                                    const std::vector<std::optional<Outcome>>& outcomes) {
  std::vector<adapters::redis::MessageKey> keys;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (countsAsApplied(outcomes[i])) {
      keys.push_back(ids[i]);
    }
  }
  if (keys.empty()) {
    return;
  }
  auto marked = seen_ids_->markApplied(keys);
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
  prepared->by_redis = findAppliedInRedis(prepared->inbound, prepared->redis_answered);
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
      outcomes[i] = Outcome{Disposition::kDuplicate, 0, {}, {}, std::nullopt};
    }
  }
  applyInStore(prepared.inbound, outcomes);

  if (prepared.redis_answered) {
    markAppliedInRedis(prepared.ids, outcomes);
  }
  count(outcomes, prepared.by_redis);
  return answer(batch, prepared.ids, outcomes);
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
    store_failing_ = false;
    for (std::size_t k = 0; k < positions.size(); ++k) {
      outcomes[positions[k]] = std::move((*stored)[k]);
    }
    return;
  }
  if (!store_failing_) {
    store_failing_ = true;
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
