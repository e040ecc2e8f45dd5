// The conformity flow (gateway/conformity_flow.hpp): its thread and timers,
// the sends of queries and outcomes and their receipts, and the reads the
// APIs make. Requests and conclusions come in through conformity_intake.cpp.
#include "gateway/conformity_flow.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

#include "gateway/logging.hpp"
#include "mapping/conformity.hpp"
#include "registry/text.hpp"

// GCC 12 reports vectors of Result (a std::variant) that are assigned into
// as "maybe uninitialized" at -O2, wrongly (GCC bug 80635 and its kin):
// every element here is constructed before it is assigned.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace licgate::gateway {

namespace {

using adapters::redis::ClaimedQuery;
using adapters::redis::DecidedRound;
using registry::ErrorCode;
using registry::makeError;

constexpr std::int64_t kDayMs = 86'400'000;
// Claims and batches: large enough that a busy flow spends one Redis call
// on many queries, small enough that one call stays short.
constexpr std::size_t kClaimLimit = 1000;
// How long the flow's thread gathers receipts and decided rounds before it
// records them, and how many make it start at once.
constexpr auto kGatherTime = std::chrono::milliseconds(10);
constexpr std::size_t kGatherLimit = 512;
// An outcome the licensor's channel did not take is sent again after this
// pause, doubling up to the maximum: a licensor's system is expected to come
// back, and the outcome must reach it whatever it takes.
constexpr config::RetryPolicy kOutcomeRetry{1000, 60'000, 1'000'000};

registry::Date localDate(std::int64_t ms, int offset_minutes) {
  const std::int64_t local = ms + std::int64_t{offset_minutes} * 60'000;
  const std::int64_t days = local >= 0 ? local / kDayMs : -((-local + kDayMs - 1) / kDayMs);
  return registry::Date(std::chrono::sys_days(std::chrono::days(days)));
}

// The start of `date` in the register's zone, as ms since the epoch.
std::int64_t startOfLocalDay(registry::Date date, int offset_minutes) {
  const auto days = std::chrono::sys_days(date).time_since_epoch().count();
  return std::int64_t{days} * kDayMs - std::int64_t{offset_minutes} * 60'000;
}

}  // namespace

std::int64_t systemMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

ConformityFlow::ConformityFlow(const config::Config& config, registry::Store& store,
                               adapters::redis::ConformityTracker& tracker, Courier& courier,
                               MillisClock clock)
    : config_(config),
      store_(store),
      tracker_(tracker),
      courier_(courier),
      clock_(std::move(clock)),
      calendar_(config.conformity.calendar_data),
      jitter_(std::random_device{}()) {}

ConformityFlow::~ConformityFlow() {
  stop();
}

void ConformityFlow::start(std::chrono::milliseconds poll) {
  thread_ = std::thread([this, poll] { run(poll); });
}

void ConformityFlow::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

bool ConformityFlow::handedOver(std::size_t added) {
  const std::size_t before = handed_over_;
  handed_over_ += added;
  return (before == 0 && added > 0) || (before < kGatherLimit && handed_over_ >= kGatherLimit);
}

void ConformityFlow::run(std::chrono::milliseconds poll) {
  auto next_tick = std::chrono::steady_clock::now();
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait_until(lock, next_tick, [this] { return stopping_ || handed_over_ > 0; });
      if (stopping_) {
        break;
      }
      // What is handed over here is bookkeeping no round waits for (the
      // outcomes went out already): gathered for a while, it costs one
      // script and one commit for many rather than for each few, and the
      // producers wake this thread only for the first of them.
      const auto until = std::min(std::chrono::steady_clock::now() + kGatherTime, next_tick);
      wake_.wait_until(lock, until, [this] { return stopping_ || handed_over_ >= kGatherLimit; });
      if (stopping_) {
        break;
      }
    }
    if (std::chrono::steady_clock::now() >= next_tick) {
      tick();
      next_tick = std::chrono::steady_clock::now() + poll;
    } else {
      drain();
    }
  }
  // What was handed over before the stop is recorded now, while Redis and
  // the register are still open: a round whose outcome went out is kept in
  // the register and marked delivered by this process rather than by the
  // next one when the lease ends, and the next one sends it no second time.
  drain();
}

