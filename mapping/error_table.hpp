// One table: how each error code travels on each transport, and whether the
// sender should try again. Adapters look outcomes up here rather than
// deciding on their own, so HTTP, SOAP and AMQP always agree.
#pragma once

#include <string_view>

#include "registry/result.hpp"

namespace licgate::mapping {

struct ErrorTransport {
  int http_status;                  // e.g. 400, 404, 409, 413, 503
  std::string_view soap11_fault;    // "soap:Client" or "soap:Server"
  std::string_view soap12_fault;    // "soap:Sender" or "soap:Receiver"
  std::string_view amqp_condition;  // AMQP 1.0 section 2.8.15, e.g. "amqp:decode-error"
  bool amqp_reject;                 // true: rejected outcome; false: released (redeliver)
  bool retry;                       // the sender may succeed by sending the same again later
};

const ErrorTransport& errorTransport(registry::ErrorCode code);

}  // namespace licgate::mapping
