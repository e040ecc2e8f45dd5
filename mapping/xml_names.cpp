// Namespace resolution for pugixml (mapping/xml_names.hpp).
#include "mapping/xml_names.hpp"

namespace licgate::mapping {

std::string_view localName(std::string_view qualified) {
  std::size_t colon = qualified.find(':');
  return colon == std::string_view::npos ? qualified : qualified.substr(colon + 1);
}

std::string namespaceOf(pugi::xml_node element) {
  std::string_view name = element.name();
  std::size_t colon = name.find(':');
  return namespaceOfPrefix(
      element, colon == std::string_view::npos ? std::string_view() : name.substr(0, colon));
}

std::string namespaceOfPrefix(pugi::xml_node node, std::string_view prefix) {
  std::string attribute = prefix.empty() ? "xmlns" : "xmlns:" + std::string(prefix);
  for (pugi::xml_node at = node; at && at.type() == pugi::node_element; at = at.parent()) {
    if (pugi::xml_attribute declared = at.attribute(attribute.c_str())) {
      return declared.value();
    }
  }
  return {};
}

bool isElement(pugi::xml_node element, std::string_view ns, std::string_view local) {
  return element.type() == pugi::node_element && localName(element.name()) == local &&
         namespaceOf(element) == ns;
}

bool hasOneRootElement(const pugi::xml_document& document) {
  int roots = 0;
  for (pugi::xml_node node : document.children()) {
    roots += node.type() == pugi::node_element ? 1 : 0;
  }
  return roots == 1;
}

void carryDeclarations(pugi::xml_node original, pugi::xml_node copy) {
  for (pugi::xml_node at = original.parent(); at && at.type() == pugi::node_element;
       at = at.parent()) {
    for (pugi::xml_attribute attribute : at.attributes()) {
      std::string_view name = attribute.name();
      bool declaration = name == "xmlns" || name.starts_with("xmlns:");
      if (declaration && !copy.attribute(attribute.name())) {
        copy.append_attribute(attribute.name()) = attribute.value();
      }
    }
  }
}

std::string_view trimXmlSpace(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  std::size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) {
    return {};
  }
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

}  // namespace licgate::mapping
