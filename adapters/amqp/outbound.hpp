// Messages licgate sends and wants to know the fate of: conformity queries
// to interested bodies and outcomes to licensors (docs/conformity.md), over
// AMQP 1.0, either to another system's peer (AmqpOutbound, licgate as the
// client) or on a link that the other system attached to licgate's own
// listener (IntakeServer::sendOnAttached).
//
// Every message is sent unsettled and its settlement reported once
// (AMQP 1.0 section 3.4): accepted, rejected, released or modified as the
// receiver said, or kFailed when no settlement came (the connection failed,
// the link could not be opened, no settlement within the timeout, no link
// with credit). The caller decides what each means; licgate retries all but
// rejected.
//
// No Proton type appears here.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "registry/result.hpp"

namespace licgate::adapters::amqp {

struct OutboundMessage {
  std::string message_id;  // sent as an AMQP string
  std::string subject;
  std::string content_type;
  std::string body;                               // one data section
  std::map<std::string, std::string> properties;  // application properties, as strings
};

enum class SendOutcome : std::uint8_t { kAccepted, kRejected, kReleased, kModified, kFailed };

const char* sendOutcomeName(SendOutcome outcome);  // "accepted", ..., "failed"

struct SendReceipt {
  SendOutcome outcome = SendOutcome::kFailed;
  // kRejected: the receiver's error condition and description; kFailed:
  // what failed, naming the peer and address ("connection to
  // amqp://127.0.0.1:5800 refused", "no settlement within 10000 ms").
  std::string description;
};

// Called exactly once per message, on the sender's event-loop thread; or,
// for a message that fails at once, on the caller's thread before send()
// returns; or on the thread calling stop(). It must not block (hand the
// receipt to a queue) and may call send() again.
using SendCallback = std::function<void(const SendReceipt&)>;

struct OutboundOptions {
  std::string container_id = "licgate-outbound";
  // A message not settled this long after it was handed over is reported
  // kFailed (its delivery may still arrive: sending is at least once).
  std::chrono::milliseconds settle_timeout{10'000};
  // A peer that cannot be reached is not dialled again before this pause;
  // messages for it meanwhile fail at once.
  std::chrono::milliseconds reconnect_pause{1'000};
};

// Connections from licgate to other systems' AMQP peers, one per peer URL,
// opened on first use and again after a failure; one sending link per
// address on it. Messages wait for link credit in order, within the
// settlement timeout.
class AmqpOutbound {
 public:
  virtual ~AmqpOutbound() = default;

  // Starts the event-loop thread. kInternal after stop().
  virtual registry::Status start() = 0;

  // Reports every message not settled yet as kFailed ("licgate is
  // stopping"), closes the connections (waiting up to two seconds for
  // peers to answer the close) and joins the thread. Idempotent. Not from
  // a SendCallback, which runs on the thread this joins.
  virtual void stop() = 0;

  // Sends `message` to `address` at the peer `url` ("amqp://host:port").
  // Thread-safe and non-blocking; `done` is called once, later (or at once,
  // kFailed, when the outbound is not started or stopped, or the URL does
  // not parse). kFailed descriptions: "connection to URL failed: ...",
  // "... closed before settlement: ...", "no settlement within N ms",
  // "licgate is stopping".
  virtual void send(const std::string& url, const std::string& address, OutboundMessage message,
                    SendCallback done) = 0;

  // Messages handed over and not yet reported (for stats).
  virtual std::uint64_t inFlight() const = 0;
};

std::unique_ptr<AmqpOutbound> makeAmqpOutbound(OutboundOptions options = {});

}  // namespace licgate::adapters::amqp
