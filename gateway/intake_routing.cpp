// Routing an intake batch between flows (gateway/intake_routing.hpp).
#include "gateway/intake_routing.hpp"

namespace licgate::gateway {

namespace {

using adapters::amqp::Delivery;
using adapters::amqp::PreparedBatch;
using adapters::amqp::Verdict;

bool isConformity(const Delivery& delivery) {
  return delivery.address == kRequestsAddress || delivery.address == kConclusionsAddress;
}

// What the first stage leaves for the second: the events' own prepared
// batch and which deliveries they are, and the conformity deliveries read
// and checked. The second stage stores events in the register and takes
// the conformity deliveries to Redis, while the first reads the next batch.
struct RoutedBatch final : PreparedBatch {
  std::vector<Delivery> events;
  std::vector<bool> is_event;  // per delivery of the whole batch
  std::unique_ptr<PreparedBatch> events_prepared;
  std::unique_ptr<ConformityFlow::PreparedDeliveries> conformity;
};

}  // namespace

adapters::amqp::StagedProcessor routeDeliveries(adapters::amqp::StagedProcessor events,
                                                ConformityFlow* conformity) {
  if (conformity == nullptr) {
    return events;
  }
  auto shared = std::make_shared<adapters::amqp::StagedProcessor>(std::move(events));
  adapters::amqp::StagedProcessor routed;
  routed.prepare = [shared, conformity](const std::vector<Delivery>& batch) {
    auto out = std::make_unique<RoutedBatch>();
    std::vector<Delivery> queries;
    out->is_event.reserve(batch.size());
    for (const Delivery& delivery : batch) {
      const bool event = !isConformity(delivery);
      out->is_event.push_back(event);
      (event ? out->events : queries).push_back(delivery);
    }
    if (!queries.empty()) {
      out->conformity = conformity->prepareDeliveries(std::move(queries));
    }
    if (!out->events.empty()) {
      out->events_prepared = shared->prepare(out->events);
    }
    return std::unique_ptr<PreparedBatch>(std::move(out));
  };
  routed.commit = [shared, conformity](PreparedBatch* prepared,
                                       const std::vector<Delivery>& batch) {
    auto& routed_batch = static_cast<RoutedBatch&>(*prepared);
    std::vector<Verdict> event_verdicts;
    if (!routed_batch.events.empty()) {
      event_verdicts = shared->commit(routed_batch.events_prepared.get(), routed_batch.events);
    }
    std::vector<Verdict> conformity_verdicts;
    if (routed_batch.conformity) {
      conformity_verdicts = conformity->finishDeliveries(*routed_batch.conformity);
    }
    std::vector<Verdict> verdicts;
    verdicts.reserve(batch.size());
    std::size_t next_event = 0;
    std::size_t next_conformity = 0;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (routed_batch.is_event[i]) {
        // A wrong count from the events' stage is the server's to catch:
        // a verdict missing here makes the whole batch short, which
        // releases it.
        if (next_event < event_verdicts.size()) {
          verdicts.push_back(std::move(event_verdicts[next_event++]));
        }
      } else {
        verdicts.push_back(std::move(conformity_verdicts[next_conformity++]));
      }
    }
    return verdicts;
  };
  return routed;
}

}  // namespace licgate::gateway
