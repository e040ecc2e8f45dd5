// AMQP 1.0 load for the intake benchmark: a sender that keeps a bounded
// window of unsettled deliveries and times each from send to settlement,
// and a bare receiver that accepts everything and does nothing, the
// reference for what the transport alone can carry.
//
// Both use Qpid Proton C++; no Proton type appears here.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "registry/result.hpp"

namespace licgate::bench {

struct LoadMessage {
  std::string message_id;
  std::string body;
};

struct LoadOptions {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string address = "licences/events";
  std::string content_type = "application/json";
  std::string system;  // application property "system": the sending system
  // Unsettled deliveries allowed at once. The sender waits for settlements
  // beyond that, as an at-least-once sender must to bound what it would
  // resend after a failure.
  std::size_t window = 1000;
  std::chrono::seconds timeout{600};
  // Checked with the timeout: when it becomes true the load stops early,
  // as if timed out (set from a signal handler on Ctrl-C).
  const std::atomic<bool>* interrupted = nullptr;
};

struct LoadResult {
  std::uint64_t sent = 0;
  std::uint64_t accepted = 0;
  std::uint64_t rejected = 0;
  std::uint64_t released = 0;      // released or modified: the receiver did not take it
  double elapsed_s = 0;            // first send to last settlement
  std::vector<double> latency_ms;  // send to settlement, one per settled delivery
  bool timed_out = false;
  std::string transport_error;  // set when the connection failed
};

// Sends every message on one connection and link, each with message-id,
// content-type and the "system" property, the body as one data section
// (AMQP 1.0 section 3.2.6), and returns when all are settled, the timeout
// passes or the connection fails. Blocks; runs its own Proton container on
// the calling thread. Errors: kUnavailable when the container cannot run.
registry::Result<LoadResult> sendLoad(const LoadOptions& options,
                                      const std::vector<LoadMessage>& messages);

// A receiver that listens on 127.0.0.1, grants `credit_window` credit per
// link and accepts each delivery as it arrives, on its own container thread.
class BareReceiver {
 public:
  virtual ~BareReceiver() = default;
  virtual int port() const = 0;
  virtual std::uint64_t received() const = 0;
  // Closes the listener and joins the thread. Idempotent.
  virtual void stop() = 0;
};

// Returns once the listener is bound (port 0: any free port). Errors:
// kUnavailable when it cannot listen.
registry::Result<std::unique_ptr<BareReceiver>> startBareReceiver(int credit_window);

// The q-th quantile (0..1) of `values`, nearest rank; 0 for none. Sorts.
double quantile(std::vector<double>& values, double q);

}  // namespace licgate::bench
