// The HTTP API's JSON views: exact shapes, nulls for absent values, Czech
// letters intact, dead-letter bodies as text or base64.
#include "mapping/json_view.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test/mapping/sample_events.hpp"

namespace licgate::mapping {
namespace {

using Json = nlohmann::json;

registry::Licence karlov() {
  registry::Licence licence;
  licence.number = "310100016";
  licence.kind = registry::NumberKind::kLegacy;
  licence.licensor = "CZ-ERU";
  licence.activity_code = "31";
  licence.holder = {registry::HolderId{registry::IdScheme::kCzIco, "00637076"}, "Obec Velký Karlov",
                    "Velký Karlov 126, 671 28 Velký Karlov", "", "CZ"};
  licence.issued_on = sampleDate(2001, 7, 1);
  licence.valid_from = sampleDate(2001, 7, 1);
  licence.status = registry::LicenceStatus::kActive;
  licence.revision = 2;
  licence.source_version = "0";
  licence.annexes.push_back({"001", "Centrální kotelna", "Velký Karlov 72, 671 28 Velký Karlov",
                             registry::LicenceStatus::kActive, sampleDate(2001, 7, 1)});
  return licence;
}

registry::JournalEntry importEntry() {
  registry::JournalEntry entry;
  entry.sequence = 7;
  entry.type = registry::EventType::kImport;
  entry.licensor = "CZ-ERU";
  entry.licence_number = "310100016";
  entry.sender_system = "eru-loader";
  entry.message_id = "m-1";
  entry.recorded_at = "2026-01-05T10:00:00Z";
  entry.payload = R"({"type":"import","occurredOn":"2001-08-10"})";
  return entry;
}

TEST(JsonView, WritesALicenceWithAnnexesAndHistory) {
  std::string text = licenceToJson(karlov(), {importEntry()});

  Json expected = Json::parse(R"({
    "number": "310100016", "kind": "legacy", "licensor": "CZ-ERU", "activityCode": "31",
    "status": "active",
    "holder": {"idScheme": "cz-ico", "id": "00637076", "name": "Obec Velký Karlov",
               "address": "Velký Karlov 126, 671 28 Velký Karlov", "legalForm": "",
               "country": "CZ"},
    "issuedOn": "2001-07-01", "validFrom": "2001-07-01", "validUntil": null,
    "suspendedUntil": null, "revision": 2, "sourceVersion": "0",
    "annexes": [{"number": "001", "name": "Centrální kotelna",
                 "address": "Velký Karlov 72, 671 28 Velký Karlov", "status": "active",
                 "issuedOn": "2001-07-01"}],
    "history": [{"sequence": 7, "type": "import", "licensor": "CZ-ERU",
                 "licenceNumber": "310100016", "annexNumber": null,
                 "senderSystem": "eru-loader", "messageId": "m-1",
                 "recordedAt": "2026-01-05T10:00:00Z",
                 "event": {"type": "import", "occurredOn": "2001-08-10"}}]
  })");
  EXPECT_EQ(Json::parse(text), expected);
  EXPECT_NE(text.find("Obec Velký Karlov"), std::string::npos);
}

TEST(JsonView, WritesAMaskedHolderWithNullId) {
  registry::Licence licence = karlov();
  licence.holder = registry::Holder{};

  Json json = Json::parse(licenceToJson(licence, {}));

  EXPECT_TRUE(json["holder"]["id"].is_null());
  EXPECT_TRUE(json["holder"]["idScheme"].is_null());
  EXPECT_EQ(json["holder"]["name"], "");
  EXPECT_EQ(json["history"], Json::array());
}

TEST(JsonView, WritesAPageWithItsCursor) {
  registry::LicencePage page{{karlov()}, "310100016"};

  Json json = Json::parse(licencePageToJson(page));

  ASSERT_EQ(json["licences"].size(), 1u);
  EXPECT_EQ(json["licences"][0]["number"], "310100016");
  EXPECT_FALSE(json["licences"][0].contains("history"));
  EXPECT_EQ(json["nextAfter"], "310100016");
}

TEST(JsonView, WritesTheLastPageWithNullCursor) {
  Json json = Json::parse(licencePageToJson({}));

  EXPECT_EQ(json["licences"], Json::array());
  EXPECT_TRUE(json["nextAfter"].is_null());
}

TEST(JsonView, WritesTheJournalWithTheLastSequence) {
  registry::JournalEntry second = importEntry();
  second.sequence = 8;
  second.annex_number = "001";

  Json json = Json::parse(journalToJson({importEntry(), second}));

  ASSERT_EQ(json["entries"].size(), 2u);
  EXPECT_EQ(json["entries"][1]["annexNumber"], "001");
  EXPECT_EQ(json["nextAfter"], 8);
}

TEST(JsonView, WritesAnEmptyJournalWithNullCursor) {
  Json json = Json::parse(journalToJson({}));

  EXPECT_EQ(json, Json::parse(R"({"entries": [], "nextAfter": null})"));
}

TEST(JsonView, ShowsAPayloadThatIsNotJsonAsText) {
  registry::JournalEntry entry = importEntry();
  entry.payload = "not json";

  Json json = Json::parse(journalToJson({entry}));

  EXPECT_EQ(json["entries"][0]["event"], "not json");
}

registry::DeadLetter deadLetter(std::string body) {
  registry::DeadLetter letter;
  letter.id = 3;
  letter.sender_system = "eru-loader";
  letter.message_id = "m-9";
  letter.content_type = "application/xml";
  letter.received_at = "2026-01-05T10:00:01Z";
  letter.code = registry::ErrorCode::kInvalidEncoding;
  letter.reason = "invalid UTF-8 at byte offset 1 (0xE8)";
  letter.body = std::move(body);
  return letter;
}

TEST(JsonView, WritesAUtf8DeadLetterBodyAsText) {
  Json json = Json::parse(deadLettersToJson({deadLetter("<a>Řád</a>")}));

  Json expected = Json::parse(R"json({"deadLetters": [{
    "id": 3, "senderSystem": "eru-loader", "messageId": "m-9",
    "contentType": "application/xml", "receivedAt": "2026-01-05T10:00:01Z",
    "error": "invalid-encoding", "reason": "invalid UTF-8 at byte offset 1 (0xE8)",
    "bodyEncoding": "utf-8", "body": "<a>Řád</a>"}], "nextAfter": 3})json");
  EXPECT_EQ(json, expected);
}

