// The conformity flow (docs/conformity.md): requests from licensor systems
// open rounds, each body's query goes out on its channel, conclusions and
// deadlines close queries, and each decided round is kept in the register
// and sent to the licensor's system.
//
// Where things happen:
// - request() and conclude() run on the caller's thread (the AMQP intake,
//   the HTTP server): each is one Redis script, and the caller settles or
//   answers only after it returned, so nothing accepted is only in memory.
//   The queries a request opens and the outcomes a conclusion decides are
//   sent from there at once;
// - the flow's own thread takes the receipts of sends and the decided
//   rounds, batches them into one Redis script (and one store transaction
//   for the register's copy of the outcomes) each, and runs the timers: sends due (retries, and
//   sends whose claimer died), deadlines, and outcomes due. Everything it must do is in Redis, so
//   after a restart it finds it there (tick()).
// Two licgate processes on one Redis share the work through the tracker's
// leases.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "adapters/amqp/intake_server.hpp"
#include "adapters/redis/conformity_tracker.hpp"
#include "config/config.hpp"
#include "gateway/conformity_courier.hpp"
#include "gateway/redis_health.hpp"
#include "registry/conformity.hpp"
#include "registry/store.hpp"
#include "registry/working_days.hpp"

namespace licgate::gateway {

// The AMQP addresses of the flow on licgate's listener.
inline constexpr std::string_view kRequestsAddress = "conformity/requests";
inline constexpr std::string_view kConclusionsAddress = "conformity/conclusions";

// Milliseconds since the epoch; tests inject their own.
using MillisClock = std::function<std::int64_t()>;
std::int64_t systemMillis();

struct RequestAnswer {
  bool duplicate = false;  // the same request was opened before
  std::vector<std::string> query_ids;
};

struct ConclusionAnswer {
  // "accepted", "duplicate" or "late" (docs/conformity.md, step 5).
  std::string result;
  // A late conclusion recorded before, answered "late" again as it was
  // then: the counters take it as a duplicate, not as another late one.
  bool repeat = false;
};

// Counts since start, for /api/v1/stats, /metrics and the demo.
struct ConformityCounters {
  std::uint64_t requests_opened = 0;
  std::uint64_t requests_duplicate = 0;
  std::uint64_t requests_refused = 0;
  std::uint64_t sends = 0;
  std::uint64_t sends_delivered = 0;
  std::uint64_t sends_retried = 0;
  // Sends after which their query failed: refused for good, or the last
  // one of a query out of attempts or out of time.
  std::uint64_t sends_failed = 0;
  std::uint64_t conclusions_accepted = 0;
  std::uint64_t conclusions_duplicate = 0;
  std::uint64_t conclusions_late = 0;
  std::uint64_t conclusions_refused = 0;
  std::uint64_t rounds_decided = 0;  // by this process
  std::uint64_t outcomes_delivered = 0;
  std::uint64_t outcomes_retried = 0;
  // Outcomes the licensor's system refused for good, put in the
  // operator's list of refused outcomes.
  std::uint64_t outcomes_refused = 0;
  std::uint64_t redis_errors = 0;  // calls that found Redis unavailable
};

// An application's round as the API shows it: from Redis while it is
// known there, else from the register.
struct RoundView {
  registry::ConformityRequest request;
  std::string outcome;  // "pending" or a registry::roundOutcomeName
  std::int64_t decided_ms = 0;
  std::vector<registry::QueryView> queries;
};

class ConformityFlow {
 public:
  // `store`, `tracker` and `courier` must outlive the flow. Only the
  // conformity section, systems and licensors of `config` are used.
  ConformityFlow(const config::Config& config, registry::Store& store,
                 adapters::redis::ConformityTracker& tracker, Courier& courier,
                 MillisClock clock = systemMillis);
  ~ConformityFlow();
  ConformityFlow(const ConformityFlow&) = delete;
  ConformityFlow& operator=(const ConformityFlow&) = delete;

