// The ERÚ mapping rule by rule, on small records shaped like the real ones.
// Every decision of docs/eru-mapping.md has a test here; the real files are
// mapped whole in eru_real_data_test.cpp.
#include "mapping/eru.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "mapping/csv.hpp"
#include "mapping/encoding.hpp"
#include "registry/validation.hpp"

namespace licgate::mapping {
namespace {

using registry::ErrorCode;
using registry::Event;
using registry::LicenceStatus;
using Row = std::map<std::string, std::string>;

const std::vector<std::string> kHolderColumns = {
    "cislo_licence", "verze",        "status",     "ic",         "nazev", "cislo_dom", "cislo_or",
    "ulice",         "obec",         "obec_cast",  "psc",        "okres", "kraj",      "zeme",
    "den_opravneni", "den_zahajeni", "den_zaniku", "den_nabyti", "osoba"};

const Row kHolderRow = {
    {"cislo_licence", "310100019"},
    {"verze", "3"},
    {"status", "Aktivní verze"},
    {"ic", "63906929"},
    {"nazev", "Technické služby Humpolec, s.r.o."},
    {"cislo_dom", "637"},
    {"cislo_or", ""},
    {"ulice", "Okružní"},
    {"obec", "Humpolec"},
    {"obec_cast", "Humpolec"},
    {"psc", "396 01"},
    {"okres", "Pelhřimov"},
    {"kraj", "Vysočina"},
    {"zeme", "CZ"},
    {"den_opravneni", "2001-06-22"},
    {"den_zahajeni", "2001-06-22"},
    {"den_zaniku", "2026-07-07"},
    {"den_nabyti", "2018-07-27"},
    {"osoba", "Zástupce A8EE101D"},
};

std::string csvOf(const std::vector<std::string>& columns, const Row& base, const Row& changes) {
  std::vector<std::string> values;
  for (const std::string& column : columns) {
    auto changed = changes.find(column);
    values.push_back(changed != changes.end() ? changed->second : base.at(column));
  }
  return writeCsvRecord(columns) + "\r\n" + writeCsvRecord(values) + "\r\n";
}

registry::Result<Event> mapHolder(const Row& changes) {
  return mapEruHolderCsv(csvOf(kHolderColumns, kHolderRow, changes));
}

std::string xmlRecord(const std::string& attributes) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><nazev_licence "
         "xmlns=\"http://www.gfr.cz/schema/oze/ele-trader\" " +
         attributes + "/>";
}

std::string dateOf(const std::optional<registry::Date>& date) {
  return date ? registry::formatIsoDate(*date) : "unlimited";
}

void expectRejected(const registry::Result<Event>& event, ErrorCode code,
                    const std::string& message) {
  ASSERT_FALSE(event.ok());
  EXPECT_EQ(event.error().code, code);
  EXPECT_EQ(event.error().message, message);
}

// ---- Holders: the licence ---------------------------------------------------

TEST(EruMapping, MapsAHolderRowToALegacyImport) {
  auto event = mapHolder({});

  ASSERT_TRUE(event.ok()) << event.error().message;
  EXPECT_EQ(event->type, registry::EventType::kImport);
  EXPECT_EQ(event->licensor, "CZ-ERU");
  EXPECT_EQ(event->licence_number, "310100019");
  EXPECT_EQ(event->number_kind, registry::NumberKind::kLegacy);
  EXPECT_EQ(event->activity_code, "31");
  EXPECT_EQ(event->imported_status, LicenceStatus::kActive);
  EXPECT_EQ(event->reason, "");
  EXPECT_EQ(event->source_version, "3");
  EXPECT_EQ(dateOf(event->valid_from), "2001-06-22");
  EXPECT_EQ(dateOf(event->valid_until), "2026-07-07");
  EXPECT_EQ(registry::formatIsoDate(event->occurred_on), "2018-07-27");
  ASSERT_TRUE(event->holder.has_value());
  EXPECT_EQ(event->holder->id, (registry::HolderId{registry::IdScheme::kCzIco, "63906929"}));
  EXPECT_EQ(event->holder->name, "Technické služby Humpolec, s.r.o.");
  EXPECT_EQ(event->holder->address, "Okružní 637, 396 01 Humpolec");
  EXPECT_EQ(event->holder->country, "CZ");
  EXPECT_EQ(event->holder->legal_form, "");
  EXPECT_TRUE(registry::validateEvent(*event).ok());
}

TEST(EruMapping, MapsRevokedToTerminatedWithReasonRevoked) {
  auto event = mapHolder({{"status", "Zrušena"}});

  ASSERT_TRUE(event.ok()) << event.error().message;
  EXPECT_EQ(event->imported_status, LicenceStatus::kTerminated);
  EXPECT_EQ(event->reason, "revoked");
}

TEST(EruMapping, MapsLapsedToTerminatedWithReasonLapsed) {
  auto event = mapHolder({{"status", "Zaniklá"}});

  ASSERT_TRUE(event.ok()) << event.error().message;
  EXPECT_EQ(event->imported_status, LicenceStatus::kTerminated);
  EXPECT_EQ(event->reason, "lapsed");
}

TEST(EruMapping, RejectsAnUnknownStatus) {
  auto event = mapHolder({{"status", "Pozastavena"}});

  expectRejected(event, ErrorCode::kInvalidField,
                 "status of licence 310100019: \"Pozastavena\" is not one of Aktivní verze, "
                 "Zrušena, Zaniklá");
}

TEST(EruMapping, KeepsTheVersionOfEachRowOfOneLicence) {
  auto first = mapHolder({{"verze", "1"}});
  auto latest = mapHolder({{"verze", "19"}});

  ASSERT_TRUE(first.ok() && latest.ok());
  EXPECT_EQ(first->licence_number, latest->licence_number);
  EXPECT_EQ(first->source_version, "1");
  EXPECT_EQ(latest->source_version, "19");
}

TEST(EruMapping, MapsAnEmptyVersionToTheOriginalDecisionZero) {
  auto event = mapHolder({{"verze", ""}});

  ASSERT_TRUE(event.ok()) << event.error().message;
  EXPECT_EQ(event->source_version, "0");
}

TEST(EruMapping, RejectsANumberThatIsNotNineDigits) {
  auto event = mapHolder({{"cislo_licence", "3101019"}});

  expectRejected(event, ErrorCode::kInvalidField,
                 "cislo_licence: \"3101019\" is not a 9-digit ERÚ licence number");
}

TEST(EruMapping, RejectsAnActivityCodeThatIsNoLicenceType) {
  auto event = mapHolder({{"cislo_licence", "990100019"}});

  expectRejected(event, ErrorCode::kInvalidField,
                 "cislo_licence of licence 990100019: activity code 99 is not an ERÚ licence type "
                 "(licence-types.csv)");
}

// ---- Holders: identity ----------------------------------------------------

TEST(EruMapping, RejectsTextInTheIcoColumn) {
  auto event = mapHolder({{"ic", "ČEKATEL"}, {"nazev", "PPJJ s.r.o."}});

  expectRejected(event, ErrorCode::kInvalidField,
                 "ic of licence 310100019: \"ČEKATEL\" is text, not an IČ; a named holder is not "
                 "imported without a valid IČ");
}

TEST(EruMapping, RejectsAnIcoWithAWrongCheckDigit) {
  auto event = mapHolder({{"ic", "63906928"}});

  expectRejected(event, ErrorCode::kInvalidField,
                 "ic of licence 310100019: IČ 63906928: check digit is 8, expected 9");
}

TEST(EruMapping, ImportsAForeignHolderWithThePlaceholderIcoWithoutId) {
  auto event = mapHolder({{"ic", "99999999"}, {"nazev", "RIGHT POWER, a.s."}, {"zeme", "SK"}});

  ASSERT_TRUE(event.ok()) << event.error().message;
  EXPECT_FALSE(event->holder->id.has_value());
  EXPECT_EQ(event->holder->name, "RIGHT POWER, a.s.");
  EXPECT_EQ(event->holder->country, "SK");
  EXPECT_TRUE(registry::validateEvent(*event).ok());
}

TEST(EruMapping, ImportsANamedHolderWithoutIcoWithoutId) {
  auto event = mapHolder({{"ic", ""}, {"nazev", "BNP PARIBAS"}, {"zeme", "FR"}});

  ASSERT_TRUE(event.ok()) << event.error().message;
  EXPECT_FALSE(event->holder->id.has_value());
  EXPECT_EQ(event->holder->name, "BNP PARIBAS");
}

TEST(EruMapping, RestoresTheLeadingZerosOfAShortIco) {
  auto event = mapHolder({{"ic", "637076"}});

  ASSERT_TRUE(event.ok()) << event.error().message;
  EXPECT_EQ(event->holder->id->value, "00637076");
}

TEST(EruMapping, MapsTheXmlMaskToAnEmptyHolder) {
  const std::string mask = "----------------";
  std::string attributes =
      "cislo_licence=\"310100020\" version=\"\" version_status=\"Aktivní verze\" subjekt_IC=\"" +
      mask + "\" subjekt_nazev=\"" + mask + "\" subjekt_obec_nazev=\"" + mask +
      "\" subjekt_zeme=\"" + mask +
      "\" subjekt_den_opravneni=\"2001-07-01\" subjekt_den_zahajeni=\"2001-07-01\" "
      "subjekt_den_zaniku=\"2026-07-16\" subjekt_den_nabyti_pravni_moci=\"2001-07-01\"";

  auto event = mapEruXmlRecord(xmlRecord(attributes));

  ASSERT_TRUE(event.ok()) << event.error().message;
  EXPECT_EQ(event->holder, registry::Holder{});
  EXPECT_TRUE(registry::validateEvent(*event).ok())
      << registry::validateEvent(*event).error().message;
}

TEST(EruMapping, MapsTheCsvMaskOfEmptyFieldsToAnEmptyHolder) {
  auto event = mapHolder({{"ic", ""},
                          {"nazev", ""},
                          {"cislo_dom", ""},
                          {"ulice", ""},
                          {"obec", ""},
                          {"obec_cast", ""},
                          {"psc", ""},
                          {"zeme", ""}});

  ASSERT_TRUE(event.ok()) << event.error().message;
  EXPECT_EQ(event->holder, registry::Holder{});
}

TEST(EruMapping, MapsUkAndUkEngToGb) {
  for (const char* written : {"UK", "UK_eng", "GB"}) {
    auto event = mapHolder({{"zeme", written}});

    ASSERT_TRUE(event.ok()) << written;
    EXPECT_EQ(event->holder->country, "GB") << written;
  }
}

TEST(EruMapping, KeepsAnEmptyCountryEmpty) {
  auto event = mapHolder({{"zeme", ""}});

  ASSERT_TRUE(event.ok()) << event.error().message;
  EXPECT_EQ(event->holder->country, "");
}

TEST(EruMapping, RejectsACountryThatIsNoAlpha2Code) {
  auto event = mapHolder({{"zeme", "Czechia"}});

  expectRejected(event, ErrorCode::kInvalidField,
                 "zeme of licence 310100019: country code \"Czechia\" has 7 characters, not 2 "
                 "(ISO 3166-1 alpha-2)");
}

TEST(EruMapping, UndoesTheExtraEscapingAndNormalisesSpaces) {
  auto event = mapHolder({{"nazev", "  OLTERM\xC2\xA0 &amp; TD  Olomouc, a.s. "}});

  ASSERT_TRUE(event.ok()) << event.error().message;
  EXPECT_EQ(event->holder->name, "OLTERM & TD Olomouc, a.s.");
}

TEST(EruMapping, WritesTheAddressInCzechPostalOrder) {
  auto event = mapHolder({{"ulice", "Holečkova"},
                          {"cislo_dom", "3178"},
                          {"cislo_or", "8"},
                          {"obec", "Praha"},
                          {"obec_cast", "Smíchov"},
                          {"psc", "15000"}});

  ASSERT_TRUE(event.ok()) << event.error().message;
  EXPECT_EQ(event->holder->address, "Holečkova 3178/8, Smíchov, 150 00 Praha");
}

TEST(EruMapping, AddressesAVillageWithoutStreetsByItsName) {
  auto event = mapHolder({{"ulice", ""},
                          {"cislo_dom", "126"},
                          {"obec", "Velký Karlov"},
                          {"obec_cast", ""},
                          {"psc", "671 28"}});

  ASSERT_TRUE(event.ok()) << event.error().message;
  EXPECT_EQ(event->holder->address, "Velký Karlov 126, 671 28 Velký Karlov");
}

// ---- Holders: dates -------------------------------------------------------

TEST(EruMapping, TreatsALapseDateFrom2099OnAsUnlimited) {
  for (const char* far : {"2099-12-31", "2117-07-10", "2121-05-23"}) {
    auto event = mapHolder({{"den_zaniku", far}});

    ASSERT_TRUE(event.ok()) << far;
    EXPECT_FALSE(event->valid_until.has_value()) << far;
  }
}

TEST(EruMapping, KeepsALapseDateBefore2099) {
  auto event = mapHolder({{"den_zaniku", "2047-03-31"}});

  ASSERT_TRUE(event.ok()) << event.error().message;
  EXPECT_EQ(dateOf(event->valid_until), "2047-03-31");
}

TEST(EruMapping, KeepsAnActiveLicenceActiveWhateverItsLapseDate) {
  auto event = mapHolder({{"den_zaniku", "2022-02-17"}});

  ASSERT_TRUE(event.ok()) << event.error().message;
  EXPECT_EQ(event->imported_status, LicenceStatus::kActive);
  EXPECT_EQ(dateOf(event->valid_until), "2022-02-17");
}

TEST(EruMapping, FallsBackToTheStartDateWithoutEntitlementDate) {
  auto event = mapHolder({{"den_opravneni", ""}, {"den_zahajeni", "2002-01-11"}});

  ASSERT_TRUE(event.ok()) << event.error().message;
  EXPECT_EQ(dateOf(event->valid_from), "2002-01-11");
}

TEST(EruMapping, DatesTheActByValidFromWithoutEffectiveDate) {
  auto event = mapHolder({{"den_nabyti", ""}});

  ASSERT_TRUE(event.ok()) << event.error().message;
  EXPECT_EQ(registry::formatIsoDate(event->occurred_on), "2001-06-22");
}

TEST(EruMapping, RejectsARowWithoutAnyStartDate) {
  auto event = mapHolder({{"den_opravneni", ""}, {"den_zahajeni", ""}});

  expectRejected(event, ErrorCode::kInvalidField,
                 "den_opravneni of licence 310100019: missing, and den_zahajeni is missing too");
}

TEST(EruMapping, RejectsAnEntitlementAfterTheLapse) {
  auto event = mapHolder({{"den_opravneni", "2027-02-06"}, {"den_zaniku", "2021-01-28"}});

  expectRejected(event, ErrorCode::kInvalidField,
                 "den_opravneni of licence 310100019: 2027-02-06 is after den_zaniku 2021-01-28");
}

TEST(EruMapping, RejectsADateThatIsNoDay) {
  auto event = mapHolder({{"den_zaniku", "2021-02-30"}});

  expectRejected(event, ErrorCode::kInvalidField,
                 "den_zaniku of licence 310100019: \"2021-02-30\" is not a day of the calendar");
}

// ---- Holders: record shapes -----------------------------------------------

TEST(EruMapping, MapsTheSameLicenceFromXmlAndCsvToTheSameEvent) {
  std::string attributes =
      "cislo_licence=\"310100019\" version=\"3\" version_status=\"Aktivní verze\" "
      "subjekt_IC=\"63906929\" subjekt_nazev=\"Technické služby Humpolec, s.r.o.\" "
      "subjekt_cislo_dom=\"637\" subjekt_cislo_or=\"\" subjekt_ulice_nazev=\"Okružní\" "
      "subjekt_obec_cast=\"Humpolec\" subjekt_obec_nazev=\"Humpolec\" subjekt_PSC=\"396 01\" "
      "subjekt_okres=\"Pelhřimov\" subjekt_kraj=\"Vysočina\" subjekt_zeme=\"CZ\" "
      "subjekt_den_opravneni=\"2001-06-22\" subjekt_den_zahajeni=\"2001-06-22\" "
      "subjekt_den_zaniku=\"2026-07-07\" subjekt_den_nabyti_pravni_moci=\"2018-07-27\" "
      "o_s_IC=\"28626818\" odpovedny_zast=\"Zástupce A8EE101D\"";

  auto from_xml = mapEruXmlRecord(xmlRecord(attributes));
  auto from_csv = mapHolder({});

  ASSERT_TRUE(from_xml.ok()) << from_xml.error().message;
  ASSERT_TRUE(from_csv.ok()) << from_csv.error().message;
  EXPECT_EQ(*from_xml, *from_csv);
}

TEST(EruMapping, NamesTheXmlAttributeInMessages) {
  std::string attributes =
      "cislo_licence=\"310100019\" version_status=\"Aktivní verze\" subjekt_IC=\"ČEKATEL\" "
      "subjekt_nazev=\"PPJJ s.r.o.\" subjekt_den_opravneni=\"2001-06-22\"";

  auto event = mapEruXmlRecord(xmlRecord(attributes));

  expectRejected(event, ErrorCode::kInvalidField,
                 "subjekt_IC of licence 310100019: \"ČEKATEL\" is text, not an IČ; a named "
                 "holder is not imported without a valid IČ");
}

TEST(EruMapping, RejectsAnXmlRecordWithoutStatus) {
  auto event = mapEruXmlRecord(xmlRecord("cislo_licence=\"310100019\""));

  expectRejected(event, ErrorCode::kInvalidField,
                 "ERÚ licence record: attribute version_status is missing");
}

TEST(EruMapping, RejectsAnXmlRecordInAnotherNamespace) {
  auto event = mapEruXmlRecord("<nazev_licence xmlns=\"urn:other\" cislo_licence=\"1\"/>");

  expectRejected(event, ErrorCode::kMalformed,
                 "ERÚ licence record: root element is <nazev_licence> in namespace \"urn:other\", "
                 "expected <nazev_licence> in namespace http://www.gfr.cz/schema/oze/ele-trader");
}

TEST(EruMapping, RejectsAMalformedXmlRecord) {
  auto event = mapEruXmlRecord("<nazev_licence cislo_licence=\"1\"");

  ASSERT_FALSE(event.ok());
  EXPECT_EQ(event.error().code, ErrorCode::kMalformed);
  EXPECT_EQ(event.error().message.rfind("ERÚ licence record is malformed at byte offset", 0), 0u)
      << event.error().message;
}

TEST(EruMapping, RejectsACsvBodyWithTwoRows) {
  std::string body = csvOf(kHolderColumns, kHolderRow, {});
  body += body.substr(body.find("\r\n") + 2);

  auto event = mapEruHolderCsv(body);

  expectRejected(event, ErrorCode::kMalformed,
                 "ERÚ eru-holder CSV: expected a header and one row, found 2 rows");
}

TEST(EruMapping, RejectsACsvBodyWithoutARequiredColumn) {
  auto event = mapEruHolderCsv("cislo_licence,verze\r\n310100019,3\r\n");

  expectRejected(event, ErrorCode::kMalformed,
                 "ERÚ eru-holder CSV: the header has no column status");
}

// ---- Establishments -------------------------------------------------------

const std::vector<std::string> kEstablishmentColumns = {
    "cislo_licence", "ev_cislo", "nazev", "psc",  "obec",
    "ulice",         "cp",       "okres", "kraj", "pocet_zdroju"};

const Row kEstablishmentRow = {
    {"cislo_licence", "310100019"},
    {"ev_cislo", "3"},
    {"nazev", "Plynová kotelna K 3 Fugnerova"},
    {"psc", "39601"},
    {"obec", "Humpolec"},
    {"ulice", "Fugnerova"},
    {"cp", "1640"},
    {"okres", "Pelhřimov"},
    {"kraj", "Vysočina"},
    {"pocet_zdroju", "2"},
};

registry::Result<Event> mapEstablishment(const Row& changes) {
  return mapEruEstablishmentCsv(csvOf(kEstablishmentColumns, kEstablishmentRow, changes));
}

TEST(EruMapping, MapsAnEstablishmentToAnAnnexImport) {
  auto event = mapEstablishment({});

  ASSERT_TRUE(event.ok()) << event.error().message;
  EXPECT_EQ(event->type, registry::EventType::kAnnexImport);
  EXPECT_EQ(event->licensor, "CZ-ERU");
  EXPECT_EQ(event->licence_number, "310100019");
  EXPECT_EQ(event->annex_number, "003");
  EXPECT_EQ(event->annex_name, "Plynová kotelna K 3 Fugnerova");
  EXPECT_EQ(event->annex_address, "Fugnerova 1640, 396 01 Humpolec");
  EXPECT_EQ(event->annex_status, LicenceStatus::kActive);
  EXPECT_TRUE(registry::validateEvent(*event).ok());
}

TEST(EruMapping, DatesAnEstablishmentByTheDayItIsMapped) {
  registry::Date before = registry::todayUtc();

  auto event = mapEstablishment({});

  ASSERT_TRUE(event.ok()) << event.error().message;
  EXPECT_GE(event->occurred_on, before);
  EXPECT_LE(event->occurred_on, registry::todayUtc());
}

TEST(EruMapping, FormatsEstablishmentNumbersToThreeDigits) {
  for (const auto& [written, expected] : std::vector<std::pair<std::string, std::string>>{
           {"1", "001"}, {"42", "042"}, {"170", "170"}}) {
    auto event = mapEstablishment({{"ev_cislo", written}});

    ASSERT_TRUE(event.ok()) << written;
    EXPECT_EQ(event->annex_number, expected);
  }
}

TEST(EruMapping, RejectsAnEstablishmentNumberOutsideOneTo999) {
  for (const char* bad : {"0", "1000", "A1", ""}) {
    auto event = mapEstablishment({{"ev_cislo", bad}});

    expectRejected(event, ErrorCode::kInvalidField,
                   std::string("ev_cislo of licence 310100019: \"") + bad +
                       "\" is not an establishment number from 1 to 999");
  }
}

TEST(EruMapping, KeepsATownWrittenInThePostcodeColumn) {
  auto event =
      mapEstablishment({{"psc", "Praha"}, {"obec", ""}, {"ulice", "Ježovská"}, {"cp", "115/2"}});

  ASSERT_TRUE(event.ok()) << event.error().message;
  EXPECT_EQ(event->annex_address, "Ježovská 115/2, Praha");
}

// ---- Splitting ------------------------------------------------------------

std::string windows1250(const std::string& utf8) {
  auto bytes = fromUtf8(utf8, "windows-1250");
  return bytes.ok() ? *bytes : std::string();
}

const std::string kExport = windows1250(
    "<?xml version=\"1.0\" encoding=\"windows-1250\"?><ele-traders "
    "timestamp=\"2021-05-28T06:43:57\" "
    "xmlns=\"http://www.gfr.cz/schema/oze/ele-trader\">"
    "<nazev_licence cislo_licence=\"310100016\" version=\"\" version_status=\"Aktivní verze\" "
    "subjekt_nazev=\"Obec Velký Karlov\"/>"
    "<nazev_licence cislo_licence=\"310100019\" version=\"3\" version_status=\"Zrušena\" "
    "subjekt_nazev=\"TERMO &amp;amp; CO, s.r.o.\" subjekt_IC=\"63906929\" "
    "subjekt_den_opravneni=\"2001-06-22\"/></ele-traders>");

TEST(EruSplit, CutsTheXmlExportIntoOneWindows1250DocumentPerLicence) {
  auto records = splitEruXml(kExport);

  ASSERT_TRUE(records.ok()) << records.error().message;
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].key, "310100016");
  EXPECT_EQ((*records)[1].key, "310100019 v3");
  EXPECT_EQ((*records)[0].content_type, "application/vnd.licgate.eru-licence+xml");
  EXPECT_EQ((*records)[0].body,
            windows1250("<?xml version=\"1.0\" encoding=\"windows-1250\"?><nazev_licence "
                        "xmlns=\"http://www.gfr.cz/schema/oze/ele-trader\" "
                        "cislo_licence=\"310100016\" version=\"\" version_status=\"Aktivní verze\" "
                        "subjekt_nazev=\"Obec Velký Karlov\"/>"));
}

