// The e-government gateway's channels (mapping/shep.hpp).
#include "mapping/shep.hpp"

#include <pugixml.hpp>

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <sstream>
#include <vector>

#include "mapping/error_table.hpp"
#include "mapping/licence_xml.hpp"
#include "mapping/xml_names.hpp"
#include "registry/date.hpp"
#include "registry/text.hpp"

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

// `path` names the element in messages: "SendMessage: requestInfo/".
Result<std::string> requiredText(pugi::xml_node parent, std::string_view path,
                                 std::string_view local) {
  pugi::xml_node node = child(parent, local);
  std::string text(trimXmlSpace(node.text().get()));
  if (!node || text.empty()) {
    return makeError(ErrorCode::kInvalidField,
                     std::string(path) + std::string(local) + " is missing");
  }
  return text;
}

// The children of `parent` are the elements of its type and nothing else:
// each of `once` at most once, `many` any number of times, no other element
// and no text. A repeated or unknown element is refused rather than one of
// them taken and the rest dropped unseen. `path` names parent's children in
// messages ("sendMessage: messageInfo/"). A missing parent passes: the
// reads that need it say so.
registry::Status checkShape(pugi::xml_node parent, std::string_view path,
                            std::initializer_list<std::string_view> once,
                            std::initializer_list<std::string_view> many = {}) {
  std::vector<std::string_view> seen;
  for (pugi::xml_node node : parent.children()) {
    if (node.type() == pugi::node_pcdata || node.type() == pugi::node_cdata) {
      if (!trimXmlSpace(node.value()).empty()) {
        return makeError(ErrorCode::kInvalidField,
                         std::string(path) + " holds text beside its elements");
      }
      continue;
    }
    if (node.type() != pugi::node_element) {
      continue;
    }
    std::string_view local = localName(node.name());
    bool is_once = std::find(once.begin(), once.end(), local) != once.end();
    bool is_many = std::find(many.begin(), many.end(), local) != many.end();
    if (!is_once && !is_many) {
      return makeError(ErrorCode::kInvalidField, std::string(path) +
                                                     registry::quoteForMessage(local) +
                                                     " is not an element the interface has here");
    }
    if (is_once && std::find(seen.begin(), seen.end(), local) != seen.end()) {
      return makeError(ErrorCode::kInvalidField,
                       std::string(path) + std::string(local) + " is given twice");
    }
    seen.push_back(local);
  }
  return {};
}

registry::Status checkIdentifier(std::string_view text, std::string_view path,
                                 std::string_view local, std::size_t max_bytes) {
  return registry::checkIdentifier(text, std::string(path) + std::string(local), max_bytes);
}

constexpr std::size_t kMaxMessageId = 1024;
constexpr std::size_t kMaxName = 256;

bool isDigits(std::string_view text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
}

int twoDigits(std::string_view text) {
  return (text[0] - '0') * 10 + (text[1] - '0');
}

}  // namespace

// A date, "T", hh:mm:ss with an optional fraction, and an optional zone (Z
// or +hh:mm, at most 14:00 either way); without a zone the time is taken as
// UTC, which orders the gateway's own notifications the same way.
std::optional<std::int64_t> parseXsdDateTime(std::string_view text) {
  std::size_t t = text.find('T');
  if (t == std::string_view::npos) {
    return std::nullopt;
  }
  auto date = registry::parseIsoDate(text.substr(0, t), "");
  if (!date.ok()) {
    return std::nullopt;
  }
  std::string_view time = text.substr(t + 1);
  std::size_t zone = time.find_first_of("Z+-");
  std::string_view offset = zone == std::string_view::npos ? "" : time.substr(zone);
  std::string_view clock = time.substr(0, zone);
  std::int64_t millis = 0;
  if (std::size_t dot = clock.find('.'); dot != std::string_view::npos) {
    std::string_view fraction = clock.substr(dot + 1);
    clock = clock.substr(0, dot);
    if (!isDigits(fraction)) {
      return std::nullopt;
    }
    for (std::size_t i = 0; i < 3; ++i) {
      millis = millis * 10 + (i < fraction.size() ? fraction[i] - '0' : 0);
    }
  }
  if (clock.size() != 8 || clock[2] != ':' || clock[5] != ':' || !isDigits(clock.substr(0, 2)) ||
      !isDigits(clock.substr(3, 2)) || !isDigits(clock.substr(6, 2))) {
    return std::nullopt;
  }
  const int hours = twoDigits(clock.substr(0, 2));
  const int minutes = twoDigits(clock.substr(3, 2));
  const int seconds = twoDigits(clock.substr(6, 2));
  if (hours > 23 || minutes > 59 || seconds > 59) {
    return std::nullopt;
  }
  int offset_minutes = 0;
  if (!offset.empty() && offset != "Z") {
    if (offset.size() != 6 || offset[3] != ':' || !isDigits(offset.substr(1, 2)) ||
        !isDigits(offset.substr(4, 2))) {
      return std::nullopt;
    }
    offset_minutes = twoDigits(offset.substr(1, 2)) * 60 + twoDigits(offset.substr(4, 2));
    if (offset_minutes > 14 * 60 || twoDigits(offset.substr(4, 2)) > 59) {
      return std::nullopt;
    }
    offset_minutes = offset[0] == '-' ? -offset_minutes : offset_minutes;
  }
  const std::int64_t days = std::chrono::sys_days(*date).time_since_epoch().count();
  const std::int64_t utc_seconds =
      days * 86'400 + hours * 3'600 + minutes * 60 + seconds - offset_minutes * 60;
  return utc_seconds * 1'000 + millis;
}

