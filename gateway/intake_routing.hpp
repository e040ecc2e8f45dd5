// One AMQP intake, several flows: licence events go to the intake flow's two
// stages, conformity requests and conclusions to the conformity flow.
//
// The conformity deliveries of a batch are read and checked in the first
// stage and taken to Redis in the second (one round trip for the batch,
// after the store's commit of the licence events that came with them);
// their verdicts join the events' in the batch's order.
#pragma once

#include "adapters/amqp/intake_server.hpp"
#include "gateway/conformity_flow.hpp"

namespace licgate::gateway {

// `events` handles every delivery not on a conformity address; `conformity`
// (which may be null: the flow is off) the others. `conformity` must
// outlive the processor.
adapters::amqp::StagedProcessor routeDeliveries(adapters::amqp::StagedProcessor events,
                                                ConformityFlow* conformity);

}  // namespace licgate::gateway
