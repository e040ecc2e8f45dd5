// The conformity flow as licensors and bodies reach it over SOAP and read
// it over HTTP: the operations and routes in front of the flow of
// test/gateway/conformity_fixture.hpp.
#include "gateway/conformity_api.hpp"

#include "gateway/http_api.hpp"
#include "gateway/soap_api.hpp"
#include "test/gateway/conformity_fixture.hpp"
#include "test/gateway/soap_request.hpp"

namespace licgate::gateway::testing_conformity {
namespace {

using licgate::testing::contains;
using licgate::testing::soapPost;

std::string envelope(const std::string& operation) {
  return R"(<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>)" + operation +
         "</s:Body></s:Envelope>";
}

const std::string kRequest =
    "<lg:RequestConformity xmlns:lg=\"urn:licgate:soap:1\"><lg:system>eru-export</lg:system>"
    "<lg:applicationId>APP-9</lg:applicationId><lg:licensor>CZ-ERU</lg:licensor>"
    "<lg:applicantIinBin>050540004455</lg:applicantIinBin>"
    "<lg:applicantName>Alem Energy LLP</lg:applicantName><lg:activity>05.1</lg:activity>"
    "</lg:RequestConformity>";

std::string conclusionXml(const std::string& query_id, const std::string& body) {
  return "<lg:SubmitConclusion xmlns:lg=\"urn:licgate:soap:1\"><lg:queryId>" + query_id +
         "</lg:queryId><lg:body>" + body +
         "</lg:body><lg:verdict>conforms</lg:verdict><lg:reason>site visited</lg:reason>"
         "<lg:signer>Inspector</lg:signer></lg:SubmitConclusion>";
}

class ConformityApiTest : public ConformityFlowTest {
 protected:
  void SetUp() override {
    ConformityFlowTest::SetUp();
    soap_ =
        std::make_unique<SoapApi>(*store_, nullptr, config::ShepConfig{}, ShepParts{}, flow_.get());
    ApiSources sources;
    sources.store = store_.get();
    sources.redis_health = &health_;
    sources.soap = soap_.get();
    sources.conformity = flow_.get();
    http_ = std::make_unique<HttpApi>(sources);
  }

  adapters::http::Response post(const std::string& path) { return get(path, {}, "POST"); }

  adapters::http::Response get(const std::string& path,
                               std::multimap<std::string, std::string> query = {},
                               const std::string& method = "GET") {
    adapters::http::Request request;
    request.method = method;
    request.path = path;
    request.query = std::move(query);
    return http_->handle(request);
  }

