// The lifecycle tables, walked cell by cell against an expected table written
// out here from DESIGN.md, and the rules of each event.
#include "registry/lifecycle.hpp"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>

#include "test/registry/event_samples.hpp"

namespace licgate::registry {
namespace {

using samples::anyEvent;
using samples::day;

constexpr const char* kNumber = "26000001";

enum class State { kNone, kActive, kSuspended, kTerminated };

std::string stateName(State state) {
  switch (state) {
    case State::kNone:
      return "none";
    case State::kActive:
      return "active";
    case State::kSuspended:
      return "suspended";
    case State::kTerminated:
      return "terminated";
  }
  return "?";
}

// What the cell says: an error code, or the status the subject is left in.
struct Cell {
  std::optional<ErrorCode> error;
  LicenceStatus status = LicenceStatus::kActive;
};

constexpr Cell ok(LicenceStatus status) {
  return Cell{std::nullopt, status};
}
constexpr Cell fails(ErrorCode code) {
  return Cell{code, LicenceStatus::kActive};
}

constexpr auto kA = LicenceStatus::kActive;
constexpr auto kS = LicenceStatus::kSuspended;
constexpr auto kT = LicenceStatus::kTerminated;
constexpr auto kUnknown = ErrorCode::kUnknownLicence;
constexpr auto kIllegal = ErrorCode::kIllegalTransition;

Annex sampleAnnex(LicenceStatus status) {
  return Annex{"001", "Boiler house 1", "Astana", status, day(2026, 3, 10)};
}

std::optional<Licence> licenceIn(State state) {
  if (state == State::kNone) {
    return std::nullopt;
  }
  Event issue = samples::issueEvent();
  issue.licence_number = kNumber;
  Licence licence = *applyEvent(std::nullopt, issue);
  licence.status = state == State::kActive ? kA : state == State::kSuspended ? kS : kT;
  licence.annexes.push_back(sampleAnnex(state == State::kTerminated ? kT : kA));
  return licence;
}

// The status of whatever the event is about after it: the licence, or for
// annex events the annex it names.
LicenceStatus subjectStatus(const Licence& licence, const Event& event) {
  if (!isAnnexEvent(event.type)) {
    return licence.status;
  }
  for (const Annex& annex : licence.annexes) {
    if (annex.number == event.annex_number) {
      return annex.status;
    }
  }
  ADD_FAILURE() << "annex " << event.annex_number << " missing after " << eventTypeName(event.type);
  return kA;
}

// Annex issue and import name a new annex "002"; the other annex events
// name the licence's annex "001", which is active under a live licence.
Event eventFor(EventType type) {
  Event event = anyEvent(type, kNumber);
  if (type == EventType::kAnnexIssue || type == EventType::kAnnexImport) {
    event.annex_number = "002";
  }
  return event;
}

void expectCell(const std::optional<Licence>& current, const Event& event, const Cell& cell,
                const std::string& where) {
  auto result = applyEvent(current, event);

  if (cell.error) {
    ASSERT_FALSE(result.ok()) << where << " was allowed";
    EXPECT_EQ(errorCodeName(result.error().code), errorCodeName(*cell.error))
        << where << ": " << result.error().message;
    return;
  }
  ASSERT_TRUE(result.ok()) << where << ": " << result.error().message;
  EXPECT_EQ(statusName(subjectStatus(*result, event)), statusName(cell.status)) << where;
}

TEST(Lifecycle, LicenceTableAllowsExactlyTheDesignedTransitions) {
  using E = EventType;
  const std::map<State, std::map<EventType, Cell>> expected = {
      {State::kNone,
       {{E::kIssue, ok(kA)},
        {E::kRefuse, fails(ErrorCode::kInternal)},
        {E::kReissue, fails(kUnknown)},
        {E::kSuspend, fails(kUnknown)},
        {E::kResume, fails(kUnknown)},
        {E::kTerminate, fails(kUnknown)},
        {E::kDuplicate, fails(kUnknown)},
        {E::kImport, ok(kA)},
        {E::kAnnexIssue, fails(kUnknown)},
        {E::kAnnexSuspend, fails(kUnknown)},
        {E::kAnnexResume, fails(kUnknown)},
        {E::kAnnexTerminate, fails(kUnknown)},
        {E::kAnnexImport, fails(kUnknown)}}},
      {State::kActive,
       {{E::kIssue, fails(ErrorCode::kConflict)},
        {E::kRefuse, fails(ErrorCode::kInternal)},
        {E::kReissue, ok(kA)},
        {E::kSuspend, ok(kS)},
        {E::kResume, fails(kIllegal)},
        {E::kTerminate, ok(kT)},
        {E::kDuplicate, ok(kA)},
        {E::kImport, ok(kA)},
        {E::kAnnexIssue, ok(kA)},
        {E::kAnnexSuspend, ok(kS)},
        {E::kAnnexResume, fails(kIllegal)},
        {E::kAnnexTerminate, ok(kT)},
        {E::kAnnexImport, ok(kA)}}},
      {State::kSuspended,
       {{E::kIssue, fails(ErrorCode::kConflict)},
        {E::kRefuse, fails(ErrorCode::kInternal)},
        {E::kReissue, fails(kIllegal)},
        {E::kSuspend, fails(kIllegal)},
        {E::kResume, ok(kA)},
        {E::kTerminate, ok(kT)},
        {E::kDuplicate, ok(kS)},
        {E::kImport, ok(kA)},
        {E::kAnnexIssue, ok(kA)},
        {E::kAnnexSuspend, ok(kS)},
        {E::kAnnexResume, fails(kIllegal)},
        {E::kAnnexTerminate, ok(kT)},
        {E::kAnnexImport, ok(kA)}}},
      {State::kTerminated,
       {{E::kIssue, fails(ErrorCode::kConflict)},
        {E::kRefuse, fails(ErrorCode::kInternal)},
        {E::kReissue, fails(kIllegal)},
        {E::kSuspend, fails(kIllegal)},
        {E::kResume, fails(kIllegal)},
        {E::kTerminate, fails(kIllegal)},
        {E::kDuplicate, fails(kIllegal)},
        {E::kImport, fails(kIllegal)},
        {E::kAnnexIssue, fails(kIllegal)},
        {E::kAnnexSuspend, fails(kIllegal)},
        {E::kAnnexResume, fails(kIllegal)},
        {E::kAnnexTerminate, fails(kIllegal)},
        {E::kAnnexImport, ok(kT)}}},
  };
  int cells = 0;

  for (const auto& [state, row] : expected) {
    ASSERT_EQ(row.size(), std::size(kAllEventTypes));
    for (EventType type : kAllEventTypes) {
      std::string where = "licence " + stateName(state) + " x " + std::string(eventTypeName(type));
      expectCell(licenceIn(state), eventFor(type), row.at(type), where);
      ++cells;
    }
  }

  EXPECT_EQ(cells, 4 * 13);
}

std::optional<Licence> licenceWithAnnexIn(State state) {
  std::optional<Licence> licence = licenceIn(State::kActive);
  licence->annexes.clear();
  if (state != State::kNone) {
    licence->annexes.push_back(sampleAnnex(state == State::kActive      ? kA
                                           : state == State::kSuspended ? kS
                                                                        : kT));
  }
  return licence;
}

TEST(Lifecycle, AnnexTableAllowsExactlyTheDesignedTransitions) {
  using E = EventType;
  constexpr auto kNoAnnex = ErrorCode::kUnknownAnnex;
  const std::map<State, std::map<EventType, Cell>> expected = {
      {State::kNone,
       {{E::kAnnexIssue, ok(kA)},
        {E::kAnnexSuspend, fails(kNoAnnex)},
        {E::kAnnexResume, fails(kNoAnnex)},
        {E::kAnnexTerminate, fails(kNoAnnex)},
        {E::kAnnexImport, ok(kA)}}},
      {State::kActive,
       {{E::kAnnexIssue, fails(ErrorCode::kConflict)},
        {E::kAnnexSuspend, ok(kS)},
        {E::kAnnexResume, fails(kIllegal)},
        {E::kAnnexTerminate, ok(kT)},
        {E::kAnnexImport, ok(kA)}}},
      {State::kSuspended,
       {{E::kAnnexIssue, fails(ErrorCode::kConflict)},
        {E::kAnnexSuspend, fails(kIllegal)},
        {E::kAnnexResume, ok(kA)},
        {E::kAnnexTerminate, ok(kT)},
        {E::kAnnexImport, ok(kA)}}},
      {State::kTerminated,
       {{E::kAnnexIssue, fails(ErrorCode::kConflict)},
        {E::kAnnexSuspend, fails(kIllegal)},
        {E::kAnnexResume, fails(kIllegal)},
        {E::kAnnexTerminate, fails(kIllegal)},
        {E::kAnnexImport, fails(kIllegal)}}},
  };
  int cells = 0;

  for (const auto& [state, row] : expected) {
    for (const auto& [type, cell] : row) {
      std::string where = "annex " + stateName(state) + " x " + std::string(eventTypeName(type));
      expectCell(licenceWithAnnexIn(state), anyEvent(type, kNumber), cell, where);
      ++cells;
    }
  }

  EXPECT_EQ(cells, 4 * 5);
}

TEST(Lifecycle, NamesEventAndStateOfIllegalTransition) {
  auto result = applyEvent(licenceIn(State::kActive), anyEvent(EventType::kResume, kNumber));

  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message, "resume: licence 26000001 is active, not suspended");
}

TEST(Lifecycle, NamesUnknownLicence) {
  auto result = applyEvent(std::nullopt, anyEvent(EventType::kSuspend, "26000009"));

  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message, "suspend: licence 26000009 is not in the register");
}

