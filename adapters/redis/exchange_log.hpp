// What licgate remembers of the messages it exchanges over the
// e-government gateway's asynchronous channel, in Redis: which chain
// (correlationId) each message of the gateway's belongs to, licgate's own
// id for it, and what became of it.
//
// Keys, under the configured prefix (not the register's incarnation: a
// chain belongs to the exchange, not to one copy of the register):
//   "<prefix>shep:message:<message id>"  a hash of the ExchangeRecord's
//       fields, and of the last status the gateway notified for it;
//   "<prefix>shep:chain:<correlation id>"  a hash: message id -> licgate id.
// And the outbox of messages licgate sends through the gateway:
//   "<prefix>shep:outbox"  a sorted set of licgate ids, scored by when each
//       is next due (milliseconds since the epoch);
//   "<prefix>shep:out:<licgate id>"  a hash: the envelope to send, its
//       chain, service and type, attempts so far, the last error;
//   "<prefix>shep:failed:<licgate id>"  that hash, once licgate gave up on
//       the message (kept ttl_ms, for the operator).
// A message is claimed for a lease: its score moves to the lease's end, so
// that neither another licgate process sharing the Redis nor this one sends
// it again meanwhile, and a process that dies mid-send leaves it due again
// when the lease ends. Sending is therefore at least once.
// Each expires `ttl_ms` after it was last written: a chain is known for that
// long after its last message, a message that long after its last status.
// The register stays
// the durable record of what a message changed (its (sender, message id)
// inbound record); these keys are the correlation around it.
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

struct ExchangeRecord {
  std::string message_id;      // the gateway's id of the message
  std::string correlation_id;  // its chain
  std::string licgate_id;      // licgate's id for it (logs, X-Correlation-Id)
  std::string direction;       // "received" or "sent"
  std::string sender;          // the gateway's senderId
  std::string service_id;
  std::string message_type;  // REQUEST, NOTIFICATION, UPDATE, RESPONSE
  std::string outcome;       // what licgate made of it: applied, duplicate, ...
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
};

// A message licgate sends through the gateway.
struct OutboundMessage {
  std::string licgate_id;
  std::string envelope;  // the SOAP envelope to POST
  std::string correlation_id;
  std::string service_id;
  std::string message_type;
  std::int64_t attempts = 0;  // made so far, the claimed one included
  std::string last_error;
};

class ExchangeLog {
 public:
  virtual ~ExchangeLog() = default;

  // Records a message and adds it to its chain, atomically (one script),
  // and renews both keys' expiry. The first record of a message id stands:
  // recording it again (the gateway delivers a message again when it did
  // not see the acknowledgement) only renews the expiry; returns false then.
  virtual registry::Result<bool> record(const ExchangeRecord& record) = 0;

  // The record of a message, or nullopt when Redis has none.
  virtual registry::Result<std::optional<ExchangeRecord>> find(const std::string& message_id) = 0;

  // How many messages Redis knows of the chain (0: an unknown chain).
  virtual registry::Result<std::int64_t> chainLength(const std::string& correlation_id) = 0;

  // Sets the last status of a message licgate sent, atomically with the
  // check that it is one: false (and nothing written) when no message of
  // that id was recorded as sent.
  virtual registry::Result<bool> noteStatus(const std::string& message_id,
                                            const StatusNote& note) = 0;

  // record(received), and when it is the first record of that message,
  // puts `reply` in the outbox, due at `due_ms`, in the same script: a
  // message the gateway delivers again is never answered twice, and a
  // recorded one is never left without its answer.
  virtual registry::Result<bool> recordAndEnqueue(const ExchangeRecord& received,
                                                  const OutboundMessage& reply,
                                                  std::int64_t due_ms) = 0;

  // Puts a message in the outbox, due at `due_ms`, its hash and its place
  // in one script.
  virtual registry::Status enqueue(const OutboundMessage& message, std::int64_t due_ms) = 0;

  // The message due first if one is due at `now_ms`, claimed until
  // `now_ms + lease_ms` with its attempts counted up; nullopt when none is
  // due.
  virtual registry::Result<std::optional<OutboundMessage>> claimDue(std::int64_t now_ms,
                                                                    std::int64_t lease_ms) = 0;

  // The gateway took the message and numbered it `message_id`: it leaves
  // the outbox and is recorded in its chain, as sent, in one script.
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