  // Tells `health` (which must outlive the flow) whether each pass of the
  // timers (tick()) reached Redis, so that /api/v1/stats and /metrics see
  // Redis as the flow does, not only as the intake and the readiness probe
  // last saw it. Call before start().
  void reportRedisHealthTo(RedisHealth* health) { health_ = health; }

  // Starts the flow's thread, which calls tick() every `poll` and handles
  // receipts as they come. Tests that drive tick() themselves do not start
  // it.
  void start(std::chrono::milliseconds poll = std::chrono::milliseconds(200));
  // Stops the thread; sends under way are settled by their leases' end.
  void stop();

  // A licensor system's request (docs/conformity.md, step 1). `system` is
  // the sending system (AMQP application property "system", the SOAP
  // parameter). Errors: kNotAuthorised (unknown system, or one that may not
  // act for the licensor), kInvalidField (the request's fields, an activity
  // no body is asked on, a licensor without an outcome channel),
  // kConflict (another request under the application id), kUnavailable
  // (Redis).
  registry::Result<RequestAnswer> request(const std::string& system,
                                          const registry::ConformityRequest& request);

  // request() for each (system, request), Redis in one round trip: one
  // answer per request, in order.
  std::vector<registry::Result<RequestAnswer>> requestAll(
      const std::vector<std::pair<std::string, registry::ConformityRequest>>& requests);

  // A body's conclusion (step 5). `system` is the sender as the transport
  // names it (AMQP "system"), empty when it names none. Errors:
  // kUnknownQuery, kWrongBody, kConflict, kInvalidField, kUnavailable.
  registry::Result<ConclusionAnswer> conclude(const std::string& system,
                                              const registry::Conclusion& conclusion);

  // conclude() for each (system, conclusion), as requestAll.
  std::vector<registry::Result<ConclusionAnswer>> concludeAll(
      const std::vector<std::pair<std::string, registry::Conclusion>>& conclusions);

  // A request or conclusion that a transport refused before it could be
  // read as one (a SOAP operation's ill-formed parameters), counted with
  // those the flow refuses itself.
  void countRefusedRequest();
  void countRefusedConclusion();

  // The AMQP deliveries on kRequestsAddress and kConclusionsAddress: one
  // verdict per delivery, in order; each settled only after its Redis
  // script returned.
  std::vector<adapters::amqp::Verdict> processDeliveries(
      const std::vector<adapters::amqp::Delivery>& batch);

  // processDeliveries in two steps, for the intake's two threads: reading
  // and checking one batch (no Redis) overlaps the Redis round trips and
  // sends of the batch before. finishDeliveries must see the batches in
  // the order they were prepared. The prepared batch keeps the deliveries:
  // one refused for what it is (not one released) is kept as a dead letter
  // before its verdict is returned, and released instead when the register
  // cannot keep it.
  struct PreparedDeliveries;
  std::unique_ptr<PreparedDeliveries> prepareDeliveries(
      std::vector<adapters::amqp::Delivery> batch);
  std::vector<adapters::amqp::Verdict> finishDeliveries(PreparedDeliveries& prepared);

  // The application's round; nullopt when neither Redis nor the register
  // knows it.
  registry::Result<std::optional<RoundView>> round(const std::string& application_id);
  // The licensor's open queries, earliest deadline first. Errors:
  // kNotFound (a licensor not listed), kUnavailable (Redis).
  registry::Result<std::vector<registry::QueryView>> pending(const std::string& licensor,
                                                             std::size_t limit);
  // The queries that never reached their body, the latest failure first.
  registry::Result<std::vector<registry::QueryView>> failed(std::size_t limit);
  // The outcomes the licensors' systems refused for good, the latest
  // first: the flow's dead letters on the licensors' side. Errors:
  // kUnavailable (Redis).
  registry::Result<std::vector<adapters::redis::ConformityTracker::RefusedOutcome>> refusedOutcomes(
      std::size_t limit);
  // The operator's resend of a refused outcome: due again now, sent by the
  // flow's thread on its next pass. Errors: kNotFound (no refused outcome
  // for the application), kUnavailable (Redis).
  registry::Status resendOutcome(const std::string& application_id);
  // The working days left to `deadline_ms` at the flow's clock: 0 on the
  // deadline's last day, negative once it is past.
  int workingDaysLeft(std::int64_t deadline_ms) const;
  // What the APIs show for a query: its working days left, never below 0,
  // while the body may still answer; -1 (not shown) once it is final.
  int workingDaysLeftOf(const registry::QueryView& query) const;
  int utcOffsetMinutes() const { return config_.conformity.utc_offset_minutes; }

