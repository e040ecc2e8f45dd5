// SOAP 1.1 and 1.2 envelopes: reading a request, writing a response or a
// fault. One endpoint serves both versions; they are told apart by the
// envelope's namespace, which must agree with the HTTP Content-Type
// (SOAP 1.1 section 6.1.1: text/xml; SOAP 1.2 part 2 section 7.1.4:
// application/soap+xml).
//
// Reading is strict and bounded: the bytes go through the same charset
// handling as licence events (mapping/encoding.hpp), a document with a DTD
// is refused before anything else is read (SOAP 1.1 section 3, SOAP 1.2
// part 1 section 5: a SOAP message must not contain one), and pugixml
// expands no entity but the five predefined ones, so neither a billion
// laughs nor an external entity can do anything. Prefixes do not matter:
// names are resolved by namespace (mapping/xml_names.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <pugixml.hpp>

#include "registry/result.hpp"

namespace licgate::mapping {

enum class SoapVersion : std::uint8_t { k11, k12 };

inline constexpr std::string_view kSoap11Namespace = "http://schemas.xmlsoap.org/soap/envelope/";
inline constexpr std::string_view kSoap12Namespace = "http://www.w3.org/2003/05/soap-envelope";

// What a SOAP request asks: the first element of its Body and that
// element's child elements, which are the operation's parameters (licgate's
// operations are document/literal wrapped, with simple parameters).
struct SoapCall {
  SoapVersion version = SoapVersion::k11;
  std::string operation;     // local name, e.g. "GetLicence"
  std::string operation_ns;  // its namespace
  // Each child element of the operation, in order: local name and text
  // (surrounding XML white space trimmed; CDATA and entities read as text).
  std::vector<std::pair<std::string, std::string>> parameters;
  // The child elements that have elements of their own (a licence event),
  // by local name: each as a UTF-8 document of its own, with the namespace
  // declarations it relied on from the envelope copied onto it.
  std::vector<std::pair<std::string, std::string>> documents;
};

// The version a Content-Type announces: text/xml is 1.1,
// application/soap+xml is 1.2. kMalformed naming the content type when it
// is neither (over HTTP, the caller answers that with 415 before reading).
registry::Result<SoapVersion> soapVersionOfContentType(std::string_view content_type);

// Reads a request sent with `content_type`. Errors:
// - kUnsupportedEncoding, kInvalidEncoding: from the charset handling;
// - kMalformed: not XML (with the byte offset), a DTD, a root that is not a
//   SOAP 1.1 or 1.2 Envelope, an envelope whose version contradicts the
//   Content-Type, no Body or more than one, a Body without an element.
registry::Result<SoapCall> readSoapCall(std::string_view bytes, std::string_view content_type);

// Reads an operation element on its own (a document whose root is, say,
// <GetLicence>), as readSoapCall reads the one in a Body, for channels that
// carry licgate's operations inside their own messages (mapping/shep.hpp).
// The call gets `version`. Errors: kMalformed (not XML, a DTD, several
// roots).
registry::Result<SoapCall> readSoapOperation(std::string_view operation_xml, SoapVersion version);

// Writes an envelope of `version` whose Body gets what `fill` appends to it
// (the operation's response element). UTF-8, with an XML declaration.
std::string writeSoapEnvelope(SoapVersion version,
                              const std::function<void(pugi::xml_node body)>& fill);

// Writes a fault for `error`: SOAP 1.1 faultcode soap:Client or soap:Server,
// SOAP 1.2 Code/Value soap:Sender or soap:Receiver (mapping/error_table.hpp),
// with licgate's error code and `correlation_id` in the detail. The text of
// an internal error is replaced by a sentence that names only the
// correlation id: what failed inside licgate is for its log, not its callers.
std::string writeSoapFault(SoapVersion version, const registry::Error& error,
                           std::string_view correlation_id);

// The text a fault gives for `error`: its message, or for an internal error
// a sentence naming only the correlation id.
std::string soapFaultText(const registry::Error& error, std::string_view correlation_id);

// The HTTP status of a fault: 500 for every SOAP 1.1 fault (SOAP 1.1 section
// 6.2); for SOAP 1.2, 400 for a Sender fault and 500 for a Receiver fault
// (SOAP 1.2 part 2 section 7.5.2.2).
int soapFaultHttpStatus(SoapVersion version, registry::ErrorCode code);

// The Content-Type of a message of `version`, with charset=utf-8.
std::string_view soapContentType(SoapVersion version);

// A fault another system answered, as its envelope says it, whatever the
// prefixes: SOAP 1.1 faultcode or SOAP 1.2 Code/Value, by local name.
struct SoapFault {
  SoapVersion version = SoapVersion::k11;
  // "Client", "Server", "VersionMismatch", "MustUnderstand" (1.1);
  // "Sender", "Receiver", "VersionMismatch", "MustUnderstand",
  // "DataEncodingUnknown" (1.2). A 1.1 code with dots ("Client.Auth") is
  // given without what follows the first dot.
  std::string code;
  std::string text;          // faultstring or the first Reason/Text
  std::string licgate_code;  // licgate's own code in the detail, when the peer is licgate
};

// The fault in a SOAP envelope, or nullopt when it holds none (or is not a
// SOAP envelope at all). Reads UTF-8; a DTD is refused as in readSoapCall.
std::optional<SoapFault> readSoapFault(std::string_view bytes, std::string_view content_type);

// Whether sending the same request again later may succeed: a fault of the
// receiving side (Server, Receiver) may pass; one of the request (Client,
// Sender, VersionMismatch, MustUnderstand, DataEncodingUnknown) never will.
bool isRetryableFault(const SoapFault& fault);

}  // namespace licgate::mapping
