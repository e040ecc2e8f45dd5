// Tests of the HTTP API routes on a real SQLite store. The routes are called
// as the HTTP server calls them; the server itself on a socket is exercised
// in licgate_program_test.cpp.
#include "gateway/http_api.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test/gateway/gateway_samples.hpp"
#include "test/gateway/register_fixture.hpp"
#include "test/gateway/test_support.hpp"

namespace licgate::gateway {
namespace {

using adapters::http::Request;
using adapters::http::Response;
using nlohmann::json;
using registry::EventType;
using testing::delivery;
using testing::importEvent;
using testing::issueEvent;
using testing::licenceEvent;

Request get(const std::string& path, std::multimap<std::string, std::string> query = {}) {
  Request request;
  request.method = "GET";
  request.path = path;
  request.target = path;
  request.query = std::move(query);
  return request;
}

ApiSources sources(registry::Store* store, const IntakeFlow* flow, RedisHealth* health,
                   adapters::redis::SeenIds* probe = nullptr) {
  ApiSources sources;
  sources.store = store;
  sources.intake = flow;
  sources.redis_health = health;
  sources.redis_probe = probe;
  return sources;
}

class HttpApiTest : public testing::RegisterFixture {
 protected:
  void SetUp() override {
    RegisterFixture::SetUp();
    api_ = std::make_unique<HttpApi>(sources(store_.get(), flow_.get(), &redis_health_));
  }

  void send(std::vector<adapters::amqp::Delivery> batch) { flow_->processBatch(batch); }

  // A register of three licences, one suspended, and one dead letter.
  void fillRegister() {
    send({delivery("eru-export", "m-1", importEvent("310100016")),
          delivery("eru-export", "m-2", importEvent("310100017")),
          delivery("eru-export", "m-3", importEvent("310100018")),
          delivery("eru-export", "m-4", licenceEvent(EventType::kSuspend, "310100017")),
          delivery("eru-export", "m-5", licenceEvent(EventType::kResume, "310100018"))});
  }