namespace {

bool isDateTime(std::string_view text) {
  return parseXsdDateTime(text).has_value();
}

Result<std::string> requiredDateTime(pugi::xml_node parent, std::string_view path,
                                     std::string_view local) {
  auto text = requiredText(parent, path, local);
  if (text.ok() && !isDateTime(*text)) {
    return makeError(ErrorCode::kInvalidField, std::string(path) + std::string(local) + " \"" +
                                                   *text + "\" is not an xsd:dateTime");
  }
  return text;
}

// The gateway's guid type (common/v10/types/Guid.xsd): a GUID in braces.
bool isGuid(std::string_view text) {
  static constexpr std::string_view kShape = "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}";
  if (text.size() != kShape.size()) {
    return false;
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    bool hex = std::isxdigit(static_cast<unsigned char>(text[i])) != 0;
    if (kShape[i] == 'x' ? !hex : text[i] != kShape[i]) {
      return false;
    }
  }
  return true;
}

// An optional sessionId: empty, or a guid.
Result<std::string> sessionIdOf(pugi::xml_node parent, std::string_view path) {
  std::string text(trimXmlSpace(child(parent, "sessionId").text().get()));
  if (!text.empty() && !isGuid(text)) {
    return makeError(ErrorCode::kInvalidField,
                     std::string(path) + "sessionId \"" + text + "\" is not a {guid}");
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

// The operation in `data`, in whichever of the three forms it came. `path`
// names data in messages: "SendMessage: requestData/data".
Result<std::string> operationOf(pugi::xml_node data, const std::string& path) {
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
                     path + " holds more than one element; it carries one operation");
  }
  if (element) {
    carryDeclarations(element, operation.append_copy(element));
    return serialise(operation);
  }
  // An escaped XML string: pugixml has already unescaped it.
  std::string text(trimXmlSpace(data.text().get()));
  if (text.empty()) {
    return makeError(ErrorCode::kInvalidField, path + " is empty");
  }
  if (text.find("<!DOCTYPE") != std::string::npos) {
    return makeError(ErrorCode::kMalformed, path + " holds a document type declaration");
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
  LICGATE_RETURN_IF_ERROR(
      checkShape(request, "SendMessage: request/", {"requestInfo", "requestData"}));
  LICGATE_RETURN_IF_ERROR(checkShape(
      info, "SendMessage: requestInfo/",
      {"messageId", "correlationId", "serviceId", "routeId", "messageDate", "sender", "sessionId"},
      {"properties"}));
  LICGATE_RETURN_IF_ERROR(checkShape(child(info, "sender"), "SendMessage: requestInfo/sender/",
                                     {"senderId", "password"}));
  LICGATE_RETURN_IF_ERROR(
      checkShape(child(request, "requestData"), "SendMessage: requestData/", {"data"}));

  ShepSyncRequest read;
  for (auto [field, local] :
       {std::pair{&read.message_id, "messageId"}, std::pair{&read.service_id, "serviceId"}}) {
    auto text = requiredText(info, "SendMessage: requestInfo/", local);
    if (!text) {
      return text.takeError();
    }
    *field = std::move(*text);
  }
  auto date = requiredDateTime(info, "SendMessage: requestInfo/", "messageDate");
  if (!date) {
    return date.takeError();
  }
  read.message_date = std::move(*date);
  read.correlation_id = trimXmlSpace(child(info, "correlationId").text().get());
  auto sender = requiredText(child(info, "sender"), "SendMessage: requestInfo/sender/", "senderId");
  if (!sender) {
    return sender.takeError();
  }
  read.sender_id = std::move(*sender);
  constexpr std::string_view kSyncPath = "SendMessage: requestInfo/";
  LICGATE_RETURN_IF_ERROR(checkIdentifier(read.message_id, kSyncPath, "messageId", kMaxMessageId));
  LICGATE_RETURN_IF_ERROR(
      checkIdentifier(read.correlation_id, kSyncPath, "correlationId", kMaxMessageId));
  LICGATE_RETURN_IF_ERROR(checkIdentifier(read.service_id, kSyncPath, "serviceId", kMaxName));
  LICGATE_RETURN_IF_ERROR(checkIdentifier(read.sender_id, kSyncPath, "sender/senderId", kMaxName));

  pugi::xml_node data = child(child(request, "requestData"), "data");
  if (!data) {
    return makeError(ErrorCode::kInvalidField, "SendMessage: requestData/data is missing");
  }
  auto operation = operationOf(data, "SendMessage: requestData/data");
  if (!operation) {
    return operation.takeError();
  }
  read.operation_xml = std::move(*operation);
  return read;
}

namespace {

// The element in the Body of an envelope licgate's operation wrote, which
// the gateway's messages carry as their data.
Result<pugi::xml_node> answerElementOf(pugi::xml_document& answer,
                                       std::string_view operation_answer) {
  if (!answer.load_buffer(operation_answer.data(), operation_answer.size())) {
    return makeError(ErrorCode::kInternal, "the operation's answer does not read back");
  }
  return answer.document_element().first_child().first_child();
}

}  // namespace

Result<std::string> writeShepSyncResponse(SoapVersion version, const ShepSyncRequest& request,
                                          const std::string& message_id,
                                          const std::string& response_date,
                                          const ShepStatus& status,
                                          std::string_view operation_answer) {
  pugi::xml_document answer;
  auto answer_element = answerElementOf(answer, operation_answer);
  if (!answer_element.ok()) {
    return answer_element.takeError();
  }
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
    if (*answer_element) {
      data.append_copy(*answer_element);
    }
  });
}

