// licgate's SOAP services (gateway/soap_api.hpp).
#include "gateway/soap_api.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <functional>
#include <map>
#include <random>
#include <set>

#include "gateway/logging.hpp"
#include "mapping/conformity.hpp"
#include "mapping/content_type.hpp"
#include "mapping/licence_xml.hpp"
#include "mapping/soap_contract.hpp"
#include "registry/date.hpp"
#include "registry/identifiers.hpp"
#include "registry/text.hpp"

namespace licgate::gateway {

using adapters::http::Request;
using adapters::http::Response;
using mapping::SoapCall;
using mapping::SoapVersion;
using registry::ErrorCode;
using registry::makeError;
using registry::Result;

namespace {

constexpr int kDefaultLicences = 50;
constexpr int kDefaultChanges = 100;
constexpr int kMaxLimit = 1000;
constexpr std::size_t kMaxCorrelationId = 128;
constexpr std::size_t kMaxMessageId = 1024;
constexpr std::size_t kMaxSystem = 256;

std::string randomPrefix() {
  std::random_device device;
  std::uniform_int_distribution<unsigned> digit(0, 15);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string prefix = "soap-";
  for (int i = 0; i < 12; ++i) {
    prefix.push_back(kHex[digit(device)]);
  }
  return prefix + "-";
}

std::string header(const Request& request, const std::string& name) {
  auto found = request.headers.find(name);
  return found == request.headers.end() ? std::string() : found->second;
}

std::string unquote(std::string text) {
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
    return text.substr(1, text.size() - 2);
  }
  return text;
}

// The parameters of one call, by name: each known name at most once.
class Parameters {
 public:
  // `documents`: the names that hold an XML document (a licence event)
  // rather than a value.
  static Result<Parameters> read(const SoapCall& call, const std::set<std::string>& known,
                                 const std::set<std::string>& documents = {}) {
    Parameters parameters;
    parameters.operation_ = call.operation;
    for (const auto& [name, value] : call.parameters) {
      LICGATE_RETURN_IF_ERROR(parameters.take(parameters.values_, name, value, known.contains(name),
                                              documents.contains(name),
                                              "must hold an XML element"));
    }
    for (const auto& [name, document] : call.documents) {
      LICGATE_RETURN_IF_ERROR(parameters.take(parameters.documents_, name, document,
                                              documents.contains(name), known.contains(name),
                                              "must be a simple value"));
    }
    return parameters;
  }

  std::string text(const std::string& name) const {
    auto found = values_.find(name);
    return found == values_.end() ? std::string() : found->second;
  }

  bool has(const std::string& name) const { return values_.contains(name); }

  std::string document(const std::string& name) const {
    auto found = documents_.find(name);
    return found == documents_.end() ? std::string() : found->second;
  }

  Result<std::int64_t> number(const std::string& name, std::int64_t min, std::int64_t max,
                              std::int64_t fallback) const {
    if (!has(name)) {
      return fallback;
    }
    const std::string value = text(name);
    std::int64_t parsed = 0;
    auto [end, failure] = std::from_chars(value.data(), value.data() + value.size(), parsed);
    if (failure != std::errc() || end != value.data() + value.size() || parsed < min ||
        parsed > max) {
      return makeError(ErrorCode::kInvalidField,
                       operation_ + ": <" + name + "> \"" + value + "\" is not a whole number in " +
                           std::to_string(min) + ".." + std::to_string(max));
    }
    return parsed;
  }

 private:
  // Keeps one parameter: `fits` says it is known in this form, `other_form`
  // that it is known in the other one (a value where an element belongs).
  registry::Status take(std::map<std::string, std::string>& into, const std::string& name,
                        const std::string& value, bool fits, bool other_form,
                        std::string_view other_form_says) {
    if (!fits) {
      return makeError(
          ErrorCode::kInvalidField,
          other_form ? operation_ + ": parameter <" + name + "> " + std::string(other_form_says)
                     : operation_ + ": unknown parameter <" + name + ">");
    }
    if (!into.emplace(name, value).second) {
      return makeError(ErrorCode::kInvalidField,
                       operation_ + ": parameter <" + name + "> is given twice");
    }
    return {};
  }

