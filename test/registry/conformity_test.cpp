// Tests of the conformity check's values: the checks of a request and a
// conclusion, the outcome of a round, and the outcomes the store keeps.
#include "registry/conformity.hpp"

#include <gtest/gtest.h>

#include "registry/sqlite_connection.hpp"
#include "test/registry/store_fixture.hpp"

namespace licgate::registry {
namespace {

ConformityRequest validRequest() {
  // 050540004455 is a BIN with a valid check digit (see identifiers_test).
  return {"KZ-APP-2026-000123",
          "CZ-ERU",
          {"050540004455", "Alem Energy LLP"},
          "05.1",
          R"({"site":"Almaty"})"};
}

TEST(ConformityRequestCheck, AcceptsAValidRequest) {
  EXPECT_TRUE(checkRequest(validRequest()).ok()) << checkRequest(validRequest()).error().message;
}

struct BadRequest {
  void (*spoil)(ConformityRequest&);
  std::string message;
};

class ConformityRequestProblem : public testing::TestWithParam<BadRequest> {};

TEST_P(ConformityRequestProblem, NamesTheField) {
  ConformityRequest request = validRequest();
  GetParam().spoil(request);

  const Status status = checkRequest(request);

  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kInvalidField);
  EXPECT_EQ(status.error().message, GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    EachField, ConformityRequestProblem,
    testing::Values(
        BadRequest{[](ConformityRequest& r) { r.application_id = ""; }, "application_id: is empty"},
        BadRequest{[](ConformityRequest& r) { r.application_id = " APP-1"; },
                   "application_id: \" APP-1\" starts or ends with a space"},
        BadRequest{[](ConformityRequest& r) { r.application_id = std::string(129, 'a'); },
                   "application_id: is longer than 128 characters (129)"},
        BadRequest{[](ConformityRequest& r) { r.application_id = "APP/2026/1"; },
                   "application_id: \"APP/2026/1\" contains a '/'"},
        BadRequest{[](ConformityRequest& r) { r.application_id = ".."; },
                   "application_id: \"..\" is not an id a URL path can hold"},
        BadRequest{[](ConformityRequest& r) { r.application_id = "."; },
                   "application_id: \".\" is not an id a URL path can hold"},
        BadRequest{[](ConformityRequest& r) { r.licensor = "CZ\tERU"; },
                   "licensor: \"CZ\\x09ERU\" contains a control character"},
        BadRequest{[](ConformityRequest& r) { r.activity = ""; }, "activity: is empty"},
        BadRequest{[](ConformityRequest& r) { r.applicant.name = "A\uFFFF"; },
                   "applicant.name: \"A\uFFFF\" contains U+FFFE or U+FFFF, which XML cannot "
                   "carry"},
        BadRequest{[](ConformityRequest& r) { r.data_json = R"({"rooms":[{"note":"\ufffe"}]})"; },
                   "data: holds U+FFFE or U+FFFF, which XML cannot carry (a query to a SOAP body "
                   "is XML)"},
        BadRequest{[](ConformityRequest& r) { r.applicant.name = ""; }, "applicant.name: is empty"},
        BadRequest{[](ConformityRequest& r) { r.data_json = "[1,2]"; },
                   "data: is not a JSON object"},
        BadRequest{[](ConformityRequest& r) { r.data_json = std::string(70000, ' ') + "{}"; },
                   "data: is 70002 bytes, over the limit of 65536"}));

// An object of `levels` levels: {"a":[[...]]}.
std::string nestedData(std::size_t levels) {
  return "{\"a\":" + std::string(levels - 1, '[') + std::string(levels - 1, ']') + "}";
}

TEST(ConformityRequestCheck, RefusesDataTooDeepForAQueryToCarry) {
  ConformityRequest request = validRequest();
  request.data_json = nestedData(63);
  EXPECT_TRUE(checkRequest(request).ok());

  request.data_json = nestedData(64);
  const Status status = checkRequest(request);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message,
            "data: is nested more than 63 levels deep (a query carries it one level down)");

