#include "mapping/error_table.hpp"

namespace licgate::mapping {

using registry::ErrorCode;

namespace {

// Client faults are rejected for good: sending the same bytes again cannot
// succeed. Only kUnavailable is released for redelivery, because the same
// message may well be applied once the store or a dependency is back.
constexpr ErrorTransport kClientFault{400,  "soap:Client", "soap:Sender", "amqp:invalid-field",
                                      true, false};

}  // namespace

const ErrorTransport& errorTransport(ErrorCode code) {
  static const ErrorTransport kMalformed{400,  "soap:Client", "soap:Sender", "amqp:decode-error",
                                         true, false};
  static const ErrorTransport kEncoding{415,  "soap:Client", "soap:Sender", "amqp:decode-error",
                                        true, false};
  static const ErrorTransport kTooLarge{
      413, "soap:Client", "soap:Sender", "amqp:link:message-size-exceeded", true, false};
  static const ErrorTransport kNotFound{404,  "soap:Client", "soap:Sender", "amqp:not-found",
                                        true, false};
  static const ErrorTransport kConflict{
      409, "soap:Client", "soap:Sender", "amqp:precondition-failed", true, false};
  static const ErrorTransport kForbidden{
      403, "soap:Client", "soap:Sender", "amqp:unauthorized-access", true, false};
  static const ErrorTransport kUnavailable{
      503, "soap:Server", "soap:Receiver", "amqp:resource-limit-exceeded", false, true};
  static const ErrorTransport kNotImplemented{
      501, "soap:Server", "soap:Receiver", "amqp:not-implemented", true, false};
  // SOAP 1.1 section 4.4.1 and SOAP 1.2 part 1 section 5.4.6 give it a
  // fault code of its own; SOAP 1.2 part 2 section 7.5.2.2 answers it 500.
  static const ErrorTransport kMustUnderstand{
      500, "soap:MustUnderstand", "soap:MustUnderstand", "amqp:not-implemented", true, false};
  // SOAP 1.1 section 4.4.1 and SOAP 1.2 part 1 section 5.4.6 again; it is
  // never sent over AMQP, where no envelope is read.
  static const ErrorTransport kVersionMismatch{
      500, "soap:VersionMismatch", "soap:VersionMismatch", "amqp:decode-error", true, false};
  static const ErrorTransport kInternal{500,  "soap:Server", "soap:Receiver", "amqp:internal-error",
                                        true, false};
  switch (code) {
    case ErrorCode::kMalformed:
      return kMalformed;
    case ErrorCode::kInvalidField:
      return kClientFault;
    case ErrorCode::kUnsupportedEncoding:
    case ErrorCode::kInvalidEncoding:
      return kEncoding;
    case ErrorCode::kTooLarge:
      return kTooLarge;
    case ErrorCode::kUnknownLicence:
    case ErrorCode::kUnknownAnnex:
    case ErrorCode::kNotFound:
    case ErrorCode::kUnknownQuery:
      return kNotFound;
    case ErrorCode::kIllegalTransition:
    case ErrorCode::kConflict:
      return kConflict;
    case ErrorCode::kNotAuthorised:
    case ErrorCode::kWrongBody:
      return kForbidden;
    case ErrorCode::kUnavailable:
      return kUnavailable;
    case ErrorCode::kNotImplemented:
      return kNotImplemented;
    case ErrorCode::kMustUnderstand:
      return kMustUnderstand;
    case ErrorCode::kVersionMismatch:
      return kVersionMismatch;
    case ErrorCode::kInternal:
      return kInternal;
  }
  return kInternal;
}

}  // namespace licgate::mapping
