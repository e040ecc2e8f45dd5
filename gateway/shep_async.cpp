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
// chain's RESPONSE (gateway/shep_sender.hpp).
//
// A message is recorded with its chain before its effect is decided, so
// that with Redis down nothing changes (the gateway delivers it again) and
// a message that continues the chain finds it; it is acknowledged only
// after its effect is stored (the event's outcome in the register, or the
// queued answer in Redis). A message the gateway sees acknowledged is
// never lost, and one it delivers again is answered from its first
// outcome.
#include <chrono>
#include <random>

#include "gateway/logging.hpp"
#include "gateway/soap_api.hpp"

namespace licgate::gateway {

using adapters::redis::ExchangeRecord;
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

// A random GUID (RFC 4122 section 4.4, version 4) in the gateway's form
// (common/v10/types/Guid.xsd), for a status acknowledgement whose request
// carried no session: the answer needs one.
std::string makeSessionId() {
  std::random_device device;
  std::uniform_int_distribution<unsigned> nibble(0, 15);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "{";
  int position = 0;
  for (int group : {8, 4, 4, 4, 12}) {
    for (int i = 0; i < group; ++i, ++position) {
      unsigned value = nibble(device);
      if (position == 12) {
        value = 4;  // the version
      } else if (position == 16) {
        value = 8 | (value & 3);  // the variant, 10xx
      }
      id.push_back(kHex[value]);
    }
    id.push_back(group == 12 ? '}' : '-');
  }
  return id;
}

// "an UPDATE", "a RESPONSE": the message type with its article.
std::string withArticle(std::string_view name) {
  return (name.starts_with('U') ? "an " : "a ") + std::string(name);
}

std::string withArticle(ShepMessageType type) {
  return withArticle(mapping::shepMessageTypeName(type));
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
                         "\" names no chain licgate knows; " + withArticle(message.type) +
                         " continues a chain licgate has received or sent a message of");
  }
  return {};
}

ExchangeRecord receivedRecord(const mapping::ShepAsyncMessage& message,
                              const std::string& licgate_id, std::string_view outcome) {
  ExchangeRecord record;
  record.message_id = message.message_id;
  record.correlation_id = message.correlation_id;
  record.licgate_id = licgate_id;
  record.direction = "received";
  record.sender = message.sender_id;
  record.service_id = message.service_id;
  record.message_type = std::string(mapping::shepMessageTypeName(message.type));
  record.outcome = std::string(outcome);
  return record;
}

// A message delivered again is the same message: another one under the
// same (sender, message id) would be taken for it and never acted on.
registry::Status checkSameMessage(const std::optional<ExchangeRecord>& kept,
                                  const mapping::ShepAsyncMessage& message) {
  const std::string type(mapping::shepMessageTypeName(message.type));
  if (!kept || (kept->service_id == message.service_id && kept->message_type == type &&
                kept->correlation_id == message.correlation_id)) {
    return {};
  }
  return makeError(ErrorCode::kConflict,
                   "sendMessage: messageId \"" + message.message_id + "\" from " +
                       message.sender_id + " was delivered before as " +
                       withArticle(kept->message_type) + " of " + kept->service_id +
                       " in chain \"" + kept->correlation_id + "\"; this is " + withArticle(type) +
                       " of " + message.service_id + " in chain \"" + message.correlation_id +
                       "\": a new message needs an id of its own");
}