std::string writeShepFault(SoapVersion version, std::string_view element_ns,
                           std::string_view element, const registry::Error& error,
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
    pugi::xml_node info = detail.append_child(("shep:" + std::string(element)).c_str());
    info.append_attribute("xmlns:shep") = std::string(element_ns).c_str();
    append(info, "errorCode", registry::errorCodeName(error.code));
    append(info, "errorMessage", text);
    append(info, "errorData", correlation_id);
    append(info, "errorDate", error_date);
  });
}

std::string writeShepSyncFault(SoapVersion version, const registry::Error& error,
                               std::string_view correlation_id, std::string_view error_date) {
  return writeShepFault(version, kShepSyncNamespace, "SendMessageFault1_SendMessageFault", error,
                        correlation_id, error_date);
}

std::string_view shepMessageTypeName(ShepMessageType type) {
  switch (type) {
    case ShepMessageType::kRequest:
      return "REQUEST";
    case ShepMessageType::kNotification:
      return "NOTIFICATION";
    case ShepMessageType::kUpdate:
      return "UPDATE";
    case ShepMessageType::kResponse:
      return "RESPONSE";
  }
  return "REQUEST";
}

namespace {

constexpr std::string_view kInfoPath = "sendMessage: messageInfo/";
constexpr std::size_t kMaxPropertyKey = 30;     // Property.xsd
constexpr std::size_t kMaxPropertyValue = 500;  // Property.xsd

Result<ShepMessageType> messageTypeOf(pugi::xml_node info) {
  auto text = requiredText(info, kInfoPath, "messageType");
  if (!text) {
    return text.takeError();
  }
  for (ShepMessageType type : {ShepMessageType::kRequest, ShepMessageType::kNotification,
                               ShepMessageType::kUpdate, ShepMessageType::kResponse}) {
    if (*text == shepMessageTypeName(type)) {
      return type;
    }
  }
  return makeError(ErrorCode::kInvalidField,
                   std::string(kInfoPath) + "messageType \"" + *text +
                       "\" is not REQUEST, NOTIFICATION, UPDATE or RESPONSE");
}

Result<std::vector<std::pair<std::string, std::string>>> propertiesOf(pugi::xml_node info) {
  std::vector<std::pair<std::string, std::string>> properties;
  for (pugi::xml_node node : info.children()) {
    if (node.type() != pugi::node_element || localName(node.name()) != "properties") {
      continue;
    }
    LICGATE_RETURN_IF_ERROR(
        checkShape(node, "sendMessage: messageInfo/properties/", {"key", "value"}));
    std::string key(trimXmlSpace(child(node, "key").text().get()));
    std::string value = child(node, "value").text().get();
    if (!child(node, "key") || !child(node, "value")) {
      return makeError(ErrorCode::kInvalidField,
                       std::string(kInfoPath) + "properties needs a key and a value");
    }
    if (registry::countCharacters(key) > kMaxPropertyKey ||
        registry::countCharacters(value) > kMaxPropertyValue) {
      return makeError(ErrorCode::kInvalidField,
                       std::string(kInfoPath) + "properties \"" +
                           registry::quoteForMessage(key, kMaxPropertyKey) +
                           "\": a key has at most 30 characters and a value at most 500");
    }
    properties.emplace_back(std::move(key), std::move(value));
  }
  return properties;
}

// Reads messageInfo's identifiers: the gateway fills messageId on every
// message it delivers and correlationId on every one but a chain's first
// (AsyncMessageInfo.xsd).
registry::Status readIds(pugi::xml_node info, ShepAsyncMessage& read) {
  for (auto [field, local] :
       {std::pair{&read.message_id, "messageId"}, std::pair{&read.service_id, "serviceId"}}) {
    auto text = requiredText(info, kInfoPath, local);
    if (!text) {
      return text.takeError();
    }
    *field = std::move(*text);
  }
  auto type = messageTypeOf(info);
  if (!type) {
    return type.takeError();
  }
  read.type = *type;
  read.correlation_id = trimXmlSpace(child(info, "correlationId").text().get());
  if (read.correlation_id.empty() && read.type != ShepMessageType::kRequest) {
    return makeError(ErrorCode::kInvalidField, std::string(kInfoPath) +
                                                   "correlationId is missing; a " +
                                                   std::string(shepMessageTypeName(read.type)) +
                                                   " belongs to a chain and names it");
  }
  if (read.correlation_id.empty()) {
    read.correlation_id = read.message_id;
  }
  read.route_id = trimXmlSpace(child(info, "routeId").text().get());
  return {};
}

void appendAckBody(pugi::xml_node body, std::string_view element_ns, std::string_view element) {
  pugi::xml_node root = body.append_child(("shep:" + std::string(element)).c_str());
  root.append_attribute("xmlns:shep") = std::string(element_ns).c_str();
}

}  // namespace

