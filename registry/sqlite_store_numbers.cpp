// Licence numbers of the SQLite registry store: per-year counters in the
// `sequences` table, advanced inside the batch that records the issues.
#include <string>

#include "registry/numbering.hpp"
#include "registry/sqlite_store.hpp"

namespace licgate::registry {

namespace {

// Both kinds of number the register gives end in the sequence as six
// digits (registry/numbering.hpp: YYNNNNNN, GGGCCYYSSSNNNNNN).
constexpr std::size_t kSequenceDigits = 6;

}  // namespace

// Numbers restart each year (the year of the act) and skip any number a
// legacy import already holds, so an issue never collides with history.
Result<std::string> SqliteStore::allocateLicenceNumber(const Event& event) {
  int year = static_cast<int>(event.occurred_on.year());
  bool activity = event.number_kind == NumberKind::kActivity;
  std::string scope = (activity ? "activity:" : "export-import:") + std::to_string(year);
  std::uint32_t max = activity ? kMaxActivitySequence : kMaxExportImportSequence;
  while (true) {
    auto sequence = nextSequence(scope, max);
    if (!sequence) {
      return sequence.takeError();
    }
    std::string number = activity ? formatActivityNumber(year, *sequence)
                                  : formatExportImportNumber(event.goods_list, options_.country,
                                                             year, event.seal_code, *sequence);
    auto held = isNumberHeld(number);
    if (!held) {
      return held.takeError();
    }
    if (!*held) {
      return number;
    }
  }
}

// The counter is read from the file at its first use in a batch: the batch
// holds the write lock, so no other writer can move it until COMMIT.
Result<std::uint32_t> SqliteStore::nextSequence(const std::string& scope, std::uint32_t max) {
  auto found = counters_.find(scope);
  if (found == counters_.end()) {
    auto query = writer_->prepare("SELECT last FROM sequences WHERE scope = ?1");
    if (!query) {
      return query.takeError();
    }
    query->bind(1, scope);
    auto row = query->step();
    if (!row) {
      return row.takeError();
    }
    Counter counter{*row ? static_cast<std::uint32_t>(query->integer(0)) : 0, false};
    found = counters_.emplace(scope, counter).first;
  }

  Counter& counter = found->second;
  if (counter.last >= max) {
    return makeError(ErrorCode::kConflict, "issue: the numbers of " + scope + " have run out (" +
                                               std::to_string(max) + " given)");
  }
  if (!counter_undo_) {
    counter_undo_.emplace(scope, counter);
  }
  ++counter.last;
  counter.dirty = true;
  return counter.last;
}

// A number the counter gives can be held only by a licence imported with
// it: the counter never goes back past a number it gave. Looking each number
// up cost as much as a row write, so the batch asks once per stem (the
// number without its sequence digits) whether any licence holds a number
// from this one to the stem's last; only when one does is each number
// looked up. Every number of a stem has the same length and ends in the
// zero-padded sequence, so text order is sequence order; a held text in the
// range that is not such a number (a longer legacy number) only costs the
// look-ups.
Result<bool> SqliteStore::isNumberHeld(const std::string& number) {
  std::string_view stem(number.data(), number.size() - kSequenceDigits);
  if (free_stems_.contains(stem)) {
    return false;
  }
  auto range =
      writer_->prepare("SELECT 1 FROM licences WHERE number >= ?1 AND number <= ?2 LIMIT 1");
  if (!range) {
    return range.takeError();
  }
  std::string last = std::string(stem) + std::string(kSequenceDigits, '9');
  range->bind(1, number).bind(2, last);
  auto any_held = range->step();
  if (!any_held) {
    return any_held.takeError();
  }
  if (!*any_held) {
    free_stems_.emplace(stem);
    return false;
  }

  auto query = writer_->prepare("SELECT 1 FROM licences WHERE number = ?1");
  if (!query) {
    return query.takeError();
  }
  query->bind(1, number);
  return query->step();
}

void SqliteStore::forgetFreeStems() {
  free_stems_.clear();
}

// A rejected issue gives its number back, so numbers have no gaps.
void SqliteStore::undoAllocation() {
  if (counter_undo_) {
    counters_[counter_undo_->first] = counter_undo_->second;
    counter_undo_.reset();
  }
}

Status SqliteStore::flushCounters() {
  for (const auto& [scope, counter] : counters_) {
    if (!counter.dirty) {
      continue;
    }
    auto query = writer_->prepare(
        "INSERT INTO sequences (scope, last) VALUES (?1, ?2) "
        "ON CONFLICT (scope) DO UPDATE SET last = excluded.last");
    if (!query) {
      return query.takeError();
    }
    query->bind(1, scope).bind(2, std::int64_t{counter.last});
    LICGATE_RETURN_IF_ERROR(query->run());
  }
  return {};
}

}  // namespace licgate::registry
