// Serving the SOAP contract (mapping/soap_contract.hpp). The files are
// rewritten as text: they are licgate's own, so the attributes replaced are
// known to be written as schemaLocation="NAME" and location="URL".
#include "mapping/soap_contract.hpp"

namespace licgate::mapping {

namespace contract {
extern const std::string_view kWsdl;
extern const std::string_view kSoapXsd;
extern const std::string_view kEventXsd;
}  // namespace contract

namespace {

// Replaces the value of every `attribute`="..." in `text` by what `change`
// makes of it.
template <typename Change>
std::string rewriteAttribute(std::string_view text, std::string_view attribute, Change change) {
  const std::string opening = " " + std::string(attribute) + "=\"";
  std::string out;
  std::size_t at = 0;
  for (;;) {
    std::size_t found = text.find(opening, at);
    if (found == std::string_view::npos) {
      break;
    }
    std::size_t value = found + opening.size();
    std::size_t end = text.find('"', value);
    if (end == std::string_view::npos) {
      break;
    }
    out.append(text.substr(at, value - at));
    out.append(change(text.substr(value, end - value)));
    at = end;
  }
  out.append(text.substr(at));
  return out;
}

std::string withSchemasUnder(std::string_view text, std::string_view endpoint) {
  return rewriteAttribute(text, "schemaLocation", [&](std::string_view name) {
    return std::string(endpoint) + "?xsd=" + std::string(name);
  });
}

}  // namespace

std::string soapWsdl(std::string_view endpoint) {
  std::string wsdl = withSchemasUnder(contract::kWsdl, endpoint);
  return rewriteAttribute(wsdl, "location",
                          [&](std::string_view) { return std::string(endpoint); });
}

std::optional<std::string> soapSchema(std::string_view name, std::string_view endpoint) {
  if (name == "licgate-soap.xsd") {
    return withSchemasUnder(contract::kSoapXsd, endpoint);
  }
  if (name == "licence-event.xsd") {
    return withSchemasUnder(contract::kEventXsd, endpoint);
  }
  return std::nullopt;
}

}  // namespace licgate::mapping
