// SOAP load for the read benchmark: GetLicence calls (SOAP 1.1, docs/soap.md)
// on keep-alive HTTP/1.1 connections, closed loop, with every answer checked.
//
// Boost.Beast and Asio do the HTTP; no Beast type appears here.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "registry/result.hpp"

namespace licgate::bench {

struct SoapLoadOptions {
  int port = 0;  // on 127.0.0.1
  int connections = 50;
  // The load runs warm-up then measure; only answers that arrive in the
  // measured phase count, and nothing new is sent after it.
  std::chrono::milliseconds warmup{5000};
  std::chrono::milliseconds measure{5000};
  // One call may take this long before the run fails.
  std::chrono::milliseconds request_timeout{10'000};
  // Checked every few milliseconds: when true the load stops and fails.
  const std::atomic<bool>* interrupted = nullptr;
};

struct SoapLoadResult {
  std::uint64_t answered = 0;      // checked answers in the measured phase
  std::uint64_t warmup_calls = 0;  // checked answers before it
  double elapsed_s = 0;            // the measured phase's length
  std::vector<double> latency_ms;  // send to last byte of the answer, measured phase
  std::uint64_t reconnects = 0;    // connections the server closed and the load reopened
};

// The body of GetLicence for `number`, as a SOAP 1.1 envelope.
std::string getLicenceEnvelope(const std::string& number);

// Runs the load: `connections` connections, each sending its next call as
// soon as the answer to the previous one has arrived. Connection c calls
// numbers[c], numbers[c + connections], ... and wraps around. Every answer
// must be HTTP 200 and hold <found>true</found> (any prefix) and its
// licence's number. Blocks; runs one Asio loop on the calling thread, so
// the load costs one core at most. Errors: kUnavailable when a connection
// cannot be made or breaks or a call times out; kInternal naming the number
// when an answer is wrong; kUnavailable when interrupted.
registry::Result<SoapLoadResult> runSoapLoad(const SoapLoadOptions& options,
                                             const std::vector<std::string>& numbers);

}  // namespace licgate::bench
