// The e-government gateway's synchronous channel (mapping/shep.hpp).
#include "mapping/shep.hpp"

#include <pugixml.hpp>

#include <sstream>

#include "mapping/error_table.hpp"
#include "mapping/licence_xml.hpp"
#include "mapping/xml_names.hpp"

namespace licgate::mapping {

using registry::ErrorCode;
using registry::makeError;
using registry::Result;

namespace {

constexpr std::string_view kXsiNamespace = "http://www.w3.org/2001/XMLSchema-instance";
constexpr std::size_t kMaxStatusMessage = 250;

// The channel's local elements are unqualified; a sender that qualifies
// them anyway is read too: only the local name is compared.
pugi::xml_node child(pugi::xml_node parent, std::string_view local) {
  for (pugi::xml_node node : parent.children()) {
    if (node.type() == pugi::node_element && localName(node.name()) == local) {
      return node;
    }
  }
  return {};
}

Result<std::string> requiredText(pugi::xml_node parent, std::string_view path,
                                 std::string_view local) {
  pugi::xml_node node = child(parent, local);
  std::string text(trimXmlSpace(node.text().get()));
  if (!node || text.empty()) {
    return makeError(ErrorCode::kInvalidField,
                     "SendMessage: " + std::string(path) + std::string(local) + " is missing");
  }
  return text;
}

// The xsi:type of `node` as (namespace, local name), or empty.
std::pair<std::string, std::string> xsiTypeOf(pugi::xml_node node) {
  for (pugi::xml_attribute attribute : node.attributes()) {
    std::string_view name = attribute.name();
    std::size_t colon = name.find(':');
    if (colon == std::string_view::npos || name.substr(colon + 1) != "type" ||
        namespaceOfPrefix(node, name.substr(0, colon)) != kXsiNamespace) {
      continue;
    }
    std::string_view value = trimXmlSpace(attribute.value());
    std::size_t type_colon = value.find(':');
    std::string_view prefix =
        type_colon == std::string_view::npos ? std::string_view() : value.substr(0, type_colon);
    return {namespaceOfPrefix(node, prefix), std::string(localName(value))};
  }
  return {};
}

std::string serialise(const pugi::xml_document& document) {
  std::ostringstream out;
  document.save(out, "", pugi::format_raw | pugi::format_no_declaration, pugi::encoding_utf8);
  return out.str();
}

// The operation in `data`, in whichever of the three forms it came.
Result<std::string> operationOf(pugi::xml_node data) {
  pugi::xml_document operation;
  pugi::xml_node element;
  int elements = 0;
  for (pugi::xml_node node : data.children()) {
    if (node.type() == pugi::node_element) {
      element = elements++ == 0 ? node : element;
    }
  }
  auto [type_ns, type_name] = xsiTypeOf(data);
  if (!type_name.empty() && type_ns == kSoapNamespace) {
    pugi::xml_node root = operation.append_child(type_name.c_str());
    root.append_attribute("xmlns") = type_ns.c_str();
    for (pugi::xml_node node : data.children()) {
      root.append_copy(node);
    }
    carryDeclarations(data, root);
    return serialise(operation);
  }
  if (elements > 1) {
    return makeError(ErrorCode::kMalformed,
                     "SendMessage: requestData/data holds more than one element; it carries one "
                     "operation");
  }
  if (element) {
    carryDeclarations(element, operation.append_copy(element));
    return serialise(operation);
  }
  // An escaped XML string: pugixml has already unescaped it.
  std::string text(trimXmlSpace(data.text().get()));
  if (text.empty()) {
    return makeError(ErrorCode::kInvalidField, "SendMessage: requestData/data is empty");
  }
  if (text.find("<!DOCTYPE") != std::string::npos) {
    return makeError(ErrorCode::kMalformed,
                     "SendMessage: requestData/data holds a document type declaration");
  }
  return text;
}

pugi::xml_node append(pugi::xml_node parent, const char* name, std::string_view text) {
  pugi::xml_node node = parent.append_child(name);
  node.text().set(std::string(text).c_str());
  return node;
}

}  // namespace

Result<ShepSyncRequest> readShepSyncRequest(std::string_view request_xml) {
  pugi::xml_document document;
  if (!document.load_buffer(request_xml.data(), request_xml.size(), pugi::parse_default,
                            pugi::encoding_utf8)) {
    return makeError(ErrorCode::kMalformed, "SendMessage: the request is not XML");
  }
  pugi::xml_node request = document.document_element();
  pugi::xml_node info = child(request, "requestInfo");
  if (!info) {
    return makeError(ErrorCode::kInvalidField, "SendMessage: requestInfo is missing");
  }

  ShepSyncRequest read;
  for (auto [field, local] :
       {std::pair{&read.message_id, "messageId"}, std::pair{&read.service_id, "serviceId"},
        std::pair{&read.message_date, "messageDate"}}) {
    auto text = requiredText(info, "requestInfo/", local);
    if (!text) {
      return text.takeError();
    }
    *field = std::move(*text);
  }
  read.correlation_id = trimXmlSpace(child(info, "correlationId").text().get());
  auto sender = requiredText(child(info, "sender"), "requestInfo/sender/", "senderId");
  if (!sender) {
    return sender.takeError();
  }
  read.sender_id = std::move(*sender);

  pugi::xml_node data = child(child(request, "requestData"), "data");
  if (!data) {
    return makeError(ErrorCode::kInvalidField, "SendMessage: requestData/data is missing");
  }
  auto operation = operationOf(data);
  if (!operation) {
    return operation.takeError();
  }
  read.operation_xml = std::move(*operation);
  return read;
}

Result<std::string> writeShepSyncResponse(SoapVersion version, const ShepSyncRequest& request,
                                          const std::string& message_id,
                                          const std::string& response_date,
                                          const ShepStatus& status,
                                          std::string_view operation_answer) {
  pugi::xml_document answer;
  if (!answer.load_buffer(operation_answer.data(), operation_answer.size())) {
    return makeError(ErrorCode::kInternal, "the operation's answer does not read back");
  }
  pugi::xml_node answer_body = answer.document_element().first_child();
  pugi::xml_node answer_element = answer_body.first_child();
  return writeSoapEnvelope(version, [&](pugi::xml_node body) {
    pugi::xml_node root = body.append_child("shep:SendMessageResponse");
    root.append_attribute("xmlns:shep") = std::string(kShepSyncNamespace).c_str();
    pugi::xml_node response = root.append_child("response");
    pugi::xml_node info = response.append_child("responseInfo");
    append(info, "messageId", message_id);
    append(info, "correlationId", request.message_id);
    append(info, "responseDate", response_date);
    pugi::xml_node status_node = info.append_child("status");
    append(status_node, "code", status.code);
    append(status_node, "message", status.message.substr(0, kMaxStatusMessage));
    pugi::xml_node data = response.append_child("responseData").append_child("data");
    if (answer_element) {
      data.append_copy(answer_element);
    }
  });
}

std::string writeShepSyncFault(SoapVersion version, const registry::Error& error,
                               std::string_view correlation_id, std::string_view error_date) {
  const ErrorTransport& transport = errorTransport(error.code);
  const std::string text = soapFaultText(error, correlation_id);
  return writeSoapEnvelope(version, [&](pugi::xml_node body) {
    pugi::xml_node fault = body.append_child("soap:Fault");
    pugi::xml_node detail;
    if (version == SoapVersion::k11) {
      append(fault, "faultcode", transport.soap11_fault);
      append(fault, "faultstring", text);
      detail = fault.append_child("detail");
    } else {
      append(fault.append_child("soap:Code"), "soap:Value", transport.soap12_fault);
      pugi::xml_node reason = append(fault.append_child("soap:Reason"), "soap:Text", text);
      reason.append_attribute("xml:lang") = "en";
      detail = fault.append_child("soap:Detail");
    }
    pugi::xml_node info = detail.append_child("shep:SendMessageFault1_SendMessageFault");
    info.append_attribute("xmlns:shep") = std::string(kShepSyncNamespace).c_str();
    append(info, "errorCode", registry::errorCodeName(error.code));
    append(info, "errorMessage", text);
    append(info, "errorData", correlation_id);
    append(info, "errorDate", error_date);
  });
}

}  // namespace licgate::mapping
