// Tests of the SOAP services on a real SQLite store, called as the HTTP
// server calls them; every answer that is not a fault is validated against
// mapping/schema/licgate-soap.xsd by xmllint.
#include "gateway/soap_api.hpp"

#include <gtest/gtest.h>

#include <pugixml.hpp>

#include <sstream>

#include "gateway/intake_flow.hpp"
#include "gateway/redis_health.hpp"
#include "mapping/event_xml.hpp"
#include "test/gateway/gateway_samples.hpp"
#include "test/gateway/register_fixture.hpp"
#include "test/gateway/test_support.hpp"
#include "test/mapping/xmllint.hpp"

namespace licgate::gateway {
namespace {

using adapters::http::Request;
using adapters::http::Response;
using registry::EventType;
using testing::delivery;
using testing::importEvent;
using testing::licenceEvent;

constexpr const char* kSoap11Type = "text/xml; charset=utf-8";
constexpr const char* kSoap12Type = "application/soap+xml; charset=utf-8";

std::string envelope11(const std::string& operation) {
  return "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" "
         "xmlns:lg=\"urn:licgate:soap:1\"><soap:Body>" +
         operation + "</soap:Body></soap:Envelope>";
}

std::string envelope12(const std::string& operation) {
  return "<env:Envelope xmlns:env=\"http://www.w3.org/2003/05/soap-envelope\" "
         "xmlns:lg=\"urn:licgate:soap:1\"><env:Body>" +
         operation + "</env:Body></env:Envelope>";
}

Request post(std::string body, std::string content_type = kSoap11Type) {
  Request request;
  request.method = "POST";
  request.path = std::string(kSoapPath);
  request.target = request.path;
  request.headers["content-type"] = std::move(content_type);
  request.headers["host"] = "licgate.example:8080";
  request.body = std::move(body);
  return request;
}

Request getContract(std::multimap<std::string, std::string> query) {
  Request request;
  request.method = "GET";
  request.path = std::string(kSoapPath);
  request.query = std::move(query);
  request.headers["host"] = "licgate.example:8080";
  return request;
}

// The element in the Body of an answer, serialised on its own (it declares
// its namespaces itself), for xmllint.
std::string bodyElement(const std::string& envelope) {
  pugi::xml_document document;
  if (!document.load_string(envelope.c_str())) {
    return "<not-xml/>";
  }
  pugi::xml_node body = document.document_element().first_child();
  std::ostringstream out;
  body.first_child().print(out, "", pugi::format_raw);
  return out.str();
}

void expectValid(const std::string& envelope) {
  auto validated = mapping::validateWithXmllint({bodyElement(envelope)}, "licgate-soap.xsd");
  EXPECT_EQ(validated.exit_code, 0) << validated.output << "\n" << envelope;
}

class SoapApiTest : public testing::RegisterFixture {
 protected:
  void SetUp() override {
    RegisterFixture::SetUp();
    api_ = std::make_unique<SoapApi>(*store_, flow_.get());
  }

  // Three licences of one holder (IČ 00637076), the second suspended.
  void fillRegister() {
    flow_->processBatch(
        {delivery("eru-export", "m-1", importEvent("310100016")),
         delivery("eru-export", "m-2", importEvent("310100017")),
         delivery("eru-export", "m-3", importEvent("310100018")),
         delivery("eru-export", "m-4", licenceEvent(EventType::kSuspend, "310100017"))});
  }

