// The canonical event XML: every event type round-trips, every written
// document validates against mapping/schema/licence-event.xsd (checked by
// xmllint, a validator that is not licgate's own reader), and each way a
// document can be wrong has its exact error.
#include "mapping/event_xml.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "registry/validation.hpp"
#include "test/mapping/sample_events.hpp"
#include "test/mapping/xmllint.hpp"

namespace licgate::mapping {
namespace {

using registry::ErrorCode;
using registry::Event;

TEST(EventXml, RoundTripsEveryEventType) {
  for (const Event& event : sampleEvents()) {
    auto parsed = parseEventXml(writeEventXml(event));

    ASSERT_TRUE(parsed.ok()) << registry::eventTypeName(event.type) << ": "
                             << parsed.error().message;
    EXPECT_EQ(*parsed, event) << writeEventXml(event);
  }
}

TEST(EventXml, SamplesCoverEveryEventTypeAndAreValid) {
  std::vector<registry::EventType> covered;
  for (const Event& event : sampleEvents()) {
    auto valid = registry::validateEvent(event);

    EXPECT_TRUE(valid.ok()) << valid.error().message;
    covered.push_back(event.type);
  }

  for (registry::EventType type : registry::kAllEventTypes) {
    EXPECT_NE(std::find(covered.begin(), covered.end(), type), covered.end())
        << registry::eventTypeName(type);
  }
}

TEST(EventXml, EveryWrittenDocumentValidatesAgainstTheSchema) {
  std::vector<std::string> documents;
  for (const Event& event : sampleEvents()) {
    documents.push_back(writeEventXml(event));
  }

  XsdValidation result = validateWithXmllint(documents);

  EXPECT_EQ(result.exit_code, 0) << result.output;
}

TEST(EventXml, SchemaRejectsADocumentWithAnUnknownEventType) {
  std::string document = writeEventXml(sampleEvents().front());
  document.replace(document.find("<type>issue</type>"), 18, "<type>explode</type>");

  XsdValidation result = validateWithXmllint({document});

  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.output.find("explode"), std::string::npos) << result.output;
}

TEST(EventXml, SchemaRejectsADocumentWithoutOccurredOn) {
  std::string document = writeEventXml(sampleEvents().front());
  document.erase(document.find("  <occurredOn>"), 36);

  XsdValidation result = validateWithXmllint({document});

  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.output.find("occurredOn"), std::string::npos) << result.output;
}

TEST(EventXml, WritesTheNamespaceAndDeclaration) {
  std::string document = writeEventXml(sampleEvents().front());

  EXPECT_EQ(document.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                           "<licenceEvent xmlns=\"urn:licgate:licence-event:1\">\n",
                           0),
            0u)
      << document;
}

TEST(EventXml, ReadsAPrefixedDocumentWithChildrenInAnyOrder) {
  std::string document =
      "<le:licenceEvent xmlns:le='urn:licgate:licence-event:1'>"
      "<le:occurredOn> 2024-03-01 </le:occurredOn><le:licensor>KZ-MIE</le:licensor>"
      "<le:type>resume</le:type><le:licenceNumber>24000017</le:licenceNumber>"
      "</le:licenceEvent>";

  auto parsed = parseEventXml(document);

  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->type, registry::EventType::kResume);
  EXPECT_EQ(parsed->licence_number, "24000017");
  EXPECT_EQ(registry::formatIsoDate(parsed->occurred_on), "2024-03-01");
}

struct BadDocument {
  std::string name;
  std::string document;
  ErrorCode code;
  std::string message;
};

std::string wrapped(const std::string& children) {
  return "<licenceEvent xmlns=\"urn:licgate:licence-event:1\">" + children + "</licenceEvent>";
}

const std::string kMinimal =
    "<type>resume</type><licensor>KZ-MIE</licensor><occurredOn>2024-03-01</occurredOn>";

