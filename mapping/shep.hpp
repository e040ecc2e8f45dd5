// The synchronous channel of the Kazakh e-government gateway (ШЭП,
// SyncChannel v10): a SendMessage request carries requestInfo (messageId,
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
#pragma once

#include <string>
#include <string_view>

#include "mapping/soap.hpp"
#include "registry/result.hpp"

namespace licgate::mapping {

inline constexpr std::string_view kShepSyncNamespace = "http://bip.bee.kz/SyncChannel/v10/Types";

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

// A fault whose detail is the channel's ErrorInfo (errorCode: licgate's
// error code name; errorMessage; errorDate; errorData: the correlation id).
std::string writeShepSyncFault(SoapVersion version, const registry::Error& error,
                               std::string_view correlation_id, std::string_view error_date);

}  // namespace licgate::mapping