std::int64_t ConformityFlow::sendLeaseMs() const {
  // Longer than a send may take (the courier's timeout), so that a lease
  // ends only when its claimer is gone, not while it waits for a receipt.
  return 2 * config_.conformity.send_timeout_ms + 1000;
}

std::int64_t ConformityFlow::deadlineOf(const config::BodyConfig& body, std::int64_t now_ms) const {
  if (body.deadline_seconds > 0) {
    return now_ms + body.deadline_seconds * 1000;
  }
  const int offset = config_.conformity.utc_offset_minutes;
  const registry::Date today = localDate(now_ms, offset);
  const std::pair<std::int64_t, int> key{std::chrono::sys_days(today).time_since_epoch().count(),
                                         body.deadline_working_days};
  std::lock_guard lock(deadline_mutex_);
  if (auto found = deadlines_.find(key); found != deadlines_.end()) {
    return found->second;
  }
  if (deadlines_.size() > 1000) {
    deadlines_.clear();  // days long past: a process that runs for years keeps a few
  }
  const registry::Date last = calendar_.addWorkingDays(today, body.deadline_working_days);
  const std::int64_t deadline =
      startOfLocalDay(registry::Date(std::chrono::sys_days(last) + std::chrono::days(1)), offset);
  deadlines_.emplace(key, deadline);
  return deadline;
}

int ConformityFlow::workingDaysLeft(std::int64_t deadline_ms) const {
  const int offset = config_.conformity.utc_offset_minutes;
  // The deadline is the end of its last day: the day of its last moment.
  return calendar_.workingDaysBetween(localDate(clock_(), offset),
                                      localDate(deadline_ms - 1, offset));
}

int ConformityFlow::workingDaysLeftOf(const registry::QueryView& query) const {
  return registry::isFinal(query.state) ? -1 : std::max(0, workingDaysLeft(query.deadline_ms));
}

std::int64_t ConformityFlow::retryAt(const config::RetryPolicy& policy, int attempt,
                                     std::int64_t now_ms) {
  std::int64_t delay = policy.initial_ms;
  for (int i = 1; i < attempt && delay < policy.max_ms; ++i) {
    delay *= 2;
  }
  delay = std::min(delay, policy.max_ms);
  std::int64_t drawn = delay;
  {
    std::lock_guard lock(mutex_);
    drawn = std::uniform_int_distribution<std::int64_t>(delay / 2, delay)(jitter_);
  }
  return now_ms + std::max<std::int64_t>(drawn, 1);
}

registry::Status ConformityFlow::authorise(const std::string& system,
                                           const std::string& licensor) const {
  const config::SystemConfig* sender = config_.findSystem(system);
  if (sender == nullptr) {
    return makeError(ErrorCode::kNotAuthorised,
                     system.empty() ? std::string("the request names no sending system")
                                    : "system \"" + system + "\" is not configured");
  }
  if (!sender->mayActFor(licensor)) {
    return makeError(ErrorCode::kNotAuthorised,
                     "system \"" + system + "\" may not act for licensor \"" + licensor + "\"");
  }
  return {};
}

void ConformityFlow::noteRedisError(const registry::Error& error, const char* what) {
  std::uint64_t in_a_row = 0;
  {
    std::lock_guard lock(mutex_);
    ++counters_.redis_errors;
    in_a_row = ++redis_errors_in_a_row_;
  }
  if (in_a_row == 1) {
    getLogger("conformity")
        ->warn(
            "{}: {} (further Redis errors are counted in redis_errors, not logged, until it "
            "answers again)",
            what, error.message);
  } else {
    getLogger("conformity")->debug("{}: {}", what, error.message);
  }
}

