// The registry store's shared parts: disposition names, the one-message
// convenience, and the factory of the SQLite store.
#include "registry/store.hpp"

#include "registry/sqlite_store.hpp"

namespace licgate::registry {

std::string_view dispositionName(Disposition disposition) {
  switch (disposition) {
    case Disposition::kApplied:
      return "applied";
    case Disposition::kDuplicate:
      return "duplicate";
    case Disposition::kUnchanged:
      return "unchanged";
    case Disposition::kRejected:
      return "rejected";
  }
  return "unknown";
}

Result<Outcome> Store::apply(const Inbound& inbound) {
  auto outcomes = applyBatch(std::span<const Inbound>(&inbound, 1));
  if (!outcomes) {
    return outcomes.takeError();
  }
  return std::move(outcomes->front());
}

Result<std::unique_ptr<Store>> openSqliteStore(const StoreOptions& options) {
  return SqliteStore::open(options);
}

}  // namespace licgate::registry
