// Opening the store: schema creation and version, WAL, files it cannot use,
// and a write lock held by another process.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "registry/sqlite_connection.hpp"
#include "registry/store_schema.hpp"
#include "test/registry/store_fixture.hpp"

namespace licgate::registry {
namespace {

std::string pragmaOf(const std::string& path, const std::string& pragma) {
  auto connection = SqliteConnection::open(path, 1000);
  auto query = (*connection)->prepare("PRAGMA " + pragma);
  auto row = query->step();
  return row.ok() && *row ? query->text(0) : std::string("?");
}

TEST_F(StoreTest, CreatesSchemaAtLatestVersionInWalMode) {
  std::string version = pragmaOf(options_.path, "user_version");
  std::string mode = pragmaOf(options_.path, "journal_mode");

  EXPECT_EQ(version, std::to_string(latestSchemaVersion()));
  EXPECT_EQ(version, "4");
  EXPECT_EQ(mode, "wal");
}

// Two licgate processes started together on a file that does not exist
// yet both switch it to WAL and migrate it. Processes, not threads: SQLite
// answers a second connection of the same process otherwise.
TEST_F(StoreTest, ProcessesOpeningANewFileTogetherAllSucceed) {
  StoreOptions together = options_;
  together.path = (dir_ / "together.db").string();
  constexpr int kOpeners = 6;
  int start[2];
  ASSERT_EQ(pipe(start), 0);
  std::vector<pid_t> openers;
  for (int i = 0; i < kOpeners; ++i) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(start[1]);
      char byte = 0;
      (void)!read(start[0], &byte, 1);  // returns when the parent closes its end
      auto store = openSqliteStore(together);
      _exit(store.ok() ? 0 : 1);
    }
    openers.push_back(pid);
  }
  close(start[0]);
  close(start[1]);

  int failed = 0;
  for (const pid_t pid : openers) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    failed += WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
  }

  EXPECT_EQ(failed, 0);
  EXPECT_EQ(pragmaOf(together.path, "user_version"), std::to_string(latestSchemaVersion()));
  EXPECT_EQ(pragmaOf(together.path, "journal_mode"), "wal");
}

TEST_F(StoreTest, HasAnIncarnationOfItsOwnThatCanBeRenewed) {
  auto first = store_->incarnation();
  StoreOptions other = options_;
  other.path = (dir_ / "other.db").string();
  auto other_store = openSqliteStore(other);
  ASSERT_TRUE(other_store.ok());

  auto renewed = store_->renewIncarnation();
  auto read_again = store_->incarnation();

  ASSERT_TRUE(first.ok() && renewed.ok() && read_again.ok());
  EXPECT_EQ(first->size(), 32u);
  EXPECT_EQ(first->find_first_not_of("0123456789abcdef"), std::string::npos) << *first;
  EXPECT_NE(*first, *(*other_store)->incarnation());
  EXPECT_NE(*renewed, *first);
  EXPECT_EQ(*read_again, *renewed);
}

// A register created by schema 1 gets an incarnation when it is opened.
TEST_F(StoreTest, MigrationGivesAnOlderRegisterAnIncarnation) {
  store_.reset();
  {
    auto connection = SqliteConnection::open(options_.path, 1000);
    ASSERT_TRUE((*connection)
                    ->exec("DROP TABLE meta; DROP INDEX dead_letters_by_message; "
                           "DROP TABLE conformity_outcomes; DROP TABLE conformity_queries; "
                           "PRAGMA user_version = 1")
                    .ok());
  }

  auto store = openSqliteStore(options_);

  ASSERT_TRUE(store.ok()) << store.error().message;
  auto incarnation = (*store)->incarnation();
  ASSERT_TRUE(incarnation.ok()) << incarnation.error().message;
  EXPECT_EQ(incarnation->size(), 32u);
  EXPECT_EQ(pragmaOf(options_.path, "user_version"), std::to_string(latestSchemaVersion()));
}

TEST_F(StoreTest, RefusesFileOfANewerSchema) {
  store_.reset();
  auto connection = SqliteConnection::open(options_.path, 1000);
  ASSERT_TRUE((*connection)->exec("PRAGMA user_version = 7").ok());

  auto store = openSqliteStore(options_);

  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(store.error().message, "registry store " + options_.path +
                                       ": schema version 7 is newer than this licgate knows (" +
                                       std::to_string(latestSchemaVersion()) + ")");
}

TEST_F(StoreTest, RefusesFileThatIsNotADatabase) {
  std::string path = (dir_ / "not-a-register.db").string();
  std::ofstream(path) << "licence list, one per line, not a database at all......................"
                      << std::string(200, '.');
  StoreOptions options = options_;
  options.path = path;

  auto store = openSqliteStore(options);

  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(store.error().message.find(path), std::string::npos) << store.error().message;
}

TEST_F(StoreTest, RefusesPathInMissingDirectory) {
  StoreOptions options = options_;
  options.path = (dir_ / "missing" / "register.db").string();

  auto store = openSqliteStore(options);

  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(store.error().message,
            "registry store " + options.path + ": cannot open: unable to open database file");
}

TEST_F(StoreTest, BatchFailsWholeWhenAnotherWriterHoldsTheLock) {
  options_.busy_timeout_ms = 100;
  store_ = openStore();
  auto other = SqliteConnection::open(options_.path, 100);
  ASSERT_TRUE((*other)->exec("BEGIN IMMEDIATE").ok());

  auto outcomes = store_->applyBatch(std::vector<Inbound>{message("m-1", samples::issueEvent())});

  ASSERT_FALSE(outcomes.ok());
  EXPECT_EQ(outcomes.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(outcomes.error().message.find("could not start a write within 100 ms"),
            std::string::npos)
      << outcomes.error().message;
  ASSERT_TRUE((*other)->exec("ROLLBACK").ok());
  EXPECT_EQ(counts().last_sequence, 0u);
  EXPECT_FALSE(store_->findInbound("kz-energy-portal", "m-1")->has_value());
}

TEST_F(StoreTest, ReadsAreNotBlockedByAWriter) {
  issue("m-1");
  auto other = SqliteConnection::open(options_.path, 100);
  ASSERT_TRUE((*other)->exec("BEGIN IMMEDIATE").ok());
  ASSERT_TRUE((*other)->exec("DELETE FROM licences").ok());

  auto licence = store_->findLicence("26000001");

  ASSERT_TRUE(licence.ok()) << licence.error().message;
  EXPECT_EQ(licence->number, "26000001");
  ASSERT_TRUE((*other)->exec("ROLLBACK").ok());
}

TEST_F(StoreTest, AppliesWithFullSynchronousCommits) {
  store_.reset();
  options_.synchronous_full = true;
  store_ = openStore();

  std::string number = issue("m-1");

  EXPECT_EQ(number, "26000001");
  EXPECT_EQ(pragmaOf(options_.path, "journal_mode"), "wal");
}

}  // namespace
}  // namespace licgate::registry