TEST(Lifecycle, NamesUnknownAnnex) {
  auto result = applyEvent(licenceIn(State::kActive),
                           samples::annexEvent(EventType::kAnnexSuspend, kNumber, "007"));

  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kUnknownAnnex);
  EXPECT_EQ(result.error().message, "annex-suspend: licence 26000001 has no annex 007");
}

TEST(Lifecycle, RejectsAnnexEventOfTerminatedLicence) {
  auto result = applyEvent(licenceIn(State::kTerminated), eventFor(EventType::kAnnexIssue));

  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message,
            "annex-issue: licence 26000001 is terminated; its annexes change no more");
}

TEST(Lifecycle, RejectsIssueOfExistingNumber) {
  auto result = applyEvent(licenceIn(State::kActive), anyEvent(EventType::kIssue, kNumber));

  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kConflict);
  EXPECT_EQ(result.error().message, "issue: licence 26000001 is already in the register");
}

TEST(Lifecycle, RejectsIssueWithoutGivenNumber) {
  auto result = applyEvent(std::nullopt, samples::issueEvent());

  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kInternal);
}

TEST(Lifecycle, RejectsRefuseAsNotAboutALicence) {
  auto result = applyEvent(std::nullopt, samples::refuseEvent());

  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kInternal);
  EXPECT_EQ(result.error().message,
            "refuse: a refusal changes no licence and is recorded without applyEvent");
}

