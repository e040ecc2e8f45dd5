// decodeInbound: each content type to its parser, the order of the checks
// (size, content type, charset, parse, field rules), and each error code it
// can return.
#include "mapping/inbound_decoder.hpp"

#include <gtest/gtest.h>

#include <string>

#include "mapping/encoding.hpp"
#include "mapping/eru.hpp"
#include "mapping/event_xml.hpp"
#include "registry/event_codec.hpp"
#include "test/mapping/sample_events.hpp"

namespace licgate::mapping {
namespace {

using registry::ErrorCode;
using registry::Event;

const DecodeLimits kLimits{};

Event russianIssue() {
  Event event = sampleLicenceEvents().front();
  event.holder->name = "ТОО «Ромашка»";
  event.holder->address = "г. Москва, ул. Тверская, 1";
  event.holder->legal_form = "ТОО";
  return event;
}

void expectError(const registry::Result<Event>& event, ErrorCode code) {
  ASSERT_FALSE(event.ok());
  EXPECT_EQ(event.error().code, code) << event.error().message;
}

TEST(InboundDecoder, ReadsEveryEventTypeAlikeAsXmlAndJson) {
  for (const Event& event : sampleEvents()) {
    auto from_xml = decodeInbound(writeEventXml(event), "application/xml", kLimits);
    auto from_json = decodeInbound(registry::encodeEvent(event), "application/json", kLimits);

    ASSERT_TRUE(from_xml.ok()) << from_xml.error().message;
    ASSERT_TRUE(from_json.ok()) << from_json.error().message;
    EXPECT_EQ(*from_xml, event);
    EXPECT_EQ(*from_json, event);
  }
}

TEST(InboundDecoder, ReadsTextXmlWithAWindows1251Declaration) {
  Event event = russianIssue();
  std::string utf8 = writeEventXml(event);
  utf8.replace(utf8.find("UTF-8"), 5, "windows-1251");
  auto bytes = fromUtf8(utf8, "windows-1251");
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;

  auto decoded = decodeInbound(*bytes, "text/xml", kLimits);

  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->holder->name, "ТОО «Ромашка»");
}

TEST(InboundDecoder, ReadsJsonInTheTransportsKz1048Charset) {
  Event event = sampleLicenceEvents().front();
  auto bytes = fromUtf8(registry::encodeEvent(event), "KZ-1048");
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;

  auto decoded = decodeInbound(*bytes, "application/json; charset=KZ-1048", kLimits);

  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->holder->name, "ТОО «Қазақ Жылу» & Co <Алматы>");
}

TEST(InboundDecoder, ReadsAnEruRecordInWindows1250) {
  auto utf8 = std::string(
      "<?xml version=\"1.0\" encoding=\"windows-1250\"?><ele-traders "
      "xmlns=\"http://www.gfr.cz/schema/oze/ele-trader\"><nazev_licence "
      "cislo_licence=\"310100016\" "
      "version=\"\" version_status=\"Aktivní verze\" subjekt_IC=\"00637076\" "
      "subjekt_nazev=\"Obec Velký Karlov\" subjekt_cislo_dom=\"126\" "
      "subjekt_obec_nazev=\"Velký Karlov\" subjekt_PSC=\"671 28\" subjekt_zeme=\"CZ\" "
      "subjekt_den_opravneni=\"2001-07-01\" subjekt_den_zaniku=\"2026-07-16\"/></ele-traders>");
  auto records = splitEruXml(*fromUtf8(utf8, "windows-1250"));
  ASSERT_TRUE(records.ok()) << records.error().message;

  auto decoded = decodeInbound(records->at(0).body, records->at(0).content_type, kLimits);

  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->licence_number, "310100016");
  EXPECT_EQ(decoded->holder->name, "Obec Velký Karlov");
}

