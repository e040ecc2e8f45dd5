// The conformity check's values (registry/conformity.hpp).
#include "registry/conformity.hpp"

#include <algorithm>
#include <vector>

#include <nlohmann/json.hpp>

#include "registry/identifiers.hpp"
#include "registry/name_table.hpp"
#include "registry/text.hpp"

namespace licgate::registry {

namespace {

Error invalid(std::string_view field, const std::string& what) {
  return makeError(ErrorCode::kInvalidField, std::string(field) + ": " + what);
}

// What keeps a text from being `min`..`max` characters without control
// characters (which would break the logs, lines and documents that carry
// it) and, for ids, without spaces at either end (which would make two ids
// look like one); empty when nothing does.
std::string textProblem(std::string_view value, std::size_t min, std::size_t max, bool trimmed) {
  if (!isValidUtf8(value)) {
    return "\"" + quoteForMessage(value) + "\" is not valid UTF-8";
  }
  const std::size_t length = countCharacters(value);
  if (length < min) {
    return min == 1 ? std::string("is empty")
                    : "is shorter than " + std::to_string(min) + " characters";
  }
  if (length > max) {
    return "is longer than " + std::to_string(max) + " characters (" + std::to_string(length) + ")";
  }
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      return "\"" + quoteForMessage(value) + "\" contains a control character";
    }
  }
  if (findXmlNoncharacter(value)) {
    return "\"" + quoteForMessage(value) + "\" contains U+FFFE or U+FFFF, which XML cannot carry";
  }
  if (trimmed && (value.front() == ' ' || value.back() == ' ')) {
    return "\"" + quoteForMessage(value) + "\" starts or ends with a space";
  }
  return {};
}

Status checkText(std::string_view value, std::string_view field, std::size_t min, std::size_t max,
                 bool trimmed) {
  std::string problem = textProblem(value, min, max, trimmed);
  if (!problem.empty()) {
    return invalid(field, problem);
  }
  return {};
}

constexpr std::size_t kMaxApplicationId = 128;
constexpr std::size_t kMaxBodyId = 128;
constexpr std::size_t kMaxActivity = 64;

// An applicant's number is an IIN (a person) or a BIN (an organisation);
// both are 12 digits and the form alone cannot tell which, so either rule
// will do, and the error names both.
Status checkIinOrBin(std::string_view value) {
  const Status iin = checkIin(value);
  if (iin.ok()) {
    return {};
  }
  const Status bin = checkBin(value);
  if (bin.ok()) {
    return {};
  }
  return invalid("applicant.iin_bin", "\"" + quoteForMessage(value) +
                                          "\" is neither a valid IIN nor a valid BIN (" +
                                          iin.error().message + "; " + bin.error().message + ")");
}

constexpr std::size_t kMaxDataBytes = 64 * 1024;

// JSON readers here and at the bodies refuse a message nested more than 64
// levels deep, and a query carries the data one level below its top: data
// deeper than 63 levels would open a round no body could read.
constexpr std::size_t kMaxDataDepth = 63;

// The deepest nesting of objects and arrays in well-formed JSON text,
// counted without building a tree.
std::size_t nestingDepth(std::string_view json) {
  std::size_t depth = 0;
  std::size_t deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : json) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

// Whether a key or string anywhere in `data` holds U+FFFE or U+FFFF, which
// JSON may also write as \uFFFF escapes; walked without recursion.
bool holdsXmlNoncharacter(const nlohmann::json& data) {
  std::vector<const nlohmann::json*> open{&data};
  while (!open.empty()) {
    const nlohmann::json* value = open.back();
    open.pop_back();
    if (value->is_string() && findXmlNoncharacter(value->get_ref<const std::string&>())) {
      return true;
    }
    if (value->is_object()) {
      for (const auto& [key, member] : value->items()) {
        if (findXmlNoncharacter(key)) {
          return true;
        }
        open.push_back(&member);
      }
    } else if (value->is_array()) {
      for (const auto& element : *value) {
        open.push_back(&element);
      }
    }
  }
  return false;
}

constexpr NameTable<Verdict, 2> kVerdicts{{
    {Verdict::kConforms, "conforms"},
    {Verdict::kDoesNotConform, "does-not-conform"},
}};

constexpr NameTable<QueryState, 6> kStates{{
    {QueryState::kSending, "sending"},
    {QueryState::kSent, "sent"},
    {QueryState::kRetrying, "retrying"},
    {QueryState::kAnswered, "answered"},
    {QueryState::kExpired, "expired"},
    {QueryState::kFailed, "failed"},
}};

constexpr NameTable<RoundOutcome, 3> kOutcomes{{
    {RoundOutcome::kConforms, "conforms"},
    {RoundOutcome::kDoesNotConform, "does-not-conform"},
    {RoundOutcome::kIncomplete, "incomplete"},
}};

}  // namespace

std::string bodyIdProblem(std::string_view id) {
  return textProblem(id, 1, kMaxBodyId, true);
}

std::string activityProblem(std::string_view code) {
  return textProblem(code, 1, kMaxActivity, true);
}

