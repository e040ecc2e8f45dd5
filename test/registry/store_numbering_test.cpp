// Numbers given by the store: per-year sequences, export/import numbers,
// numbers held by imports, the end of a year's numbers, and two writers on
// one file at once.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <thread>

#include "registry/sqlite_connection.hpp"
#include "test/registry/store_fixture.hpp"

namespace licgate::registry {
namespace {

using samples::day;

// Sets a year's counter directly in the file, as if that many numbers had
// been given.
void setCounter(const std::string& path, const std::string& scope, int last) {
  auto connection = SqliteConnection::open(path, 1000);
  ASSERT_TRUE(connection.ok());
  Status status = (*connection)
                      ->exec("INSERT OR REPLACE INTO sequences (scope, last) VALUES ('" + scope +
                             "', " + std::to_string(last) + ")");
  ASSERT_TRUE(status.ok()) << status.error().message;
}

std::int64_t readCounter(const std::string& path, const std::string& scope) {
  auto connection = SqliteConnection::open(path, 1000);
  auto query = (*connection)->prepare("SELECT last FROM sequences WHERE scope = ?1");
  query->bind(1, scope);
  auto row = query->step();
  return row.ok() && *row ? query->integer(0) : -1;
}

TEST_F(StoreTest, NumbersRestartWithTheYearOfTheAct) {
  std::string first_2025 = issue("m-1", samples::issueEvent(day(2025, 12, 30)));
  std::string last_2025 = issue("m-2", samples::issueEvent(day(2025, 12, 31)));

  std::string first_2026 = issue("m-3", samples::issueEvent(day(2026, 1, 5)));
  std::string late_2025 = issue("m-4", samples::issueEvent(day(2025, 12, 31)));

  EXPECT_EQ(first_2025, "25000001");
  EXPECT_EQ(last_2025, "25000002");
  EXPECT_EQ(first_2026, "26000001");
  EXPECT_EQ(late_2025, "25000003");
}

TEST_F(StoreTest, LastNumberOfAYearIsFollowedByFirstOfNext) {
  setCounter(options_.path, "activity:2025", 999998);

  std::string last = issue("m-1", samples::issueEvent(day(2025, 12, 31)));
  std::string next = issue("m-2", samples::issueEvent(day(2026, 1, 1)));

  EXPECT_EQ(last, "25999999");
  EXPECT_EQ(next, "26000001");
}

TEST_F(StoreTest, IssueBeyondTheYearsNumbersIsRejectedAndGivesNothingAway) {
  setCounter(options_.path, "activity:2025", 999999);

  Outcome outcome = apply("m-1", samples::issueEvent(day(2025, 12, 31)));

  EXPECT_EQ(outcome.disposition, Disposition::kRejected);
  EXPECT_EQ(outcome.error->code, ErrorCode::kConflict);
  EXPECT_EQ(outcome.error->message,
            "issue: the numbers of activity:2025 have run out (999999 given)");
  EXPECT_EQ(readCounter(options_.path, "activity:2025"), 999999);
}

TEST_F(StoreTest, ExportImportNumberCarriesGoodsCountryYearAndSeal) {
  Event event = samples::issueEvent(day(2026, 2, 9));
  event.number_kind = NumberKind::kExportImport;
  event.goods_list = "012";
  event.seal_code = "A7B";
  Event second = event;
  second.goods_list = "105";

  std::string first_number = issue("m-1", event);
  std::string second_number = issue("m-2", second);

  EXPECT_EQ(first_number, "012KZ26A7B000001");
  EXPECT_EQ(second_number, "105KZ26A7B000002");
  EXPECT_EQ(store_->findLicence("012KZ26A7B000001")->kind, NumberKind::kExportImport);
}

TEST_F(StoreTest, IssueSkipsNumberHeldByAnImport) {
  Event import = samples::importEvent("26000001", LicenceStatus::kActive);
  import.number_kind = NumberKind::kActivity;
  import.licensor = "KZ-ENERGY";
  apply("m-1", import);

  std::string number = issue("m-2");

  EXPECT_EQ(number, "26000002");
}

// The batch learns once that no licence holds the year's next numbers; an
// import in the same batch that takes one of them must still be skipped.
TEST_F(StoreTest, IssueSkipsNumberImportedEarlierInTheSameBatch) {
  Event import = samples::importEvent("26000003", LicenceStatus::kActive);
  import.number_kind = NumberKind::kActivity;
  import.licensor = "KZ-ENERGY";
  std::vector<Inbound> batch;
  batch.push_back(message("m-1", samples::issueEvent()));
  batch.push_back(message("m-2", samples::issueEvent()));
  batch.push_back(message("m-3", import));
  batch.push_back(message("m-4", samples::issueEvent()));
  batch.push_back(message("m-5", samples::issueEvent()));

  auto outcomes = store_->applyBatch(batch);

  ASSERT_TRUE(outcomes.ok()) << outcomes.error().message;
  std::vector<std::string> numbers;
  for (const Outcome& outcome : *outcomes) {
    EXPECT_EQ(outcome.disposition, Disposition::kApplied);
    numbers.push_back(outcome.licence_number);
  }
  EXPECT_EQ(numbers,
            (std::vector<std::string>{"26000001", "26000002", "26000003", "26000004", "26000005"}));
}

TEST_F(StoreTest, IssueSkipsNumbersHeldAheadOfTheCounter) {
  for (const char* number : {"26000002", "26000003", "26000005"}) {
    Event import = samples::importEvent(number, LicenceStatus::kActive);
    import.number_kind = NumberKind::kActivity;
    import.licensor = "KZ-ENERGY";
    apply(std::string("import-") + number, import);
  }
  std::vector<Inbound> batch;
  for (int i = 0; i < 4; ++i) {
    batch.push_back(message("m-" + std::to_string(i), samples::issueEvent()));
  }

  auto outcomes = store_->applyBatch(batch);

  ASSERT_TRUE(outcomes.ok()) << outcomes.error().message;
  std::vector<std::string> numbers;
  for (const Outcome& outcome : *outcomes) {
    numbers.push_back(outcome.licence_number);
  }
  EXPECT_EQ(numbers, (std::vector<std::string>{"26000001", "26000004", "26000006", "26000007"}));
}

// Two Store objects are two connections, as two licgate processes would
// have; SQLite's write lock must serialise their allocations.
TEST_F(StoreTest, TwoWritersOnOneFileNeverGetTheSameNumber) {
  std::unique_ptr<Store> second = openStore();
  ASSERT_NE(second, nullptr);
  constexpr int kEach = 500;
  std::vector<std::string> numbers[2];
  auto issueMany = [&](Store& store, int writer) {
    for (int i = 0; i < kEach; ++i) {
      std::string id = std::to_string(writer) + "-" + std::to_string(i);
      Inbound inbound = message(id, samples::issueEvent(day(2026, 5, 4)));
      auto outcome = store.apply(inbound);
      if (outcome.ok() && outcome->disposition == Disposition::kApplied) {
        numbers[writer].push_back(outcome->licence_number);
      }
    }
  };

  std::thread first_thread(issueMany, std::ref(*store_), 0);
  std::thread second_thread(issueMany, std::ref(*second), 1);
  first_thread.join();
  second_thread.join();

  ASSERT_EQ(numbers[0].size(), static_cast<std::size_t>(kEach));
  ASSERT_EQ(numbers[1].size(), static_cast<std::size_t>(kEach));
  std::set<std::string> all(numbers[0].begin(), numbers[0].end());
  all.insert(numbers[1].begin(), numbers[1].end());
  ASSERT_EQ(all.size(), 1000u);
  EXPECT_EQ(*all.begin(), "26000001");
  EXPECT_EQ(*all.rbegin(), "26001000");
  EXPECT_EQ(counts().last_sequence, 1000u);
}

}  // namespace
}  // namespace licgate::registry
