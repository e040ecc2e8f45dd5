// The write path of the SQLite registry store: one transaction per batch
// (docs/store.md, "Transactions").
//
// Each message is first decided (validated, numbered, run through the
// lifecycle, encoded) without writing, and only then written. A rejection
// therefore needs no rollback; per-message savepoints are only used when a
// batch has to be replayed because a write failed half-way.
#include <algorithm>
#include <chrono>
#include <exception>
#include <string>

#include "registry/event_codec.hpp"
#include "registry/lifecycle.hpp"
#include "registry/numbering.hpp"
#include "registry/sqlite_store.hpp"
#include "registry/store_rows.hpp"
#include "registry/validation.hpp"

namespace licgate::registry {

namespace {

bool isImport(EventType type) {
  return type == EventType::kImport || type == EventType::kAnnexImport;
}

// A second delivery gets the first answer: the same rejection, or "already
// applied" pointing at the journal entry it made.
// What the message itself decides: sending the same bytes again cannot
// change it.
bool isFinalRejection(ErrorCode code) {
  switch (code) {
    case ErrorCode::kMalformed:
    case ErrorCode::kInvalidField:
    case ErrorCode::kUnsupportedEncoding:
    case ErrorCode::kInvalidEncoding:
    case ErrorCode::kTooLarge:
    case ErrorCode::kConflict:
    case ErrorCode::kNotImplemented:
      return true;
    default:
      return false;
  }
}

Outcome repeatOutcome(const Outcome& first) {
  Outcome outcome = first;
  if (first.disposition != Disposition::kRejected) {
    outcome.disposition = Disposition::kDuplicate;
  }
  return outcome;
}

// Annex numbers continue after the highest one the licence has, imported or
// given, so a number is never given twice within a licence.
Result<std::string> nextAnnexNumber(const Licence& licence) {
  std::uint32_t highest = 0;
  for (const Annex& annex : licence.annexes) {
    if (checkAnnexNumber(annex.number).ok()) {
      highest = std::max<std::uint32_t>(highest, std::stoul(annex.number));
    }
  }
  if (highest >= kMaxAnnexSequence) {
    return makeError(ErrorCode::kConflict, "annex-issue: licence " + licence.number +
                                               " has used all annex numbers up to " +
                                               std::to_string(kMaxAnnexSequence));
  }
  return formatAnnexNumber(highest + 1);
}

// Annexes are kept ordered by number (registry/model.hpp).
bool containsAnnex(const std::vector<Annex>& annexes, const Annex& annex) {
  auto at = std::lower_bound(
      annexes.begin(), annexes.end(), annex.number,
      [](const Annex& held, const std::string& number) { return held.number < number; });
  return at != annexes.end() && *at == annex;
}

Result<std::string> encodeForJournal(const Event& event) {
  try {
    return encodeEvent(event);
  } catch (const std::exception& e) {
    return makeError(ErrorCode::kInvalidField,
                     std::string(eventTypeName(event.type)) +
                         ": the event cannot be written as JSON: " + e.what());
  }
}

// One row of dead_letters: a rejected licence event's, or a refused
// conformity message's (keepDeadLetters).
Status insertDeadLetter(SqliteConnection& writer, const std::string& sender_system,
                        const std::string& message_id, const std::string& content_type,
                        const std::string& now, ErrorCode code, const std::string& reason,
                        const std::string& body) {
  auto query = writer.prepare(
      "INSERT OR FAIL INTO dead_letters (sender_system, message_id, content_type, received_at, "
      "error_code, reason, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  if (!query) {
    return query.takeError();
  }
  query->bind(1, sender_system).bind(2, message_id);
  query->bind(3, content_type).bind(4, now).bind(5, errorCodeName(code));
  query->bind(6, reason).bindBlob(7, body);
  return query->run();
}

}  // namespace

// The fast path writes each accepted message without a savepoint. Should a
// write fail half-way for a reason of the message (not of the store), the
// whole batch is rolled back and run again with a savepoint per message, so
// that message alone is dead-lettered. Savepoints on every message cost about
// a third of the store's time (docs/store.md, "Transactions").
Result<std::vector<Outcome>> SqliteStore::applyBatch(std::span<const Inbound> batch) {
  std::lock_guard lock(write_mutex_);
  write_failed_midway_ = false;
  auto outcomes = runBatch(batch, false);
  if (!outcomes && write_failed_midway_) {
    outcomes = runBatch(batch, true);
  }
  return outcomes;
}

Result<std::vector<Outcome>> SqliteStore::runBatch(std::span<const Inbound> batch, bool guarded) {
  LICGATE_RETURN_IF_ERROR(beginBatch());
  counters_.clear();
  forgetFreeStems();
  std::string now = formatTimestamp(std::chrono::system_clock::now());

  std::vector<Outcome> outcomes;
  outcomes.reserve(batch.size());
  Status status;
  for (const Inbound& inbound : batch) {
    auto outcome = applyMessage(inbound, now, guarded);
    if (!outcome) {
      status = outcome.takeError();
      break;
    }
    outcomes.push_back(std::move(*outcome));
  }
  if (status.ok()) {
    status = flushCounters();
  }

  // Outcomes leave only after COMMIT returned: a caller settles on them.
  if (status.ok()) {
    status = writer_->run("COMMIT");
    if (!status.ok()) {
      Error error = status.takeError();
      error.code = ErrorCode::kUnavailable;
      status = std::move(error);
    }
  }
  counters_.clear();
  if (!status.ok()) {
    (void)writer_->run("ROLLBACK");
    return status.takeError();
  }
  return outcomes;
}

// BEGIN IMMEDIATE takes the write lock at once, so two writers (threads of
// other Store objects, other processes) queue here rather than fail later at
// their first write; SQLite retries for busy_timeout_ms before giving up.
Status SqliteStore::beginBatch() {
  Status begun = writer_->run("BEGIN IMMEDIATE");
  if (!begun.ok()) {
    Error error = begun.takeError();
    error.message = "the register could not start a write within " +
                    std::to_string(options_.busy_timeout_ms) + " ms: " + error.message;
    return error;
  }
  return {};
}

Status SqliteStore::endBatch(Status status, std::string_view what) {
  if (status.ok()) {
    status = writer_->run("COMMIT");
  }
  if (!status.ok()) {
    (void)writer_->run("ROLLBACK");
    Error error = status.takeError();
    error.code = ErrorCode::kUnavailable;
    error.message = std::string(what) + ": " + error.message;
    return error;
  }
  return {};
}

Result<Outcome> SqliteStore::applyMessage(const Inbound& inbound, const std::string& now,
                                          bool guarded) {
  if (inbound.sender_system.empty() || inbound.message_id.empty()) {
    // The caller's reason (no system is not-authorised) when it gave one.
    return rejectMessage(inbound,
                         !inbound.event.ok()
                             ? inbound.event.error()
                             : makeError(ErrorCode::kInvalidField,
                                         "the message has no sender system or no message id, so "
                                         "a second delivery could not be recognised"),
                         now);
  }
  auto first = loadInbound(*writer_, inbound.sender_system, inbound.message_id);
  if (!first) {
    return first.takeError();
  }
  if (*first) {
    return repeatOutcome(**first);
  }
  if (!inbound.event) {
    return rejectMessage(inbound, inbound.event.error(), now);
  }

  counter_undo_.reset();
  auto decision = decideEvent(*inbound.event);
  if (!decision) {
    undoAllocation();
    return isStoreFault(decision.error()) ? Result<Outcome>(decision.takeError())
                                          : rejectMessage(inbound, decision.takeError(), now);
  }
  return writeDecision(inbound, *decision, now, guarded);
}

// A fault of the store (I/O, lock, a transaction SQLite ended by itself)
// fails the batch; any other error is about the message.
bool SqliteStore::isStoreFault(const Error& error) const {
  return error.code == ErrorCode::kUnavailable || !writer_->inTransaction();
}

// Keeps the original bytes and the reason. A rejection for what the
// message says (its bytes, its fields) is final: the inbound row makes a
// second delivery get the same rejection without a second dead letter. One
// that depends on the register or the configuration (an unknown licence, a
// transition the licence is not ready for, a sender not yet authorised)
// may succeed when the message comes again, so it is not recorded as the
// message's outcome; its dead letter replaces the one an earlier delivery
// left, so that a sender that keeps trying leaves one.
Result<Outcome> SqliteStore::rejectMessage(const Inbound& inbound, Error error,
                                           const std::string& now) {
  const bool identified = !inbound.sender_system.empty() && !inbound.message_id.empty();
  const bool final = isFinalRejection(error.code);
  if (!final) {
    auto forget =
        writer_->prepare("DELETE FROM dead_letters WHERE sender_system = ?1 AND message_id = ?2");
    if (!forget) {
      return forget.takeError();
    }
    forget->bind(1, inbound.sender_system).bind(2, inbound.message_id);
    LICGATE_RETURN_IF_ERROR(forget->run());
  }
  LICGATE_RETURN_IF_ERROR(insertDeadLetter(*writer_, inbound.sender_system, inbound.message_id,
                                           inbound.content_type, now, error.code, error.message,
                                           inbound.body));

  Outcome outcome;
  outcome.disposition = Disposition::kRejected;
  if (inbound.event) {
    outcome.licence_number = inbound.event->licence_number;
    outcome.annex_number = inbound.event->annex_number;
  }
  outcome.error = std::move(error);
  if (identified && final) {
    LICGATE_RETURN_IF_ERROR(recordInbound(inbound, outcome, now));
  }
  return outcome;
}

Status SqliteStore::recordInbound(const Inbound& inbound, const Outcome& outcome,
                                  const std::string& now) {
  auto query = writer_->prepare(
      "INSERT OR FAIL INTO inbound (sender_system, message_id, disposition, sequence, error_code, "
      "error_message, licence_number, annex_number, recorded_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  if (!query) {
    return query.takeError();
  }
  query->bind(1, inbound.sender_system).bind(2, inbound.message_id);
  query->bind(3, dispositionName(outcome.disposition));
  query->bind(4, static_cast<std::int64_t>(outcome.sequence));
  if (outcome.error) {
    query->bind(5, errorCodeName(outcome.error->code)).bind(6, outcome.error->message);
  }
  query->bind(7, outcome.licence_number).bind(8, outcome.annex_number).bind(9, now);
  return query->run();
}

// Every rule that can reject the event, in the order a sender would fix
// them: fields, then numbers, then the lifecycle. Writes nothing.
Result<SqliteStore::Decision> SqliteStore::decideEvent(Event event) {
  LICGATE_RETURN_IF_ERROR(validateEvent(event));
  Decision decision;
  if (event.type == EventType::kIssue) {
    auto number = allocateLicenceNumber(event);
    if (!number) {
      return number.takeError();
    }
    event.licence_number = std::move(*number);
  } else if (event.type != EventType::kRefuse) {
    auto loaded = loadLicence(*writer_, event.licence_number);
    if (!loaded) {
      return loaded.takeError();
    }
    decision.before = std::move(*loaded);
  }
  if (event.type == EventType::kAnnexIssue && decision.before) {
    auto number = nextAnnexNumber(*decision.before);
    if (!number) {
      return number.takeError();
    }
    event.annex_number = std::move(*number);
  }
  if (event.type != EventType::kRefuse) {
    auto after = applyEvent(decision.before, event);
    if (!after) {
      return after.takeError();
    }
    decision.after = std::move(*after);
  }

  decision.outcome.licence_number = event.licence_number;
  decision.outcome.annex_number = isAnnexEvent(event.type) ? event.annex_number : std::string();
  if (isImport(event.type) && decision.before && importChangesNothing(*decision.before, event)) {
    decision.outcome.disposition = Disposition::kUnchanged;
  } else {
    auto payload = encodeForJournal(event);
    if (!payload) {
      return payload.takeError();
    }
    decision.payload = std::move(*payload);
  }
  decision.event = std::move(event);
  return decision;
}

// Journal entry, licence state and inbound row of an accepted event. When
// guarded, in a savepoint, so that a write failing half-way leaves none of
// them and only this message is rejected.
Result<Outcome> SqliteStore::writeDecision(const Inbound& inbound, Decision& decision,
                                           const std::string& now, bool guarded) {
  if (!guarded) {
    Status written = writeEffects(inbound, decision, now);
    if (!written.ok()) {
      write_failed_midway_ = !isStoreFault(written.error());
      return written.takeError();
    }
    return std::move(decision.outcome);
  }

  LICGATE_RETURN_IF_ERROR(writer_->run("SAVEPOINT message"));
  Status written = writeEffects(inbound, decision, now);
  if (written.ok()) {
    LICGATE_RETURN_IF_ERROR(writer_->run("RELEASE message"));
    return std::move(decision.outcome);
  }
  Error error = written.takeError();
  if (isStoreFault(error)) {
    return error;
  }
  LICGATE_RETURN_IF_ERROR(writer_->run("ROLLBACK TO message"));
  LICGATE_RETURN_IF_ERROR(writer_->run("RELEASE message"));
  undoAllocation();
  return rejectMessage(inbound, std::move(error), now);
}

Status SqliteStore::writeEffects(const Inbound& inbound, Decision& decision,
                                 const std::string& now) {
  if (decision.outcome.disposition == Disposition::kApplied) {
    auto sequence = appendJournal(inbound, decision, now);
    if (!sequence) {
      return sequence.takeError();
    }
    decision.outcome.sequence = *sequence;
    if (decision.after) {
      if (!decision.before && decision.event.type != EventType::kIssue) {
        forgetFreeStems();
      }
      LICGATE_RETURN_IF_ERROR(saveLicence(decision.before, *decision.after, *sequence));
    }
  }
  return recordInbound(inbound, decision.outcome, now);
}

Result<std::uint64_t> SqliteStore::appendJournal(const Inbound& inbound, const Decision& decision,
                                                 const std::string& now) {
  const Event& event = decision.event;
  auto query = writer_->prepare(
      "INSERT OR FAIL INTO journal (type, licensor, licence_number, annex_number, sender_system, "
      "message_id, recorded_at, payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  if (!query) {
    return query.takeError();
  }
  query->bind(1, eventTypeName(event.type)).bind(2, event.licensor);
  query->bind(3, event.licence_number).bind(4, decision.outcome.annex_number);
  query->bind(5, inbound.sender_system).bind(6, inbound.message_id).bind(7, now);
  query->bindStatic(8, decision.payload);
  LICGATE_RETURN_IF_ERROR(query->run());
  return static_cast<std::uint64_t>(writer_->lastInsertRowid());
}

// Writes the licence row and only the annexes the event changed.
Status SqliteStore::saveLicence(const std::optional<Licence>& before, const Licence& after,
                                std::uint64_t sequence) {
  LICGATE_RETURN_IF_ERROR(saveLicenceRow(*writer_, after, sequence, before.has_value()));
  for (const Annex& annex : after.annexes) {
    if (!before || !containsAnnex(before->annexes, annex)) {
      LICGATE_RETURN_IF_ERROR(saveAnnexRow(*writer_, after.number, annex));
    }
  }
  return {};
}

Status SqliteStore::keepDeadLetters(std::span<const DeadLetter> letters) {
  if (letters.empty()) {
    return {};
  }
  std::lock_guard lock(write_mutex_);
  LICGATE_RETURN_IF_ERROR(beginBatch());
  const std::string now = formatTimestamp(std::chrono::system_clock::now());
  Status status;
  for (const DeadLetter& letter : letters) {
    status = insertDeadLetter(*writer_, letter.sender_system, letter.message_id,
                              letter.content_type, now, letter.code, letter.reason, letter.body);
    if (!status.ok()) {
      break;
    }
  }
  return endBatch(std::move(status), "dead letters could not be kept");
}

}  // namespace licgate::registry
