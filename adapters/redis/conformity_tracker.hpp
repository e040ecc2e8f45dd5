// The conformity queries in flight, in Redis (docs/conformity.md, "Redis"):
// each application's round, each query's state, and the timers (sends due,
// deadlines, outcomes due) as sorted sets, so that a licgate process that
// starts finds everything it must do there.
//
// Keys, under the prefix the gateway gives (the register's incarnation):
//   "<prefix>cf:app:<application id>"  hash: the request's fields, its
//       fingerprint, "queries" (the query ids, comma separated), "open" (how
//       many are not final), "not_conforming" and "without_verdict" (how
//       many final ones decide the outcome so, counted by a "tallied"
//       round), "outcome" once decided, "outcome_attempts",
//       "outcome_error", "delivered_ms" once the licensor's channel took it;
//   "<prefix>cf:q:<query id>"  hash: a QueryView's fields and the plan's
//       (silence rule, attempts allowed), the conclusion's fingerprint and
//       signed document;
//   "<prefix>cf:send"  sorted set: query ids due to be sent, by due ms;
//   "<prefix>cf:pending:<licensor>"  sorted set: the licensor's queries not
//       final, by deadline ms; also the deadline timer;
//   "<prefix>cf:licensors"  set: the names of the pending sets, for the
//       deadline timer to walk;
//   "<prefix>cf:outcome"  sorted set: applications whose outcome is due to
//       be sent to the licensor, by due ms;
//   "<prefix>cf:failed"  sorted set: queries that failed, by when;
//   "<prefix>cf:refused"  sorted set: applications whose outcome the
//       licensor's system refused for good, by when.
// A round's hashes expire some time after its outcome was delivered (the
// register keeps the outcome for good); until then nothing expires.
//
// Every call that changes something is one Lua script (EVALSHA, loaded
// again after a NOSCRIPT), so each change is whole whoever else shares the
// Redis. Claims move a member's score to the end of a lease: nobody else
// claims it meanwhile, and it is due again if the claimer dies.
//
// Blocking: every call waits for Redis (RedisOptions::timeout_ms); when Redis
// is unreachable calls return kUnavailable and change nothing that the
// caller is told of. Thread-safe: each call takes one of a few connections
// of its own, so that callers on different threads do not wait for each
// other's round trips.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "adapters/redis/seen_ids.hpp"
#include "registry/conformity.hpp"
#include "registry/result.hpp"

namespace licgate::adapters::redis {

// One query of a round being opened.
struct QueryPlan {
  std::string query_id;
  std::string body;
  std::int64_t deadline_ms = 0;
  bool consent_on_silence = true;  // the body's on_silence rule
  int max_attempts = 1;            // the body's retry.attempts
};

struct OpenRound {
  registry::ConformityRequest request;
  std::string fingerprint;  // of the request's content: same fingerprint = the same request again
  std::vector<QueryPlan> queries;
  std::int64_t now_ms = 0;
  std::int64_t lease_ms = 0;  // the new queries are claimed for their first send until now + lease
};

// A query claimed for a send: everything the sender needs, including the
// request it is about.
struct ClaimedQuery {
  std::string query_id;
  std::string body;
  int attempt = 1;  // this send's number (attempts so far + 1)
  std::int64_t deadline_ms = 0;
  registry::ConformityRequest request;
};

enum class OpenResult : std::uint8_t {
  kOpened,     // the round is new; `claimed` holds every query, claimed
  kDuplicate,  // the same request was opened before; nothing changed
  kConflict,   // another request was opened under this application id
};

struct Opened {
  OpenResult result = OpenResult::kOpened;
  std::vector<ClaimedQuery> claimed;
  // openAll: set when this round's own script failed (nothing of it is
  // known); `result` then means nothing.
  std::optional<registry::Error> error;
};

// How a send ended.
struct SendResult {
  enum class Kind : std::uint8_t {
    kDelivered,  // the channel took it -> sent
    kRetry,      // may pass -> retrying at retry_at_ms, or failed when that is
                 // at or past the deadline or the attempts are used up
    kPermanent,  // -> failed
  };
  std::string query_id;
  Kind kind = Kind::kDelivered;
  std::string error;             // what went wrong (kRetry, kPermanent)
  std::int64_t retry_at_ms = 0;  // kRetry: when the next send is due
};

// A round whose queries are all final, claimed for sending its outcome to
// the licensor.
struct DecidedRound {
  registry::ConformityOutcome outcome;
  int attempt = 1;  // this delivery's number
};

// A round whose outcome the licensor's channel took: its application and
// the ids of its queries, whose hashes expire with the round's.
struct DeliveredOutcome {
  std::string application_id;
  std::vector<std::string> query_ids;
};

enum class ConcludeResult : std::uint8_t {
  kAccepted,   // recorded; the query is answered
  kDuplicate,  // the same conclusion was recorded before; nothing changed
  kLate,       // the query was decided by its deadline (or failed) first; recorded
               // as late (the same late conclusion sent again is kLate again)
  kUnknown,    // no such query
  kWrongBody,  // the query went to another body
  kConflict,   // another conclusion of this body is recorded; it stays
};

struct Concluded {
  ConcludeResult result = ConcludeResult::kAccepted;
  std::string recorded_body;  // kWrongBody: the body the query went to
  // kLate, recorded by this call (not a repeat): the query's application.
  std::string late_application;
  // Set when this conclusion made the round final: its outcome, claimed
  // for delivery until now + lease.
  std::optional<DecidedRound> decided;
};

class ConformityTracker {
 public:
  virtual ~ConformityTracker() = default;

