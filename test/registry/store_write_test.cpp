// The store's write path on a real SQLite file: each event type, batches
// with a rejected message, duplicates and dead letters.
#include <gtest/gtest.h>

#include "registry/event_codec.hpp"
#include "registry/sqlite_connection.hpp"
#include "test/registry/store_fixture.hpp"

namespace licgate::registry {
namespace {

using samples::anyEvent;
using samples::day;

std::vector<std::uint64_t> sequencesOf(const std::vector<JournalEntry>& entries) {
  std::vector<std::uint64_t> sequences;
  for (const JournalEntry& entry : entries) {
    sequences.push_back(entry.sequence);
  }
  return sequences;
}

TEST_F(StoreTest, IssueGivesFirstNumberOfTheYearAndStoresLicence) {
  Outcome outcome = apply("m-1", samples::issueEvent(day(2026, 3, 2)));

  EXPECT_EQ(outcome.disposition, Disposition::kApplied);
  EXPECT_EQ(outcome.sequence, 1u);
  EXPECT_EQ(outcome.licence_number, "26000001");
  auto licence = store_->findLicence("26000001");
  ASSERT_TRUE(licence.ok());
  EXPECT_EQ(licence->status, LicenceStatus::kActive);
  EXPECT_EQ(licence->holder, samples::sampleHolder());
  EXPECT_EQ(formatIsoDate(licence->issued_on), "2026-03-02");
  EXPECT_FALSE(licence->valid_until.has_value());
}

TEST_F(StoreTest, JournalPayloadCarriesTheGivenNumber) {
  Event event = samples::issueEvent();
  apply("m-1", event);

  std::vector<JournalEntry> entries = journal();

  event.licence_number = "26000001";
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].payload, encodeEvent(event));
  EXPECT_EQ(entries[0].type, EventType::kIssue);
  EXPECT_EQ(entries[0].licence_number, "26000001");
  EXPECT_EQ(entries[0].sender_system, "kz-energy-portal");
  EXPECT_EQ(entries[0].message_id, "m-1");
  EXPECT_EQ(entries[0].recorded_at.size(), 20u);
}

// Each step is applied to licence 26000001 in order; the licence (or the
// annex named) must be left in the given status.
TEST_F(StoreTest, AppliesEveryEventTypeInTurn) {
  struct Step {
    EventType type;
    Disposition disposition;
    std::string annex_number;  // given or named
    LicenceStatus licence_status;
  };
  using E = EventType;
  constexpr auto kA = LicenceStatus::kActive;
  constexpr auto kS = LicenceStatus::kSuspended;
  constexpr auto kT = LicenceStatus::kTerminated;
  const Step steps[] = {
      {E::kIssue, Disposition::kApplied, "", kA},
      {E::kAnnexIssue, Disposition::kApplied, "001", kA},
      {E::kAnnexSuspend, Disposition::kApplied, "001", kA},
      {E::kAnnexResume, Disposition::kApplied, "001", kA},
      {E::kAnnexImport, Disposition::kApplied, "005", kA},
      {E::kAnnexIssue, Disposition::kApplied, "006", kA},
      {E::kSuspend, Disposition::kApplied, "", kS},
      {E::kDuplicate, Disposition::kApplied, "", kS},
      {E::kResume, Disposition::kApplied, "", kA},
      {E::kReissue, Disposition::kApplied, "", kA},
      {E::kRefuse, Disposition::kApplied, "", kA},
      {E::kImport, Disposition::kApplied, "", kA},
      {E::kImport, Disposition::kUnchanged, "", kA},
      {E::kAnnexTerminate, Disposition::kApplied, "001", kA},
      {E::kTerminate, Disposition::kApplied, "", kT},
  };
  std::uint64_t sequence = 0;

  for (std::size_t i = 0; i < std::size(steps); ++i) {
    const Step& step = steps[i];
    Event event = anyEvent(step.type, "26000001");
    event.licence_number = step.type == E::kIssue ? "" : event.licence_number;
    event.annex_number = step.type == E::kAnnexIssue ? "" : step.annex_number;
    Outcome outcome = apply("m-" + std::to_string(i), event);
    std::string where = std::to_string(i) + " " + std::string(eventTypeName(step.type));

    ASSERT_EQ(dispositionName(outcome.disposition), dispositionName(step.disposition))
        << where << ": " << (outcome.error ? outcome.error->message : "");
    sequence += step.disposition == Disposition::kApplied ? 1 : 0;
    EXPECT_EQ(outcome.sequence, step.disposition == Disposition::kApplied ? sequence : 0) << where;
    EXPECT_EQ(outcome.annex_number, step.annex_number) << where;
    EXPECT_EQ(store_->findLicence("26000001")->status, step.licence_status) << where;
  }

  auto licence = store_->findLicence("26000001");
  ASSERT_TRUE(licence.ok());
  EXPECT_EQ(licence->revision, 3);
  ASSERT_EQ(licence->annexes.size(), 3u);
  for (const Annex& annex : licence->annexes) {
    EXPECT_EQ(annex.status, kT) << annex.number;
  }
  EXPECT_EQ(counts().last_sequence, 14u);
}