  // One pass of the timers at the clock's time: sends due, deadlines,
  // outcomes due; then the receipts that came meanwhile. The thread calls
  // it; tests with an injected clock call it themselves.
  void tick();
  // Handles the receipts and decided rounds waiting, without the timers.
  void drain();

  ConformityCounters counters() const;
  // What waits in Redis (for /metrics and /api/v1/stats); kUnavailable
  // when Redis does not answer.
  registry::Result<adapters::redis::ConformityTracker::Backlog> backlog();

  // When the send after the failed send number `attempt` is due, `now_ms`
  // being now:
  // initial_ms doubled per attempt up to max_ms, then a random part of it
  // between a half and all (jitter), so that a body coming back is not hit
  // by every query at once.
  std::int64_t retryAt(const config::RetryPolicy& policy, int attempt, std::int64_t now_ms);

 private:
  struct SendReceipt {
    std::string query_id;
    std::string body;
    int attempt = 1;  // the send's number, as claimed
    std::int64_t deadline_ms = 0;
    Receipt receipt;
  };
  struct OutcomeReceipt {
    std::string application_id;
    std::vector<std::string> query_ids;  // the round's, for outcomesDelivered
    int attempt = 1;
    Receipt receipt;
  };

  // requestAll's checks (and the register's decided rounds) apart from its
  // Redis round trip, and concludeAll's likewise.
  struct PlannedRequests {
    std::vector<registry::Result<RequestAnswer>> answers;  // one per request
    std::vector<adapters::redis::OpenRound> rounds;        // those to open
    std::vector<std::size_t> planned;                      // each round's answer
  };
  struct CheckedConclusions {
    std::vector<registry::Result<ConclusionAnswer>> answers;  // one per conclusion
    std::vector<adapters::redis::ConformityTracker::ConclusionCall> calls;
    std::vector<std::size_t> called;  // each call's answer
  };
  PlannedRequests planRequests(
      const std::vector<std::pair<std::string, registry::ConformityRequest>>& requests);
  std::vector<registry::Result<RequestAnswer>> openPlanned(PlannedRequests planned);
  // What openPlanned and recordChecked make of the tracker's answers.
  using ConcludedCalls =
      registry::Result<std::vector<registry::Result<adapters::redis::Concluded>>>;
  std::vector<registry::Result<RequestAnswer>> answerRequests(
      PlannedRequests planned, registry::Result<std::vector<adapters::redis::Opened>> opened);
  std::vector<registry::Result<ConclusionAnswer>> answerConclusions(CheckedConclusions checked,
                                                                    ConcludedCalls concluded,
                                                                    std::int64_t now);
  CheckedConclusions checkConclusions(
      const std::vector<std::pair<std::string, registry::Conclusion>>& conclusions) const;
  std::vector<registry::Result<ConclusionAnswer>> recordChecked(CheckedConclusions checked);