TEST(EruSplit, KeepsTheExportsEscapingInEachRecord) {
  auto records = splitEruXml(kExport);
  ASSERT_TRUE(records.ok()) << records.error().message;

  auto utf8 = toUtf8((*records)[1].body, "", TextKind::kXml);
  ASSERT_TRUE(utf8.ok()) << utf8.error().message;
  auto event = mapEruXmlRecord(*utf8);

  EXPECT_NE((*records)[1].body.find("TERMO &amp;amp; CO"), std::string::npos);
  ASSERT_TRUE(event.ok()) << event.error().message;
  EXPECT_EQ(event->holder->name, "TERMO & CO, s.r.o.");
  EXPECT_EQ(event->reason, "revoked");
}

TEST(EruMapping, NamesTheXmlAttributesOfMissingDates) {
  auto event = mapEruXmlRecord(
      xmlRecord("cislo_licence=\"310100019\" version_status=\"Zaniklá\" subjekt_IC=\"\""));

  expectRejected(event, ErrorCode::kInvalidField,
                 "subjekt_den_opravneni of licence 310100019: missing, and subjekt_den_zahajeni "
                 "is missing too");
}

TEST(EruSplit, RejectsAnExportWithAnotherRoot) {
  auto records = splitEruXml("<?xml version=\"1.0\"?><licences/>");

  ASSERT_FALSE(records.ok());
  EXPECT_EQ(records.error().code, ErrorCode::kMalformed);
  EXPECT_EQ(records.error().message,
            "ERÚ XML export: root element is <licences> in namespace \"\", expected "
            "<ele-traders> in namespace http://www.gfr.cz/schema/oze/ele-trader");
}

