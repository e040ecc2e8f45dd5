// SOAP 1.1 and 1.2 envelopes (mapping/soap.hpp).
#include "mapping/soap.hpp"

#include "mapping/encoding.hpp"
#include "mapping/error_table.hpp"
#include "mapping/xml_check.hpp"
#include "mapping/xml_names.hpp"

namespace licgate::mapping {

using registry::Error;
using registry::ErrorCode;
using registry::makeError;
using registry::Result;
using registry::Status;

namespace {

// licgate's own namespace for what it adds to a fault's detail.
constexpr std::string_view kDetailNamespace = "urn:licgate:soap:1";

std::string_view envelopeNamespace(SoapVersion version) {
  return version == SoapVersion::k11 ? kSoap11Namespace : kSoap12Namespace;
}

std::string_view versionName(SoapVersion version) {
  return version == SoapVersion::k11 ? "SOAP 1.1" : "SOAP 1.2";
}

// pugixml reports a DOCTYPE only when asked to keep it; asking is how a DTD
// is found and refused, wherever it stands before the root.
Status refuseDoctype(const pugi::xml_document& document) {
  for (pugi::xml_node node : document.children()) {
    if (node.type() == pugi::node_doctype) {
      return makeError(ErrorCode::kMalformed,
                       "the message has a document type declaration; a SOAP message must not "
                       "(SOAP 1.1 section 3, SOAP 1.2 part 1 section 5)");
    }
  }
  return {};
}

Result<SoapVersion> versionOfEnvelope(pugi::xml_node root) {
  std::string ns = namespaceOf(root);
  if (localName(root.name()) == "Envelope") {
    if (ns == kSoap11Namespace) {
      return SoapVersion::k11;
    }
    if (ns == kSoap12Namespace) {
      return SoapVersion::k12;
    }
    // An Envelope, but of no version licgate speaks: SOAP's own fault for
    // it (1.1 section 4.4.1, 1.2 part 1 section 5.4.7) rather than a
    // client fault, so that the caller's stack can tell what to change.
    return makeError(ErrorCode::kVersionMismatch,
                     "the Envelope is in namespace \"" + ns + "\", which is neither SOAP 1.1 (" +
                         std::string(kSoap11Namespace) + ") nor SOAP 1.2 (" +
                         std::string(kSoap12Namespace) + ")");
  }
  return makeError(ErrorCode::kMalformed, "the root element is <" + std::string(root.name()) +
                                              "> in namespace \"" + ns +
                                              "\"; expected a SOAP 1.1 or 1.2 Envelope");
}

// The one Body among the envelope's children (a Header may come before it).
Result<pugi::xml_node> findBody(pugi::xml_node envelope, SoapVersion version) {
  pugi::xml_node body;
  for (pugi::xml_node child : envelope.children()) {
    if (child.type() != pugi::node_element) {
      continue;
    }
    if (!isElement(child, envelopeNamespace(version), "Body")) {
      continue;
    }
    if (body) {
      return makeError(ErrorCode::kMalformed, "the envelope has more than one Body");
    }
    body = child;
  }
  if (!body) {
    return makeError(ErrorCode::kMalformed, "the envelope has no Body");
  }
  return body;
}

// The value of `node`'s attribute `local` in namespace `ns`, whatever its
// prefix; empty when it has none.
std::string_view attributeIn(pugi::xml_node node, std::string_view ns, std::string_view local) {
  for (pugi::xml_attribute attribute : node.attributes()) {
    std::string_view name = attribute.name();
    std::size_t colon = name.find(':');
    if (colon != std::string_view::npos && name.substr(colon + 1) == local &&
        namespaceOfPrefix(node, name.substr(0, colon)) == ns) {
      return attribute.value();
    }
  }
  return {};
}

// Whether a header entry is addressed to licgate, the message's ultimate
// receiver: SOAP 1.1 section 4.2.2 (actor absent or "next"), SOAP 1.2 part
// 1 section 5.2.2 (role absent, "next" or "ultimateReceiver").
bool addressedToUs(pugi::xml_node entry, SoapVersion version) {
  if (version == SoapVersion::k11) {
    std::string_view actor = trimXmlSpace(attributeIn(entry, envelopeNamespace(version), "actor"));
    return actor.empty() || actor == "http://schemas.xmlsoap.org/soap/actor/next";
  }
  std::string_view role = trimXmlSpace(attributeIn(entry, envelopeNamespace(version), "role"));
  return role.empty() || role == "http://www.w3.org/2003/05/soap-envelope/role/next" ||
         role == "http://www.w3.org/2003/05/soap-envelope/role/ultimateReceiver";
}

// licgate understands no SOAP header: one it must understand (mustUnderstand
// "1" or "true") and that is addressed to it is refused before the Body is
// acted on (SOAP 1.1 section 4.2.3, SOAP 1.2 part 1 section 5.2.3). Others
// are ignored, as both versions allow.
registry::Status checkHeaders(pugi::xml_node envelope, SoapVersion version) {
  for (pugi::xml_node header : envelope.children()) {
    if (header.type() != pugi::node_element ||
        !isElement(header, envelopeNamespace(version), "Header")) {
      continue;
    }
    for (pugi::xml_node entry : header.children()) {
      if (entry.type() != pugi::node_element) {
        continue;
      }
      std::string_view must =
          trimXmlSpace(attributeIn(entry, envelopeNamespace(version), "mustUnderstand"));
      // xs:boolean's four spellings (SOAP 1.1 names only "1" and "0"; "true"
      // and "false" are taken there too). Another value cannot be read as
      // either, and guessing "no" would act on a header the sender required.
      if (!must.empty() && must != "1" && must != "true" && must != "0" && must != "false") {
        return makeError(ErrorCode::kMalformed,
                         "the header <" + std::string(localName(entry.name())) +
                             "> has mustUnderstand=\"" + std::string(must) +
                             "\"; it takes \"1\" or \"0\" (or \"true\" or \"false\")");
      }
      if ((must == "1" || must == "true") && addressedToUs(entry, version)) {
        return makeError(ErrorCode::kMustUnderstand,
                         "the header <" + std::string(localName(entry.name())) + "> of \"" +
                             namespaceOf(entry) +
                             "\" must be understood, and licgate understands no SOAP header");
      }
    }
  }
  return {};
}

bool hasElementChild(pugi::xml_node node) {
  for (pugi::xml_node child : node.children()) {
    if (child.type() == pugi::node_element) {
      return true;
    }
  }
  return false;
}

std::string textOf(pugi::xml_node node) {
  std::string text;
  for (pugi::xml_node part : node.children()) {
    if (part.type() == pugi::node_pcdata || part.type() == pugi::node_cdata) {
      text += part.value();
    }
  }
  return std::string(trimXmlSpace(text));
}

// What pugixml writes, appended to a string: an envelope goes straight
// into the answer's body, with no stream and no copy out of one.
class StringWriter final : public pugi::xml_writer {
 public:
  explicit StringWriter(std::string& out) : out_(out) {}
  void write(const void* data, size_t size) override {
    out_.append(static_cast<const char*>(data), size);
  }