  // Opens a round: the application's hash, each query (state sending,
  // attempts 0), claimed for its first send until now + lease (the score in
  // "send"), and by its deadline in the licensor's "pending".
  virtual registry::Result<Opened> open(const OpenRound& round) = 0;

  // open() for each round in one round trip (one script call): one result
  // per round, in order, with its own error when its part of the script
  // failed. The whole call fails (kUnavailable) only when Redis cannot be
  // reached or answers something else; then nothing is known of any.
  virtual registry::Result<std::vector<Opened>> openAll(const std::vector<OpenRound>& rounds) = 0;

  // Claims up to `limit` queries whose send is due at `now_ms` (state
  // sending or retrying), moving each one's score to now + lease.
  virtual registry::Result<std::vector<ClaimedQuery>> claimSends(std::int64_t now_ms,
                                                                 std::int64_t lease_ms,
                                                                 std::size_t limit) = 0;

  // Records how sends ended, in one script. Each result counts one send
  // (attempts + 1: attempts are counted when settled, not when claimed);
  // delivered -> sent (out of "send"); retry -> retrying with
  // next_attempt and last_error, or failed when retry_at is at or past the
  // deadline ("the deadline comes before the next attempt: <error>") or the
  // attempts are used up ("gave up after N attempts: <error>"); permanent
  // -> failed with the error. A result for a
  // query that is no longer sending or retrying (a conclusion or the
  // deadline came first, or another process's lease) changes nothing but
  // its attempt count. Rounds made final by a failure are returned,
  // claimed for delivery until now + lease.
  virtual registry::Result<std::vector<DecidedRound>> settleSends(
      const std::vector<SendResult>& results, std::int64_t now_ms, std::int64_t lease_ms) = 0;

  // Records a body's conclusion at `now_ms` (docs/conformity.md, step 5).
  virtual registry::Result<Concluded> conclude(const registry::Conclusion& conclusion,
                                               const std::string& fingerprint, std::int64_t now_ms,
                                               std::int64_t lease_ms) = 0;

  // conclude() for each conclusion in one round trip, as openAll.
  struct ConclusionCall {
    registry::Conclusion conclusion;
    std::string fingerprint;
  };
  virtual registry::Result<std::vector<registry::Result<Concluded>>> concludeAll(
      const std::vector<ConclusionCall>& calls, std::int64_t now_ms, std::int64_t lease_ms) = 0;

  // openAll and then concludeAll, both in one round trip: what an intake
  // batch of requests and conclusions needs. Fails only as they do.
  struct OpenedAndConcluded {
    std::vector<Opened> opened;                          // one per round
    std::vector<registry::Result<Concluded>> concluded;  // one per call
  };
  virtual registry::Result<OpenedAndConcluded> openAndConclude(
      const std::vector<OpenRound>& rounds, const std::vector<ConclusionCall>& calls,
      std::int64_t now_ms, std::int64_t lease_ms) = 0;

