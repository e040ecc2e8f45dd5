// SOAP envelopes: reading requests of both versions under any prefix and
// charset, refusing what a SOAP message must not be, writing faults.
#include "mapping/soap.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mapping/encoding.hpp"

namespace licgate::mapping {
namespace {

using registry::ErrorCode;

constexpr const char* kSoap11 = "text/xml; charset=utf-8";
constexpr const char* kSoap12 = "application/soap+xml; charset=utf-8";

std::string envelope11(const std::string& body, const std::string& prefix = "soap") {
  return "<" + prefix + ":Envelope xmlns:" + prefix +
         "=\"http://schemas.xmlsoap.org/soap/envelope/\"><" + prefix + ":Body>" + body + "</" +
         prefix + ":Body></" + prefix + ":Envelope>";
}

const std::string kGetLicence =
    "<lg:GetLicence xmlns:lg=\"urn:licgate:soap:1\"><lg:number>310100016</lg:number>"
    "</lg:GetLicence>";

TEST(SoapCall, ReadsTheOperationAndItsParameters) {
  auto call = readSoapCall(envelope11(kGetLicence), kSoap11);

  ASSERT_TRUE(call.ok()) << call.error().message;
  EXPECT_EQ(call->version, SoapVersion::k11);
  EXPECT_EQ(call->operation, "GetLicence");
  EXPECT_EQ(call->operation_ns, "urn:licgate:soap:1");
  ASSERT_EQ(call->parameters.size(), 1u);
  EXPECT_EQ(call->parameters[0].first, "number");
  EXPECT_EQ(call->parameters[0].second, "310100016");
}

// The same request in the shapes real stacks send: the prefix, default
// namespaces, a Header, comments, CDATA, white space and a byte order mark
// change nothing.
TEST(SoapCall, PrefixesAndLayoutDoNotMatter) {
  const std::vector<std::pair<std::string, std::string>> requests{
      {envelope11(kGetLicence, "SOAP-ENV"), kSoap11},
      {envelope11(kGetLicence, "s"), kSoap11},
      {"<Envelope xmlns=\"http://schemas.xmlsoap.org/soap/envelope/\"><Body>"
       "<GetLicence xmlns=\"urn:licgate:soap:1\"><number>310100016</number></GetLicence>"
       "</Body></Envelope>",
       kSoap11},
      {"<?xml version=\"1.0\"?>\n<!-- a comment -->\n<soap:Envelope "
       "xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">\n  <soap:Header/>\n  "
       "<soap:Body>\n    <lg:GetLicence xmlns:lg=\"urn:licgate:soap:1\">\n      <!-- c -->\n"
       "      <lg:number>\n <![CDATA[310100016]]>\n </lg:number>\n    </lg:GetLicence>\n"
       "  </soap:Body>\n</soap:Envelope>\n",
       kSoap11},
      {"\xEF\xBB\xBF" + envelope11(kGetLicence), "text/xml"},
      {"<env:Envelope xmlns:env=\"http://www.w3.org/2003/05/soap-envelope\"><env:Body>" +
           kGetLicence + "</env:Body></env:Envelope>",
       kSoap12},
  };

  for (const auto& [request, content_type] : requests) {
    auto call = readSoapCall(request, content_type);

    ASSERT_TRUE(call.ok()) << call.error().message << "\n" << request;
    EXPECT_EQ(call->operation, "GetLicence") << request;
    EXPECT_EQ(call->operation_ns, "urn:licgate:soap:1") << request;
    ASSERT_EQ(call->parameters.size(), 1u) << request;
    EXPECT_EQ(call->parameters[0].second, "310100016") << request;
  }
}

// A licence event inside a call is kept as a document of its own, with
// the declarations of its prefixes that it took from the envelope.
TEST(SoapCall, KeepsAStructuredParameterAsADocumentOfItsOwn) {
  std::string request =
      "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" "
      "xmlns:le=\"urn:licgate:licence-event:1\"><soap:Body>"
      "<lg:SubmitLicenceEvent xmlns:lg=\"urn:licgate:soap:1\"><lg:messageId>m-1</lg:messageId>"
      "<le:licenceEvent><le:type>suspend</le:type></le:licenceEvent></lg:SubmitLicenceEvent>"
      "</soap:Body></soap:Envelope>";

  auto call = readSoapCall(request, kSoap11);

  ASSERT_TRUE(call.ok()) << call.error().message;
  ASSERT_EQ(call->parameters.size(), 1u);
  EXPECT_EQ(call->parameters[0].second, "m-1");
  ASSERT_EQ(call->documents.size(), 1u);
  EXPECT_EQ(call->documents[0].first, "licenceEvent");
  EXPECT_EQ(call->documents[0].second,
            "<le:licenceEvent xmlns:lg=\"urn:licgate:soap:1\" "
            "xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" "
            "xmlns:le=\"urn:licgate:licence-event:1\"><le:type>suspend</le:type>"
            "</le:licenceEvent>");
}

TEST(SoapCall, TellsTheVersionByTheEnvelopeNamespace) {
  auto call =
      readSoapCall("<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body>" +
                       kGetLicence + "</s:Body></s:Envelope>",
                   "application/soap+xml; charset=utf-8; action=\"urn:licgate:soap:1#GetLicence\"");

  ASSERT_TRUE(call.ok()) << call.error().message;
  EXPECT_EQ(call->version, SoapVersion::k12);
}

TEST(SoapCall, TranscodesTheCharsetOfTheContentType) {
  std::string utf8 = envelope11(
      "<lg:FindLicences xmlns:lg=\"urn:licgate:soap:1\"><lg:name>ТОО Жылу</lg:name>"
      "</lg:FindLicences>");
  auto cp1251 = fromUtf8(utf8, "windows-1251");
  ASSERT_TRUE(cp1251.ok());

  auto call = readSoapCall(*cp1251, "text/xml; charset=windows-1251");

  ASSERT_TRUE(call.ok()) << call.error().message;
  EXPECT_EQ(call->parameters[0].second, "ТОО Жылу");
}

struct Refused {
  const char* what;
  std::string bytes;
  std::string content_type;
  ErrorCode code;
  std::string message_part;
};

TEST(SoapCall, RefusesWhatIsNotASoapRequest) {
  const std::vector<Refused> cases{
      {"billion laughs",
       "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 "
       "\"&lol;&lol;&lol;\">]>" +
           envelope11("<lg:GetLicence xmlns:lg=\"urn:licgate:soap:1\"><lg:number>&lol2;"
                      "</lg:number></lg:GetLicence>"),
       kSoap11, ErrorCode::kMalformed, "document type declaration"},
      {"external entity",
       "<!DOCTYPE x [<!ENTITY file SYSTEM \"file:///etc/passwd\">]>" +
           envelope11("<lg:GetLicence xmlns:lg=\"urn:licgate:soap:1\"><lg:number>&file;"
                      "</lg:number></lg:GetLicence>"),
       kSoap11, ErrorCode::kMalformed, "document type declaration"},
      {"not XML", "GetLicence 310100016", kSoap11, ErrorCode::kMalformed,
       "not XML: at byte offset"},
      {"truncated", envelope11(kGetLicence).substr(0, 60), kSoap11, ErrorCode::kMalformed,
       "not XML"},
      {"not an envelope", kGetLicence, kSoap11, ErrorCode::kMalformed,
       "expected a SOAP 1.1 or 1.2 Envelope"},
      {"unknown envelope namespace",
       "<soap:Envelope xmlns:soap=\"urn:other\"><soap:Body/></soap:Envelope>", kSoap11,
       ErrorCode::kVersionMismatch,
       "the Envelope is in namespace \"urn:other\", which is neither SOAP 1.1"},
      {"1.2 envelope as text/xml",
       "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body>" + kGetLicence +
           "</s:Body></s:Envelope>",
       kSoap11, ErrorCode::kMalformed, "SOAP 1.2 envelope sent as text/xml"},
      {"1.1 envelope as soap+xml", envelope11(kGetLicence), kSoap12, ErrorCode::kMalformed,
       "SOAP 1.1 envelope sent as application/soap+xml"},
      {"no Body",
       "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Header/>"
       "</soap:Envelope>",
       kSoap11, ErrorCode::kMalformed, "has no Body"},
      {"two Bodies",
       "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>" +
           kGetLicence + "</soap:Body><soap:Body/></soap:Envelope>",
       kSoap11, ErrorCode::kMalformed, "more than one Body"},
      {"empty Body", envelope11("<!-- nothing -->"), kSoap11, ErrorCode::kMalformed,
       "holds no operation"},
      {"Body of another namespace",
       "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" "
       "xmlns:x=\"urn:x\"><x:Body>" +
           kGetLicence + "</x:Body></soap:Envelope>",
       kSoap11, ErrorCode::kMalformed, "has no Body"},
      {"unknown charset", envelope11(kGetLicence), "text/xml; charset=ebcdic-xx",
       ErrorCode::kUnsupportedEncoding, "ebcdic-xx"},
      {"invalid UTF-8",
       envelope11("<lg:GetLicence xmlns:lg=\"urn:licgate:soap:1\">\xC3\x28"
                  "</lg:GetLicence>"),
       kSoap11, ErrorCode::kInvalidEncoding, "byte offset"},
      {"not a SOAP content type", envelope11(kGetLicence), "application/json",
       ErrorCode::kMalformed, "is not SOAP"},
  };

  for (const Refused& each : cases) {
    auto call = readSoapCall(each.bytes, each.content_type);

    ASSERT_FALSE(call.ok()) << each.what;
    EXPECT_EQ(call.error().code, each.code) << each.what << ": " << call.error().message;
    EXPECT_NE(call.error().message.find(each.message_part), std::string::npos)
        << each.what << ": " << call.error().message;
  }
}

TEST(SoapFault, Soap11HasFaultcodeFaultstringAndDetail) {
  auto error = registry::makeError(ErrorCode::kInvalidField, "parameter number: missing");

  std::string fault = writeSoapFault(SoapVersion::k11, error, "c-42");

  EXPECT_EQ(fault,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soap:Envelope "
            "xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body><soap:Fault>"
            "<faultcode>soap:Client</faultcode><faultstring>parameter number: missing"
            "</faultstring><detail><lg:error xmlns:lg=\"urn:licgate:soap:1\">"
            "<lg:code>invalid-field</lg:code><lg:correlationId>c-42</lg:correlationId>"
            "</lg:error></detail></soap:Fault></soap:Body></soap:Envelope>");
}

TEST(SoapFault, Soap12HasCodeValueReasonAndDetail) {
  auto error = registry::makeError(ErrorCode::kUnavailable, "the store does not answer");

  std::string fault = writeSoapFault(SoapVersion::k12, error, "c-43");

  EXPECT_NE(fault.find("xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\""),
            std::string::npos);
  EXPECT_NE(fault.find("<soap:Code><soap:Value>soap:Receiver</soap:Value></soap:Code>"),
            std::string::npos)
      << fault;
  EXPECT_NE(fault.find("<soap:Reason><soap:Text xml:lang=\"en\">the store does not answer"
                       "</soap:Text></soap:Reason>"),
            std::string::npos)
      << fault;
  EXPECT_NE(fault.find("<lg:code>unavailable</lg:code><lg:correlationId>c-43</lg:correlationId>"),
            std::string::npos)
      << fault;
}

TEST(SoapFault, InternalErrorTextNeverReachesTheCaller) {
  auto error = registry::makeError(ErrorCode::kInternal, "std::bad_alloc in saveLicenceRow");

  std::string fault = writeSoapFault(SoapVersion::k11, error, "c-44");

  EXPECT_EQ(fault.find("bad_alloc"), std::string::npos) << fault;
  EXPECT_NE(fault.find("<faultcode>soap:Server</faultcode>"), std::string::npos) << fault;
  EXPECT_NE(fault.find("correlation id c-44"), std::string::npos) << fault;
}

TEST(SoapFault, HttpStatusFollowsEachVersionsBinding) {
  EXPECT_EQ(soapFaultHttpStatus(SoapVersion::k11, ErrorCode::kInvalidField), 500);
  EXPECT_EQ(soapFaultHttpStatus(SoapVersion::k11, ErrorCode::kUnavailable), 500);
  EXPECT_EQ(soapFaultHttpStatus(SoapVersion::k12, ErrorCode::kInvalidField), 400);
  EXPECT_EQ(soapFaultHttpStatus(SoapVersion::k12, ErrorCode::kUnavailable), 500);
}

TEST(SoapEnvelope, WrapsTheResponseElementInTheVersionsEnvelope) {
  std::string response = writeSoapEnvelope(SoapVersion::k12, [](pugi::xml_node body) {
    body.append_child("lg:GetLicenceResponse")
        .append_attribute("xmlns:lg")
        .set_value("urn:licgate:soap:1");
  });

  EXPECT_EQ(response,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soap:Envelope "
            "xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\"><soap:Body>"
            "<lg:GetLicenceResponse xmlns:lg=\"urn:licgate:soap:1\"/></soap:Body>"
            "</soap:Envelope>");
}

TEST(SoapFaultReading, ReadsLicgatesOwnFaultsOfBothVersions) {
  auto error = registry::makeError(ErrorCode::kUnavailable, "store busy");

  auto fault11 = readSoapFault(writeSoapFault(SoapVersion::k11, error, "c-1"), kSoap11);
  auto fault12 = readSoapFault(writeSoapFault(SoapVersion::k12, error, "c-2"), kSoap12);

  ASSERT_TRUE(fault11.has_value());
  EXPECT_EQ(fault11->code, "Server");
  EXPECT_EQ(fault11->text, "store busy");
  EXPECT_EQ(fault11->licgate_code, "unavailable");
  ASSERT_TRUE(fault12.has_value());
  EXPECT_EQ(fault12->version, SoapVersion::k12);
  EXPECT_EQ(fault12->code, "Receiver");
  EXPECT_EQ(fault12->licgate_code, "unavailable");
}

// Other stacks' faults: other prefixes, a default namespace, a dotted code.
TEST(SoapFaultReading, ClassifiesTheSameWhateverThePrefix) {
  struct Case {
    std::string envelope;
    std::string content_type;
    std::string code;
    bool retry;
  };
  const std::vector<Case> cases{
      {"<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\">"
       "<SOAP-ENV:Body><SOAP-ENV:Fault><faultcode>SOAP-ENV:Client.Authentication</faultcode>"
       "<faultstring>bad password</faultstring></SOAP-ENV:Fault></SOAP-ENV:Body>"
       "</SOAP-ENV:Envelope>",
       kSoap11, "Client", false},
      {"<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><s:Fault>"
       "<faultcode xmlns:x=\"http://schemas.xmlsoap.org/soap/envelope/\">x:Server</faultcode>"
       "<faultstring>down</faultstring></s:Fault></s:Body></s:Envelope>",
       kSoap11, "Server", true},
      {"<Envelope xmlns=\"http://www.w3.org/2003/05/soap-envelope\"><Body><Fault><Code>"
       "<Value>Receiver</Value></Code><Reason><Text xml:lang=\"ru\">занят</Text></Reason>"
       "</Fault></Body></Envelope>",
       kSoap12, "Receiver", true},
      {"<e:Envelope xmlns:e=\"http://www.w3.org/2003/05/soap-envelope\"><e:Body><e:Fault>"
       "<e:Code><e:Value>e:Sender</e:Value></e:Code><e:Reason><e:Text xml:lang=\"en\">no"
       "</e:Text></e:Reason></e:Fault></e:Body></e:Envelope>",
       kSoap12, "Sender", false},
      {"<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>"
       "<soap:Fault><faultcode>soap:VersionMismatch</faultcode><faultstring>v</faultstring>"
       "</soap:Fault></soap:Body></soap:Envelope>",
       kSoap11, "VersionMismatch", false},
  };

  for (const Case& each : cases) {
    auto fault = readSoapFault(each.envelope, each.content_type);

    ASSERT_TRUE(fault.has_value()) << each.envelope;
    EXPECT_EQ(fault->code, each.code) << each.envelope;
    EXPECT_EQ(isRetryableFault(*fault), each.retry) << each.envelope;
  }
}

TEST(SoapFaultReading, AnswerWithoutAFaultOrNotSoapHasNone) {
  std::string answer = writeSoapEnvelope(SoapVersion::k11, [](pugi::xml_node body) {
    body.append_child("x:Answer").append_attribute("xmlns:x").set_value("urn:x");
  });

  EXPECT_FALSE(readSoapFault(answer, kSoap11).has_value());
  EXPECT_FALSE(readSoapFault("<html>502 Bad Gateway</html>", "text/html").has_value());
  EXPECT_FALSE(readSoapFault("", kSoap11).has_value());
}

}  // namespace
}  // namespace licgate::mapping
