// The conformity flow's SOAP forms (mapping/conformity.hpp): the elements
// of licgate's namespace that mapping/schema/licgate-soap.xsd declares.
// Writers put children in the order of the schema's sequences; readers take
// them in any order, as licgate's other operations do.
#include <charconv>
#include <map>
#include <set>
#include <utility>

#include "mapping/conformity.hpp"
#include "mapping/conformity_internal.hpp"
#include "mapping/licence_xml.hpp"

namespace licgate::mapping {

using conformity_detail::assignTo;
using registry::ErrorCode;
using registry::makeError;
using registry::Result;
using registry::Status;

namespace {

// The parameters of one call by name, each known one at most once but for
// those that may repeat (a conclusion's reasons), which keep their order.
class CallParameters {
 public:
  static Result<CallParameters> read(const SoapCall& call, std::string_view operation,
                                     const std::set<std::string, std::less<>>& known,
                                     const std::set<std::string, std::less<>>& repeated = {}) {
    CallParameters parameters;
    parameters.operation_ = std::string(operation);
    if (call.operation != operation || call.operation_ns != kSoapNamespace) {
      return makeError(ErrorCode::kInvalidField,
                       "expected <" + parameters.operation_ + "> in " +
                           std::string(kSoapNamespace) + ", not <" + call.operation + "> in " +
                           (call.operation_ns.empty() ? "no namespace" : call.operation_ns));
    }
    for (const auto& [name, value] : call.parameters) {
      LICGATE_RETURN_IF_ERROR(parameters.take(name, value, known, repeated));
    }
    // A known parameter with elements of its own is text the schema types
    // as a string; markup there would be read differently by others.
    if (!call.documents.empty()) {
      const std::string& name = call.documents.front().first;
      return parameters.refuse(
          name, known.contains(name) || repeated.contains(name) ? "must be a simple value" : "");
    }
    return parameters;
  }

  Result<std::string> required(std::string_view name) const {
    auto found = values_.find(name);
    if (found == values_.end()) {
      return refuse(std::string(name), "is required");
    }
    return found->second;
  }

  std::string optional(std::string_view name) const {
    auto found = values_.find(name);
    return found == values_.end() ? std::string() : found->second;
  }

  bool has(std::string_view name) const { return values_.contains(name); }

  const std::vector<std::string>& all(std::string_view name) const {
    static const std::vector<std::string> kNone;
    auto found = repeats_.find(name);
    return found == repeats_.end() ? kNone : found->second;
  }

  // "<operation>: <name>" for messages about a parameter's value.
  std::string where(std::string_view name) const {
    return operation_ + ": <" + std::string(name) + ">";
  }

 private:
  Status take(const std::string& name, const std::string& value,
              const std::set<std::string, std::less<>>& known,
              const std::set<std::string, std::less<>>& repeated) {
    if (repeated.contains(name)) {
      repeats_[name].push_back(value);
      return {};
    }
    if (!known.contains(name)) {
      return refuse(name, "");
    }
    if (!values_.emplace(name, value).second) {
      return refuse(name, "is given twice");
    }
    return {};
  }

  // An empty `why` is a parameter the operation does not have.
  registry::Error refuse(const std::string& name, std::string_view why) const {
    if (why.empty()) {
      return makeError(ErrorCode::kInvalidField, operation_ + ": unknown parameter <" + name + ">");
    }
    return makeError(ErrorCode::kInvalidField,
                     operation_ + ": parameter <" + name + "> " + std::string(why));
  }