TEST(EventXml, RejectsEachKindOfBadDocumentWithItsMessage) {
  const std::vector<BadDocument> cases = {
      {"malformed", "<licenceEvent><type>issue</licenceEvent>", ErrorCode::kMalformed,
       "event XML is malformed at byte offset 27: Start-end tags mismatch"},
      {"empty", "", ErrorCode::kMalformed,
       "event XML is malformed at byte offset 0: No document element found"},
      {"two roots", wrapped(kMinimal) + wrapped(kMinimal), ErrorCode::kMalformed,
       "event XML has more than one root element; an event is one <licenceEvent>"},
      {"wrong root", "<event xmlns=\"urn:licgate:licence-event:1\"/>", ErrorCode::kMalformed,
       "root element is <event>, expected <licenceEvent> in namespace "
       "urn:licgate:licence-event:1"},
      {"no namespace", "<licenceEvent>" + kMinimal + "</licenceEvent>", ErrorCode::kMalformed,
       "root element <licenceEvent> is in namespace \"\", expected urn:licgate:licence-event:1"},
      {"wrong namespace", "<licenceEvent xmlns=\"urn:other\">" + kMinimal + "</licenceEvent>",
       ErrorCode::kMalformed,
       "root element <licenceEvent> is in namespace \"urn:other\", expected "
       "urn:licgate:licence-event:1"},
      {"missing type", wrapped("<licensor>KZ-MIE</licensor><occurredOn>2024-03-01</occurredOn>"),
       ErrorCode::kInvalidField, "missing element <type>"},
      {"missing licensor", wrapped("<type>resume</type><occurredOn>2024-03-01</occurredOn>"),
       ErrorCode::kInvalidField, "missing element <licensor>"},
      {"missing date", wrapped("<type>resume</type><licensor>KZ-MIE</licensor>"),
       ErrorCode::kInvalidField, "missing element <occurredOn>"},
      {"bad event type",
       wrapped("<type>explode</type><licensor>KZ-MIE</licensor><occurredOn>2024-03-01</"
               "occurredOn>"),
       ErrorCode::kInvalidField,
       "element <type>: event type: \"explode\" is not one of issue, refuse, reissue, suspend, "
       "resume, terminate, duplicate, import, annex-issue, annex-suspend, annex-resume, "
       "annex-terminate, annex-import"},
      {"bad status", wrapped(kMinimal + "<importedStatus>revoked</importedStatus>"),
       ErrorCode::kInvalidField,
       "element <importedStatus>: status: \"revoked\" is not one of active, suspended, "
       "terminated"},
      {"bad number kind", wrapped(kMinimal + "<numberKind>old</numberKind>"),
       ErrorCode::kInvalidField,
       "element <numberKind>: number kind: \"old\" is not one of activity, export-import, "
       "legacy"},
      {"bad id scheme", wrapped(kMinimal + "<holder><idScheme>ssn</idScheme><id>123</id></holder>"),
       ErrorCode::kInvalidField,
       "element <holder/idScheme>: holder id scheme: \"ssn\" is not one of kz-iin, kz-bin, "
       "cz-ico"},
      {"id without scheme", wrapped(kMinimal + "<holder><id>040840001231</id></holder>"),
       ErrorCode::kInvalidField,
       "elements <holder/idScheme> and <holder/id> must be given together"},
      {"bad date", wrapped(kMinimal + "<validFrom>2021-02-30</validFrom>"),
       ErrorCode::kInvalidField,
       "element <validFrom>: \"2021-02-30\" is not a day of the calendar"},
      {"unknown element", wrapped(kMinimal + "<colour>red</colour>"), ErrorCode::kInvalidField,
       "unknown element <colour>"},
      {"unknown holder element", wrapped(kMinimal + "<holder><age>3</age></holder>"),
       ErrorCode::kInvalidField, "unknown element <holder/age>"},
      {"repeated element", wrapped(kMinimal + "<reason>a</reason><reason>b</reason>"),
       ErrorCode::kInvalidField, "element <reason> appears more than once"},
      {"element inside a leaf", wrapped(kMinimal + "<reason><b>a</b></reason>"),
       ErrorCode::kInvalidField, "element <reason> must hold text, not elements"},
      {"foreign child", wrapped(kMinimal + "<x:reason xmlns:x=\"urn:other\">a</x:reason>"),
       ErrorCode::kInvalidField,
       "element <x:reason> is not in namespace urn:licgate:licence-event:1"},
  };
  for (const BadDocument& bad : cases) {
    auto parsed = parseEventXml(bad.document);

    ASSERT_FALSE(parsed.ok()) << bad.name;
    EXPECT_EQ(parsed.error().code, bad.code) << bad.name;
    EXPECT_EQ(parsed.error().message, bad.message) << bad.name;
  }
}

TEST(EventXml, RefusesADoctypeWithoutReadingIt) {
  std::string document = "<!DOCTYPE licenceEvent [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>" +
                         wrapped(kMinimal + "<reason>&x;</reason>");

  auto parsed = parseEventXml(document);

  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, ErrorCode::kMalformed);
  EXPECT_NE(parsed.error().message.find("document type declaration"), std::string::npos)
      << parsed.error().message;
}

TEST(EventXml, RefusesWhatIsNotWellFormedNamingWhere) {
  auto parsed = parseEventXml(wrapped(kMinimal + "<reason>a &amp b</reason>"));

  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, ErrorCode::kMalformed);
  EXPECT_NE(parsed.error().message.find("event XML is not well-formed XML (line 1, column "),
            std::string::npos)
      << parsed.error().message;
}

}  // namespace
}  // namespace licgate::mapping