  std::unique_ptr<HttpApi> api_;
};

TEST_F(HttpApiTest, ReturnsLicenceWithHistory) {
  fillRegister();

  Response response = api_->handle(get("/api/v1/licences/310100017"));

  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_NE(response.body.find("\"310100017\""), std::string::npos);
  EXPECT_NE(response.body.find("Obec Velký Karlov"), std::string::npos);
  EXPECT_NE(response.body.find("suspend"), std::string::npos);
}

TEST_F(HttpApiTest, AnswersUnknownLicenceWith404) {
  Response response = api_->handle(get("/api/v1/licences/99999999"));

  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(json::parse(response.body).at("error"), "not-found");
}

TEST_F(HttpApiTest, SearchesByHolderAndStatus) {
  fillRegister();

  Response response = api_->handle(
      get("/api/v1/licences", {{"holder", "cz-ico:00637076"}, {"status", "suspended"}}));

  EXPECT_EQ(response.status, 200);
  EXPECT_NE(response.body.find("310100017"), std::string::npos);
  EXPECT_EQ(response.body.find("310100016"), std::string::npos);
}

TEST_F(HttpApiTest, PagesSearchResults) {
  fillRegister();

  Response first = api_->handle(get("/api/v1/licences", {{"limit", "2"}}));
  Response second = api_->handle(get("/api/v1/licences", {{"limit", "2"}, {"after", "310100017"}}));

  EXPECT_NE(first.body.find("310100017"), std::string::npos);
  EXPECT_EQ(first.body.find("310100018"), std::string::npos);
  EXPECT_NE(second.body.find("310100018"), std::string::npos);
  EXPECT_EQ(second.body.find("310100016"), std::string::npos);
}

TEST_F(HttpApiTest, RejectsLimitOutOfRangeNamingIt) {
  Response response = api_->handle(get("/api/v1/licences", {{"limit", "0"}}));

  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(json::parse(response.body).at("message"),
            "parameter limit: \"0\" is not a whole number in 1..1000");
}

TEST_F(HttpApiTest, RejectsHolderWithoutScheme) {
  Response response = api_->handle(get("/api/v1/licences", {{"holder", "00637076"}}));

  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(json::parse(response.body).at("message"),
            "parameter holder: \"00637076\" is not SCHEME:ID, e.g. cz-ico:00216224");
}

TEST_F(HttpApiTest, RejectsUnknownHolderScheme) {
  Response response = api_->handle(get("/api/v1/licences", {{"holder", "de-hrb:123"}}));

  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(json::parse(response.body).at("message"),
            "parameter holder: \"de-hrb\" is not a holder id scheme (kz-iin, kz-bin, cz-ico)");
}

TEST_F(HttpApiTest, FindsHolderByIcoWithoutItsLeadingZeros) {
  fillRegister();

  Response response = api_->handle(get("/api/v1/licences", {{"holder", "cz-ico:637076"}}));

  ASSERT_EQ(response.status, 200) << response.body;
  json page = json::parse(response.body);
  ASSERT_EQ(page.at("licences").size(), 3u);
  EXPECT_EQ(page["licences"][0].at("number"), "310100016");
  EXPECT_EQ(page["licences"][0]["holder"].at("id"), "00637076");
}

TEST_F(HttpApiTest, FindsHolderByBin) {
  fillRegister();
  send({delivery("portal", "m-6", issueEvent())});

  Response response = api_->handle(get("/api/v1/licences", {{"holder", "kz-bin:150440000003"}}));

  ASSERT_EQ(response.status, 200) << response.body;
  json page = json::parse(response.body);
  ASSERT_EQ(page.at("licences").size(), 1u);
  EXPECT_EQ(page["licences"][0].at("licensor"), "KZ-MIIR");
}

TEST_F(HttpApiTest, RejectsIcoWithWrongCheckDigit) {
  fillRegister();

  Response response = api_->handle(get("/api/v1/licences", {{"holder", "cz-ico:00637077"}}));

  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(json::parse(response.body).at("message"),
            "parameter holder: IČ 00637077: check digit is 7, expected 6");
}

TEST_F(HttpApiTest, RejectsShortIcoWithWrongCheckDigitNamingItPadded) {
  Response response = api_->handle(get("/api/v1/licences", {{"holder", "cz-ico:637077"}}));

  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(json::parse(response.body).at("message"),
            "parameter holder: IČ 00637077: check digit is 7, expected 6");
}

TEST_F(HttpApiTest, RejectsIcoThatIsNotDigits) {
  Response response = api_->handle(get("/api/v1/licences", {{"holder", "cz-ico:0063707x"}}));

  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(json::parse(response.body).at("message"),
            "parameter holder: IČ 0063707x: character 8 is not a digit");
}

TEST_F(HttpApiTest, RejectsBinWithWrongCheckDigit) {
  Response response = api_->handle(get("/api/v1/licences", {{"holder", "kz-bin:150440000004"}}));

  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(json::parse(response.body).at("message"),
            "parameter holder: BIN 150440000004: check digit is 4, expected 3");
}

TEST_F(HttpApiTest, RejectsIinWithWrongCheckDigit) {
  Response response = api_->handle(get("/api/v1/licences", {{"holder", "kz-iin:900101300015"}}));

  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(json::parse(response.body).at("message"),
            "parameter holder: IIN 900101300015: check digit is 5, expected 7");
}

TEST_F(HttpApiTest, RejectsUnknownStatus) {
  Response response = api_->handle(get("/api/v1/licences", {{"status", "revoked"}}));

  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(json::parse(response.body).at("message"),
            "parameter status: \"revoked\" is not a status (active, suspended, terminated)");
}

TEST_F(HttpApiTest, RejectsUnknownParameter) {
  Response response = api_->handle(get("/api/v1/licences", {{"holdr", "cz-ico:00637076"}}));

  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(json::parse(response.body).at("message"),
            "parameter holdr: unknown (known: holder, licensor, status, after, limit)");
}

TEST_F(HttpApiTest, RejectsEmptySearchParameterNamingIt) {
  fillRegister();

  for (const std::string name : {"holder", "licensor", "status", "after", "limit"}) {
    Response response = api_->handle(get("/api/v1/licences", {{name, ""}}));

    EXPECT_EQ(response.status, 400) << name;
    EXPECT_EQ(json::parse(response.body).at("error"), "invalid-field") << name;
    EXPECT_EQ(json::parse(response.body).at("message"),
              "parameter " + name + ": has an empty value (leave the parameter out instead)");
  }
}

TEST_F(HttpApiTest, RejectsEmptyCursorOfTheChangeFeed) {
  Response response = api_->handle(get("/api/v1/changes", {{"after", ""}}));

  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(json::parse(response.body).at("message"),
            "parameter after: has an empty value (leave the parameter out instead)");
}

TEST_F(HttpApiTest, RejectsRepeatedSearchParameterNamingIt) {
  fillRegister();

  Response response =
      api_->handle(get("/api/v1/licences", {{"status", "terminated"}, {"status", "active"}}));

  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(json::parse(response.body).at("message"),
            "parameter status: given 2 times (give it once)");
}

TEST_F(HttpApiTest, RejectsRepeatedParameterOfTheChangeFeed) {
  Response response =
      api_->handle(get("/api/v1/changes", {{"limit", "5"}, {"after", "1"}, {"limit", "5"}}));

  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(json::parse(response.body).at("message"),
            "parameter limit: given 2 times (give it once)");
}

TEST_F(HttpApiTest, RejectsRepeatedParameterOfDeadLetters) {
  Response response =
      api_->handle(get("/api/v1/dead-letters", {{"after", "0"}, {"after", "1"}, {"after", "2"}}));

  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(json::parse(response.body).at("message"),
            "parameter after: given 3 times (give it once)");
}

TEST_F(HttpApiTest, FollowsTheChangeFeedFromACursor) {
  fillRegister();

  Response response = api_->handle(get("/api/v1/changes", {{"after", "2"}, {"limit", "10"}}));

  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body.find("310100016"), std::string::npos);
  EXPECT_NE(response.body.find("310100018"), std::string::npos);
  EXPECT_NE(response.body.find("310100017"), std::string::npos);
}

TEST_F(HttpApiTest, RejectsNegativeCursor) {
  Response response = api_->handle(get("/api/v1/changes", {{"after", "-1"}}));

  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(json::parse(response.body).at("message"),
            "parameter after: \"-1\" is not a whole number of at least 0");
}

TEST_F(HttpApiTest, RejectsUnknownParameterOfDeadLetters) {
  Response response = api_->handle(get("/api/v1/dead-letters", {{"since", "1"}}));

  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(json::parse(response.body).at("message"),
            "parameter since: unknown (known: after, limit)");
}

TEST_F(HttpApiTest, ListsDeadLetters) {
  fillRegister();

  Response response = api_->handle(get("/api/v1/dead-letters"));

  EXPECT_EQ(response.status, 200);
  EXPECT_NE(response.body.find("m-5"), std::string::npos);
  EXPECT_EQ(response.body.find("m-4"), std::string::npos);
}

TEST_F(HttpApiTest, ReportsStatsWithIntakeCounters) {
  fillRegister();

  json stats = json::parse(api_->handle(get("/api/v1/stats")).body);

  EXPECT_EQ(stats["register"]["licences"]["active"], 2);
  EXPECT_EQ(stats["register"]["licences"]["suspended"], 1);
  EXPECT_EQ(stats["register"]["deadLetters"], 1);
  EXPECT_EQ(stats["intake"]["applied"], 4);
  EXPECT_EQ(stats["intake"]["rejectedByReason"]["illegal-transition"], 1);
  EXPECT_EQ(stats["redis"]["state"], "disabled");
}

TEST_F(HttpApiTest, ReportsTheGatewaysOutboxWhenItHasOne) {
  ApiSources with_shep = sources(store_.get(), flow_.get(), &redis_health_);
  with_shep.shep_stats = [] { return ShepSenderCounters{5, 2, 1, 3}; };
  HttpApi api(with_shep);

  json stats = json::parse(api.handle(get("/api/v1/stats")).body);
  std::string metrics = api.handle(get("/metrics")).body;
  json without = json::parse(api_->handle(get("/api/v1/stats")).body);

  EXPECT_EQ(stats["shep"]["sent"], 5);
  EXPECT_EQ(stats["shep"]["retried"], 2);
  EXPECT_EQ(stats["shep"]["failed"], 1);
  EXPECT_EQ(stats["shep"]["outbox"], 3);
  EXPECT_NE(metrics.find("licgate_shep_sends_total{result=\"sent\"} 5\n"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("licgate_shep_sends_total{result=\"failed\"} 1\n"), std::string::npos);
  EXPECT_NE(metrics.find("licgate_shep_outbox_messages 3\n"), std::string::npos);
  EXPECT_FALSE(without.contains("shep"));
}

TEST_F(HttpApiTest, AnswersHealthz) {
  Response response = api_->handle(get("/healthz"));

  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(json::parse(response.body).at("status"), "up");
}

TEST_F(HttpApiTest, IsReadyWithoutRedisWhenRedisIsNotConfigured) {
  Response response = api_->handle(get("/readyz"));

  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(json::parse(response.body).at("redis"), "disabled");
}

TEST_F(HttpApiTest, IsReadyButDegradedWhenRedisDoesNotAnswer) {
  adapters::redis::RedisOptions options;
  options.port = testing::pickFreePort();
  auto probe = adapters::redis::makeSeenIds(options);
  RedisHealth health(true);
  HttpApi api(sources(store_.get(), flow_.get(), &health, probe.get()));

  Response response = api.handle(get("/readyz"));

  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(json::parse(response.body).at("redis"), "degraded");
  EXPECT_TRUE(health.degraded());
}

TEST_F(HttpApiTest, IsReadyWithRedisUp) {
  testing::RedisServer redis(dir_.path());
  redis.start();
  adapters::redis::RedisOptions options;
  options.port = redis.port();
  auto probe = adapters::redis::makeSeenIds(options);
  RedisHealth health(true);
  HttpApi api(sources(store_.get(), flow_.get(), &health, probe.get()));

  Response response = api.handle(get("/readyz"));

  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(json::parse(response.body).at("redis"), "up");
}

TEST_F(HttpApiTest, ExportsPrometheusMetrics) {
  fillRegister();

  Response response = api_->handle(get("/metrics"));

  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.content_type, "text/plain; version=0.0.4");
  EXPECT_NE(response.body.find("licgate_intake_messages_total{disposition=\"applied\"} 4\n"),
            std::string::npos);
  EXPECT_NE(response.body.find("licgate_intake_rejections_total{reason=\"illegal-transition\"} 1"),
            std::string::npos);
  EXPECT_NE(response.body.find("licgate_redis_degraded 0\n"), std::string::npos);
  EXPECT_NE(response.body.find("licgate_register_licences{status=\"suspended\"} 1\n"),
            std::string::npos);
}

TEST_F(HttpApiTest, AnswersUnknownPathWith404) {
  Response response = api_->handle(get("/api/v2/licences"));

  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(json::parse(response.body).at("message"), "no resource at /api/v2/licences");
}

TEST_F(HttpApiTest, RefusesMethodsOtherThanGet) {
  Request request = get("/api/v1/licences/310100016");
  request.method = "DELETE";

  Response response = api_->handle(request);

  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(response.headers, (std::map<std::string, std::string>{{"Allow", "GET"}}));
  EXPECT_EQ(json::parse(response.body).at("message"),
            "method DELETE is not allowed on /api/v1/licences/310100016");
}

// A mistyped path is not there whatever the method: a POST to it must not
// be told to use GET.
TEST_F(HttpApiTest, AnswersAnUnknownPath404WhateverTheMethod) {
  Request request = get("/api/v1/licenses");
  request.method = "POST";

  Response response = api_->handle(request);

  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.headers.count("Allow"), 0u);
  EXPECT_EQ(json::parse(response.body).at("message"), "no resource at /api/v1/licenses");
}

TEST_F(HttpApiTest, RefusesHeadWithAllowGet) {
  Request request = get("/api/v1/changes");
  request.method = "HEAD";

  Response response = api_->handle(request);

  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(response.headers, (std::map<std::string, std::string>{{"Allow", "GET"}}));
}

}  // namespace
}  // namespace licgate::gateway