 private:
  std::string& out_;
};

// `element` as a document of its own. A declaration it relied on from an
// ancestor (xmlns:le on the Envelope, say) is copied onto it, nearest
// first, unless the element or a nearer ancestor declares that prefix.
std::string standalone(pugi::xml_node element) {
  pugi::xml_document document;
  carryDeclarations(element, document.append_copy(element));
  std::string text;
  StringWriter out(text);
  document.save(out, "", pugi::format_raw | pugi::format_no_declaration, pugi::encoding_utf8);
  return text;
}

void readParameters(pugi::xml_node operation, SoapCall& call) {
  for (pugi::xml_node child : operation.children()) {
    if (child.type() != pugi::node_element) {
      continue;
    }
    std::string name(localName(child.name()));
    if (hasElementChild(child)) {
      call.documents.emplace_back(std::move(name), standalone(child));
    } else {
      call.parameters.emplace_back(std::move(name), textOf(child));
    }
  }
}

std::string serialise(const pugi::xml_document& document) {
  std::string text;
  StringWriter out(text);
  document.save(out, "", pugi::format_raw, pugi::encoding_utf8);
  return text;
}

pugi::xml_node appendEnvelope(pugi::xml_document& document, SoapVersion version) {
  pugi::xml_node declaration = document.append_child(pugi::node_declaration);
  declaration.append_attribute("version") = "1.0";
  declaration.append_attribute("encoding") = "UTF-8";
  pugi::xml_node envelope = document.append_child("soap:Envelope");
  envelope.append_attribute("xmlns:soap") = std::string(envelopeNamespace(version)).c_str();
  return envelope.append_child("soap:Body");
}

void appendDetail(pugi::xml_node detail, const Error& error, std::string_view correlation_id) {
  pugi::xml_node fault = detail.append_child("lg:error");
  fault.append_attribute("xmlns:lg") = std::string(kDetailNamespace).c_str();
  fault.append_child("lg:code").text().set(
      std::string(registry::errorCodeName(error.code)).c_str());
  fault.append_child("lg:correlationId").text().set(std::string(correlation_id).c_str());
}

}  // namespace

std::string soapFaultText(const Error& error, std::string_view correlation_id) {
  if (error.code == ErrorCode::kInternal) {
    return "licgate failed to answer; the operator can find out why under correlation id " +
           std::string(correlation_id);
  }
  return error.message;
}

Result<SoapVersion> soapVersionOfContentType(std::string_view content_type) {
  std::string media = mediaTypeOf(content_type);
  if (media == "text/xml") {
    return SoapVersion::k11;
  }
  if (media == "application/soap+xml") {
    return SoapVersion::k12;
  }
  return makeError(ErrorCode::kMalformed,
                   "content type \"" + std::string(content_type) +
                       "\" is not SOAP: text/xml (SOAP 1.1) or application/soap+xml (SOAP 1.2)");
}

Result<SoapCall> readSoapCall(std::string_view bytes, std::string_view content_type) {
  auto announced = soapVersionOfContentType(content_type);
  if (!announced) {
    return announced.takeError();
  }
  auto utf8 = toUtf8(bytes, charsetOfContentType(content_type), TextKind::kXml);
  if (!utf8) {
    return utf8.takeError();
  }
  pugi::xml_document document;
  pugi::xml_parse_result parsed = document.load_buffer(
      utf8->data(), utf8->size(), pugi::parse_default | pugi::parse_doctype, pugi::encoding_utf8);
  if (!parsed) {
    return makeError(ErrorCode::kMalformed, "the message is not XML: at byte offset " +
                                                std::to_string(parsed.offset) + ": " +
                                                parsed.description());
  }
  LICGATE_RETURN_IF_ERROR(refuseDoctype(document));
  if (!hasOneRootElement(document)) {
    return makeError(ErrorCode::kMalformed,
                     "the message has more than one root element; a SOAP message is one Envelope");
  }
  LICGATE_RETURN_IF_ERROR(checkWellFormed(*utf8, "the message"));

  pugi::xml_node envelope = document.document_element();
  auto version = versionOfEnvelope(envelope);
  if (!version) {
    return version.takeError();
  }
  if (*version != *announced) {
    return makeError(ErrorCode::kMalformed,
                     std::string(versionName(*version)) + " envelope sent as " +
                         mediaTypeOf(content_type) + ", which is " +
                         std::string(versionName(*announced)) + "'s content type");
  }
  auto body = findBody(envelope, *version);
  if (!body) {
    return body.takeError();
  }
  LICGATE_RETURN_IF_ERROR(checkHeaders(envelope, *version));
  pugi::xml_node operation;
  for (pugi::xml_node child : body->children()) {
    if (child.type() != pugi::node_element) {
      continue;
    }
    // Document/literal wrapped: one call, one element. A second would be
    // dropped without a word if it were not refused.
    if (operation) {
      return makeError(ErrorCode::kMalformed,
                       "the Body holds more than one element (<" + std::string(operation.name()) +
                           "> and <" + child.name() + ">); a call is one operation element");
    }
    operation = child;
  }
  if (!operation) {
    return makeError(ErrorCode::kMalformed, "the Body holds no operation element");
  }
  std::string_view name = operation.name();
  if (name.find(':') != std::string_view::npos && namespaceOf(operation).empty()) {
    return makeError(ErrorCode::kMalformed, "the prefix of <" + std::string(name) +
                                                "> is not declared (Namespaces in XML 1.0 "
                                                "section 5)");
  }

  SoapCall call;
  call.version = *version;
  call.operation = std::string(localName(operation.name()));
  call.operation_ns = namespaceOf(operation);
  readParameters(operation, call);
  return call;
}

Result<SoapCall> readSoapOperation(std::string_view operation_xml, SoapVersion version) {
  pugi::xml_document document;
  pugi::xml_parse_result parsed =
      document.load_buffer(operation_xml.data(), operation_xml.size(),
                           pugi::parse_default | pugi::parse_doctype, pugi::encoding_utf8);
  if (!parsed) {
    return makeError(ErrorCode::kMalformed, "the operation is not XML: at byte offset " +
                                                std::to_string(parsed.offset) + ": " +
                                                parsed.description());
  }
  LICGATE_RETURN_IF_ERROR(refuseDoctype(document));
  if (!hasOneRootElement(document)) {
    return makeError(ErrorCode::kMalformed, "the operation has more than one root element");
  }
  LICGATE_RETURN_IF_ERROR(checkWellFormed(operation_xml, "the operation"));
  pugi::xml_node operation = document.document_element();
  SoapCall call;
  call.version = version;
  call.operation = std::string(localName(operation.name()));
  call.operation_ns = namespaceOf(operation);
  readParameters(operation, call);
  return call;
}

std::string writeSoapEnvelope(SoapVersion version,
                              const std::function<void(pugi::xml_node body)>& fill) {
  pugi::xml_document document;
  fill(appendEnvelope(document, version));
  return serialise(document);
}

std::string writeSoapFault(SoapVersion version, const Error& error,
                           std::string_view correlation_id) {
  const ErrorTransport& transport = errorTransport(error.code);
  const std::string text = soapFaultText(error, correlation_id);
  pugi::xml_document document;
  pugi::xml_node fault = appendEnvelope(document, version).append_child("soap:Fault");
  if (version == SoapVersion::k11) {
    // SOAP 1.1 section 4.4: faultcode and faultstring are unqualified.
    fault.append_child("faultcode").text().set(std::string(transport.soap11_fault).c_str());
    fault.append_child("faultstring").text().set(text.c_str());
    appendDetail(fault.append_child("detail"), error, correlation_id);
  } else {
    fault.append_child("soap:Code")
        .append_child("soap:Value")
        .text()
        .set(std::string(transport.soap12_fault).c_str());
    pugi::xml_node reason = fault.append_child("soap:Reason").append_child("soap:Text");
    reason.append_attribute("xml:lang") = "en";
    reason.text().set(text.c_str());
    appendDetail(fault.append_child("soap:Detail"), error, correlation_id);
  }
  return serialise(document);
}

int soapFaultHttpStatus(SoapVersion version, ErrorCode code) {
  if (version == SoapVersion::k11) {
    return 500;
  }
  return errorTransport(code).soap12_fault == "soap:Sender" ? 400 : 500;
}

std::string_view soapContentType(SoapVersion version) {
  return version == SoapVersion::k11 ? "text/xml; charset=utf-8"
                                     : "application/soap+xml; charset=utf-8";
}

namespace {

pugi::xml_node firstChildElement(pugi::xml_node parent, std::string_view ns,
                                 std::string_view local) {
  for (pugi::xml_node child : parent.children()) {
    if (isElement(child, ns, local)) {
      return child;
    }
  }
  return {};
}

// SOAP 1.1 section 4.4: faultcode, faultstring and detail are unqualified.
pugi::xml_node firstUnqualified(pugi::xml_node parent, std::string_view local) {
  for (pugi::xml_node child : parent.children()) {
    if (child.type() == pugi::node_element && localName(child.name()) == local &&
        namespaceOf(child).empty()) {
      return child;
    }
  }
  return {};
}

// "soap:Client.Authentication" -> "Client".
std::string faultCodeName(std::string_view qualified) {
  std::string_view local = localName(trimXmlSpace(qualified));
  return std::string(local.substr(0, local.find('.')));
}

std::string licgateCodeOf(pugi::xml_node detail) {
  if (!detail) {
    return {};
  }
  for (pugi::xml_node error : detail.children()) {
    if (isElement(error, kDetailNamespace, "error")) {
      pugi::xml_node code = firstChildElement(error, kDetailNamespace, "code");
      return std::string(trimXmlSpace(code.text().get()));
    }
  }
  return {};
}

}  // namespace

std::optional<SoapFault> readSoapFault(std::string_view bytes, std::string_view content_type) {
  auto utf8 = toUtf8(bytes, charsetOfContentType(content_type), TextKind::kXml);
  if (!utf8) {
    return std::nullopt;
  }
  pugi::xml_document document;
  if (!document.load_buffer(utf8->data(), utf8->size(), pugi::parse_default | pugi::parse_doctype,
                            pugi::encoding_utf8) ||
      !refuseDoctype(document).ok() || !hasOneRootElement(document)) {
    return std::nullopt;
  }
  auto version = versionOfEnvelope(document.document_element());
  if (!version) {
    return std::nullopt;
  }
  auto body = findBody(document.document_element(), *version);
  if (!body) {
    return std::nullopt;
  }
  const std::string_view ns = envelopeNamespace(*version);
  pugi::xml_node fault = firstChildElement(*body, ns, "Fault");
  if (!fault) {
    return std::nullopt;
  }

  SoapFault read;
  read.version = *version;
  if (*version == SoapVersion::k11) {
    read.code = faultCodeName(firstUnqualified(fault, "faultcode").text().get());
    read.text = trimXmlSpace(firstUnqualified(fault, "faultstring").text().get());
    read.licgate_code = licgateCodeOf(firstUnqualified(fault, "detail"));
  } else {
    pugi::xml_node value = firstChildElement(firstChildElement(fault, ns, "Code"), ns, "Value");
    read.code = faultCodeName(value.text().get());
    pugi::xml_node reason = firstChildElement(fault, ns, "Reason");
    read.text = trimXmlSpace(firstChildElement(reason, ns, "Text").text().get());
    read.licgate_code = licgateCodeOf(firstChildElement(fault, ns, "Detail"));
  }
  return read;
}

bool isRetryableFault(const SoapFault& fault) {
  return fault.code == "Server" || fault.code == "Receiver";
}

}  // namespace licgate::mapping
