// The requests the SOAP tests post to licgate's endpoint, and a text check.
#pragma once

#include <string>

#include "adapters/http/server.hpp"
#include "gateway/soap_api.hpp"

namespace licgate::testing {

// A SOAP 1.1 POST of `body` to licgate's endpoint, with SOAPAction
// `action` (the e-government gateway's operations have ""); empty: none.
inline adapters::http::Request soapPost(const std::string& body,
                                        const std::string& action = "\"\"") {
  adapters::http::Request request;
  request.method = "POST";
  request.path = std::string(gateway::kSoapPath);
  request.headers["content-type"] = "text/xml; charset=utf-8";
  if (!action.empty()) {
    request.headers["soapaction"] = action;
  }
  request.body = body;
  return request;
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace licgate::testing