  std::string operation_;
  std::map<std::string, std::string, std::less<>> values_;
  std::map<std::string, std::vector<std::string>, std::less<>> repeats_;
};

// The operation's dataJson, compact; "{}" when it is not given.
Result<std::string> readDataParameter(const CallParameters& parameters) {
  if (!parameters.has("dataJson")) {
    return std::string("{}");
  }
  std::string text = parameters.optional("dataJson");
  // An empty element is more likely a form field left blank than a
  // deliberate "no data": it is refused rather than read as {} or as JSON
  // that ends before it starts.
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    return makeError(ErrorCode::kInvalidField,
                     parameters.where("dataJson") +
                         ": is empty; give a JSON object ({} when the bodies need no data) "
                         "or leave the element out");
  }
  return conformity_detail::compactDataJson(text, parameters.where("dataJson"));
}

Status readRequestParameters(const CallParameters& parameters,
                             registry::ConformityRequest& request) {
  LICGATE_RETURN_IF_ERROR(assignTo(request.application_id, parameters.required("applicationId")));
  LICGATE_RETURN_IF_ERROR(assignTo(request.licensor, parameters.required("licensor")));
  LICGATE_RETURN_IF_ERROR(
      assignTo(request.applicant.iin_bin, parameters.required("applicantIinBin")));
  LICGATE_RETURN_IF_ERROR(assignTo(request.applicant.name, parameters.required("applicantName")));
  LICGATE_RETURN_IF_ERROR(assignTo(request.activity, parameters.required("activity")));
  LICGATE_RETURN_IF_ERROR(assignTo(request.data_json, readDataParameter(parameters)));
  return {};
}

void appendText(pugi::xml_node parent, const char* name, std::string_view text) {
  parent.append_child(name).text().set(std::string(text).c_str());
}

// The operation element, declaring licgate's namespace itself so that it
// can be read, or validated, apart from its envelope.
pugi::xml_node appendOperation(pugi::xml_node body, const std::string& name) {
  pugi::xml_node operation = body.append_child(("lg:" + name).c_str());
  operation.append_attribute("xmlns:lg") = std::string(kSoapNamespace).c_str();
  return operation;
}

// Whether `node` is in the scope of xmlns:lg bound to licgate's namespace.
bool inLicgateScope(pugi::xml_node node) {
  for (; node; node = node.parent()) {
    if (pugi::xml_attribute declared = node.attribute("xmlns:lg")) {
      return kSoapNamespace == declared.value();
    }
  }
  return false;
}

std::string verdictText(registry::Verdict verdict) {
  return std::string(registry::verdictName(verdict));
}

}  // namespace

Result<SoapConformityRequest> readRequestSoap(const SoapCall& call) {
  auto parameters = CallParameters::read(call, "RequestConformity",
                                         {"system", "applicationId", "licensor", "applicantIinBin",
                                          "applicantName", "activity", "dataJson"});
  if (!parameters) {
    return parameters.takeError();
  }
  SoapConformityRequest out;
  LICGATE_RETURN_IF_ERROR(readRequestParameters(*parameters, out.request));
  LICGATE_RETURN_IF_ERROR(assignTo(out.system, parameters->required("system")));
  return out;
}

Result<registry::Conclusion> readConclusionSoap(const SoapCall& call) {
  auto parameters =
      CallParameters::read(call, "SubmitConclusion",
                           {"queryId", "body", "verdict", "signer", "signedDocument"}, {"reason"});
  if (!parameters) {
    return parameters.takeError();
  }
  registry::Conclusion conclusion;
  LICGATE_RETURN_IF_ERROR(assignTo(conclusion.query_id, parameters->required("queryId")));
  LICGATE_RETURN_IF_ERROR(assignTo(conclusion.body, parameters->required("body")));
  std::string verdict;
  LICGATE_RETURN_IF_ERROR(assignTo(verdict, parameters->required("verdict")));
  LICGATE_RETURN_IF_ERROR(assignTo(
      conclusion.verdict, conformity_detail::verdictOfText(verdict, parameters->where("verdict"))));
  conclusion.reasons = parameters->all("reason");
  LICGATE_RETURN_IF_ERROR(assignTo(conclusion.signer, parameters->required("signer")));
  conclusion.signed_document = parameters->optional("signedDocument");
  return conclusion;
}

