// The conformity flow's JSON messages, fingerprints and times
// (mapping/conformity.hpp); the SOAP forms are in conformity_soap.cpp.
//
// Readers parse the whole message into a tree (mapping/json_strict.hpp)
// rather than through SAX as licence events are read: the data a request
// carries is an object of any depth, passed on to the bodies as it is.
#include "mapping/conformity.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstdio>
#include <initializer_list>

#include "mapping/conformity_internal.hpp"
#include "mapping/json_strict.hpp"

namespace licgate::mapping {

using conformity_detail::assignTo;
using conformity_detail::verdictOfText;
using registry::ErrorCode;
using registry::makeError;
using registry::Result;
using registry::Status;

namespace {

using Json = StrictJson;

// Text that is not UTF-8 cannot be a JSON string. The readers never let
// such text in; a writer replaces its bytes with U+FFFD rather than fail.
std::string dumpJson(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// The data as an object to embed. Data that does not parse (checkRequest
// refuses it, so it never should) is embedded as text rather than lost.
Json dataJson(const std::string& data_json) {
  Json parsed = Json::parse(data_json, nullptr, /*allow_exceptions=*/false);
  return parsed.is_discarded() ? Json(data_json) : parsed;
}

registry::Error invalid(std::string_view path, std::string_view why) {
  return makeError(ErrorCode::kInvalidField, std::string(path) + ": " + std::string(why));
}

// A misspelt member must be refused, not ignored: the sender would think
// licgate had read what it meant. The refusal lists the members `what`
// has, which also shows a message sent to the wrong address for what it is.
Status refuseUnknown(const Json& object, std::string_view path, std::string_view what,
                     std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : object.items()) {
    bool listed = false;
    std::string members;
    for (std::string_view name : known) {
      listed = listed || key == name;
      members += (members.empty() ? "" : ", ") + std::string(name);
    }
    if (!listed) {
      return invalid(memberPath(path, key),
                     "is not a member of " + std::string(what) + " (its members: " + members + ")");
    }
  }
  return {};
}

// nullptr when `object` has no member `key`.
const Json* findMember(const Json& object, std::string_view key) {
  auto found = object.find(std::string(key));
  return found == object.end() ? nullptr : &*found;
}

Result<std::string> requiredText(const Json& object, std::string_view path, std::string_view key) {
  const Json* member = findMember(object, key);
  if (member == nullptr) {
    return invalid(memberPath(path, key), "is required");
  }
  if (!member->is_string()) {
    return invalid(memberPath(path, key), "is not a string");
  }
  return member->get<std::string>();
}

Result<std::string> optionalText(const Json& object, std::string_view path, std::string_view key) {
  if (findMember(object, key) == nullptr) {
    return std::string();
  }
  return requiredText(object, path, key);
}

// The message's root: an object, or kMalformed saying what it is of.
Result<Json> readRoot(std::string_view bytes, std::string_view what) {
  auto parsed = parseStrictJson(bytes, "");
  if (!parsed) {
    registry::Error error = parsed.takeError();
    if (error.code == ErrorCode::kMalformed) {
      error.message = std::string(what) + ": " + error.message;
    }
    return error;
  }
  if (!parsed->is_object()) {
    return makeError(ErrorCode::kMalformed, std::string(what) + ": is not a JSON object");
  }
  return parsed;
}

Result<registry::Applicant> readApplicant(const Json& object) {
  const Json* member = findMember(object, "applicant");
  if (member == nullptr) {
    return invalid("applicant", "is required");
  }
  if (!member->is_object()) {
    return invalid("applicant", "is not an object");
  }
  LICGATE_RETURN_IF_ERROR(refuseUnknown(*member, "applicant", "an applicant", {"iin_bin", "name"}));
  registry::Applicant applicant;
  LICGATE_RETURN_IF_ERROR(
      assignTo(applicant.iin_bin, requiredText(*member, "applicant", "iin_bin")));
  LICGATE_RETURN_IF_ERROR(assignTo(applicant.name, requiredText(*member, "applicant", "name")));
  return applicant;
}

// "data": an object, kept as compact text; "{}" when absent.
Result<std::string> readData(const Json& object) {
  const Json* member = findMember(object, "data");
  if (member == nullptr) {
    return std::string("{}");
  }
  if (!member->is_object()) {
    return invalid("data", "is not an object");
  }
  return dumpJson(*member);
}

// The members a request and a query share.
Status readRequestMembers(const Json& object, registry::ConformityRequest& request) {
  LICGATE_RETURN_IF_ERROR(
      assignTo(request.application_id, requiredText(object, "", "application_id")));
  LICGATE_RETURN_IF_ERROR(assignTo(request.licensor, requiredText(object, "", "licensor")));
  LICGATE_RETURN_IF_ERROR(assignTo(request.applicant, readApplicant(object)));
  LICGATE_RETURN_IF_ERROR(assignTo(request.activity, requiredText(object, "", "activity")));
  LICGATE_RETURN_IF_ERROR(assignTo(request.data_json, readData(object)));
  return {};
}

Result<std::vector<std::string>> readReasons(const Json& object) {
  const Json* member = findMember(object, "reasons");
  std::vector<std::string> reasons;
  if (member == nullptr) {
    return reasons;
  }
  if (!member->is_array()) {
    return invalid("reasons", "is not an array");
  }
  for (std::size_t at = 0; at < member->size(); ++at) {
    if (!(*member)[at].is_string()) {
      return invalid("reasons[" + std::to_string(at) + "]", "is not a string");
    }
    reasons.push_back((*member)[at].get<std::string>());
  }
  return reasons;
}

Json applicantJson(const registry::Applicant& applicant) {
  Json out = Json::object();
  out["iin_bin"] = applicant.iin_bin;
  out["name"] = applicant.name;
  return out;
}

Json reasonsJson(const std::vector<std::string>& reasons) {
  Json out = Json::array();
  for (const std::string& reason : reasons) {
    out.push_back(reason);
  }
  return out;
}

std::string sha256Hex(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  // EVP_Digest fails only when OpenSSL cannot allocate its context; a
  // fingerprint must never be mistaken for another, so that is fatal.
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1) {
    std::abort();
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (unsigned int at = 0; at < size; ++at) {
    out += kHex[digest[at] >> 4];
    out += kHex[digest[at] & 0xF];
  }
  return out;
}

// The canonical form a fingerprint digests: a tag naming the kind and
// version, then each field as <length>:<bytes>, so that no two different
// field lists make the same bytes whatever the fields hold.
class CanonicalForm {
 public:
  explicit CanonicalForm(std::string_view tag) { add(tag); }