TEST(InboundDecoder, ReadsEruCsvRowsByProfile) {
  std::string holders =
      "cislo_licence,verze,status,ic,nazev,cislo_dom,cislo_or,ulice,obec,obec_cast,psc,zeme,"
      "den_opravneni,den_zahajeni,den_zaniku,den_nabyti\r\n"
      "110100010,,Zaniklá,,,,,,,,,,2002-01-01,2002-01-01,2021-02-11,2002-01-01\r\n";
  std::string sites =
      "cislo_licence,ev_cislo,nazev,psc,obec,ulice,cp\r\n"
      "310100016,1,Centrální kotelna,67128,Velký Karlov,Velký Karlov,72\r\n";

  auto holder = decodeInbound(holders, "text/csv; charset=utf-8; profile=eru-holder", kLimits);
  auto site = decodeInbound(sites, "text/csv; profile=eru-establishment", kLimits);

  ASSERT_TRUE(holder.ok()) << holder.error().message;
  ASSERT_TRUE(site.ok()) << site.error().message;
  EXPECT_EQ(holder->reason, "lapsed");
  EXPECT_EQ(site->annex_address, "Velký Karlov 72, 671 28 Velký Karlov");
}

TEST(InboundDecoder, RejectsABodyOverTheLimitBeforeLookingAtIt) {
  std::string body(101, 'x');

  auto decoded = decodeInbound(body, "application/x-unknown", DecodeLimits{100});

  expectError(decoded, ErrorCode::kTooLarge);
  EXPECT_EQ(decoded.error().message, "message body of 101 bytes is over the limit of 100 bytes");
}

TEST(InboundDecoder, AcceptsABodyOfExactlyTheLimit) {
  std::string body = registry::encodeEvent(sampleLicenceEvents().front());

  auto decoded = decodeInbound(body, "application/json", DecodeLimits{body.size()});

  EXPECT_TRUE(decoded.ok()) << decoded.error().message;
}

TEST(InboundDecoder, RejectsAnUnknownContentTypeNamingIt) {
  auto decoded = decodeInbound("{}", "application/yaml", kLimits);

  expectError(decoded, ErrorCode::kMalformed);
  EXPECT_EQ(decoded.error().message,
            "content type \"application/yaml\" is not one licgate reads (application/xml, "
            "text/xml, application/json, application/vnd.licgate.eru-licence+xml, text/csv)");
}

TEST(InboundDecoder, RejectsACsvProfileItDoesNotMap) {
  auto decoded = decodeInbound("a\n1\n", "text/csv; profile=kz-egov", kLimits);

  expectError(decoded, ErrorCode::kNotImplemented);
  EXPECT_EQ(decoded.error().message,
            "text/csv with profile \"kz-egov\" is not mapped; licgate maps the profiles "
            "eru-holder and eru-establishment");
}

TEST(InboundDecoder, RejectsMalformedXml) {
  expectError(decodeInbound("<licenceEvent", "application/xml", kLimits), ErrorCode::kMalformed);
}

TEST(InboundDecoder, RejectsMalformedJson) {
  expectError(decodeInbound("{\"type\":", "application/json", kLimits), ErrorCode::kMalformed);
}

TEST(InboundDecoder, RejectsAnUnsupportedCharset) {
  expectError(decodeInbound("{}", "application/json; charset=ebcdic", kLimits),
              ErrorCode::kUnsupportedEncoding);
}

TEST(InboundDecoder, RejectsBytesInvalidInTheirCharset) {
  expectError(decodeInbound("{\"type\":\"\xFF\"}", "application/json", kLimits),
              ErrorCode::kInvalidEncoding);
}

TEST(InboundDecoder, RejectsAnEventThatBreaksTheFieldRules) {
  Event event = sampleLicenceEvents().front();
  event.holder->id->value = "040840001232";

  auto decoded = decodeInbound(writeEventXml(event), "application/xml", kLimits);

  expectError(decoded, ErrorCode::kInvalidField);
  EXPECT_EQ(decoded.error().message,
            "issue: holder.id: BIN 040840001232: check digit is 2, expected 1");
}

TEST(InboundDecoder, RejectsAnEruRowThatCannotBeMapped) {
  std::string sites =
      "cislo_licence,ev_cislo,nazev,psc,obec,ulice,cp\r\n310100016,0,Kotelna,67128,X,Y,1\r\n";

  auto decoded = decodeInbound(sites, "text/csv; profile=eru-establishment", kLimits);

  expectError(decoded, ErrorCode::kInvalidField);
}

}  // namespace
}  // namespace licgate::mapping
