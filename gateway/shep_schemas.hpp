// The e-government gateway's own schemas (its WSDL's XSDs, as the operator
// hands them to integrators), compiled once at start, and the validation of
// the gateway's messages against them (docs/soap.md).
//
// Those schemas import one namespace from several files (common/v10/types
// from Property.xsd, SenderInfo.xsd, ...), and libxml2 follows only the
// first import of a namespace and skips the rest, so the types of the other
// files never resolve. licgate therefore writes a wrapper: one schema per
// namespace that includes every file of it, and a top schema that imports
// those, the namespaces others depend on first; every later import of a
// namespace is then already satisfied, and every type resolves.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "registry/result.hpp"

namespace licgate::gateway {

// Writes the wrapper for the schemas under `schemas` (every *.xsd, found
// recursively) into the directory `into`, and returns the top schema's
// path. Errors: kInvalidField naming the directory when it has no schema.
registry::Result<std::string> writeShepWrapper(const std::filesystem::path& schemas,
                                               const std::filesystem::path& into);

class ShepSchemas {
 public:
  ~ShepSchemas();
  ShepSchemas(const ShepSchemas&) = delete;
  ShepSchemas& operator=(const ShepSchemas&) = delete;

  // Compiles the schemas under `dir` through the wrapper (written to a
  // temporary directory, removed before this returns). Blocks on the
  // files. Errors: kInvalidField naming the directory when it has no
  // schema; kMalformed with libxml2's first messages when the set does not
  // compile (a type that does not resolve, a file that is not a schema).
  static registry::Result<std::unique_ptr<ShepSchemas>> load(const std::filesystem::path& dir);

  // Validates one of the gateway's messages: `element_xml` is the SOAP
  // Body's element as a document of its own. `data` elements are xsd:anyType
  // whose content licgate reads and checks itself (it may be typed with
  // xsi:type naming one of licgate's operations, a type these schemas do not
  // have), so their content is left out of the validation. Errors:
  // kInvalidField with libxml2's reason, e.g. "Element 'messageType':
  // [facet 'enumeration'] The value 'X' is not an element of the set ...";
  // kMalformed when the document is not XML. Thread-safe.
  registry::Status validate(std::string_view element_xml) const;

 private:
  struct Compiled;
  explicit ShepSchemas(std::unique_ptr<Compiled> compiled);
  std::unique_ptr<Compiled> compiled_;
};

}  // namespace licgate::gateway
