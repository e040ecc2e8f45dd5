// The read benchmarks' register (bench/register_seed.hpp).
#include "bench/register_seed.hpp"

#include <algorithm>
#include <chrono>
#include <span>

#include "bench/events.hpp"
#include "registry/store.hpp"

namespace licgate::bench {

namespace {

using registry::ErrorCode;
using registry::makeError;

// Events per store transaction, as the intake's max_batch would commit them.
constexpr std::size_t kBatch = 256;

registry::Inbound inboundOf(registry::Event event, std::size_t index) {
  return registry::Inbound{kBenchSystem, "seed-" + std::to_string(index), "application/json", "",
                           std::move(event)};
}

// Applies every event in batches and returns each one's outcome; a rejected
// event fails the whole seeding, since the benchmark reads what it wrote.
registry::Result<std::vector<registry::Outcome>> applyAll(registry::Store& store,
                                                          std::vector<registry::Inbound>& all) {
  std::vector<registry::Outcome> outcomes;
  outcomes.reserve(all.size());
  for (std::size_t start = 0; start < all.size(); start += kBatch) {
    std::size_t size = std::min(kBatch, all.size() - start);
    auto applied = store.applyBatch(std::span<const registry::Inbound>(all.data() + start, size));
    if (!applied) {
      return applied.takeError();
    }
    for (registry::Outcome& outcome : *applied) {
      if (outcome.disposition != registry::Disposition::kApplied) {
        return makeError(ErrorCode::kInternal,
                         "seeding the register: an event was not applied: " +
                             (outcome.error ? outcome.error->message : std::string("duplicate")));
      }
      outcomes.push_back(std::move(outcome));
    }
  }
  return outcomes;
}

registry::Event annexIssue(const std::string& number, std::size_t licence, std::size_t annex) {
  using std::chrono::day;
  using std::chrono::month;
  using std::chrono::year;
  registry::Event event;
  event.type = registry::EventType::kAnnexIssue;
  event.licensor = kBenchLicensor;
  event.occurred_on = registry::Date{year(2024), month(4), day(1)};
  event.licence_number = number;
  event.annex_name = "Котельная № " + std::to_string(annex + 1);
  event.annex_address =
      "Астана, улица Кенесары, " + std::to_string((licence * 7 + annex) % 300 + 1);
  return event;
}

}  // namespace

registry::Result<std::vector<std::string>> seedRegister(const std::string& path,
                                                        std::size_t licences,
                                                        std::size_t annexes_per_licence) {
  registry::StoreOptions options;
  options.path = path;
  // Nothing here needs to survive a power loss: the file lives for one run.
  options.synchronous_full = false;
  auto store = registry::openSqliteStore(options);
  if (!store) {
    return store.takeError();
  }

  std::vector<registry::Inbound> issues;
  issues.reserve(licences);
  for (registry::Event& event : makeIssueEvents(licences)) {
    issues.push_back(inboundOf(std::move(event), issues.size()));
  }
  auto issued = applyAll(**store, issues);
  if (!issued) {
    return issued.takeError();
  }
  std::vector<std::string> numbers;
  numbers.reserve(issued->size());
  for (const registry::Outcome& outcome : *issued) {
    numbers.push_back(outcome.licence_number);
  }

  std::vector<registry::Inbound> annexes;
  annexes.reserve(licences * annexes_per_licence);
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    for (std::size_t a = 0; a < annexes_per_licence; ++a) {
      annexes.push_back(inboundOf(annexIssue(numbers[i], i, a), licences + annexes.size()));
    }
  }
  auto annexed = applyAll(**store, annexes);
  if (!annexed) {
    return annexed.takeError();
  }
  return numbers;
}

}  // namespace licgate::bench
