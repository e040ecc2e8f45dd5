// The e-government gateway's synchronous SendMessage on licgate's SOAP
// endpoint: the three forms of data, the serviceId table, faults as
// ErrorInfo; requests and answers validated against the gateway's own
// schemas (test/gateway/shep_schema.hpp).
#include <gtest/gtest.h>

#include <pugixml.hpp>

#include <sstream>

#include "gateway/soap_api.hpp"
#include "test/gateway/register_fixture.hpp"
#include "test/gateway/shep_schema.hpp"
#include "test/gateway/soap_request.hpp"

namespace licgate::gateway {
namespace {

using adapters::http::Request;
using adapters::http::Response;

std::string sendMessage(const std::string& service, const std::string& data,
                        const std::string& data_attributes = "") {
  return "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" "
         "xmlns:typ=\"http://bip.bee.kz/SyncChannel/v10/Types\"><soap:Body><typ:SendMessage>"
         "<request><requestInfo><messageId>shep-42</messageId><serviceId>" +
         service +
         "</serviceId><messageDate>2026-12-04T10:00:00+06:00</messageDate><sender>"
         "<senderId>portal</senderId><password>secret</password></sender></requestInfo>"
         "<requestData><data" +
         data_attributes + ">" + data +
         "</data></requestData></request></typ:SendMessage></soap:Body></soap:Envelope>";
}

const std::string kGetLicence =
    "<GetLicence xmlns=\"urn:licgate:soap:1\"><number>310100016</number></GetLicence>";

class ShepSyncTest : public testing::RegisterFixture {
 protected:
  void SetUp() override {
    RegisterFixture::SetUp();
    flow_->processBatch(
        {testing::delivery("eru-export", "m-1", testing::importEvent("310100016"))});
    config::ShepConfig shep;
    shep.services = {{"LICGATE_GET_LICENCE", "GetLicence"},
                     {"LICGATE_SUBMIT_EVENT", "SubmitLicenceEvent"}};
    api_ = std::make_unique<SoapApi>(*store_, flow_.get(), shep);
  }

