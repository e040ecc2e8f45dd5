// Validation against the e-government gateway's own schemas (the shared data
// set beside the repository, shep/), by xmllint: an independent validator,
// through the per-namespace wrapper licgate writes for them
// (gateway/shep_schemas.hpp).
#pragma once

#include <pugixml.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "gateway/shep_schemas.hpp"
#include "test/mapping/xmllint.hpp"

namespace licgate::testing {

inline const std::filesystem::path kShepData = LICGATE_SOURCE_DIR "/../shared/data/shep";

// The Body's element of a SOAP envelope as a document of its own, for the
// schema, with the namespace declarations it took from the envelope.
inline std::string bodyElement(const std::string& envelope) {
  pugi::xml_document document;
  document.load_string(envelope.c_str());
  pugi::xml_node element = document.document_element().first_child().first_child();
  pugi::xml_document alone;
  pugi::xml_node copy = alone.append_copy(element);
  for (pugi::xml_attribute attribute : document.document_element().attributes()) {
    if (std::string_view(attribute.name()).starts_with("xmlns:") &&
        !copy.attribute(attribute.name())) {
      copy.append_attribute(attribute.name()) = attribute.value();
    }
  }
  std::ostringstream out;
  alone.save(out, "", pugi::format_raw | pugi::format_no_declaration);
  return out.str();
}

// xmllint's verdict on `document` against the wrapper.
inline mapping::XsdValidation validateAgainstShep(const std::string& document) {
  mapping::XsdScratchDir scratch;
  auto wrapper = gateway::writeShepWrapper(kShepData, scratch.path());
  if (!wrapper.ok()) {
    return {-1, wrapper.error().message};
  }
  const auto file = scratch.path() / "document.xml";
  std::ofstream(file, std::ios::binary) << document;
  return mapping::runXmllint("xmllint --noout --schema '" + *wrapper + "' '" + file.string() + "'");
}

}  // namespace licgate::testing
