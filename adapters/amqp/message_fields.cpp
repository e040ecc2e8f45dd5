// AMQP message fields to Delivery and back to an outcome message.
#include "adapters/amqp/message_fields.hpp"

#include <proton/binary.hpp>
#include <proton/scalar.hpp>
#include <proton/types.hpp>
#include <proton/uuid.hpp>
#include <proton/value.hpp>

namespace licgate::adapters::amqp {

namespace {

std::string hexOf(const proton::binary& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text;
  text.reserve(bytes.size() * 2);
  for (std::uint8_t byte : bytes) {
    text.push_back(kHex[byte >> 4]);
    text.push_back(kHex[byte & 0xF]);
  }
  return text;
}

// Application property "system" when it is a string, else the user-id the
// sender put in the properties section (AMQP 1.0 section 3.2.4).
std::string senderSystemOf(const proton::message& message) {
  const auto& properties = message.properties();
  if (properties.exists("system")) {
    proton::scalar system = properties.get("system");
    if (system.type() == proton::STRING) {
      return proton::get<std::string>(system);
    }
  }
  return message.user();
}

}  // namespace

std::string messageIdText(const proton::message_id& id) {
  switch (id.type()) {
    case proton::STRING:
      return proton::get<std::string>(id);
    case proton::ULONG:
      return std::to_string(proton::get<std::uint64_t>(id));
    case proton::UUID:
      return proton::get<proton::uuid>(id).str();
    case proton::BINARY:
      return hexOf(proton::get<proton::binary>(id));
    default:
      return "";
  }
}

registry::Status readDelivery(const proton::message& message, Delivery& delivery) {
  // The fields first: a delivery refused for its body is still kept under
  // its ids.
  delivery.message_id = messageIdText(message.id());
  delivery.correlation_id = messageIdText(message.correlation_id());
  delivery.reply_to = message.reply_to();
  delivery.content_type = message.content_type();
  delivery.sender_system = senderSystemOf(message);
  const proton::value& body = message.body();
  switch (body.type()) {
    case proton::BINARY: {
      auto bytes = proton::get<proton::binary>(body);
      delivery.body.assign(bytes.begin(), bytes.end());
      break;
    }
    case proton::STRING:
      delivery.body = proton::get<std::string>(body);
      break;
    case proton::NULL_TYPE:
      delivery.body.clear();
      break;
    default:
      return registry::makeError(registry::ErrorCode::kMalformed,
                                 "the message body is an AMQP " + proton::type_name(body.type()) +
                                     "; licgate takes a data section or a string value");
  }
  return {};
}

proton::message makeOutcomeMessage(const std::string& reply_to,
                                   const proton::message_id& message_id, const Verdict& verdict) {
  proton::message reply;
  reply.to(reply_to);
  reply.correlation_id(message_id);
  reply.content_type("text/plain; charset=utf-8");
  auto& properties = reply.properties();
  properties.put("outcome", verdict.outcome.empty() ? std::string(settleName(verdict.settle))
                                                    : verdict.outcome);
  if (!verdict.error_code.empty()) {
    properties.put("error", verdict.error_code);
  }
  if (!verdict.licence_number.empty()) {
    properties.put("licence", verdict.licence_number);
  }
  reply.body(verdict.description);
  return reply;
}

const char* settleName(Settle settle) {
  switch (settle) {
    case Settle::kAccept:
      return "accepted";
    case Settle::kReject:
      return "rejected";
    case Settle::kRelease:
      return "released";
  }
  return "released";
}

}  // namespace licgate::adapters::amqp
