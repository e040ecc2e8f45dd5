// The canonical JSON writer against nlohmann's: the journal's payloads must
// stay byte for byte what they were when they were written through an
// nlohmann::ordered_json tree, since stored journals are compared and
// re-read. The reference below is that tree encoder, kept here only as the
// oracle.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <random>
#include <string>
#include <vector>

#include "registry/event_codec.hpp"
#include "test/registry/event_samples.hpp"

namespace licgate::registry {
namespace {

using Json = nlohmann::ordered_json;

void putText(Json& out, const char* key, const std::string& value) {
  if (!value.empty()) {
    out[key] = value;
  }
}

void putDate(Json& out, const char* key, const std::optional<Date>& value) {
  if (value) {
    out[key] = formatIsoDate(*value);
  }
}

std::string referenceEncode(const Event& event) {
  Json out = Json::object();
  out["type"] = std::string(eventTypeName(event.type));
  putText(out, "licensor", event.licensor);
  out["occurredOn"] = formatIsoDate(event.occurred_on);
  putText(out, "licenceNumber", event.licence_number);
  if (event.type == EventType::kIssue || event.type == EventType::kImport) {
    out["numberKind"] = std::string(numberKindName(event.number_kind));
  }
  putText(out, "goodsList", event.goods_list);
  putText(out, "sealCode", event.seal_code);
  if (event.holder) {
    Json holder = Json::object();
    if (event.holder->id) {
      holder["idScheme"] = std::string(idSchemeName(event.holder->id->scheme));
      holder["id"] = event.holder->id->value;
    }
    putText(holder, "name", event.holder->name);
    putText(holder, "address", event.holder->address);
    putText(holder, "legalForm", event.holder->legal_form);
    putText(holder, "country", event.holder->country);
    out["holder"] = holder;
  }
  putText(out, "activityCode", event.activity_code);
  putDate(out, "validFrom", event.valid_from);
  putDate(out, "validUntil", event.valid_until);
  if (event.imported_status) {
    out["importedStatus"] = std::string(statusName(*event.imported_status));
  }
  putText(out, "sourceVersion", event.source_version);
  putText(out, "applicationRef", event.application_ref);
  putText(out, "reason", event.reason);
  putDate(out, "suspendedUntil", event.suspended_until);
  putText(out, "annexNumber", event.annex_number);
  putText(out, "annexName", event.annex_name);
  putText(out, "annexAddress", event.annex_address);
  if (event.annex_status) {
    out["annexStatus"] = std::string(statusName(*event.annex_status));
  }
  return out.dump();
}

// Text a register entry may carry: Czech and Kazakh letters, guillemets,
// quotes, backslashes, every control character, DEL and a 4-byte character.
const std::vector<std::string>& textPieces() {
  static const std::vector<std::string> kPieces = [] {
    std::vector<std::string> pieces{
        "Obec Velký Karlov",
        "Příliš žluťoučký kůň",
        "ТОО «Қазақ Жылу»",
        "Мәңгілік Ел 8",
        "\"quoted\"",
        "back\\slash",
        "a/b",
        "\x7f",
        "😀",
        "",
        " ",
        "Ő ő Ű ű",
    };
    for (int byte = 0; byte < 0x20; ++byte) {
      pieces.push_back(std::string("c") + static_cast<char>(byte) + "c");
    }
    return pieces;
  }();
  return kPieces;
}

std::string randomText(std::mt19937& random) {
  const auto& pieces = textPieces();
  std::uniform_int_distribution<std::size_t> count(0, 4);
  std::uniform_int_distribution<std::size_t> pick(0, pieces.size() - 1);
  std::string text;
  for (std::size_t n = count(random); n > 0; --n) {
    text += pieces[pick(random)];
  }
  return text;
}

std::optional<Date> randomDate(std::mt19937& random) {
  std::uniform_int_distribution<int> choice(0, 2);
  if (choice(random) == 0) {
    return std::nullopt;
  }
  return samples::day(2000 + choice(random) * 13, 1 + choice(random) * 5, 1 + choice(random) * 14);
}

Event randomEvent(std::mt19937& random) {
  std::uniform_int_distribution<int> type(0, static_cast<int>(EventType::kAnnexImport));
  std::uniform_int_distribution<int> coin(0, 1);
  Event event;
  event.type = static_cast<EventType>(type(random));
  event.licensor = randomText(random);
  event.occurred_on = randomDate(random).value_or(samples::day(2026, 3, 2));
  event.licence_number = randomText(random);
  event.number_kind = coin(random) ? NumberKind::kActivity : NumberKind::kLegacy;
  event.goods_list = randomText(random);
  event.seal_code = randomText(random);
  if (coin(random)) {
    Holder holder;
    if (coin(random)) {
      holder.id = HolderId{coin(random) ? IdScheme::kKzBin : IdScheme::kCzIco, randomText(random)};
    }
    holder.name = randomText(random);
    holder.address = randomText(random);
    holder.legal_form = randomText(random);
    holder.country = randomText(random);
    event.holder = holder;
  }
  event.activity_code = randomText(random);
  event.valid_from = randomDate(random);
  event.valid_until = randomDate(random);
  if (coin(random)) {
    event.imported_status = coin(random) ? LicenceStatus::kActive : LicenceStatus::kTerminated;
  }
  event.source_version = randomText(random);
  event.application_ref = randomText(random);
  event.reason = randomText(random);
  event.suspended_until = randomDate(random);
  event.annex_number = randomText(random);
  event.annex_name = randomText(random);
  event.annex_address = randomText(random);
  if (coin(random)) {
    event.annex_status = LicenceStatus::kSuspended;
  }
  return event;
}

TEST(EventCodecWriter, MatchesTreeEncoderOnSampleEvents) {
  const std::vector<Event> events{
      samples::issueEvent(),
      samples::refuseEvent(),
      samples::importEvent("310100016", LicenceStatus::kActive),
      samples::licenceEvent(EventType::kSuspend, "26000001"),
      samples::annexEvent(EventType::kAnnexImport, "26000001", "001"),
  };

  for (const Event& event : events) {
    EXPECT_EQ(encodeEvent(event), referenceEncode(event));
  }
}

TEST(EventCodecWriter, MatchesTreeEncoderOnRandomEvents) {
  std::mt19937 random(20261203);

  for (int i = 0; i < 5000; ++i) {
    Event event = randomEvent(random);
    ASSERT_EQ(encodeEvent(event), referenceEncode(event)) << "event " << i;
  }
}

TEST(EventCodecWriter, EscapesControlCharactersQuotesAndBackslashes) {
  Event event = samples::issueEvent();
  event.holder->name = std::string("a\"b\\c\b\f\n\r\t") + '\0' + "\x01\x1f\x7f/";

  std::string json = encodeEvent(event);

  EXPECT_NE(json.find(R"("name":"a\"b\\c\b\f\n\r\t\u0000\u0001\u001f)"
                      "\x7f"
                      R"(/")"),
            std::string::npos)
      << json;
  EXPECT_EQ(json, referenceEncode(event));
}

TEST(EventCodecWriter, KeepsCzechAndKazakhTextAsUtf8) {
  Event event = samples::issueEvent();
  event.holder->name = "ТОО «Қазақ Жылу»";
  event.holder->address = "Příliš žluťoučký kůň 12";

  std::string json = encodeEvent(event);

  EXPECT_NE(json.find("\"name\":\"ТОО «Қазақ Жылу»\""), std::string::npos);
  EXPECT_NE(json.find("\"address\":\"Příliš žluťoučký kůň 12\""), std::string::npos);
}

TEST(EventCodecWriter, ThrowsTheTreeEncodersErrorOnTextThatIsNotUtf8) {
  Event event = samples::issueEvent();
  event.holder->address = "Praha \xC3\x28";
  std::string expected;
  try {
    (void)referenceEncode(event);
  } catch (const nlohmann::json::exception& e) {
    expected = e.what();
  }

  try {
    (void)encodeEvent(event);
    FAIL() << "no exception";
  } catch (const nlohmann::json::exception& e) {
    EXPECT_EQ(std::string(e.what()), expected);
  }
  EXPECT_FALSE(expected.empty());
}

}  // namespace
}  // namespace licgate::registry