  std::string operation_;
  std::map<std::string, std::string> values_;
  std::map<std::string, std::string> documents_;
};

// The most open queries one GetPendingConformity answer lists.
constexpr std::size_t kMaxPendingQueries = 10'000;

registry::Error conformityOff(const std::string& operation) {
  return makeError(
      ErrorCode::kNotImplemented,
      operation + ": the conformity flow is off (no conformity.activities configured)");
}

pugi::xml_node appendResponse(pugi::xml_node body, const std::string& operation) {
  pugi::xml_node response = body.append_child(("lg:" + operation + "Response").c_str());
  response.append_attribute("xmlns:lg") = std::string(mapping::kSoapNamespace).c_str();
  return response;
}

Response soapResponse(int status, SoapVersion version, std::string body,
                      const std::string& correlation_id) {
  Response response{status, std::string(mapping::soapContentType(version)), std::move(body)};
  response.headers["X-Correlation-Id"] = correlation_id;
  return response;
}

Response faultResponse(SoapVersion version, const registry::Error& error,
                       const std::string& correlation_id, int status = 0) {
  return soapResponse(status != 0 ? status : mapping::soapFaultHttpStatus(version, error.code),
                      version, mapping::writeSoapFault(version, error, correlation_id),
                      correlation_id);
}

// An HTTP refusal before any envelope was read (wrong method or content
// type) is answered with a SOAP 1.1 fault, the version every client reads.
Response refusal(int status, ErrorCode code, const std::string& message,
                 const std::string& correlation_id) {
  Response response =
      faultResponse(SoapVersion::k11, makeError(code, message), correlation_id, status);
  if (status == 405) {
    response.headers["Allow"] = "GET, POST";
  }
  return response;
}

}  // namespace

SoapApi::SoapApi(registry::Store& store, IntakeFlow* intake, config::ShepConfig shep,
                 ShepParts parts, ConformityFlow* conformity)
    : store_(store),
      intake_(intake),
      conformity_(conformity),
      shep_(std::move(shep)),
      exchanges_(parts.exchanges),
      sender_(parts.sender),
      schemas_(parts.schemas),
      id_prefix_(randomPrefix()),
      log_(getLogger("soap")) {}

