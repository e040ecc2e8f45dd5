// The conformity flow's wire formats: JSON and SOAP readers that refuse
// what is not the documented shape and name the member, writers whose
// output reads back and validates against mapping/schema/licgate-soap.xsd,
// fingerprints that see content and not layout, and local times.
#include "mapping/conformity.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "mapping/licence_xml.hpp"
#include "test/mapping/xmllint.hpp"

namespace licgate::mapping {
namespace {

using registry::ErrorCode;
using registry::QueryState;
using registry::Verdict;

constexpr int kAlmaty = 300;                         // UTC+05:00
constexpr std::int64_t kDeadlineMs = 1797534000000;  // 2026-12-17T19:00:00Z
constexpr std::int64_t kDecidedMs = 1796794867000;   // 2026-12-09T05:41:07Z
constexpr std::int64_t kSentMs = 1796704200000;      // 2026-12-08T04:30:00Z

const std::string kRequestJson =
    R"({"application_id": "KZ-APP-2026-000123", "licensor": "CZ-ERU",
 "applicant": {"iin_bin": "050540004455", "name": "Alem Energy LLP"},
 "activity": "05.1", "data": {"site": "Almaty, Seifullin 12", "floors": [1, 2]}})";

registry::ConformityRequest sampleRequest() {
  return {"KZ-APP-2026-000123",
          "CZ-ERU",
          {"050540004455", "Alem Energy LLP"},
          "05.1",
          R"({"site":"Almaty, Seifullin 12","floors":[1,2]})"};
}

registry::Conclusion sampleConclusion() {
  return {"cq-3f0c00000000000000000001", "sanitary",
          Verdict::kDoesNotConform,      {"no ventilation in room 4", "fire exit blocked"},
          "Inspector A. Seitkali",       "MIIBdGVzdA=="};
}

QueryMessage sampleQuery() {
  return {"cq-3f0c00000000000000000001", "sanitary", "2026-12-18T00:00:00+05:00", sampleRequest()};
}

// An answered query with every field set.
registry::QueryView answeredQuery() {
  registry::QueryView query;
  query.query_id = "cq-3f0c00000000000000000001";
  query.application_id = "KZ-APP-2026-000123";
  query.licensor = "CZ-ERU";
  query.body = "sanitary";
  query.state = QueryState::kAnswered;
  query.attempts = 2;
  query.next_attempt_ms = kSentMs;
  query.deadline_ms = kDeadlineMs;
  query.last_error = "amqp:resource-limit-exceeded";
  query.verdict = Verdict::kConforms;
  query.reasons = {"premises inspected 2026-12-08"};
  query.signer = "Inspector A. Seitkali";
  query.concluded_ms = kDecidedMs;
  query.late_verdict = Verdict::kDoesNotConform;
  query.late_reasons = {"fire exits blocked"};
  query.late_signer = "Inspector B. Omarov";
  query.late_ms = kDeadlineMs + 1000;
  return query;
}

// A query just opened: nothing decided, nothing due.
registry::QueryView openQuery() {
  registry::QueryView query;
  query.query_id = "cq-91aa00000000000000000002";
  query.application_id = "KZ-APP-2026-000123";
  query.licensor = "CZ-ERU";
  query.body = "fire";
  query.state = QueryState::kSending;
  query.deadline_ms = kDeadlineMs;
  return query;
}

registry::ConformityOutcome sampleOutcome() {
  registry::QueryView tacit = openQuery();
  tacit.state = QueryState::kExpired;
  tacit.verdict = Verdict::kConforms;
  tacit.tacit = true;
  tacit.reasons = {std::string(registry::kTacitConsentReason)};
  registry::QueryView answered = answeredQuery();
  answered.late_verdict.reset();
  return {"KZ-APP-2026-000123",
          "CZ-ERU",
          "05.1",
          "050540004455",
          "Alem Energy LLP",
          "fingerprint-1",
          registry::RoundOutcome::kConforms,
          kDecidedMs,
          {answered, tacit}};
}

std::string envelope(const std::string& operation) {
  return "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>" + operation +
         "</s:Body></s:Envelope>";
}

SoapCall soapCall(const std::string& operation) {
  auto call = readSoapCall(envelope(operation), "text/xml; charset=utf-8");
  EXPECT_TRUE(call.ok()) << call.error().message;
  return call.ok() ? *call : SoapCall{};
}

SoapCall callOf(const std::string& written_envelope, SoapVersion version) {
  auto call = readSoapCall(written_envelope, soapContentType(version));
  EXPECT_TRUE(call.ok()) << call.error().message;
  return call.ok() ? *call : SoapCall{};
}

// The element in an envelope's Body on its own (it declares its namespace
// itself), for xmllint.
std::string bodyElement(const std::string& written_envelope) {
  pugi::xml_document document;
  if (!document.load_string(written_envelope.c_str())) {
    return "<not-xml/>";
  }
  std::ostringstream out;
  document.document_element().first_child().first_child().print(out, "", pugi::format_raw);
  return out.str();
}

void expectSameRequest(const registry::ConformityRequest& got,
                       const registry::ConformityRequest& want) {
  EXPECT_EQ(got.application_id, want.application_id);
  EXPECT_EQ(got.licensor, want.licensor);
  EXPECT_EQ(got.applicant.iin_bin, want.applicant.iin_bin);
  EXPECT_EQ(got.applicant.name, want.applicant.name);
  EXPECT_EQ(got.activity, want.activity);
  EXPECT_EQ(got.data_json, want.data_json);
}

