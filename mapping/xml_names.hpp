// Element names and text for pugixml, which is not namespace-aware: the namespace of
// an element is resolved from its prefix and the xmlns declarations on it
// and its ancestors (Namespaces in XML 1.0 section 6), so that the prefix a
// sender chose (soap:, SOAP-ENV:, s: or none) never matters.
//
// Internal to mapping/.
#pragma once

#include <pugixml.hpp>

#include <string>
#include <string_view>

namespace licgate::mapping {

// "soap:Envelope" -> "Envelope"; a name without a prefix is its own.
std::string_view localName(std::string_view qualified);

// The namespace `element`'s prefix (or the default namespace) is bound to by
// the nearest declaration; empty when none is.
std::string namespaceOf(pugi::xml_node element);

// The namespace `prefix` (empty: the default namespace) is bound to at
// `node`, by the nearest declaration on it or its ancestors; empty when none
// is. For prefixes in values, such as xsi:type="lg:GetLicence".
std::string namespaceOfPrefix(pugi::xml_node node, std::string_view prefix);

// True when `element` is the element `local` of namespace `ns`.
bool isElement(pugi::xml_node element, std::string_view ns, std::string_view local);

// XML 1.0 section 2.1: a document has exactly one root element. pugixml
// reads several side by side without complaint, so readers check.
bool hasOneRootElement(const pugi::xml_document& document);

// Copies onto `copy` (a copy of `original` in another document) each
// namespace declaration of `original`'s ancestors that it relied on, nearest
// first, unless `copy` declares that prefix itself: the copy then reads
// alone as the original read in place.
void carryDeclarations(pugi::xml_node original, pugi::xml_node copy);

// `text` without the XML white space (XML 1.0 section 2.3: space, tab, CR,
// LF) at either end.
std::string_view trimXmlSpace(std::string_view text);

}  // namespace licgate::mapping
