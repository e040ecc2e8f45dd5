// The channels of the Kazakh e-government gateway (ШЭП), version 10.
//
// The synchronous channel (SyncChannel v10): a SendMessage request carries requestInfo (messageId,
// serviceId, messageDate, sender) and requestData/data; the answer carries
// responseInfo (ids, date, status) and responseData/data; an error is a SOAP
// fault whose detail is an ErrorInfo. The schemas are the gateway's own
// (SyncChannel/v10/types, common/v10/types); their local elements are
// unqualified, only SendMessage, SendMessageResponse and the fault element
// are in the channel's namespace.
//
// licgate runs one of its own operations for each serviceId, so `data`
// holds a licgate operation element (docs/soap.md) in one of the three
// forms senders use: the element itself as data's child; the element as an
// escaped XML string, data's text; or data typed with xsi:type naming the
// operation, with the parameters as data's children.
//
// The asynchronous channel (AsyncChannel v10), where licgate is the
// receiving system the gateway pushes to (the interface IAsyncChannelClient):
// sendMessage delivers one message of a chain (messageInfo: the gateway's
// messageId and correlationId, serviceId, messageType, messageDate, sender;
// messageData/data in the same three forms) and is acknowledged with
// sendMessageResponse; changeMassageStatusNotification (the interface's own
// spelling) tells the state of a message licgate sent and is acknowledged
// with its response. sendMessage is in the channel's Types namespace, the
// status notification in Types/Client; the inner types are unqualified.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mapping/soap.hpp"
#include "registry/result.hpp"

