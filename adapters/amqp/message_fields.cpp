// AMQP message fields to Delivery and back to an outcome message.
#include "adapters/amqp/message_fields.hpp"

#include <proton/binary.hpp>
#include <proton/scalar.hpp>
#include <proton/types.hpp>
#include <proton/uuid.hpp>
#include <proton/value.hpp>

#include <limits>

#include "registry/text.hpp"

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

// Application property "system", else the user-id the sender put in the
// properties section (AMQP 1.0 section 3.2.4). A "system" that is there
// but names nobody (not a string, or empty) is refused rather than passed
// over: the user-id behind it may be empty, and a conclusion whose sender
// is unknown would skip the check that it comes from its body.
registry::Result<std::string> senderSystemOf(const proton::message& message) {
  const auto& properties = message.properties();
  if (!properties.exists("system")) {
    return message.user();
  }
  proton::scalar system = properties.get("system");
  if (system.type() != proton::STRING) {
    return registry::makeError(registry::ErrorCode::kInvalidField,
                               "application property \"system\" is an AMQP " +
                                   proton::type_name(system.type()) +
                                   "; it names the sending system and must be a string");
  }
  auto name = proton::get<std::string>(system);
  if (name.empty()) {
    return registry::makeError(
        registry::ErrorCode::kInvalidField,
        "application property \"system\" is empty; it must name the sending system");
  }
  return name;
}

// Ids and addresses become keys in the store and in Redis: one of
// megabytes would be kept, indexed and sent back in every outcome. A field
// over its bound refuses the message, and the field is cut to its bound so
// that the dead letter stays small.
constexpr std::size_t kMaxIdBytes = 1024;
constexpr std::size_t kMaxSystemBytes = 256;

registry::Status checkFieldSizes(Delivery& delivery) {
  struct Bounded {
    const char* name;
    std::string& value;
    std::size_t max;
  };
  for (Bounded field : {Bounded{"message-id", delivery.message_id, kMaxIdBytes},
                        Bounded{"correlation-id", delivery.correlation_id, kMaxIdBytes},
                        Bounded{"reply-to", delivery.reply_to, kMaxIdBytes},
                        Bounded{"content-type", delivery.content_type, kMaxIdBytes},
                        Bounded{"system", delivery.sender_system, kMaxSystemBytes}}) {
    if (field.value.size() > field.max) {
      std::string size = std::to_string(field.value.size());
      field.value.resize(field.max);
      return registry::makeError(registry::ErrorCode::kInvalidField,
                                 std::string(field.name) + " has " + size + " bytes, more than " +
                                     std::to_string(field.max));
    }
  }
  return {};
}

}  // namespace

// AMQP 1.0 section 3.2.11 to 3.2.14: an id is a string, a ulong, a uuid or
// binary, and ids of different types are different ids (42 is not "42").
// The text of a non-string id names its type, so that they stay apart in
// the register's (system, message id) key.
std::string messageIdText(const proton::message_id& id) {
  switch (id.type()) {
    case proton::STRING:
      return proton::get<std::string>(id);
    case proton::ULONG:
      return "ulong:" + std::to_string(proton::get<std::uint64_t>(id));
    case proton::UUID:
      return "uuid:" + proton::get<proton::uuid>(id).str();
    case proton::BINARY:
      return "binary:" + hexOf(proton::get<proton::binary>(id));
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
  auto system = senderSystemOf(message);
  if (!system.ok()) {
    return system.takeError();
  }
  delivery.sender_system = std::move(*system);
  LICGATE_RETURN_IF_ERROR(checkFieldSizes(delivery));
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
  reply.body(wireDescription(verdict.description));
  return reply;
}

proton::message makeOutboundMessage(const OutboundMessage& outbound) {
  proton::message message;
  message.id(proton::message_id(outbound.message_id));
  if (!outbound.subject.empty()) {
    message.subject(outbound.subject);
  }
  if (!outbound.content_type.empty()) {
    message.content_type(outbound.content_type);
  }
  auto& properties = message.properties();
  for (const auto& [name, value] : outbound.properties) {
    properties.put(name, value);
  }
  // inferred: binary travels as a data section rather than an amqp-value.
  message.inferred(true);
  message.body(proton::binary(outbound.body.begin(), outbound.body.end()));
  return message;
}

const char* sendOutcomeName(SendOutcome outcome) {
  switch (outcome) {
    case SendOutcome::kAccepted:
      return "accepted";
    case SendOutcome::kRejected:
      return "rejected";
    case SendOutcome::kReleased:
      return "released";
    case SendOutcome::kModified:
      return "modified";
    case SendOutcome::kFailed:
      return "failed";
  }
  return "failed";
}

std::string wireDescription(const std::string& description) {
  if (registry::isValidUtf8(description)) {
    return description;
  }
  return registry::quoteForMessage(description, std::numeric_limits<std::size_t>::max());
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