registry::Error inSoapTerms(registry::Error error, std::string_view operation) {
  // A request's and a conclusion's fields and the parameters that carry them.
  static constexpr std::pair<std::string_view, std::string_view> kParameters[] = {
      {"application_id", "applicationId"},
      {"licensor", "licensor"},
      {"applicant.iin_bin", "applicantIinBin"},
      {"applicant.name", "applicantName"},
      {"activity", "activity"},
      {"data", "dataJson"},
      {"query_id", "queryId"},
      {"body", "body"},
      {"verdict", "verdict"},
      {"reasons", "reason"},
      {"signer", "signer"},
      {"signed_document", "signedDocument"},
  };
  const std::string_view message = error.message;
  for (const auto& [field, parameter] : kParameters) {
    if (!message.starts_with(field)) {
      continue;
    }
    std::string_view rest = message.substr(field.size());
    std::string named = std::string(operation) + ": <" + std::string(parameter) + ">";
    if (rest.starts_with("[")) {
      // reasons[i]: the (i + 1)th <reason> element.
      const std::size_t close = rest.find(']');
      if (close == std::string_view::npos) {
        continue;
      }
      std::size_t index = 0;
      const auto [end, ec] = std::from_chars(rest.data() + 1, rest.data() + close, index);
      if (ec != std::errc() || end != rest.data() + close) {
        continue;
      }
      named += ' ';
      named += std::to_string(index + 1);
      rest.remove_prefix(close + 1);
    }
    if (!rest.starts_with(": ")) {
      continue;
    }
    error.message = named + std::string(rest);
    return error;
  }
  return error;
}

Result<QueryMessage> readQuerySoap(const SoapCall& call) {
  auto parameters =
      CallParameters::read(call, "ConformityQuery",
                           {"queryId", "body", "applicationId", "licensor", "applicantIinBin",
                            "applicantName", "activity", "deadline", "dataJson"});
  if (!parameters) {
    return parameters.takeError();
  }
  QueryMessage query;
  LICGATE_RETURN_IF_ERROR(assignTo(query.query_id, parameters->required("queryId")));
  LICGATE_RETURN_IF_ERROR(assignTo(query.body, parameters->required("body")));
  LICGATE_RETURN_IF_ERROR(readRequestParameters(*parameters, query.request));
  LICGATE_RETURN_IF_ERROR(assignTo(query.deadline, parameters->required("deadline")));
  return query;
}

std::string writeQuerySoap(const QueryMessage& query, SoapVersion version) {
  return writeSoapEnvelope(version, [&](pugi::xml_node body) {
    pugi::xml_node element = appendOperation(body, "ConformityQuery");
    appendText(element, "lg:queryId", query.query_id);
    appendText(element, "lg:body", query.body);
    appendText(element, "lg:applicationId", query.request.application_id);
    appendText(element, "lg:licensor", query.request.licensor);
    appendText(element, "lg:applicantIinBin", query.request.applicant.iin_bin);
    appendText(element, "lg:applicantName", query.request.applicant.name);
    appendText(element, "lg:activity", query.request.activity);
    appendText(element, "lg:deadline", query.deadline);
    appendText(element, "lg:dataJson", query.request.data_json);
  });
}

std::string writeConclusionSoap(const registry::Conclusion& conclusion, SoapVersion version) {
  return writeSoapEnvelope(version, [&](pugi::xml_node body) {
    pugi::xml_node element = appendOperation(body, "SubmitConclusion");
    appendText(element, "lg:queryId", conclusion.query_id);
    appendText(element, "lg:body", conclusion.body);
    appendText(element, "lg:verdict", verdictText(conclusion.verdict));
    for (const std::string& reason : conclusion.reasons) {
      appendText(element, "lg:reason", reason);
    }
    appendText(element, "lg:signer", conclusion.signer);
    if (!conclusion.signed_document.empty()) {
      appendText(element, "lg:signedDocument", conclusion.signed_document);
    }
  });
}