Result<ShepAsyncMessage> readShepAsyncMessage(std::string_view request_xml) {
  pugi::xml_document document;
  if (!document.load_buffer(request_xml.data(), request_xml.size(), pugi::parse_default,
                            pugi::encoding_utf8)) {
    return makeError(ErrorCode::kMalformed, "sendMessage: the request is not XML");
  }
  pugi::xml_node request = document.document_element();
  pugi::xml_node info = child(request, "messageInfo");
  if (!info) {
    return makeError(ErrorCode::kInvalidField, "sendMessage: messageInfo is missing");
  }
  LICGATE_RETURN_IF_ERROR(
      checkShape(request, "sendMessage: request/", {"messageInfo", "messageData"}));
  LICGATE_RETURN_IF_ERROR(checkShape(info, kInfoPath,
                                     {"messageId", "correlationId", "serviceId", "messageType",
                                      "routeId", "messageDate", "sender", "sessionId"},
                                     {"properties"}));
  LICGATE_RETURN_IF_ERROR(checkShape(child(info, "sender"), "sendMessage: messageInfo/sender/",
                                     {"senderId", "password"}));
  LICGATE_RETURN_IF_ERROR(
      checkShape(child(request, "messageData"), "sendMessage: messageData/", {"data"}));

  ShepAsyncMessage read;
  LICGATE_RETURN_IF_ERROR(readIds(info, read));
  auto date = requiredDateTime(info, kInfoPath, "messageDate");
  if (!date) {
    return date.takeError();
  }
  read.message_date = std::move(*date);
  auto sender = requiredText(child(info, "sender"), "sendMessage: messageInfo/sender/", "senderId");
  if (!sender) {
    return sender.takeError();
  }
  read.sender_id = std::move(*sender);
  LICGATE_RETURN_IF_ERROR(checkIdentifier(read.message_id, kInfoPath, "messageId", kMaxMessageId));
  LICGATE_RETURN_IF_ERROR(
      checkIdentifier(read.correlation_id, kInfoPath, "correlationId", kMaxMessageId));
  LICGATE_RETURN_IF_ERROR(checkIdentifier(read.service_id, kInfoPath, "serviceId", kMaxName));
  LICGATE_RETURN_IF_ERROR(checkIdentifier(read.route_id, kInfoPath, "routeId", kMaxName));
  LICGATE_RETURN_IF_ERROR(checkIdentifier(read.sender_id, kInfoPath, "sender/senderId", kMaxName));
  auto properties = propertiesOf(info);
  if (!properties) {
    return properties.takeError();
  }
  read.properties = std::move(*properties);
  auto session = sessionIdOf(info, kInfoPath);
  if (!session) {
    return session.takeError();
  }
  read.session_id = std::move(*session);

  pugi::xml_node data = child(child(request, "messageData"), "data");
  if (!data) {
    return makeError(ErrorCode::kInvalidField, "sendMessage: messageData/data is missing");
  }
  auto operation = operationOf(data, "sendMessage: messageData/data");
  if (!operation) {
    return operation.takeError();
  }
  read.operation_xml = std::move(*operation);
  return read;
}