void expectSameConclusion(const registry::Conclusion& got, const registry::Conclusion& want) {
  EXPECT_EQ(got.query_id, want.query_id);
  EXPECT_EQ(got.body, want.body);
  EXPECT_EQ(got.verdict, want.verdict);
  EXPECT_EQ(got.reasons, want.reasons);
  EXPECT_EQ(got.signer, want.signer);
  EXPECT_EQ(got.signed_document, want.signed_document);
}

struct Refusal {
  std::string input;
  ErrorCode code;
  std::string message;
};

// --- times ---

TEST(ConformityTime, FormatsKnownInstants) {
  struct Case {
    std::int64_t ms;
    int offset;
    std::string text;
  };
  const std::vector<Case> cases{
      {kDeadlineMs, kAlmaty, "2026-12-18T00:00:00+05:00"},
      {kDeadlineMs, 0, "2026-12-17T19:00:00+00:00"},
      {kDeadlineMs, -150, "2026-12-17T16:30:00-02:30"},
      {kDeadlineMs + 999, kAlmaty, "2026-12-18T00:00:00+05:00"},
      {0, 0, "1970-01-01T00:00:00+00:00"},
      {-1, 0, "1969-12-31T23:59:59+00:00"},
      {0, -60, "1969-12-31T23:00:00-01:00"},
      {1709208000000, 720, "2024-03-01T00:00:00+12:00"},
      {1709208000000, -720, "2024-02-29T00:00:00-12:00"},
      {951868800000, 0, "2000-03-01T00:00:00+00:00"},
  };

  for (const Case& c : cases) {
    EXPECT_EQ(formatLocalTime(c.ms, c.offset), c.text) << c.ms << " " << c.offset;
  }
}

// --- JSON: requests ---

TEST(ConformityJson, ReadsTheDocumentedRequest) {
  auto request = readRequestJson(kRequestJson);

  ASSERT_TRUE(request.ok()) << request.error().message;
  expectSameRequest(*request, sampleRequest());
}

TEST(ConformityJson, RequestWithoutDataHasAnEmptyObject) {
  auto request = readRequestJson(
      R"({"application_id":"A-1","licensor":"L","applicant":{"iin_bin":"050540004455",)"
      R"("name":"N"},"activity":"05.1"})");

  ASSERT_TRUE(request.ok()) << request.error().message;
  EXPECT_EQ(request->data_json, "{}");
}

TEST(ConformityJson, WritesARequestCompactlyAndReadsItBack) {
  registry::ConformityRequest request = sampleRequest();
  request.applicant.name = "ТОО «Алем Энерджи» \"quoted\"";

  std::string written = writeRequestJson(request);
  auto read = readRequestJson(written);

  EXPECT_EQ(written, R"({"application_id":"KZ-APP-2026-000123","licensor":"CZ-ERU","applicant":)"
                     R"({"iin_bin":"050540004455","name":"ТОО «Алем Энерджи» \"quoted\""},)"
                     R"("activity":"05.1","data":{"site":"Almaty, Seifullin 12","floors":[1,2]}})");
  ASSERT_TRUE(read.ok()) << read.error().message;
  expectSameRequest(*read, request);
}

TEST(ConformityJson, RefusesRequestsThatAreNotTheDocumentedShape) {
  const std::string applicant = R"("applicant":{"iin_bin":"050540004455","name":"N"})";
  const std::string rest = R"("licensor":"L",)" + applicant + R"(,"activity":"05.1")";
  const std::vector<Refusal> cases{
      {"[1, 2]", ErrorCode::kMalformed, "conformity request: is not a JSON object"},
      {R"({"application_id":"A",)" + rest + R"(,"colour":"red"})", ErrorCode::kInvalidField,
       "colour: is not a member of a conformity request (its members: application_id, licensor, "
       "applicant, activity, data)"},
      {R"({"application_id":"A","licensor":"L","applicant":{"iin_bin":"050540004455",)"
       R"("name":"N","phone":"1"},"activity":"05.1"})",
       ErrorCode::kInvalidField,
       "applicant.phone: is not a member of an applicant (its members: iin_bin, name)"},
      {"{" + rest + "}", ErrorCode::kInvalidField, "application_id: is required"},
      {R"({"application_id":7,)" + rest + "}", ErrorCode::kInvalidField,
       "application_id: is not a string"},
      {R"({"application_id":"A","licensor":"L","applicant":{"name":"N"},"activity":"1"})",
       ErrorCode::kInvalidField, "applicant.iin_bin: is required"},
      {R"({"application_id":"A","licensor":"L","applicant":{"iin_bin":50540004455,"name":"N"},)"
       R"("activity":"1"})",
       ErrorCode::kInvalidField, "applicant.iin_bin: is not a string"},
      {R"({"application_id":"A","licensor":"L","applicant":"N","activity":"1"})",
       ErrorCode::kInvalidField, "applicant: is not an object"},
      {R"({"application_id":"A",)" + rest + R"(,"licensor":"M"})", ErrorCode::kInvalidField,
       "licensor: is given twice"},
      {R"({"application_id":"A","licensor":"L","applicant":{"iin_bin":"050540004455",)"
       R"("name":"N","name":"M"},"activity":"05.1"})",
       ErrorCode::kInvalidField, "applicant.name: is given twice"},
      {R"({"application_id":"A",)" + rest + R"(,"data":{"site":"a","site":"b"}})",
       ErrorCode::kInvalidField, "data.site: is given twice"},
      {R"({"application_id":"A",)" + rest + R"(,"data":{"rooms":[{"n":1},{"n":2,"n":3}]}})",
       ErrorCode::kInvalidField, "data.rooms[1].n: is given twice"},
      {R"({"application_id":"A",)" + rest + R"(,"data":"site"})", ErrorCode::kInvalidField,
       "data: is not an object"},
      {R"({"application_id":"A",)" + rest + R"(,"data":{"rooms":[1,1e400]}})",
       ErrorCode::kInvalidField,
       "data.rooms[1]: is a number no double holds (number overflow parsing '1e400')"},
  };

  for (const Refusal& c : cases) {
    auto request = readRequestJson(c.input);

    ASSERT_FALSE(request.ok()) << c.input;
    EXPECT_EQ(request.error().code, c.code) << c.input;
    EXPECT_EQ(request.error().message, c.message) << c.input;
  }
}