  std::unique_ptr<SoapApi> api_;
};

TEST_F(SoapApiTest, GetLicenceAnswersWithTheLicence) {
  fillRegister();

  Response response = api_->handle(
      post(envelope11("<lg:GetLicence><lg:number>310100017</lg:number></lg:GetLicence>")));

  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.content_type, kSoap11Type);
  EXPECT_NE(response.body.find("<lg:found>true</lg:found>"), std::string::npos) << response.body;
  EXPECT_NE(response.body.find("<lg:number>310100017</lg:number>"), std::string::npos);
  EXPECT_NE(response.body.find("<lg:status>suspended</lg:status>"), std::string::npos);
  EXPECT_NE(response.body.find("Obec Velký Karlov"), std::string::npos);
  expectValid(response.body);
}

TEST_F(SoapApiTest, UnknownLicenceIsAnAnswerNotAFault) {
  Response response = api_->handle(
      post(envelope11("<lg:GetLicence><lg:number>99999999</lg:number></lg:GetLicence>")));

  EXPECT_EQ(response.status, 200);
  EXPECT_NE(response.body.find("<lg:found>false</lg:found>"), std::string::npos) << response.body;
  EXPECT_EQ(response.body.find("Fault"), std::string::npos);
  expectValid(response.body);
}

TEST_F(SoapApiTest, Soap12CallGetsASoap12Answer) {
  fillRegister();

  Response response = api_->handle(
      post(envelope12("<lg:GetLicence><lg:number>310100016</lg:number></lg:GetLicence>"),
           "application/soap+xml; charset=utf-8; action=\"urn:licgate:soap:1#GetLicence\""));

  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.content_type, kSoap12Type);
  EXPECT_NE(response.body.find("xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\""),
            std::string::npos);
  EXPECT_NE(response.body.find("<lg:found>true</lg:found>"), std::string::npos);
}

TEST_F(SoapApiTest, FindLicencesFiltersAndPages) {
  fillRegister();

  Response first = api_->handle(post(envelope11(
      "<lg:FindLicences><lg:holderScheme>cz-ico</lg:holderScheme><lg:holderId>637076"
      "</lg:holderId><lg:status>active</lg:status><lg:limit>1</lg:limit></lg:FindLicences>")));
  Response second = api_->handle(
      post(envelope11("<lg:FindLicences><lg:status>active</lg:status><lg:after>310100016</lg:after>"
                      "</lg:FindLicences>")));

  EXPECT_EQ(first.status, 200) << first.body;
  EXPECT_NE(first.body.find("<lg:number>310100016</lg:number>"), std::string::npos);
  EXPECT_EQ(first.body.find("310100018"), std::string::npos);
  EXPECT_NE(first.body.find("<lg:nextAfter>310100016</lg:nextAfter>"), std::string::npos);
  EXPECT_NE(second.body.find("<lg:number>310100018</lg:number>"), std::string::npos);
  EXPECT_EQ(second.body.find("310100017"), std::string::npos);
  EXPECT_EQ(second.body.find("nextAfter"), std::string::npos);
  expectValid(first.body);
  expectValid(second.body);
}

TEST_F(SoapApiTest, GetChangesCarriesEachCanonicalEvent) {
  fillRegister();

  Response response = api_->handle(post(
      envelope11("<lg:GetChanges><lg:after>2</lg:after><lg:limit>2</lg:limit></lg:GetChanges>")));

  EXPECT_EQ(response.status, 200) << response.body;
  EXPECT_NE(response.body.find("<lg:sequence>3</lg:sequence>"), std::string::npos);
  EXPECT_NE(response.body.find("<lg:sequence>4</lg:sequence>"), std::string::npos);
  EXPECT_EQ(response.body.find("<lg:sequence>2</lg:sequence>"), std::string::npos);
  EXPECT_NE(response.body.find("<licenceEvent xmlns=\"urn:licgate:licence-event:1\">"),
            std::string::npos)
      << response.body;
  EXPECT_NE(response.body.find("<lg:nextAfter>4</lg:nextAfter>"), std::string::npos);
  expectValid(response.body);
}

std::string submitCall(const std::string& message_id, const registry::Event& event,
                       const std::string& system = "eru-export") {
  return envelope11(
      "<lg:SubmitLicenceEvent><lg:system>" + system + "</lg:system><lg:messageId>" + message_id +
      "</lg:messageId>" +
      mapping::writeEventXml(event).substr(mapping::writeEventXml(event).find("<licenceEvent")) +
      "</lg:SubmitLicenceEvent>");
}