TEST_F(StoreTest, RefusalIsJournalledWithoutLicence) {
  Outcome outcome = apply("m-1", samples::refuseEvent());

  EXPECT_EQ(outcome.disposition, Disposition::kApplied);
  EXPECT_EQ(outcome.sequence, 1u);
  EXPECT_EQ(outcome.licence_number, "");
  StoreCounts after = counts();
  EXPECT_EQ(after.last_sequence, 1u);
  EXPECT_EQ(after.licences_active + after.licences_suspended + after.licences_terminated, 0u);
}

TEST_F(StoreTest, BatchKeepsGoodMessagesAroundARejectedOne) {
  Event bad = samples::issueEvent();
  bad.holder->id = HolderId{IdScheme::kKzIin, "900101300015"};
  std::vector<Inbound> batch = {message("m-1", samples::issueEvent()),
                                message("m-2", samples::issueEvent()), message("m-3", bad),
                                message("m-4", samples::issueEvent())};

  auto outcomes = store_->applyBatch(batch);

  ASSERT_TRUE(outcomes.ok());
  ASSERT_EQ(outcomes->size(), 4u);
  EXPECT_EQ((*outcomes)[0].licence_number, "26000001");
  EXPECT_EQ((*outcomes)[1].licence_number, "26000002");
  EXPECT_EQ((*outcomes)[2].disposition, Disposition::kRejected);
  EXPECT_EQ((*outcomes)[2].error->code, ErrorCode::kInvalidField);
  EXPECT_EQ((*outcomes)[2].error->message,
            "issue: holder.id: IIN 900101300015: check digit is 5, expected 7");
  EXPECT_EQ((*outcomes)[3].licence_number, "26000003");
  EXPECT_EQ((*outcomes)[3].sequence, 3u);
  EXPECT_EQ(sequencesOf(journal()), (std::vector<std::uint64_t>{1, 2, 3}));
  StoreCounts after = counts();
  EXPECT_EQ(after.licences_active, 3u);
  EXPECT_EQ(after.dead_letters, 1u);
}

