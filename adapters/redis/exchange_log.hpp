// What licgate remembers of the messages it exchanges over the
// e-government gateway's asynchronous channel, in Redis: which chain
// (correlationId) each message belongs to, licgate's own id for it, what
// became of it; and the outbox of the messages licgate sends.
//
// Keys, under the prefix the gateway gives (the register's incarnation, as
// for the duplicate check: a fresh register, or another one sharing the
// Redis, is never answered for with what it did not see):
//   "<prefix>shep:received:<n>:<sender>:<message id>" (n: the sender's
//       length in bytes, so that colons in names cannot make two pairs one
//       key)  a hash of a received
//       message's ExchangeRecord fields; a message is the sender's id, as
//       the register's inbound record keys it;
//   "<prefix>shep:sent:<message id>"  the same for a message licgate sent,
//       under the id the gateway gave it, with the last status the gateway
//       notified for it;
//   "<prefix>shep:chain:<correlation id>"  a hash:
//       "received:<n>:<sender>:<id>" or "sent:<id>" -> licgate's id, for
//       each message of the chain;
//   "<prefix>shep:outbox"  a sorted set of licgate ids, scored by when each
//       is next due (milliseconds since the epoch);
//   "<prefix>shep:out:<licgate id>"  a hash: the answer to send, its chain,
//       service, type and date, attempts so far, the last error;
//   "<prefix>shep:failed:<licgate id>"  that hash, once licgate gave up on
//       the message (for the operator).
// Each expires `ttl_ms` after it was last written: a chain is known for that
// long after its last message, a message that long after its last status.
// The register stays the durable record of what a message changed; these
// keys are the correlation around it.
//
// A message is claimed for a lease: its score moves to the lease's end, so
// that neither another licgate process sharing the Redis nor this one sends
// it again meanwhile, and a process that dies mid-send leaves it due again
// when the lease ends. Sending is therefore at least once.
//
// Blocking: every call waits for Redis (RedisOptions::timeout_ms); when
// Redis is unreachable calls return kUnavailable. Thread-safe: one
// connection guarded by a mutex.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "adapters/redis/seen_ids.hpp"
#include "registry/result.hpp"

namespace licgate::adapters::redis {

// What a received message's outcome is while its effect is being decided.
inline constexpr std::string_view kOutcomePending = "pending";

struct ExchangeRecord {
  std::string message_id;      // the gateway's id of the message
  std::string correlation_id;  // its chain
  std::string licgate_id;      // licgate's id for it (logs, X-Correlation-Id)
  std::string direction;       // "received" or "sent"
  std::string sender;          // the gateway's senderId (received messages)
  std::string service_id;
  std::string message_type;  // REQUEST, NOTIFICATION, UPDATE, RESPONSE
  std::string outcome;       // pending, applied, answered, an error code, sent
  // The last status notified for a message licgate sent (empty before any).
  std::string state;
  std::string status_code;
  std::string status_date;
};

// A status notification of the gateway, for noteStatus.
struct StatusNote {
  std::string notification_id;
  std::string state;
  std::string status_code;
  std::string status_message;
  std::string status_date;
  std::string error_code;
  std::int64_t notified_ms = 0;  // the notification's date, to order notifications
};

enum class StatusNoted : std::uint8_t {
  kNoted,    // now the message's last status
  kStale,    // older than the one kept, or a delivery in progress after a final state
  kUnknown,  // no message of that id was sent by licgate
};

// A message licgate sends through the gateway. The envelope is written when
// it is sent, so that the gateway's password never rests in Redis.
struct OutboundMessage {
  std::string licgate_id;
  std::string answer;  // licgate's operation's answer, a SOAP envelope
  std::string correlation_id;
  std::string service_id;
  std::string message_type;
  std::string message_date;
  std::int64_t attempts = 0;  // made so far, the claimed one included
  std::string last_error;
};

class ExchangeLog {
 public:
  virtual ~ExchangeLog() = default;

  // Records a received message and adds it to its chain, atomically (one
  // script), and renews both keys' expiry. The first record of a (sender,
  // message id) stands: recording it again (the gateway delivers a message
  // again when it did not see the acknowledgement) only renews the expiry
  // and returns the record kept; nullopt when this one is the first.
  virtual registry::Result<std::optional<ExchangeRecord>> record(const ExchangeRecord& record) = 0;

  // Sets the outcome of a received message recorded before.
  virtual registry::Status setOutcome(const std::string& sender, const std::string& message_id,
                                      const std::string& outcome) = 0;

  // The record of a received message, or of one licgate sent; nullopt when
  // Redis has none.
  virtual registry::Result<std::optional<ExchangeRecord>> findReceived(
      const std::string& sender, const std::string& message_id) = 0;
  virtual registry::Result<std::optional<ExchangeRecord>> findSent(
      const std::string& message_id) = 0;

  // How many messages Redis knows of the chain (0: an unknown chain).
  virtual registry::Result<std::int64_t> chainLength(const std::string& correlation_id) = 0;

  // Keeps a status of a message licgate sent, atomically with the checks
  // that it is one and that the status is not older than the one kept.
  virtual registry::Result<StatusNoted> noteStatus(const std::string& message_id,
                                                   const StatusNote& note) = 0;

  // record(received), and when it is the first record of that message,
  // puts `reply` in the outbox, due at `due_ms`, in the same script: a
  // message the gateway delivers again is never answered twice, and a
  // recorded one is never left without its answer. Returns as record().
  virtual registry::Result<std::optional<ExchangeRecord>> recordAndEnqueue(
      const ExchangeRecord& received, const OutboundMessage& reply, std::int64_t due_ms) = 0;

  // Puts a message in the outbox, due at `due_ms`, its hash and its place
  // in one script.
  virtual registry::Status enqueue(const OutboundMessage& message, std::int64_t due_ms) = 0;

  // The message due first if one is due at `now_ms`, claimed until
  // `now_ms + lease_ms` with its attempts counted up; nullopt when none is
  // due. A member whose hash is gone is dropped from the outbox.
  virtual registry::Result<std::optional<OutboundMessage>> claimDue(std::int64_t now_ms,
                                                                    std::int64_t lease_ms) = 0;

  // The gateway took the message and numbered it `message_id`: it leaves
  // the outbox and is recorded in its chain, as sent, in one script. A
  // record the gateway's id had before (the gateway reused an id) is
  // replaced, not merged.
  virtual registry::Status markSent(const OutboundMessage& message,
                                    const std::string& message_id) = 0;

  // The attempt failed in a way that may pass: due again at `due_ms`.
  virtual registry::Status retryAt(const std::string& licgate_id, std::int64_t due_ms,
                                   const std::string& error) = 0;

  // The message will never be sent: it leaves the outbox for
  // "<prefix>shep:failed:<licgate id>".
  virtual registry::Status giveUp(const std::string& licgate_id, const std::string& error) = 0;

  // Messages in the outbox, due or not.
  virtual registry::Result<std::int64_t> outboxSize() = 0;
};

// Does not connect yet: the first call does. `ttl_ms`: how long a quiet
// chain is remembered.
std::unique_ptr<ExchangeLog> makeExchangeLog(const RedisOptions& options, std::int64_t ttl_ms);

}  // namespace licgate::adapters::redis
