// Opening the SQLite registry store, and its reads (the write path is in
// sqlite_store_write.cpp).
#include "registry/sqlite_store.hpp"

#include <utility>

#include "registry/store_rows.hpp"
#include "registry/store_schema.hpp"

namespace licgate::registry {

namespace {

constexpr int kMaxPageSize = 1000;

Status checkLimit(int limit, std::string_view what) {
  if (limit < 1 || limit > kMaxPageSize) {
    return makeError(ErrorCode::kInvalidField, std::string(what) + ": limit " +
                                                   std::to_string(limit) + " is outside 1.." +
                                                   std::to_string(kMaxPageSize));
  }
  return {};
}

// Runs `read` in one read transaction, so a licence and its annexes (or a
// page of licences) come from the same commit.
template <typename T, typename Read>
Result<T> readSnapshot(SqliteConnection& connection, Read read) {
  LICGATE_RETURN_IF_ERROR(connection.run("BEGIN"));
  Result<T> result = read();
  Status ended = connection.run(result.ok() ? "COMMIT" : "ROLLBACK");
  if (result.ok() && !ended.ok()) {
    return ended.takeError();
  }
  return result;
}

Result<std::vector<JournalEntry>> readJournal(SqliteQuery& query) {
  std::vector<JournalEntry> entries;
  while (true) {
    auto row = query.step();
    if (!row) {
      return row.takeError();
    }
    if (!*row) {
      return entries;
    }
    entries.push_back(readJournalRow(query));
  }
}

// One SQL text per combination of filters, so each is prepared once.
std::string searchSql(const LicenceQuery& query) {
  std::string sql = std::string("SELECT ") + kLicenceColumns + " FROM licences WHERE number > ?1";
  if (query.holder) {
    sql += " AND holder_scheme = ?2 AND holder_id = ?3";
  }
  if (!query.licensor.empty()) {
    sql += " AND licensor = ?4";
  }
  if (query.status) {
    sql += " AND status = ?5";
  }
  if (!query.activity_code.empty()) {
    sql += " AND activity_code = ?6";
  }
  // The limit has the highest index, so that every filter's index exists
  // and binds whether the filter is in the text or not.
  return sql + " ORDER BY number LIMIT ?7";
}

// One row more than the limit is read: its presence is what says that
// another page follows.
Result<LicencePage> readPage(SqliteConnection& connection, const LicenceQuery& query) {
  auto select = connection.prepare(searchSql(query));
  if (!select) {
    return select.takeError();
  }
  select->bind(1, query.after_number);
  if (query.holder) {
    select->bind(2, idSchemeName(query.holder->scheme)).bind(3, query.holder->value);
  }
  select->bind(4, query.licensor);
  if (query.status) {
    select->bind(5, statusName(*query.status));
  }
  select->bind(6, query.activity_code);
  select->bind(7, std::int64_t{query.limit} + 1);

  LicencePage page;
  while (true) {
    auto row = select->step();
    if (!row) {
      return row.takeError();
    }
    if (!*row) {
      return page;
    }
    if (page.licences.size() == static_cast<std::size_t>(query.limit)) {
      page.next_after = page.licences.back().number;
      return page;
    }
    auto licence = readLicenceRow(*select);
    if (!licence) {
      return licence.takeError();
    }
    page.licences.push_back(std::move(*licence));
  }
}

Status applyPragmas(SqliteConnection& connection, const StoreOptions& options) {
  // FULL syncs the WAL at every commit (a committed batch survives power
  // loss); NORMAL syncs at checkpoints only (it survives a crash of licgate,
  // not of the machine).
  LICGATE_RETURN_IF_ERROR(connection.exec(
      options.synchronous_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL"));
  LICGATE_RETURN_IF_ERROR(connection.exec("PRAGMA cache_size = -8192"));

  // Each message's savepoint copies the pages it first touches into the
  // statement journal; in memory that is a copy, on disk a write per page.
  LICGATE_RETURN_IF_ERROR(connection.exec("PRAGMA temp_store = MEMORY"));

  // A checkpoint copies each page once however often it changed since the
  // last one, so fewer, larger checkpoints write less (the WAL grows to
  // about 16 MB between them).
  return connection.exec("PRAGMA wal_autocheckpoint = 4000");
}

Status withPath(Status status, const std::string& path) {
  if (status.ok() || status.error().message.find(path) != std::string::npos) {
    return status;
  }
  Error error = status.takeError();
  error.message = "registry store " + path + ": " + error.message;
  return error;
}

}  // namespace

SqliteStore::SqliteStore(StoreOptions options, std::unique_ptr<SqliteConnection> writer,
                         std::unique_ptr<SqliteConnection> reader)
    : options_(std::move(options)),
      writer_(std::move(writer)),
      readers_(options_.path, options_.busy_timeout_ms, std::move(reader)) {}

Result<std::unique_ptr<Store>> SqliteStore::open(const StoreOptions& options) {
  auto writer = SqliteConnection::open(options.path, options.busy_timeout_ms);
  if (!writer) {
    return writer.takeError();
  }
  LICGATE_RETURN_IF_ERROR(withPath(migrateSchema(**writer, options.busy_timeout_ms), options.path));
  LICGATE_RETURN_IF_ERROR(applyPragmas(**writer, options));

  auto reader = SqliteReaders::openReader(options.path, options.busy_timeout_ms);
  if (!reader) {
    return reader.takeError();
  }
  return std::unique_ptr<Store>(new SqliteStore(options, std::move(*writer), std::move(*reader)));
}

Result<Licence> SqliteStore::findLicence(const std::string& number) {
  auto lease = readers_.acquire();
  if (!lease) {
    return lease.takeError();
  }
  SqliteConnection& reader = lease->connection();
  // One statement, so one snapshot without a transaction of its own.
  auto found = loadLicence(reader, number);
  if (!found) {
    return found.takeError();
  }
  if (!*found) {
    return makeError(ErrorCode::kNotFound, "licence " + number + " is not in the register");
  }
  return std::move(**found);
}

Result<std::vector<JournalEntry>> SqliteStore::history(const std::string& number) {
  auto lease = readers_.acquire();
  if (!lease) {
    return lease.takeError();
  }
  SqliteConnection& reader = lease->connection();
  auto query = reader.prepare(std::string("SELECT ") + kJournalColumns +
                              " FROM journal WHERE licence_number = ?1 ORDER BY sequence");
  if (!query) {
    return query.takeError();
  }
  query->bind(1, number);
  return readJournal(*query);
}

Result<LicencePage> SqliteStore::searchLicences(const LicenceQuery& query) {
  LICGATE_RETURN_IF_ERROR(checkLimit(query.limit, "licence search"));
  auto lease = readers_.acquire();
  if (!lease) {
    return lease.takeError();
  }
  SqliteConnection& reader = lease->connection();
  return readSnapshot<LicencePage>(reader, [&]() -> Result<LicencePage> {
    auto page = readPage(reader, query);
    if (!page) {
      return page;
    }
    for (Licence& licence : page->licences) {
      auto annexes = loadAnnexes(reader, licence.number);
      if (!annexes) {
        return annexes.takeError();
      }
      licence.annexes = std::move(*annexes);
    }
    return page;
  });
}

Result<std::vector<JournalEntry>> SqliteStore::changesAfter(std::uint64_t after, int limit) {
  LICGATE_RETURN_IF_ERROR(checkLimit(limit, "changes"));
  auto lease = readers_.acquire();
  if (!lease) {
    return lease.takeError();
  }
  SqliteConnection& reader = lease->connection();
  auto query = reader.prepare(std::string("SELECT ") + kJournalColumns +
                              " FROM journal WHERE sequence > ?1 ORDER BY sequence LIMIT ?2");
  if (!query) {
    return query.takeError();
  }
  query->bind(1, static_cast<std::int64_t>(after)).bind(2, std::int64_t{limit});
  return readJournal(*query);
}

Result<std::vector<DeadLetter>> SqliteStore::deadLetters(std::int64_t after_id, int limit) {
  LICGATE_RETURN_IF_ERROR(checkLimit(limit, "dead letters"));
  auto lease = readers_.acquire();
  if (!lease) {
    return lease.takeError();
  }
  SqliteConnection& reader = lease->connection();
  auto query = reader.prepare(
      "SELECT id, sender_system, message_id, content_type, received_at, error_code, reason, body "
      "FROM dead_letters WHERE id > ?1 ORDER BY id LIMIT ?2");
  if (!query) {
    return query.takeError();
  }
  query->bind(1, after_id).bind(2, std::int64_t{limit});
  std::vector<DeadLetter> letters;
  while (true) {
    auto row = query->step();
    if (!row) {
      return row.takeError();
    }
    if (!*row) {
      return letters;
    }
    DeadLetter letter{query->integer(0), query->text(1),       query->text(2), query->text(3),
                      query->text(4),    ErrorCode::kInternal, query->text(6), query->blob(7)};
    auto code = parseErrorCode(query->text(5));
    letter.code = code ? *code : ErrorCode::kInternal;
    letters.push_back(std::move(letter));
  }
}

Result<StoreCounts> SqliteStore::counts() {
  auto lease = readers_.acquire();
  if (!lease) {
    return lease.takeError();
  }
  SqliteConnection& reader = lease->connection();
  return readSnapshot<StoreCounts>(reader, [&]() -> Result<StoreCounts> {
    auto query = reader.prepare(
        "SELECT (SELECT coalesce(max(sequence), 0) FROM journal), "
        "(SELECT count(*) FROM licences WHERE status = 'active'), "
        "(SELECT count(*) FROM licences WHERE status = 'suspended'), "
        "(SELECT count(*) FROM licences WHERE status = 'terminated'), "
        "(SELECT count(*) FROM dead_letters)");
    if (!query) {
      return query.takeError();
    }
    auto row = query->step();
    if (!row) {
      return row.takeError();
    }
    auto number = [&](int column) { return static_cast<std::uint64_t>(query->integer(column)); };
    return StoreCounts{number(0), number(1), number(2), number(3), number(4)};
  });
}

Result<std::string> SqliteStore::incarnation() {
  auto lease = readers_.acquire();
  if (!lease) {
    return lease.takeError();
  }
  SqliteConnection& reader = lease->connection();
  auto query = reader.prepare("SELECT value FROM meta WHERE key = 'incarnation'");
  if (!query) {
    return query.takeError();
  }
  auto row = query->step();
  if (!row) {
    return row.takeError();
  }
  if (!*row) {
    return makeError(ErrorCode::kUnavailable,
                     "registry store " + options_.path + " has no incarnation");
  }
  return query->text(0);
}

// A write of its own, under the write lock, so it is ordered with batches.
Result<std::string> SqliteStore::renewIncarnation() {
  {
    std::lock_guard lock(write_mutex_);
    LICGATE_RETURN_IF_ERROR(writer_->exec(
        "UPDATE meta SET value = lower(hex(randomblob(16))) WHERE key = 'incarnation'"));
  }
  return incarnation();
}

Result<std::optional<Outcome>> SqliteStore::findInbound(const std::string& sender_system,
                                                        const std::string& message_id) {
  auto lease = readers_.acquire();
  if (!lease) {
    return lease.takeError();
  }
  SqliteConnection& reader = lease->connection();
  return loadInbound(reader, sender_system, message_id);
}

}  // namespace licgate::registry
