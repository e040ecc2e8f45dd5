// The store's reads: licences with annexes, search with paging, the change
// feed, history, counts, dead letters and the inbound record.
#include <gtest/gtest.h>

#include "test/registry/store_fixture.hpp"

namespace licgate::registry {
namespace {

using samples::anyEvent;
using samples::day;

std::vector<std::string> numbersOf(const LicencePage& page) {
  std::vector<std::string> numbers;
  for (const Licence& licence : page.licences) {
    numbers.push_back(licence.number);
  }
  return numbers;
}

class StoreReadTest : public StoreTest {
 protected:
  // Five licences: 26000001..26000005; the 1st of another activity, the
  // 2nd and 4th of another holder, the 3rd suspended, the 5th of another
  // licensor.
  void SetUp() override {
    StoreTest::SetUp();
    for (int i = 1; i <= 5; ++i) {
      Event event = samples::issueEvent();
      if (i == 2 || i == 4) {
        event.holder->id = HolderId{IdScheme::kKzIin, "900101300017"};
      }
      if (i == 5) {
        event.licensor = "KZ-HEALTH";
      }
      if (i == 1) {
        event.activity_code = "32";
      }
      issue("issue-" + std::to_string(i), event);
    }
    apply("suspend-3", anyEvent(EventType::kSuspend, "26000003"));
  }