// A caller's own id is kept when it is a sane token, so that its logs and
// licgate's meet; anything else gets one of licgate's.
std::string SoapApi::correlationIdOf(const Request& request) {
  std::string given = header(request, "x-correlation-id");
  bool sane = !given.empty() && given.size() <= kMaxCorrelationId &&
              given.find_first_not_of(
                  "0123456789abcdefghijklmnopqrstuvwxyz"
                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ-_.:") == std::string::npos;
  return sane ? given : id_prefix_ + std::to_string(next_id_.fetch_add(1));
}

Response SoapApi::handle(const Request& request) {
  const std::string correlation_id = correlationIdOf(request);
  if (request.method == "GET") {
    return serveContract(request);
  }
  if (request.method != "POST") {
    return refusal(405, ErrorCode::kMalformed,
                   "method " + request.method + " is not allowed on " + std::string(kSoapPath) +
                       ": POST a SOAP call, or GET ?wsdl",
                   correlation_id);
  }
  const std::string content_type = header(request, "content-type");
  if (!mapping::soapVersionOfContentType(content_type).ok()) {
    return refusal(415, ErrorCode::kMalformed,
                   "content type \"" + content_type +
                       "\" is not SOAP: text/xml (SOAP 1.1) or application/soap+xml (SOAP 1.2)",
                   correlation_id);
  }
  // A failure inside licgate is still answered as SOAP, so that the
  // client's tool chain reads a fault rather than an HTTP error page.
  try {
    return call(request, correlation_id);
  } catch (const std::exception& failure) {
    log_->error("[{}] the SOAP call failed inside licgate: {}", correlation_id, failure.what());
  }
  return faultResponse(*mapping::soapVersionOfContentType(content_type),
                       makeError(ErrorCode::kInternal,
                                 "licgate failed while answering the call; it is logged under "
                                 "correlation id " +
                                     correlation_id),
                       correlation_id, 500);
}

// ?wsdl and ?xsd=NAME, with addresses for the Host the client used, so that
// a client behind a proxy or on another interface calls back the same way.
Response SoapApi::serveContract(const Request& request) {
  // The Host goes into the WSDL's attributes: only a host[:port] of the
  // characters an authority may have (RFC 3986 section 3.2) is taken, so
  // that no request can write markup into the contract others download.
  const std::string host = header(request, "host");
  const bool sane = !host.empty() && host.size() <= 255 &&
                    host.find_first_not_of(
                        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789.-:[]") == std::string::npos;
  if (!sane) {
    return Response{400, "text/plain; charset=utf-8",
                    "the Host header must be host[:port]; the WSDL is written for it\n"};
  }
  const std::string endpoint = "http://" + host + std::string(kSoapPath);
  // Java and .NET tool chains often ask ?WSDL.
  if (request.query.contains("wsdl") || request.query.contains("WSDL")) {
    return Response{200, "text/xml; charset=utf-8", mapping::soapWsdl(endpoint)};
  }
  auto xsd = request.query.find("xsd");
  if (xsd != request.query.end()) {
    auto schema = mapping::soapSchema(xsd->second, endpoint);
    if (schema) {
      return Response{200, "text/xml; charset=utf-8", std::move(*schema)};
    }
    return Response{
        404, "text/plain; charset=utf-8",
        "no schema \"" + xsd->second + "\" here: licgate-soap.xsd and licence-event.xsd\n"};
  }
  return Response{404, "text/plain; charset=utf-8",
                  "GET " + std::string(kSoapPath) + "?wsdl for the WSDL; POST SOAP calls\n"};
}

Response SoapApi::call(const Request& request, const std::string& correlation_id) {
  const std::string content_type = header(request, "content-type");
  auto call = mapping::readSoapCall(request.body, content_type);
  if (!call.ok()) {
    log_->debug("SOAP request (correlation {}) refused: {}", correlation_id, call.error().message);
    auto announced = mapping::soapVersionOfContentType(content_type);
    SoapVersion version = announced.ok() ? *announced : SoapVersion::k11;
    return faultResponse(version, call.error(), correlation_id);
  }

  // SOAP 1.1 section 6.1.1 and SOAP 1.2 part 2 section 7.1.4: when the
  // client names the action, it must be the operation's. The
  // e-government gateway's WSDLs give every operation the action "".
  const std::string action = call->version == SoapVersion::k11
                                 ? unquote(header(request, "soapaction"))
                                 : mapping::contentTypeParameter(content_type, "action");
  const bool gateway_channel = call->operation_ns == mapping::kShepSyncNamespace ||
                               call->operation_ns == mapping::kShepAsyncNamespace ||
                               call->operation_ns == mapping::kShepAsyncClientNamespace;
  const std::string expected =
      gateway_channel ? "" : std::string(mapping::kSoapNamespace) + "#" + call->operation;
  registry::Status action_matches;
  if (!action.empty() && action != expected) {
    action_matches =
        makeError(ErrorCode::kInvalidField,
                  "the action \"" + action + "\" is not the operation's, \"" + expected + "\"");
  }
  if (gateway_channel) {
    return shepCall(*call, correlation_id, action_matches);
  }
  if (!action_matches.ok()) {
    return faultResponse(call->version, action_matches.error(), correlation_id);
  }
  auto envelope = answer(*call, correlation_id);
  if (!envelope.ok()) {
    if (envelope.error().code == ErrorCode::kInternal) {
      log_->error("SOAP {} (correlation {}) failed: {}", call->operation, correlation_id,
                  envelope.error().message);
    } else {
      log_->debug("SOAP {} (correlation {}): {}", call->operation, correlation_id,
                  envelope.error().message);
    }
    return faultResponse(call->version, envelope.error(), correlation_id);
  }
  log_->debug("SOAP {} (correlation {}) answered", call->operation, correlation_id);
  return soapResponse(200, call->version, std::move(*envelope), correlation_id);
}

// The gateway's operations, each answered in its own envelope and with its
// own fault element; an action mismatch found before is answered so too.
Response SoapApi::shepCall(const SoapCall& call, const std::string& correlation_id,
                           const registry::Status& action_matches) {
  const std::string now = registry::formatTimestamp(std::chrono::system_clock::now());
  const std::string_view ns = call.operation_ns;
  const std::string& operation = call.operation;
  std::function<std::string(const registry::Error&)> fault;
  if (ns == mapping::kShepSyncNamespace && operation == "SendMessage") {
    fault = [&](const registry::Error& error) {
      return mapping::writeShepSyncFault(call.version, error, correlation_id, now);
    };
  } else if (ns != mapping::kShepSyncNamespace && operation == "sendMessage") {
    fault = [&](const registry::Error& error) {
      return mapping::writeShepAsyncFault(call.version, ns, error, correlation_id, now);
    };
  } else if (ns == mapping::kShepAsyncClientNamespace &&
             operation == "changeMassageStatusNotification") {
    fault = [&](const registry::Error& error) {
      return mapping::writeShepStatusFault(call.version, error, correlation_id, now);
    };
  } else if (operation == "SendMessage" || operation == "sendMessage" ||
             operation == "changeMassageStatusNotification") {
    // A known operation in another channel's namespace is the caller's
    // mistake, not something licgate lacks.
    const std::string_view home = operation == "SendMessage"   ? mapping::kShepSyncNamespace
                                  : operation == "sendMessage" ? mapping::kShepAsyncNamespace
                                                               : mapping::kShepAsyncClientNamespace;
    return faultResponse(call.version,
                         makeError(ErrorCode::kInvalidField,
                                   "operation " + operation + " is in namespace \"" +
                                       std::string(home) + "\", not \"" + std::string(ns) + "\""),
                         correlation_id);
  } else {
    return faultResponse(call.version,
                         makeError(ErrorCode::kNotImplemented,
                                   "operation " + operation + " of \"" + std::string(ns) +
                                       "\" is not implemented; licgate serves the gateway's "
                                       "SendMessage, sendMessage and "
                                       "changeMassageStatusNotification"),
                         correlation_id);
  }

  auto answered = action_matches.ok() ? shepAnswer(call, correlation_id, now)
                                      : Result<std::string>(action_matches.error());
  if (!answered.ok()) {
    log_->debug("{} (correlation {}): {}", operation, correlation_id, answered.error().message);
    return soapResponse(mapping::soapFaultHttpStatus(call.version, answered.error().code),
                        call.version, fault(answered.error()), correlation_id);
  }
  return soapResponse(200, call.version, std::move(*answered), correlation_id);
}

Result<std::string> SoapApi::shepAnswer(const SoapCall& call, const std::string& correlation_id,
                                        const std::string& now) {
  auto request_xml = std::find_if(call.documents.begin(), call.documents.end(),
                                  [](const auto& entry) { return entry.first == "request"; });
  if (request_xml == call.documents.end()) {
    return makeError(ErrorCode::kInvalidField, call.operation + ": request is missing");
  }
  // The interfaces give each operation one child, request: a second one, or
  // anything else beside it, would be dropped unseen.
  if (call.documents.size() != 1 || !call.parameters.empty()) {
    const std::string other =
        call.documents.size() != 1 ? call.documents[1].first : call.parameters.front().first;
    return makeError(ErrorCode::kInvalidField,
                     call.operation + ": holds <" + other +
                         "> beside its request; the operation carries one request");
  }
  if (schemas_ != nullptr) {
    // The operation's element as the Body held it: its one child, request.
    const std::string element = "<shep:" + call.operation + " xmlns:shep=\"" + call.operation_ns +
                                "\">" + request_xml->second + "</shep:" + call.operation + ">";
    LICGATE_RETURN_IF_ERROR(schemas_->validate(element));
  }
  if (call.operation == "sendMessage") {
    return shepAsyncMessage(call, request_xml->second, correlation_id, now);
  }
  if (call.operation == "changeMassageStatusNotification") {
    return shepStatusNotification(call, request_xml->second, now);
  }
  return shepSyncMessage(call, request_xml->second, correlation_id, now);
}

// The synchronous channel: the operation its serviceId names runs as if
// called directly, and its answer goes back in the channel's envelope.
Result<std::string> SoapApi::shepSyncMessage(const SoapCall& call, const std::string& request_xml,
                                             const std::string& correlation_id,
                                             const std::string& now) {
  auto request = mapping::readShepSyncRequest(request_xml);
  if (!request.ok()) {
    return request.takeError();
  }
  auto operation = shepOperation(request->service_id, request->sender_id, request->message_id,
                                 request->operation_xml, call.version, "SendMessage");
  if (!operation.ok()) {
    return operation.takeError();
  }
  auto answered = answer(*operation, correlation_id);
  if (!answered.ok()) {
    return answered.takeError();
  }
  return mapping::writeShepSyncResponse(call.version, *request, correlation_id, now,
                                        {"OK", "processed"}, *answered);
}

// The operation element of the data, checked against the one the
// serviceId names. Data written as an escaped string may leave its element
// without a namespace; the serviceId says whose it is. On the gateway's
// channels the sending system of a SubmitLicenceEvent is the gateway's
// sender, which the gateway vouches for: data that names another is
// refused. Its message id is the channel's unless the data names one.
Result<SoapCall> SoapApi::shepOperation(const std::string& service_id, const std::string& sender_id,
                                        const std::string& message_id,
                                        const std::string& operation_xml, SoapVersion version,
                                        std::string_view channel_operation) {
  const std::string label(channel_operation);
  auto service = shep_.services.find(service_id);
  if (service == shep_.services.end()) {
    std::string known;
    for (const auto& [id, operation] : shep_.services) {
      known += (known.empty() ? "" : ", ") + id;
    }
    return makeError(ErrorCode::kInvalidField,
                     label + ": serviceId \"" + service_id +
                         "\" is not a service of licgate's (configured: " +
                         (known.empty() ? "none" : known) + ")");
  }
  auto operation = mapping::readSoapOperation(operation_xml, version);
  if (!operation.ok()) {
    return operation.takeError();
  }
  if (operation->operation_ns.empty()) {
    operation->operation_ns = std::string(mapping::kSoapNamespace);
  }
  if (operation->operation != service->second) {
    return makeError(ErrorCode::kInvalidField, label + ": serviceId \"" + service_id + "\" runs " +
                                                   service->second + ", but the data holds " +
                                                   operation->operation);
  }
  if (operation->operation != "SubmitLicenceEvent") {
    return operation;
  }
  auto named = [&](const char* name) {
    return std::find_if(operation->parameters.begin(), operation->parameters.end(),
                        [&](const auto& entry) { return entry.first == name; });
  };
  if (auto system = named("system"); system == operation->parameters.end()) {
    operation->parameters.emplace_back("system", sender_id);
  } else if (system->second != sender_id) {
    return makeError(ErrorCode::kNotAuthorised,
                     label + ": the data names the system \"" + system->second +
                         "\", but the gateway's sender is \"" + sender_id +
                         "\"; on the gateway's channels the sender is the sending system");
  }
  if (named("messageId") == operation->parameters.end()) {
    operation->parameters.emplace_back("messageId", message_id);
  }
  return operation;
}

Result<std::string> SoapApi::answer(const SoapCall& call, const std::string& correlation_id) {
  if (call.operation_ns != mapping::kSoapNamespace) {
    return makeError(ErrorCode::kInvalidField,
                     "operation <" + call.operation + "> is in namespace \"" + call.operation_ns +
                         "\"; licgate's operations are in " + std::string(mapping::kSoapNamespace));
  }
  if (call.operation == "GetLicence") {
    return getLicence(call);
  }
  if (call.operation == "FindLicences") {
    return findLicences(call);
  }
  if (call.operation == "GetChanges") {
    return getChanges(call);
  }
  if (call.operation == "SubmitLicenceEvent") {
    return submitLicenceEvent(call, correlation_id);
  }
  if (call.operation == "RequestConformity") {
    return requestConformity(call);
  }
  if (call.operation == "SubmitConclusion") {
    return submitConclusion(call);
  }
  if (call.operation == "GetConformity") {
    return getConformity(call);
  }
  if (call.operation == "GetPendingConformity") {
    return getPendingConformity(call);
  }
  return makeError(ErrorCode::kNotImplemented,
                   "operation " + call.operation +
                       " is not implemented; licgate offers GetLicence, FindLicences, "
                       "GetChanges, SubmitLicenceEvent, RequestConformity, SubmitConclusion, "
                       "GetConformity and GetPendingConformity (GET ?wsdl)");
}

// The AMQP intake's flow decides the event as one delivery of its own, so
// that both transports share every rule: authorisation, the duplicate
// checks, one transaction, the dead letter of a rejected event.
Result<adapters::amqp::Verdict> SoapApi::decideEvent(const SoapCall& call,
                                                     const std::string& correlation_id) {
  if (intake_ == nullptr) {
    return makeError(ErrorCode::kNotImplemented,
                     "this licgate takes no licence events (no intake configured)");
  }
  auto parameters = Parameters::read(call, {"system", "messageId"}, {"licenceEvent"});
  if (!parameters.ok()) {
    return parameters.takeError();
  }
  for (const char* required : {"system", "messageId"}) {
    if (parameters->text(required).empty()) {
      return makeError(ErrorCode::kInvalidField,
                       "SubmitLicenceEvent: <" + std::string(required) + "> is missing");
    }
  }
  if (parameters->document("licenceEvent").empty()) {
    return makeError(ErrorCode::kInvalidField, "SubmitLicenceEvent: <licenceEvent> is missing");
  }
  // The bounds of the AMQP intake's ids (docs/amqp.md).
  LICGATE_RETURN_IF_ERROR(registry::checkIdentifier(
      parameters->text("messageId"), "SubmitLicenceEvent: <messageId>", kMaxMessageId));
  LICGATE_RETURN_IF_ERROR(registry::checkIdentifier(parameters->text("system"),
                                                    "SubmitLicenceEvent: <system>", kMaxSystem));

  adapters::amqp::Delivery delivery;
  delivery.address = std::string(kSoapPath);
  delivery.message_id = parameters->text("messageId");
  delivery.correlation_id = correlation_id;
  delivery.sender_system = parameters->text("system");
  delivery.content_type = "application/xml; charset=utf-8";
  delivery.body = parameters->document("licenceEvent");
  std::vector<adapters::amqp::Verdict> verdicts = intake_->processBatch({delivery});
  return std::move(verdicts.at(0));
}

// A verdict that is not an answer: released (the store could not commit)
// or rejected (kept as a dead letter).
registry::Status SoapApi::verdictError(const adapters::amqp::Verdict& verdict) {
  if (verdict.settle == adapters::amqp::Settle::kRelease) {
    return makeError(ErrorCode::kUnavailable,
                     "the register cannot take the event now; send it again later");
  }
  if (verdict.settle == adapters::amqp::Settle::kReject) {
    return makeError(registry::errorCodeOfName(verdict.error_code).value_or(ErrorCode::kInternal),
                     verdict.description);
  }
  return {};
}

Result<std::string> SoapApi::submitLicenceEvent(const SoapCall& call,
                                                const std::string& correlation_id) {
  auto decided = decideEvent(call, correlation_id);
  if (!decided.ok()) {
    return decided.takeError();
  }
  const adapters::amqp::Verdict& verdict = *decided;
  LICGATE_RETURN_IF_ERROR(verdictError(verdict));
  return mapping::writeSoapEnvelope(call.version, [&](pugi::xml_node body) {
    pugi::xml_node response = appendResponse(body, call.operation);
    response.append_child("lg:outcome").text().set(verdict.outcome.c_str());
    if (!verdict.licence_number.empty()) {
      response.append_child("lg:licenceNumber").text().set(verdict.licence_number.c_str());
    }
  });
}

Result<std::string> SoapApi::getLicence(const SoapCall& call) {
  auto parameters = Parameters::read(call, {"number"});
  if (!parameters.ok()) {
    return parameters.takeError();
  }
  const std::string number = parameters->text("number");
  if (number.empty()) {
    return makeError(ErrorCode::kInvalidField, "GetLicence: <number> is missing");
  }
  auto licence = store_.findLicence(number);
  if (!licence.ok() && licence.error().code != ErrorCode::kNotFound) {
    return licence.takeError();
  }
  return mapping::writeSoapEnvelope(call.version, [&](pugi::xml_node body) {
    pugi::xml_node response = appendResponse(body, call.operation);
    response.append_child("lg:found").text().set(licence.ok() ? "true" : "false");
    if (licence.ok()) {
      mapping::appendLicenceXml(response, "licence", *licence);
    }
  });
}

Result<std::string> SoapApi::findLicences(const SoapCall& call) {
  auto parameters = Parameters::read(
      call, {"holderScheme", "holderId", "licensor", "activityCode", "status", "after", "limit"});
  if (!parameters.ok()) {
    return parameters.takeError();
  }
  registry::LicenceQuery query;
  if (parameters->has("holderScheme") != parameters->has("holderId")) {
    return makeError(ErrorCode::kInvalidField,
                     "FindLicences: <holderScheme> and <holderId> must be given together");
  }
  if (parameters->has("holderScheme")) {
    auto scheme = registry::parseIdScheme(parameters->text("holderScheme"));
    if (!scheme.ok()) {
      return makeError(ErrorCode::kInvalidField, "FindLicences: <holderScheme> \"" +
                                                     parameters->text("holderScheme") +
                                                     "\" is not kz-iin, kz-bin or cz-ico");
    }
    auto id = registry::readHolderId(*scheme, parameters->text("holderId"));
    if (!id.ok()) {
      return makeError(ErrorCode::kInvalidField, "FindLicences: <holderId>: " + id.error().message);
    }
    query.holder = *id;
  }
  query.licensor = parameters->text("licensor");
  query.activity_code = parameters->text("activityCode");
  if (parameters->has("status")) {
    auto status = registry::parseStatus(parameters->text("status"));
    if (!status.ok()) {
      return makeError(ErrorCode::kInvalidField, "FindLicences: <status> \"" +
                                                     parameters->text("status") +
                                                     "\" is not active, suspended or terminated");
    }
    query.status = *status;
  }
  query.after_number = parameters->text("after");
  auto limit = parameters->number("limit", 1, kMaxLimit, kDefaultLicences);
  if (!limit.ok()) {
    return limit.takeError();
  }
  query.limit = static_cast<int>(*limit);

  auto page = store_.searchLicences(query);
  if (!page.ok()) {
    return page.takeError();
  }
  return mapping::writeSoapEnvelope(call.version, [&](pugi::xml_node body) {
    pugi::xml_node response = appendResponse(body, call.operation);
    for (const registry::Licence& licence : page->licences) {
      mapping::appendLicenceXml(response, "licence", licence);
    }
    if (!page->next_after.empty()) {
      response.append_child("lg:nextAfter").text().set(page->next_after.c_str());
    }
  });
}

Result<std::string> SoapApi::getChanges(const SoapCall& call) {
  auto parameters = Parameters::read(call, {"after", "limit"});
  if (!parameters.ok()) {
    return parameters.takeError();
  }
  if (!parameters->has("after")) {
    return makeError(ErrorCode::kInvalidField,
                     "GetChanges: <after> is missing (0 for the start of the journal)");
  }
  auto after = parameters->number("after", 0, INT64_MAX, 0);
  if (!after.ok()) {
    return after.takeError();
  }
  auto limit = parameters->number("limit", 1, kMaxLimit, kDefaultChanges);
  if (!limit.ok()) {
    return limit.takeError();
  }
  auto entries = store_.changesAfter(static_cast<std::uint64_t>(*after), static_cast<int>(*limit));
  if (!entries.ok()) {
    return entries.takeError();
  }
  registry::Status written;
  std::string envelope = mapping::writeSoapEnvelope(call.version, [&](pugi::xml_node body) {
    pugi::xml_node response = appendResponse(body, call.operation);
    for (const registry::JournalEntry& entry : *entries) {
      if (written.ok()) {
        written = mapping::appendChangeXml(response, entry);
      }
    }
    if (written.ok() && static_cast<std::int64_t>(entries->size()) == *limit) {
      response.append_child("lg:nextAfter")
          .text()
          .set(std::to_string(entries->back().sequence).c_str());
    }
  });
  if (!written.ok()) {
    return written.takeError();
  }
  return envelope;
}

// --- The conformity flow's operations (docs/conformity.md) ---

Result<std::string> SoapApi::requestConformity(const SoapCall& call) {
  if (conformity_ == nullptr) {
    return conformityOff(call.operation);
  }
  auto read = mapping::readRequestSoap(call);
  if (!read.ok()) {
    conformity_->countRefusedRequest();
    return read.takeError();
  }
  auto answer = conformity_->request(read->system, read->request);
  if (!answer.ok()) {
    return mapping::inSoapTerms(answer.takeError(), call.operation);
  }
  return mapping::writeSoapEnvelope(call.version, [&](pugi::xml_node body) {
    pugi::xml_node response = appendResponse(body, call.operation);
    response.append_child("lg:result").text().set(answer->duplicate ? "duplicate" : "opened");
    for (const std::string& id : answer->query_ids) {
      response.append_child("lg:queryId").text().set(id.c_str());
    }
  });
}

// A SOAP caller names no system of its own, so the conclusion's body is
// all there is to check it against.
Result<std::string> SoapApi::submitConclusion(const SoapCall& call) {
  if (conformity_ == nullptr) {
    return conformityOff(call.operation);
  }
  auto conclusion = mapping::readConclusionSoap(call);
  if (!conclusion.ok()) {
    conformity_->countRefusedConclusion();
    return conclusion.takeError();
  }
  auto answer = conformity_->conclude("", *conclusion);
  if (!answer.ok()) {
    return mapping::inSoapTerms(answer.takeError(), call.operation);
  }
  return mapping::writeSoapEnvelope(call.version, [&](pugi::xml_node body) {
    appendResponse(body, call.operation)
        .append_child("lg:result")
        .text()
        .set(answer->result.c_str());
  });
}

Result<std::string> SoapApi::getConformity(const SoapCall& call) {
  if (conformity_ == nullptr) {
    return conformityOff(call.operation);
  }
  auto parameters = Parameters::read(call, {"applicationId"});
  if (!parameters.ok()) {
    return parameters.takeError();
  }
  const std::string id = parameters->text("applicationId");
  if (id.empty()) {
    return makeError(ErrorCode::kInvalidField,
                     std::string("GetConformity: <applicationId> ") +
                         (parameters->has("applicationId") ? "is empty" : "is missing"));
  }
  if (std::string problem = registry::applicationIdProblem(id); !problem.empty()) {
    return makeError(ErrorCode::kInvalidField, "GetConformity: <applicationId> " + problem);
  }
  auto round = conformity_->round(id);
  if (!round.ok()) {
    return round.takeError();
  }
  if (!round->has_value()) {
    return makeError(ErrorCode::kNotFound, "application \"" + id + "\" has no conformity round");
  }
  return mapping::writeSoapEnvelope(call.version, [&](pugi::xml_node body) {
    pugi::xml_node response = appendResponse(body, call.operation);
    response.append_child("lg:outcome").text().set((*round)->outcome.c_str());
    for (const auto& query : (*round)->queries) {
      mapping::appendQueryXml(response, query, conformity_->workingDaysLeftOf(query),
                              conformity_->utcOffsetMinutes());
    }
  });
}

Result<std::string> SoapApi::getPendingConformity(const SoapCall& call) {
  if (conformity_ == nullptr) {
    return conformityOff(call.operation);
  }
  auto parameters = Parameters::read(call, {"licensor"});
  if (!parameters.ok()) {
    return parameters.takeError();
  }
  const std::string licensor = parameters->text("licensor");
  if (licensor.empty()) {
    return makeError(ErrorCode::kInvalidField,
                     std::string("GetPendingConformity: <licensor> ") +
                         (parameters->has("licensor") ? "is empty" : "is missing"));
  }
  auto pending = conformity_->pending(licensor, kMaxPendingQueries);
  if (!pending.ok()) {
    return pending.takeError();
  }
  return mapping::writeSoapEnvelope(call.version, [&](pugi::xml_node body) {
    pugi::xml_node response = appendResponse(body, call.operation);
    for (const auto& query : *pending) {
      mapping::appendQueryXml(response, query, conformity_->workingDaysLeftOf(query),
                              conformity_->utcOffsetMinutes());
    }
  });
}

}  // namespace licgate::gateway
