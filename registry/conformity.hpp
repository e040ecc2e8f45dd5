// The conformity check of an application (docs/conformity.md): what a
// licensor system asks, what an interested body answers, the states of a
// query and how the outcome of a round is decided. Plain values; Redis
// (adapters/redis/conformity_tracker.hpp) tracks them in flight and the
// store keeps each decided outcome.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "registry/result.hpp"

namespace licgate::registry {

struct Applicant {
  std::string iin_bin;  // 12 digits, an IIN or a BIN with a valid check digit
  std::string name;
};

// A licensor system's request for the conformity check of an application.
struct ConformityRequest {
  std::string application_id;
  std::string licensor;
  Applicant applicant;
  std::string activity;
  std::string data_json;  // a JSON object, passed on to the bodies as it is; "{}" when none
};

// Checks the request's own fields: the application id (1..128 characters,
// printable, no spaces at either end), the licensor and activity codes
// (1..64), the applicant's IIN/BIN (registry/identifiers.hpp) and name
// (1..1000), the data (a JSON object of at most 64 KiB). kInvalidField
// naming the field and the value. Whether the licensor and activity are
// configured is the flow's to check.
Status checkRequest(const ConformityRequest& request);

// What is wrong with a body id or an activity code by the rules requests
// and conclusions are checked with ("is longer than 128 characters (200)",
// "\" 05.1\" starts or ends with a space"); empty when nothing is. The
// configuration checks its bodies and activities with them, so that it
// lists none that no conclusion or request could name.
std::string bodyIdProblem(std::string_view id);
std::string activityProblem(std::string_view code);
// The same for an application id (1..128 characters, no '/'); the reads
// check theirs with it, so that an id no request could have named is
// refused as such rather than reported as a round that does not exist.
std::string applicationIdProblem(std::string_view id);

enum class Verdict : std::uint8_t { kConforms, kDoesNotConform };

std::string_view verdictName(Verdict verdict);  // "conforms", "does-not-conform"
std::optional<Verdict> verdictFromName(std::string_view name);

// An interested body's answer to a query.
struct Conclusion {
  std::string query_id;
  std::string body;
  Verdict verdict = Verdict::kConforms;
  std::vector<std::string> reasons;
  std::string signer;
  std::string signed_document;  // as the body sent it (base64 of a signed document, say)
};

// Checks a conclusion's fields: the query id and body (1..128), at most 100
// reasons of 1..4000 characters, the signer (1..1000), the signed document
// (at most 1 MiB, may be empty). kInvalidField naming the field.
Status checkConclusion(const Conclusion& conclusion);

enum class QueryState : std::uint8_t {
  kSending,   // opened; the first send is due or under way
  kSent,      // the body's channel accepted it; waiting for the conclusion
  kRetrying,  // a send failed in a way that may pass; another is due
  kAnswered,  // the body's conclusion is recorded
  kExpired,   // the deadline passed after delivery without a conclusion
  kFailed,    // never delivered: refused, out of attempts, or at the deadline
};

std::string_view queryStateName(QueryState state);  // "sending", "sent", ...
std::optional<QueryState> queryStateFromName(std::string_view name);
bool isFinal(QueryState state);  // answered, expired, failed

// The reason recorded for a tacit consent.
inline constexpr std::string_view kTacitConsentReason =
    "tacit consent: no conclusion by the deadline";

// One query of a round as it stands.
struct QueryView {
  std::string query_id;
  std::string application_id;
  std::string licensor;
  std::string body;
  QueryState state = QueryState::kSending;
  int attempts = 0;                  // sends so far
  std::int64_t next_attempt_ms = 0;  // when the next send is due; 0 when none is
  std::int64_t deadline_ms = 0;
  std::string last_error;
  // The conclusion, or the tacit consent (verdict conforms, tacit true,
  // reasons {kTacitConsentReason}), once there is one.
  std::optional<Verdict> verdict;
  bool tacit = false;
  std::vector<std::string> reasons;
  std::string signer;
  std::int64_t concluded_ms = 0;  // when the conclusion (or the deadline) decided it
  // A conclusion that came after the deadline had decided the query: kept
  // beside what was decided, never in its place.
  std::optional<Verdict> late_verdict;
  std::vector<std::string> late_reasons;
  std::string late_signer;
  std::int64_t late_ms = 0;
};

enum class RoundOutcome : std::uint8_t { kConforms, kDoesNotConform, kIncomplete };

std::string_view roundOutcomeName(
    RoundOutcome outcome);  // "conforms", "does-not-conform", "incomplete"
std::optional<RoundOutcome> roundOutcomeFromName(std::string_view name);

// The outcome of a round whose queries are all final: does-not-conform when
// some verdict says so, else incomplete when some query has no verdict
// (expired without consent, failed), else conforms.
RoundOutcome decideOutcome(const std::vector<QueryView>& queries);

// A decided round, as the store keeps it with the application.
// A conclusion that came after its query was decided (expired or failed),
// for the register's copy of an outcome given already.
struct LateConclusion {
  std::string application_id;
  std::string query_id;
  Verdict verdict = Verdict::kConforms;
  std::vector<std::string> reasons;
  std::string signer;
  std::int64_t late_ms = 0;
};

struct ConformityOutcome {
  std::string application_id;
  std::string licensor;
  std::string activity;
  std::string applicant_iin_bin;
  std::string applicant_name;
  // The request's fingerprint, so that the same request sent again after
  // Redis forgot the round is still told from another one.
  std::string request_fingerprint;
  RoundOutcome outcome = RoundOutcome::kConforms;
  std::int64_t decided_ms = 0;
  std::vector<QueryView> queries;
};

}  // namespace licgate::registry