// A trigger makes the licence row of one message fail after its journal row
// was written: the batch runs again with savepoints and only that message is
// rejected, with no journal entry left behind.
TEST_F(StoreTest, MessageWhoseWriteFailsHalfWayIsRejectedAlone) {
  auto connection = SqliteConnection::open(options_.path, 1000);
  ASSERT_TRUE((*connection)
                  ->exec("CREATE TRIGGER refuse_poison BEFORE INSERT ON licences "
                         "WHEN NEW.holder_name = 'Poison' "
                         "BEGIN SELECT RAISE(ABORT, 'poison holder refused by the test'); END")
                  .ok());
  Event poison = samples::issueEvent();
  poison.holder->name = "Poison";
  std::vector<Inbound> batch = {message("m-1", samples::issueEvent()), message("m-2", poison),
                                message("m-3", samples::issueEvent())};

  auto outcomes = store_->applyBatch(batch);

  ASSERT_TRUE(outcomes.ok()) << outcomes.error().message;
  EXPECT_EQ((*outcomes)[0].licence_number, "26000001");
  EXPECT_EQ((*outcomes)[1].disposition, Disposition::kRejected);
  EXPECT_EQ((*outcomes)[1].error->code, ErrorCode::kInternal);
  EXPECT_NE((*outcomes)[1].error->message.find("poison holder refused by the test"),
            std::string::npos);
  EXPECT_EQ((*outcomes)[2].licence_number, "26000002");
  EXPECT_EQ((*outcomes)[2].sequence, 2u);
  EXPECT_EQ(sequencesOf(journal()), (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(counts().dead_letters, 1u);
}

TEST_F(StoreTest, RejectedMessageIsKeptAsDeadLetterWithItsBytes) {
  Outcome outcome = apply("m-9", anyEvent(EventType::kResume, "26000404"));

  auto letters = store_->deadLetters(0, 10);

  EXPECT_EQ(outcome.disposition, Disposition::kRejected);
  EXPECT_EQ(outcome.error->code, ErrorCode::kUnknownLicence);
  ASSERT_TRUE(letters.ok());
  ASSERT_EQ(letters->size(), 1u);
  const DeadLetter& letter = (*letters)[0];
  EXPECT_EQ(letter.id, 1);
  EXPECT_EQ(letter.sender_system, "kz-energy-portal");
  EXPECT_EQ(letter.message_id, "m-9");
  EXPECT_EQ(letter.content_type, "application/json");
  EXPECT_EQ(letter.code, ErrorCode::kUnknownLicence);
  EXPECT_EQ(letter.reason, "resume: licence 26000404 is not in the register");
  EXPECT_EQ(letter.body, "{\"id\":\"m-9\"}");
}

TEST_F(StoreTest, MessageThatCouldNotBeMappedIsDeadLettered) {
  Inbound inbound = message("m-1", samples::issueEvent());
  inbound.body = std::string("<event>\xff</event>");
  inbound.event = makeError(ErrorCode::kInvalidEncoding, "byte 0xFF at offset 7 is not UTF-8");

  auto outcome = store_->apply(inbound);
  auto letters = store_->deadLetters(0, 10);

  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(outcome->disposition, Disposition::kRejected);
  EXPECT_EQ(outcome->error->code, ErrorCode::kInvalidEncoding);
  ASSERT_EQ(letters->size(), 1u);
  EXPECT_EQ((*letters)[0].body, "<event>\xff</event>");
  EXPECT_EQ((*letters)[0].code, ErrorCode::kInvalidEncoding);
}

TEST_F(StoreTest, DuplicateMessageChangesNothing) {
  Outcome first = apply("m-1", samples::issueEvent());
  StoreCounts before = counts();
  std::vector<JournalEntry> journal_before = journal();

  Outcome again = apply("m-1", samples::issueEvent());

  EXPECT_EQ(again.disposition, Disposition::kDuplicate);
  EXPECT_EQ(again.sequence, first.sequence);
  EXPECT_EQ(again.licence_number, "26000001");
  StoreCounts after = counts();
  EXPECT_EQ(after.last_sequence, before.last_sequence);
  EXPECT_EQ(after.licences_active, 1u);
  EXPECT_EQ(journal().size(), journal_before.size());
}

TEST_F(StoreTest, DuplicateWithinOneBatchIsRecognised) {
  std::vector<Inbound> batch = {message("m-1", samples::issueEvent()),
                                message("m-1", samples::issueEvent())};

  auto outcomes = store_->applyBatch(batch);

  ASSERT_TRUE(outcomes.ok());
  EXPECT_EQ((*outcomes)[0].disposition, Disposition::kApplied);
  EXPECT_EQ((*outcomes)[1].disposition, Disposition::kDuplicate);
  EXPECT_EQ((*outcomes)[1].licence_number, "26000001");
  EXPECT_EQ(counts().licences_active, 1u);
}

TEST_F(StoreTest, SameMessageIdOfAnotherSenderIsAnotherMessage) {
  apply("m-1", samples::issueEvent());
  Inbound other = message("m-1", samples::issueEvent());
  other.sender_system = "kz-health-portal";

  auto outcome = store_->apply(other);

  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(outcome->disposition, Disposition::kApplied);
  EXPECT_EQ(outcome->licence_number, "26000002");
}

TEST_F(StoreTest, DuplicateOfRejectedMessageIsRejectedAgainWithOneDeadLetter) {
  Event bad = anyEvent(EventType::kSuspend, "26000404");
  Outcome first = apply("m-1", bad);

  Outcome again = apply("m-1", bad);

  EXPECT_EQ(again.disposition, Disposition::kRejected);
  ASSERT_TRUE(again.error.has_value());
  EXPECT_EQ(again.error->code, first.error->code);
  EXPECT_EQ(again.error->message, "suspend: licence 26000404 is not in the register");
  EXPECT_EQ(counts().dead_letters, 1u);
}

// An annex sent before its licence is refused for the order, not for what
// it says: sent again once the licence is there, it is applied.
TEST_F(StoreTest, MessageRejectedForTheRegistersStateIsAppliedWhenItComesAgainLater) {
  Event annex = samples::annexEvent(EventType::kAnnexImport, "310100016", "001", "ERU");
  Outcome early = apply("annex-1", annex);
  apply("licence", samples::importEvent("310100016", LicenceStatus::kActive));

  Outcome later = apply("annex-1", annex);

  EXPECT_EQ(early.disposition, Disposition::kRejected);
  EXPECT_EQ(later.disposition, Disposition::kApplied);
  EXPECT_EQ(counts().dead_letters, 1u);  // the early one stays, for the operator to see
}

TEST_F(StoreTest, RejectionForWhatTheMessageSaysIsFinal) {
  Event bad = anyEvent(EventType::kSuspend, "26000001");
  bad.licensor.clear();
  Outcome first = apply("m-1", bad);

  auto recorded = store_->findInbound("kz-energy-portal", "m-1");

  EXPECT_EQ(first.error->code, ErrorCode::kInvalidField);
  ASSERT_TRUE(recorded.ok() && recorded->has_value());
  EXPECT_EQ((*recorded)->disposition, Disposition::kRejected);
}

TEST_F(StoreTest, UnchangedImportRecordsNoEventAndRepeatsAsDuplicate) {
  Event import = samples::importEvent("310100016", LicenceStatus::kActive);
  apply("m-1", import);

  Outcome unchanged = apply("m-2", import);
  Outcome repeated = apply("m-2", import);

  EXPECT_EQ(unchanged.disposition, Disposition::kUnchanged);
  EXPECT_EQ(unchanged.sequence, 0u);
  EXPECT_EQ(unchanged.licence_number, "310100016");
  EXPECT_EQ(repeated.disposition, Disposition::kDuplicate);
  EXPECT_EQ(counts().last_sequence, 1u);
}

TEST_F(StoreTest, NewerImportUpdatesLicence) {
  apply("m-1", samples::importEvent("310100016", LicenceStatus::kActive, "3"));

  Outcome update = apply("m-2", samples::importEvent("310100016", LicenceStatus::kTerminated, "4"));

  EXPECT_EQ(update.disposition, Disposition::kApplied);
  auto licence = store_->findLicence("310100016");
  EXPECT_EQ(licence->status, LicenceStatus::kTerminated);
  EXPECT_EQ(licence->revision, 2);
  EXPECT_EQ(licence->kind, NumberKind::kLegacy);
  EXPECT_EQ(licence->source_version, "4");
}

TEST_F(StoreTest, AnnexIssueContinuesAfterImportedAnnexes) {
  apply("m-1", samples::importEvent("310100016", LicenceStatus::kActive));
  apply("m-2", samples::annexEvent(EventType::kAnnexImport, "310100016", "014", "ERU"));

  Outcome outcome =
      apply("m-3", samples::annexEvent(EventType::kAnnexIssue, "310100016", "", "ERU"));

  EXPECT_EQ(outcome.annex_number, "015");
  auto licence = store_->findLicence("310100016");
  ASSERT_EQ(licence->annexes.size(), 2u);
  EXPECT_EQ(licence->annexes[1].number, "015");
}

TEST_F(StoreTest, MessageWithoutIdIsRejectedAndKeptAsDeadLetter) {
  Inbound inbound = message("", samples::issueEvent());

  auto outcome = store_->apply(inbound);

  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(outcome->disposition, Disposition::kRejected);
  EXPECT_EQ(outcome->error->code, ErrorCode::kInvalidField);
  EXPECT_EQ(counts().dead_letters, 1u);
  EXPECT_EQ(counts().licences_active, 0u);
}

TEST_F(StoreTest, CommittedDataSurvivesReopening) {
  issue("m-1");
  apply("m-2", anyEvent(EventType::kSuspend, "26000001"));
  apply("m-3", anyEvent(EventType::kResume, "26000404"));
  store_.reset();

  store_ = openStore();

  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(store_->findLicence("26000001")->status, LicenceStatus::kSuspended);
  StoreCounts after = counts();
  EXPECT_EQ(after.last_sequence, 2u);
  EXPECT_EQ(after.dead_letters, 1u);
  EXPECT_EQ(apply("m-1", samples::issueEvent()).disposition, Disposition::kDuplicate);
  EXPECT_EQ(issue("m-4"), "26000002");
}

}  // namespace
}  // namespace licgate::registry
