// A corpus of malformed and edge-case SOAP requests, each with the exact
// answer it must get: HTTP status, fault code (or none) and licgate's error
// code. The requests are handed to the SOAP services as the HTTP server
// hands them over; what only the server decides (sizes, timeouts, the
// connection limit) is in test/adapters/http/server_test.cpp.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gateway/intake_flow.hpp"
#include "gateway/redis_health.hpp"
#include "gateway/soap_api.hpp"
#include "mapping/encoding.hpp"
#include "test/gateway/gateway_samples.hpp"
#include "test/gateway/register_fixture.hpp"
#include "test/gateway/test_support.hpp"

namespace licgate::gateway {
namespace {

using adapters::http::Request;
using adapters::http::Response;

const std::string kEnv11 = "http://schemas.xmlsoap.org/soap/envelope/";
const std::string kEnv12 = "http://www.w3.org/2003/05/soap-envelope";
const std::string kText = "text/xml; charset=utf-8";
const std::string kSoap12 = "application/soap+xml; charset=utf-8";

std::string wrap(const std::string& ns, const std::string& operation,
                 const std::string& prefix = "soap") {
  return "<" + prefix + ":Envelope xmlns:" + prefix + "=\"" + ns + "\"><" + prefix + ":Body>" +
         operation + "</" + prefix + ":Body></" + prefix + ":Envelope>";
}

std::string op(const std::string& name, const std::string& inner = "") {
  return "<lg:" + name + " xmlns:lg=\"urn:licgate:soap:1\">" + inner + "</lg:" + name + ">";
}

std::string getLicence(const std::string& number) {
  return op("GetLicence", "<lg:number>" + number + "</lg:number>");
}

struct Case {
  std::string what;
  std::string method;
  std::string content_type;
  std::string body;
  int status;
  std::string fault;  // faultcode or Code/Value; empty: no fault
  std::string code;   // licgate's error code in the detail; empty: none
  std::string soap_action = "";
};

std::vector<Case> corpus() {
  const std::string ok11 = wrap(kEnv11, getLicence("310100016"));
  const std::string ok12 = wrap(kEnv12, getLicence("310100016"));
  return {
      // Answers, not faults.
      {"1.1 found", "POST", kText, ok11, 200, "", ""},
      {"1.2 found", "POST", kSoap12, ok12, 200, "", ""},
      {"unknown licence", "POST", kText, wrap(kEnv11, getLicence("99999999")), 200, "", ""},
      {"prefix SOAP-ENV", "POST", kText, wrap(kEnv11, getLicence("310100016"), "SOAP-ENV"), 200, "",
       ""},
      {"prefix s", "POST", kText, wrap(kEnv11, getLicence("310100016"), "s"), 200, "", ""},
      {"default namespace", "POST", kText,
       "<Envelope xmlns=\"" + kEnv11 +
           "\"><Body><GetLicence xmlns=\"urn:licgate:soap:1\"><number>310100016</number>"
           "</GetLicence></Body></Envelope>",
       200, "", ""},
      {"header before body", "POST", kText,
       "<soap:Envelope xmlns:soap=\"" + kEnv11 +
           "\"><soap:Header><x:a xmlns:x=\"urn:x\"/>"
           "</soap:Header><soap:Body>" +
           getLicence("310100016") + "</soap:Body></soap:Envelope>",
       200, "", ""},
      {"header not to be understood", "POST", kText,
       "<soap:Envelope xmlns:soap=\"" + kEnv11 +
           "\"><soap:Header><x:a xmlns:x=\"urn:x\" soap:mustUnderstand=\"0\"/>"
           "</soap:Header><soap:Body>" +
           getLicence("310100016") + "</soap:Body></soap:Envelope>",
       200, "", ""},
      {"header to be understood by another actor", "POST", kText,
       "<soap:Envelope xmlns:soap=\"" + kEnv11 +
           "\"><soap:Header><x:a xmlns:x=\"urn:x\" soap:mustUnderstand=\"1\" "
           "soap:actor=\"urn:some-proxy\"/></soap:Header><soap:Body>" +
           getLicence("310100016") + "</soap:Body></soap:Envelope>",
       200, "", ""},
      {"1.2 header for no role", "POST", kSoap12,
       "<e:Envelope xmlns:e=\"" + kEnv12 +
           "\"><e:Header><x:a xmlns:x=\"urn:x\" e:mustUnderstand=\"true\" "
           "e:role=\"http://www.w3.org/2003/05/soap-envelope/role/none\"/></e:Header><e:Body>" +
           getLicence("310100016") + "</e:Body></e:Envelope>",
       200, "", ""},
      {"header licgate must understand", "POST", kText,
       "<soap:Envelope xmlns:soap=\"" + kEnv11 +
           "\"><soap:Header><w:Security xmlns:w=\"urn:wsse\" soap:mustUnderstand=\"1\"/>"
           "</soap:Header><soap:Body>" +
           getLicence("310100016") + "</soap:Body></soap:Envelope>",
       500, "soap:MustUnderstand", "must-understand"},
      {"mustUnderstand neither true nor false", "POST", kText,
       "<soap:Envelope xmlns:soap=\"" + kEnv11 +
           "\"><soap:Header><x:a xmlns:x=\"urn:x\" soap:mustUnderstand=\"yes\"/>"
           "</soap:Header><soap:Body>" +
           getLicence("310100016") + "</soap:Body></soap:Envelope>",
       500, "soap:Client", "malformed"},
      {"1.2 header licgate must understand", "POST", kSoap12,
       "<e:Envelope xmlns:e=\"" + kEnv12 +
           "\"><e:Header><x:a xmlns:x=\"urn:x\" e:mustUnderstand=\"true\" "
           "e:role=\"http://www.w3.org/2003/05/soap-envelope/role/ultimateReceiver\"/>"
           "</e:Header><e:Body>" +
           getLicence("310100016") + "</e:Body></e:Envelope>",
       500, "soap:MustUnderstand", "must-understand"},
      {"comments and white space", "POST", kText,
       "<?xml version=\"1.0\"?>\n<!-- c -->\n" +
           wrap(kEnv11, "\n  <!-- c -->\n  " + getLicence(" 310100016 ") + "\n"),
       200, "", ""},
      {"CDATA value", "POST", kText, wrap(kEnv11, getLicence("<![CDATA[310100016]]>")), 200, "",
       ""},
      {"character reference", "POST", kText, wrap(kEnv11, getLicence("&#51;10100016")), 200, "",
       ""},
      {"UTF-8 BOM", "POST", kText, "\xEF\xBB\xBF" + ok11, 200, "", ""},
      {"no charset parameter", "POST", "text/xml", ok11, 200, "", ""},
      {"matching SOAPAction", "POST", kText, ok11, 200, "", "",
       "\"urn:licgate:soap:1#GetLicence\""},
      {"empty SOAPAction", "POST", kText, ok11, 200, "", "", "\"\""},
      {"1.2 matching action", "POST", kSoap12 + "; action=\"urn:licgate:soap:1#GetLicence\"", ok12,
       200, "", ""},
      {"1.2 action parameter in capitals", "POST",
       kSoap12 + "; ACTION=\"urn:licgate:soap:1#GetLicence\"", ok12, 200, "", ""},
      {"1.2 wrong action in capitals", "POST",
       kSoap12 + "; Action=\"urn:licgate:soap:1#GetChanges\"", ok12, 400, "soap:Sender",
       "invalid-field"},
      {"find with no filter", "POST", kText, wrap(kEnv11, op("FindLicences")), 200, "", ""},
      {"changes from the start", "POST", kText,
       wrap(kEnv11, op("GetChanges", "<lg:after>0</lg:after>")), 200, "", ""},

      // HTTP refusals before any envelope is read.
      {"PUT", "PUT", kText, ok11, 405, "soap:Client", "malformed"},
      {"DELETE", "DELETE", kText, "", 405, "soap:Client", "malformed"},
      {"JSON content type", "POST", "application/json", "{}", 415, "soap:Client", "malformed"},
      {"no content type", "POST", "", ok11, 415, "soap:Client", "malformed"},
      {"application/xml", "POST", "application/xml", ok11, 415, "soap:Client", "malformed"},

      // Not a SOAP envelope.
      {"empty body", "POST", kText, "", 500, "soap:Client", "malformed"},
      {"plain text", "POST", kText, "GetLicence 310100016", 500, "soap:Client", "malformed"},
      {"truncated", "POST", kText, ok11.substr(0, 50), 500, "soap:Client", "malformed"},
      {"mismatched tags", "POST", kText,
       "<soap:Envelope xmlns:soap=\"" + kEnv11 + "\"><soap:Body></soap:Envelope>", 500,
       "soap:Client", "malformed"},
      {"two roots", "POST", kText, ok11 + ok11, 500, "soap:Client", "malformed"},
      {"not an envelope", "POST", kText, getLicence("310100016"), 500, "soap:Client", "malformed"},
      {"unknown envelope namespace", "POST", kText, wrap("urn:soap:9", getLicence("1")), 500,
       "soap:VersionMismatch", "version-mismatch"},
      {"envelope without namespace", "POST", kText,
       "<Envelope><Body>" + getLicence("1") + "</Body></Envelope>", 500, "soap:VersionMismatch",
       "version-mismatch"},
      {"unknown envelope namespace as soap+xml", "POST", kSoap12,
       wrap("urn:soap:9", getLicence("1")), 500, "soap:VersionMismatch", "version-mismatch"},
      {"1.2 envelope as text/xml", "POST", kText, ok12, 500, "soap:Client", "malformed"},
      {"1.1 envelope as soap+xml", "POST", kSoap12, ok11, 400, "soap:Sender", "malformed"},
      {"no Body", "POST", kText,
       "<soap:Envelope xmlns:soap=\"" + kEnv11 + "\"><soap:Header/></soap:Envelope>", 500,
       "soap:Client", "malformed"},
      {"two Bodies", "POST", kText,
       "<soap:Envelope xmlns:soap=\"" + kEnv11 + "\"><soap:Body>" + getLicence("1") +
           "</soap:Body><soap:Body/></soap:Envelope>",
       500, "soap:Client", "malformed"},
      {"empty Body", "POST", kText, wrap(kEnv11, ""), 500, "soap:Client", "malformed"},
      {"Body of text only", "POST", kText, wrap(kEnv11, "GetLicence"), 500, "soap:Client",
       "malformed"},
      {"two operations", "POST", kText, wrap(kEnv11, getLicence("1") + getLicence("2")), 500,
       "soap:Client", "malformed"},
      {"undeclared prefix", "POST", kText,
       wrap(kEnv11, "<q:GetLicence><q:number>1</q:number></q:GetLicence>"), 500, "soap:Client",
       "malformed"},
      {"control character reference in an event", "POST", kText,
       wrap(kEnv11, op("SubmitLicenceEvent",
                       "<lg:system>eru-export</lg:system><lg:messageId>c-4</lg:messageId>"
                       "<licenceEvent xmlns=\"urn:licgate:licence-event:1\"><type>refuse</type>"
                       "<licensor>CZ-ERU</licensor><occurredOn>2026-01-05</occurredOn>"
                       "<applicationRef>A-1</applicationRef><reason>bad&#1;</reason>"
                       "</licenceEvent>")),
       500, "soap:Client", "malformed"},

      // Hostile XML.
      {"billion laughs", "POST", kText,
       "<!DOCTYPE l [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]>" +
           wrap(kEnv11, getLicence("&b;")),
       500, "soap:Client", "malformed"},
      {"external entity", "POST", kText,
       "<!DOCTYPE l [<!ENTITY f SYSTEM \"file:///etc/passwd\">]>" + wrap(kEnv11, getLicence("&f;")),
       500, "soap:Client", "malformed"},
      {"external DTD", "POST", kText,
       "<!DOCTYPE soap:Envelope SYSTEM \"http://127.0.0.1:9/evil.dtd\">" + ok11, 500, "soap:Client",
       "malformed"},
      {"undeclared entity", "POST", kText, wrap(kEnv11, getLicence("&undeclared;")), 500,
       "soap:Client", "malformed"},
      {"character reference to NUL", "POST", kText, wrap(kEnv11, getLicence("&#0;310100016")), 500,
       "soap:Client", "malformed"},
      {"raw ampersand", "POST", kText, wrap(kEnv11, getLicence("31&0100016")), 500, "soap:Client",
       "malformed"},
      {"attribute given twice", "POST", kText,
       "<soap:Envelope xmlns:soap=\"" + kEnv11 + "\" a=\"1\" a=\"2\"><soap:Body>" +
           getLicence("310100016") + "</soap:Body></soap:Envelope>",
       500, "soap:Client", "malformed"},
      {"text after the root", "POST", kText, ok11 + "trailing words", 500, "soap:Client",
       "malformed"},
      {"XML declaration not first", "POST", kText, " <?xml version=\"1.0\"?>" + ok11, 500,
       "soap:Client", "malformed"},

      // Charsets.
      {"unknown charset", "POST", "text/xml; charset=x-klingon", ok11, 500, "soap:Client",
       "unsupported-encoding"},
      {"invalid UTF-8", "POST", kText, wrap(kEnv11, getLicence("31\xC3\x28")), 500, "soap:Client",
       "invalid-encoding"},
      {"declaration contradicts BOM", "POST", kText,
       "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"windows-1250\"?>" + ok11, 500, "soap:Client",
       "invalid-encoding"},

      // Operations and parameters.
      {"unknown operation", "POST", kText, wrap(kEnv11, op("DeleteLicence")), 500, "soap:Server",
       "not-implemented"},
      {"unknown operation 1.2", "POST", kSoap12, wrap(kEnv12, op("DeleteLicence")), 500,
       "soap:Receiver", "not-implemented"},
      {"operation in another namespace", "POST", kText,
       wrap(kEnv11, "<x:GetLicence xmlns:x=\"urn:x\"><x:number>1</x:number></x:GetLicence>"), 500,
       "soap:Client", "invalid-field"},
      {"operation without namespace", "POST", kText,
       wrap(kEnv11, "<GetLicence><number>1</number></GetLicence>"), 500, "soap:Client",
       "invalid-field"},
      {"missing number", "POST", kText, wrap(kEnv11, op("GetLicence")), 500, "soap:Client",
       "invalid-field"},
      {"empty number", "POST", kText, wrap(kEnv11, getLicence("")), 500, "soap:Client",
       "invalid-field"},
      {"missing number 1.2", "POST", kSoap12, wrap(kEnv12, op("GetLicence")), 400, "soap:Sender",
       "invalid-field"},
      {"unknown parameter", "POST", kText,
       wrap(kEnv11, op("GetLicence", "<lg:nummer>1</lg:nummer>")), 500, "soap:Client",
       "invalid-field"},
      {"repeated parameter", "POST", kText,
       wrap(kEnv11, op("GetLicence", "<lg:number>1</lg:number><lg:number>2</lg:number>")), 500,
       "soap:Client", "invalid-field"},
      {"structured number", "POST", kText,
       wrap(kEnv11, op("GetLicence", "<lg:number><lg:x>1</lg:x></lg:number>")), 500, "soap:Client",
       "invalid-field"},
      {"wrong SOAPAction", "POST", kText, ok11, 500, "soap:Client", "invalid-field",
       "\"urn:licgate:soap:1#GetChanges\""},
      {"1.2 wrong action", "POST", kSoap12 + ";action=\"urn:other#GetLicence\"", ok12, 400,
       "soap:Sender", "invalid-field"},
      {"limit zero", "POST", kText, wrap(kEnv11, op("FindLicences", "<lg:limit>0</lg:limit>")), 500,
       "soap:Client", "invalid-field"},
      {"limit too large", "POST", kText,
       wrap(kEnv11, op("FindLicences", "<lg:limit>1001</lg:limit>")), 500, "soap:Client",
       "invalid-field"},
      {"limit not a number", "POST", kText,
       wrap(kEnv11, op("FindLicences", "<lg:limit>ten</lg:limit>")), 500, "soap:Client",
       "invalid-field"},
      {"unknown status", "POST", kText,
       wrap(kEnv11, op("FindLicences", "<lg:status>dormant</lg:status>")), 500, "soap:Client",
       "invalid-field"},
      {"unknown holder scheme", "POST", kText,
       wrap(kEnv11, op("FindLicences",
                       "<lg:holderScheme>us-ssn</lg:holderScheme><lg:holderId>1</lg:holderId>")),
       500, "soap:Client", "invalid-field"},
      {"BIN with a wrong check digit", "POST", kText,
       wrap(kEnv11, op("FindLicences",
                       "<lg:holderScheme>kz-bin</lg:holderScheme>"
                       "<lg:holderId>040840001232</lg:holderId>")),
       500, "soap:Client", "invalid-field"},
      {"holder id without scheme", "POST", kText,
       wrap(kEnv11, op("FindLicences", "<lg:holderId>00637076</lg:holderId>")), 500, "soap:Client",
       "invalid-field"},
      {"changes without cursor", "POST", kText, wrap(kEnv11, op("GetChanges")), 500, "soap:Client",
       "invalid-field"},
      {"negative cursor", "POST", kText, wrap(kEnv11, op("GetChanges", "<lg:after>-1</lg:after>")),
       500, "soap:Client", "invalid-field"},
      {"submit without event", "POST", kText,
       wrap(kEnv11, op("SubmitLicenceEvent",
                       "<lg:system>eru-export</lg:system><lg:messageId>c-1</lg:messageId>")),
       500, "soap:Client", "invalid-field"},
      {"submit of a malformed event", "POST", kText,
       wrap(kEnv11, op("SubmitLicenceEvent",
                       "<lg:system>eru-export</lg:system><lg:messageId>c-2</lg:messageId>"
                       "<licenceEvent xmlns=\"urn:licgate:licence-event:1\"><type>suspend</type>"
                       "</licenceEvent>")),
       500, "soap:Client", "invalid-field"},
      {"submit from an unknown system", "POST", kText,
       wrap(kEnv11, op("SubmitLicenceEvent",
                       "<lg:system>nobody</lg:system><lg:messageId>c-3</lg:messageId>"
                       "<licenceEvent xmlns=\"urn:licgate:licence-event:1\"><type>suspend</type>"
                       "<licensor>CZ-ERU</licensor><occurredOn>2026-01-05</occurredOn>"
                       "<licenceNumber>310100016</licenceNumber></licenceEvent>")),
       500, "soap:Client", "not-authorised"},
  };
}

class SoapCorpusTest : public testing::RegisterFixture {
 protected:
  void SetUp() override {
    RegisterFixture::SetUp();
    flow_->processBatch(
        {testing::delivery("eru-export", "m-1", testing::importEvent("310100016"))});
    api_ = std::make_unique<SoapApi>(*store_, flow_.get());
  }

