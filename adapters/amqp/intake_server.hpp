// The AMQP 1.0 intake: licgate listens for connections itself (no broker on
// one machine) and takes deliveries on configured addresses.
//
// Flow control and memory: each incoming link gets `credit_window` credit
// and is topped up only as its deliveries are settled, so at most
// credit_window deliveries per link (and max_in_flight overall) are in
// memory whatever the sender does (AMQP 1.0 section 2.6.7). A delivery over
// max_message_bytes is rejected with amqp:link:message-size-exceeded (and
// handed to the processor without its body, to be kept as a dead letter).
//
// Settlement: deliveries are handed to the processor in batches, in two
// stages on two worker threads (StagedProcessor); each is settled only after
// the processor returns its outcome, which for licence events means after
// the store's commit (accepted when applied or already applied, rejected
// with an AMQP error condition and a description when invalid, released
// when licgate could not decide).
//
// No Proton type appears here: the gateway sees plain structs.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "adapters/amqp/outbound.hpp"
#include "registry/result.hpp"

namespace licgate::adapters::amqp {

struct IntakeOptions {
  std::string host = "127.0.0.1";
  int port = 5672;  // 0: any free port (tests); see boundPort()
  std::string container_id = "licgate";
  int credit_window = 500;  // per incoming link
  std::size_t max_message_bytes = 1 << 20;
  std::size_t max_batch = 256;  // deliveries handed to the processor at once
  // Deliveries held at once over all links: each link's window is taken out
  // of this budget, and a link that finds none left is refused with
  // amqp:resource-limit-exceeded. Message bodies held for the worker stay
  // under max_in_flight * max_message_bytes.
  std::size_t max_in_flight = 4000;
  std::vector<std::string> addresses = {"licences/events"};
  // A message sent with sendOnAttached() and not settled this long after
  // it was handed over is reported kFailed.
  std::chrono::milliseconds settle_timeout{10'000};
};

struct Delivery {
  std::string address;     // target address of the link
  std::string message_id;  // AMQP message-id as text
  std::string correlation_id;
  std::string reply_to;
  std::string content_type;
  std::string sender_system;  // application property "system", else user-id
  std::string body;           // bytes of the data/value section
  // Set when the intake refused the message itself: its body is over
  // max_message_bytes (the body is then dropped, since keeping it would
  // defeat the limit) or is not a data section or string value. It still
  // goes to the processor, so that it can be kept as a dead letter; its
  // verdict is a rejection with this error whatever the processor answers,
  // unless the processor releases it or answers "duplicate" (a message of
  // this id was applied before).
  std::optional<registry::Error> refused;
};

enum class Settle : std::uint8_t { kAccept, kReject, kRelease };

struct Verdict {
  Settle settle = Settle::kAccept;
  std::string condition;    // AMQP error condition for kReject, e.g. "amqp:decode-error"
  std::string description;  // names what was wrong
  // The outcome message sent to reply-to (when set), application properties
  // "outcome" = disposition name and "error" = error code name.
  std::string outcome;
  std::string error_code;
  std::string licence_number;
};

// Called on the intake's commit thread with up to max_batch deliveries; must
// return one verdict per delivery, in order. Blocking is expected (it
// commits to the store). Exceptions are caught and release the batch.
using BatchProcessor = std::function<std::vector<Verdict>(const std::vector<Delivery>&)>;

// What the first stage of a StagedProcessor hands to its second; each
// processor derives its own.
class PreparedBatch {
 public:
  virtual ~PreparedBatch() = default;
};

// A batch processor in two stages that run on two threads, so that while
// one batch is in its second stage (for licence events, the store's
// transaction and commit) the next is already in its first (decoding, the
// Redis look-up). At most one batch is prepared ahead of the one being
// committed: the prepare thread takes its next batch from the queue only
// once the commit thread has taken the last one, so a batch holds whatever
// arrived meanwhile (up to max_batch).
//
// `prepare` runs on the prepare thread; `commit` on the commit thread gets
// the batches in the order they were prepared, each with what `prepare`
// returned for it (which may be null) and the same deliveries. `commit` must
// return one verdict per delivery, in order. Both may block. An exception
// from either, or a wrong number of verdicts, releases the batch.
struct StagedProcessor {
  std::function<std::unique_ptr<PreparedBatch>(const std::vector<Delivery>&)> prepare;
  std::function<std::vector<Verdict>(PreparedBatch*, const std::vector<Delivery>&)> commit;
};

struct IntakeStats {
  std::uint64_t received = 0;
  std::uint64_t accepted = 0;
  std::uint64_t rejected = 0;
  std::uint64_t released = 0;
  std::uint64_t replies_sent = 0;
  std::uint64_t replies_unroutable = 0;  // reply-to named no open link
  std::uint64_t in_flight = 0;           // received, not settled yet
  std::uint64_t in_flight_peak = 0;      // the most in_flight has been since start
  std::uint64_t connections = 0;
  std::uint64_t loop_restarts = 0;  // the event loop failed and was started again
};

class IntakeServer {
 public:
  virtual ~IntakeServer() = default;

  // Starts listening and returns once the listener is bound. Errors:
  // kUnavailable naming the address when the port cannot be bound;
  // kInternal after stop() (a stopped intake does not start again).
  virtual registry::Status start() = 0;

  // The port actually bound (useful with port 0).
  virtual int boundPort() const = 0;

  // Stops accepting, releases unsettled deliveries (their senders may send
  // them again), closes connections and joins the threads. Idempotent.
  virtual void stop() = 0;

  virtual IntakeStats stats() const = 0;

  // Sends `message` on a link that a peer attached to licgate's listener
  // to receive from `address` (the links outcome messages go out on; one
  // with credit, on any connection). It goes unsettled and `done` is called
  // once, on the event loop, with the receiver's outcome, or kFailed: at
  // once when no such link is open or none has credit ("no link attached
  // to receive from 'X'"), when the link or its connection closes first
  // ("... closed before settlement"), when IntakeOptions::settle_timeout
  // passes, when the intake is not running or stops. Thread-safe and
  // non-blocking.
  virtual void sendOnAttached(const std::string& address, OutboundMessage message,
                              SendCallback done) = 0;
};

std::unique_ptr<IntakeServer> makeIntakeServer(IntakeOptions options, StagedProcessor processor);

// A processor with nothing to prepare: all of it runs as the commit stage.
std::unique_ptr<IntakeServer> makeIntakeServer(IntakeOptions options, BatchProcessor processor);

}  // namespace licgate::adapters::amqp
