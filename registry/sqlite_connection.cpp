// SQLite connection and cached statements of the registry store.
#include "registry/sqlite_connection.hpp"

#include <sqlite3.h>

#include <utility>

namespace licgate::registry {

SqliteQuery::SqliteQuery(sqlite3_stmt* statement, SqliteConnection& connection)
    : statement_(statement), connection_(&connection) {}

SqliteQuery::~SqliteQuery() {
  if (statement_ != nullptr) {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }
}

SqliteQuery::SqliteQuery(SqliteQuery&& other) noexcept
    : statement_(std::exchange(other.statement_, nullptr)),
      connection_(other.connection_),
      bind_error_(other.bind_error_) {}

SqliteQuery& SqliteQuery::bind(int index, std::string_view text) {
  int rc = sqlite3_bind_text(statement_, index, text.data(), static_cast<int>(text.size()),
                             SQLITE_TRANSIENT);
  if (rc != SQLITE_OK && bind_error_ == 0) {
    bind_error_ = rc;
  }
  return *this;
}

SqliteQuery& SqliteQuery::bind(int index, std::int64_t value) {
  int rc = sqlite3_bind_int64(statement_, index, value);
  if (rc != SQLITE_OK && bind_error_ == 0) {
    bind_error_ = rc;
  }
  return *this;
}

SqliteQuery& SqliteQuery::bindStatic(int index, std::string_view text) {
  int rc = sqlite3_bind_text(statement_, index, text.data(), static_cast<int>(text.size()),
                             SQLITE_STATIC);
  if (rc != SQLITE_OK && bind_error_ == 0) {
    bind_error_ = rc;
  }
  return *this;
}

SqliteQuery& SqliteQuery::bindBlob(int index, std::string_view bytes) {
  int rc = sqlite3_bind_blob64(statement_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK && bind_error_ == 0) {
    bind_error_ = rc;
  }
  return *this;
}

SqliteQuery& SqliteQuery::bindNull(int index) {
  int rc = sqlite3_bind_null(statement_, index);
  if (rc != SQLITE_OK && bind_error_ == 0) {
    bind_error_ = rc;
  }
  return *this;
}

SqliteQuery& SqliteQuery::bindOptional(int index, const std::optional<std::string>& text) {
  return text ? bind(index, std::string_view(*text)) : bindNull(index);
}

Result<bool> SqliteQuery::step() {
  if (bind_error_ != 0) {
    return connection_->errorOf(bind_error_, sqlite3_sql(statement_));
  }
  int rc = sqlite3_step(statement_);
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  return connection_->errorOf(rc, sqlite3_sql(statement_));
}

Status SqliteQuery::run() {
  while (true) {
    auto row = step();
    if (!row) {
      return row.takeError();
    }
    if (!*row) {
      return {};
    }
  }
}

std::string SqliteQuery::text(int column) const {
  const auto* bytes = sqlite3_column_text(statement_, column);
  int size = sqlite3_column_bytes(statement_, column);
  return bytes == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(bytes), size);
}

std::string SqliteQuery::blob(int column) const {
  const void* bytes = sqlite3_column_blob(statement_, column);
  int size = sqlite3_column_bytes(statement_, column);
  return bytes == nullptr ? std::string() : std::string(static_cast<const char*>(bytes), size);
}

std::int64_t SqliteQuery::integer(int column) const {
  return sqlite3_column_int64(statement_, column);
}

bool SqliteQuery::isNull(int column) const {
  return sqlite3_column_type(statement_, column) == SQLITE_NULL;
}

std::optional<std::string> SqliteQuery::optionalText(int column) const {
  if (isNull(column)) {
    return std::nullopt;
  }
  return text(column);
}

SqliteConnection::SqliteConnection(sqlite3* db, std::string path)
    : db_(db), path_(std::move(path)) {}

SqliteConnection::~SqliteConnection() {
  for (auto& [sql, statement] : statements_) {
    sqlite3_finalize(statement);
  }
  sqlite3_close_v2(db_);
}

Result<std::unique_ptr<SqliteConnection>> SqliteConnection::open(const std::string& path,
                                                                 int busy_timeout_ms) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return makeError(ErrorCode::kUnavailable,
                     "registry store " + path + ": cannot open: " + message);
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, busy_timeout_ms);
  return std::unique_ptr<SqliteConnection>(new SqliteConnection(db, path));
}

Status SqliteConnection::exec(std::string_view sql) {
  std::string text(sql);
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    return errorOf(rc, text);
  }
  return {};
}

Status SqliteConnection::run(std::string_view sql) {
  auto query = prepare(sql);
  if (!query) {
    return query.takeError();
  }
  return query->run();
}

Result<SqliteQuery> SqliteConnection::prepare(std::string_view sql) {
  auto found = statements_.find(sql);
  if (found != statements_.end()) {
    return SqliteQuery(found->second, *this);
  }
  sqlite3_stmt* statement = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &statement, nullptr);
  if (rc != SQLITE_OK) {
    return errorOf(rc, sql);
  }
  statements_.emplace(sql, statement);
  return SqliteQuery(statement, *this);
}

Error SqliteConnection::errorOf(int rc, std::string_view context) const {
  ErrorCode code = ErrorCode::kInternal;
  switch (rc & 0xFF) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_NOMEM:
    case SQLITE_PROTOCOL:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_PERM:
      code = ErrorCode::kUnavailable;
      break;
    default:
      break;
  }
  std::string what(context.substr(0, 60));
  return makeError(code, "registry store " + path_ + ": " + sqlite3_errmsg(db_) + " (" +
                             sqlite3_errstr(rc) + ") in \"" + what + "\"");
}

bool SqliteConnection::inTransaction() const {
  return sqlite3_get_autocommit(db_) == 0;
}

std::int64_t SqliteConnection::lastInsertRowid() const {
  return sqlite3_last_insert_rowid(db_);
}

}  // namespace licgate::registry