  LicencePage search(LicenceQuery query) {
    auto page = store_->searchLicences(query);
    EXPECT_TRUE(page.ok()) << page.error().message;
    return page.ok() ? *page : LicencePage{};
  }
};

TEST_F(StoreReadTest, FindsLicenceWithItsAnnexes) {
  apply("annex-1", samples::annexEvent(EventType::kAnnexIssue, "26000001", ""));
  apply("annex-2", samples::annexEvent(EventType::kAnnexIssue, "26000001", ""));

  auto licence = store_->findLicence("26000001");

  ASSERT_TRUE(licence.ok());
  ASSERT_EQ(licence->annexes.size(), 2u);
  EXPECT_EQ(licence->annexes[0], (Annex{"001", "Centrální kotelna", "Velký Karlov 72",
                                        LicenceStatus::kActive, day(2026, 4, 2)}));
  EXPECT_EQ(licence->annexes[1].number, "002");
}

TEST_F(StoreReadTest, UnknownLicenceIsNotFound) {
  auto licence = store_->findLicence("26999999");

  ASSERT_FALSE(licence.ok());
  EXPECT_EQ(licence.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(licence.error().message, "licence 26999999 is not in the register");
}

TEST_F(StoreReadTest, SearchPagesInNumberOrder) {
  LicenceQuery query;
  query.limit = 2;

  LicencePage first = search(query);
  query.after_number = first.next_after;
  LicencePage second = search(query);
  query.after_number = second.next_after;
  LicencePage last = search(query);

  EXPECT_EQ(numbersOf(first), (std::vector<std::string>{"26000001", "26000002"}));
  EXPECT_EQ(first.next_after, "26000002");
  EXPECT_EQ(numbersOf(second), (std::vector<std::string>{"26000003", "26000004"}));
  EXPECT_EQ(second.next_after, "26000004");
  EXPECT_EQ(numbersOf(last), (std::vector<std::string>{"26000005"}));
  EXPECT_EQ(last.next_after, "");
}

TEST_F(StoreReadTest, FullLastPageHasNoCursor) {
  LicenceQuery query;
  query.limit = 5;

  LicencePage page = search(query);

  EXPECT_EQ(page.licences.size(), 5u);
  EXPECT_EQ(page.next_after, "");
}

TEST_F(StoreReadTest, SearchFiltersByHolderLicensorAndStatus) {
  LicenceQuery by_holder;
  by_holder.holder = HolderId{IdScheme::kKzIin, "900101300017"};
  LicenceQuery by_licensor;
  by_licensor.licensor = "KZ-HEALTH";
  LicenceQuery by_status;
  by_status.status = LicenceStatus::kSuspended;
  LicenceQuery combined = by_holder;
  combined.status = LicenceStatus::kActive;
  combined.licensor = "KZ-ENERGY";

  EXPECT_EQ(numbersOf(search(by_holder)), (std::vector<std::string>{"26000002", "26000004"}));
  EXPECT_EQ(numbersOf(search(by_licensor)), (std::vector<std::string>{"26000005"}));
  EXPECT_EQ(numbersOf(search(by_status)), (std::vector<std::string>{"26000003"}));
  EXPECT_EQ(numbersOf(search(combined)), (std::vector<std::string>{"26000002", "26000004"}));
}

TEST_F(StoreReadTest, SearchFiltersByActivity) {
  LicenceQuery by_activity;
  by_activity.activity_code = "32";

  EXPECT_EQ(numbersOf(search(by_activity)), (std::vector<std::string>{"26000001"}));
}

TEST_F(StoreReadTest, SearchRejectsLimitOutsideRange) {
  LicenceQuery query;
  query.limit = 0;

  auto page = store_->searchLicences(query);
  query.limit = 1001;
  auto too_big = store_->searchLicences(query);

  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.error().code, ErrorCode::kInvalidField);
  EXPECT_EQ(page.error().message, "licence search: limit 0 is outside 1..1000");
  EXPECT_FALSE(too_big.ok());
}

TEST_F(StoreReadTest, ChangesAfterFollowsTheJournal) {
  auto changes = store_->changesAfter(2, 3);

  ASSERT_TRUE(changes.ok());
  ASSERT_EQ(changes->size(), 3u);
  EXPECT_EQ((*changes)[0].sequence, 3u);
  EXPECT_EQ((*changes)[2].sequence, 5u);
  EXPECT_EQ((*changes)[2].licensor, "KZ-HEALTH");
  auto tail = store_->changesAfter(5, 100);
  ASSERT_TRUE(tail.ok());
  ASSERT_EQ(tail->size(), 1u);
  EXPECT_EQ((*tail)[0].type, EventType::kSuspend);
  EXPECT_TRUE(store_->changesAfter(6, 100)->empty());
}

TEST_F(StoreReadTest, ChangesRejectLimitOutsideRange) {
  auto changes = store_->changesAfter(0, 0);

  ASSERT_FALSE(changes.ok());
  EXPECT_EQ(changes.error().message, "changes: limit 0 is outside 1..1000");
}

TEST_F(StoreReadTest, HistoryListsOneLicencesEventsOldestFirst) {
  apply("resume-3", anyEvent(EventType::kResume, "26000003"));

  auto history = store_->history("26000003");
  auto unknown = store_->history("26999999");

  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[0].type, EventType::kIssue);
  EXPECT_EQ((*history)[1].type, EventType::kSuspend);
  EXPECT_EQ((*history)[2].type, EventType::kResume);
  EXPECT_EQ((*history)[2].sequence, 7u);
  ASSERT_TRUE(unknown.ok());
  EXPECT_TRUE(unknown->empty());
}

TEST_F(StoreReadTest, CountsLicencesByStatus) {
  apply("terminate-5", anyEvent(EventType::kTerminate, "26000005"));
  Event wrong = anyEvent(EventType::kTerminate, "26000005");
  wrong.licensor = "KZ-HEALTH";
  apply("terminate-5-again", wrong);

  StoreCounts now = counts();

  EXPECT_EQ(now.last_sequence, 7u);
  EXPECT_EQ(now.licences_active, 3u);
  EXPECT_EQ(now.licences_suspended, 1u);
  EXPECT_EQ(now.licences_terminated, 1u);
  EXPECT_EQ(now.dead_letters, 1u);
}

TEST_F(StoreReadTest, DeadLettersPageById) {
  for (int i = 0; i < 3; ++i) {
    apply("bad-" + std::to_string(i), anyEvent(EventType::kResume, "26000001"));
  }

  auto first = store_->deadLetters(0, 2);
  auto rest = store_->deadLetters((*first)[1].id, 2);
  auto bad_limit = store_->deadLetters(0, 0);

  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0].message_id, "bad-0");
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ((*rest)[0].message_id, "bad-2");
  EXPECT_EQ((*rest)[0].reason, "resume: licence 26000001 is active, not suspended");
  EXPECT_FALSE(bad_limit.ok());
}

TEST_F(StoreReadTest, FindInboundReturnsTheFirstOutcome) {
  Event bad = anyEvent(EventType::kSuspend, "26000001");
  bad.licensor.clear();
  apply("bad", bad);

  auto applied = store_->findInbound("kz-energy-portal", "issue-2");
  auto rejected = store_->findInbound("kz-energy-portal", "bad");
  auto unknown = store_->findInbound("kz-energy-portal", "never-sent");

  ASSERT_TRUE(applied.ok() && applied->has_value());
  EXPECT_EQ((*applied)->disposition, Disposition::kApplied);
  EXPECT_EQ((*applied)->sequence, 2u);
  EXPECT_EQ((*applied)->licence_number, "26000002");
  ASSERT_TRUE(rejected.ok() && rejected->has_value());
  EXPECT_EQ((*rejected)->disposition, Disposition::kRejected);
  EXPECT_EQ((*rejected)->error->code, ErrorCode::kInvalidField);
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(unknown->has_value());
}

}  // namespace
}  // namespace licgate::registry