namespace licgate::mapping {

inline constexpr std::string_view kShepSyncNamespace = "http://bip.bee.kz/SyncChannel/v10/Types";
inline constexpr std::string_view kShepAsyncNamespace = "http://bip.bee.kz/AsyncChannel/v10/Types";
inline constexpr std::string_view kShepAsyncClientNamespace =
    "http://bip.bee.kz/AsyncChannel/v10/Types/Client";

struct ShepSyncRequest {
  std::string message_id;
  std::string correlation_id;  // may be empty
  std::string service_id;
  std::string message_date;
  std::string sender_id;
  // The licgate operation the data holds, as a document of its own, and its
  // local name when the data named it by xsi:type (else empty: the
  // document's root names it).
  std::string operation_xml;
};

// Reads the <request> of a SendMessage (SoapCall::documents, "request").
// Errors: kMalformed (not XML), kInvalidField naming the missing or empty
// element (requestInfo/messageId, serviceId, messageDate, sender/senderId,
// requestData/data).
registry::Result<ShepSyncRequest> readShepSyncRequest(std::string_view request_xml);

// An xsd:dateTime (XML Schema part 2 section 3.2.7) as milliseconds since
// the epoch; nullopt when the text is not one.
std::optional<std::int64_t> parseXsdDateTime(std::string_view text);

// What the answer's responseInfo says besides the ids.
struct ShepStatus {
  std::string code;     // "OK", or licgate's error code name
  std::string message;  // at most 250 characters (StatusInfo), cut if longer
};

// The SendMessageResponse envelope: responseInfo with `message_id`
// (licgate's id for the exchange), the request's message id as its
// correlationId, `response_date`, `status`; responseData/data holding the
// Body element of `operation_answer` (an envelope written by licgate's
// operation). kInternal when that envelope cannot be read back.
registry::Result<std::string> writeShepSyncResponse(
    SoapVersion version, const ShepSyncRequest& request, const std::string& message_id,
    const std::string& response_date, const ShepStatus& status, std::string_view operation_answer);

// A fault whose detail is the gateway's ErrorInfo (errorCode: licgate's
// error code name; errorMessage; errorData: the correlation id; errorDate),
// as the element `element` of namespace `element_ns`: each operation of the
// gateway's interfaces names its own fault element.
std::string writeShepFault(SoapVersion version, std::string_view element_ns,
                           std::string_view element, const registry::Error& error,
                           std::string_view correlation_id, std::string_view error_date);

// The synchronous SendMessage's fault (SendMessageFault1_SendMessageFault).
std::string writeShepSyncFault(SoapVersion version, const registry::Error& error,
                               std::string_view correlation_id, std::string_view error_date);

// What an asynchronous message is to its chain (AsyncMessageInfo):
// REQUEST opens an interaction; UPDATE, NOTIFICATION and RESPONSE belong to
// one and carry its correlationId.
enum class ShepMessageType : std::uint8_t { kRequest, kNotification, kUpdate, kResponse };

std::string_view shepMessageTypeName(ShepMessageType type);

struct ShepAsyncMessage {
  std::string message_id;      // the gateway's id of this message
  std::string correlation_id;  // the chain's id; for a REQUEST the message id when absent
  std::string service_id;
  ShepMessageType type = ShepMessageType::kRequest;
  std::string route_id;  // may be empty
  std::string message_date;
  std::string sender_id;
  std::string session_id;  // may be empty
  std::vector<std::pair<std::string, std::string>> properties;
  std::string operation_xml;  // as ShepSyncRequest::operation_xml
};

// Reads the <request> of an asynchronous sendMessage. The gateway numbers
// every message it delivers, so messageId is required here (the interface
// leaves it optional only for a sender's outgoing copy), and so is the
// correlationId of every type but REQUEST. Errors: kMalformed (not XML, or
// data of several elements), kInvalidField naming the missing, empty or
// wrong element (messageInfo/messageId, correlationId, serviceId,
// messageType, messageDate as an xsd:dateTime, sender/senderId, a property
// key over 30 or value over 500 characters, sessionId not a {guid},
// messageData/data).
registry::Result<ShepAsyncMessage> readShepAsyncMessage(std::string_view request_xml);

// The sendMessageResponse envelope in `element_ns` (the namespace the
// sendMessage came in): the message's id and its chain's, the response
// date, and the session id when the message had one.
std::string writeShepAsyncAck(SoapVersion version, std::string_view element_ns,
                              const ShepAsyncMessage& message, std::string_view response_date);

// The asynchronous sendMessage's fault (sendMessageFault1_sendMessageFault
// in `element_ns`).
std::string writeShepAsyncFault(SoapVersion version, std::string_view element_ns,
                                const registry::Error& error, std::string_view correlation_id,
                                std::string_view error_date);

// A message licgate sends to the gateway's asynchronous channel
// (IAsyncChannel's sendMessage): a RESPONSE in a chain, for one.
struct ShepOutgoing {
  std::string correlation_id;
  std::string service_id;
  ShepMessageType type = ShepMessageType::kResponse;
  std::string message_date;
  std::string sender_id;  // licgate's on the gateway
  std::string password;   // empty: left out
};

// The SOAP 1.1 sendMessage envelope (the gateway's binding is 1.1):
// messageInfo without a messageId (the gateway numbers each message it
// takes), messageData/data holding the Body element of `operation_answer`
// (an envelope written by licgate's operation). kInternal when that
// envelope cannot be read back.
registry::Result<std::string> writeShepAsyncOutgoing(const ShepOutgoing& message,
                                                     std::string_view operation_answer);

// The gateway's sendMessageResponse to a message licgate sent: the number
// the gateway gave it, and its chain.
struct ShepAck {
  std::string message_id;
  std::string correlation_id;
};

// Errors: kMalformed when the answer is no SOAP envelope of a
// sendMessageResponse; kInvalidField when its response has no messageId.
registry::Result<ShepAck> readShepAsyncAck(std::string_view envelope,
                                           std::string_view content_type);

// A changeMassageStatusNotification: the state of a message licgate sent.
struct ShepStatusNotification {
  std::string notification_id;
  std::string message_id;  // the gateway's id of licgate's message
  std::string notification_date;
  std::int64_t notified_ms = 0;  // notification_date as milliseconds since the epoch
  std::string message_state;     // ON_DELIVERY, DELIVERED, NOT_DELIVERED, DELIVERY_STOPPED
  std::string status_code;
  std::string status_message;
  std::string status_date;
  std::string error_code;     // empty without an error
  std::string error_message;  // empty without an error
  std::string request_date;
  std::string session_id;  // may be empty
};

// Reads the <request> of a changeMassageStatusNotification. Errors:
// kMalformed (not XML), kInvalidField naming the missing or wrong element
// (notification/notificationId, messageId, notificationDate, messageState
// outside its four values, status/statusCode, statusMessage, statusDate,
// requestDate, sessionId not a {guid}).
registry::Result<ShepStatusNotification> readShepStatusNotification(std::string_view request_xml);

// The changeMassageStatusNotificationResponse envelope: the response date
// and `session_id` (the request's, or one licgate made: the response must
// carry one).
std::string writeShepStatusAck(SoapVersion version, std::string_view response_date,
                               std::string_view session_id);

// The status notification's fault
// (changeMassageStatusNotificationFault1_changeMassageStatusNotificationFault).
std::string writeShepStatusFault(SoapVersion version, const registry::Error& error,
                                 std::string_view correlation_id, std::string_view error_date);

}  // namespace licgate::mapping