TEST(Lifecycle, RejectsEventOfAnotherLicensor) {
  Event suspend = anyEvent(EventType::kSuspend, kNumber);
  suspend.licensor = "KZ-HEALTH";

  auto result = applyEvent(licenceIn(State::kActive), suspend);

  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kConflict);
  EXPECT_EQ(result.error().message,
            "suspend: licence 26000001 belongs to licensor KZ-ENERGY, not KZ-HEALTH");
}

TEST(Lifecycle, IssueCreatesActiveLicenceFromEvent) {
  Event issue = samples::issueEvent(day(2026, 3, 2));
  issue.licence_number = kNumber;
  issue.valid_until = day(2031, 3, 1);

  auto licence = applyEvent(std::nullopt, issue);

  ASSERT_TRUE(licence.ok());
  EXPECT_EQ(licence->number, "26000001");
  EXPECT_EQ(licence->kind, NumberKind::kActivity);
  EXPECT_EQ(licence->licensor, "KZ-ENERGY");
  EXPECT_EQ(licence->holder, samples::sampleHolder());
  EXPECT_EQ(formatIsoDate(licence->issued_on), "2026-03-02");
  EXPECT_EQ(formatIsoDate(licence->valid_from), "2026-03-02");
  EXPECT_EQ(formatIsoDate(*licence->valid_until), "2031-03-01");
  EXPECT_EQ(licence->revision, 1);
  EXPECT_TRUE(licence->annexes.empty());
}

