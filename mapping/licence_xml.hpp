// Licences and journal entries as the XML of licgate's SOAP services
// (mapping/schema/licgate-soap.xsd, types Licence and Change).
#pragma once

#include <pugixml.hpp>

#include "registry/event.hpp"
#include "registry/model.hpp"
#include "registry/result.hpp"

namespace licgate::mapping {

// The namespace of licgate's SOAP messages; elements are written with the
// prefix "lg", which the caller declares on an ancestor.
inline constexpr std::string_view kSoapNamespace = "urn:licgate:soap:1";

// Appends <lg:`name`> holding the licence with its annexes.
void appendLicenceXml(pugi::xml_node parent, const char* name, const registry::Licence& licence);

// Appends <lg:change> with the entry and its event as the canonical
// <licenceEvent> (mapping/event_xml.hpp). kInternal when the stored payload
// cannot be read back, which would mean a damaged journal.
registry::Status appendChangeXml(pugi::xml_node parent, const registry::JournalEntry& entry);

}  // namespace licgate::mapping