TEST_F(SoapApiTest, SubmitLicenceEventAppliesItOnceAndAnswersTheRepeatAsDuplicate) {
  const std::string call = submitCall("soap-m-1", importEvent("310100016"));

  Response first = api_->handle(post(call));
  Response again = api_->handle(post(call));

  EXPECT_EQ(first.status, 200) << first.body;
  EXPECT_NE(first.body.find("<lg:outcome>applied</lg:outcome>"), std::string::npos) << first.body;
  EXPECT_NE(first.body.find("<lg:licenceNumber>310100016</lg:licenceNumber>"), std::string::npos);
  EXPECT_NE(again.body.find("<lg:outcome>duplicate</lg:outcome>"), std::string::npos) << again.body;
  EXPECT_EQ(flow_->counters().applied, 1u);
  EXPECT_TRUE(store_->findLicence("310100016").ok());
  expectValid(first.body);
}

TEST_F(SoapApiTest, RejectedEventIsAFaultAndADeadLetter) {
  Response response =
      api_->handle(post(submitCall("soap-m-2", licenceEvent(EventType::kResume, "31999999"))));

  EXPECT_EQ(response.status, 500);
  EXPECT_NE(response.body.find("<faultcode>soap:Client</faultcode>"), std::string::npos)
      << response.body;
  EXPECT_NE(response.body.find("31999999"), std::string::npos) << response.body;
  auto letters = store_->deadLetters(0, 10);
  ASSERT_TRUE(letters.ok());
  ASSERT_EQ(letters->size(), 1u);
  EXPECT_EQ((*letters)[0].message_id, "soap-m-2");
  EXPECT_NE((*letters)[0].body.find("<licenceEvent"), std::string::npos);
}

TEST_F(SoapApiTest, SubmitFromAnUnknownSystemIsRefused) {
  Response response =
      api_->handle(post(submitCall("soap-m-3", importEvent("310100016"), "intruder")));

  EXPECT_NE(response.body.find("<lg:code>not-authorised</lg:code>"), std::string::npos)
      << response.body;
  EXPECT_FALSE(store_->findLicence("310100016").ok());
}

TEST_F(SoapApiTest, EventUnderAPrefixOfTheEnvelopeIsRead) {
  Response response = api_->handle(
      post("<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" "
           "xmlns:lg=\"urn:licgate:soap:1\" xmlns:le=\"urn:licgate:licence-event:1\"><soap:Body>"
           "<lg:SubmitLicenceEvent><lg:system>portal</lg:system><lg:messageId>p-1"
           "</lg:messageId><le:licenceEvent><le:type>refuse</le:type><le:licensor>CZ-ERU"
           "</le:licensor><le:occurredOn>2026-01-05</le:occurredOn><le:applicationRef>A-1"
           "</le:applicationRef><le:reason>incomplete</le:reason></le:licenceEvent>"
           "</lg:SubmitLicenceEvent></soap:Body></soap:Envelope>"));

  EXPECT_EQ(response.status, 200) << response.body;
  EXPECT_NE(response.body.find("<lg:outcome>applied</lg:outcome>"), std::string::npos);
}

struct FaultCase {
  const char* what;
  std::string operation;
  std::string fault_text;
  std::string code;
};

