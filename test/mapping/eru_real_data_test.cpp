// The ERÚ mapping on the real files (the shared data set beside the
// repository): every record split, decoded, mapped and validated, with the
// exact count of each outcome and the fields of a few real licences. The data
// set is required: a machine without it fails here rather than passing with
// nothing checked.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "mapping/encoding.hpp"
#include "mapping/eru.hpp"
#include "mapping/eru_record.hpp"
#include "mapping/event_xml.hpp"
#include "registry/validation.hpp"
#include "test/mapping/xmllint.hpp"

namespace licgate::mapping {
namespace {

using registry::Event;
using registry::LicenceStatus;

const std::filesystem::path kEruData = LICGATE_SOURCE_DIR "/../shared/data/eru";

std::string readDataFile(const std::string& name) {
  std::ifstream file(kEruData / name, std::ios::binary);
  std::ostringstream bytes;
  bytes << file.rdbuf();
  return bytes.str();
}

// One record through what licgate does to a message body: charset, mapping,
// the register's field rules.
registry::Result<Event> decodeRecord(const SourceRecord& record) {
  bool xml = mediaTypeOf(record.content_type).ends_with("+xml");
  auto utf8 = toUtf8(record.body, charsetOfContentType(record.content_type),
                     xml ? TextKind::kXml : TextKind::kOther);
  if (!utf8) {
    return utf8.takeError();
  }
  std::string profile = record.content_type.substr(record.content_type.find("profile=") + 8);
  auto event = xml                       ? mapEruXmlRecord(*utf8)
               : profile == "eru-holder" ? mapEruHolderCsv(*utf8)
                                         : mapEruEstablishmentCsv(*utf8);
  if (!event) {
    return event;
  }
  registry::Status valid = registry::validateEvent(*event);
  if (!valid.ok()) {
    return valid.takeError();
  }
  return event;
}

struct Outcomes {
  std::map<std::string, Event> mapped;  // by record key
  std::map<std::string, int> rejected;  // by message
  std::vector<std::string> keys;        // in file order
};

Outcomes decodeAll(const std::vector<SourceRecord>& records) {
  Outcomes outcomes;
  for (const SourceRecord& record : records) {
    outcomes.keys.push_back(record.key);
    auto event = decodeRecord(record);
    if (event) {
      outcomes.mapped.emplace(record.key, std::move(*event));
    } else {
      ++outcomes.rejected[event.error().message];
    }
  }
  return outcomes;
}

// Each file is split and mapped at most once per test program, and only
// when a test asks for it (CTest runs every test in its own process).
const Outcomes& outcomesOf(const std::string& file, const std::string& profile) {
  static std::map<std::string, Outcomes> cache;
  auto cached = cache.find(file);
  if (cached != cache.end()) {
    return cached->second;
  }
  std::string bytes = readDataFile(file);
  auto records = profile.empty() ? splitEruXml(bytes) : splitEruCsv(bytes, profile);
  Outcomes outcomes;
  if (records) {
    outcomes = decodeAll(*records);
  }
  return cache.emplace(file, std::move(outcomes)).first->second;
}

class EruRealData : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(kEruData / "SOURCES.md"))
        << "the ERÚ data set is missing: expected it in " << kEruData;
  }

  static const Outcomes& xml() { return outcomesOf("lic31-heat-2021-05-28.xml", ""); }
  static const Outcomes& holders() {
    return outcomesOf("holders-all-2022-06-10.csv", "eru-holder");
  }
  static const Outcomes& sites() {
    return outcomesOf("heat-establishments-2022-06-10.csv", "eru-establishment");
  }

  static int count(const Outcomes& outcomes, bool (*matches)(const Event&)) {
    return static_cast<int>(
        std::count_if(outcomes.mapped.begin(), outcomes.mapped.end(),
                      [&](const auto& entry) { return matches(entry.second); }));
  }
};

bool isActive(const Event& event) {
  return event.imported_status == LicenceStatus::kActive;
}
bool isRevoked(const Event& event) {
  return event.reason == "revoked";
}
bool isLapsed(const Event& event) {
  return event.reason == "lapsed";
}
bool isMasked(const Event& event) {
  return event.holder == registry::Holder{};
}
bool isNamedWithoutId(const Event& event) {
  return !event.holder->id && !event.holder->name.empty();
}
bool hasId(const Event& event) {
  return event.holder->id.has_value();
}
bool isInGb(const Event& event) {
  return event.holder->country == "GB";
}
bool isUnlimited(const Event& event) {
  return !event.valid_until.has_value();
}
bool isOriginalVersion(const Event& event) {
  return event.source_version == "0";
}

