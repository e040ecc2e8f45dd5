// Field rules of events: each event type's required fields and the shape of
// each value, with the message a sender gets.
#include "registry/validation.hpp"

#include <gtest/gtest.h>

#include <string>

#include "test/registry/event_samples.hpp"

namespace licgate::registry {
namespace {

using samples::anyEvent;
using samples::day;

std::string messageOf(const Status& status) {
  return status.ok() ? std::string("ok") : status.error().message;
}

TEST(Validation, AcceptsSampleOfEveryEventType) {
  for (EventType type : kAllEventTypes) {
    Event event = anyEvent(type, "26000001");
    if (type == EventType::kIssue) {
      event.licence_number.clear();
    }
    if (type == EventType::kAnnexIssue) {
      event.annex_number.clear();
    }

    EXPECT_EQ(messageOf(validateEvent(event)), "ok") << eventTypeName(type);
  }
}

TEST(Validation, RequiresLicensorAndDate) {
  Event no_licensor = samples::issueEvent();
  no_licensor.licensor.clear();
  Event no_date = samples::issueEvent();
  no_date.occurred_on = Date{};

  EXPECT_EQ(messageOf(validateEvent(no_licensor)), "issue: licensor is missing");
  EXPECT_EQ(messageOf(validateEvent(no_date)),
            "issue: occurredOn is missing or not a day of the calendar");
}

TEST(Validation, RejectsIssueThatNamesANumber) {
  Event issue = samples::issueEvent();
  issue.licence_number = "26000001";

  EXPECT_EQ(messageOf(validateEvent(issue)),
            "issue: licenceNumber \"26000001\" must be empty: the register gives the number");
}

TEST(Validation, RejectsIssueOfLegacyNumber) {
  Event issue = samples::issueEvent();
  issue.number_kind = NumberKind::kLegacy;

  EXPECT_EQ(messageOf(validateEvent(issue)),
            "issue: numberKind legacy is not given by the register; legacy licences arrive by "
            "import");
}

TEST(Validation, ChecksHolderIdByItsScheme) {
  Event issue = samples::issueEvent();
  issue.holder->id = HolderId{IdScheme::kKzIin, "900101300015"};

  Status status = validateEvent(issue);

  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kInvalidField);
  EXPECT_EQ(status.error().message,
            "issue: holder.id: IIN 900101300015: check digit is 5, expected 7");
}

TEST(Validation, ChecksHolderCountryForLookAlikes) {
  Event issue = samples::issueEvent();
  issue.holder->country = "\u041aZ";

  EXPECT_EQ(messageOf(validateEvent(issue)),
            "issue: holder.country: country code \"\u041aZ\" contains U+041A CYRILLIC CAPITAL "
            "LETTER KA, a look-alike of the Latin letter K from another alphabet");
}

TEST(Validation, RequiresHolderOfIssue) {
  Event issue = samples::issueEvent();
  issue.holder.reset();
  Event unnamed = samples::issueEvent();
  unnamed.holder->name.clear();

  EXPECT_EQ(messageOf(validateEvent(issue)), "issue: holder is missing");
  EXPECT_EQ(messageOf(validateEvent(unnamed)), "issue: holder.name is missing");
}

TEST(Validation, AcceptsMaskedHolderOfImport) {
  Event import = samples::importEvent("310100012", LicenceStatus::kActive);
  import.holder = Holder{};

  EXPECT_EQ(messageOf(validateEvent(import)), "ok");
}

TEST(Validation, RequiresNameOfIdentifiedHolderOfImport) {
  Event import = samples::importEvent("310100012", LicenceStatus::kActive);
  import.holder->name.clear();

  EXPECT_EQ(messageOf(validateEvent(import)), "import: holder.name is missing");
}

TEST(Validation, ChecksExportImportParts) {
  Event issue = samples::issueEvent();
  issue.number_kind = NumberKind::kExportImport;
  issue.goods_list = "12";
  issue.seal_code = "A7B";

  EXPECT_EQ(messageOf(validateEvent(issue)),
            "issue: goodsList: goods list number \"12\" has 2 digits, not 3");
}

TEST(Validation, ChecksValidityOrder) {
  Event issue = samples::issueEvent(day(2026, 3, 2));
  issue.valid_from = day(2026, 4, 1);
  issue.valid_until = day(2026, 3, 31);
  Event defaulted = samples::issueEvent(day(2026, 3, 2));
  defaulted.valid_until = day(2026, 3, 1);

  EXPECT_EQ(messageOf(validateEvent(issue)),
            "issue: validUntil 2026-03-31 is before validFrom 2026-04-01");
  EXPECT_EQ(messageOf(validateEvent(defaulted)),
            "issue: validUntil 2026-03-01 is before validFrom 2026-03-02");
}

TEST(Validation, RejectsDateNotInCalendar) {
  Event issue = samples::issueEvent();
  issue.valid_until = day(2026, 2, 30);

  EXPECT_EQ(messageOf(validateEvent(issue)), "issue: validUntil is not a day of the calendar");
}

TEST(Validation, RequiresGroundsOfSuspensionAndTermination) {
  Event suspend = anyEvent(EventType::kSuspend, "26000001");
  suspend.reason.clear();
  Event annex_terminate = anyEvent(EventType::kAnnexTerminate, "26000001");
  annex_terminate.reason.clear();

  EXPECT_EQ(messageOf(validateEvent(suspend)), "suspend: reason is missing");
  EXPECT_EQ(messageOf(validateEvent(annex_terminate)), "annex-terminate: reason is missing");
}

TEST(Validation, RejectsSuspensionEndingBeforeItStarts) {
  Event suspend = anyEvent(EventType::kSuspend, "26000001");
  suspend.suspended_until = day(2026, 3, 1);

  EXPECT_EQ(messageOf(validateEvent(suspend)),
            "suspend: suspendedUntil 2026-03-01 is before occurredOn 2026-04-01");
}

TEST(Validation, RequiresLicenceNumberOfEventsAboutALicence) {
  Event resume = anyEvent(EventType::kResume, "");
  Event padded = anyEvent(EventType::kDuplicate, "2600\n0001");

  EXPECT_EQ(messageOf(validateEvent(resume)), "resume: licenceNumber is missing");
  EXPECT_EQ(messageOf(validateEvent(padded)),
            "duplicate: licenceNumber \"2600\\x0A0001\" is not a licence number (1 to 32 "
            "printable ASCII characters)");
}

TEST(Validation, RequiresRefusalGroundsAndApplication) {
  Event refuse = samples::refuseEvent();
  refuse.application_ref.clear();
  Event numbered = samples::refuseEvent();
  numbered.licence_number = "26000001";

  EXPECT_EQ(messageOf(validateEvent(refuse)), "refuse: applicationRef is missing");
  EXPECT_EQ(messageOf(validateEvent(numbered)),
            "refuse: licenceNumber \"26000001\" must be empty: the register gives the number");
}

TEST(Validation, ChecksImportedNumberByItsKind) {
  Event activity = samples::importEvent("2600001", LicenceStatus::kActive);
  activity.number_kind = NumberKind::kActivity;
  Event missing_status = samples::importEvent("310100016", LicenceStatus::kActive);
  missing_status.imported_status.reset();

  EXPECT_EQ(messageOf(validateEvent(activity)),
            "import: licenceNumber: licence number \"2600001\" has 7 digits, not 8");
  EXPECT_EQ(messageOf(validateEvent(missing_status)), "import: importedStatus is missing");
}

TEST(Validation, ChecksAnnexNumbers) {
  Event annex_issue = anyEvent(EventType::kAnnexIssue, "26000001");
  Event annex_resume = anyEvent(EventType::kAnnexResume, "26000001");
  annex_resume.annex_number = "1";
  Event annex_import = anyEvent(EventType::kAnnexImport, "26000001");
  annex_import.annex_status.reset();

  EXPECT_EQ(messageOf(validateEvent(annex_issue)),
            "annex-issue: annexNumber \"001\" must be empty: the register gives the number");
  EXPECT_EQ(messageOf(validateEvent(annex_resume)),
            "annex-resume: annexNumber: annex number \"1\" has 1 digits, not 3");
  EXPECT_EQ(messageOf(validateEvent(annex_import)), "annex-import: annexStatus is missing");
}

TEST(Validation, RejectsInvalidUtf8InAnyTextField) {
  Event issue = samples::issueEvent();
  issue.reason = "bad \xc3";

  EXPECT_EQ(messageOf(validateEvent(issue)), "issue: reason \"bad \\xC3\" is not valid UTF-8");
}

TEST(Validation, RejectsAControlCharacterXmlCannotCarry) {
  Event issue = samples::issueEvent();
  issue.holder->name = std::string("ТОО\x01X");

  Status status = validateEvent(issue);

  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kInvalidField);
  EXPECT_EQ(status.error().message,
            "issue: holder.name has the control character U+0001 at byte 6, which XML cannot "
            "carry");
}

TEST(Validation, RejectsANoncharacterXmlCannotCarry) {
  Event issue = samples::issueEvent();
  issue.holder->name = "ТОО \uFFFE";

  Status status = validateEvent(issue);

  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message,
            "issue: holder.name has the character U+FFFE at byte 7, which XML cannot carry");
}

TEST(Validation, KeepsTabsAndLineBreaks) {
  Event issue = samples::issueEvent();
  issue.holder->address = "Velký Karlov 126\r\n\t671 28";

  EXPECT_TRUE(validateEvent(issue).ok());
}

TEST(Validation, RejectsTextOverItsLimit) {
  Event issue = samples::issueEvent();
  issue.holder->name = std::string(1001, 'x');

  Status status = validateEvent(issue);

  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kInvalidField);  // the message itself is in size
  EXPECT_EQ(status.error().message, "issue: holder.name has 1001 bytes, more than 1000");
}

}  // namespace
}  // namespace licgate::registry