TEST(Lifecycle, TerminateTerminatesEveryAnnex) {
  std::optional<Licence> current = licenceIn(State::kActive);
  current->annexes.push_back(Annex{"002", "Boiler house 2", "", kS, day(2026, 3, 11)});

  auto licence = applyEvent(current, anyEvent(EventType::kTerminate, kNumber));

  ASSERT_TRUE(licence.ok());
  EXPECT_EQ(licence->status, kT);
  ASSERT_EQ(licence->annexes.size(), 2u);
  EXPECT_EQ(licence->annexes[0].status, kT);
  EXPECT_EQ(licence->annexes[1].status, kT);
}

TEST(Lifecycle, ReissueReplacesHolderAndAddsRevision) {
  Event reissue = anyEvent(EventType::kReissue, kNumber);

  auto licence = applyEvent(licenceIn(State::kActive), reissue);

  ASSERT_TRUE(licence.ok());
  EXPECT_EQ(licence->number, "26000001");
  EXPECT_EQ(licence->revision, 2);
  EXPECT_EQ(licence->holder.name, "TOO Kazakh Heat and Power");
}

TEST(Lifecycle, ReissueOfSuspendedLicenceNamesTheRule) {
  auto result = applyEvent(licenceIn(State::kSuspended), anyEvent(EventType::kReissue, kNumber));

  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message,
            "reissue: licence 26000001 is suspended; only an active licence is reissued");
}

TEST(Lifecycle, DuplicateChangesNothing) {
  std::optional<Licence> current = licenceIn(State::kSuspended);

  auto licence = applyEvent(current, anyEvent(EventType::kDuplicate, kNumber));

  ASSERT_TRUE(licence.ok());
  EXPECT_EQ(*licence, *current);
}

TEST(Lifecycle, SuspendKeepsTermAndResumeClearsIt) {
  Event suspend = anyEvent(EventType::kSuspend, kNumber);
  suspend.suspended_until = day(2026, 6, 30);

  auto suspended = applyEvent(licenceIn(State::kActive), suspend);
  auto resumed = applyEvent(*suspended, anyEvent(EventType::kResume, kNumber));

  ASSERT_TRUE(suspended.ok());
  EXPECT_EQ(formatIsoDate(*suspended->suspended_until), "2026-06-30");
  ASSERT_TRUE(resumed.ok());
  EXPECT_FALSE(resumed->suspended_until.has_value());
}

TEST(Lifecycle, AnnexIssueAddsAnnexInNumberOrder) {
  std::optional<Licence> current = licenceIn(State::kActive);
  current->annexes.push_back(Annex{"003", "Boiler house 3", "", kA, day(2026, 3, 11)});
  Event annex_issue = samples::annexEvent(EventType::kAnnexIssue, kNumber, "002");

  auto licence = applyEvent(current, annex_issue);

  ASSERT_TRUE(licence.ok());
  ASSERT_EQ(licence->annexes.size(), 3u);
  EXPECT_EQ(licence->annexes[1].number, "002");
  EXPECT_EQ(licence->annexes[1].name, "Centrální kotelna");
  EXPECT_EQ(formatIsoDate(licence->annexes[1].issued_on), "2026-04-02");
}

