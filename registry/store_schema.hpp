// The registry store's schema and its ordered migrations.
//
// The schema version is SQLite's user_version (a header field of the file).
// Each migration brings the file from version N-1 to N in one transaction, so
// a file is always at exactly one known version, also when two processes
// open it at once.
#pragma once

#include "registry/result.hpp"
#include "registry/sqlite_connection.hpp"

namespace licgate::registry {

// The version this build writes.
int latestSchemaVersion();

// Switches the file to WAL and applies every migration it lacks, waiting up
// to `busy_timeout_ms` for another process doing the same. kUnavailable
// when the file is from a newer licgate (a version this build does not know)
// or a migration fails; the file is then unchanged.
Status migrateSchema(SqliteConnection& connection, int busy_timeout_ms);

}  // namespace licgate::registry
