// The XML declaration (XML 1.0 section 2.8, production XMLDecl) of a
// document whose first bytes are ASCII-compatible: where it is and which
// encoding it names, so that licgate can choose a charset before parsing
// and rewrite the name after transcoding.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "registry/result.hpp"

namespace licgate::mapping {

struct XmlDeclaration {
  std::size_t end = 0;  // offset just after "?>"
  // The encoding pseudo-attribute's value as written, and where it is.
  std::optional<std::string> encoding;
  std::size_t encoding_offset = 0;
  std::size_t encoding_length = 0;
};

// Finds the declaration at the very start of `text`. Returns nullopt when the
// text does not start with "<?xml" followed by white space. kMalformed when a
// declaration starts but is not closed or its pseudo-attributes are broken,
// naming the offset.
registry::Result<std::optional<XmlDeclaration>> findXmlDeclaration(std::string_view text);

// `text` with the declaration's encoding value replaced by `encoding`.
std::string rewriteXmlEncoding(std::string_view text, const XmlDeclaration& declaration,
                               std::string_view encoding);

}  // namespace licgate::mapping
