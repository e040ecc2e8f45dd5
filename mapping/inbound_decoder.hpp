// From an inbound message body and its content type to a register event.
//
// Content types (docs/event-format.md):
//   application/xml, text/xml          canonical event XML
//   application/json                   canonical event JSON
//   application/vnd.licgate.eru-licence+xml
//                                      one <nazev_licence> record of the Czech
//                                      Energy Regulatory Office export
//   text/csv; profile=eru-holder       header line + one row of its holders CSV
//   text/csv; profile=eru-establishment
//                                      header line + one row of its
//                                      establishments CSV (an annex)
// A charset parameter names the transport's charset.
#pragma once

#include <cstddef>
#include <string_view>

#include "registry/event.hpp"
#include "registry/result.hpp"

namespace licgate::mapping {

struct DecodeLimits {
  std::size_t max_body_bytes = 1 << 20;
};

// Errors: kTooLarge (body over the limit, naming both sizes), kMalformed
// (unknown content type, unparsable body), kUnsupportedEncoding,
// kInvalidEncoding, kInvalidField (a field breaks a rule: check digit,
// number shape, country code, date), kNotImplemented (a known content type
// licgate does not map yet).
registry::Result<registry::Event> decodeInbound(std::string_view body,
                                                std::string_view content_type,
                                                const DecodeLimits& limits);

}  // namespace licgate::mapping