TEST(EruSplit, RejectsAForeignElementInTheExport) {
  auto records = splitEruXml(
      "<ele-traders xmlns=\"http://www.gfr.cz/schema/oze/ele-trader\"><nazev_licence/><x/>"
      "</ele-traders>");

  ASSERT_FALSE(records.ok());
  EXPECT_EQ(records.error().message,
            "ERÚ XML export: element <x> after record 1 is not <nazev_licence>");
}

TEST(EruSplit, RejectsABrokenExport) {
  auto records = splitEruXml("<ele-traders xmlns=\"http://www.gfr.cz/schema/oze/ele-trader\">");

  ASSERT_FALSE(records.ok());
  EXPECT_EQ(records.error().code, ErrorCode::kMalformed);
}

TEST(EruSplit, RejectsAnExportInvalidInItsCharset) {
  auto records = splitEruXml("<?xml version=\"1.0\" encoding=\"windows-1250\"?><a>\x98</a>");

  ASSERT_FALSE(records.ok());
  EXPECT_EQ(records.error().code, ErrorCode::kInvalidEncoding);
}

TEST(EruSplit, RejectsAnExportInAnUnsupportedCharset) {
  auto records = splitEruXml("<?xml version=\"1.0\" encoding=\"cp437\"?><ele-traders/>");

  ASSERT_FALSE(records.ok());
  EXPECT_EQ(records.error().code, ErrorCode::kUnsupportedEncoding);
}

