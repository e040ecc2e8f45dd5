// A thin owner of one SQLite connection and its prepared statements, for the
// registry store only (no SQLite type leaves registry/).
//
// Statements are prepared once per connection and kept: parsing SQL costs
// more than running the small statements of one event, and the intake
// applies tens of thousands of events a second.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "registry/result.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace licgate::registry {

class SqliteConnection;

// One use of a cached statement. Binds are 1-based. The statement is reset
// and its bindings cleared when the query goes out of scope, so a SELECT read
// only partly never keeps a read transaction (and the WAL) pinned.
class SqliteQuery {
 public:
  SqliteQuery(sqlite3_stmt* statement, SqliteConnection& connection);
  ~SqliteQuery();
  SqliteQuery(SqliteQuery&& other) noexcept;
  SqliteQuery(const SqliteQuery&) = delete;
  SqliteQuery& operator=(const SqliteQuery&) = delete;
  SqliteQuery& operator=(SqliteQuery&&) = delete;

  // A bind that fails (a value over SQLite's limits) is reported by the next
  // step() or run(). Text given as a string_view or a temporary is copied;
  // a named std::string is not, and must outlive the query's last step (as
  // it does when bind and run sit in one function).
  SqliteQuery& bind(int index, std::string_view text);
  SqliteQuery& bind(int index, const std::string& text) { return bindStatic(index, text); }
  SqliteQuery& bind(int index, std::string&& text) { return bind(index, std::string_view(text)); }
  SqliteQuery& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  SqliteQuery& bind(int index, std::int64_t value);
  // Binds without copying: `text` must stay alive and unchanged until the
  // query is stepped to its end. For large values (journal payloads).
  SqliteQuery& bindStatic(int index, std::string_view text);
  SqliteQuery& bindBlob(int index, std::string_view bytes);
  SqliteQuery& bindNull(int index);
  SqliteQuery& bindOptional(int index, const std::optional<std::string>& text);

  // Advances to the next row: true when a row is ready, false at the end.
  Result<bool> step();
  // Runs to the end, for statements that return no rows.
  Status run();

  std::string text(int column) const;
  std::string blob(int column) const;
  std::int64_t integer(int column) const;
  bool isNull(int column) const;
  std::optional<std::string> optionalText(int column) const;

 private:
  sqlite3_stmt* statement_;
  SqliteConnection* connection_;
  int bind_error_ = 0;
};

class SqliteConnection {
 public:
  // Opens (creating when missing) the file at `path`. kUnavailable naming the
  // path and SQLite's message when it cannot.
  static Result<std::unique_ptr<SqliteConnection>> open(const std::string& path,
                                                        int busy_timeout_ms);

  ~SqliteConnection();
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  // Runs one or more statements that return no rows.
  Status exec(std::string_view sql);

  // Runs one statement that returns no rows, prepared once and cached: for
  // the transaction statements run for every message.
  Status run(std::string_view sql);

  // The cached statement for `sql`, prepared on first use.
  Result<SqliteQuery> prepare(std::string_view sql);

  // The error SQLite reports for `rc`, as the register's error: kUnavailable
  // for what an operator can fix or a retry can clear (busy, disk full, I/O,
  // a file that is not a database), kInternal for a broken statement.
  Error errorOf(int rc, std::string_view context) const;

  // True while a transaction is open; SQLite ends one by itself after some
  // errors (SQLITE_FULL, SQLITE_IOERR), and then the batch is lost.
  bool inTransaction() const;

  std::int64_t lastInsertRowid() const;
  const std::string& path() const { return path_; }

 private:
  SqliteConnection(sqlite3* db, std::string path);

  sqlite3* db_;
  std::string path_;
  // Looked up by string_view, so a call with a literal allocates nothing.
  struct SqlHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view sql) const {
      return std::hash<std::string_view>{}(sql);
    }
  };
  std::unordered_map<std::string, sqlite3_stmt*, SqlHash, std::equal_to<>> statements_;
};

}  // namespace licgate::registry