  CanonicalForm& add(std::string_view field) {
    text_ += std::to_string(field.size());
    text_ += ':';
    text_ += field;
    return *this;
  }

  std::string fingerprint() const { return sha256Hex(text_); }

 private:
  std::string text_;
};

// The data as parsed JSON: nlohmann::json keeps members in a sorted map, so
// dumping it gives the same text for any key order and white space.
std::string canonicalData(const std::string& data_json) {
  nlohmann::json parsed = nlohmann::json::parse(data_json, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return "text:" + data_json;
  }
  return "json:" + parsed.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Json conclusionStateJson(const registry::QueryView& query) {
  Json out = Json::object();
  out["query_id"] = query.query_id;
  out["body"] = query.body;
  out["state"] = std::string(registry::queryStateName(query.state));
  if (query.verdict) {
    out["verdict"] = std::string(registry::verdictName(*query.verdict));
  }
  out["tacit"] = query.tacit;
  out["reasons"] = reasonsJson(query.reasons);
  if (!query.signer.empty()) {
    out["signer"] = query.signer;
  }
  out["late"] = query.late_verdict.has_value();
  return out;
}

}  // namespace

std::string formatLocalTime(std::int64_t ms, int utc_offset_minutes) {
  // Floor division, so that instants before the epoch land on the right
  // second and day.
  std::int64_t seconds = ms / 1000 - (ms % 1000 < 0 ? 1 : 0);
  seconds += static_cast<std::int64_t>(utc_offset_minutes) * 60;
  std::int64_t days = seconds / 86400 - (seconds % 86400 < 0 ? 1 : 0);
  std::int64_t of_day = seconds - days * 86400;

  // Days since 1970-01-01 to the proleptic Gregorian date, by 400-year eras
  // of 146097 days, counting years from March so that the leap day is last.
  std::int64_t z = days + 719468;
  std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  std::int64_t day_of_era = z - era * 146097;
  std::int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  std::int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  std::int64_t month_index = (5 * day_of_year + 2) / 153;
  std::int64_t day = day_of_year - (153 * month_index + 2) / 5 + 1;
  std::int64_t month = month_index < 10 ? month_index + 3 : month_index - 9;
  std::int64_t year = year_of_era + era * 400 + (month <= 2 ? 1 : 0);

  // xsd:dateTime with an explicit offset always, "+00:00" rather than "Z",
  // so that every time licgate writes has the same shape.
  int offset = utc_offset_minutes < 0 ? -utc_offset_minutes : utc_offset_minutes;
  char text[96];
  std::snprintf(text, sizeof text, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld%c%02d:%02d",
                static_cast<long long>(year), static_cast<long long>(month),
                static_cast<long long>(day), static_cast<long long>(of_day / 3600),
                static_cast<long long>(of_day / 60 % 60), static_cast<long long>(of_day % 60),
                utc_offset_minutes < 0 ? '-' : '+', offset / 60, offset % 60);
  return text;
}

Result<registry::ConformityRequest> readRequestJson(std::string_view bytes) {
  auto parsed = readRoot(bytes, "conformity request");
  if (!parsed) {
    return parsed.takeError();
  }
  const Json& root = *parsed;
  LICGATE_RETURN_IF_ERROR(
      refuseUnknown(root, "", "a conformity request",
                    {"application_id", "licensor", "applicant", "activity", "data"}));
  registry::ConformityRequest request;
  LICGATE_RETURN_IF_ERROR(readRequestMembers(root, request));
  return request;
}

std::string writeRequestJson(const registry::ConformityRequest& request) {
  Json out = Json::object();
  out["application_id"] = request.application_id;
  out["licensor"] = request.licensor;
  out["applicant"] = applicantJson(request.applicant);
  out["activity"] = request.activity;
  out["data"] = dataJson(request.data_json);
  return dumpJson(out);
}

std::string writeQueryJson(const QueryMessage& query) {
  Json out = Json::object();
  out["query_id"] = query.query_id;
  out["body"] = query.body;
  out["application_id"] = query.request.application_id;
  out["licensor"] = query.request.licensor;
  out["applicant"] = applicantJson(query.request.applicant);
  out["activity"] = query.request.activity;
  out["deadline"] = query.deadline;
  // The data is compact JSON already (readRequestJson, readRequestSoap):
  // spliced in as it is rather than parsed once more for every query.
  std::string text = dumpJson(out);
  text.pop_back();
  text += ",\"data\":";
  text += query.request.data_json.empty() ? std::string_view("{}")
                                          : std::string_view(query.request.data_json);
  text += '}';
  return text;
}

Result<QueryMessage> readQueryJson(std::string_view bytes) {
  auto parsed = readRoot(bytes, "conformity query");
  if (!parsed) {
    return parsed.takeError();
  }
  const Json& root = *parsed;
  LICGATE_RETURN_IF_ERROR(refuseUnknown(root, "", "a conformity query",
                                        {"query_id", "body", "application_id", "licensor",
                                         "applicant", "activity", "deadline", "data"}));
  QueryMessage query;
  LICGATE_RETURN_IF_ERROR(assignTo(query.query_id, requiredText(root, "", "query_id")));
  LICGATE_RETURN_IF_ERROR(assignTo(query.body, requiredText(root, "", "body")));
  LICGATE_RETURN_IF_ERROR(readRequestMembers(root, query.request));
  LICGATE_RETURN_IF_ERROR(assignTo(query.deadline, requiredText(root, "", "deadline")));
  return query;
}

Result<registry::Conclusion> readConclusionJson(std::string_view bytes) {
  auto parsed = readRoot(bytes, "conclusion");
  if (!parsed) {
    return parsed.takeError();
  }
  const Json& root = *parsed;
  LICGATE_RETURN_IF_ERROR(
      refuseUnknown(root, "", "a conclusion",
                    {"query_id", "body", "verdict", "reasons", "signer", "signed_document"}));
  registry::Conclusion conclusion;
  LICGATE_RETURN_IF_ERROR(assignTo(conclusion.query_id, requiredText(root, "", "query_id")));
  LICGATE_RETURN_IF_ERROR(assignTo(conclusion.body, requiredText(root, "", "body")));
  std::string verdict;
  LICGATE_RETURN_IF_ERROR(assignTo(verdict, requiredText(root, "", "verdict")));
  LICGATE_RETURN_IF_ERROR(assignTo(conclusion.verdict, verdictOfText(verdict, "verdict")));
  LICGATE_RETURN_IF_ERROR(assignTo(conclusion.reasons, readReasons(root)));
  LICGATE_RETURN_IF_ERROR(assignTo(conclusion.signer, requiredText(root, "", "signer")));
  LICGATE_RETURN_IF_ERROR(
      assignTo(conclusion.signed_document, optionalText(root, "", "signed_document")));
  return conclusion;
}

std::string writeConclusionJson(const registry::Conclusion& conclusion) {
  Json out = Json::object();
  out["query_id"] = conclusion.query_id;
  out["body"] = conclusion.body;
  out["verdict"] = std::string(registry::verdictName(conclusion.verdict));
  out["reasons"] = reasonsJson(conclusion.reasons);
  out["signer"] = conclusion.signer;
  if (!conclusion.signed_document.empty()) {
    out["signed_document"] = conclusion.signed_document;
  }
  return dumpJson(out);
}

std::string queryIdFor(std::string_view application_id, std::string_view body) {
  CanonicalForm form("conformity-query/1");
  form.add(application_id);
  form.add(body);
  return "cq-" + form.fingerprint().substr(0, 24);
}

std::string conclusionFingerprint(const registry::Conclusion& conclusion) {
  CanonicalForm form("licgate-conclusion-1");
  form.add(conclusion.query_id).add(conclusion.body).add(registry::verdictName(conclusion.verdict));
  form.add(std::to_string(conclusion.reasons.size()));
  for (const std::string& reason : conclusion.reasons) {
    form.add(reason);
  }
  form.add(conclusion.signer).add(conclusion.signed_document);
  return form.fingerprint();
}

std::string requestFingerprint(const registry::ConformityRequest& request) {
  CanonicalForm form("licgate-conformity-request-1");
  form.add(request.application_id).add(request.licensor);
  form.add(request.applicant.iin_bin).add(request.applicant.name).add(request.activity);
  form.add(canonicalData(request.data_json));
  return form.fingerprint();
}

std::string writeOutcomeJson(const registry::ConformityOutcome& outcome, int utc_offset_minutes) {
  Json out = Json::object();
  out["application_id"] = outcome.application_id;
  out["licensor"] = outcome.licensor;
  out["outcome"] = std::string(registry::roundOutcomeName(outcome.outcome));
  out["decided_at"] = formatLocalTime(outcome.decided_ms, utc_offset_minutes);
  out["conclusions"] = Json::array();
  for (const registry::QueryView& query : outcome.queries) {
    out["conclusions"].push_back(conclusionStateJson(query));
  }
  return dumpJson(out);
}

std::string formatLastDay(std::int64_t deadline_ms, int utc_offset_minutes) {
  return formatLocalTime(deadline_ms - 1, utc_offset_minutes).substr(0, 10);
}

void appendQueryJson(std::string& out, const registry::QueryView& query, int working_days_left,
                     int utc_offset_minutes) {
  Json view = Json::object();
  view["query_id"] = query.query_id;
  view["application_id"] = query.application_id;
  view["licensor"] = query.licensor;
  view["body"] = query.body;
  view["state"] = std::string(registry::queryStateName(query.state));
  view["attempts"] = query.attempts;
  if (query.next_attempt_ms != 0) {
    view["next_attempt"] = formatLocalTime(query.next_attempt_ms, utc_offset_minutes);
  }
  view["deadline"] = formatLocalTime(query.deadline_ms, utc_offset_minutes);
  view["last_day"] = formatLastDay(query.deadline_ms, utc_offset_minutes);
  if (working_days_left >= 0) {
    view["working_days_left"] = working_days_left;
  }
  if (!query.last_error.empty()) {
    view["last_error"] = query.last_error;
  }
  if (query.verdict) {
    view["verdict"] = std::string(registry::verdictName(*query.verdict));
  }
  view["tacit"] = query.tacit;
  view["reasons"] = reasonsJson(query.reasons);
  if (!query.signer.empty()) {
    view["signer"] = query.signer;
  }
  if (query.concluded_ms != 0) {
    view["concluded_at"] = formatLocalTime(query.concluded_ms, utc_offset_minutes);
  }
  if (query.late_verdict) {
    view["late_verdict"] = std::string(registry::verdictName(*query.late_verdict));
    view["late_reasons"] = reasonsJson(query.late_reasons);
    if (!query.late_signer.empty()) {
      view["late_signer"] = query.late_signer;
    }
    view["late_at"] = formatLocalTime(query.late_ms, utc_offset_minutes);
  }
  out += dumpJson(view);
}

namespace conformity_detail {

Result<registry::Verdict> verdictOfText(std::string_view text, std::string_view where) {
  auto verdict = registry::verdictFromName(text);
  if (!verdict) {
    return invalid(where, "\"" + std::string(text) + "\" is not conforms or does-not-conform");
  }
  return *verdict;
}

Result<std::string> compactDataJson(std::string_view text, std::string_view where) {
  auto parsed = parseStrictJson(text, where);
  if (!parsed) {
    // A repeated key is already named under `where`; text that is not JSON
    // is the parameter's fault, not the envelope's.
    if (parsed.error().code == ErrorCode::kInvalidField) {
      return parsed.takeError();
    }
    return invalid(where, parsed.error().message);
  }
  if (!parsed->is_object()) {
    return invalid(where, "is not a JSON object");
  }
  return dumpJson(*parsed);
}

}  // namespace conformity_detail

}  // namespace licgate::mapping