TEST(LifecycleImport, CreatesLicenceInImportedStateAsLegacy) {
  Event import = samples::importEvent("310100016", kS);
  import.suspended_until = day(2026, 1, 31);

  auto licence = applyEvent(std::nullopt, import);

  ASSERT_TRUE(licence.ok());
  EXPECT_EQ(licence->number, "310100016");
  EXPECT_EQ(licence->kind, NumberKind::kLegacy);
  EXPECT_EQ(licence->status, kS);
  EXPECT_EQ(licence->source_version, "3");
  EXPECT_EQ(formatIsoDate(licence->issued_on), "2001-07-01");
  EXPECT_EQ(formatIsoDate(*licence->suspended_until), "2026-01-31");
  EXPECT_EQ(licence->holder.name, "Obec Velký Karlov");
}

TEST(LifecycleImport, SameContentChangesNothing) {
  Event import = samples::importEvent("310100016", kA);
  Licence held = *applyEvent(std::nullopt, import);

  bool unchanged = importChangesNothing(held, import);
  auto again = applyEvent(held, import);

  EXPECT_TRUE(unchanged);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, held);
}

TEST(LifecycleImport, NewerContentUpdatesWithRevision) {
  Licence held = *applyEvent(std::nullopt, samples::importEvent("310100016", kA, "3"));
  Event newer = samples::importEvent("310100016", kT, "4");

  bool unchanged = importChangesNothing(held, newer);
  auto licence = applyEvent(held, newer);

  EXPECT_FALSE(unchanged);
  ASSERT_TRUE(licence.ok());
  EXPECT_EQ(licence->revision, 2);
  EXPECT_EQ(licence->status, kT);
  EXPECT_EQ(licence->source_version, "4");
}

TEST(LifecycleImport, RejectsStaleSourceVersion) {
  Licence held = *applyEvent(std::nullopt, samples::importEvent("310100016", kA, "18"));

  auto result = applyEvent(held, samples::importEvent("310100016", kT, "9"));

  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kConflict);
  EXPECT_EQ(result.error().message,
            "import: licence 310100016 holds source version 18, the import carries older "
            "version 9");
}

TEST(LifecycleImport, OrdersOnlyNumericVersions) {
  Licence held = *applyEvent(std::nullopt, samples::importEvent("310100016", kA, "18"));
  Event unlabelled = samples::importEvent("310100016", kA, "");
  unlabelled.holder->name = "Obec Velký Karlov, obecní úřad";

  auto licence = applyEvent(held, unlabelled);

  ASSERT_TRUE(licence.ok());
  EXPECT_EQ(licence->revision, 2);
  EXPECT_EQ(licence->source_version, "");
}

TEST(LifecycleImport, TerminatedLicenceDoesNotComeBack) {
  Licence held = *applyEvent(std::nullopt, samples::importEvent("310100016", kT, "3"));

  auto result = applyEvent(held, samples::importEvent("310100016", kA, "4"));

  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kIllegalTransition);
  EXPECT_EQ(result.error().message,
            "import: licence 310100016 is terminated and does not come back; the import says "
            "active");
}

TEST(LifecycleImport, UpdatesTerminatedLicenceThatStaysTerminated) {
  Licence held = *applyEvent(std::nullopt, samples::importEvent("310100016", kT, "3"));

  auto licence = applyEvent(held, samples::importEvent("310100016", kT, "4"));

  ASSERT_TRUE(licence.ok());
  EXPECT_EQ(licence->status, kT);
  EXPECT_EQ(licence->revision, 2);
}

TEST(LifecycleImport, RejectsLicenceOfAnotherLicensor) {
  Licence held = *applyEvent(std::nullopt, samples::importEvent("310100016", kA));
  Event other = samples::importEvent("310100016", kA);
  other.licensor = "KZ-ENERGY";

  auto result = applyEvent(held, other);

  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kConflict);
  EXPECT_EQ(result.error().message,
            "import: licence 310100016 belongs to licensor ERU, not KZ-ENERGY");
}

TEST(LifecycleImport, RejectsAnotherNumberKind) {
  Event issue = samples::issueEvent();
  issue.licence_number = kNumber;
  issue.licensor = "ERU";
  Licence held = *applyEvent(std::nullopt, issue);

  auto result = applyEvent(held, samples::importEvent(kNumber, kA));

  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kConflict);
  EXPECT_EQ(result.error().message,
            "import: licence 26000001 is held as activity, the import says legacy");
}

