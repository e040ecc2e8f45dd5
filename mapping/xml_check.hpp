// The well-formedness check of XML that licgate reads (XML 1.0 section 2.1),
// by libxml2, a conforming parser.
//
// licgate reads XML with pugixml, which is fast but takes some documents
// that are not XML: an undeclared entity left as text, "&#0;", an attribute
// given twice, a raw "&", text after the root element, a misplaced XML
// declaration. Each document is therefore also parsed by libxml2 before it
// is read, and refused when libxml2 refuses it. A document type
// declaration is refused before libxml2 sees the document, so that nothing
// is declared, loaded or expanded; libxml2 never touches the network
// (XML_PARSE_NONET).
#pragma once

#include <string_view>

#include "registry/result.hpp"

namespace licgate::mapping {

// `utf8`: the document, in UTF-8. `what` names it in the error ("the
// message", "the event"). Errors: kMalformed with libxml2's reason and the
// line and column, e.g. "the message is not well-formed XML (line 1,
// column 9): Entity 'x' not defined"; kMalformed for a document type
// declaration. Thread-safe: one parser context per thread, reused.
registry::Status checkWellFormed(std::string_view utf8, std::string_view what);

}  // namespace licgate::mapping