TEST(ConformityJson, MalformedJsonIsPlacedByLineAndColumn) {
  auto request = readRequestJson("{\n  \"application_id\": \"A\",\n  \"licensor\": }");

  ASSERT_FALSE(request.ok());
  EXPECT_EQ(request.error().code, ErrorCode::kMalformed);
  EXPECT_EQ(request.error().message.rfind("conformity request: not valid JSON: ", 0), 0u)
      << request.error().message;
  EXPECT_NE(request.error().message.find("line 3, column 15"), std::string::npos)
      << request.error().message;
}

// Data nested without bound would overflow the stack of whatever later
// writes or compares it; 64 levels are taken, 65 are not.
TEST(ConformityJson, RefusesDataNestedTooDeep) {
  const std::string head =
      R"({"application_id":"A","licensor":"L","applicant":{"iin_bin":"050540004455",)"
      R"("name":"N"},"activity":"05.1","data":{"a":)";
  auto nested = [&](int arrays) {
    return head + std::string(arrays, '[') + std::string(arrays, ']') + "}}";
  };

  // The first container too deep: the 63rd array.
  std::string path = "data.a";
  for (int level = 0; level < 62; ++level) {
    path += "[0]";
  }

  auto deepest = readRequestJson(nested(62));
  auto too_deep = readRequestJson(nested(63));
  auto hostile = readRequestJson(head + std::string(1'000'000, '['));

  ASSERT_TRUE(deepest.ok()) << deepest.error().message;
  ASSERT_FALSE(too_deep.ok());
  EXPECT_EQ(too_deep.error().message,
            path + ": is nested more than 64 levels deep, counting from the top of the document");
  ASSERT_FALSE(hostile.ok());
  EXPECT_EQ(hostile.error().code, ErrorCode::kInvalidField);
}

TEST(ConformityJson, RefusesTextThatIsNotUtf8) {
  auto request = readRequestJson("{\"application_id\": \"\xff\"}");

  ASSERT_FALSE(request.ok());
  EXPECT_EQ(request.error().code, ErrorCode::kMalformed);
}

// --- JSON: queries ---

TEST(ConformityJson, WritesAQueryAndReadsItBack) {
  std::string written = writeQueryJson(sampleQuery());
  auto read = readQueryJson(written);

  EXPECT_EQ(written, R"({"query_id":"cq-3f0c00000000000000000001","body":"sanitary",)"
                     R"("application_id":"KZ-APP-2026-000123","licensor":"CZ-ERU",)"
                     R"("applicant":{"iin_bin":"050540004455","name":"Alem Energy LLP"},)"
                     R"("activity":"05.1","deadline":"2026-12-18T00:00:00+05:00",)"
                     R"("data":{"site":"Almaty, Seifullin 12","floors":[1,2]}})");
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(read->query_id, "cq-3f0c00000000000000000001");
  EXPECT_EQ(read->body, "sanitary");
  EXPECT_EQ(read->deadline, "2026-12-18T00:00:00+05:00");
  expectSameRequest(read->request, sampleRequest());
}

TEST(ConformityJson, RefusesAQueryWithoutItsDeadline) {
  std::string written = writeQueryJson(sampleQuery());
  std::string without =
      written.replace(written.find(R"("deadline":)"),
                      std::string(R"("deadline":"2026-12-18T00:00:00+05:00",)").size(), "");

  auto read = readQueryJson(without);

  ASSERT_FALSE(read.ok()) << without;
  EXPECT_EQ(read.error().message, "deadline: is required");
}

// --- JSON: conclusions ---

TEST(ConformityJson, ReadsTheDocumentedConclusion) {
  auto conclusion = readConclusionJson(
      R"({"query_id": "cq-3f0c", "body": "sanitary", "verdict": "conforms",
 "reasons": ["premises inspected 2026-12-08"], "signer": "Inspector A. Seitkali",
 "signed_document": "MIIB..."})");

  ASSERT_TRUE(conclusion.ok()) << conclusion.error().message;
  expectSameConclusion(*conclusion, {"cq-3f0c",
                                     "sanitary",
                                     Verdict::kConforms,
                                     {"premises inspected 2026-12-08"},
                                     "Inspector A. Seitkali",
                                     "MIIB..."});
}

TEST(ConformityJson, ReasonsAndSignedDocumentMayBeLeftOut) {
  auto conclusion = readConclusionJson(
      R"({"query_id":"q","body":"fire","verdict":"does-not-conform","signer":"S"})");

  ASSERT_TRUE(conclusion.ok()) << conclusion.error().message;
  EXPECT_EQ(conclusion->verdict, Verdict::kDoesNotConform);
  EXPECT_TRUE(conclusion->reasons.empty());
  EXPECT_EQ(conclusion->signed_document, "");
}

