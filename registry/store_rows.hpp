// Rows of the registry store's tables as register values, and back.
//
// Shared by the write path (inside its transaction) and the read connection,
// so both read a licence the same way.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "registry/event.hpp"
#include "registry/model.hpp"
#include "registry/result.hpp"
#include "registry/sqlite_connection.hpp"
#include "registry/store.hpp"

namespace licgate::registry {

// The licence with its annexes, or empty when the file has no such number,
// read by one statement and so from one snapshot, inside a transaction or
// not. kInternal when a stored value does not parse (a file edited by hand).
Result<std::optional<Licence>> loadLicence(SqliteConnection& connection, const std::string& number);

// The annexes of one licence, ordered by number.
Result<std::vector<Annex>> loadAnnexes(SqliteConnection& connection, const std::string& number);

// Inserts the licence row, or updates it when it `exists`; `last_sequence`
// is the journal entry that left it in this state.
Status saveLicenceRow(SqliteConnection& connection, const Licence& licence,
                      std::uint64_t last_sequence, bool exists);

Status saveAnnexRow(SqliteConnection& connection, const std::string& licence_number,
                    const Annex& annex);

// The SELECT list and reader of licence rows, for queries that filter them.
extern const char* const kLicenceColumns;
Result<Licence> readLicenceRow(const SqliteQuery& query);

// The SELECT list and reader of journal rows.
extern const char* const kJournalColumns;
JournalEntry readJournalRow(const SqliteQuery& query);

// The stored outcome of an inbound message, as first recorded.
Result<std::optional<Outcome>> loadInbound(SqliteConnection& connection,
                                           const std::string& sender_system,
                                           const std::string& message_id);

Result<ErrorCode> parseErrorCode(std::string_view name);

}  // namespace licgate::registry