TEST(EruSplit, CutsTheCsvIntoHeaderAndOneRowPerRecord) {
  std::string csv =
      "cislo_licence,ev_cislo,nazev,psc,obec,ulice,cp\n"
      "310100093,1,\"Plynová kotelna \"\"A\"\", sever\",39601,Humpolec,Lnářská,\n"
      "310100093,2,\"Kotelna\nna dvou řádcích\",39601,Humpolec,Lnářská,12\n";

  auto records = splitEruCsv(csv, "eru-establishment");

  ASSERT_TRUE(records.ok()) << records.error().message;
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].key, "310100093/1");
  EXPECT_EQ((*records)[0].content_type, "text/csv; charset=utf-8; profile=eru-establishment");
  EXPECT_EQ((*records)[0].body,
            "cislo_licence,ev_cislo,nazev,psc,obec,ulice,cp\r\n"
            "310100093,1,\"Plynová kotelna \"\"A\"\", sever\",39601,Humpolec,Lnářská,\r\n");
  auto second = mapEruEstablishmentCsv((*records)[1].body);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->annex_name, "Kotelna na dvou řádcích");
}

TEST(EruSplit, KeysHolderRowsByNumberAndVersion) {
  std::string csv = csvOf(kHolderColumns, kHolderRow, {}) +
                    writeCsvRecord({"310100020", "", "Zaniklá", "", "", "", "", "", "", "", "", "",
                                    "", "", "2001-07-01", "2001-07-01", "2021-02-11", "", ""});

  auto records = splitEruCsv(csv, "eru-holder");

  ASSERT_TRUE(records.ok()) << records.error().message;
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].key, "310100019 v3");
  EXPECT_EQ((*records)[1].key, "310100020");
  EXPECT_EQ((*records)[1].content_type, "text/csv; charset=utf-8; profile=eru-holder");
}