TEST(ConformityJson, WritesAConclusionAndReadsItBack) {
  std::string written = writeConclusionJson(sampleConclusion());
  auto read = readConclusionJson(written);

  EXPECT_EQ(written, R"({"query_id":"cq-3f0c00000000000000000001","body":"sanitary",)"
                     R"("verdict":"does-not-conform","reasons":["no ventilation in room 4",)"
                     R"("fire exit blocked"],"signer":"Inspector A. Seitkali",)"
                     R"("signed_document":"MIIBdGVzdA=="})");
  ASSERT_TRUE(read.ok()) << read.error().message;
  expectSameConclusion(*read, sampleConclusion());
}

TEST(ConformityJson, RefusesConclusionsThatAreNotTheDocumentedShape) {
  const std::string head = R"({"query_id":"q","body":"fire",)";
  const std::vector<Refusal> cases{
      {"\"conforms\"", ErrorCode::kMalformed, "conclusion: is not a JSON object"},
      {head + R"("verdict":"maybe","signer":"S"})", ErrorCode::kInvalidField,
       "verdict: \"maybe\" is not conforms or does-not-conform"},
      {head + R"("verdict":true,"signer":"S"})", ErrorCode::kInvalidField,
       "verdict: is not a string"},
      {head + R"("verdict":"conforms"})", ErrorCode::kInvalidField, "signer: is required"},
      {head + R"("verdict":"conforms","signer":"S","reasons":"none"})", ErrorCode::kInvalidField,
       "reasons: is not an array"},
      {head + R"("verdict":"conforms","signer":"S","reasons":["a",2]})", ErrorCode::kInvalidField,
       "reasons[1]: is not a string"},
      {head + R"("verdict":"conforms","signer":"S","signed_document":null})",
       ErrorCode::kInvalidField, "signed_document: is not a string"},
      {head + R"("verdict":"conforms","signer":"S","signature":"x"})", ErrorCode::kInvalidField,
       "signature: is not a member of a conclusion (its members: query_id, body, verdict, reasons, "
       "signer, signed_document)"},
      {head + R"("verdict":"conforms","signer":"S","body":"fire"})", ErrorCode::kInvalidField,
       "body: is given twice"},
  };

  for (const Refusal& c : cases) {
    auto conclusion = readConclusionJson(c.input);

    ASSERT_FALSE(conclusion.ok()) << c.input;
    EXPECT_EQ(conclusion.error().code, c.code) << c.input;
    EXPECT_EQ(conclusion.error().message, c.message) << c.input;
  }
}

// --- fingerprints ---

