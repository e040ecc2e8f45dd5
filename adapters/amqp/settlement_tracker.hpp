// The messages licgate sent unsettled on the links of one connection and
// is waiting to hear the fate of (AMQP 1.0 section 3.4): the one place that
// turns a receiver's disposition into a SendReceipt, for the outbound
// connections (outbound.cpp) and the links peers attach to licgate's
// listener (intake_loop.cpp).
//
// Threads: every call on the thread that runs the connection; callbacks
// are called there too.
//
// Internal to adapters/amqp: Proton types appear here.
#pragma once

#include <proton/message.hpp>
#include <proton/sender.hpp>
#include <proton/tracker.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>

#include "adapters/amqp/outbound.hpp"

struct pn_link_t;

namespace licgate::adapters::amqp {

using SteadyClock = std::chrono::steady_clock;

// Calls `done` with `receipt`; what a callback throws is logged, not
// passed on, since callbacks run inside a Proton handler.
void report(SendCallback& done, const SendReceipt& receipt);

// How often expire() runs: often enough that a timeout is reported within
// a tenth of it, seldom enough to cost nothing while messages flow, and at
// most 100 ms, since a stopping container waits for its pending timer
// (Proton 0.37 cannot cancel one).
std::chrono::milliseconds expiryTick(std::chrono::milliseconds timeout);

// A message handed over to the event loop and not yet sent. When the job
// that holds it is dropped without running (the container stopped first),
// the destructor reports it kFailed, so that `done` is still called once.
struct HandedOver {
  HandedOver(OutboundMessage message, SendCallback done, SteadyClock::time_point deadline)
      : message(std::move(message)), done(std::move(done)), deadline(deadline) {}
  ~HandedOver();
  HandedOver(const HandedOver&) = delete;
  HandedOver& operator=(const HandedOver&) = delete;

  // Reports kFailed with `description` unless reported already.
  void fail(const std::string& description);

  OutboundMessage message;
  SendCallback done;  // empty once taken or reported
  SteadyClock::time_point deadline;
};

class SettlementTracker {
 public:
  SettlementTracker() = default;
  ~SettlementTracker();

  SettlementTracker(const SettlementTracker&) = delete;
  SettlementTracker& operator=(const SettlementTracker&) = delete;

  // Sends the message unsettled on `sender` (which must have credit) and
  // takes over its callback, which then gets the settlement, or kFailed
  // once the deadline passes. A message Proton cannot send is reported
  // kFailed at once.
  void send(proton::sender& sender, HandedOver& handed);

  // From the on_tracker_* handlers: reports the receiver's outcome once it
  // has given one; later events of the same delivery are ignored.
  void onDisposition(proton::tracker& tracker);

  // The link (or everything) can no longer be settled: its messages are
  // reported kFailed with `description`.
  void failLink(pn_link_t* link, const std::string& description);
  void failAll(const std::string& description);

  // Reports kFailed ("no settlement within N ms") every message whose
  // deadline is at or before `now`, and settles it locally so that Proton
  // does not hold it for a receiver that never answers.
  void expire(SteadyClock::time_point now, std::chrono::milliseconds timeout);

  bool empty() const { return sent_.empty(); }
  std::size_t size() const { return sent_.size(); }

 private:
  struct Sent {
    proton::tracker tracker;
    SendCallback done;
    SteadyClock::time_point deadline;
    pn_link_t* link = nullptr;
  };

  void finish(std::unordered_map<std::uint64_t, Sent>::iterator sent, const SendReceipt& receipt);

  std::unordered_map<std::uint64_t, Sent> sent_;  // by delivery tag
  // Per link, tags in the order sent: the deadlines of one link come in
  // that order, so expire() looks only at the front of each.
  std::unordered_map<pn_link_t*, std::deque<std::uint64_t>> order_;
  std::uint64_t next_tag_ = 1;
};

}  // namespace licgate::adapters::amqp