TEST_F(EruRealData, MapsEveryRecordOfTheXmlExport) {
  const Outcomes& outcomes = xml();

  EXPECT_EQ(outcomes.keys.size(), 897u);
  EXPECT_EQ(outcomes.mapped.size(), 897u);
  EXPECT_TRUE(outcomes.rejected.empty());
  EXPECT_EQ(count(outcomes, isActive), 658);
  EXPECT_EQ(count(outcomes, isRevoked), 199);
  EXPECT_EQ(count(outcomes, isLapsed), 40);
  EXPECT_EQ(count(outcomes, isMasked), 36);
  EXPECT_EQ(count(outcomes, isNamedWithoutId), 1);
}

TEST_F(EruRealData, KeepsCzechLettersOfTheWindows1250Export) {
  const Event& event = xml().mapped.at("310100016");

  EXPECT_EQ(event.holder->name, "Obec Velký Karlov");
  EXPECT_EQ(event.holder->address, "Velký Karlov 126, 671 28 Velký Karlov");
  EXPECT_EQ(event.holder->id->value, "00637076");
  EXPECT_EQ(registry::formatIsoDate(*event.valid_from), "2001-07-01");
  EXPECT_EQ(registry::formatIsoDate(*event.valid_until), "2026-07-16");
  EXPECT_EQ(registry::formatIsoDate(event.occurred_on), "2001-08-10");
  EXPECT_EQ(event.source_version, "0");
  EXPECT_EQ(event.activity_code, "31");
}

TEST_F(EruRealData, ImportsTheForeignHolderOfTheXmlWithoutItsBranch) {
  const Event& event = xml().mapped.at("311533618 v4");

  EXPECT_EQ(event.holder->name, "RIGHT POWER, a.s.");
  EXPECT_FALSE(event.holder->id.has_value());
  EXPECT_EQ(event.holder->country, "SK");
}

TEST_F(EruRealData, MapsEveryHolderRowButTwo) {
  const Outcomes& outcomes = holders();

  EXPECT_EQ(outcomes.keys.size(), 33779u);
  EXPECT_EQ(outcomes.mapped.size(), 33777u);
  std::map<std::string, int> expected_rejections = {
      {"den_opravneni of licence 320202350: 2027-02-06 is after den_zaniku 2021-01-28", 1},
      {"ic of licence 141533507: \"ČEKATEL\" is text, not an IČ; a named holder is not "
       "imported without a valid IČ",
       1},
  };
  EXPECT_EQ(outcomes.rejected, expected_rejections);
}

TEST_F(EruRealData, CountsHolderRowsByStatusAndHolder) {
  const Outcomes& outcomes = holders();

  EXPECT_EQ(count(outcomes, isActive), 29321);
  EXPECT_EQ(count(outcomes, isRevoked), 3058);
  EXPECT_EQ(count(outcomes, isLapsed), 1398);
  EXPECT_EQ(count(outcomes, isMasked), 22947);
  EXPECT_EQ(count(outcomes, isNamedWithoutId), 225);
  EXPECT_EQ(count(outcomes, hasId), 10605);
  EXPECT_EQ(count(outcomes, isInGb), 28);
  EXPECT_EQ(count(outcomes, isUnlimited), 986);
  EXPECT_EQ(count(outcomes, isOriginalVersion), 25126);
}

TEST_F(EruRealData, MapsUkEngToGb) {
  const Event& event = holders().mapped.at("641533531");

  EXPECT_EQ(event.holder->name, "Noble Clean Fuels Limited");
  EXPECT_EQ(event.holder->country, "GB");
  EXPECT_FALSE(event.holder->id.has_value());
  EXPECT_FALSE(event.valid_until.has_value());
}

TEST_F(EruRealData, TreatsTheLapseDateIn2121AsUnlimited) {
  const Event& event = holders().mapped.at("122136995");

  EXPECT_EQ(event.holder->name, "Skanska a.s.");
  EXPECT_FALSE(event.valid_until.has_value());
  EXPECT_EQ(registry::formatIsoDate(*event.valid_from), "2022-02-23");
}

TEST_F(EruRealData, KeepsTheActiveLicenceWhoseLapseDatePassed) {
  const Event& event = holders().mapped.at("241734335");

  EXPECT_EQ(event.imported_status, LicenceStatus::kActive);
  EXPECT_EQ(registry::formatIsoDate(*event.valid_until), "2022-02-17");
}

TEST_F(EruRealData, UndoesTheExtraEscapingOfNames) {
  const Event& event = holders().mapped.at("140807209 v6");

  EXPECT_EQ(event.holder->name, "Gazprom Marketing & Trading Limited");
  EXPECT_EQ(event.holder->address, "Triton Street 20, NW1 3BF Londýn");
}

