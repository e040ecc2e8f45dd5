// The e-government gateway's asynchronous channel, licgate being the
// receiving system the gateway pushes to (gateway/soap_api.hpp,
// docs/soap.md).
//
// A sendMessage is one message of a chain: a REQUEST opens one, an UPDATE
// or RESPONSE continues one licgate already knows (it took part in the
// chain: Redis has a message of it), a NOTIFICATION names its chain but
// may be the first licgate hears of it. Its data carries a licence event
// (SubmitLicenceEvent), decided by the intake flow as any other, or a read
// (a REQUEST), whose answer licgate sends back through the gateway as the
// chain's RESPONSE (gateway/shep_sender.hpp). A message is acknowledged
// only after its effect is stored (the event's outcome in the register, or
// the queued answer in Redis) and it is recorded with its chain, so a
// message the gateway sees acknowledged is never lost, and one it delivers
// again is answered from its first outcome.
#include <chrono>
#include <random>

#include "gateway/logging.hpp"
#include "gateway/soap_api.hpp"

namespace licgate::gateway {

using mapping::ShepMessageType;
using mapping::SoapCall;
using registry::ErrorCode;
using registry::makeError;
using registry::Result;

namespace {

registry::Status requireExchanges(const adapters::redis::ExchangeLog* exchanges,
                                  std::string_view operation) {
  if (exchanges == nullptr) {
    return makeError(ErrorCode::kNotImplemented,
                     std::string(operation) +
                         ": the asynchronous channel keeps its chains in Redis, and this licgate "
                         "has no redis section in its configuration");
  }
  return {};
}

// A GUID in the gateway's form (common/v10/types/Guid.xsd), for a status
// acknowledgement whose request carried no session: the answer needs one.
std::string makeSessionId() {
  std::random_device device;
  std::uniform_int_distribution<unsigned> nibble(0, 15);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "{";
  for (int group : {8, 4, 4, 4, 12}) {
    for (int i = 0; i < group; ++i) {
      id.push_back(kHex[nibble(device)]);
    }
    id.push_back(group == 12 ? '}' : '-');
  }
  return id;
}

// UPDATE and RESPONSE continue a chain; licgate must have taken part in it.
registry::Status checkChain(adapters::redis::ExchangeLog& exchanges,
                            const mapping::ShepAsyncMessage& message) {
  if (message.type != ShepMessageType::kUpdate && message.type != ShepMessageType::kResponse) {
    return {};
  }
  auto length = exchanges.chainLength(message.correlation_id);
  if (!length.ok()) {
    return length.takeError();
  }
  if (*length == 0) {
    return makeError(ErrorCode::kNotFound,
                     "sendMessage: correlationId \"" + message.correlation_id +
                         "\" names no chain licgate knows; an " +
                         std::string(mapping::shepMessageTypeName(message.type)) +
                         " continues a chain licgate has received or sent a message of");
  }
  return {};
}

}  // namespace

Result<std::string> SoapApi::shepAsyncMessage(const SoapCall& call, const std::string& request_xml,
                                              const std::string& correlation_id,
                                              const std::string& now) {
  auto message = mapping::readShepAsyncMessage(request_xml);
  if (!message.ok()) {
    return message.takeError();
  }
  LICGATE_RETURN_IF_ERROR(requireExchanges(exchanges_, "sendMessage"));
  auto operation = shepOperation(message->service_id, message->sender_id, message->operation_xml,
                                 call.version, "sendMessage");
  if (!operation.ok()) {
    return operation.takeError();
  }
  LICGATE_RETURN_IF_ERROR(checkChain(*exchanges_, *message));
  if (operation->operation != "SubmitLicenceEvent") {
    return shepAsyncRead(call, *message, *operation, correlation_id, now);
  }

  // The event's message id is the gateway's, which the gateway keeps when
  // it delivers a message again: the intake's duplicate check applies.
  bool names_id = std::any_of(operation->parameters.begin(), operation->parameters.end(),
                              [](const auto& entry) { return entry.first == "messageId"; });
  if (!names_id) {
    operation->parameters.emplace_back("messageId", message->message_id);
  }
  auto verdict = decideEvent(*operation, correlation_id);
  if (!verdict.ok()) {
    return verdict.takeError();
  }
  registry::Status refused = verdictError(*verdict);
  if (!refused.ok() && refused.error().code == ErrorCode::kUnavailable) {
    return refused.takeError();
  }

  adapters::redis::ExchangeRecord record;
  record.message_id = message->message_id;
  record.correlation_id = message->correlation_id;
  record.licgate_id = correlation_id;
  record.direction = "received";
  record.sender = message->sender_id;
  record.service_id = message->service_id;
  record.message_type = std::string(mapping::shepMessageTypeName(message->type));
  record.outcome = refused.ok() ? verdict->outcome : verdict->error_code;
  auto recorded = exchanges_->record(record);
  if (!recorded.ok()) {
    return makeError(ErrorCode::kUnavailable,
                     "sendMessage: the message was decided but its chain could not be recorded (" +
                         recorded.error().message + "); deliver it again");
  }
  log_->debug("sendMessage {} (chain {}, {} from {}, correlation {}): {}", message->message_id,
              message->correlation_id, record.message_type, message->sender_id, correlation_id,
              record.outcome);
  if (!refused.ok()) {
    return refused.takeError();
  }
  return mapping::writeShepAsyncAck(call.version, call.operation_ns, *message, now);
}

// A read asked on the asynchronous channel is answered there: the answer
// is made now, from the register as it is, and queued as the RESPONSE of
// the request's chain, together with the request's record, before the
// request is acknowledged. A request delivered again finds its record and
// is acknowledged without a second RESPONSE.
Result<std::string> SoapApi::shepAsyncRead(const SoapCall& call,
                                           const mapping::ShepAsyncMessage& message,
                                           const SoapCall& operation,
                                           const std::string& correlation_id,
                                           const std::string& now) {
  if (shep_.async_url.empty()) {
    return makeError(ErrorCode::kNotImplemented,
                     "sendMessage: serviceId \"" + message.service_id + "\" runs " +
                         operation.operation +
                         ", whose answer goes back through the gateway, and this licgate has no "
                         "shep.async_url to send it to; ask on the synchronous SendMessage");
  }
  if (message.type != ShepMessageType::kRequest) {
    return makeError(ErrorCode::kInvalidField,
                     "sendMessage: " + operation.operation + " is asked with a REQUEST, not a " +
                         std::string(mapping::shepMessageTypeName(message.type)));
  }
  auto answered = answer(operation, correlation_id);
  if (!answered.ok()) {
    return answered.takeError();
  }
  mapping::ShepOutgoing outgoing{
      message.correlation_id, message.service_id, ShepMessageType::kResponse, now,
      shep_.sender_id,        shep_.password};
  auto envelope = mapping::writeShepAsyncOutgoing(outgoing, *answered);
  if (!envelope.ok()) {
    return envelope.takeError();
  }

  adapters::redis::ExchangeRecord record;
  record.message_id = message.message_id;
  record.correlation_id = message.correlation_id;
  record.licgate_id = correlation_id;
  record.direction = "received";
  record.sender = message.sender_id;
  record.service_id = message.service_id;
  record.message_type = "REQUEST";
  record.outcome = "answered";
  adapters::redis::OutboundMessage reply;
  reply.licgate_id = correlation_id + "-response";
  reply.envelope = std::move(*envelope);
  reply.correlation_id = message.correlation_id;
  reply.service_id = message.service_id;
  reply.message_type = "RESPONSE";
  const std::int64_t due = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  auto queued = exchanges_->recordAndEnqueue(record, reply, due);
  if (!queued.ok()) {
    return makeError(ErrorCode::kUnavailable, "sendMessage: the answer could not be queued (" +
                                                  queued.error().message + "); deliver it again");
  }
  if (*queued && sender_ != nullptr) {
    sender_->wake();
  }
  log_->debug("sendMessage {} (chain {}, {} from {}, correlation {}): {}", message.message_id,
              message.correlation_id, operation.operation, message.sender_id, correlation_id,
              *queued ? "answer queued" : "delivered again, answered before");
  return mapping::writeShepAsyncAck(call.version, call.operation_ns, message, now);
}

// A status of a message licgate sent through the gateway, kept with that
// message's record.
Result<std::string> SoapApi::shepStatusNotification(const SoapCall& call,
                                                    const std::string& request_xml,
                                                    const std::string& now) {
  auto notification = mapping::readShepStatusNotification(request_xml);
  if (!notification.ok()) {
    return notification.takeError();
  }
  LICGATE_RETURN_IF_ERROR(requireExchanges(exchanges_, "changeMassageStatusNotification"));
  adapters::redis::StatusNote note{notification->notification_id, notification->message_state,
                                   notification->status_code,     notification->status_message,
                                   notification->status_date,     notification->error_code};
  auto noted = exchanges_->noteStatus(notification->message_id, note);
  if (!noted.ok()) {
    return noted.takeError();
  }
  if (!*noted) {
    return makeError(ErrorCode::kNotFound, "changeMassageStatusNotification: messageId \"" +
                                               notification->message_id +
                                               "\" is not a message licgate sent");
  }
  const std::string session =
      notification->session_id.empty() ? makeSessionId() : notification->session_id;
  return mapping::writeShepStatusAck(call.version, now, session);
}

}  // namespace licgate::gateway
