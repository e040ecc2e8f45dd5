// What the JSON and SOAP forms of the conformity messages share
// (mapping/conformity.cpp, mapping/conformity_soap.cpp); not part of
// mapping's interface.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "registry/conformity.hpp"
#include "registry/result.hpp"

namespace licgate::mapping::conformity_detail {

// Moves the value of `result` into `into`, or returns its error, so that a
// reader can read member after member with LICGATE_RETURN_IF_ERROR.
template <typename T>
registry::Status assignTo(T& into, registry::Result<T> result) {
  if (!result) {
    return result.takeError();
  }
  into = std::move(*result);
  return {};
}

// A verdict by its wire name. kInvalidField naming `where` and the text.
registry::Result<registry::Verdict> verdictOfText(std::string_view text, std::string_view where);

// Data given as JSON text (the SOAP dataJson): a JSON object, read as
// strictly as a JSON message, returned compact. kInvalidField naming
// `where` for text that is not JSON (with line and column), a repeated key
// or a value that is not an object.
registry::Result<std::string> compactDataJson(std::string_view text, std::string_view where);

}  // namespace licgate::mapping::conformity_detail
