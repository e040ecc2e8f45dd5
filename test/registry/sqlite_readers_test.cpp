// Read connections lent one per lookup (registry/sqlite_readers.hpp).
#include "registry/sqlite_readers.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "test/registry/store_fixture.hpp"

namespace licgate::registry {
namespace {

class SqliteReadersTest : public StoreTest {
 protected:
  SqliteReaders makeReaders() {
    auto first = SqliteReaders::openReader(options_.path, 1000);
    EXPECT_TRUE(first.ok()) << first.error().message;
    return SqliteReaders(options_.path, 1000, std::move(*first));
  }
};

TEST_F(SqliteReadersTest, LendsAnotherConnectionWhileOneIsLent) {
  SqliteReaders readers = makeReaders();

  auto first = readers.acquire();
  auto second = readers.acquire();

  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(&first->connection(), &second->connection());
}

TEST_F(SqliteReadersTest, LendsAConnectionAgainOnceGivenBack) {
  SqliteReaders readers = makeReaders();
  SqliteConnection* lent = nullptr;
  {
    auto lease = readers.acquire();
    ASSERT_TRUE(lease.ok());
    lent = &lease->connection();
  }

  auto again = readers.acquire();

  ASSERT_TRUE(again.ok());
  EXPECT_EQ(&again->connection(), lent);
}

TEST_F(SqliteReadersTest, ReaderRefusesToWrite) {
  SqliteReaders readers = makeReaders();
  auto lease = readers.acquire();
  ASSERT_TRUE(lease.ok());

  Status written = lease->connection().exec("DELETE FROM licences");

  EXPECT_FALSE(written.ok());
}

TEST_F(SqliteReadersTest, ReportsAFileThatCannotBeOpened) {
  auto reader = SqliteReaders::openReader((dir_ / "missing" / "register.db").string(), 1000);

  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.error().code, ErrorCode::kUnavailable);
}

TEST_F(SqliteReadersTest, ReportsAConnectionThatCannotBeOpenedWhenAllAreLent) {
  auto first = SqliteReaders::openReader(options_.path, 1000);
  ASSERT_TRUE(first.ok());
  SqliteReaders readers((dir_ / "missing" / "register.db").string(), 1000, std::move(*first));
  auto lent = readers.acquire();
  ASSERT_TRUE(lent.ok());

  auto another = readers.acquire();

  ASSERT_FALSE(another.ok());
  EXPECT_EQ(another.error().code, ErrorCode::kUnavailable);
}

TEST_F(StoreTest, LooksUpFromSeveralThreadsAtOnce) {
  std::string number = issue("m-1");
  std::vector<std::thread> threads;
  std::vector<int> found(4, 0);

  for (std::size_t t = 0; t < found.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        found[t] += store_->findLicence(number).ok() ? 1 : 0;
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }

  for (int count : found) {
    EXPECT_EQ(count, 200);
  }
}

}  // namespace
}  // namespace licgate::registry
