// Schema migrations of the registry store (docs/store.md explains each table).
#include "registry/store_schema.hpp"

#include <chrono>
#include <string>
#include <thread>

namespace licgate::registry {

namespace {

struct Migration {
  int version;
  const char* sql;
};

// Append only: a released migration is never edited, since files already
// carry its result. Dates are ISO 8601 text, enums their wire names, so the
// file reads without licgate.
constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE journal (
  sequence INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  licensor TEXT NOT NULL,
  licence_number TEXT NOT NULL,
  annex_number TEXT NOT NULL,
  sender_system TEXT NOT NULL,
  message_id TEXT NOT NULL,
  recorded_at TEXT NOT NULL,
  payload TEXT NOT NULL
);
CREATE INDEX journal_by_licence ON journal (licence_number, sequence);

CREATE TABLE licences (
  number TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  licensor TEXT NOT NULL,
  activity_code TEXT NOT NULL,
  holder_scheme TEXT,
  holder_id TEXT,
  holder_name TEXT NOT NULL,
  holder_address TEXT NOT NULL,
  holder_legal_form TEXT NOT NULL,
  holder_country TEXT NOT NULL,
  issued_on TEXT NOT NULL,
  valid_from TEXT NOT NULL,
  valid_until TEXT,
  status TEXT NOT NULL,
  revision INTEGER NOT NULL,
  source_version TEXT NOT NULL,
  suspended_until TEXT,
  last_sequence INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX licences_by_holder ON licences (holder_scheme, holder_id, number);
CREATE INDEX licences_by_licensor ON licences (licensor, number);
CREATE INDEX licences_by_status ON licences (status, number);

CREATE TABLE annexes (
  licence_number TEXT NOT NULL,
  number TEXT NOT NULL,
  name TEXT NOT NULL,
  address TEXT NOT NULL,
  status TEXT NOT NULL,
  issued_on TEXT NOT NULL,
  PRIMARY KEY (licence_number, number)
) WITHOUT ROWID;

CREATE TABLE inbound (
  sender_system TEXT NOT NULL,
  message_id TEXT NOT NULL,
  disposition TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  error_code TEXT,
  error_message TEXT,
  licence_number TEXT NOT NULL,
  annex_number TEXT NOT NULL,
  recorded_at TEXT NOT NULL,
  PRIMARY KEY (sender_system, message_id)
) WITHOUT ROWID;

CREATE TABLE dead_letters (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  sender_system TEXT NOT NULL,
  message_id TEXT NOT NULL,
  content_type TEXT NOT NULL,
  received_at TEXT NOT NULL,
  error_code TEXT NOT NULL,
  reason TEXT NOT NULL,
  body BLOB NOT NULL
);

CREATE TABLE sequences (
  scope TEXT PRIMARY KEY,
  last INTEGER NOT NULL
) WITHOUT ROWID;
)sql"},
    {2, R"sql(
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('incarnation', lower(hex(randomblob(16))));
CREATE INDEX dead_letters_by_message ON dead_letters (sender_system, message_id);
)sql"},
    {3, R"sql(
CREATE TABLE conformity_outcomes (
  application_id TEXT PRIMARY KEY,
  licensor TEXT NOT NULL,
  activity TEXT NOT NULL,
  applicant_iin_bin TEXT NOT NULL,
  applicant_name TEXT NOT NULL,
  request_fingerprint TEXT NOT NULL,
  outcome TEXT NOT NULL,
  decided_at TEXT NOT NULL,
  decided_ms INTEGER NOT NULL,
  queries TEXT NOT NULL
) WITHOUT ROWID;
)sql"},
    {4, R"sql(
CREATE TABLE conformity_queries (
  query_id TEXT PRIMARY KEY,
  application_id TEXT NOT NULL
) WITHOUT ROWID;
INSERT OR IGNORE INTO conformity_queries (query_id, application_id)
  SELECT json_extract(query.value, '$.query_id'), outcome.application_id
  FROM conformity_outcomes AS outcome, json_each(outcome.queries) AS query;
)sql"},
};

Result<int> readUserVersion(SqliteConnection& connection) {
  auto query = connection.prepare("PRAGMA user_version");
  if (!query) {
    return query.takeError();
  }
  auto row = query->step();
  if (!row) {
    return row.takeError();
  }
  return *row ? static_cast<int>(query->integer(0)) : 0;
}

// Runs one migration in its own write transaction. The version is read again
// under the write lock: another process may have migrated in between.
Status applyMigration(SqliteConnection& connection, const Migration& migration) {
  LICGATE_RETURN_IF_ERROR(connection.exec("BEGIN IMMEDIATE"));
  auto version = readUserVersion(connection);
  Status status = version ? Status{} : Status{version.takeError()};
  if (status.ok() && *version < migration.version) {
    status = connection.exec(migration.sql);
    if (status.ok()) {
      status = connection.exec("PRAGMA user_version = " + std::to_string(migration.version));
    }
  }
  if (!status.ok()) {
    (void)connection.exec("ROLLBACK");
    Error error = status.takeError();
    error.message = "migration to schema version " + std::to_string(migration.version) +
                    " failed: " + error.message;
    error.code = ErrorCode::kUnavailable;
    return error;
  }
  return connection.exec("COMMIT");
}

}  // namespace

int latestSchemaVersion() {
  return std::end(kMigrations)[-1].version;
}

Status migrateSchema(SqliteConnection& connection, int busy_timeout_ms) {
  // WAL lets readers see the last commit while a batch is being written;
  // the mode is stored in the file, so every later connection gets it.
  // Two processes opening a new file together both ask for it, and SQLite
  // answers the second "database is locked" at once, without its busy
  // handler (it would deadlock waiting), so the wait is here.
  const auto give_up =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(busy_timeout_ms);
  Status wal = connection.exec("PRAGMA journal_mode = WAL");
  while (!wal.ok() && wal.error().message.find("locked") != std::string::npos &&
         std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    wal = connection.exec("PRAGMA journal_mode = WAL");
  }
  LICGATE_RETURN_IF_ERROR(std::move(wal));
  auto version = readUserVersion(connection);
  if (!version) {
    return version.takeError();
  }
  if (*version > latestSchemaVersion()) {
    return makeError(ErrorCode::kUnavailable, "registry store " + connection.path() +
                                                  ": schema version " + std::to_string(*version) +
                                                  " is newer than this licgate knows (" +
                                                  std::to_string(latestSchemaVersion()) + ")");
  }
  for (const Migration& migration : kMigrations) {
    if (migration.version > *version) {
      LICGATE_RETURN_IF_ERROR(applyMigration(connection, migration));
    }
  }
  return {};
}

}  // namespace licgate::registry