bool isHexSha256(const std::string& text) {
  return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

TEST(ConformityFingerprint, RequestDataComparesAsParsedJson) {
  registry::ConformityRequest reordered = sampleRequest();
  reordered.data_json = "{ \"floors\" : [ 1, 2 ],\n  \"site\": \"Almaty, Seifullin 12\" }";

  EXPECT_TRUE(isHexSha256(requestFingerprint(sampleRequest())));
  EXPECT_EQ(requestFingerprint(reordered), requestFingerprint(sampleRequest()));
}

TEST(ConformityFingerprint, RequestChangesWithItsContent) {
  const std::string original = requestFingerprint(sampleRequest());
  std::vector<registry::ConformityRequest> changed(6, sampleRequest());
  changed[0].application_id += "4";
  changed[1].licensor = "KZ-MIIR";
  changed[2].applicant.iin_bin = "050540004456";
  changed[3].applicant.name = "Alem Energy";
  changed[4].activity = "05.2";
  changed[5].data_json = R"({"site":"Almaty, Seifullin 12","floors":[2,1]})";

  for (const registry::ConformityRequest& request : changed) {
    EXPECT_NE(requestFingerprint(request), original) << writeRequestJson(request);
  }
}

TEST(ConformityFingerprint, RequestFieldsDoNotRunIntoEachOther) {
  registry::ConformityRequest first = sampleRequest();
  registry::ConformityRequest second = sampleRequest();
  first.licensor = "CZ-ERU";
  first.activity = "05.1";
  second.licensor = "CZ-ERU0";
  second.activity = "5.1";

  EXPECT_NE(requestFingerprint(first), requestFingerprint(second));
}

TEST(ConformityFingerprint, SameConclusionSameFingerprint) {
  EXPECT_TRUE(isHexSha256(conclusionFingerprint(sampleConclusion())));
  EXPECT_EQ(conclusionFingerprint(sampleConclusion()), conclusionFingerprint(sampleConclusion()));
}

TEST(ConformityFingerprint, ConclusionChangesWithItsContent) {
  const std::string original = conclusionFingerprint(sampleConclusion());
  std::vector<registry::Conclusion> changed(7, sampleConclusion());
  changed[0].query_id += "0";
  changed[1].body = "fire";
  changed[2].verdict = Verdict::kConforms;
  changed[3].reasons = {"fire exit blocked", "no ventilation in room 4"};
  changed[4].reasons = {"no ventilation in room 4fire exit blocked"};
  changed[5].signer = "Inspector B";
  changed[6].signed_document = "";

  for (const registry::Conclusion& conclusion : changed) {
    EXPECT_NE(conclusionFingerprint(conclusion), original) << writeConclusionJson(conclusion);
  }
}

// --- JSON: outcome and query views ---

TEST(ConformityJson, WritesTheOutcomeWithLocalTimes) {
  std::string written = writeOutcomeJson(sampleOutcome(), kAlmaty);

  EXPECT_EQ(written,
            R"({"application_id":"KZ-APP-2026-000123","licensor":"CZ-ERU",)"
            R"("outcome":"conforms","decided_at":"2026-12-09T10:41:07+05:00","conclusions":[)"
            R"({"query_id":"cq-3f0c00000000000000000001","body":"sanitary","state":"answered",)"
            R"("verdict":"conforms","tacit":false,"reasons":["premises inspected 2026-12-08"],)"
            R"("signer":"Inspector A. Seitkali","late":false},)"
            R"({"query_id":"cq-91aa00000000000000000002","body":"fire","state":"expired",)"
            R"("verdict":"conforms","tacit":true,)"
            R"("reasons":["tacit consent: no conclusion by the deadline"],"late":false}]})");
}

TEST(ConformityJson, OutcomeLeavesOutTheVerdictOfAFailedQuery) {
  registry::ConformityOutcome outcome = sampleOutcome();
  outcome.outcome = registry::RoundOutcome::kIncomplete;
  outcome.queries = {openQuery()};
  outcome.queries[0].state = QueryState::kFailed;

  std::string written = writeOutcomeJson(outcome, 0);

  EXPECT_EQ(written,
            R"({"application_id":"KZ-APP-2026-000123","licensor":"CZ-ERU",)"
            R"("outcome":"incomplete","decided_at":"2026-12-09T05:41:07+00:00","conclusions":[)"
            R"({"query_id":"cq-91aa00000000000000000002","body":"fire","state":"failed",)"
            R"("tacit":false,"reasons":[],"late":false}]})");
}

TEST(ConformityJson, QueryViewShowsEveryField) {
  std::string out = "[";

  appendQueryJson(out, answeredQuery(), 6, kAlmaty);

  EXPECT_EQ(out,
            R"([{"query_id":"cq-3f0c00000000000000000001",)"
            R"("application_id":"KZ-APP-2026-000123","licensor":"CZ-ERU","body":"sanitary",)"
            R"("state":"answered","attempts":2,"next_attempt":"2026-12-08T09:30:00+05:00",)"
            R"("deadline":"2026-12-18T00:00:00+05:00","last_day":"2026-12-17",)"
            R"("working_days_left":6,)"
            R"("last_error":"amqp:resource-limit-exceeded","verdict":"conforms","tacit":false,)"
            R"("reasons":["premises inspected 2026-12-08"],"signer":"Inspector A. Seitkali",)"
            R"("concluded_at":"2026-12-09T10:41:07+05:00","late_verdict":"does-not-conform",)"
            R"("late_reasons":["fire exits blocked"],"late_signer":"Inspector B. Omarov",)"
            R"("late_at":"2026-12-18T00:00:01+05:00"})");
}

TEST(ConformityJson, QueryViewLeavesOutWhatHasNoValue) {
  std::string out;

  appendQueryJson(out, openQuery(), -1, kAlmaty);

  EXPECT_EQ(out, R"({"query_id":"cq-91aa00000000000000000002",)"
                 R"("application_id":"KZ-APP-2026-000123","licensor":"CZ-ERU","body":"fire",)"
                 R"("state":"sending","attempts":0,"deadline":"2026-12-18T00:00:00+05:00",)"
                 R"("last_day":"2026-12-17","tacit":false,"reasons":[]})");
}

// A deadline in the middle of a day (a body's deadline in seconds) has that
// day as its last; one at midnight has the day before; and the day is
// local, not UTC.
TEST(ConformityJson, LastDayIsTheLocalDayOfTheDeadlinesLastMoment) {
  const std::int64_t midnight_almaty = 1'797'534'000'000;  // 2026-12-18T00:00:00+05:00

  EXPECT_EQ(formatLastDay(midnight_almaty, kAlmaty), "2026-12-17");
  EXPECT_EQ(formatLastDay(midnight_almaty + 1, kAlmaty), "2026-12-18");
  EXPECT_EQ(formatLastDay(midnight_almaty + 9 * 3600 * 1000, kAlmaty), "2026-12-18");
  EXPECT_EQ(formatLastDay(midnight_almaty, 0), "2026-12-17");  // 19:00 UTC
  EXPECT_EQ(formatLastDay(midnight_almaty + 5 * 3600 * 1000, 0), "2026-12-17");
  EXPECT_EQ(formatLastDay(midnight_almaty + 5 * 3600 * 1000 + 1, 0), "2026-12-18");
}

TEST(ConformityJson, QueryViewShowsZeroWorkingDaysLeft) {
  std::string out;

  appendQueryJson(out, openQuery(), 0, kAlmaty);

  EXPECT_NE(out.find(R"("working_days_left":0,)"), std::string::npos) << out;
}

// --- SOAP: readers ---

const std::string kRequestSoap =
    "<lg:RequestConformity xmlns:lg=\"urn:licgate:soap:1\"><lg:system>eru-export</lg:system>"
    "<lg:applicationId>KZ-APP-2026-000123</lg:applicationId><lg:licensor>CZ-ERU</lg:licensor>"
    "<lg:applicantIinBin>050540004455</lg:applicantIinBin>"
    "<lg:applicantName>Alem Energy LLP</lg:applicantName><lg:activity>05.1</lg:activity>"
    "<lg:dataJson>{ \"site\": \"Almaty, Seifullin 12\", \"floors\": [1, 2] }</lg:dataJson>"
    "</lg:RequestConformity>";

TEST(ConformitySoap, ReadsARequest) {
  auto request = readRequestSoap(soapCall(kRequestSoap));

  ASSERT_TRUE(request.ok()) << request.error().message;
  EXPECT_EQ(request->system, "eru-export");
  expectSameRequest(request->request, sampleRequest());
}

TEST(ConformitySoap, RequestWithoutDataJsonHasAnEmptyObject) {
  auto request = readRequestSoap(
      soapCall("<RequestConformity xmlns=\"urn:licgate:soap:1\"><activity>05.1</activity>"
               "<applicantName>N</applicantName><applicantIinBin>050540004455</applicantIinBin>"
               "<licensor>L</licensor><applicationId>A</applicationId><system>S</system>"
               "</RequestConformity>"));

  ASSERT_TRUE(request.ok()) << request.error().message;
  EXPECT_EQ(request->request.application_id, "A");
  EXPECT_EQ(request->request.data_json, "{}");
}

std::string withParameter(const std::string& operation, const std::string& parameter) {
  std::string out = operation;
  out.insert(out.rfind("</"), parameter);
  return out;
}

TEST(ConformitySoap, NamesTheFlowsErrorsByTheirParameters) {
  auto named = [](const std::string& message, ErrorCode code = ErrorCode::kInvalidField) {
    return inSoapTerms(registry::Error{code, message}, "SubmitConclusion").message;
  };

  EXPECT_EQ(named("reasons[0]: is empty"), "SubmitConclusion: <reason> 1: is empty");
  EXPECT_EQ(named("reasons: has 101 reasons, over the limit of 100"),
            "SubmitConclusion: <reason>: has 101 reasons, over the limit of 100");
  EXPECT_EQ(named("applicant.iin_bin: \"1\" is neither"),
            "SubmitConclusion: <applicantIinBin>: \"1\" is neither");
  EXPECT_EQ(named("query_id: \"q\" is not a query licgate sent", ErrorCode::kUnknownQuery),
            "SubmitConclusion: <queryId>: \"q\" is not a query licgate sent");
  EXPECT_EQ(named("system \"x\" is not configured"), "system \"x\" is not configured");
  EXPECT_EQ(named("reasons[x]: odd"), "reasons[x]: odd");
}

TEST(ConformitySoap, RefusesRequestsThatAreNotTheDocumentedShape) {
  const std::string no_data =
      "<lg:RequestConformity xmlns:lg=\"urn:licgate:soap:1\"><lg:system>S</lg:system>"
      "<lg:applicationId>A</lg:applicationId><lg:licensor>L</lg:licensor>"
      "<lg:applicantIinBin>050540004455</lg:applicantIinBin>"
      "<lg:applicantName>N</lg:applicantName><lg:activity>05.1</lg:activity>"
      "</lg:RequestConformity>";
  const std::vector<Refusal> cases{
      {withParameter(kRequestSoap, "<lg:colour>red</lg:colour>"), ErrorCode::kInvalidField,
       "RequestConformity: unknown parameter <colour>"},
      {withParameter(kRequestSoap, "<lg:licensor>KZ-MIIR</lg:licensor>"), ErrorCode::kInvalidField,
       "RequestConformity: parameter <licensor> is given twice"},
      {"<lg:RequestConformity xmlns:lg=\"urn:licgate:soap:1\"><lg:applicationId>A"
       "</lg:applicationId></lg:RequestConformity>",
       ErrorCode::kInvalidField, "RequestConformity: parameter <licensor> is required"},
      {withParameter(no_data, "<lg:dataJson/>"), ErrorCode::kInvalidField,
       "RequestConformity: <dataJson>: is empty; give a JSON object ({} when the bodies need no "
       "data) or leave the element out"},
      {withParameter(no_data, "<lg:dataJson>\n  </lg:dataJson>"), ErrorCode::kInvalidField,
       "RequestConformity: <dataJson>: is empty; give a JSON object ({} when the bodies need no "
       "data) or leave the element out"},
      {withParameter(no_data, "<lg:dataJson>[1]</lg:dataJson>"), ErrorCode::kInvalidField,
       "RequestConformity: <dataJson>: is not a JSON object"},
      {withParameter(no_data, "<lg:dataJson>{\"a\":1,\"a\":2}</lg:dataJson>"),
       ErrorCode::kInvalidField, "RequestConformity: <dataJson>.a: is given twice"},
      {withParameter(no_data, "<lg:dataJson>{\"e\":-1e999}</lg:dataJson>"),
       ErrorCode::kInvalidField,
       "RequestConformity: <dataJson>.e: is a number no double holds (number overflow "
       "parsing '-1e999')"},
      {withParameter(no_data, "<lg:applicantName><b>N</b></lg:applicantName>"),
       ErrorCode::kInvalidField,
       "RequestConformity: parameter <applicantName> must be a simple "
       "value"},
      {"<lg:GetConformity xmlns:lg=\"urn:licgate:soap:1\"><lg:applicationId>A"
       "</lg:applicationId></lg:GetConformity>",
       ErrorCode::kInvalidField,
       "expected <RequestConformity> in urn:licgate:soap:1, not <GetConformity> in "
       "urn:licgate:soap:1"},
  };

  for (const Refusal& c : cases) {
    auto request = readRequestSoap(soapCall(c.input));

    ASSERT_FALSE(request.ok()) << c.input;
    EXPECT_EQ(request.error().code, c.code) << c.input;
    EXPECT_EQ(request.error().message, c.message) << c.input;
  }
}

TEST(ConformitySoap, MalformedDataJsonIsPlacedByLineAndColumn) {
  auto request = readRequestSoap(soapCall(withParameter(
      kRequestSoap.substr(0, kRequestSoap.find("<lg:dataJson>")) + "</lg:RequestConformity>",
      "<lg:dataJson>{\n\"site\": }</lg:dataJson>")));

  ASSERT_FALSE(request.ok());
  EXPECT_EQ(request.error().code, ErrorCode::kInvalidField);
  EXPECT_EQ(request.error().message.rfind("RequestConformity: <dataJson>: not valid JSON: ", 0), 0u)
      << request.error().message;
  EXPECT_NE(request.error().message.find("line 2, column 9"), std::string::npos)
      << request.error().message;
}

TEST(ConformitySoap, ReadsAConclusionWithItsReasonsInOrder) {
  auto conclusion = readConclusionSoap(soapCall(
      "<SubmitConclusion xmlns=\"urn:licgate:soap:1\"><queryId>q-1</queryId><body>fire</body>"
      "<verdict>does-not-conform</verdict><reason>first</reason><reason>second</reason>"
      "<signer>S</signer><reason>third</reason></SubmitConclusion>"));

  ASSERT_TRUE(conclusion.ok()) << conclusion.error().message;
  expectSameConclusion(
      *conclusion,
      {"q-1", "fire", Verdict::kDoesNotConform, {"first", "second", "third"}, "S", ""});
}

TEST(ConformitySoap, RefusesConclusionsThatAreNotTheDocumentedShape) {
  const std::string head =
      "<SubmitConclusion xmlns=\"urn:licgate:soap:1\"><queryId>q-1</queryId><body>fire</body>";
  const std::vector<Refusal> cases{
      {head + "<verdict>perhaps</verdict><signer>S</signer></SubmitConclusion>",
       ErrorCode::kInvalidField,
       "SubmitConclusion: <verdict>: \"perhaps\" is not conforms or does-not-conform"},
      {head + "<verdict>conforms</verdict></SubmitConclusion>", ErrorCode::kInvalidField,
       "SubmitConclusion: parameter <signer> is required"},
      {head + "<verdict>conforms</verdict><signer>S</signer><signer>T</signer>"
              "</SubmitConclusion>",
       ErrorCode::kInvalidField, "SubmitConclusion: parameter <signer> is given twice"},
      {head + "<verdict>conforms</verdict><signer>S</signer><reasons>x</reasons>"
              "</SubmitConclusion>",
       ErrorCode::kInvalidField, "SubmitConclusion: unknown parameter <reasons>"},
      {head + "<verdict>conforms</verdict><signer>S</signer><reason><p>x</p></reason>"
              "</SubmitConclusion>",
       ErrorCode::kInvalidField, "SubmitConclusion: parameter <reason> must be a simple value"},
  };

  for (const Refusal& c : cases) {
    auto conclusion = readConclusionSoap(soapCall(c.input));

    ASSERT_FALSE(conclusion.ok()) << c.input;
    EXPECT_EQ(conclusion.error().code, c.code) << c.input;
    EXPECT_EQ(conclusion.error().message, c.message) << c.input;
  }
}

TEST(ConformitySoap, RefusesAnOperationOutsideLicgatesNamespace) {
  auto conclusion = readConclusionSoap(
      soapCall("<SubmitConclusion xmlns=\"urn:other\"><queryId>q</queryId></SubmitConclusion>"));

  ASSERT_FALSE(conclusion.ok());
  EXPECT_EQ(conclusion.error().message,
            "expected <SubmitConclusion> in urn:licgate:soap:1, not <SubmitConclusion> in "
            "urn:other");
}

// --- SOAP: writers ---

TEST(ConformitySoap, QueryRoundTripsInBothVersions) {
  for (SoapVersion version : {SoapVersion::k11, SoapVersion::k12}) {
    std::string written = writeQuerySoap(sampleQuery(), version);
    SoapCall call = callOf(written, version);

    auto read = readQuerySoap(call);

    EXPECT_EQ(call.version, version);
    ASSERT_TRUE(read.ok()) << read.error().message << "\n" << written;
    EXPECT_EQ(read->query_id, "cq-3f0c00000000000000000001");
    EXPECT_EQ(read->body, "sanitary");
    EXPECT_EQ(read->deadline, "2026-12-18T00:00:00+05:00");
    expectSameRequest(read->request, sampleRequest());
  }
}

TEST(ConformitySoap, ConclusionRoundTripsInBothVersions) {
  for (SoapVersion version : {SoapVersion::k11, SoapVersion::k12}) {
    std::string written = writeConclusionSoap(sampleConclusion(), version);

    auto read = readConclusionSoap(callOf(written, version));

    ASSERT_TRUE(read.ok()) << read.error().message << "\n" << written;
    expectSameConclusion(*read, sampleConclusion());
  }
}

TEST(ConformitySoap, OutcomeCarriesEachConclusion) {
  registry::ConformityOutcome outcome = sampleOutcome();
  outcome.queries.push_back(openQuery());
  outcome.queries.back().state = QueryState::kFailed;

  std::string written = writeOutcomeSoap(outcome, kAlmaty, SoapVersion::k11);
  pugi::xml_document document;
  ASSERT_TRUE(document.load_string(written.c_str()));
  pugi::xml_node element = document.document_element().first_child().first_child();

  EXPECT_STREQ(element.name(), "lg:ConformityOutcome");
  EXPECT_STREQ(element.child("lg:decidedAt").text().get(), "2026-12-09T10:41:07+05:00");
  EXPECT_STREQ(element.child("lg:outcome").text().get(), "conforms");
  std::vector<std::string> summary;
  for (pugi::xml_node conclusion : element.children("lg:conclusion")) {
    summary.push_back(std::string(conclusion.child("lg:body").text().get()) + " " +
                      conclusion.child("lg:state").text().get() + " " +
                      conclusion.child("lg:verdict").text().as_string("none") + " " +
                      conclusion.child("lg:tacit").text().get());
  }
  EXPECT_EQ(summary,
            (std::vector<std::string>{"sanitary answered conforms false",
                                      "fire expired conforms true", "fire failed none false"}));
}

TEST(ConformitySoap, QueryXmlDeclaresTheNamespaceOnlyWhenNotInScope) {
  pugi::xml_document document;
  pugi::xml_node bare = document.append_child("answer");
  pugi::xml_node scoped = document.append_child("lg:GetPendingConformityResponse");
  scoped.append_attribute("xmlns:lg") = std::string(kSoapNamespace).c_str();

  appendQueryXml(bare, openQuery(), 3, kAlmaty);
  appendQueryXml(scoped, openQuery(), 3, kAlmaty);

  EXPECT_STREQ(bare.child("lg:query").attribute("xmlns:lg").value(), "urn:licgate:soap:1");
  EXPECT_FALSE(scoped.child("lg:query").attribute("xmlns:lg"));
  EXPECT_STREQ(scoped.child("lg:query").child("lg:workingDaysLeft").text().get(), "3");
  EXPECT_FALSE(scoped.child("lg:query").child("lg:nextAttempt"));
  EXPECT_FALSE(scoped.child("lg:query").child("lg:verdict"));
}

std::string answerWithQueries(const char* operation, bool with_outcome) {
  pugi::xml_document document;
  pugi::xml_node answer = document.append_child(operation);
  answer.append_attribute("xmlns:lg") = std::string(kSoapNamespace).c_str();
  if (with_outcome) {
    answer.append_child("lg:outcome").text().set("pending");
  }
  appendQueryXml(answer, answeredQuery(), 6, kAlmaty);
  appendQueryXml(answer, openQuery(), -1, -150);
  std::ostringstream out;
  document.print(out, "", pugi::format_raw);
  return out.str();
}

TEST(ConformitySoap, QueryShowsALateConclusionBesideTheDecidedOne) {
  const std::string xml = answerWithQueries("lg:GetConformityResponse", false);

  EXPECT_NE(xml.find("<lg:reason>premises inspected 2026-12-08</lg:reason>"), std::string::npos);
  EXPECT_NE(xml.find("<lg:lateVerdict>does-not-conform</lg:lateVerdict>"
                     "<lg:lateReason>fire exits blocked</lg:lateReason>"
                     "<lg:lateSigner>Inspector B. Omarov</lg:lateSigner>"),
            std::string::npos)
      << xml;
}

TEST(ConformitySoap, WrittenDocumentsValidateAgainstTheSchema) {
  registry::ConformityOutcome incomplete = sampleOutcome();
  incomplete.outcome = registry::RoundOutcome::kIncomplete;
  incomplete.queries.push_back(openQuery());
  incomplete.queries.back().state = QueryState::kFailed;
  registry::Conclusion bare = sampleConclusion();
  bare.reasons.clear();
  bare.signed_document.clear();
  const std::vector<std::string> documents{
      bodyElement(writeQuerySoap(sampleQuery(), SoapVersion::k11)),
      bodyElement(writeConclusionSoap(sampleConclusion(), SoapVersion::k12)),
      bodyElement(writeConclusionSoap(bare, SoapVersion::k11)),
      bodyElement(writeOutcomeSoap(sampleOutcome(), kAlmaty, SoapVersion::k11)),
      bodyElement(writeOutcomeSoap(incomplete, -150, SoapVersion::k12)),
      answerWithQueries("lg:GetConformityResponse", true),
      answerWithQueries("lg:GetPendingConformityResponse", false),
  };

  XsdValidation result = validateWithXmllint(documents, "licgate-soap.xsd");

  EXPECT_EQ(result.exit_code, 0) << result.output;
}

// The schema holds the writers to something: a query without its deadline,
// or with a verdict the schema does not list, does not validate.
TEST(ConformitySoap, SchemaRefusesWhatTheWritersNeverWrite) {
  std::string query = bodyElement(writeQuerySoap(sampleQuery(), SoapVersion::k11));
  std::string without_deadline = query;
  without_deadline.erase(
      without_deadline.find("<lg:deadline>"),
      std::string("<lg:deadline>2026-12-18T00:00:00+05:00</lg:deadline>").size());
  std::string conclusion = bodyElement(writeConclusionSoap(sampleConclusion(), SoapVersion::k11));
  std::string maybe = conclusion.replace(conclusion.find("does-not-conform"), 16, "maybe");

  XsdValidation missing = validateWithXmllint({without_deadline}, "licgate-soap.xsd");
  XsdValidation unlisted = validateWithXmllint({maybe}, "licgate-soap.xsd");

  EXPECT_NE(missing.exit_code, 0) << without_deadline;
  EXPECT_NE(missing.output.find("dataJson"), std::string::npos) << missing.output;
  EXPECT_NE(unlisted.exit_code, 0) << maybe;
  EXPECT_NE(unlisted.output.find("maybe"), std::string::npos) << unlisted.output;
}

}  // namespace
}  // namespace licgate::mapping
