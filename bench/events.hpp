// Licence events for the benchmarks: issue events for distinct holders,
// each with its own message id, as canonical JSON (docs/event-format.md).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "bench/amqp_load.hpp"
#include "registry/event.hpp"

namespace licgate::bench {

// The licensor the events are for and the system that sends them; the
// benchmark's licgate configuration allows exactly this pair.
inline constexpr const char* kBenchLicensor = "KZ-BENCH";
inline constexpr const char* kBenchSystem = "bench-sender";

// `count` issue events, each for a different KZ BIN with a valid check
// digit, message ids "bench-<pid>-<n>". Built before any clock starts, so
// encoding costs are not measured.
std::vector<LoadMessage> makeIssueMessages(std::size_t count);

// The same `count` issue events as register values, for benchmarks that
// write them with the store's API instead of sending them.
std::vector<registry::Event> makeIssueEvents(std::size_t count);

}  // namespace licgate::bench
