// Conversions between the registry store's rows and register values.
#include "registry/store_rows.hpp"

#include <ctime>

namespace licgate::registry {

const char* const kLicenceColumns =
    "number, kind, licensor, activity_code, holder_scheme, holder_id, holder_name, "
    "holder_address, holder_legal_form, holder_country, issued_on, valid_from, valid_until, "
    "status, revision, source_version, suspended_until";

const char* const kJournalColumns =
    "sequence, type, licensor, licence_number, annex_number, sender_system, message_id, "
    "recorded_at, payload";

namespace {

// A stored value that does not parse means the file was changed behind
// licgate's back: an internal fault, named with the column.
Error corrupt(const std::string& where, const Error& error) {
  return makeError(ErrorCode::kInternal, "registry store: " + where + ": " + error.message);
}

template <typename T>
Status readInto(T& out, Result<T> parsed, const std::string& where) {
  if (!parsed) {
    return corrupt(where, parsed.error());
  }
  out = std::move(*parsed);
  return {};
}

Status readOptionalDate(std::optional<Date>& out, const std::optional<std::string>& text,
                        const std::string& where) {
  if (!text) {
    out.reset();
    return {};
  }
  Date date{};
  LICGATE_RETURN_IF_ERROR(readInto(date, parseIsoDate(*text, where), where));
  out = date;
  return {};
}

Status readHolder(const SqliteQuery& query, Holder& holder, const std::string& where) {
  if (!query.isNull(4)) {
    HolderId id{IdScheme::kKzIin, query.text(5)};
    LICGATE_RETURN_IF_ERROR(readInto(id.scheme, parseIdScheme(query.text(4)), where));
    holder.id = std::move(id);
  }
  holder.name = query.text(6);
  holder.address = query.text(7);
  holder.legal_form = query.text(8);
  holder.country = query.text(9);
  return {};
}

std::optional<std::string> formatOptionalDate(const std::optional<Date>& date) {
  if (!date) {
    return std::nullopt;
  }
  return formatIsoDate(*date);
}

Result<Disposition> parseDisposition(std::string_view name) {
  for (auto disposition : {Disposition::kApplied, Disposition::kDuplicate, Disposition::kUnchanged,
                           Disposition::kRejected}) {
    if (dispositionName(disposition) == name) {
      return disposition;
    }
  }
  return makeError(ErrorCode::kInternal,
                   "registry store: disposition \"" + std::string(name) + "\" is unknown");
}

Result<Outcome> readInboundRow(const SqliteQuery& query) {
  Outcome outcome;
  std::string where = "inbound message " + query.text(6);
  LICGATE_RETURN_IF_ERROR(readInto(outcome.disposition, parseDisposition(query.text(0)), where));
  outcome.sequence = static_cast<std::uint64_t>(query.integer(1));
  outcome.licence_number = query.text(4);
  outcome.annex_number = query.text(5);
  if (!query.isNull(2)) {
    Error error{ErrorCode::kInternal, query.text(3)};
    LICGATE_RETURN_IF_ERROR(readInto(error.code, parseErrorCode(query.text(2)), where));
    outcome.error = std::move(error);
  }
  return outcome;
}

}  // namespace

Result<Licence> readLicenceRow(const SqliteQuery& query) {
  Licence licence;
  licence.number = query.text(0);
  std::string where = "licence " + licence.number;
  LICGATE_RETURN_IF_ERROR(readInto(licence.kind, parseNumberKind(query.text(1)), where));
  licence.licensor = query.text(2);
  licence.activity_code = query.text(3);
  LICGATE_RETURN_IF_ERROR(readHolder(query, licence.holder, where));
  LICGATE_RETURN_IF_ERROR(readInto(licence.issued_on, parseIsoDate(query.text(10), where), where));
  LICGATE_RETURN_IF_ERROR(readInto(licence.valid_from, parseIsoDate(query.text(11), where), where));
  LICGATE_RETURN_IF_ERROR(readOptionalDate(licence.valid_until, query.optionalText(12), where));
  LICGATE_RETURN_IF_ERROR(readInto(licence.status, parseStatus(query.text(13)), where));
  licence.revision = static_cast<int>(query.integer(14));
  licence.source_version = query.text(15);
  LICGATE_RETURN_IF_ERROR(readOptionalDate(licence.suspended_until, query.optionalText(16), where));
  return licence;
}

JournalEntry readJournalRow(const SqliteQuery& query) {
  JournalEntry entry;
  entry.sequence = static_cast<std::uint64_t>(query.integer(0));
  auto type = parseEventType(query.text(1));
  entry.type = type ? *type : EventType::kIssue;
  entry.licensor = query.text(2);
  entry.licence_number = query.text(3);
  entry.annex_number = query.text(4);
  entry.sender_system = query.text(5);
  entry.message_id = query.text(6);
  entry.recorded_at = query.text(7);
  entry.payload = query.text(8);
  return entry;
}

namespace {

// An annex from `first` on: its number, name, address, status, issue date.
Result<Annex> readAnnexColumns(const SqliteQuery& query, int first, const std::string& licence) {
  Annex annex{query.text(first), query.text(first + 1), query.text(first + 2),
              LicenceStatus::kActive, Date{}};
  std::string where = "annex " + annex.number + " of licence " + licence;
  LICGATE_RETURN_IF_ERROR(readInto(annex.status, parseStatus(query.text(first + 3)), where));
  LICGATE_RETURN_IF_ERROR(
      readInto(annex.issued_on, parseIsoDate(query.text(first + 4), where), where));
  return annex;
}

// kLicenceColumns with each column named as `table`'s, for a join whose
// other table has columns of the same names.
std::string qualifiedLicenceColumns(std::string_view table) {
  std::string columns;
  std::string_view rest = kLicenceColumns;
  while (!rest.empty()) {
    std::size_t comma = rest.find(", ");
    columns += (columns.empty() ? "" : ", ") + std::string(table) + "." +
               std::string(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 2);
  }
  return columns;
}

}  // namespace

Result<std::vector<Annex>> loadAnnexes(SqliteConnection& connection, const std::string& number) {
  auto query = connection.prepare(
      "SELECT number, name, address, status, issued_on FROM annexes "
      "WHERE licence_number = ?1 ORDER BY number");
  if (!query) {
    return query.takeError();
  }
  query->bind(1, number);
  std::vector<Annex> annexes;
  while (true) {
    auto row = query->step();
    if (!row) {
      return row.takeError();
    }
    if (!*row) {
      return annexes;
    }
    auto annex = readAnnexColumns(*query, 0, number);
    if (!annex) {
      return annex.takeError();
    }
    annexes.push_back(std::move(*annex));
  }
}

// One statement, not one for the licence and one for its annexes: a single
// SELECT reads one snapshot by itself, so a lookup needs no BEGIN and
// COMMIT of its own, and SQLite runs one statement instead of four. The
// licence's columns repeat on each annex's row and are read from the first.
Result<std::optional<Licence>> loadLicence(SqliteConnection& connection,
                                           const std::string& number) {
  static const std::string kSql =
      "SELECT " + qualifiedLicenceColumns("l") +
      ", a.number, a.name, a.address, a.status, a.issued_on FROM licences AS l "
      "LEFT JOIN annexes AS a ON a.licence_number = l.number WHERE l.number = ?1 "
      "ORDER BY a.number";
  constexpr int kFirstAnnexColumn = 17;
  auto query = connection.prepare(kSql);
  if (!query) {
    return query.takeError();
  }
  query->bind(1, number);
  std::optional<Licence> licence;
  while (true) {
    auto row = query->step();
    if (!row) {
      return row.takeError();
    }
    if (!*row) {
      return licence;
    }
    if (!licence) {
      auto read = readLicenceRow(*query);
      if (!read) {
        return read.takeError();
      }
      licence = std::move(*read);
    }
    if (query->isNull(kFirstAnnexColumn)) {
      continue;  // a licence without annexes: LEFT JOIN's one row of NULLs
    }
    auto annex = readAnnexColumns(*query, kFirstAnnexColumn, number);
    if (!annex) {
      return annex.takeError();
    }
    licence->annexes.push_back(std::move(*annex));
  }
}

// OR FAIL: a failing statement keeps its partial changes instead of
// rolling them back itself, which spares SQLite a statement journal on every
// write. The store never continues after such a failure: it rolls back the
// message's savepoint or the whole batch (sqlite_store_write.cpp).
Status saveLicenceRow(SqliteConnection& connection, const Licence& licence,
                      std::uint64_t last_sequence, bool exists) {
  static const std::string kInsert =
      std::string("INSERT OR FAIL INTO licences (") + kLicenceColumns +
      ", last_sequence) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
      "?15, ?16, ?17, ?18)";
  static const std::string kUpdate =
      "UPDATE OR FAIL licences SET kind = ?2, licensor = ?3, activity_code = ?4, "
      "holder_scheme = ?5, holder_id = ?6, holder_name = ?7, holder_address = ?8, "
      "holder_legal_form = ?9, holder_country = ?10, issued_on = ?11, valid_from = ?12, "
      "valid_until = ?13, status = ?14, revision = ?15, source_version = ?16, "
      "suspended_until = ?17, last_sequence = ?18 WHERE number = ?1";
  auto query = connection.prepare(exists ? kUpdate : kInsert);
  if (!query) {
    return query.takeError();
  }
  const Holder& holder = licence.holder;
  query->bind(1, licence.number).bind(2, numberKindName(licence.kind)).bind(3, licence.licensor);
  query->bind(4, licence.activity_code);
  if (holder.id) {
    query->bind(5, idSchemeName(holder.id->scheme)).bind(6, holder.id->value);
  }
  query->bind(7, holder.name).bind(8, holder.address).bind(9, holder.legal_form);
  query->bind(10, holder.country).bind(11, formatIsoDate(licence.issued_on));
  query->bind(12, formatIsoDate(licence.valid_from));
  query->bindOptional(13, formatOptionalDate(licence.valid_until));
  query->bind(14, statusName(licence.status)).bind(15, std::int64_t{licence.revision});
  query->bind(16, licence.source_version);
  query->bindOptional(17, formatOptionalDate(licence.suspended_until));
  query->bind(18, static_cast<std::int64_t>(last_sequence));
  return query->run();
}

Status saveAnnexRow(SqliteConnection& connection, const std::string& licence_number,
                    const Annex& annex) {
  auto query = connection.prepare(
      "INSERT OR REPLACE INTO annexes (licence_number, number, name, address, status, "
      "issued_on) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (!query) {
    return query.takeError();
  }
  query->bind(1, licence_number).bind(2, annex.number).bind(3, annex.name);
  query->bind(4, annex.address).bind(5, statusName(annex.status));
  query->bind(6, formatIsoDate(annex.issued_on));
  return query->run();
}

Result<std::optional<Outcome>> loadInbound(SqliteConnection& connection,
                                           const std::string& sender_system,
                                           const std::string& message_id) {
  auto query = connection.prepare(
      "SELECT disposition, sequence, error_code, error_message, licence_number, annex_number, "
      "message_id FROM inbound WHERE sender_system = ?1 AND message_id = ?2");
  if (!query) {
    return query.takeError();
  }
  query->bind(1, sender_system).bind(2, message_id);
  auto row = query->step();
  if (!row) {
    return row.takeError();
  }
  if (!*row) {
    return std::optional<Outcome>{};
  }
  auto outcome = readInboundRow(*query);
  if (!outcome) {
    return outcome.takeError();
  }
  return std::optional<Outcome>(std::move(*outcome));
}

Result<ErrorCode> parseErrorCode(std::string_view name) {
  if (std::optional<ErrorCode> code = errorCodeOfName(name)) {
    return *code;
  }
  return makeError(ErrorCode::kInternal,
                   "registry store: error code \"" + std::string(name) + "\" is unknown");
}

}  // namespace licgate::registry
