// Read connections of the registry store (registry/sqlite_readers.hpp).
#include "registry/sqlite_readers.hpp"

#include <utility>

namespace licgate::registry {

SqliteReaders::Lease::Lease(SqliteReaders& readers, std::unique_ptr<SqliteConnection> connection)
    : readers_(&readers), connection_(std::move(connection)) {}

SqliteReaders::Lease::~Lease() {
  if (connection_ != nullptr) {
    readers_->giveBack(std::move(connection_));
  }
}

SqliteReaders::SqliteReaders(std::string path, int busy_timeout_ms,
                             std::unique_ptr<SqliteConnection> first)
    : path_(std::move(path)), busy_timeout_ms_(busy_timeout_ms) {
  idle_.push_back(std::move(first));
}

Result<std::unique_ptr<SqliteConnection>> SqliteReaders::openReader(const std::string& path,
                                                                    int busy_timeout_ms) {
  auto reader = SqliteConnection::open(path, busy_timeout_ms);
  if (!reader) {
    return reader.takeError();
  }
  // A reader never writes: a bug that tried would fail instead of taking
  // the write lock behind the intake's back.
  LICGATE_RETURN_IF_ERROR((*reader)->exec("PRAGMA query_only = ON"));
  return reader;
}

Result<SqliteReaders::Lease> SqliteReaders::acquire() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      std::unique_ptr<SqliteConnection> connection = std::move(idle_.back());
      idle_.pop_back();
      return Lease(*this, std::move(connection));
    }
  }
  // Opened outside the lock: other readers go on meanwhile.
  auto opened = openReader(path_, busy_timeout_ms_);
  if (!opened) {
    return opened.takeError();
  }
  return Lease(*this, std::move(*opened));
}

void SqliteReaders::giveBack(std::unique_ptr<SqliteConnection> connection) {
  std::lock_guard lock(mutex_);
  idle_.push_back(std::move(connection));
}

}  // namespace licgate::registry