TEST_F(EruRealData, MapsEachVersionOfOneLicenceInAscendingOrder) {
  const std::vector<std::string> expected = {"110504772 v1", "110504772 v2", "110504772 v3",
                                             "110504772 v19"};
  std::vector<std::string> found;
  std::copy_if(holders().keys.begin(), holders().keys.end(), std::back_inserter(found),
               [](const std::string& key) { return key.starts_with("110504772"); });

  EXPECT_EQ(found, expected);
  EXPECT_EQ(holders().mapped.at("110504772 v19").holder->address,
            "Na lysině 1181/6, Podolí, 147 00 Praha");
  EXPECT_EQ(holders().mapped.at("110504772 v1").holder->address,
            "Rošovická 295, 190 16 Praha 9 - Koloděje");
}

// The register refuses an import older than the version it holds, so the
// file order must put every licence's versions in ascending order.
TEST_F(EruRealData, ListsTheVersionsOfEveryLicenceInAscendingOrder) {
  std::map<std::string, long> last_version;
  int out_of_order = 0;

  for (const std::string& key : holders().keys) {
    auto found = holders().mapped.find(key);
    if (found == holders().mapped.end()) {
      continue;
    }
    long version = std::stol(found->second.source_version);
    auto [held, fresh] = last_version.emplace(found->second.licence_number, version);
    out_of_order += !fresh && version < held->second;
    held->second = version;
  }

  EXPECT_EQ(out_of_order, 0);
  EXPECT_EQ(last_version.size(), 33767u);
}

// Heat licences whose version label is the same in the 2021 XML and the 2022
// CSV map to identical events, so reading the other file is no change,
// except where ERÚ changed the record without a new version: 17 licences
// terminated since and 4 whose lapse date moved. Those are the real change
// events between the two exports.
TEST_F(EruRealData, MapsUnchangedHeatLicencesAlikeFromXmlAndCsv) {
  int same_version = 0;
  int identical = 0;
  int terminated_since = 0;

  for (const auto& [key, from_csv] : holders().mapped) {
    auto from_xml = xml().mapped.find(key);
    if (from_xml == xml().mapped.end()) {
      continue;
    }
    ++same_version;
    identical += from_xml->second == from_csv;
    terminated_since += isActive(from_xml->second) && !isActive(from_csv);
  }

  EXPECT_EQ(same_version, 790);
  EXPECT_EQ(identical, 769);
  EXPECT_EQ(terminated_since, 17);
}

TEST_F(EruRealData, MapsEveryEstablishment) {
  const Outcomes& outcomes = sites();

  EXPECT_EQ(outcomes.keys.size(), 2706u);
  EXPECT_EQ(outcomes.mapped.size(), 2706u);
  EXPECT_TRUE(outcomes.rejected.empty());
  const Event& event = outcomes.mapped.at("310100019/3");
  EXPECT_EQ(event.annex_number, "003");
  EXPECT_EQ(event.annex_name, "Plynová kotelna K 3 Fugnerova");
  EXPECT_EQ(event.annex_address, "Fugnerova 1640, 396 01 Humpolec");
  EXPECT_EQ(outcomes.mapped.at("310100388/1").annex_address, "Ježovská 115/2, Praha");
}

TEST_F(EruRealData, CompiledLicenceTypesMatchTheFile) {
  auto types = parseEruLicenceTypes(readDataFile("licence-types.csv"));
  ASSERT_TRUE(types.ok()) << types.error().message;

  const std::vector<ActivityType>& compiled = eruActivityTypes();

  ASSERT_EQ(types->size(), 14u);
  ASSERT_EQ(compiled.size(), types->size());
  for (std::size_t i = 0; i < compiled.size(); ++i) {
    EXPECT_EQ(compiled[i].code, (*types)[i].code);
    EXPECT_EQ(compiled[i].name, (*types)[i].name);
  }
  EXPECT_EQ(types->back().name, "uznání pro obchod s plynem");
}

TEST_F(EruRealData, WritesEveryXmlRecordAsCanonicalXmlThatValidates) {
  std::vector<std::string> documents;
  for (const auto& [key, event] : xml().mapped) {
    documents.push_back(writeEventXml(event));
  }

  XsdValidation result = validateWithXmllint(documents);

  EXPECT_EQ(documents.size(), 897u);
  EXPECT_EQ(result.exit_code, 0) << result.output.substr(0, 2000);
}

}  // namespace
}  // namespace licgate::mapping
