// The body simulator's AMQP messages on Qpid Proton C++: reading what
// licgate sends, settling it, and writing conclusions
// (gateway/body_simulator_amqp.cpp). Run on the connection's thread only.
//
// Internal to gateway/.
#pragma once

#include <proton/delivery.hpp>
#include <proton/message.hpp>
#include <proton/tracker.hpp>

#include <string>

#include "registry/conformity.hpp"

namespace licgate::gateway::sim {

// Settles a delivery licgate sent: accepted when `condition` is null,
// otherwise rejected with that AMQP error condition and `description`. A
// delivery licgate sent settled (at most once) is only settled locally.
void settleDelivery(proton::delivery& delivery, const char* condition = nullptr,
                    const std::string& description = {});

// The bytes of a data section or a string value; empty for any other body,
// which then does not read as a query or an outcome.
std::string bodyBytes(const proton::message& message);

// A conclusion as it goes to conformity/conclusions: message-id
// "conclusion-<query id>", subject "conformity-conclusion", content type
// application/json, application property "system" = the body, the JSON as
// one data section.
proton::message conclusionMessage(const registry::Conclusion& conclusion);

// "condition: description" of the rejection licgate settled `tracker` with;
// empty when it gave no condition.
std::string rejectionText(const proton::tracker& tracker);

}  // namespace licgate::gateway::sim
