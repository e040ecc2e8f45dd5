// The registry store: the register's data of record, in one SQLite file.
//
// What it keeps (docs/store.md has the schema):
// - journal: every applied event, append-only, with a register-wide sequence
//   number (the change feed);
// - licences and annexes: the current state, updated in the same
//   transaction as the journal row;
// - inbound: the outcome of every (sender system, message id) seen, in the
//   same transaction, so a message delivered again after a crash is
//   recognised and gets the same outcome without changing anything;
// - dead letters: rejected messages with their original bytes;
// - sequences: the number counters, advanced in the issuing transaction;
// - conformity outcomes: each application's decided conformity round.
//
// Threads and processes: a Store may be used from several threads; writes are
// serialised inside it and between processes by SQLite's write lock
// (BEGIN IMMEDIATE), so two issuers never get the same number. Reads use
// their own connection and see the last committed state (WAL). Every call
// blocks until SQLite answers.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "registry/conformity.hpp"
#include "registry/event.hpp"
#include "registry/model.hpp"
#include "registry/result.hpp"

namespace licgate::registry {

struct StoreOptions {
  std::string path;              // the SQLite file; created when missing
  bool synchronous_full = true;  // fsync every commit (power-loss safe)
  int busy_timeout_ms = 5000;    // wait this long for another writer
  std::string country = "KZ";    // the registering state, for export/import numbers
};

// One inbound message on its way into the register.
struct Inbound {
  std::string sender_system;
  std::string message_id;
  std::string content_type;
  std::string body;     // the original bytes, kept when the message is dead-lettered
  Result<Event> event;  // the mapped event, or why it could not be mapped or authorised
};

enum class Disposition : std::uint8_t {
  kApplied,    // recorded now: a journal entry exists
  kDuplicate,  // this (sender, message id) was applied before: nothing changed
  kUnchanged,  // an import identical to what the register holds: nothing changed
  kRejected,   // invalid now or when first seen; kept as a dead letter
};

std::string_view dispositionName(Disposition disposition);

struct Outcome {
  Disposition disposition = Disposition::kApplied;
  std::uint64_t sequence = 0;  // journal sequence when applied (or first applied)
  std::string licence_number;  // the licence affected (given by the register on issue)
  std::string annex_number;
  std::optional<Error> error;  // set when rejected
};

struct LicenceQuery {
  std::optional<HolderId> holder;
  std::string licensor;                 // empty: any
  std::string activity_code;            // empty: any
  std::optional<LicenceStatus> status;  // empty: any
  std::string after_number;             // paging cursor: numbers greater than this
  int limit = 50;                       // 1..1000
};

struct LicencePage {
  std::vector<Licence> licences;  // ordered by number
  std::string next_after;         // empty on the last page
};

struct DeadLetter {
  std::int64_t id = 0;
  std::string sender_system;
  std::string message_id;
  std::string content_type;
  std::string received_at;  // UTC ISO 8601
  ErrorCode code = ErrorCode::kInternal;
  std::string reason;
  std::string body;
};

struct StoreCounts {
  std::uint64_t last_sequence = 0;
  std::uint64_t licences_active = 0;
  std::uint64_t licences_suspended = 0;
  std::uint64_t licences_terminated = 0;
  std::uint64_t dead_letters = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Applies a batch in ONE transaction. Each message is decided in full
  // (validated, numbered, run through the lifecycle) before anything of it
  // is written, so a rejected message writes only its dead letter and
  // inbound record; the others commit together. Should a write still fail
  // half-way, the batch is rolled back and run again with a savepoint per
  // message, so only that message is lost to a dead letter. Returns one
  // Outcome per message, in order, only after the commit, so a caller that
  // settles on these outcomes never settles what is not stored.
  //
  // A message whose (sender, id) is already in `inbound` gets its first
  // outcome back (kDuplicate when it was applied, kRejected with the same
  // error when it was rejected) and changes nothing.
  //
  // The whole call fails (kUnavailable) only when the transaction cannot be
  // committed (disk full, lock timeout); then nothing of the batch is stored.
  virtual Result<std::vector<Outcome>> applyBatch(std::span<const Inbound> batch) = 0;

