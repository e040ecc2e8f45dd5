#include "registry/result.hpp"

namespace licgate::registry {

std::string_view errorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kMalformed:
      return "malformed";
    case ErrorCode::kInvalidField:
      return "invalid-field";
    case ErrorCode::kUnsupportedEncoding:
      return "unsupported-encoding";
    case ErrorCode::kInvalidEncoding:
      return "invalid-encoding";
    case ErrorCode::kTooLarge:
      return "too-large";
    case ErrorCode::kUnknownLicence:
      return "unknown-licence";
    case ErrorCode::kUnknownAnnex:
      return "unknown-annex";
    case ErrorCode::kIllegalTransition:
      return "illegal-transition";
    case ErrorCode::kConflict:
      return "conflict";
    case ErrorCode::kNotAuthorised:
      return "not-authorised";
    case ErrorCode::kNotFound:
      return "not-found";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kNotImplemented:
      return "not-implemented";
    case ErrorCode::kMustUnderstand:
      return "must-understand";
    case ErrorCode::kVersionMismatch:
      return "version-mismatch";
    case ErrorCode::kUnknownQuery:
      return "unknown-query";
    case ErrorCode::kWrongBody:
      return "wrong-body";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "internal";
}

std::optional<ErrorCode> errorCodeOfName(std::string_view name) {
  for (int code = 0; code <= static_cast<int>(ErrorCode::kInternal); ++code) {
    if (errorCodeName(static_cast<ErrorCode>(code)) == name) {
      return static_cast<ErrorCode>(code);
    }
  }
  return std::nullopt;
}

}  // namespace licgate::registry
