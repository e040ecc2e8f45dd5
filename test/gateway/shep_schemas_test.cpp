// The e-government gateway's schemas compiled through licgate's wrapper
// (gateway/shep_schemas.hpp), and its messages validated against them, on
// the gateway's own interface files (the shared data set, shep/).
#include "gateway/shep_schemas.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "gateway/soap_api.hpp"
#include "test/gateway/register_fixture.hpp"
#include "test/gateway/shep_schema.hpp"
#include "test/gateway/soap_request.hpp"

namespace licgate::gateway {
namespace {

using registry::ErrorCode;

const std::string kSyncMessage =
    "<s:SendMessage xmlns:s=\"http://bip.bee.kz/SyncChannel/v10/Types\"><request><requestInfo>"
    "<messageId>m-1</messageId><serviceId>LICGATE_GET_LICENCE</serviceId>"
    "<messageDate>2026-12-04T10:00:00Z</messageDate><sender><senderId>tax</senderId></sender>"
    "</requestInfo><requestData><data xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
    "xmlns:lg=\"urn:licgate:soap:1\" xsi:type=\"lg:GetLicence\"><number>310100016</number>"
    "</data></requestData></request></s:SendMessage>";

// `route`: what goes between messageType and messageDate (routeId);
// `after_sender`: what follows sender (properties, sessionId, or wrong ones).
std::string asyncMessage(const std::string& type, const std::string& route = "",
                         const std::string& after_sender = "") {
  return "<a:sendMessage xmlns:a=\"http://bip.bee.kz/AsyncChannel/v10/Types\"><request>"
         "<messageInfo><messageId>m-1</messageId><correlationId>c-1</correlationId>"
         "<serviceId>S</serviceId><messageType>" +
         type + "</messageType>" + route +
         "<messageDate>2026-12-04T10:00:00Z</messageDate><sender><senderId>tax</senderId>"
         "</sender>" +
         after_sender +
         "</messageInfo><messageData><data><GetLicence xmlns=\"urn:licgate:soap:1\"><number>1"
         "</number></GetLicence></data></messageData></request></a:sendMessage>";
}

class ShepSchemasTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto loaded = ShepSchemas::load(testing::kShepData);
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    schemas_ = std::move(*loaded).release();
  }
  static void TearDownTestSuite() { delete schemas_; }

  static ShepSchemas* schemas_;
};

ShepSchemas* ShepSchemasTest::schemas_ = nullptr;

// Compiling a channel's interface schema as it stands fails in libxml2:
// the later imports of a namespace are skipped, so their types are
// missing. Through the wrapper the whole set compiles (SetUpTestSuite)
// with no error, so every type resolves.
TEST_F(ShepSchemasTest, TheWrapperMakesEveryTypeResolveWhereTheFilesAloneDoNot) {
  testing::TempDir dir;
  testing::writeFile(dir.file("doc.xml"), kSyncMessage);
  const std::string alone =
      (testing::kShepData / "AsyncChannel/v10/Types/IAsyncChannel.xsd").string();

  auto naive =
      mapping::runXmllint("xmllint --noout --schema '" + alone + "' '" + dir.file("doc.xml") + "'");

  EXPECT_NE(naive.exit_code, 0);
  EXPECT_NE(naive.output.find("Skipping import of schema"), std::string::npos) << naive.output;
  EXPECT_TRUE(schemas_->validate(kSyncMessage).ok());
}

TEST_F(ShepSchemasTest, MessagesOfEveryChannelAreValid) {
  for (const std::string& message :
       {kSyncMessage, asyncMessage("REQUEST"),
        asyncMessage("UPDATE", "<routeId>r</routeId>",
                     "<properties><key>k</key><value>v</value></properties>"),
        std::string("<c:changeMassageStatusNotification "
                    "xmlns:c=\"http://bip.bee.kz/AsyncChannel/v10/Types/Client\"><request>"
                    "<notification><notificationId>n</notificationId><messageId>m</messageId>"
                    "<notificationDate>2026-12-04T10:00:00Z</notificationDate>"
                    "<messageState>DELIVERED</messageState><status><statusCode>OK</statusCode>"
                    "<statusMessage>ok</statusMessage><statusDate>2026-12-04T10:00:00Z"
                    "</statusDate></status></notification><requestDate>2026-12-04T10:00:00Z"
                    "</requestDate></request></c:changeMassageStatusNotification>")}) {
    auto valid = schemas_->validate(message);
    EXPECT_TRUE(valid.ok()) << valid.error().message << "\n" << message;
  }
}