  RedisHealth health_{true};
  std::unique_ptr<SoapApi> soap_;
  std::unique_ptr<HttpApi> http_;
};

TEST_F(ConformityApiTest, OpensARoundOverSoapAndAnswersItAgainAsADuplicate) {
  auto first = soap_->handle(soapPost(envelope(kRequest), ""));
  auto again = soap_->handle(soapPost(envelope(kRequest), ""));

  EXPECT_EQ(first.status, 200) << first.body;
  EXPECT_TRUE(contains(first.body, "<lg:result>opened</lg:result>")) << first.body;
  EXPECT_TRUE(contains(first.body, "<lg:queryId>" + queryId("APP-9", "sanitary") + "</lg:queryId>"))
      << first.body;
  EXPECT_TRUE(contains(again.body, "<lg:result>duplicate</lg:result>")) << again.body;
  EXPECT_EQ(courier_.take().size(), 2u);
}

TEST_F(ConformityApiTest, TakesAConclusionOverSoapAndRefusesAnUnknownQuery) {
  ASSERT_TRUE(flow_->request("eru-export", request("APP-9")).ok());
  settleAll(Receipt::Fate::kDelivered);

  auto accepted =
      soap_->handle(soapPost(envelope(conclusionXml(queryId("APP-9", "fire"), "fire")), ""));
  auto unknown = soap_->handle(soapPost(envelope(conclusionXml("cq-nothing", "fire")), ""));

  EXPECT_TRUE(contains(accepted.body, "<lg:result>accepted</lg:result>")) << accepted.body;
  EXPECT_EQ(unknown.status, 500);
  EXPECT_TRUE(contains(unknown.body, "unknown-query")) << unknown.body;
  EXPECT_TRUE(
      contains(unknown.body,
               "SubmitConclusion: &lt;queryId&gt;: \"cq-nothing\" is not a query licgate sent"))
      << unknown.body;
  EXPECT_EQ(query("APP-9", "fire").state, QueryState::kAnswered);
}

TEST_F(ConformityApiTest, ShowsARoundOverSoapAndHttpWithWorkingDaysLeft) {
  ASSERT_TRUE(flow_->request("eru-export", request("APP-9")).ok());
  settleAll(Receipt::Fate::kDelivered);
  ASSERT_TRUE(flow_->conclude("fire", conclusion(queryId("APP-9", "fire"), "fire")).ok());
  now_ += 3 * 24 * kHour;  // Monday 7 December: 9 working days left

  auto soap = soap_->handle(
      soapPost(envelope("<lg:GetConformity xmlns:lg=\"urn:licgate:soap:1\"><lg:applicationId>APP-9"
                        "</lg:applicationId></lg:GetConformity>"),
               ""));
  auto http = get("/api/v1/applications/APP-9/conformity");

  EXPECT_TRUE(contains(soap.body, "<lg:outcome>pending</lg:outcome>")) << soap.body;
  EXPECT_TRUE(contains(soap.body, "<lg:workingDaysLeft>9</lg:workingDaysLeft>")) << soap.body;
  EXPECT_TRUE(contains(soap.body, "<lg:lastDay>2026-12-21</lg:lastDay>")) << soap.body;
  ASSERT_EQ(http.status, 200) << http.body;
  auto json = nlohmann::json::parse(http.body);
  EXPECT_EQ(json["application_id"], "APP-9");
  EXPECT_EQ(json["outcome"], "pending");
  ASSERT_EQ(json["queries"].size(), 2u);
  for (const auto& q : json["queries"]) {
    if (q["body"] == "sanitary") {
      EXPECT_EQ(q["state"], "sent");
      EXPECT_EQ(q["working_days_left"], 9);
      EXPECT_EQ(q["deadline"], "2026-12-22T00:00:00+05:00");
      EXPECT_EQ(q["last_day"], "2026-12-21");
      EXPECT_EQ(q["attempts"], 1);
    } else {
      EXPECT_EQ(q["state"], "answered");
      EXPECT_EQ(q["verdict"], "conforms");
      EXPECT_FALSE(q.contains("working_days_left"));
    }
  }
}

TEST_F(ConformityApiTest, ListsTheLicensorsPendingQueriesEarliestDeadlineFirst) {
  ASSERT_TRUE(flow_->request("eru-export", request("APP-1", "12.3")).ok());  // 20 s deadline
  ASSERT_TRUE(flow_->request("eru-export", request("APP-2")).ok());
  settleAll(Receipt::Fate::kDelivered);

  auto http = get("/api/v1/licensors/CZ-ERU/pending");
  auto limited = get("/api/v1/licensors/CZ-ERU/pending", {{"limit", "1"}});
  auto soap = soap_->handle(soapPost(
      envelope("<lg:GetPendingConformity xmlns:lg=\"urn:licgate:soap:1\"><lg:licensor>CZ-ERU"
               "</lg:licensor></lg:GetPendingConformity>"),
      ""));

  ASSERT_EQ(http.status, 200) << http.body;
  auto json = nlohmann::json::parse(http.body);
  EXPECT_EQ(json["count"], 3);
  EXPECT_EQ(json["queries"][0]["body"], "ecology");
  EXPECT_EQ(json["queries"][0]["application_id"], "APP-1");
  EXPECT_EQ(json["queries"][0]["working_days_left"], 0);
  EXPECT_EQ(nlohmann::json::parse(limited.body)["count"], 1);
  EXPECT_TRUE(contains(soap.body, "<lg:body>ecology</lg:body>")) << soap.body;
  EXPECT_TRUE(contains(soap.body, "<lg:body>fire</lg:body>")) << soap.body;
}

TEST_F(ConformityApiTest, ListsTheQueriesThatNeverReachedTheirBody) {
  ASSERT_TRUE(flow_->request("eru-export", request("APP-1", "12.3")).ok());
  settleAll(Receipt::Fate::kPermanent, "http://127.0.0.1:5998/q answered HTTP 404");
  ASSERT_TRUE(flow_->request("eru-export", request("APP-2")).ok());
  settleAll(Receipt::Fate::kDelivered);

  auto failed = get("/api/v1/conformity/failed");

  ASSERT_EQ(failed.status, 200) << failed.body;
  auto json = nlohmann::json::parse(failed.body);
  ASSERT_EQ(json["count"], 1);
  EXPECT_EQ(json["queries"][0]["application_id"], "APP-1");
  EXPECT_EQ(json["queries"][0]["state"], "failed");
  EXPECT_EQ(json["queries"][0]["last_error"], "http://127.0.0.1:5998/q answered HTTP 404");
}

TEST_F(ConformityApiTest, ListsRefusedOutcomesAndResendsOne) {
  decideOneBodyRound("APP-1");
  settleAll(Receipt::Fate::kPermanent, "soap:Client: unknown application");

  auto listed = get("/api/v1/conformity/refused-outcomes");
  adapters::http::Request with_body;
  with_body.method = "POST";
  with_body.path = "/api/v1/conformity/refused-outcomes/APP-1/resend";
  with_body.body = "abc";
  auto refused_body = http_->handle(with_body);  // and the outcome stays refused
  auto resent = post("/api/v1/conformity/refused-outcomes/APP-1/resend");
  auto resent_again = post("/api/v1/conformity/refused-outcomes/APP-1/resend");
  auto after = get("/api/v1/conformity/refused-outcomes");

  ASSERT_EQ(listed.status, 200) << listed.body;
  auto json = nlohmann::json::parse(listed.body);
  ASSERT_EQ(json["count"], 1);
  EXPECT_EQ(json["outcomes"][0]["application_id"], "APP-1");
  EXPECT_EQ(json["outcomes"][0]["licensor"], "CZ-ERU");
  EXPECT_EQ(json["outcomes"][0]["outcome"], "conforms");
  EXPECT_EQ(json["outcomes"][0]["error"], "soap:Client: unknown application");
  EXPECT_EQ(json["outcomes"][0]["attempts"], 1);
  EXPECT_TRUE(json["outcomes"][0]["refused_at"].is_string());
  EXPECT_EQ(refused_body.status, 400);
  EXPECT_TRUE(contains(refused_body.body, "the resend takes no body (this one has 3 bytes)"))
      << refused_body.body;
  EXPECT_EQ(resent.status, 202) << resent.body;
  EXPECT_EQ(nlohmann::json::parse(resent.body)["outcome"], "due");
  EXPECT_EQ(resent_again.status, 404);
  EXPECT_TRUE(contains(resent_again.body, "has no refused outcome to resend")) << resent_again.body;
  EXPECT_EQ(nlohmann::json::parse(after.body)["count"], 0);
}

TEST_F(ConformityApiTest, AnswersAWrongMethodWithTheOneTheRouteTakes) {
  auto get_resend = get("/api/v1/conformity/refused-outcomes/APP-1/resend");
  auto post_list = post("/api/v1/conformity/refused-outcomes");
  auto delete_round = get("/api/v1/applications/APP-1/conformity", {}, "DELETE");

  EXPECT_EQ(get_resend.status, 405);
  EXPECT_EQ(get_resend.headers["Allow"], "POST");
  EXPECT_TRUE(contains(get_resend.body, "method GET is not allowed")) << get_resend.body;
  EXPECT_EQ(post_list.status, 405);
  EXPECT_EQ(post_list.headers["Allow"], "GET");
  EXPECT_EQ(delete_round.status, 405);
}

TEST_F(ConformityApiTest, RefusesBadRoutesNamingWhatWasWrong) {
  auto unknown = get("/api/v1/applications/APP-404/conformity");
  auto bad_limit = get("/api/v1/licensors/CZ-ERU/pending", {{"limit", "0"}});
  auto bad_parameter = get("/api/v1/licensors/CZ-ERU/pending", {{"after", "x"}});
  auto empty_limit = get("/api/v1/conformity/failed", {{"limit", ""}});

  EXPECT_EQ(unknown.status, 404);
  EXPECT_TRUE(contains(unknown.body, "application \\\"APP-404\\\" has no conformity round"))
      << unknown.body;
  EXPECT_EQ(bad_limit.status, 400);
  EXPECT_TRUE(
      contains(bad_limit.body, "parameter limit: \\\"0\\\" is not a whole number in 1..10000"))
      << bad_limit.body;
  EXPECT_EQ(bad_parameter.status, 400);
  EXPECT_EQ(empty_limit.status, 400);
  EXPECT_TRUE(contains(empty_limit.body,
                       "parameter limit: has an empty value (leave the parameter out instead)"))
      << empty_limit.body;
}

// An id no request could have named (a '/', a space at the end, 129
// characters) is refused as such over both protocols, as a request with it
// is, rather than reported as a round that does not exist.
TEST_F(ConformityApiTest, RefusesAnApplicationIdNoRequestCouldHaveNamed) {
  auto soap_slash = soap_->handle(
      soapPost(envelope("<lg:GetConformity xmlns:lg=\"urn:licgate:soap:1\"><lg:applicationId>A/B"
                        "</lg:applicationId></lg:GetConformity>"),
               ""));
  auto soap_empty = soap_->handle(
      soapPost(envelope("<lg:GetConformity xmlns:lg=\"urn:licgate:soap:1\"><lg:applicationId/>"
                        "</lg:GetConformity>"),
               ""));
  auto soap_missing = soap_->handle(
      soapPost(envelope("<lg:GetPendingConformity xmlns:lg=\"urn:licgate:soap:1\"/>"), ""));
  auto http_space = get("/api/v1/applications/APP-1 /conformity");
  auto http_long = get("/api/v1/applications/" + std::string(129, 'A') + "/conformity");
  // "A%2FB" as the client sent it: the server decodes it to a slash.
  auto http_slash = get("/api/v1/applications/A/B/conformity");
  auto resend_space = post("/api/v1/conformity/refused-outcomes/ APP-1/resend");
  auto unknown_post = post("/api/v1/conformity/refused-outcomes/APP-1/resend/again");

  EXPECT_EQ(soap_slash.status, 500);
  EXPECT_TRUE(
      contains(soap_slash.body, "GetConformity: &lt;applicationId&gt; \"A/B\" contains a '/'"))
      << soap_slash.body;
  EXPECT_TRUE(contains(soap_slash.body, "invalid-field")) << soap_slash.body;
  EXPECT_TRUE(contains(soap_empty.body, "GetConformity: &lt;applicationId&gt; is empty"))
      << soap_empty.body;
  EXPECT_TRUE(contains(soap_missing.body, "GetPendingConformity: &lt;licensor&gt; is missing"))
      << soap_missing.body;
  EXPECT_EQ(http_space.status, 400);
  EXPECT_TRUE(
      contains(http_space.body, "application id \\\"APP-1 \\\" starts or ends with a space"))
      << http_space.body;
  EXPECT_EQ(http_long.status, 400);
  EXPECT_TRUE(contains(http_long.body, "is longer than 128 characters")) << http_long.body;
  EXPECT_EQ(http_slash.status, 400);
  EXPECT_TRUE(contains(http_slash.body, "application id \\\"A/B\\\" contains a '/'"))
      << http_slash.body;
  EXPECT_EQ(resend_space.status, 400);
  EXPECT_TRUE(contains(resend_space.body, "starts or ends with a space")) << resend_space.body;
  EXPECT_EQ(unknown_post.status, 404) << unknown_post.body;
}

// A code mistyped, in the wrong case or not even UTF-8 is a licensor not
// listed, never an empty list (and never a crash while writing the answer).
TEST_F(ConformityApiTest, RefusesPendingOfALicensorNotListed) {
  auto miscased = get("/api/v1/licensors/cz-eru/pending");
  auto not_utf8 = get("/api/v1/licensors/\xff/pending");
  auto soap = soap_->handle(
      soapPost(envelope("<lg:GetPendingConformity xmlns:lg=\"urn:licgate:soap:1\"><lg:licensor>nope"
                        "</lg:licensor></lg:GetPendingConformity>"),
               ""));

  EXPECT_EQ(miscased.status, 404);
  EXPECT_EQ(nlohmann::json::parse(miscased.body)["message"],
            "licensor \"cz-eru\" is not a licensor listed under licensors");
  EXPECT_EQ(not_utf8.status, 404);
  EXPECT_EQ(nlohmann::json::parse(not_utf8.body)["message"],
            "licensor \"\\xFF\" is not a licensor listed under licensors");
  EXPECT_TRUE(contains(soap.body, "licensor \"nope\" is not a licensor listed under licensors"))
      << soap.body;
  EXPECT_TRUE(contains(soap.body, "not-found")) << soap.body;
}

TEST_F(ConformityApiTest, CountsTheFlowInStatsAndMetrics) {
  ASSERT_TRUE(flow_->request("eru-export", request("APP-1")).ok());
  settleAll(Receipt::Fate::kDelivered);

  auto stats = nlohmann::json::parse(get("/api/v1/stats").body);
  auto metrics = get("/metrics").body;

  EXPECT_EQ(stats["conformity"]["requestsOpened"], 1);
  EXPECT_EQ(stats["conformity"]["sendsDelivered"], 2);
  EXPECT_EQ(stats["conformity"]["backlog"]["openQueries"], 2);
  EXPECT_EQ(stats["conformity"]["backlog"]["sendsDue"], 0);
  EXPECT_TRUE(contains(metrics, "licgate_conformity_sends_total{result=\"delivered\"} 2"))
      << metrics;
  EXPECT_TRUE(contains(metrics, "licgate_conformity_backlog{of=\"open_queries\"} 2")) << metrics;
}

// A SOAP operation whose parameters cannot be read is refused before the
// flow sees it, and still counted with the flow's own refusals.
TEST_F(ConformityApiTest, CountsWhatSoapRefusesBeforeTheFlowReadsIt) {
  std::string no_id = kRequest;
  no_id.erase(no_id.find("<lg:applicationId>"),
              std::string("<lg:applicationId>APP-9</lg:applicationId>").size());
  std::string no_verdict = conclusionXml("cq-nothing", "fire");
  no_verdict.erase(no_verdict.find("<lg:verdict>"),
                   std::string("<lg:verdict>conforms</lg:verdict>").size());

  auto request = soap_->handle(soapPost(envelope(no_id), ""));
  auto conclusion = soap_->handle(soapPost(envelope(no_verdict), ""));
  auto unknown = soap_->handle(soapPost(envelope(conclusionXml("cq-nothing", "fire")), ""));

  EXPECT_EQ(request.status, 500);
  EXPECT_TRUE(contains(request.body, "applicationId")) << request.body;
  EXPECT_EQ(conclusion.status, 500);
  EXPECT_TRUE(contains(conclusion.body, "verdict")) << conclusion.body;
  EXPECT_EQ(flow_->counters().requests_refused, 1u);
  EXPECT_EQ(flow_->counters().conclusions_refused, 2u) << "the ill-formed one and the unknown one";
  EXPECT_EQ(courier_.take().size(), 0u);
}

TEST(ConformityRoutes, AnswerNotFoundWhenTheFlowIsOff) {
  adapters::http::Request request;
  request.method = "GET";
  request.path = "/api/v1/licensors/CZ-ERU/pending";

  auto response = conformityRoute(nullptr, request);

  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 404);
  EXPECT_TRUE(contains(response->body, "the conformity flow is off")) << response->body;
  request.path = "/api/v1/licensors/CZ-ERU";
  EXPECT_FALSE(conformityRoute(nullptr, request).has_value());
}

}  // namespace
}  // namespace licgate::gateway::testing_conformity
