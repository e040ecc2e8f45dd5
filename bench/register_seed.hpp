// A register for the read benchmarks: licences with annexes, written into a
// fresh SQLite file through the register's own store API before any clock
// starts, so that its rows are exactly the ones licgate writes.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "registry/result.hpp"

namespace licgate::bench {

// Creates the store at `path` and applies `licences` issue events for the
// benchmark's licensor (bench/events.hpp), then `annexes_per_licence`
// annex-issue events for each, in store transactions of a few hundred
// events; the store is closed again on return. Returns the licence numbers
// the register gave, in issue order. Blocks. Errors: kUnavailable when the
// store cannot be opened or a batch not committed; kInternal when the
// register rejects one of the events (which would mean the events are wrong).
registry::Result<std::vector<std::string>> seedRegister(const std::string& path,
                                                        std::size_t licences,
                                                        std::size_t annexes_per_licence);

}  // namespace licgate::bench
