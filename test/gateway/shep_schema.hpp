// Validation against the e-government gateway's own schemas (the shared data
// set beside the repository, shep/), by xmllint.
//
// Those schemas import one namespace from several files (common/v10/types
// from Property.xsd, SenderInfo.xsd, ...), and libxml2 follows only the
// first import of a namespace, so the types of the other files never
// resolve. The wrapper written here has one schema per namespace that
// includes every file of it, and a top schema that imports those, the
// namespaces others depend on first; every later import of a namespace is
// then already satisfied.
#pragma once

#include <pugixml.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "test/mapping/xmllint.hpp"

namespace licgate::testing {

inline const std::filesystem::path kShepData = LICGATE_SOURCE_DIR "/../shared/data/shep";

// Dependencies first: the common types, then each channel's types, then
// their request and response types, then the channel interfaces.
inline int namespaceRank(const std::string& ns) {
  if (ns.ends_with("/common/v10/types")) {
    return 0;
  }
  if (ns.ends_with("/v10/types")) {
    return 1;
  }
  return ns.find("/v10/types/") != std::string::npos ? 2 : 3;
}

// Writes the wrapper into `dir` and returns the top schema's path; empty
// when the shared schemas are not there.
inline std::string writeShepWrapper(const std::filesystem::path& dir) {
  std::map<std::string, std::vector<std::string>> by_namespace;
  if (!std::filesystem::exists(kShepData)) {
    return {};
  }
  for (const auto& entry : std::filesystem::recursive_directory_iterator(kShepData)) {
    if (entry.path().extension() != ".xsd") {
      continue;
    }
    pugi::xml_document schema;
    if (schema.load_file(entry.path().c_str())) {
      std::string ns = schema.document_element().attribute("targetNamespace").value();
      by_namespace[ns].push_back(std::filesystem::canonical(entry.path()).string());
    }
  }
  std::vector<std::string> order;
  for (const auto& [ns, files] : by_namespace) {
    order.push_back(ns);
  }
  std::stable_sort(order.begin(), order.end(), [](const std::string& a, const std::string& b) {
    return namespaceRank(a) < namespaceRank(b);
  });

  std::string top = "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\">\n";
  for (std::size_t i = 0; i < order.size(); ++i) {
    std::vector<std::string> files = by_namespace[order[i]];
    std::sort(files.begin(), files.end());
    const auto part = dir / ("namespace-" + std::to_string(i) + ".xsd");
    std::ofstream out(part);
    out << "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" targetNamespace=\"" << order[i]
        << "\">\n";
    for (const std::string& file : files) {
      out << "  <xs:include schemaLocation=\"" << file << "\"/>\n";
    }
    out << "</xs:schema>\n";
    top +=
        "  <xs:import namespace=\"" + order[i] + "\" schemaLocation=\"" + part.string() + "\"/>\n";
  }
  top += "</xs:schema>\n";
  const auto wrapper = dir / "shep.xsd";
  std::ofstream(wrapper) << top;
  return wrapper.string();
}

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
  std::string wrapper = writeShepWrapper(scratch.path());
  if (wrapper.empty()) {
    return {-1, "the e-government gateway's schemas are not at " + kShepData.string()};
  }
  const auto file = scratch.path() / "document.xml";
  std::ofstream(file, std::ios::binary) << document;
  return mapping::runXmllint("xmllint --noout --schema '" + wrapper + "' '" + file.string() + "'");
}

}  // namespace licgate::testing