std::string writeShepAsyncAck(SoapVersion version, std::string_view element_ns,
                              const ShepAsyncMessage& message, std::string_view response_date) {
  return writeSoapEnvelope(version, [&](pugi::xml_node body) {
    appendAckBody(body, element_ns, "sendMessageResponse");
    pugi::xml_node response = body.first_child().append_child("response");
    append(response, "messageId", message.message_id);
    append(response, "correlationId", message.correlation_id);
    append(response, "responseDate", response_date);
    if (!message.session_id.empty()) {
      append(response, "sessionId", message.session_id);
    }
  });
}

std::string writeShepAsyncFault(SoapVersion version, std::string_view element_ns,
                                const registry::Error& error, std::string_view correlation_id,
                                std::string_view error_date) {
  return writeShepFault(version, element_ns, "sendMessageFault1_sendMessageFault", error,
                        correlation_id, error_date);
}

Result<std::string> writeShepAsyncOutgoing(const ShepOutgoing& message,
                                           std::string_view operation_answer) {
  pugi::xml_document answer;
  auto answer_element = answerElementOf(answer, operation_answer);
  if (!answer_element.ok()) {
    return answer_element.takeError();
  }
  return writeSoapEnvelope(SoapVersion::k11, [&](pugi::xml_node body) {
    appendAckBody(body, kShepAsyncNamespace, "sendMessage");
    pugi::xml_node request = body.first_child().append_child("request");
    pugi::xml_node info = request.append_child("messageInfo");
    append(info, "correlationId", message.correlation_id);
    append(info, "serviceId", message.service_id);
    append(info, "messageType", shepMessageTypeName(message.type));
    append(info, "messageDate", message.message_date);
    pugi::xml_node sender = info.append_child("sender");
    append(sender, "senderId", message.sender_id);
    if (!message.password.empty()) {
      append(sender, "password", message.password);
    }
    pugi::xml_node data = request.append_child("messageData").append_child("data");
    if (*answer_element) {
      data.append_copy(*answer_element);
    }
  });
}

Result<ShepAck> readShepAsyncAck(std::string_view envelope, std::string_view content_type) {
  auto call = readSoapCall(envelope, content_type);
  if (!call.ok()) {
    return makeError(
        ErrorCode::kMalformed,
        "the gateway's answer to sendMessage is no SOAP envelope: " + call.error().message);
  }
  auto response = std::find_if(call->documents.begin(), call->documents.end(),
                               [](const auto& entry) { return entry.first == "response"; });
  if (call->operation != "sendMessageResponse" || response == call->documents.end()) {
    return makeError(ErrorCode::kMalformed, "the gateway answered sendMessage with <" +
                                                call->operation +
                                                ">, not a sendMessageResponse with a response");
  }
  pugi::xml_document document;
  document.load_buffer(response->second.data(), response->second.size());
  pugi::xml_node root = document.document_element();
  auto message_id = requiredText(root, "sendMessageResponse: response/", "messageId");
  if (!message_id) {
    return message_id.takeError();
  }
  return ShepAck{std::move(*message_id),
                 std::string(trimXmlSpace(child(root, "correlationId").text().get()))};
}