  std::int64_t deadlineOf(const config::BodyConfig& body, std::int64_t now_ms) const;
  // The round a request opens, once every check of it passed.
  registry::Result<adapters::redis::OpenRound> planRound(
      const std::string& system, const registry::ConformityRequest& request) const;
  // The answer to a request whose round the register holds decided
  // already; nullopt when it holds none.
  std::optional<registry::Result<RequestAnswer>> decidedBefore(
      const adapters::redis::OpenRound& round);
  // Sets delivery i's verdict for `error`, noting the error for its dead
  // letter.
  static void refuse(PreparedDeliveries& prepared, std::size_t i, registry::Error error);
  // The deliveries refused for what they are, kept as dead letters; those
  // the register cannot keep are released instead of rejected.
  void keepRefused(PreparedDeliveries& prepared);
  registry::Status checkSender(const std::string& system,
                               const registry::Conclusion& conclusion) const;
  static registry::Result<ConclusionAnswer> answerOf(const registry::Conclusion& conclusion,
                                                     adapters::redis::Concluded& concluded);
  // The answer to a conclusion whose query Redis does not know, from the
  // round the register keeps (Redis forgets a delivered round after
  // conformity.keep_delivered_days). A late conclusion to record is added
  // to `late`, which holds those of the batch so far.
  registry::Result<ConclusionAnswer> answerFromRegister(
      const registry::Conclusion& conclusion, std::int64_t now,
      std::vector<registry::LateConclusion>& late);
  registry::Status authorise(const std::string& system, const std::string& licensor) const;
  bool isListedLicensor(const std::string& code) const;
  void dispatch(std::vector<adapters::redis::ClaimedQuery> queries);
  // Sends the outcomes of decided rounds and keeps them in the register.
  void deliver(std::vector<adapters::redis::DecidedRound> rounds);
  void keep(std::vector<adapters::redis::DecidedRound> rounds);
  void sendOutcome(const adapters::redis::DecidedRound& round);
  Parcel queryParcel(const adapters::redis::ClaimedQuery& query,
                     const config::BodyConfig& body) const;
  void handleSendReceipts(std::vector<SendReceipt> receipts);
  void handleOutcomeReceipts(std::vector<OutcomeReceipt> receipts);
  void refuseOutcome(const OutcomeReceipt& item, std::int64_t now);
  // Counts `added` things handed to the flow's thread (mutex_ held); true
  // when the thread should be woken for them.
  bool handedOver(std::size_t added);
  void noteRedisError(const registry::Error& error, const char* what);
  void noteRedisAnswered();
  void checkPersistence();
  void run(std::chrono::milliseconds poll);
  std::int64_t sendLeaseMs() const;

  config::Config config_;
  registry::Store& store_;
  adapters::redis::ConformityTracker& tracker_;
  Courier& courier_;
  MillisClock clock_;
  registry::WorkingCalendar calendar_;

  // Deadlines by (local day of the request, working days): computing one
  // builds a year's days off, and every request of a day needs the same few.
  mutable std::mutex deadline_mutex_;
  mutable std::map<std::pair<std::int64_t, int>, std::int64_t> deadlines_;

  mutable std::mutex mutex_;  // guards what the Proton and HTTP threads hand over
  std::condition_variable wake_;
  std::vector<SendReceipt> send_receipts_;
  std::vector<OutcomeReceipt> outcome_receipts_;
  // Rounds decided on the caller's threads and sent, for the register.
  std::vector<adapters::redis::DecidedRound> decided_;
  // Outcomes sent whose register write failed (the flow's thread only).
  std::set<std::string> unkept_;
  // Receipts and decided rounds waiting for the flow's thread.
  std::size_t handed_over_ = 0;
  ConformityCounters counters_;
  // Redis errors since it last answered: while it is down every tick fails,
  // so the first is logged as a warning and the rest only counted.
  std::uint64_t redis_errors_in_a_row_ = 0;
  bool persistence_checked_ = false;  // the flow's thread only, from tick()
  RedisHealth* health_ = nullptr;
  std::mt19937_64 jitter_;
  bool stopping_ = false;
  std::thread thread_;
};

// What prepareDeliveries leaves for finishDeliveries: the verdicts decided
// already (a delivery that could not be read) and the checked requests and
// conclusions with the place of each in the batch.
struct ConformityFlow::PreparedDeliveries {
  std::vector<adapters::amqp::Delivery> batch;
  std::vector<adapters::amqp::Verdict> verdicts;  // one per delivery
  // Why each delivery refused so far was refused, by its place in `batch`.
  std::vector<std::pair<std::size_t, registry::Error>> refusals;
  PlannedRequests requests;
  std::vector<std::size_t> request_at;
  CheckedConclusions conclusions;
  std::vector<std::size_t> conclusion_at;
};

}  // namespace licgate::gateway