void ConformityFlow::noteRedisAnswered() {
  std::uint64_t in_a_row = 0;
  {
    std::lock_guard lock(mutex_);
    in_a_row = std::exchange(redis_errors_in_a_row_, 0);
  }
  if (in_a_row > 0) {
    getLogger("conformity")->info("Redis answers again, after {} failed calls", in_a_row);
  }
  // Asked again after every outage: the Redis that came back may be
  // another one, or the same restarted with another configuration.
  if (in_a_row > 0 || !persistence_checked_) {
    checkPersistence();
  }
}

void ConformityFlow::checkPersistence() {
  auto append_only = tracker_.appendOnly();
  if (!append_only.ok()) {
    getLogger("conformity")
        ->info("could not tell whether Redis keeps an append-only file: {}",
               append_only.error().message);
  } else if (!*append_only) {
    getLogger("conformity")
        ->warn(
            "Redis runs without an append-only file (appendonly no): a Redis restart loses "
            "every conformity query in flight; run it with appendonly yes "
            "(docs/conformity.md, \"Redis\")");
  }
  persistence_checked_ = true;
}

Parcel ConformityFlow::queryParcel(const ClaimedQuery& query,
                                   const config::BodyConfig& body) const {
  mapping::QueryMessage message{
      query.query_id, query.body,
      mapping::formatLocalTime(query.deadline_ms, config_.conformity.utc_offset_minutes),
      query.request};
  Parcel parcel;
  parcel.amqp.message_id = query.query_id;
  parcel.amqp.subject = "conformity-query";
  parcel.amqp.content_type = "application/json";
  parcel.amqp.properties["body"] = query.body;
  if (body.channel.kind == config::BodyChannelKind::kSoap) {
    parcel.soap_action = "ConformityQuery";
    parcel.soap_envelope = mapping::writeQuerySoap(message, mapping::SoapVersion::k11);
  } else {
    parcel.amqp.body = mapping::writeQueryJson(message);
  }
  return parcel;
}

void ConformityFlow::dispatch(std::vector<ClaimedQuery> queries) {
  for (auto& query : queries) {
    const config::BodyConfig* body = config_.conformity.findBody(query.body);
    if (body == nullptr) {
      // A round opened by a process configured with a body this one lacks:
      // this process cannot send it; its lease ends and the other may.
      getLogger("conformity")
          ->warn("query {} is for body \"{}\", which this configuration does not list",
                 query.query_id, query.body);
      continue;
    }
    {
      std::lock_guard lock(mutex_);
      ++counters_.sends;
    }
    courier_.send(body->channel, queryParcel(query, *body),
                  [this, id = query.query_id, body_id = query.body, attempt = query.attempt,
                   deadline = query.deadline_ms](const Receipt& receipt) {
                    bool wake = false;
                    {
                      std::lock_guard lock(mutex_);
                      send_receipts_.push_back({id, body_id, attempt, deadline, receipt});
                      wake = handedOver(1);
                    }
                    if (wake) {
                      wake_.notify_one();
                    }
                  });
  }
}