// Soap 1.1 faults are HTTP 500 with faultcode soap:Client for what the
// caller must change.
TEST_F(SoapApiTest, BadCallsAreClientFaultsNamingWhatIsWrong) {
  const std::vector<FaultCase> cases{
      {"no number", "<lg:GetLicence/>", "GetLicence: &lt;number&gt; is missing", "invalid-field"},
      {"unknown parameter", "<lg:GetLicence><lg:numbr>1</lg:numbr></lg:GetLicence>",
       "GetLicence: unknown parameter &lt;numbr&gt;", "invalid-field"},
      {"repeated parameter",
       "<lg:GetLicence><lg:number>1</lg:number><lg:number>2</lg:number></lg:GetLicence>",
       "parameter &lt;number&gt; is given twice", "invalid-field"},
      {"wrong check digit",
       "<lg:FindLicences><lg:holderScheme>cz-ico</lg:holderScheme><lg:holderId>00637077"
       "</lg:holderId></lg:FindLicences>",
       "check digit is 7, expected 6", "invalid-field"},
      {"half a holder", "<lg:FindLicences><lg:holderId>00637076</lg:holderId></lg:FindLicences>",
       "must be given together", "invalid-field"},
      {"limit out of range",
       "<lg:GetChanges><lg:after>0</lg:after><lg:limit>0</lg:limit>"
       "</lg:GetChanges>",
       "\"0\" is not a whole number in 1..1000", "invalid-field"},
      {"no cursor", "<lg:GetChanges/>", "&lt;after&gt; is missing", "invalid-field"},
      {"value for the event",
       "<lg:SubmitLicenceEvent><lg:system>eru-export</lg:system><lg:messageId>m</lg:messageId>"
       "<lg:licenceEvent>text</lg:licenceEvent></lg:SubmitLicenceEvent>",
       "parameter &lt;licenceEvent&gt; must hold an XML element", "invalid-field"},
      {"element for a value",
       "<lg:GetLicence><lg:number><lg:digits>1</lg:digits></lg:number></lg:GetLicence>",
       "parameter &lt;number&gt; must be a simple value", "invalid-field"},
      {"no message id",
       "<lg:SubmitLicenceEvent><lg:system>eru-export</lg:system></lg:SubmitLicenceEvent>",
       "&lt;messageId&gt; is missing", "invalid-field"},
      {"other namespace",
       "<x:GetLicence xmlns:x=\"urn:other\"><x:number>1</x:number>"
       "</x:GetLicence>",
       "is in namespace \"urn:other\"", "invalid-field"},
  };

  for (const FaultCase& each : cases) {
    Response response = api_->handle(post(envelope11(each.operation)));

    EXPECT_EQ(response.status, 500) << each.what;
    EXPECT_NE(response.body.find("<faultcode>soap:Client</faultcode>"), std::string::npos)
        << each.what << ": " << response.body;
    EXPECT_NE(response.body.find(each.fault_text), std::string::npos)
        << each.what << ": " << response.body;
    EXPECT_NE(response.body.find("<lg:code>" + each.code + "</lg:code>"), std::string::npos)
        << each.what << ": " << response.body;
  }
}

TEST_F(SoapApiTest, Soap12ClientFaultIs400WithSender) {
  Response response = api_->handle(post(envelope12("<lg:GetLicence/>"), kSoap12Type));

  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("<soap:Value>soap:Sender</soap:Value>"), std::string::npos)
      << response.body;
}

TEST_F(SoapApiTest, UnknownOperationIsNotImplemented) {
  Response response = api_->handle(post(envelope11("<lg:DeleteLicence/>")));

  EXPECT_EQ(response.status, 500);
  EXPECT_NE(response.body.find("<faultcode>soap:Server</faultcode>"), std::string::npos);
  EXPECT_NE(response.body.find("<lg:code>not-implemented</lg:code>"), std::string::npos);
  EXPECT_NE(response.body.find("operation DeleteLicence is not implemented"), std::string::npos);
}

TEST_F(SoapApiTest, SoapActionMustNameTheOperation) {
  Request wrong =
      post(envelope11("<lg:GetLicence><lg:number>310100016</lg:number></lg:GetLicence>"));
  wrong.headers["soapaction"] = "\"urn:licgate:soap:1#GetChanges\"";
  Request right = wrong;
  right.headers["soapaction"] = "\"urn:licgate:soap:1#GetLicence\"";
  Request empty = wrong;
  empty.headers["soapaction"] = "\"\"";

  Response refused = api_->handle(wrong);
  Response answered = api_->handle(right);
  Response unnamed = api_->handle(empty);

  EXPECT_EQ(refused.status, 500);
  EXPECT_NE(refused.body.find("is not the operation's"), std::string::npos) << refused.body;
  EXPECT_EQ(answered.status, 200);
  EXPECT_EQ(unnamed.status, 200);
}

TEST_F(SoapApiTest, Soap12ActionParameterMustNameTheOperation) {
  Response response =
      api_->handle(post(envelope12("<lg:GetLicence><lg:number>1</lg:number></lg:GetLicence>"),
                        "application/soap+xml;action=\"urn:licgate:soap:1#FindLicences\""));

  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("is not the operation's"), std::string::npos) << response.body;
}

