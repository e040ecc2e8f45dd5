// Reads asked on the e-government gateway's asynchronous channel, answered
// through the gateway: licgate's SOAP endpoint queues the RESPONSE in a real
// Redis, the sender POSTs it over real HTTP on loopback to a stand-in for
// the gateway (licgate's own HTTP server with a scripted handler), retries
// what may pass with back-off on an injected clock, and files what the
// gateway numbered in its chain.
#include "gateway/shep_sender.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "adapters/redis/exchange_log.hpp"
#include "gateway/soap_api.hpp"
#include "test/adapters/redis_process.hpp"
#include "test/gateway/fake_shep_gateway.hpp"
#include "test/gateway/register_fixture.hpp"
#include "test/gateway/shep_schema.hpp"
#include "test/gateway/soap_request.hpp"

namespace licgate::gateway {
namespace {

using adapters::http::Request;
using adapters::http::Response;

std::string readRequest(const std::string& message_id, const std::string& type = "REQUEST") {
  return "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>"
         "<a:sendMessage xmlns:a=\"http://bip.bee.kz/AsyncChannel/v10/Types\"><request>"
         "<messageInfo><messageId>" +
         message_id +
         "</messageId><correlationId>chain-r</correlationId>"
         "<serviceId>LICGATE_GET_LICENCE</serviceId><messageType>" +
         type +
         "</messageType><messageDate>2026-12-04T10:00:00Z</messageDate>"
         "<sender><senderId>tax</senderId></sender></messageInfo><messageData><data>"
         "<GetLicence xmlns=\"urn:licgate:soap:1\"><number>310100016</number></GetLicence>"
         "</data></messageData></request></a:sendMessage></soap:Body></soap:Envelope>";
}

class ShepSenderTest : public testing::RegisterFixture {
 protected:
  void SetUp() override {
    RegisterFixture::SetUp();
    ASSERT_TRUE(redis_.start()) << "redis-server did not start";
    ASSERT_TRUE(gateway_.start());
    adapters::redis::RedisOptions options;
    options.port = redis_.port();
    options.key_prefix = "t:";
    exchanges_ = adapters::redis::makeExchangeLog(options, 60'000);
    flow_->processBatch(
        {testing::delivery("eru-export", "m-1", testing::importEvent("310100016"))});
    shep_.services = {{"LICGATE_GET_LICENCE", "GetLicence"}};
    shep_.async_url = gateway_.url();
    shep_.sender_id = "LICGATE";
    shep_.password = "secret";
    shep_.send_backoff_ms = 100;
    shep_.send_backoff_max_ms = 1'000;
    shep_.send_attempts = 3;
    shep_.send_timeout_ms = 2'000;
    // The clock starts far ahead of the wall clock, so that what the API
    // queues "now" is due at once.
    now_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count() +
              1'000;
    sender_ = std::make_unique<ShepSender>(shep_, *exchanges_, [this] { return now_ms_; });
    api_ = std::make_unique<SoapApi>(*store_, flow_.get(), shep_, ShepParts{exchanges_.get()});
  }

  test::RedisProcess redis_;
  testing::FakeShepGateway gateway_;
  std::unique_ptr<adapters::redis::ExchangeLog> exchanges_;
  config::ShepConfig shep_;
  std::int64_t now_ms_ = 0;
  std::unique_ptr<ShepSender> sender_;
  std::unique_ptr<SoapApi> api_;
};

TEST_F(ShepSenderTest, ReadIsAnsweredAsTheChainsResponseThroughTheGateway) {
  Response ack = api_->handle(testing::soapPost(readRequest("shep-q-1")));
  ASSERT_EQ(ack.status, 200) << ack.body;
  EXPECT_TRUE(testing::contains(ack.body, "<messageId>shep-q-1</messageId>"));
  EXPECT_EQ(*exchanges_->outboxSize(), 1);

  ASSERT_TRUE(sender_->sendOne());

  auto calls = gateway_.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].headers.at("soapaction"), "\"\"");
  const std::string& sent = calls[0].body;
  EXPECT_TRUE(testing::contains(sent, "<correlationId>chain-r</correlationId>")) << sent;
  EXPECT_TRUE(testing::contains(sent, "<messageType>RESPONSE</messageType>"));
  EXPECT_TRUE(testing::contains(sent, "<senderId>LICGATE</senderId><password>secret</password>"));
  EXPECT_FALSE(testing::contains(sent, "<messageId>")) << "the gateway numbers the message";
  EXPECT_TRUE(testing::contains(sent, "<lg:found>true</lg:found>"));
  EXPECT_TRUE(testing::contains(sent, "<lg:number>310100016</lg:number>"));
  auto validated = testing::validateAgainstShep(testing::bodyElement(sent));
  EXPECT_EQ(validated.exit_code, 0) << validated.output;