Result<ShepStatusNotification> readShepStatusNotification(std::string_view request_xml) {
  pugi::xml_document document;
  if (!document.load_buffer(request_xml.data(), request_xml.size(), pugi::parse_default,
                            pugi::encoding_utf8)) {
    return makeError(ErrorCode::kMalformed,
                     "changeMassageStatusNotification: the request is not XML");
  }
  pugi::xml_node request = document.document_element();
  pugi::xml_node notification = child(request, "notification");
  if (!notification) {
    return makeError(ErrorCode::kInvalidField,
                     "changeMassageStatusNotification: notification is missing");
  }
  constexpr std::string_view kPath = "changeMassageStatusNotification: notification/";
  constexpr std::string_view kStatusPath = "changeMassageStatusNotification: notification/status/";
  pugi::xml_node status = child(notification, "status");
  LICGATE_RETURN_IF_ERROR(checkShape(request, "changeMassageStatusNotification: request/",
                                     {"notification", "requestDate", "sessionId"}));
  LICGATE_RETURN_IF_ERROR(checkShape(
      notification, kPath,
      {"notificationId", "messageId", "notificationDate", "messageState", "status", "error"}));
  LICGATE_RETURN_IF_ERROR(
      checkShape(status, kStatusPath, {"statusCode", "statusMessage", "statusDate"}));

  ShepStatusNotification read;
  struct Field {
    std::string* into;
    pugi::xml_node parent;
    std::string_view path;
    const char* local;
    bool date;
  };
  for (const Field& field : {
           Field{&read.notification_id, notification, kPath, "notificationId", false},
           Field{&read.message_id, notification, kPath, "messageId", false},
           Field{&read.notification_date, notification, kPath, "notificationDate", true},
           Field{&read.message_state, notification, kPath, "messageState", false},
           Field{&read.status_code, status, kStatusPath, "statusCode", false},
           Field{&read.status_message, status, kStatusPath, "statusMessage", false},
           Field{&read.status_date, status, kStatusPath, "statusDate", true},
           Field{&read.request_date, request, "changeMassageStatusNotification: ", "requestDate",
                 true},
       }) {
    auto text = field.date ? requiredDateTime(field.parent, field.path, field.local)
                           : requiredText(field.parent, field.path, field.local);
    if (!text) {
      return text.takeError();
    }
    *field.into = std::move(*text);
  }
  static constexpr std::string_view kStates[] = {"ON_DELIVERY", "DELIVERED", "NOT_DELIVERED",
                                                 "DELIVERY_STOPPED"};
  if (std::find(std::begin(kStates), std::end(kStates), read.message_state) == std::end(kStates)) {
    return makeError(ErrorCode::kInvalidField,
                     std::string(kPath) + "messageState \"" + read.message_state +
                         "\" is not ON_DELIVERY, DELIVERED, NOT_DELIVERED or DELIVERY_STOPPED");
  }
  read.notified_ms = parseXsdDateTime(read.notification_date).value_or(0);
  LICGATE_RETURN_IF_ERROR(checkIdentifier(read.message_id, kPath, "messageId", kMaxMessageId));
  pugi::xml_node error = child(notification, "error");
  read.error_code = trimXmlSpace(child(error, "errorCode").text().get());
  read.error_message = trimXmlSpace(child(error, "errorMessage").text().get());
  auto session = sessionIdOf(request, "changeMassageStatusNotification: ");
  if (!session) {
    return session.takeError();
  }
  read.session_id = std::move(*session);
  return read;
}

std::string writeShepStatusAck(SoapVersion version, std::string_view response_date,
                               std::string_view session_id) {
  return writeSoapEnvelope(version, [&](pugi::xml_node body) {
    appendAckBody(body, kShepAsyncClientNamespace, "changeMassageStatusNotificationResponse");
    pugi::xml_node response = body.first_child().append_child("response");
    append(response, "responseDate", response_date);
    append(response, "sessionId", session_id);
  });
}

std::string writeShepStatusFault(SoapVersion version, const registry::Error& error,
                                 std::string_view correlation_id, std::string_view error_date) {
  return writeShepFault(
      version, kShepAsyncClientNamespace,
      "changeMassageStatusNotificationFault1_changeMassageStatusNotificationFault", error,
      correlation_id, error_date);
}

}  // namespace licgate::mapping