  std::unique_ptr<SoapApi> api_;
};

TEST_F(SoapCorpusTest, EachRequestGetsItsExactAnswer) {
  const std::vector<Case> cases = corpus();
  ASSERT_GE(cases.size(), 50u);

  for (const Case& each : cases) {
    Request request;
    request.method = each.method;
    request.path = std::string(kSoapPath);
    request.target = request.path;
    if (!each.content_type.empty()) {
      request.headers["content-type"] = each.content_type;
    }
    if (!each.soap_action.empty()) {
      request.headers["soapaction"] = each.soap_action;
    }
    request.body = each.body;

    Response response = api_->handle(request);

    EXPECT_EQ(response.status, each.status) << each.what << ": " << response.body;
    if (each.fault.empty()) {
      EXPECT_EQ(response.body.find("Fault>"), std::string::npos)
          << each.what << ": " << response.body;
    } else {
      // Faults are in the version the Content-Type announced, SOAP 1.1 when
      // it announced none.
      bool soap11 = !each.content_type.starts_with("application/soap+xml");
      std::string expected = soap11 ? "<faultcode>" + each.fault + "</faultcode>"
                                    : "<soap:Value>" + each.fault + "</soap:Value>";
      EXPECT_NE(response.body.find(expected), std::string::npos)
          << each.what << ": " << response.body;
      EXPECT_NE(response.body.find("<lg:code>" + each.code + "</lg:code>"), std::string::npos)
          << each.what << ": " << response.body;
    }
    EXPECT_FALSE(response.headers["X-Correlation-Id"].empty()) << each.what;
  }
}

}  // namespace
}  // namespace licgate::gateway