  std::unique_ptr<SoapApi> api_;
};

TEST_F(ShepSyncTest, AnswersWithTheOperationsAnswerInResponseData) {
  Response response =
      api_->handle(testing::soapPost(sendMessage("LICGATE_GET_LICENCE", kGetLicence)));

  EXPECT_EQ(response.status, 200) << response.body;
  EXPECT_NE(response.body.find("<shep:SendMessageResponse"), std::string::npos) << response.body;
  EXPECT_NE(response.body.find("<correlationId>shep-42</correlationId>"), std::string::npos);
  EXPECT_NE(response.body.find("<status><code>OK</code>"), std::string::npos);
  EXPECT_NE(response.body.find("<lg:found>true</lg:found>"), std::string::npos);
  EXPECT_NE(response.body.find("Obec Velký Karlov"), std::string::npos);
  auto validated = testing::validateAgainstShep(testing::bodyElement(response.body));
  EXPECT_EQ(validated.exit_code, 0) << validated.output;
}

TEST_F(ShepSyncTest, RequestsOfTheTestsAreValidForTheGatewaysSchemas) {
  auto validated = testing::validateAgainstShep(
      testing::bodyElement(sendMessage("LICGATE_GET_LICENCE", kGetLicence)));

  EXPECT_EQ(validated.exit_code, 0) << validated.output;
}

TEST_F(ShepSyncTest, DataAsAnEscapedXmlStringWorks) {
  Response response = api_->handle(testing::soapPost(sendMessage(
      "LICGATE_GET_LICENCE",
      "&lt;GetLicence xmlns=\"urn:licgate:soap:1\"&gt;&lt;number&gt;310100016&lt;/number&gt;"
      "&lt;/GetLicence&gt;")));

  EXPECT_EQ(response.status, 200) << response.body;
  EXPECT_NE(response.body.find("<lg:found>true</lg:found>"), std::string::npos) << response.body;
}

TEST_F(ShepSyncTest, DataTypedWithXsiTypeWorks) {
  Response response = api_->handle(testing::soapPost(sendMessage(
      "LICGATE_GET_LICENCE", "<number>310100016</number>",
      " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:lg=\"urn:licgate:soap:1\" "
      "xsi:type=\"lg:GetLicence\"")));

  EXPECT_EQ(response.status, 200) << response.body;
  EXPECT_NE(response.body.find("<lg:found>true</lg:found>"), std::string::npos) << response.body;
}

TEST_F(ShepSyncTest, SubmitTakesTheSendingSystemFromTheChannelsSender) {
  Response response = api_->handle(testing::soapPost(sendMessage(
      "LICGATE_SUBMIT_EVENT",
      "<SubmitLicenceEvent xmlns=\"urn:licgate:soap:1\"><messageId>shep-event-1</messageId>"
      "<licenceEvent xmlns=\"urn:licgate:licence-event:1\"><type>suspend</type>"
      "<licensor>CZ-ERU</licensor><occurredOn>2026-02-01</occurredOn>"
      "<licenceNumber>310100016</licenceNumber><reason>inspection</reason>"
      "</licenceEvent></SubmitLicenceEvent>")));

  EXPECT_EQ(response.status, 200) << response.body;
  EXPECT_NE(response.body.find("<lg:outcome>applied</lg:outcome>"), std::string::npos)
      << response.body;
  EXPECT_EQ(store_->findLicence("310100016")->status, registry::LicenceStatus::kSuspended);
}

TEST_F(ShepSyncTest, SubmitTakesItsMessageIdFromRequestInfoWhenTheDataNamesNone) {
  const std::string submit =
      "<SubmitLicenceEvent xmlns=\"urn:licgate:soap:1\"><licenceEvent "
      "xmlns=\"urn:licgate:licence-event:1\"><type>suspend</type><licensor>CZ-ERU</licensor>"
      "<occurredOn>2026-02-01</occurredOn><licenceNumber>310100016</licenceNumber>"
      "<reason>inspection</reason></licenceEvent></SubmitLicenceEvent>";

  Response first = api_->handle(testing::soapPost(sendMessage("LICGATE_SUBMIT_EVENT", submit)));
  Response again = api_->handle(testing::soapPost(sendMessage("LICGATE_SUBMIT_EVENT", submit)));

  EXPECT_EQ(first.status, 200) << first.body;
  EXPECT_TRUE(testing::contains(first.body, "<lg:outcome>applied</lg:outcome>"));
  EXPECT_TRUE(testing::contains(again.body, "<lg:outcome>duplicate</lg:outcome>")) << again.body;
  auto inbound = store_->findInbound("portal", "shep-42");
  ASSERT_TRUE(inbound.ok()) << inbound.error().message;
  EXPECT_TRUE(inbound->has_value());
}

struct FaultCase {
  const char* what;
  std::string body;
  std::string message_part;
};

TEST_F(ShepSyncTest, ErrorsAreFaultsWithTheChannelsErrorInfo) {
  const std::vector<FaultCase> cases{
      {"unknown service", sendMessage("TAX_SOMETHING", kGetLicence),
       "serviceId \"TAX_SOMETHING\" is not a service of licgate's (configured: "
       "LICGATE_GET_LICENCE, LICGATE_SUBMIT_EVENT)"},
      {"service and data disagree", sendMessage("LICGATE_SUBMIT_EVENT", kGetLicence),
       "serviceId \"LICGATE_SUBMIT_EVENT\" runs SubmitLicenceEvent, but the data holds "
       "GetLicence"},
      {"no service",
       "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>"
       "<typ:SendMessage xmlns:typ=\"http://bip.bee.kz/SyncChannel/v10/Types\"><request>"
       "<requestInfo><messageId>m</messageId><messageDate>2026-12-04T10:00:00Z</messageDate>"
       "<sender><senderId>p</senderId></sender></requestInfo><requestData><data>x</data>"
       "</requestData></request></typ:SendMessage></soap:Body></soap:Envelope>",
       "requestInfo/serviceId is missing"},
      {"empty data", sendMessage("LICGATE_GET_LICENCE", ""), "requestData/data is empty"},
      {"operation's own error",
       sendMessage("LICGATE_GET_LICENCE", "<GetLicence xmlns=\"urn:licgate:soap:1\"/>"),
       "GetLicence: &lt;number&gt; is missing"},
  };

  for (const FaultCase& each : cases) {
    Response response = api_->handle(testing::soapPost(each.body));

    EXPECT_EQ(response.status, 500) << each.what;
    EXPECT_NE(response.body.find("<shep:SendMessageFault1_SendMessageFault"), std::string::npos)
        << each.what << ": " << response.body;
    EXPECT_NE(response.body.find("<errorCode>invalid-field</errorCode>"), std::string::npos)
        << each.what << ": " << response.body;
    EXPECT_NE(response.body.find(each.message_part), std::string::npos)
        << each.what << ": " << response.body;
  }
}

TEST_F(ShepSyncTest, DataWithTwoOperationsIsRefused) {
  Response response = api_->handle(
      testing::soapPost(sendMessage("LICGATE_GET_LICENCE", kGetLicence + kGetLicence)));

  EXPECT_EQ(response.status, 500);
  EXPECT_NE(response.body.find("<errorCode>malformed</errorCode>"), std::string::npos)
      << response.body;
  EXPECT_NE(response.body.find("more than one element"), std::string::npos);
}

TEST_F(ShepSyncTest, FaultDetailIsValidErrorInfo) {
  Response response = api_->handle(testing::soapPost(sendMessage("TAX_SOMETHING", kGetLicence)));
  pugi::xml_document document;
  document.load_string(response.body.c_str());
  pugi::xml_node detail =
      document.document_element().first_child().first_child().child("detail").first_child();
  std::ostringstream out;
  detail.print(out, "", pugi::format_raw);

  auto validated = testing::validateAgainstShep(out.str());

  EXPECT_EQ(validated.exit_code, 0) << validated.output << "\n" << out.str();
}

}  // namespace
}  // namespace licgate::gateway
