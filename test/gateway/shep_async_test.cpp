// The e-government gateway's asynchronous channel on licgate's SOAP
// endpoint, licgate being the receiving system: sendMessage of each message
// type with its chain kept in a real Redis, the status notification of a
// message licgate sent, faults as the channel's ErrorInfo; messages and
// answers validated against the gateway's own schemas
// (test/gateway/shep_schema.hpp).
#include <gtest/gtest.h>

#include <regex>

#include "adapters/redis/exchange_log.hpp"
#include "gateway/soap_api.hpp"
#include "registry/text.hpp"
#include "test/adapters/redis_process.hpp"
#include "test/gateway/register_fixture.hpp"
#include "test/gateway/shep_schema.hpp"
#include "test/gateway/soap_request.hpp"

namespace licgate::gateway {
namespace {

using adapters::http::Request;
using adapters::http::Response;

constexpr std::string_view kTypes = "http://bip.bee.kz/AsyncChannel/v10/Types";

struct Info {
  std::string message_id = "shep-m-1";
  std::string correlation_id;  // left out when empty
  std::string type = "REQUEST";
  std::string service = "LICGATE_SUBMIT_EVENT";
  std::string date = "2026-12-04T10:00:00.123+06:00";
  std::string session;  // left out when empty
  std::string ns = std::string(kTypes);
  std::string sender = "portal";
  std::string properties = "<properties><key>region</key><value>Astana</value></properties>";
  std::string extra;  // more of messageInfo, at its end
};

std::string licenceEvent(const std::string& type, const std::string& extra = "") {
  return "<SubmitLicenceEvent xmlns=\"urn:licgate:soap:1\"><licenceEvent "
         "xmlns=\"urn:licgate:licence-event:1\"><type>" +
         type +
         "</type><licensor>CZ-ERU</licensor><occurredOn>2026-02-01</occurredOn>"
         "<licenceNumber>310100016</licenceNumber>" +
         extra + "</licenceEvent></SubmitLicenceEvent>";
}

std::string sendMessage(const Info& info, const std::string& data) {
  std::string message_info = "<messageId>" + info.message_id + "</messageId>";
  if (!info.correlation_id.empty()) {
    message_info += "<correlationId>" + info.correlation_id + "</correlationId>";
  }
  message_info += "<serviceId>" + info.service + "</serviceId><messageType>" + info.type +
                  "</messageType><messageDate>" + info.date + "</messageDate><sender><senderId>" +
                  info.sender + "</senderId><password>secret</password></sender>" + info.properties;
  if (!info.session.empty()) {
    message_info += "<sessionId>" + info.session + "</sessionId>";
  }
  message_info += info.extra;
  return "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:a=\"" +
         info.ns + "\"><soap:Body><a:sendMessage><request><messageInfo>" + message_info +
         "</messageInfo><messageData><data>" + data +
         "</data></messageData></request></a:sendMessage></soap:Body></soap:Envelope>";
}

std::string statusNotification(const std::string& message_id, const std::string& session) {
  return "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" "
         "xmlns:c=\"http://bip.bee.kz/AsyncChannel/v10/Types/Client\"><soap:Body>"
         "<c:changeMassageStatusNotification><request><notification>"
         "<notificationId>n-1</notificationId><messageId>" +
         message_id +
         "</messageId><notificationDate>2026-12-04T10:05:00Z</notificationDate>"
         "<messageState>DELIVERED</messageState><status><statusCode>OK</statusCode>"
         "<statusMessage>delivered</statusMessage><statusDate>2026-12-04T10:04:59Z</statusDate>"
         "</status></notification><requestDate>2026-12-04T10:05:00Z</requestDate>" +
         (session.empty() ? "" : "<sessionId>" + session + "</sessionId>") +
         "</request></c:changeMassageStatusNotification></soap:Body></soap:Envelope>";
}

class ShepAsyncTest : public testing::RegisterFixture {
 protected:
  void SetUp() override {
    RegisterFixture::SetUp();
    ASSERT_TRUE(redis_.start()) << "redis-server did not start";
    adapters::redis::RedisOptions options;
    options.port = redis_.port();
    options.retry_after_ms = 1;
    options.key_prefix = "t:";
    exchanges_ = adapters::redis::makeExchangeLog(options, 60'000);
    flow_->processBatch(
        {testing::delivery("eru-export", "m-1", testing::importEvent("310100016"))});
    shep_.services = {{"LICGATE_GET_LICENCE", "GetLicence"},
                      {"LICGATE_SUBMIT_EVENT", "SubmitLicenceEvent"}};
    api_ = std::make_unique<SoapApi>(*store_, flow_.get(), shep_, ShepParts{exchanges_.get()});
  }

  registry::LicenceStatus status() { return store_->findLicence("310100016")->status; }

  test::RedisProcess redis_;
  std::unique_ptr<adapters::redis::ExchangeLog> exchanges_;
  config::ShepConfig shep_;
  std::unique_ptr<SoapApi> api_;
};

const std::string kSuspend = licenceEvent("suspend", "<reason>inspection</reason>");

TEST_F(ShepAsyncTest, PropertyLengthsAreCountedInCharacters) {
  Info sixteen;
  sixteen.properties = "<properties><key>жжжжжжжжжжжжжжжж</key><value>" + std::string(250, 'x') +
                       "жж</value></properties>";
  Info too_long;
  too_long.message_id = "shep-m-2";
  too_long.properties =
      "<properties><key>a€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€</key>"
      "<value>x</value></properties>";

  Response accepted = api_->handle(testing::soapPost(sendMessage(sixteen, kSuspend)));
  Response refused = api_->handle(testing::soapPost(sendMessage(too_long, kSuspend)));

  EXPECT_EQ(accepted.status, 200) << accepted.body;
  EXPECT_EQ(refused.status, 500);
  EXPECT_TRUE(testing::contains(refused.body, "a key has at most 30 characters")) << refused.body;
  EXPECT_TRUE(registry::isValidUtf8(refused.body));
}

TEST_F(ShepAsyncTest, AnIdReusedForAnotherMessageIsAConflictAndChangesNothing) {
  ASSERT_EQ(api_->handle(testing::soapPost(sendMessage({}, kSuspend))).status, 200);
  Info other;
  other.type = "NOTIFICATION";
  other.correlation_id = "chain-x";

  Response response = api_->handle(
      testing::soapPost(sendMessage(other, licenceEvent("resume", "<reason>fixed</reason>"))));

  EXPECT_EQ(response.status, 500);
  EXPECT_TRUE(testing::contains(response.body, "<errorCode>conflict</errorCode>"));
  EXPECT_TRUE(testing::contains(response.body,
                                "messageId \"shep-m-1\" from portal was delivered "
                                "before as a REQUEST"))
      << response.body;
  EXPECT_EQ(status(), registry::LicenceStatus::kSuspended);
}

TEST_F(ShepAsyncTest, TheSameIdFromAnotherSenderIsAnotherMessage) {
  config_.systems.push_back({"tax", "Tax", {"*"}});
  flow_ = std::make_unique<IntakeFlow>(config_, *store_, nullptr, redis_health_);
  api_ = std::make_unique<SoapApi>(*store_, flow_.get(), shep_, ShepParts{exchanges_.get()});
  ASSERT_EQ(api_->handle(testing::soapPost(sendMessage({}, kSuspend))).status, 200);
  Info from_tax;
  from_tax.sender = "tax";

  Response response = api_->handle(
      testing::soapPost(sendMessage(from_tax, licenceEvent("resume", "<reason>fixed</reason>"))));

  EXPECT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(status(), registry::LicenceStatus::kActive);
  EXPECT_EQ((*exchanges_->findReceived("tax", "shep-m-1"))->outcome, "applied");
}

TEST_F(ShepAsyncTest, DataNamingAnotherSystemThanTheSenderIsRefused) {
  Response response = api_->handle(testing::soapPost(sendMessage(
      {}, "<SubmitLicenceEvent xmlns=\"urn:licgate:soap:1\"><system>eru-export</system>" +
              kSuspend.substr(kSuspend.find("<licenceEvent")))));

  EXPECT_EQ(response.status, 500);
  EXPECT_TRUE(testing::contains(response.body, "<errorCode>not-authorised</errorCode>"));
  EXPECT_TRUE(testing::contains(response.body,
                                "the data names the system \"eru-export\", but "
                                "the gateway's sender is \"portal\""))
      << response.body;
  EXPECT_EQ(status(), registry::LicenceStatus::kActive);
}

TEST_F(ShepAsyncTest, RepeatedUnknownAndUnboundedElementsAreRefused) {
  struct Case {
    Info info;
    std::string message_part;
  };
  std::vector<Case> cases(5);
  cases[0].info.extra = "<messageId>again</messageId>";
  cases[0].message_part = "messageInfo/messageId is given twice";
  cases[1].info.extra = "<bogus>1</bogus>";
  cases[1].message_part = "messageInfo/bogus is not an element the interface has here";
  cases[2].info.extra = "stray words";
  cases[2].message_part = "messageInfo/ holds text beside its elements";
  cases[3].info.message_id = std::string(1025, 'm');
  cases[3].message_part = "messageInfo/messageId has 1025 bytes; at most 1024";
  cases[4].info.properties = "<properties><key>k</key><key>k2</key><value>v</value></properties>";
  cases[4].message_part = "properties/key is given twice";

  for (const Case& each : cases) {
    Response response = api_->handle(testing::soapPost(sendMessage(each.info, kSuspend)));

    EXPECT_EQ(response.status, 500) << each.message_part;
    EXPECT_TRUE(testing::contains(response.body, "<errorCode>invalid-field</errorCode>"))
        << response.body;
    EXPECT_TRUE(testing::contains(response.body, each.message_part)) << response.body;
  }
  EXPECT_EQ(status(), registry::LicenceStatus::kActive);
}

TEST_F(ShepAsyncTest, AnIdWithAControlCharacterIsRefused) {
  Info info;
  info.message_id = "bad&#10;id";

  Response response = api_->handle(testing::soapPost(sendMessage(info, kSuspend)));

  EXPECT_EQ(response.status, 500);
  EXPECT_TRUE(testing::contains(response.body, "holds a control character")) << response.body;
}

TEST_F(ShepAsyncTest, RequestAppliesItsEventAndIsAcknowledgedWithItsChain) {
  Response response = api_->handle(
      testing::soapPost(sendMessage({}, licenceEvent("suspend", "<reason>inspection</reason>"))));

  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_TRUE(testing::contains(response.body, "<shep:sendMessageResponse xmlns:shep=\"" +
                                                   std::string(kTypes) +
                                                   "\"><response>"
                                                   "<messageId>shep-m-1</messageId>"
                                                   "<correlationId>shep-m-1<"))
      << response.body;
  EXPECT_EQ(status(), registry::LicenceStatus::kSuspended);
  auto validated = testing::validateAgainstShep(testing::bodyElement(response.body));
  EXPECT_EQ(validated.exit_code, 0) << validated.output;

  auto record = exchanges_->findReceived("portal", "shep-m-1");
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ((*record)->correlation_id, "shep-m-1");
  EXPECT_EQ((*record)->licgate_id, response.headers.at("X-Correlation-Id"));
  EXPECT_EQ((*record)->direction, "received");
  EXPECT_EQ((*record)->sender, "portal");
  EXPECT_EQ((*record)->message_type, "REQUEST");
  EXPECT_EQ((*record)->outcome, "applied");
}

TEST_F(ShepAsyncTest, MessagesOfTheTestsAreValidForTheGatewaysSchemas) {
  Info info;
  info.correlation_id = "chain-1";
  info.session = "{0f8fad5b-d9cb-469f-a165-70867728950e}";
  for (const std::string& body :
       {sendMessage(info, licenceEvent("suspend", "<reason>inspection</reason>")),
        statusNotification("x", info.session)}) {
    auto validated = testing::validateAgainstShep(testing::bodyElement(body));
    EXPECT_EQ(validated.exit_code, 0) << validated.output;
  }
}

TEST_F(ShepAsyncTest, MessageDeliveredAgainIsADuplicateAcknowledgedAgain) {
  ASSERT_EQ(api_->handle(testing::soapPost(sendMessage(
                             {}, licenceEvent("suspend", "<reason>inspection</reason>"))))
                .status,
            200);
  Response again = api_->handle(
      testing::soapPost(sendMessage({}, licenceEvent("suspend", "<reason>inspection</reason>"))));

  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_TRUE(testing::contains(again.body, "<messageId>shep-m-1</messageId>"));
  EXPECT_EQ(flow_->counters().duplicate, 1u);
  EXPECT_EQ(flow_->counters().applied, 2u);  // the import and the suspension
  EXPECT_EQ((*exchanges_->findReceived("portal", "shep-m-1"))->outcome, "applied");
  EXPECT_EQ(*exchanges_->chainLength("shep-m-1"), 1);
}

TEST_F(ShepAsyncTest, UpdateContinuesAKnownChain) {
  Info request;
  request.correlation_id = "chain-7";
  ASSERT_EQ(api_->handle(testing::soapPost(sendMessage(
                             request, licenceEvent("suspend", "<reason>inspection</reason>"))))
                .status,
            200);
  Info update;
  update.message_id = "shep-m-2";
  update.correlation_id = "chain-7";
  update.type = "UPDATE";

  Response response = api_->handle(
      testing::soapPost(sendMessage(update, licenceEvent("resume", "<reason>fixed</reason>"))));

  EXPECT_EQ(response.status, 200) << response.body;
  EXPECT_TRUE(testing::contains(response.body, "<correlationId>chain-7</correlationId>"));
  EXPECT_EQ(status(), registry::LicenceStatus::kActive);
  EXPECT_EQ(*exchanges_->chainLength("chain-7"), 2);
  EXPECT_EQ((*exchanges_->findReceived("portal", "shep-m-2"))->message_type, "UPDATE");
}

TEST_F(ShepAsyncTest, UpdateOrResponseToAnUnknownChainIsRefusedAndChangesNothing) {
  for (const char* type : {"UPDATE", "RESPONSE"}) {
    Info info;
    info.correlation_id = "never-seen";
    info.type = type;

    Response response = api_->handle(testing::soapPost(
        sendMessage(info, licenceEvent("suspend", "<reason>inspection</reason>"))));

    EXPECT_EQ(response.status, 500) << type;
    EXPECT_TRUE(testing::contains(response.body, "<shep:sendMessageFault1_sendMessageFault"))
        << response.body;
    EXPECT_TRUE(testing::contains(response.body, "<errorCode>not-found</errorCode>"))
        << response.body;
    EXPECT_TRUE(testing::contains(response.body,
                                  "correlationId \"never-seen\" names no chain licgate "
                                  "knows"))
        << response.body;
  }
  EXPECT_EQ(status(), registry::LicenceStatus::kActive);
  EXPECT_FALSE(exchanges_->findReceived("portal", "shep-m-1")->has_value());
}

TEST_F(ShepAsyncTest, NotificationNamesItsChainButMayOpenIt) {
  Info info;
  info.type = "NOTIFICATION";
  Response missing = api_->handle(
      testing::soapPost(sendMessage(info, licenceEvent("suspend", "<reason>inspection</reason>"))));
  info.correlation_id = "chain-n";
  Response named = api_->handle(
      testing::soapPost(sendMessage(info, licenceEvent("suspend", "<reason>inspection</reason>"))));

  EXPECT_EQ(missing.status, 500);
  EXPECT_TRUE(testing::contains(missing.body, "<errorCode>invalid-field</errorCode>"));
  EXPECT_TRUE(testing::contains(missing.body,
                                "messageInfo/correlationId is missing; a NOTIFICATION "
                                "belongs to a chain and names it"))
      << missing.body;
  EXPECT_EQ(named.status, 200) << named.body;
  EXPECT_EQ(*exchanges_->chainLength("chain-n"), 1);
}

TEST_F(ShepAsyncTest, RejectedEventIsAFaultKeptAsADeadLetterAndInItsChain) {
  Response response = api_->handle(
      testing::soapPost(sendMessage({}, licenceEvent("resume", "<reason>why</reason>"))));

  EXPECT_EQ(response.status, 500) << response.body;
  EXPECT_TRUE(testing::contains(response.body, "<errorCode>illegal-transition</errorCode>"))
      << response.body;
  auto letters = store_->deadLetters(0, 10);
  ASSERT_TRUE(letters.ok());
  ASSERT_EQ(letters->size(), 1u);
  EXPECT_EQ(letters->at(0).message_id, "shep-m-1");
  EXPECT_EQ(letters->at(0).sender_system, "portal");
  EXPECT_EQ((*exchanges_->findReceived("portal", "shep-m-1"))->outcome, "illegal-transition");
}

TEST_F(ShepAsyncTest, BadMessageInfoIsRefusedNamingTheElement) {
  struct Case {
    Info info;
    std::string message_part;
  };
  std::vector<Case> cases(5);
  cases[0].info.type = "QUESTION";
  cases[0].message_part =
      "messageInfo/messageType \"QUESTION\" is not REQUEST, NOTIFICATION, UPDATE or RESPONSE";
  cases[1].info.date = "04.12.2026 10:00";
  cases[1].message_part = "messageInfo/messageDate \"04.12.2026 10:00\" is not an xsd:dateTime";
  cases[2].info.session = "0f8fad5b-d9cb-469f-a165-70867728950e";
  cases[2].message_part = "is not a {guid}";
  cases[3].info.message_id = "";
  cases[3].message_part = "messageInfo/messageId is missing";
  cases[4].info.service = "TAX_SOMETHING";
  cases[4].message_part = "serviceId \"TAX_SOMETHING\" is not a service of licgate's";

  for (const Case& each : cases) {
    Response response = api_->handle(testing::soapPost(
        sendMessage(each.info, licenceEvent("suspend", "<reason>inspection</reason>"))));

    EXPECT_EQ(response.status, 500) << each.message_part;
    EXPECT_TRUE(testing::contains(response.body, "<errorCode>invalid-field</errorCode>"))
        << response.body;
    EXPECT_TRUE(testing::contains(response.body, each.message_part)) << response.body;
  }
  EXPECT_EQ(status(), registry::LicenceStatus::kActive);
}

TEST_F(ShepAsyncTest, ReadServicesAreNotOfferedOnThisChannel) {
  Info info;
  info.service = "LICGATE_GET_LICENCE";
  Response response = api_->handle(testing::soapPost(sendMessage(
      info, "<GetLicence xmlns=\"urn:licgate:soap:1\"><number>310100016</number></GetLicence>")));

  EXPECT_EQ(response.status, 500);
  EXPECT_TRUE(testing::contains(response.body, "<faultcode>soap:Server</faultcode>"));
  EXPECT_TRUE(testing::contains(response.body, "<errorCode>not-implemented</errorCode>"));
  EXPECT_TRUE(testing::contains(response.body,
                                "has no shep.async_url to send it to; ask on the "
                                "synchronous SendMessage"));
}

TEST_F(ShepAsyncTest, TheClientInterfacesNamespaceIsAnsweredInKind) {
  Info info;
  info.ns = "http://bip.bee.kz/AsyncChannel/v10/Types/Client";
  Response response = api_->handle(
      testing::soapPost(sendMessage(info, licenceEvent("suspend", "<reason>inspection</reason>"))));

  EXPECT_EQ(response.status, 200) << response.body;
  EXPECT_TRUE(
      testing::contains(response.body, "<shep:sendMessageResponse xmlns:shep=\"" + info.ns + "\""));
  auto validated = testing::validateAgainstShep(testing::bodyElement(response.body));
  EXPECT_EQ(validated.exit_code, 0) << validated.output;
}

// Redis is asked before anything changes, so a message that could not be
// recorded is not applied either: its redelivery applies it.
TEST_F(ShepAsyncTest, RedisDownIsRetryableAndChangesNothing) {
  redis_.stop();
  Response down = api_->handle(
      testing::soapPost(sendMessage({}, licenceEvent("suspend", "<reason>inspection</reason>"))));
  const registry::LicenceStatus while_down = status();
  ASSERT_TRUE(redis_.start());
  Response again = api_->handle(
      testing::soapPost(sendMessage({}, licenceEvent("suspend", "<reason>inspection</reason>"))));

  EXPECT_EQ(down.status, 500);
  EXPECT_EQ(while_down, registry::LicenceStatus::kActive);
  EXPECT_TRUE(testing::contains(down.body, "<faultcode>soap:Server</faultcode>"));
  EXPECT_TRUE(testing::contains(down.body, "<errorCode>unavailable</errorCode>")) << down.body;
  EXPECT_TRUE(testing::contains(down.body, "nothing was changed: deliver it again")) << down.body;
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(status(), registry::LicenceStatus::kSuspended);
  EXPECT_EQ(flow_->counters().applied, 2u);  // the import and the suspension, once
  EXPECT_EQ(flow_->counters().duplicate, 0u);
  EXPECT_EQ((*exchanges_->findReceived("portal", "shep-m-1"))->outcome, "applied");
}

TEST_F(ShepAsyncTest, WithoutRedisTheChannelIsNotImplemented) {
  SoapApi without(*store_, flow_.get(), shep_);
  Response response = without.handle(
      testing::soapPost(sendMessage({}, licenceEvent("suspend", "<reason>inspection</reason>"))));

  EXPECT_EQ(response.status, 500);
  EXPECT_TRUE(testing::contains(response.body, "<errorCode>not-implemented</errorCode>"));
  EXPECT_TRUE(testing::contains(response.body, "keeps its chains in Redis"));
  EXPECT_EQ(status(), registry::LicenceStatus::kActive);
}

TEST_F(ShepAsyncTest, StatusOfAMessageLicgateSentIsKeptAndAcknowledged) {
  adapters::redis::OutboundMessage sent;
  sent.licgate_id = "soap-x-1";
  sent.correlation_id = "chain-9";
  sent.message_type = "RESPONSE";
  ASSERT_TRUE(exchanges_->enqueue(sent, 0).ok());
  auto claimed = exchanges_->claimDue(1, 1'000);
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  ASSERT_TRUE(exchanges_->markSent(**claimed, "out-1").ok());
  const std::string session = "{0f8fad5b-d9cb-469f-a165-70867728950e}";

  Response echoed = api_->handle(testing::soapPost(statusNotification("out-1", session)));
  Response made = api_->handle(testing::soapPost(statusNotification("out-1", "")));

  ASSERT_EQ(echoed.status, 200) << echoed.body;
  EXPECT_TRUE(testing::contains(echoed.body, "<shep:changeMassageStatusNotificationResponse"));
  EXPECT_TRUE(testing::contains(echoed.body, "<sessionId>" + session + "</sessionId>"));
  auto validated = testing::validateAgainstShep(testing::bodyElement(echoed.body));
  EXPECT_EQ(validated.exit_code, 0) << validated.output;
  EXPECT_TRUE(std::regex_search(
      made.body, std::regex("<sessionId>\\{[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}\\}<")))
      << made.body;
  auto record = exchanges_->findSent("out-1");
  EXPECT_EQ((*record)->state, "DELIVERED");
  EXPECT_EQ((*record)->status_code, "OK");
  EXPECT_EQ((*record)->status_date, "2026-12-04T10:04:59Z");
}

TEST_F(ShepAsyncTest, AnOlderStatusIsAcknowledgedButNotKept) {
  adapters::redis::OutboundMessage sent;
  sent.licgate_id = "soap-x-2";
  sent.correlation_id = "chain-9";
  sent.message_type = "RESPONSE";
  ASSERT_TRUE(exchanges_->enqueue(sent, 0).ok());
  auto claimed = exchanges_->claimDue(1, 1'000);
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  ASSERT_TRUE(exchanges_->markSent(**claimed, "out-2").ok());
  ASSERT_EQ(api_->handle(testing::soapPost(statusNotification("out-2", ""))).status, 200);
  std::string older = statusNotification("out-2", "");
  older.replace(older.find("DELIVERED"), 9, "ON_DELIVERY");
  older.replace(older.find("2026-12-04T10:05:00Z"), 20, "2026-12-04T09:00:00Z");

  Response response = api_->handle(testing::soapPost(older));

  EXPECT_EQ(response.status, 200) << response.body;
  EXPECT_EQ((*exchanges_->findSent("out-2"))->state, "DELIVERED");
}

TEST_F(ShepAsyncTest, ASecondRequestOrAnythingBesideItIsRefused) {
  std::string two = sendMessage({}, kSuspend);
  const std::size_t end = two.find("</request>") + std::string("</request>").size();
  const std::string request = two.substr(two.find("<request>"), end - two.find("<request>"));
  std::string extra = two;
  two.insert(end, request);
  extra.insert(end, "<foo>bar</foo>");

  Response second = api_->handle(testing::soapPost(two));
  Response beside = api_->handle(testing::soapPost(extra));

  EXPECT_EQ(second.status, 500);
  EXPECT_TRUE(testing::contains(second.body,
                                "sendMessage: holds &lt;request&gt; beside its "
                                "request"))
      << second.body;
  EXPECT_EQ(beside.status, 500);
  EXPECT_TRUE(testing::contains(beside.body, "holds &lt;foo&gt; beside its request"))
      << beside.body;
  EXPECT_EQ(status(), registry::LicenceStatus::kActive);
}

TEST_F(ShepAsyncTest, TwoReadsSharingACorrelationHeaderEachGetTheirAnswer) {
  shep_.async_url = "http://127.0.0.1:9/bip-async";
  shep_.sender_id = "LICGATE";
  api_ = std::make_unique<SoapApi>(*store_, flow_.get(), shep_, ShepParts{exchanges_.get()});
  const std::string read =
      "<GetLicence xmlns=\"urn:licgate:soap:1\"><number>310100016</number></GetLicence>";
  Info first;
  first.service = "LICGATE_GET_LICENCE";
  first.message_id = "r-a";
  Info second = first;
  second.message_id = "r-b";

  for (const Info& info : {first, second}) {
    adapters::http::Request request = testing::soapPost(sendMessage(info, read));
    request.headers["x-correlation-id"] = "gw-fixed-1";
    ASSERT_EQ(api_->handle(request).status, 200);
  }

  EXPECT_EQ(*exchanges_->outboxSize(), 2);
}

TEST_F(ShepAsyncTest, AnOperationInAnotherChannelsNamespaceIsTheCallersMistake) {
  Response response = api_->handle(testing::soapPost(
      "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>"
      "<a:changeMassageStatusNotification xmlns:a=\"http://bip.bee.kz/AsyncChannel/v10/Types\">"
      "<request/></a:changeMassageStatusNotification></soap:Body></soap:Envelope>"));

  EXPECT_EQ(response.status, 500);
  EXPECT_TRUE(testing::contains(response.body, "<faultcode>soap:Client</faultcode>"));
  EXPECT_TRUE(testing::contains(response.body,
                                "operation changeMassageStatusNotification is in namespace "
                                "\"http://bip.bee.kz/AsyncChannel/v10/Types/Client\""))
      << response.body;
}

TEST_F(ShepAsyncTest, StatusOfAMessageLicgateDidNotSendIsRefused) {
  ASSERT_EQ(api_->handle(testing::soapPost(sendMessage(
                             {}, licenceEvent("suspend", "<reason>inspection</reason>"))))
                .status,
            200);

  for (const char* id : {"nobody", "shep-m-1"}) {
    Response response = api_->handle(testing::soapPost(statusNotification(id, "")));

    EXPECT_EQ(response.status, 500);
    EXPECT_TRUE(testing::contains(response.body,
                                  "<shep:changeMassageStatusNotificationFault1_"
                                  "changeMassageStatusNotificationFault"))
        << response.body;
    EXPECT_TRUE(testing::contains(response.body, "<errorCode>not-found</errorCode>"));
    EXPECT_TRUE(testing::contains(
        response.body, "messageId \"" + std::string(id) + "\" is not a message licgate sent"));
  }
  EXPECT_EQ((*exchanges_->findReceived("portal", "shep-m-1"))->state, "");
}

TEST_F(ShepAsyncTest, AnActionOnAGatewayOperationIsAnsweredWithItsErrorInfo) {
  Request request =
      testing::soapPost(sendMessage({}, licenceEvent("suspend", "<reason>inspection</reason>")));
  request.headers["soapaction"] = "\"urn:licgate:soap:1#sendMessage\"";
  Response response = api_->handle(request);

  EXPECT_EQ(response.status, 500);
  EXPECT_TRUE(testing::contains(response.body, "<shep:sendMessageFault1_sendMessageFault"));
  EXPECT_TRUE(testing::contains(response.body, "is not the operation's, \"\"")) << response.body;
  EXPECT_EQ(status(), registry::LicenceStatus::kActive);
}

}  // namespace
}  // namespace licgate::gateway