TEST(LifecycleImport, TerminatedImportTerminatesAnnexes) {
  Licence held = *applyEvent(std::nullopt, samples::importEvent("310100016", kA, "3"));
  held.annexes.push_back(sampleAnnex(kA));

  auto licence = applyEvent(held, samples::importEvent("310100016", kT, "4"));

  ASSERT_TRUE(licence.ok());
  EXPECT_EQ(licence->annexes.at(0).status, kT);
}

TEST(LifecycleAnnexImport, KeepsGivenNumberAndStatus) {
  Licence held = *applyEvent(std::nullopt, samples::importEvent("310100016", kA));
  Event annex = samples::annexEvent(EventType::kAnnexImport, "310100016", "014", "ERU");
  annex.annex_status = kS;

  auto licence = applyEvent(held, annex);

  ASSERT_TRUE(licence.ok());
  ASSERT_EQ(licence->annexes.size(), 1u);
  EXPECT_EQ(licence->annexes[0].number, "014");
  EXPECT_EQ(licence->annexes[0].status, kS);
}

TEST(LifecycleAnnexImport, SameContentChangesNothing) {
  Licence held = *applyEvent(std::nullopt, samples::importEvent("310100016", kA));
  Event annex = samples::annexEvent(EventType::kAnnexImport, "310100016", "001", "ERU");
  held = *applyEvent(held, annex);

  bool unchanged = importChangesNothing(held, annex);
  annex.annex_name = "Kotelna K1";
  bool renamed_unchanged = importChangesNothing(held, annex);

  EXPECT_TRUE(unchanged);
  EXPECT_FALSE(renamed_unchanged);
}

TEST(LifecycleAnnexImport, AddsTerminatedAnnexToTerminatedLicence) {
  Licence held = *applyEvent(std::nullopt, samples::importEvent("310100016", kT));
  Event annex = samples::annexEvent(EventType::kAnnexImport, "310100016", "001", "ERU");
  annex.annex_status = kT;

  auto licence = applyEvent(held, annex);

  ASSERT_TRUE(licence.ok());
  EXPECT_EQ(licence->annexes.at(0).status, kT);
}

TEST(LifecycleAnnexImport, RecordsLiveAnnexOfTerminatedLicenceAsTerminated) {
  Licence held = *applyEvent(std::nullopt, samples::importEvent("310100016", kT));
  Event annex = samples::annexEvent(EventType::kAnnexImport, "310100016", "001", "ERU");

  auto licence = applyEvent(held, annex);

  ASSERT_TRUE(licence.ok()) << licence.error().message;
  ASSERT_EQ(licence->annexes.size(), 1u);
  EXPECT_EQ(licence->annexes[0].status, kT);
  EXPECT_TRUE(importChangesNothing(*licence, annex));
}

TEST(LifecycleAnnexImport, TerminatedAnnexDoesNotComeBack) {
  std::optional<Licence> held = licenceWithAnnexIn(State::kTerminated);

  auto result = applyEvent(held, samples::annexEvent(EventType::kAnnexImport, kNumber, "001"));

  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message,
            "annex-import: annex 001 of licence 26000001 is terminated and does not come back");
}

TEST(Lifecycle, TellsAnnexEventsApart) {
  EXPECT_TRUE(isAnnexEvent(EventType::kAnnexIssue));
  EXPECT_TRUE(isAnnexEvent(EventType::kAnnexImport));
  EXPECT_FALSE(isAnnexEvent(EventType::kImport));
  EXPECT_FALSE(isAnnexEvent(EventType::kRefuse));
}

TEST(Lifecycle, ImportChangesNothingIsFalseForOtherEvents) {
  Licence held = *licenceIn(State::kActive);

  EXPECT_FALSE(importChangesNothing(held, anyEvent(EventType::kDuplicate, kNumber)));
}

}  // namespace
}  // namespace licgate::registry
