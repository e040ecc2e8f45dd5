// The licensor's side of the conformity benchmark: one AMQP connection to
// licgate that sends conformity requests on conformity/requests and takes
// their outcomes on the licensor's outcome address, and times each round
// from its request's send to its outcome's arrival. Two ways to load:
// - closed loop (rate 0): at most `window` rounds open at once, a new one
//   sent as one ends, so the rate is what licgate keeps up with;
// - open loop (rate > 0): requests sent at `rounds_per_s`, whatever is open,
//   as licensors' systems send them. A round is timed from its request's
//   actual send; how late each send was against the schedule (the client's
//   timer is a millisecond, and licgate's credit may hold it back) is kept
//   apart.
//
// Qpid Proton C++; no Proton type appears here.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "registry/result.hpp"

namespace licgate::bench {

struct RoundLoadOptions {
  int port = 0;  // licgate's AMQP listener on 127.0.0.1
  std::string system;
  std::string outcome_address;
  std::size_t window = 64;  // rounds open at once (closed loop)
  double rounds_per_s = 0;  // > 0: the open loop's rate
  std::chrono::seconds timeout{600};
  const std::atomic<bool>* interrupted = nullptr;
};

struct RoundRequest {
  std::string application_id;
  std::string body;  // the request's JSON
};

struct RoundLoadResult {
  std::uint64_t sent = 0;
  std::uint64_t rejected = 0;  // requests licgate refused
  std::uint64_t outcomes = 0;  // distinct applications whose outcome came
  std::uint64_t repeated_outcomes = 0;
  double elapsed_s = 0;             // first send to last outcome
  std::vector<double> latency_ms;   // request to outcome, one per round
  std::vector<double> send_lag_ms;  // open loop: each send after its due time
  bool timed_out = false;
  std::string transport_error;
  std::string first_rejection;
};

// Sends every request and returns when each round's outcome came, the
// timeout passes or the connection fails. Blocks; runs its own Proton
// container on the calling thread.
registry::Result<RoundLoadResult> runRounds(const RoundLoadOptions& options,
                                            const std::vector<RoundRequest>& requests);

}  // namespace licgate::bench
