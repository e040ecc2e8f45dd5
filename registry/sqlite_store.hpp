// The SQLite implementation of the registry store (registry/store.hpp).
//
// The writer connection, used under write_mutex_ for batches, and read
// connections lent one per lookup (registry/sqlite_readers.hpp), so that
// lookups on different threads run at once. In WAL mode a reader sees the
// last commit and is never blocked by a batch being written.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "registry/sqlite_connection.hpp"
#include "registry/sqlite_readers.hpp"
#include "registry/store.hpp"

namespace licgate::registry {

class SqliteStore final : public Store {
 public:
  static Result<std::unique_ptr<Store>> open(const StoreOptions& options);

  Result<std::vector<Outcome>> applyBatch(std::span<const Inbound> batch) override;
  Result<Licence> findLicence(const std::string& number) override;
  Result<std::vector<JournalEntry>> history(const std::string& number) override;
  Result<LicencePage> searchLicences(const LicenceQuery& query) override;
  Result<std::vector<JournalEntry>> changesAfter(std::uint64_t after, int limit) override;
  Result<std::vector<DeadLetter>> deadLetters(std::int64_t after_id, int limit) override;
  Result<StoreCounts> counts() override;
  Result<std::string> incarnation() override;
  Result<std::string> renewIncarnation() override;
  Result<std::optional<Outcome>> findInbound(const std::string& sender_system,
                                             const std::string& message_id) override;
  Status keepConformityOutcomes(std::span<const ConformityOutcome> outcomes) override;
  Status keepLateConclusions(std::span<const LateConclusion> late) override;
  Status keepDeadLetters(std::span<const DeadLetter> letters) override;
  Result<std::optional<ConformityOutcome>> findConformityOutcome(
      const std::string& application_id) override;
  Result<std::optional<ConformityOutcome>> findConformityOutcomeOfQuery(
      const std::string& query_id) override;

 private:
  SqliteStore(StoreOptions options, std::unique_ptr<SqliteConnection> writer,
              std::unique_ptr<SqliteConnection> reader);

  // The decision about one event, taken before anything of it is written:
  // every rule that can reject it has been checked.
  struct Decision {
    Event event;  // with the numbers the register gave
    std::optional<Licence> before;
    std::optional<Licence> after;  // empty for a refusal
    std::string payload;           // the journal's canonical JSON
    Outcome outcome;
  };

  // A number counter of the open batch (sqlite_store_numbers.cpp).
  struct Counter {
    std::uint32_t last = 0;
    bool dirty = false;
  };

  // Write path (sqlite_store_write.cpp). Each returns an error only for a
  // fault of the store, which fails the whole batch; a rejected message is an
  // Outcome.
  Result<std::vector<Outcome>> runBatch(std::span<const Inbound> batch, bool guarded);
  Status beginBatch();
  // Commits a batch whose writes gave `status`, or rolls it back; a
  // failure is kUnavailable, its message led by `what` ("conformity
  // outcomes could not be kept: ...").
  Status endBatch(Status status, std::string_view what);
  Result<Outcome> applyMessage(const Inbound& inbound, const std::string& now, bool guarded);
  bool isStoreFault(const Error& error) const;
  Result<Outcome> rejectMessage(const Inbound& inbound, Error error, const std::string& now);
  Status recordInbound(const Inbound& inbound, const Outcome& outcome, const std::string& now);
  Result<Decision> decideEvent(Event event);
  Result<Outcome> writeDecision(const Inbound& inbound, Decision& decision, const std::string& now,
                                bool guarded);
  Status writeEffects(const Inbound& inbound, Decision& decision, const std::string& now);
  Result<std::uint64_t> appendJournal(const Inbound& inbound, const Decision& decision,
                                      const std::string& now);
  Status saveLicence(const std::optional<Licence>& before, const Licence& after,
                     std::uint64_t sequence);

  // Numbers (sqlite_store_numbers.cpp). Counters are read once per batch
  // under the write lock, advanced in memory and written back just before
  // COMMIT, so a batch of issues costs one counter write, not one per issue.
  Result<std::string> allocateLicenceNumber(const Event& event);
  Result<std::uint32_t> nextSequence(const std::string& scope, std::uint32_t max);
  Result<bool> isNumberHeld(const std::string& number);
  // A licence row not written by an issue (an import) may hold a number the
  // counter will give, so what the batch knew about free stems is dropped.
  void forgetFreeStems();
  void undoAllocation();
  Status flushCounters();

  StoreOptions options_;
  std::mutex write_mutex_;
  std::unique_ptr<SqliteConnection> writer_;
  std::map<std::string, Counter, std::less<>> counters_;         // of the open batch
  std::optional<std::pair<std::string, Counter>> counter_undo_;  // of the open message
  // Stems with no licence at or above the counter, known in the open batch
  // (sqlite_store_numbers.cpp).
  std::set<std::string, std::less<>> free_stems_;
  bool write_failed_midway_ = false;  // the batch must run again, guarded
  SqliteReaders readers_;
};

}  // namespace licgate::registry