TEST_F(ShepSchemasTest, WhatBreaksTheSchemaIsNamed) {
  struct Case {
    std::string message;
    std::string message_part;
  };
  const std::vector<Case> cases{
      {asyncMessage("QUESTION"),
       "Element 'messageType': [facet 'enumeration'] The value "
       "'QUESTION' is not an element of the set"},
      {asyncMessage("REQUEST", "", "<colour>red</colour>"),
       "Element 'colour': This element is not "
       "expected"},
      {asyncMessage("REQUEST", "", "<sessionId>42</sessionId>"), "Element 'sessionId'"},
      {"<a:sendMessage xmlns:a=\"http://bip.bee.kz/AsyncChannel/v10/Types\"><a:request/>"
       "</a:sendMessage>",
       "Element '{http://bip.bee.kz/AsyncChannel/v10/Types}request': This element is not "
       "expected"},
  };
  for (const Case& each : cases) {
    auto valid = schemas_->validate(each.message);

    ASSERT_FALSE(valid.ok()) << each.message;
    EXPECT_EQ(valid.error().code, ErrorCode::kInvalidField);
    EXPECT_NE(valid.error().message.find(each.message_part), std::string::npos)
        << valid.error().message;
  }
}

TEST(ShepSchemas, ADirectoryWithoutSchemasOrWithABrokenOneIsRefused) {
  testing::TempDir empty;
  testing::TempDir broken;
  testing::writeFile(broken.file("bad.xsd"),
                     "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" "
                     "targetNamespace=\"urn:x\" xmlns:x=\"urn:x\"><xs:element name=\"a\" "
                     "type=\"x:Missing\"/></xs:schema>");

  auto none = ShepSchemas::load(empty.path());
  auto bad = ShepSchemas::load(broken.path());
  auto absent = ShepSchemas::load(empty.file("nowhere"));
  auto common_only = ShepSchemas::load(testing::kShepData / "common");

  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::kInvalidField);
  EXPECT_NE(none.error().message.find("holds no .xsd file"), std::string::npos);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kMalformed);
  EXPECT_NE(bad.error().message.find("do not compile"), std::string::npos);
  EXPECT_NE(bad.error().message.find("Missing"), std::string::npos) << bad.error().message;
  ASSERT_FALSE(absent.ok());
  EXPECT_NE(absent.error().message.find("is not a directory"), std::string::npos);
  ASSERT_FALSE(common_only.ok());
  EXPECT_NE(common_only.error().message.find("do not declare SendMessage of "
                                             "\"http://bip.bee.kz/SyncChannel/v10/Types\""),
            std::string::npos)
      << common_only.error().message;
}

class ShepValidationTest : public testing::RegisterFixture {};

TEST_F(ShepValidationTest, TheSoapEndpointRefusesAMessageTheSchemaRefuses) {
  auto schemas = ShepSchemas::load(testing::kShepData);
  ASSERT_TRUE(schemas.ok());
  flow_->processBatch({testing::delivery("eru-export", "m-1", testing::importEvent("310100016"))});
  config::ShepConfig shep;
  shep.services = {{"LICGATE_GET_LICENCE", "GetLicence"}};
  SoapApi api(*store_, flow_.get(), shep, ShepParts{nullptr, nullptr, schemas->get()});
  auto post = [&](const std::string& element) {
    return api.handle(testing::soapPost(
        "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>" +
        element + "</soap:Body></soap:Envelope>"));
  };

  auto valid = post(kSyncMessage);
  std::string invalid_message = kSyncMessage;
  invalid_message.replace(invalid_message.find("<sender>"), 0, "<extra>x</extra>");
  auto invalid = post(invalid_message);

  EXPECT_EQ(valid.status, 200) << valid.body;
  EXPECT_NE(valid.body.find("<lg:found>true</lg:found>"), std::string::npos);
  EXPECT_EQ(invalid.status, 500);
  EXPECT_NE(invalid.body.find("<shep:SendMessageFault1_SendMessageFault"), std::string::npos);
  EXPECT_NE(invalid.body.find("does not follow the e-government gateway's schema: Element "
                              "'extra': This element is not expected"),
            std::string::npos)
      << invalid.body;
}

}  // namespace
}  // namespace licgate::gateway