  // Convenience for one message.
  Result<Outcome> apply(const Inbound& inbound);

  // The current state of a licence with its annexes. kNotFound when absent.
  virtual Result<Licence> findLicence(const std::string& number) = 0;

  // Journal entries of one licence, oldest first. Empty when unknown.
  virtual Result<std::vector<JournalEntry>> history(const std::string& number) = 0;

  // Licences matching every set field of `query`. kInvalidField when the
  // limit is outside 1..1000.
  virtual Result<LicencePage> searchLicences(const LicenceQuery& query) = 0;

  // The change feed: journal entries with sequence > after, at most limit.
  virtual Result<std::vector<JournalEntry>> changesAfter(std::uint64_t after, int limit) = 0;

  // Dead letters with id > after_id, oldest first.
  virtual Result<std::vector<DeadLetter>> deadLetters(std::int64_t after_id, int limit) = 0;

  virtual Result<StoreCounts> counts() = 0;

  // The register's incarnation: 32 random hex digits drawn when the store
  // was created, and again by renewIncarnation(). What licgate keeps about
  // the register elsewhere (Redis) is filed under it, so that it never
  // speaks for another register, or for this one after it was replaced by
  // an older copy. kUnavailable when the store does not answer.
  virtual Result<std::string> incarnation() = 0;

  // Draws a new incarnation and returns it: everything filed under the old
  // one stops counting. For when the register is found older than what was
  // filed about it (restored from a backup).
  virtual Result<std::string> renewIncarnation() = 0;

  // The first outcome recorded for a message, if any: the store's durable
  // duplicate check, for callers that want to answer without a batch.
  virtual Result<std::optional<Outcome>> findInbound(const std::string& sender_system,
                                                     const std::string& message_id) = 0;

  // Keeps decided conformity outcomes with their applications, in ONE
  // transaction. An application's outcome is decided once: one already
  // kept stays as it is (a round delivered again after a crash writes
  // nothing). kUnavailable when the transaction cannot be committed; then
  // nothing is kept.
  virtual Status keepConformityOutcomes(std::span<const ConformityOutcome> outcomes) = 0;

  // Keeps messages refused outside the licence events' intake (a conformity
  // request or conclusion) as dead letters, in ONE transaction, stamped
  // with the time now (`id` and `received_at` are the store's). Unlike a
  // rejected event no inbound record is written: the (system, message id)
  // of a licence event stays free. kUnavailable when the transaction cannot
  // be committed; then none is kept.
  virtual Status keepDeadLetters(std::span<const DeadLetter> letters) = 0;

  // Adds late conclusions to the queries of outcomes kept already, in ONE
  // transaction: an outcome not kept yet, a query not in it or one with a
  // late conclusion already is left as it is (the outcome itself never
  // changes). kUnavailable when the transaction cannot be committed.
  virtual Status keepLateConclusions(std::span<const LateConclusion> late) = 0;

  // The outcome kept for an application, if any.
  virtual Result<std::optional<ConformityOutcome>> findConformityOutcome(
      const std::string& application_id) = 0;

  // The outcome kept with one of its queries, found by the query's id: a
  // conclusion that comes after Redis has forgotten its round names only
  // the query.
  virtual Result<std::optional<ConformityOutcome>> findConformityOutcomeOfQuery(
      const std::string& query_id) = 0;
};

// Opens (creating and migrating the schema) the SQLite file in
// `options.path`. Errors: kUnavailable when the file cannot be opened or
// migrated, naming the path and SQLite's message.
Result<std::unique_ptr<Store>> openSqliteStore(const StoreOptions& options);

}  // namespace licgate::registry
