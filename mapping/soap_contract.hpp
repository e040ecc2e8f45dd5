// The WSDL and schemas of licgate's SOAP services (mapping/schema/), compiled
// in, as licgate serves them: at <endpoint>?wsdl and <endpoint>?xsd=NAME.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace licgate::mapping {

// The WSDL with its service address set to `endpoint` (an absolute URL such
// as "http://10.0.0.5:8080/soap/v1") and its schemaLocation pointing at
// `endpoint`?xsd=licgate-soap.xsd.
std::string soapWsdl(std::string_view endpoint);

// The schema `name` ("licgate-soap.xsd" or "licence-event.xsd") with each
// schemaLocation it imports pointing under `endpoint`; nullopt for any
// other name.
std::optional<std::string> soapSchema(std::string_view name, std::string_view endpoint);

}  // namespace licgate::mapping