TEST(JsonView, WritesAWindows1250DeadLetterBodyAsBase64) {
  Json json = Json::parse(deadLettersToJson({deadLetter("\xD8\xE1\x64!")}));

  EXPECT_EQ(json["deadLetters"][0]["bodyEncoding"], "base64");
  EXPECT_EQ(json["deadLetters"][0]["body"], "2OFkIQ==");
}

TEST(JsonView, PadsBase64ForEveryRemainder) {
  for (const auto& [body, expected] : std::vector<std::pair<std::string, std::string>>{
           {"\xFF", "/w=="}, {"\xFF\xFE", "//4="}, {"\xFF\xFE\xFD", "//79"}}) {
    Json json = Json::parse(deadLettersToJson({deadLetter(body)}));

    EXPECT_EQ(json["deadLetters"][0]["body"], expected);
  }
}

TEST(JsonView, WritesAnError) {
  std::string text = errorToJson(registry::makeError(registry::ErrorCode::kNotFound,
                                                     "licence 99999999 is not in the register"));

  EXPECT_EQ(text, R"({"error":"not-found","message":"licence 99999999 is not in the register"})");
}

TEST(JsonView, ReplacesBytesThatAreNotUtf8InsteadOfFailing) {
  std::string text =
      errorToJson(registry::makeError(registry::ErrorCode::kMalformed, "bad \xE8 byte"));

  EXPECT_EQ(text, "{\"error\":\"malformed\",\"message\":\"bad \xEF\xBF\xBD byte\"}");
}

}  // namespace
}  // namespace licgate::mapping
