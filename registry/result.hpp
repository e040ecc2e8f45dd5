// Result<T>: the value of an operation that can fail in an expected way.
//
// Expected failures (bad input, an illegal transition, an unknown licence, a
// store that is busy) travel as values so that every caller sees them in the
// signature. Exceptions are kept for start-up and for library code that
// throws; they are caught at the edge of each event handler.
//
// The shape follows std::expected (C++23), which the toolchain of Debian 12
// does not have yet, so moving to it later is a rename.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace licgate::registry {

// What went wrong, in words a sender can act on. The transport outcome of
// each code (HTTP status, SOAP fault, AMQP condition, retry or not) is one
// table in mapping/error_table.hpp.
enum class ErrorCode {
  kMalformed,            // the bytes do not parse as the format they claim
  kInvalidField,         // a field parses but its value breaks a rule
  kUnsupportedEncoding,  // a charset licgate cannot transcode
  kInvalidEncoding,      // bytes are not valid in the charset they claim
  kTooLarge,             // a message or field over a configured limit
  kUnknownLicence,       // an event for a licence the register does not hold
  kUnknownAnnex,         // an event for an annex the licence does not have
  kIllegalTransition,    // the lifecycle does not allow this event now
  kConflict,             // the register holds something that contradicts it
  kNotAuthorised,        // the sender may not act for that licensor
  kNotFound,             // a lookup found nothing (reads, not events)
  kUnavailable,          // a dependency is down or busy; try again later
  kNotImplemented,       // a path licgate knows about but does not support
  kMustUnderstand,       // a SOAP header addressed to licgate that it does not understand
  kVersionMismatch,      // a SOAP Envelope in a namespace of no SOAP version licgate speaks
  kUnknownQuery,         // a conclusion for a conformity query licgate does not know
  kWrongBody,            // a conclusion from a body the query did not go to
  kInternal,             // a broken invariant inside licgate
};

// The stable wire name of a code, e.g. "illegal-transition".
std::string_view errorCodeName(ErrorCode code);

// The code of a wire name; nullopt for a name no code has.
std::optional<ErrorCode> errorCodeOfName(std::string_view name);

struct Error {
  ErrorCode code;
  std::string message;  // names the bad value and where it came from
};

inline Error makeError(ErrorCode code, std::string message) {
  return Error{code, std::move(message)};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : state_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // Calling value() on an error, or error() on a value, is a programming
  // error: std::get throws std::bad_variant_access.
  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<1>(state_); }
  Error&& takeError() { return std::get<1>(std::move(state_)); }

 private:
  std::variant<T, Error> state_;
};

// Result<void>: success carries nothing.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return error_; }
  Error&& takeError() { return std::move(error_); }

 private:
  Error error_{ErrorCode::kInternal, {}};
  bool failed_ = false;
};

using Status = Result<void>;

}  // namespace licgate::registry

// Returns the error of `expr` from the enclosing function when it failed.
#define LICGATE_RETURN_IF_ERROR(expr)     \
  do {                                    \
    auto licgate_status_ = (expr);        \
    if (!licgate_status_.ok()) {          \
      return licgate_status_.takeError(); \
    }                                     \
  } while (false)
