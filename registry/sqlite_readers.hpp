// The registry store's read connections (registry/sqlite_store.hpp).
//
// Each read borrows a connection of its own for the length of the call, so
// reads on different threads (the HTTP server's, the intake's) run at once:
// SQLite runs the statements of one connection one at a time, and with one
// shared reader every lookup waited for the one before it. A connection is
// opened when a read finds none idle, and kept for the next: there are as
// many as reads ever ran at the same moment, which the callers' threads
// bound. In WAL mode each sees the last commit.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "registry/result.hpp"
#include "registry/sqlite_connection.hpp"

namespace licgate::registry {

class SqliteReaders {
 public:
  // A connection lent to one caller; it goes back to the idle ones when
  // the lease ends. Must not outlive the SqliteReaders.
  class Lease {
   public:
    Lease(SqliteReaders& readers, std::unique_ptr<SqliteConnection> connection);
    Lease(Lease&& other) noexcept = default;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;
    ~Lease();

    SqliteConnection& connection() { return *connection_; }

   private:
    SqliteReaders* readers_;
    std::unique_ptr<SqliteConnection> connection_;
  };

  // `first` is the connection the store opened to check the file; more are
  // opened on `path` as needed.
  SqliteReaders(std::string path, int busy_timeout_ms, std::unique_ptr<SqliteConnection> first);

  // Opens a read-only connection (PRAGMA query_only) on `path`. Errors:
  // kUnavailable naming the path, as SqliteConnection::open.
  static Result<std::unique_ptr<SqliteConnection>> openReader(const std::string& path,
                                                              int busy_timeout_ms);

  // An idle connection, or a new one when every one is lent. Does not block
  // on other readers. Errors: kUnavailable when a new one cannot be opened.
  Result<Lease> acquire();

 private:
  void giveBack(std::unique_ptr<SqliteConnection> connection);

  const std::string path_;
  const int busy_timeout_ms_;
  std::mutex mutex_;  // guards idle_ only, never held during a read
  std::vector<std::unique_ptr<SqliteConnection>> idle_;
};

}  // namespace licgate::registry