TEST_F(SoapApiTest, WrongMethodIs405AndWrongContentType415) {
  Request put = post(envelope11("<lg:GetLicence/>"));
  put.method = "PUT";
  Request json = post("{}", "application/json");

  Response method = api_->handle(put);
  Response type = api_->handle(json);

  EXPECT_EQ(method.status, 405);
  EXPECT_EQ(method.headers.at("Allow"), "GET, POST");
  EXPECT_EQ(type.status, 415);
  EXPECT_NE(type.body.find("is not SOAP"), std::string::npos) << type.body;
}

TEST_F(SoapApiTest, MalformedEnvelopeIsAClientFault) {
  Response response = api_->handle(post("<soap:Envelope"));

  EXPECT_EQ(response.status, 500);
  EXPECT_NE(response.body.find("<lg:code>malformed</lg:code>"), std::string::npos) << response.body;
}

TEST_F(SoapApiTest, CorrelationIdOfTheCallerIsKeptElseOneIsMade) {
  Request named = post(envelope11("<lg:GetLicence/>"));
  named.headers["x-correlation-id"] = "portal-2026-0042";
  Request unnamed = post(envelope11("<lg:GetLicence/>"));

  Response first = api_->handle(named);
  Response second = api_->handle(unnamed);
  Response third = api_->handle(unnamed);

  EXPECT_EQ(first.headers.at("X-Correlation-Id"), "portal-2026-0042");
  EXPECT_NE(first.body.find("<lg:correlationId>portal-2026-0042</lg:correlationId>"),
            std::string::npos);
  EXPECT_EQ(second.headers.at("X-Correlation-Id").rfind("soap-", 0), 0u);
  EXPECT_NE(second.headers.at("X-Correlation-Id"), third.headers.at("X-Correlation-Id"));
}

TEST_F(SoapApiTest, ServesTheWsdlWithTheAddressAskedOn) {
  Response response = api_->handle(getContract({{"wsdl", ""}}));

  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.content_type, "text/xml; charset=utf-8");
  EXPECT_NE(response.body.find("location=\"http://licgate.example:8080/soap/v1\""),
            std::string::npos);
  EXPECT_NE(response.body.find(
                "schemaLocation=\"http://licgate.example:8080/soap/v1?xsd=licgate-soap.xsd\""),
            std::string::npos);
  EXPECT_EQ(response.body.find("127.0.0.1:8080"), std::string::npos);
  pugi::xml_document wsdl;
  EXPECT_TRUE(wsdl.load_string(response.body.c_str()));
  Response capitals = api_->handle(getContract({{"WSDL", ""}}));
  EXPECT_EQ(capitals.status, 200);
  EXPECT_EQ(capitals.body, response.body);
}

TEST_F(SoapApiTest, HostThatIsNotAnAuthorityGetsNoWsdl) {
  Request injected = getContract({{"wsdl", ""}});
  injected.headers["host"] = "x'/><injected/><y a='";
  Request missing = getContract({{"wsdl", ""}});
  missing.headers.erase("host");

  Response refused = api_->handle(injected);
  Response unnamed = api_->handle(missing);

  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(refused.body.find("injected"), std::string::npos);
  EXPECT_EQ(unnamed.status, 400);
}

TEST_F(SoapApiTest, ServesTheSchemasTheWsdlImports) {
  Response soap = api_->handle(getContract({{"xsd", "licgate-soap.xsd"}}));
  Response event = api_->handle(getContract({{"xsd", "licence-event.xsd"}}));
  Response other = api_->handle(getContract({{"xsd", "../../etc/passwd"}}));

  EXPECT_EQ(soap.status, 200);
  EXPECT_NE(soap.body.find(
                "schemaLocation=\"http://licgate.example:8080/soap/v1?xsd=licence-event.xsd\""),
            std::string::npos);
  EXPECT_EQ(event.status, 200);
  EXPECT_NE(event.body.find("targetNamespace=\"urn:licgate:licence-event:1\""), std::string::npos);
  EXPECT_EQ(other.status, 404);
}

}  // namespace
}  // namespace licgate::gateway