void ConformityFlow::handleSendReceipts(std::vector<SendReceipt> receipts) {
  if (receipts.empty()) {
    return;
  }
  const std::int64_t now = clock_();
  std::vector<adapters::redis::SendResult> results;
  results.reserve(receipts.size());
  std::uint64_t delivered = 0, retried = 0, failed = 0;
  for (auto& item : receipts) {
    adapters::redis::SendResult result;
    result.query_id = item.query_id;
    result.error = item.receipt.error;
    switch (item.receipt.fate) {
      case Receipt::Fate::kDelivered:
        result.kind = adapters::redis::SendResult::Kind::kDelivered;
        ++delivered;
        break;
      case Receipt::Fate::kRetry: {
        result.kind = adapters::redis::SendResult::Kind::kRetry;
        const config::BodyConfig* body = config_.conformity.findBody(item.body);
        const config::RetryPolicy policy = body != nullptr ? body->retry : config::RetryPolicy{};
        result.retry_at_ms = retryAt(policy, item.attempt, now);
        // The script fails a query out of attempts or out of time rather
        // than retry it (docs/conformity.md, step 4): that send failed.
        const bool gives_up =
            item.attempt >= policy.attempts || result.retry_at_ms >= item.deadline_ms;
        ++(gives_up ? failed : retried);
        break;
      }
      case Receipt::Fate::kPermanent:
        result.kind = adapters::redis::SendResult::Kind::kPermanent;
        ++failed;
        break;
    }
    results.push_back(std::move(result));
  }
  auto decided = tracker_.settleSends(results, now, sendLeaseMs());
  if (!decided.ok()) {
    // The queries stay claimed until their leases end, then are sent
    // again: a delivery not recorded is a send more, never a query lost.
    noteRedisError(decided.error(), "send results could not be recorded");
    return;
  }
  {
    std::lock_guard lock(mutex_);
    counters_.sends_delivered += delivered;
    counters_.sends_retried += retried;
    counters_.sends_failed += failed;
  }
  deliver(std::move(*decided));
}

void ConformityFlow::deliver(std::vector<DecidedRound> rounds) {
  for (const auto& round : rounds) {
    sendOutcome(round);
  }
  keep(std::move(rounds));
}

// An outcome goes out as soon as its round is decided and is kept in the
// register meanwhile, rather than after the register's commit (a disk
// flush on every batch, in the way of every outcome). Redis holds it
// either way, and the APIs read it there. It is marked delivered only when
// both its receipt and its register write came: one whose write failed
// stays claimed, and when its lease ends it is kept and sent again. The
// flow's thread keeps each batch before it handles the receipts of the
// same rounds, since a round is handed over before it is sent.
void ConformityFlow::keep(std::vector<DecidedRound> rounds) {
  if (rounds.empty()) {
    return;
  }
  std::vector<registry::ConformityOutcome> outcomes;
  outcomes.reserve(rounds.size());
  std::uint64_t first_deliveries = 0;
  for (const auto& round : rounds) {
    outcomes.push_back(round.outcome);
    first_deliveries += round.attempt == 1 ? 1 : 0;
  }
  // Every delivery writes it, since the process that decided the round
  // may have died before its write; the store keeps an application's first
  // outcome, so a second write changes nothing.
  if (auto kept = store_.keepConformityOutcomes(outcomes); !kept.ok()) {
    getLogger("conformity")
        ->warn(
            "{} decided rounds are not in the register yet: {}; they are kept and sent again "
            "when their claim ends",
            outcomes.size(), kept.error().message);
    for (const auto& outcome : outcomes) {
      unkept_.insert(outcome.application_id);
    }
    return;
  }
  std::lock_guard lock(mutex_);
  counters_.rounds_decided += first_deliveries;
}

void ConformityFlow::sendOutcome(const DecidedRound& round) {
  const auto& outcome = round.outcome;
  const auto channel = config_.conformity.outcomes.find(outcome.licensor);
  if (channel == config_.conformity.outcomes.end()) {
    getLogger("conformity")
        ->warn("the outcome of {} is for licensor \"{}\", which has no outcome channel here",
               outcome.application_id, outcome.licensor);
    return;
  }
  const int offset = config_.conformity.utc_offset_minutes;
  Parcel parcel;
  parcel.amqp.message_id = "outcome-" + outcome.application_id;
  parcel.amqp.subject = "conformity-outcome";
  parcel.amqp.content_type = "application/json";
  if (channel->second.kind == config::BodyChannelKind::kSoap) {
    parcel.soap_action = "ConformityOutcome";
    parcel.soap_envelope = mapping::writeOutcomeSoap(outcome, offset, mapping::SoapVersion::k11);
  } else {
    parcel.amqp.body = mapping::writeOutcomeJson(outcome, offset);
  }
  std::vector<std::string> query_ids;
  query_ids.reserve(outcome.queries.size());
  for (const auto& query : outcome.queries) {
    query_ids.push_back(query.query_id);
  }
  courier_.send(channel->second, std::move(parcel),
                [this, id = outcome.application_id, ids = std::move(query_ids),
                 attempt = round.attempt](const Receipt& r) {
                  bool wake = false;
                  {
                    std::lock_guard lock(mutex_);
                    outcome_receipts_.push_back({id, ids, attempt, r});
                    wake = handedOver(1);
                  }
                  if (wake) {
                    wake_.notify_one();
                  }
                });
}