  // Decides up to `limit` queries whose deadline is at or before `now_ms`
  // (step 6): sent -> expired (with tacit consent when the plan says so);
  // sending or retrying -> failed ("the deadline passed before the body
  // took the query"). Rounds made final are returned, claimed.
  virtual registry::Result<std::vector<DecidedRound>> expireDue(std::int64_t now_ms,
                                                                std::int64_t lease_ms,
                                                                std::size_t limit) = 0;

  // Claims up to `limit` decided rounds whose outcome delivery is due.
  virtual registry::Result<std::vector<DecidedRound>> claimOutcomes(std::int64_t now_ms,
                                                                    std::int64_t lease_ms,
                                                                    std::size_t limit) = 0;

  // The licensor's channel took these outcomes: out of "outcome",
  // delivered_ms set, and the round's hashes expire in `keep_ms` (0: never);
  // failed queries listed for longer than `keep_ms` leave "failed". The
  // query ids are the round's as claimed: Redis need not read them again.
  virtual registry::Status outcomesDelivered(const std::vector<DeliveredOutcome>& delivered,
                                             std::int64_t now_ms, std::int64_t keep_ms) = 0;

  // An outcome delivery failed: due again at `retry_at_ms`, with the error.
  virtual registry::Status outcomeRetry(const std::string& application_id, std::int64_t retry_at_ms,
                                        const std::string& error) = 0;

  // The licensor's system refused the outcome for good (an AMQP rejected
  // outcome, a SOAP client fault): out of "outcome" into "refused", with
  // the error, until the operator resends it. An outcome no longer in
  // "outcome" (delivered or refused meanwhile) is left as it is.
  virtual registry::Status outcomeRefused(const std::string& application_id, std::int64_t now_ms,
                                          const std::string& error) = 0;

  // The operator's resend of a refused outcome: due again at `now_ms`.
  // false when the application has no refused outcome.
  virtual registry::Result<bool> resendOutcome(const std::string& application_id,
                                               std::int64_t now_ms) = 0;

  // A refused outcome as the operator's list shows it.
  struct RefusedOutcome {
    std::string application_id;
    std::string licensor;
    std::string outcome;  // registry::roundOutcomeName
    std::string error;    // what the licensor's system said
    int attempts = 0;     // deliveries tried
    std::int64_t refused_ms = 0;
  };
  // The refused outcomes, the latest refusal first, at most `limit`.
  virtual registry::Result<std::vector<RefusedOutcome>> refusedOutcomes(std::size_t limit) = 0;

  // The application's round: its request, every query, the outcome when
  // decided (nullopt while queries are open). nullopt when no round is known.
  struct Round {
    registry::ConformityRequest request;
    std::vector<registry::QueryView> queries;
    std::optional<registry::RoundOutcome> outcome;
    std::int64_t decided_ms = 0;
    std::int64_t delivered_ms = 0;  // 0 until the licensor's channel took the outcome
  };
  virtual registry::Result<std::optional<Round>> round(const std::string& application_id) = 0;

  // The licensor's queries not final, earliest deadline first, at most
  // `limit`.
  virtual registry::Result<std::vector<registry::QueryView>> pending(const std::string& licensor,
                                                                     std::size_t limit) = 0;

  // The queries that failed (never delivered: refused, out of attempts,
  // undelivered at the deadline), the latest first, at most `limit`.
  virtual registry::Result<std::vector<registry::QueryView>> failed(std::size_t limit) = 0;

  // How many queries are due to be sent and rounds due to be delivered
  // (for /metrics).
  struct Backlog {
    std::uint64_t sends = 0;
    std::uint64_t open_queries = 0;
    std::uint64_t outcomes = 0;
    std::uint64_t refused_outcomes = 0;
  };
  virtual registry::Result<Backlog> backlog() = 0;

  // Whether Redis keeps an append-only file (INFO persistence,
  // aof_enabled): without one a Redis restart loses every query in flight,
  // which the flow warns about.
  virtual registry::Result<bool> appendOnly() = 0;
};

// Connects lazily, like SeenIds: a Redis that is down at start only makes
// the first calls fail.
std::unique_ptr<ConformityTracker> makeConformityTracker(RedisOptions options);

}  // namespace licgate::adapters::redis