std::string writeOutcomeSoap(const registry::ConformityOutcome& outcome, int utc_offset_minutes,
                             SoapVersion version) {
  return writeSoapEnvelope(version, [&](pugi::xml_node body) {
    pugi::xml_node element = appendOperation(body, "ConformityOutcome");
    appendText(element, "lg:applicationId", outcome.application_id);
    appendText(element, "lg:licensor", outcome.licensor);
    appendText(element, "lg:outcome", registry::roundOutcomeName(outcome.outcome));
    appendText(element, "lg:decidedAt", formatLocalTime(outcome.decided_ms, utc_offset_minutes));
    for (const registry::QueryView& query : outcome.queries) {
      pugi::xml_node conclusion = element.append_child("lg:conclusion");
      appendText(conclusion, "lg:queryId", query.query_id);
      appendText(conclusion, "lg:body", query.body);
      appendText(conclusion, "lg:state", registry::queryStateName(query.state));
      if (query.verdict) {
        appendText(conclusion, "lg:verdict", verdictText(*query.verdict));
      }
      appendText(conclusion, "lg:tacit", query.tacit ? "true" : "false");
      for (const std::string& reason : query.reasons) {
        appendText(conclusion, "lg:reason", reason);
      }
      if (!query.signer.empty()) {
        appendText(conclusion, "lg:signer", query.signer);
      }
      appendText(conclusion, "lg:late", query.late_verdict ? "true" : "false");
    }
  });
}

void appendQueryXml(pugi::xml_node parent, const registry::QueryView& query, int working_days_left,
                    int utc_offset_minutes) {
  pugi::xml_node element = parent.append_child("lg:query");
  if (!inLicgateScope(parent)) {
    element.append_attribute("xmlns:lg") = std::string(kSoapNamespace).c_str();
  }
  appendText(element, "lg:queryId", query.query_id);
  appendText(element, "lg:applicationId", query.application_id);
  appendText(element, "lg:licensor", query.licensor);
  appendText(element, "lg:body", query.body);
  appendText(element, "lg:state", registry::queryStateName(query.state));
  appendText(element, "lg:attempts", std::to_string(query.attempts));
  if (query.next_attempt_ms != 0) {
    appendText(element, "lg:nextAttempt",
               formatLocalTime(query.next_attempt_ms, utc_offset_minutes));
  }
  appendText(element, "lg:deadline", formatLocalTime(query.deadline_ms, utc_offset_minutes));
  appendText(element, "lg:lastDay", formatLastDay(query.deadline_ms, utc_offset_minutes));
  if (working_days_left >= 0) {
    appendText(element, "lg:workingDaysLeft", std::to_string(working_days_left));
  }
  if (!query.last_error.empty()) {
    appendText(element, "lg:lastError", query.last_error);
  }
  if (query.verdict) {
    appendText(element, "lg:verdict", verdictText(*query.verdict));
  }
  appendText(element, "lg:tacit", query.tacit ? "true" : "false");
  for (const std::string& reason : query.reasons) {
    appendText(element, "lg:reason", reason);
  }
  if (!query.signer.empty()) {
    appendText(element, "lg:signer", query.signer);
  }
  if (query.concluded_ms != 0) {
    appendText(element, "lg:concludedAt", formatLocalTime(query.concluded_ms, utc_offset_minutes));
  }
  if (query.late_verdict) {
    appendText(element, "lg:lateVerdict", verdictText(*query.late_verdict));
    for (const std::string& reason : query.late_reasons) {
      appendText(element, "lg:lateReason", reason);
    }
    if (!query.late_signer.empty()) {
      appendText(element, "lg:lateSigner", query.late_signer);
    }
    appendText(element, "lg:lateAt", formatLocalTime(query.late_ms, utc_offset_minutes));
  }
}

}  // namespace licgate::mapping