// Sending a refused outcome again would be refused again: it waits in the
// operator's list until the licensor's system is mended and the operator
// resends it (resendOutcome).
void ConformityFlow::refuseOutcome(const OutcomeReceipt& item, std::int64_t now) {
  getLogger("conformity")
      ->error("the outcome of {} was refused by the licensor's system, kept for a resend: {}",
              item.application_id, item.receipt.error);
  auto refused = tracker_.outcomeRefused(item.application_id, now, item.receipt.error);
  if (!refused.ok()) {
    // Still claimed: sent again when the lease ends, and refused again.
    noteRedisError(refused.error(), "a refused outcome could not be recorded");
    return;
  }
  std::lock_guard lock(mutex_);
  ++counters_.outcomes_refused;
}

void ConformityFlow::handleOutcomeReceipts(std::vector<OutcomeReceipt> receipts) {
  if (receipts.empty()) {
    return;
  }
  const std::int64_t now = clock_();
  std::vector<adapters::redis::DeliveredOutcome> delivered;
  for (auto& item : receipts) {
    // Not in the register: left claimed, to be kept and sent again.
    if (unkept_.erase(item.application_id) > 0) {
      continue;
    }
    if (item.receipt.fate == Receipt::Fate::kDelivered) {
      delivered.push_back({item.application_id, std::move(item.query_ids)});
      continue;
    }
    if (item.receipt.fate == Receipt::Fate::kPermanent) {
      refuseOutcome(item, now);
      continue;
    }
    auto retried = tracker_.outcomeRetry(item.application_id,
                                         retryAt(kOutcomeRetry, std::max(item.attempt, 1), now),
                                         item.receipt.error);
    if (!retried.ok()) {
      noteRedisError(retried.error(), "an outcome's retry could not be recorded");
    }
    std::lock_guard lock(mutex_);
    ++counters_.outcomes_retried;
  }
  if (!delivered.empty()) {
    auto marked =
        tracker_.outcomesDelivered(delivered, now, config_.conformity.keep_delivered_days * kDayMs);
    if (!marked.ok()) {
      // Sent again when the lease ends: the licensor's system gets the
      // same outcome (same message id) twice, which it must take as one.
      noteRedisError(marked.error(), "delivered outcomes could not be recorded");
      return;
    }
    std::lock_guard lock(mutex_);
    counters_.outcomes_delivered += delivered.size();
  }
}

void ConformityFlow::drain() {
  std::vector<SendReceipt> sends;
  std::vector<OutcomeReceipt> outcomes;
  std::vector<DecidedRound> decided;
  {
    std::lock_guard lock(mutex_);
    sends.swap(send_receipts_);
    outcomes.swap(outcome_receipts_);
    decided.swap(decided_);
    handed_over_ = 0;
  }
  handleSendReceipts(std::move(sends));
  keep(std::move(decided));
  handleOutcomeReceipts(std::move(outcomes));
}

