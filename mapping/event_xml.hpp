// The canonical licence event as XML: namespace urn:licgate:licence-event:1,
// root element <licenceEvent>, schema mapping/schema/licence-event.xsd,
// documented in docs/event-format.md. Same fields as the canonical JSON
// (registry/event_codec.hpp).
#pragma once

#include <string>
#include <string_view>

#include "registry/event.hpp"
#include "registry/result.hpp"

namespace licgate::mapping {

// Parses UTF-8 XML (run mapping/encoding.hpp's toUtf8 first). Errors:
// kMalformed with pugixml's description and byte offset, or a wrong root
// element or namespace; kInvalidField naming the element whose value is
// wrong or missing.
registry::Result<registry::Event> parseEventXml(std::string_view utf8);

// Writes the event as a UTF-8 XML document that validates against the XSD.
std::string writeEventXml(const registry::Event& event);

}  // namespace licgate::mapping