  EXPECT_EQ(*exchanges_->outboxSize(), 0);
  EXPECT_EQ(sender_->counters().sent, 1u);
  auto filed = exchanges_->findSent("gw-1");
  ASSERT_TRUE(filed.ok() && filed->has_value());
  EXPECT_EQ((*filed)->direction, "sent");
  EXPECT_EQ((*filed)->correlation_id, "chain-r");
  // licgate's own id for its answer, of the same process as the request's.
  const std::string request_id = ack.headers.at("X-Correlation-Id");
  EXPECT_EQ((*filed)->licgate_id.substr(0, request_id.rfind('-')),
            request_id.substr(0, request_id.rfind('-')));
  EXPECT_TRUE((*filed)->licgate_id.ends_with("-response")) << (*filed)->licgate_id;
  EXPECT_EQ(*exchanges_->chainLength("chain-r"), 2);
  EXPECT_FALSE(sender_->sendOne());
}

TEST_F(ShepSenderTest, TheGatewaysStatusOfTheResponseIsThenAccepted) {
  ASSERT_EQ(api_->handle(testing::soapPost(readRequest("shep-q-1"))).status, 200);
  ASSERT_TRUE(sender_->sendOne());

  Response response = api_->handle(testing::soapPost(
      "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>"
      "<c:changeMassageStatusNotification "
      "xmlns:c=\"http://bip.bee.kz/AsyncChannel/v10/Types/Client\"><request><notification>"
      "<notificationId>n-1</notificationId><messageId>gw-1</messageId>"
      "<notificationDate>2026-12-04T10:05:00Z</notificationDate>"
      "<messageState>DELIVERED</messageState><status><statusCode>OK</statusCode>"
      "<statusMessage>delivered</statusMessage><statusDate>2026-12-04T10:04:59Z</statusDate>"
      "</status></notification><requestDate>2026-12-04T10:05:00Z</requestDate></request>"
      "</c:changeMassageStatusNotification></soap:Body></soap:Envelope>"));

  EXPECT_EQ(response.status, 200) << response.body;
  EXPECT_EQ((*exchanges_->findSent("gw-1"))->state, "DELIVERED");
}

TEST_F(ShepSenderTest, ARequestDeliveredAgainIsNotAnsweredTwice) {
  ASSERT_EQ(api_->handle(testing::soapPost(readRequest("shep-q-1"))).status, 200);
  Response again = api_->handle(testing::soapPost(readRequest("shep-q-1")));

  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(*exchanges_->outboxSize(), 1);
  EXPECT_TRUE(sender_->sendOne());
  EXPECT_FALSE(sender_->sendOne());
  EXPECT_EQ(gateway_.calls().size(), 1u);
}

TEST_F(ShepSenderTest, FailuresThatMayPassAreRetriedAfterABackOff) {
  gateway_.script({testing::ShepAnswer::kUnavailable, testing::ShepAnswer::kServerFault});
  ASSERT_EQ(api_->handle(testing::soapPost(readRequest("shep-q-1"))).status, 200);

  ASSERT_TRUE(sender_->sendOne());   // 503
  EXPECT_FALSE(sender_->sendOne());  // not due before its back-off
  now_ms_ += 100;                    // the first back-off is at most 100 ms
  ASSERT_TRUE(sender_->sendOne());   // a Server fault
  now_ms_ += 99;                     // the second is at least 100 ms
  EXPECT_FALSE(sender_->sendOne());
  now_ms_ += 101;                   // and at most 200
  ASSERT_TRUE(sender_->sendOne());  // acknowledged

  EXPECT_EQ(gateway_.calls().size(), 3u);
  EXPECT_EQ(sender_->counters().retried, 2u);
  EXPECT_EQ(sender_->counters().sent, 1u);
  EXPECT_TRUE(exchanges_->findSent("gw-3")->has_value());
}

TEST_F(ShepSenderTest, AClientFaultEndsTheMessageAtOnce) {
  gateway_.script({testing::ShepAnswer::kClientFault});
  ASSERT_EQ(api_->handle(testing::soapPost(readRequest("shep-q-1"))).status, 200);

  ASSERT_TRUE(sender_->sendOne());
  now_ms_ += 10'000;

  EXPECT_FALSE(sender_->sendOne());
  EXPECT_EQ(gateway_.calls().size(), 1u);
  EXPECT_EQ(sender_->counters().failed, 1u);
  EXPECT_EQ(*exchanges_->outboxSize(), 0);
}

TEST_F(ShepSenderTest, TheLastAttemptEndsTheMessage) {
  gateway_.script({testing::ShepAnswer::kUnavailable, testing::ShepAnswer::kUnavailable,
                   testing::ShepAnswer::kUnavailable});
  ASSERT_EQ(api_->handle(testing::soapPost(readRequest("shep-q-1"))).status, 200);

  for (int attempt = 0; attempt < 3; ++attempt) {
    ASSERT_TRUE(sender_->sendOne()) << attempt;
    now_ms_ += 1'000;
  }

  EXPECT_FALSE(sender_->sendOne());
  EXPECT_EQ(gateway_.calls().size(), 3u);
  EXPECT_EQ(sender_->counters().retried, 2u);
  EXPECT_EQ(sender_->counters().failed, 1u);
}

TEST_F(ShepSenderTest, AGatewayThatIsDownIsRetried) {
  shep_.async_url = "http://127.0.0.1:" + std::to_string(test::pickFreePort()) + "/bip-async";
  ShepSender sender(shep_, *exchanges_, [this] { return now_ms_; });
  ASSERT_EQ(api_->handle(testing::soapPost(readRequest("shep-q-1"))).status, 200);

  ASSERT_TRUE(sender.sendOne());

  EXPECT_EQ(sender.counters().retried, 1u);
  EXPECT_EQ(*exchanges_->outboxSize(), 1);
}

TEST_F(ShepSenderTest, AReadIsAskedWithARequest) {
  Response response = api_->handle(testing::soapPost(readRequest("shep-q-1", "NOTIFICATION")));

  EXPECT_EQ(response.status, 500);
  EXPECT_TRUE(
      testing::contains(response.body, "GetLicence is asked with a REQUEST, not a NOTIFICATION"))
      << response.body;
  EXPECT_EQ(*exchanges_->outboxSize(), 0);
}

TEST_F(ShepSenderTest, TheSendersThreadSendsWhatIsQueued) {
  ShepSender threaded(shep_, *exchanges_);
  SoapApi api(*store_, flow_.get(), shep_, ShepParts{exchanges_.get(), &threaded});
  threaded.start();
  ASSERT_EQ(api.handle(testing::soapPost(readRequest("shep-q-1"))).status, 200);

  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (threaded.counters().sent == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  threaded.stop();

  EXPECT_EQ(threaded.counters().sent, 1u);
  EXPECT_EQ(gateway_.calls().size(), 1u);
}

TEST(ShepSender, BackOffDoublesWithinItsCap) {
  test::RedisProcess redis;
  adapters::redis::RedisOptions options;
  auto exchanges = adapters::redis::makeExchangeLog(options, 1'000);
  config::ShepConfig shep;
  shep.send_backoff_ms = 100;
  shep.send_backoff_max_ms = 1'000;
  ShepSender sender(shep, *exchanges);

  for (int i = 0; i < 50; ++i) {
    std::int64_t first = sender.backoffAfter(1);
    std::int64_t third = sender.backoffAfter(3);
    std::int64_t tenth = sender.backoffAfter(10);
    EXPECT_GE(first, 50);
    EXPECT_LE(first, 100);
    EXPECT_GE(third, 200);
    EXPECT_LE(third, 400);
    EXPECT_GE(tenth, 500);
    EXPECT_LE(tenth, 1'000);
  }
}

}  // namespace
}  // namespace licgate::gateway
