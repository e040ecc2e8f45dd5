// Reading a Proton message into the plain Delivery the gateway sees, and
// writing the outcome message that goes back to reply-to and the messages
// licgate sends itself.
//
// Internal to adapters/amqp: Proton types appear here and nowhere else.
#pragma once

#include <proton/message.hpp>
#include <proton/message_id.hpp>

#include <string>

#include "adapters/amqp/intake_server.hpp"
#include "adapters/amqp/outbound.hpp"
#include "registry/result.hpp"

namespace licgate::adapters::amqp {

// The text of a message-id or correlation-id whatever its AMQP type
// (AMQP 1.0 section 3.2.10): a string as it is, a ulong in decimal, a uuid
// in its 8-4-4-4-12 form, binary as lower-case hex; "" when absent.
std::string messageIdText(const proton::message_id& id);

// Fills everything but `address` from the message. The body is the bytes of
// a data section or of a string or binary amqp-value (AMQP 1.0 section
// 3.2.6-3.2.8); any other body (a map, a list, a number) is kMalformed
// naming its type, and a null body gives an empty `body`.
registry::Status readDelivery(const proton::message& message, Delivery& delivery);

// The outcome message for a sender that asked for one with reply-to:
// correlation-id is the original message-id, with its AMQP type; the
// application properties "outcome", "error" and "licence" come from the
// verdict and the body is its description.
proton::message makeOutcomeMessage(const std::string& reply_to,
                                   const proton::message_id& message_id, const Verdict& verdict);

// The message licgate sends for an OutboundMessage: message-id as a
// string, the body as one data section (AMQP 1.0 section 3.2.6), the
// properties as string application properties.
proton::message makeOutboundMessage(const OutboundMessage& outbound);

// A verdict's description as an AMQP string may carry it: valid UTF-8
// (section 1.6.20), ill-formed bytes escaped as \xNN. Descriptions quote
// what senders sent, and an ill-formed one would break the peer's decoder.
std::string wireDescription(const std::string& description);

// "accepted", "rejected" or "released": the AMQP outcome names (section 3.4).
const char* settleName(Settle settle);

}  // namespace licgate::adapters::amqp