void ConformityFlow::tick() {
  const std::int64_t now = clock_();
  const std::int64_t lease = sendLeaseMs();
  // The pass's first call says whether Redis is there for the gateway's
  // health: a later call of the same pass that fails on a connection Redis
  // closed while it was away would count a second outage that was not.
  if (auto expired = tracker_.expireDue(now, lease, kClaimLimit); expired.ok()) {
    noteRedisAnswered();
    if (health_ != nullptr) {
      health_->reportSuccess();
    }
    deliver(std::move(*expired));
  } else {
    noteRedisError(expired.error(), "deadlines could not be checked");
    if (health_ != nullptr && expired.error().code == ErrorCode::kUnavailable) {
      health_->reportFailure(expired.error());
    }
  }
  if (auto due = tracker_.claimSends(now, lease, kClaimLimit); due.ok()) {
    dispatch(std::move(*due));
  } else {
    noteRedisError(due.error(), "due sends could not be claimed");
  }
  if (auto outcomes = tracker_.claimOutcomes(now, lease, kClaimLimit); outcomes.ok()) {
    deliver(std::move(*outcomes));
  } else {
    noteRedisError(outcomes.error(), "due outcomes could not be claimed");
  }
  drain();
}

registry::Result<std::optional<RoundView>> ConformityFlow::round(
    const std::string& application_id) {
  auto tracked = tracker_.round(application_id);
  if (tracked.ok() && tracked->has_value()) {
    auto& found = **tracked;
    RoundView view{std::move(found.request),
                   found.outcome ? std::string(registry::roundOutcomeName(*found.outcome))
                                 : std::string("pending"),
                   found.decided_ms, std::move(found.queries)};
    return std::optional<RoundView>(std::move(view));
  }
  // Redis down, or a round it no longer holds: the register has every
  // decided one.
  auto kept = store_.findConformityOutcome(application_id);
  if (!kept.ok()) {
    return kept.takeError();
  }
  if (!kept->has_value()) {
    if (!tracked.ok()) {
      return tracked.takeError();
    }
    return std::optional<RoundView>();
  }
  auto& outcome = **kept;
  RoundView view;
  view.request.application_id = outcome.application_id;
  view.request.licensor = outcome.licensor;
  view.request.activity = outcome.activity;
  view.request.applicant.iin_bin = outcome.applicant_iin_bin;
  view.request.applicant.name = outcome.applicant_name;
  view.outcome = std::string(registry::roundOutcomeName(outcome.outcome));
  view.decided_ms = outcome.decided_ms;
  view.queries = std::move(outcome.queries);
  return std::optional<RoundView>(std::move(view));
}

registry::Result<std::vector<registry::QueryView>> ConformityFlow::pending(
    const std::string& licensor, std::size_t limit) {
  // A code mistyped (or in the wrong case) would otherwise read as a
  // licensor with nothing pending.
  if (!isListedLicensor(licensor)) {
    return makeError(ErrorCode::kNotFound, "licensor \"" + registry::quoteForMessage(licensor) +
                                               "\" is not a licensor listed under licensors");
  }
  return tracker_.pending(licensor, limit);
}

bool ConformityFlow::isListedLicensor(const std::string& code) const {
  return std::any_of(
      config_.licensors.begin(), config_.licensors.end(),
      [&code](const config::LicensorConfig& licensor) { return licensor.code == code; });
}

registry::Result<std::vector<registry::QueryView>> ConformityFlow::failed(std::size_t limit) {
  return tracker_.failed(limit);
}

registry::Result<std::vector<adapters::redis::ConformityTracker::RefusedOutcome>>
ConformityFlow::refusedOutcomes(std::size_t limit) {
  return tracker_.refusedOutcomes(limit);
}

registry::Status ConformityFlow::resendOutcome(const std::string& application_id) {
  auto resent = tracker_.resendOutcome(application_id, clock_());
  if (!resent.ok()) {
    return resent.takeError();
  }
  if (!*resent) {
    return makeError(ErrorCode::kNotFound, "application \"" +
                                               registry::quoteForMessage(application_id) +
                                               "\" has no refused outcome to resend");
  }
  getLogger("conformity")
      ->debug("the outcome of {} is due again, resent by the operator", application_id);
  return {};
}

registry::Result<adapters::redis::ConformityTracker::Backlog> ConformityFlow::backlog() {
  return tracker_.backlog();
}

ConformityCounters ConformityFlow::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

}  // namespace licgate::gateway