TEST(EruSplit, RejectsAnUnknownProfile) {
  auto records = splitEruCsv("a\n1\n", "eru-annex");

  ASSERT_FALSE(records.ok());
  EXPECT_EQ(records.error().code, ErrorCode::kInvalidField);
  EXPECT_EQ(records.error().message,
            "ERÚ CSV profile \"eru-annex\" is not eru-holder or eru-establishment");
}

TEST(EruSplit, RejectsACsvWithoutTheProfilesColumns) {
  auto records = splitEruCsv("cislo_licence,nazev\n310100019,x\n", "eru-establishment");

  ASSERT_FALSE(records.ok());
  EXPECT_EQ(records.error().message,
            "ERÚ eru-establishment CSV: the header has no column ev_cislo");
}

TEST(EruSplit, RejectsACsvThatIsNotUtf8) {
  auto records = splitEruCsv("cislo_licence\n\xE8\n", "eru-holder");

  ASSERT_FALSE(records.ok());
  EXPECT_EQ(records.error().code, ErrorCode::kInvalidEncoding);
}

TEST(EruSplit, RejectsABrokenCsv) {
  auto records = splitEruCsv("cislo_licence,ev_cislo\n\"310100019,1\n", "eru-establishment");

  ASSERT_FALSE(records.ok());
  EXPECT_EQ(records.error().code, ErrorCode::kMalformed);
}