  // Brackets inside strings, escaped quotes among them, are text.
  request.data_json = R"({"note":"\"[[[[", "b":")" + std::string(100, '{') + "\"}";
  EXPECT_TRUE(checkRequest(request).ok()) << checkRequest(request).error().message;
}

TEST(ConformityRequestCheck, NamesBothRulesForANumberThatIsNeitherIinNorBin) {
  ConformityRequest request = validRequest();
  request.applicant.iin_bin = "050540004456";

  const Status status = checkRequest(request);

  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(status.error().message.starts_with(
      "applicant.iin_bin: \"050540004456\" is neither a valid IIN nor a valid BIN ("))
      << status.error().message;
}

Conclusion validConclusion() {
  return {"cq-0123", "sanitary", Verdict::kConforms, {"premises inspected"}, "A. Seitkali", "MIIB"};
}

TEST(ConformityConclusionCheck, AcceptsAValidOneAndNamesTheBadField) {
  EXPECT_TRUE(checkConclusion(validConclusion()).ok());

  Conclusion empty_reason = validConclusion();
  empty_reason.reasons.push_back("");
  EXPECT_EQ(checkConclusion(empty_reason).error().message, "reasons[1]: is empty");

  Conclusion no_signer = validConclusion();
  no_signer.signer.clear();
  EXPECT_EQ(checkConclusion(no_signer).error().message, "signer: is empty");

  Conclusion binary = validConclusion();
  binary.signed_document = "\xff\xfe";
  EXPECT_EQ(checkConclusion(binary).error().message,
            "signed_document: is not valid UTF-8 (send a signed document as base64)");
}

TEST(ConformityNames, RoundTrip) {
  for (auto state : {QueryState::kSending, QueryState::kSent, QueryState::kRetrying,
                     QueryState::kAnswered, QueryState::kExpired, QueryState::kFailed}) {
    EXPECT_EQ(queryStateFromName(queryStateName(state)), state);
  }
  EXPECT_EQ(queryStateName(QueryState::kRetrying), "retrying");
  EXPECT_EQ(verdictFromName("does-not-conform"), Verdict::kDoesNotConform);
  EXPECT_EQ(verdictFromName("maybe"), std::nullopt);
  EXPECT_EQ(roundOutcomeName(RoundOutcome::kIncomplete), "incomplete");
  EXPECT_TRUE(isFinal(QueryState::kExpired));
  EXPECT_FALSE(isFinal(QueryState::kRetrying));
}

QueryView decided(std::optional<Verdict> verdict, QueryState state = QueryState::kAnswered) {
  QueryView query;
  query.state = state;
  query.verdict = verdict;
  return query;
}

TEST(ConformityOutcomeRule, DoesNotConformWinsThenIncompleteThenConforms) {
  EXPECT_EQ(decideOutcome({decided(Verdict::kConforms), decided(Verdict::kConforms)}),
            RoundOutcome::kConforms);
  EXPECT_EQ(
      decideOutcome({decided(Verdict::kConforms), decided(std::nullopt, QueryState::kExpired)}),
      RoundOutcome::kIncomplete);
  EXPECT_EQ(decideOutcome(
                {decided(std::nullopt, QueryState::kFailed), decided(Verdict::kDoesNotConform)}),
            RoundOutcome::kDoesNotConform);
}

ConformityOutcome sampleOutcome() {
  ConformityOutcome outcome;
  outcome.application_id = "KZ-APP-2026-000123";
  outcome.licensor = "CZ-ERU";
  outcome.activity = "05.1";
  outcome.applicant_iin_bin = "050540004455";
  outcome.applicant_name = "Alem Energy LLP";
  outcome.request_fingerprint = "f1ngerpr1nt";
  outcome.outcome = RoundOutcome::kIncomplete;
  outcome.decided_ms = 1'796'000'123'456;
  QueryView answered = decided(Verdict::kConforms);
  answered.query_id = "cq-1";
  answered.body = "sanitary";
  answered.attempts = 2;
  answered.deadline_ms = 1'797'000'000'000;
  answered.reasons = {"premises inspected"};
  answered.signer = "A. Seitkali";
  answered.concluded_ms = 1'796'000'000'000;
  QueryView failed = decided(std::nullopt, QueryState::kFailed);
  failed.query_id = "cq-2";
  failed.body = "fire";
  failed.attempts = 20;
  failed.last_error = "gave up after 20 attempts: connection refused";
  failed.late_verdict = Verdict::kDoesNotConform;
  failed.late_reasons = {"fire exits blocked"};
  failed.late_signer = "B. Omarov";
  failed.late_ms = 1'796'000'200'000;
  outcome.queries = {answered, failed};
  return outcome;
}

TEST_F(StoreTest, KeepsAConformityOutcomeWithEveryQuery) {
  const ConformityOutcome outcome = sampleOutcome();
  ASSERT_TRUE(store_->keepConformityOutcomes({&outcome, 1}).ok());

  auto found = store_->findConformityOutcome(outcome.application_id);

  ASSERT_TRUE(found.ok()) << found.error().message;
  ASSERT_TRUE(found->has_value());
  const ConformityOutcome& kept = **found;
  EXPECT_EQ(kept.licensor, "CZ-ERU");
  EXPECT_EQ(kept.activity, "05.1");
  EXPECT_EQ(kept.applicant_iin_bin, "050540004455");
  EXPECT_EQ(kept.applicant_name, "Alem Energy LLP");
  EXPECT_EQ(kept.request_fingerprint, "f1ngerpr1nt");
  EXPECT_EQ(kept.outcome, RoundOutcome::kIncomplete);
  EXPECT_EQ(kept.decided_ms, 1'796'000'123'456);
  ASSERT_EQ(kept.queries.size(), 2u);
  EXPECT_EQ(kept.queries[0].query_id, "cq-1");
  EXPECT_EQ(kept.queries[0].application_id, "KZ-APP-2026-000123");
  EXPECT_EQ(kept.queries[0].verdict, Verdict::kConforms);
  EXPECT_EQ(kept.queries[0].attempts, 2);
  EXPECT_EQ(kept.queries[0].reasons, std::vector<std::string>{"premises inspected"});
  EXPECT_EQ(kept.queries[0].signer, "A. Seitkali");
  EXPECT_EQ(kept.queries[0].concluded_ms, 1'796'000'000'000);
  EXPECT_EQ(kept.queries[1].state, QueryState::kFailed);
  EXPECT_EQ(kept.queries[1].verdict, std::nullopt);
  EXPECT_EQ(kept.queries[1].last_error, "gave up after 20 attempts: connection refused");
  EXPECT_EQ(kept.queries[1].late_verdict, Verdict::kDoesNotConform);
  EXPECT_EQ(kept.queries[1].late_reasons, std::vector<std::string>{"fire exits blocked"});
  EXPECT_EQ(kept.queries[1].late_signer, "B. Omarov");
  EXPECT_EQ(kept.queries[1].late_ms, 1'796'000'200'000);
}

TEST_F(StoreTest, AddsALateConclusionToAnOutcomeKeptAlready) {
  ConformityOutcome outcome = sampleOutcome();
  outcome.queries[1].late_verdict.reset();
  ASSERT_TRUE(store_->keepConformityOutcomes({&outcome, 1}).ok());
  const std::vector<LateConclusion> late{
      {outcome.application_id,
       "cq-2",
       Verdict::kConforms,
       {"exits cleared"},
       "B. Omarov",
       1'796'000'300'000},
      // A second late one for the same query, another query, an outcome not kept: no change.
      {outcome.application_id, "cq-2", Verdict::kDoesNotConform, {}, "", 1'796'000'400'000},
      {outcome.application_id, "cq-9", Verdict::kConforms, {}, "", 1'796'000'300'000},
      {"KZ-APP-NOT-KEPT", "cq-1", Verdict::kConforms, {}, "", 1'796'000'300'000},
  };

  ASSERT_TRUE(store_->keepLateConclusions(late).ok());

  auto found = store_->findConformityOutcome(outcome.application_id);
  ASSERT_TRUE(found.ok() && found->has_value());
  const ConformityOutcome& kept = **found;
  EXPECT_EQ(kept.outcome, RoundOutcome::kIncomplete);
  EXPECT_EQ(kept.queries[0].late_verdict, std::nullopt);
  EXPECT_EQ(kept.queries[1].state, QueryState::kFailed);
  EXPECT_EQ(kept.queries[1].verdict, std::nullopt);
  EXPECT_EQ(kept.queries[1].late_verdict, Verdict::kConforms);
  EXPECT_EQ(kept.queries[1].late_reasons, std::vector<std::string>{"exits cleared"});
  EXPECT_EQ(kept.queries[1].late_signer, "B. Omarov");
  EXPECT_EQ(kept.queries[1].late_ms, 1'796'000'300'000);
  EXPECT_FALSE(store_->findConformityOutcome("KZ-APP-NOT-KEPT")->has_value());
}

TEST_F(StoreTest, FindsAKeptOutcomeByTheIdOfAnyOfItsQueries) {
  const ConformityOutcome outcome = sampleOutcome();
  ASSERT_TRUE(store_->keepConformityOutcomes({&outcome, 1}).ok());

  auto by_first = store_->findConformityOutcomeOfQuery("cq-1");
  auto by_second = store_->findConformityOutcomeOfQuery("cq-2");
  auto unknown = store_->findConformityOutcomeOfQuery("cq-3");

  ASSERT_TRUE(by_first.ok() && by_first->has_value());
  EXPECT_EQ((*by_first)->application_id, "KZ-APP-2026-000123");
  ASSERT_TRUE(by_second.ok() && by_second->has_value());
  EXPECT_EQ((*by_second)->queries.size(), 2u);
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(unknown->has_value());
}

// A register of schema 3 kept outcomes without the query index: the
// migration builds it from the outcomes' queries.
TEST_F(StoreTest, MigrationIndexesTheQueriesOfOutcomesKeptBefore) {
  const ConformityOutcome outcome = sampleOutcome();
  ASSERT_TRUE(store_->keepConformityOutcomes({&outcome, 1}).ok());
  store_.reset();
  {
    auto connection = SqliteConnection::open(options_.path, 1000);
    ASSERT_TRUE(connection.ok());
    ASSERT_TRUE((*connection)->exec("DROP TABLE conformity_queries; PRAGMA user_version = 3").ok());
  }

  auto store = openSqliteStore(options_);

  ASSERT_TRUE(store.ok()) << store.error().message;
  auto found = (*store)->findConformityOutcomeOfQuery("cq-2");
  ASSERT_TRUE(found.ok()) << found.error().message;
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->application_id, "KZ-APP-2026-000123");
}

TEST_F(StoreTest, KeepsTheFirstOutcomeOfAnApplication) {
  ConformityOutcome first = sampleOutcome();
  ConformityOutcome again = sampleOutcome();
  again.outcome = RoundOutcome::kConforms;
  ASSERT_TRUE(store_->keepConformityOutcomes({&first, 1}).ok());

  ASSERT_TRUE(store_->keepConformityOutcomes({&again, 1}).ok());

  auto found = store_->findConformityOutcome(first.application_id);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->outcome, RoundOutcome::kIncomplete);
  auto missing = store_->findConformityOutcome("KZ-APP-0");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

}  // namespace
}  // namespace licgate::registry