registry::Status unavailable(const registry::Error& error) {
  return makeError(ErrorCode::kUnavailable,
                   "sendMessage: " + error.message + "; nothing was changed: deliver it again");
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
  auto operation = shepOperation(message->service_id, message->sender_id, message->message_id,
                                 message->operation_xml, call.version, "sendMessage");
  if (!operation.ok()) {
    return operation.takeError();
  }
  if (auto known = checkChain(*exchanges_, *message); !known.ok()) {
    return known.error().code == ErrorCode::kUnavailable ? unavailable(known.error()).takeError()
                                                         : known.takeError();
  }
  if (operation->operation != "SubmitLicenceEvent") {
    return shepAsyncRead(call, *message, *operation, correlation_id, now);
  }

  auto kept = exchanges_->record(
      receivedRecord(*message, correlation_id, adapters::redis::kOutcomePending));
  if (!kept.ok()) {
    return unavailable(kept.error()).takeError();
  }
  LICGATE_RETURN_IF_ERROR(checkSameMessage(*kept, *message));
  auto verdict = decideEvent(*operation, correlation_id);
  if (!verdict.ok()) {
    return verdict.takeError();
  }
  registry::Status refused = verdictError(*verdict);
  if (!refused.ok() && refused.error().code == ErrorCode::kUnavailable) {
    return refused.takeError();
  }

  // The first outcome stands. A delivery again that the intake answers
  // "duplicate" says only that the first one was applied, which a record
  // left pending (licgate stopped between the two writes) did not say yet.
  std::string outcome = refused.ok() ? verdict->outcome : verdict->error_code;
  const bool first = !kept->has_value() || (*kept)->outcome == adapters::redis::kOutcomePending;
  if (first) {
    const std::string kept_outcome =
        kept->has_value() && outcome == "duplicate" ? "applied" : outcome;
    if (auto set = exchanges_->setOutcome(message->sender_id, message->message_id, kept_outcome);
        !set.ok()) {
      log_->warn("sendMessage {} from {}: decided {}, but Redis did not keep it: {}",
                 message->message_id, message->sender_id, kept_outcome, set.error().message);
    }
  }
  log_->debug("sendMessage {} (chain {}, {} from {}, correlation {}): {}", message->message_id,
              message->correlation_id, mapping::shepMessageTypeName(message->type),
              message->sender_id, correlation_id, outcome);
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
    return makeError(ErrorCode::kInvalidField, "sendMessage: " + operation.operation +
                                                   " is asked with a REQUEST, not " +
                                                   withArticle(message.type));
  }
  auto answered = answer(operation, correlation_id);
  if (!answered.ok()) {
    return answered.takeError();
  }

  adapters::redis::OutboundMessage reply;
  // licgate's own id, not the caller's correlation id, which two requests
  // may share: each answer has an outbox entry of its own.
  reply.licgate_id = id_prefix_ + std::to_string(next_id_.fetch_add(1)) + "-response";
  reply.answer = std::move(*answered);
  reply.correlation_id = message.correlation_id;
  reply.service_id = message.service_id;
  reply.message_type = "RESPONSE";
  reply.message_date = now;
  const std::int64_t due = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  auto kept =
      exchanges_->recordAndEnqueue(receivedRecord(message, correlation_id, "answered"), reply, due);
  if (!kept.ok()) {
    return unavailable(kept.error()).takeError();
  }
  LICGATE_RETURN_IF_ERROR(checkSameMessage(*kept, message));
  if (!kept->has_value() && sender_ != nullptr) {
    sender_->wake();
  }
  log_->debug("sendMessage {} (chain {}, {} from {}, correlation {}): {}", message.message_id,
              message.correlation_id, operation.operation, message.sender_id, correlation_id,
              kept->has_value() ? "delivered again, answered before" : "answer queued");
  return mapping::writeShepAsyncAck(call.version, call.operation_ns, message, now);
}

// A status of a message licgate sent through the gateway, kept with that
// message's record unless it is older than the one kept.
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
                                   notification->status_date,     notification->error_code,
                                   notification->notified_ms};
  auto noted = exchanges_->noteStatus(notification->message_id, note);
  if (!noted.ok()) {
    return noted.takeError();
  }
  if (*noted == adapters::redis::StatusNoted::kUnknown) {
    return makeError(ErrorCode::kNotFound, "changeMassageStatusNotification: messageId \"" +
                                               notification->message_id +
                                               "\" is not a message licgate sent");
  }
  if (*noted == adapters::redis::StatusNoted::kStale) {
    log_->debug("changeMassageStatusNotification {} for {} ({}) is older than the status kept",
                notification->notification_id, notification->message_id,
                notification->message_state);
  }
  const std::string session =
      notification->session_id.empty() ? makeSessionId() : notification->session_id;
  return mapping::writeShepStatusAck(call.version, now, session);
}

}  // namespace licgate::gateway
