// The conformity flow's messages on the wire (docs/conformity.md, "Wire
// formats"): JSON for AMQP, elements of licgate's SOAP namespace for SOAP.
//
// Readers are strict, as for licence events: unknown or repeated members
// are refused, every required member must be there with the right type,
// and each error names the member ("applicant.iin_bin: is required",
// "applicant.iin_bin: is not a string", "data.site: is given twice" for a
// key repeated at any depth). They check the form only;
// registry::checkRequest and checkConclusion check the values. Nothing
// here blocks or does I/O; writers never fail (text that is not UTF-8, which
// no reader lets in, is written as U+FFFD).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <pugixml.hpp>

#include "mapping/soap.hpp"
#include "registry/conformity.hpp"
#include "registry/result.hpp"

namespace licgate::mapping {

// A query as a body receives it.
struct QueryMessage {
  std::string query_id;
  std::string body;
  std::string deadline;  // xsd:dateTime in the register's time zone
  registry::ConformityRequest request;
};

// The time `ms` (since the epoch) as xsd:dateTime with the offset
// `utc_offset_minutes`, to the second: "2026-12-18T00:00:00+05:00".
std::string formatLocalTime(std::int64_t ms, int utc_offset_minutes);
// The local day a deadline's last moment falls on ("2026-12-21" for a
// deadline at "2026-12-22T00:00:00+05:00"): the last day on which a
// conclusion is on time, which the instant alone makes easy to misread.
std::string formatLastDay(std::int64_t deadline_ms, int utc_offset_minutes);

// --- JSON (UTF-8, as AMQP bodies) ---

// {"application_id", "licensor", "applicant": {"iin_bin", "name"},
//  "activity", "data" (an object, optional: "{}")}. Errors: kMalformed (not
// JSON, with line and column), kInvalidField naming the member.
registry::Result<registry::ConformityRequest> readRequestJson(std::string_view bytes);
std::string writeRequestJson(const registry::ConformityRequest& request);

// {"query_id", "body", "application_id", "licensor", "applicant",
//  "activity", "deadline", "data"}.
std::string writeQueryJson(const QueryMessage& query);
registry::Result<QueryMessage> readQueryJson(std::string_view bytes);

// {"query_id", "body", "verdict", "reasons" (a list of strings, optional),
//  "signer", "signed_document" (optional)}.
registry::Result<registry::Conclusion> readConclusionJson(std::string_view bytes);
std::string writeConclusionJson(const registry::Conclusion& conclusion);

// A fingerprint of a conclusion's content (the hex SHA-256 of its canonical
// form), so that the same conclusion sent again is told from another one.
std::string conclusionFingerprint(const registry::Conclusion& conclusion);
// The same for a request: same application, licensor, applicant, activity
// and data (the data compared as parsed JSON, so key order and white space
// do not matter).
std::string requestFingerprint(const registry::ConformityRequest& request);

// The id of the query of `application_id` to `body`: "cq-" and 24 hex
// digits of a digest of both, so that a request sent again (after a crash,
// by another licgate process) makes the same ids, and an id says nothing
// of the application it is about to whoever reads it on the way.
std::string queryIdFor(std::string_view application_id, std::string_view body);

// {"application_id", "licensor", "outcome", "decided_at", "conclusions":
//  [{"query_id", "body", "state", "verdict" (absent when none), "tacit",
//  "reasons", "signer", "late"}]}.
std::string writeOutcomeJson(const registry::ConformityOutcome& outcome, int utc_offset_minutes);

// One query as the HTTP API shows it: every QueryView field, times as
// xsd:dateTime, and "working_days_left" when `working_days_left` >= 0;
// "next_attempt", "last_error", "verdict", "signer", "concluded_at" and
// "late_verdict"/"late_at" only when they have a value. The query's JSON
// object is appended to `out` (a list being written, say).
void appendQueryJson(std::string& out, const registry::QueryView& query, int working_days_left,
                     int utc_offset_minutes);

// --- SOAP (licgate's namespace, kSoapNamespace of mapping/licence_xml.hpp) ---

// RequestConformity: system, applicationId, licensor, applicantIinBin,
// applicantName, activity, dataJson (a JSON object as text, optional).
// Parameters come in any order. kInvalidField naming the operation and
// the parameter: an unknown one, one given twice (`reason` may repeat), one with
// elements of its own, a required one missing, a dataJson that is not a
// JSON object (with line and column when it is not JSON), or an operation
// element other than the reader's in licgate's namespace.
// `system` names the sending licensor system, as SubmitLicenceEvent's does.
struct SoapConformityRequest {
  std::string system;
  registry::ConformityRequest request;
};
registry::Result<SoapConformityRequest> readRequestSoap(const SoapCall& call);
// SubmitConclusion: queryId, body, verdict, reason (repeated, optional),
// signer, signedDocument (optional).
registry::Result<registry::Conclusion> readConclusionSoap(const SoapCall& call);

// An error of the flow's checks, which name the JSON fields ("reasons[0]:
// is empty"), named instead by the SOAP parameters of `operation`
// ("SubmitConclusion: <reason> 1: is empty"); errors that name no field
// unchanged.
registry::Error inSoapTerms(registry::Error error, std::string_view operation);

// The envelope licgate posts to a body's soap_url: a ConformityQuery
// element with queryId, body, applicationId, licensor, applicantIinBin,
// applicantName, activity, deadline, dataJson.
std::string writeQuerySoap(const QueryMessage& query, SoapVersion version);
// What a body's service reads from it (the body simulator).
registry::Result<QueryMessage> readQuerySoap(const SoapCall& call);
// The SubmitConclusion envelope a body posts to licgate (the simulator).
std::string writeConclusionSoap(const registry::Conclusion& conclusion, SoapVersion version);

// The envelope licgate posts to a licensor's outcome URL: a
// ConformityOutcome element with applicationId, licensor, outcome,
// decidedAt and a conclusion element per query (queryId, body, state,
// verdict, tacit, reason*, signer, late).
std::string writeOutcomeSoap(const registry::ConformityOutcome& outcome, int utc_offset_minutes,
                             SoapVersion version);

// The elements of an answer to GetConformity / GetPendingConformity: one
// <query> element per query, appended to `parent`.
void appendQueryXml(pugi::xml_node parent, const registry::QueryView& query, int working_days_left,
                    int utc_offset_minutes);

}  // namespace licgate::mapping