// ---- Licence types --------------------------------------------------------

TEST(EruLicenceTypes, ReadsCodesAndNames) {
  auto types =
      parseEruLicenceTypes("kod,predmet\n11,výroba elektřiny\n31,výroba tepelné energie\n");

  ASSERT_TRUE(types.ok()) << types.error().message;
  ASSERT_EQ(types->size(), 2u);
  EXPECT_EQ((*types)[1].code, "31");
  EXPECT_EQ((*types)[1].name, "výroba tepelné energie");
}

TEST(EruLicenceTypes, RejectsAnotherHeader) {
  auto types = parseEruLicenceTypes("code,name\n11,x\n");

  ASSERT_FALSE(types.ok());
  EXPECT_EQ(types.error().code, ErrorCode::kMalformed);
  EXPECT_EQ(types.error().message, "ERÚ licence types: the header is not \"kod,predmet\"");
}

TEST(EruLicenceTypes, RejectsACodeThatIsNotTwoDigits) {
  auto types = parseEruLicenceTypes("kod,predmet\n1a,x\n");

  ASSERT_FALSE(types.ok());
  EXPECT_EQ(types.error().message, "ERÚ licence types, line 2: kod \"1a\" is not 2 digits");
}

TEST(EruLicenceTypes, RejectsARepeatedCode) {
  auto types = parseEruLicenceTypes("kod,predmet\n11,x\n11,y\n");

  ASSERT_FALSE(types.ok());
  EXPECT_EQ(types.error().message, "ERÚ licence types, line 3: kod 11 appears twice");
}

TEST(EruLicenceTypes, RejectsABrokenCsv) {
  auto types = parseEruLicenceTypes("kod,predmet\n\"11,x\n");

  ASSERT_FALSE(types.ok());
  EXPECT_EQ(types.error().code, ErrorCode::kMalformed);
}

}  // namespace
}  // namespace licgate::mapping