std::string applicationIdProblem(std::string_view id) {
  std::string problem = textProblem(id, 1, kMaxApplicationId, true);
  // The id is a path segment of the HTTP API's reads, where a '/' would
  // split it in two and make the round unreadable, and "." or ".." is
  // taken away by the clients that resolve paths (RFC 3986 section 5.2.4).
  if (problem.empty() && id.find('/') != std::string_view::npos) {
    problem = "\"" + quoteForMessage(id) + "\" contains a '/'";
  } else if (problem.empty() && (id == "." || id == "..")) {
    problem = "\"" + std::string(id) + "\" is not an id a URL path can hold";
  }
  return problem;
}

Status checkRequest(const ConformityRequest& request) {
  if (std::string problem = applicationIdProblem(request.application_id); !problem.empty()) {
    return invalid("application_id", problem);
  }
  if (auto s = checkText(request.licensor, "licensor", 1, 64, true); !s.ok()) {
    return s;
  }
  if (auto s = checkIinOrBin(request.applicant.iin_bin); !s.ok()) {
    return s;
  }
  if (auto s = checkText(request.applicant.name, "applicant.name", 1, 1000, false); !s.ok()) {
    return s;
  }
  if (auto s = checkText(request.activity, "activity", 1, kMaxActivity, true); !s.ok()) {
    return s;
  }
  if (request.data_json.size() > kMaxDataBytes) {
    return invalid("data", "is " + std::to_string(request.data_json.size()) +
                               " bytes, over the limit of " + std::to_string(kMaxDataBytes));
  }
  if (nestingDepth(request.data_json) > kMaxDataDepth) {
    return invalid("data", "is nested more than " + std::to_string(kMaxDataDepth) +
                               " levels deep (a query carries it one level down)");
  }
  const auto data = nlohmann::json::parse(request.data_json, nullptr, false);
  if (data.is_discarded() || !data.is_object()) {
    return invalid("data", "is not a JSON object");
  }
  if (holdsXmlNoncharacter(data)) {
    return invalid("data",
                   "holds U+FFFE or U+FFFF, which XML cannot carry (a query to a SOAP "
                   "body is XML)");
  }
  return {};
}

Status checkConclusion(const Conclusion& conclusion) {
  if (auto s = checkText(conclusion.query_id, "query_id", 1, 128, true); !s.ok()) {
    return s;
  }
  if (auto s = checkText(conclusion.body, "body", 1, kMaxBodyId, true); !s.ok()) {
    return s;
  }
  if (conclusion.reasons.size() > 100) {
    return invalid("reasons", "has " + std::to_string(conclusion.reasons.size()) +
                                  " reasons, over the limit of 100");
  }
  for (std::size_t i = 0; i < conclusion.reasons.size(); ++i) {
    const std::string field = "reasons[" + std::to_string(i) + "]";
    if (auto s = checkText(conclusion.reasons[i], field, 1, 4000, false); !s.ok()) {
      return s;
    }
  }
  if (auto s = checkText(conclusion.signer, "signer", 1, 1000, false); !s.ok()) {
    return s;
  }
  if (conclusion.signed_document.size() > (1U << 20)) {
    return invalid("signed_document", "is " + std::to_string(conclusion.signed_document.size()) +
                                          " bytes, over the limit of 1048576");
  }
  if (!isValidUtf8(conclusion.signed_document)) {
    return invalid("signed_document", "is not valid UTF-8 (send a signed document as base64)");
  }
  return {};
}

std::string_view verdictName(Verdict verdict) {
  return nameOf(kVerdicts, verdict);
}

std::optional<Verdict> verdictFromName(std::string_view name) {
  auto found = parseName(kVerdicts, name, "");
  return found.ok() ? std::optional(*found) : std::nullopt;
}

std::string_view queryStateName(QueryState state) {
  return nameOf(kStates, state);
}

std::optional<QueryState> queryStateFromName(std::string_view name) {
  auto found = parseName(kStates, name, "");
  return found.ok() ? std::optional(*found) : std::nullopt;
}

bool isFinal(QueryState state) {
  return state == QueryState::kAnswered || state == QueryState::kExpired ||
         state == QueryState::kFailed;
}

std::string_view roundOutcomeName(RoundOutcome outcome) {
  return nameOf(kOutcomes, outcome);
}

std::optional<RoundOutcome> roundOutcomeFromName(std::string_view name) {
  auto found = parseName(kOutcomes, name, "");
  return found.ok() ? std::optional(*found) : std::nullopt;
}

RoundOutcome decideOutcome(const std::vector<QueryView>& queries) {
  bool without_verdict = false;
  for (const auto& query : queries) {
    if (query.verdict == Verdict::kDoesNotConform) {
      return RoundOutcome::kDoesNotConform;
    }
    without_verdict = without_verdict || !query.verdict.has_value();
  }
  return without_verdict ? RoundOutcome::kIncomplete : RoundOutcome::kConforms;
}

}  // namespace licgate::registry
