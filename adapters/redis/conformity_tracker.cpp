// ConformityTracker on one hiredis connection
// (adapters/redis/conformity_tracker.hpp), its changes as the Lua scripts of
// adapters/redis/conformity_scripts.hpp.
//
// Each call is one round trip: one EVALSHA per batch of rounds opened and
// conclusions (kIntake), of claims, of settlements, of deadlines or of
// delivered outcomes (plus a SCRIPT LOAD the first time a script runs
// against a Redis that does not know it). A call
// whose script made rounds final takes a second one, a pipeline of HMGET
// that reads those rounds (readDecided).
//
// Attempts count sends made: a send is counted when its result is settled,
// and a claim's attempt number is that count + 1. A send whose process died
// before settling is not counted; its query is claimed again with the same
// number once the lease ends.
//
// TODO: a claim token in ClaimedQuery and SendResult - a process whose lease
// ran out while it was still sending settles the query under the claim of
// the process that took it over, so that a retry it reports makes the query
// due again while the other's send is under way (a second send, which
// at-least-once delivery allows, but one that need not happen).
#include "adapters/redis/conformity_tracker.hpp"

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "adapters/redis/conformity_scripts.hpp"
#include "adapters/redis/connection.hpp"

namespace licgate::adapters::redis {

using registry::Error;
using registry::ErrorCode;
using registry::Result;
using registry::Status;
using Json = nlohmann::json;

namespace {

namespace scripts = conformity_scripts;

// The most a script reads or claims in one call: it holds what it returns in
// memory and Redis serves nobody else meanwhile. A larger limit gets this
// many.
constexpr std::size_t kMaxBatch = 100'000;

// A script of the library's family: the shared functions, then its own body.
std::string withLibrary(std::string_view body) {
  std::string source(scripts::kLibrary);
  source.append(body);
  return source;
}

// Words that outlive the command built from them: a deque does not move
// its strings when it grows.
class WordStore {
 public:
  std::string_view keep(std::string text) { return texts_.emplace_back(std::move(text)); }
  std::string_view number(std::int64_t value) { return keep(std::to_string(value)); }
  std::string_view limit(std::size_t value) {
    return number(static_cast<std::int64_t>(std::min(value, kMaxBatch)));
  }

 private:
  std::deque<std::string> texts_;
};

// The decoders below read what the scripts encoded, or a hash's fields as
// HMGET returns them; a value that does not fit is a Redis that holds
// something licgate did not write. They throw, and decodeReply turns that
// into an error, as it does nlohmann's own.
std::string textAt(const Json& record, const char* name) {
  auto found = record.find(name);
  return found != record.end() && found->is_string() ? found->get<std::string>() : std::string();
}

// A hash's fields as HMGET read them: the names asked for, and the reply
// with a value (or nil) for each, in their order.
class HashFields {
 public:
  HashFields(std::span<const char* const> names, const redisReply* reply)
      : names_(names), reply_(reply) {
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != names.size()) {
      throw std::runtime_error("HMGET answered with something else than a value per field");
    }
  }
  // Whether the hash exists (HMGET cannot tell, but its first field is one
  // every such hash has).
  bool found() const { return reply_->element[0]->type == REDIS_REPLY_STRING; }
  std::string text(const char* name) const {
    for (std::size_t i = 0; i < names_.size(); ++i) {
      if (std::strcmp(names_[i], name) == 0) {
        const redisReply* value = reply_->element[i];
        return value->type == REDIS_REPLY_STRING ? std::string(value->str, value->len)
                                                 : std::string();
      }
    }
    return {};
  }

 private:
  std::span<const char* const> names_;
  const redisReply* reply_;
};

std::string textAt(const HashFields& record, const char* name) {
  return record.text(name);
}

template <typename Record>
std::int64_t numberAt(const Record& record, const char* name) {
  const std::string text = textAt(record, name);
  std::int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

// cjson encodes an empty list as an object.
const Json& listAt(const Json& record, const char* name) {
  static const Json kEmpty = Json::array();
  auto found = record.find(name);
  return found != record.end() && found->is_array() ? *found : kEmpty;
}

template <typename Record>
std::optional<registry::Verdict> verdictAt(const Record& record, const char* name) {
  const std::string text = textAt(record, name);
  if (text.empty()) {
    return std::nullopt;
  }
  auto verdict = registry::verdictFromName(text);
  if (!verdict) {
    throw std::runtime_error("a verdict \"" + text + "\" licgate does not know");
  }
  return verdict;
}

template <typename Record>
std::vector<std::string> reasonsAt(const Record& record, const char* name = "reasons") {
  const std::string text = textAt(record, name);
  if (text.empty()) {
    return {};
  }
  return Json::parse(text).get<std::vector<std::string>>();
}

// The fields of a query's hash that a QueryView shows (the first is one
// every query has).
constexpr const char* kQueryFields[] = {
    "state",        "application",  "licensor",     "body",        "attempts", "next_ms",
    "deadline_ms",  "last_error",   "verdict",      "tacit",       "reasons",  "signer",
    "concluded_ms", "late_verdict", "late_reasons", "late_signer", "late_ms"};

// The fields of an application's hash that its decided round needs.
constexpr const char* kDecidedFields[] = {
    "application_id", "licensor", "activity",   "applicant_iin_bin", "applicant_name",
    "fingerprint",    "outcome",  "decided_ms", "outcome_attempts"};

template <typename Record>
registry::QueryView queryViewOf(const Record& record, std::string query_id) {
  registry::QueryView view;
  view.query_id = std::move(query_id);
  view.application_id = textAt(record, "application");
  view.licensor = textAt(record, "licensor");
  view.body = textAt(record, "body");
  const std::string state = textAt(record, "state");
  auto known = registry::queryStateFromName(state);
  if (!known) {
    throw std::runtime_error("query " + view.query_id + " in a state \"" + state +
                             "\" licgate does not know");
  }
  view.state = *known;
  view.attempts = static_cast<int>(numberAt(record, "attempts"));
  view.next_attempt_ms = numberAt(record, "next_ms");
  view.deadline_ms = numberAt(record, "deadline_ms");
  view.last_error = textAt(record, "last_error");
  view.verdict = verdictAt(record, "verdict");
  view.tacit = textAt(record, "tacit") == "1";
  view.reasons = reasonsAt(record);
  view.signer = textAt(record, "signer");
  view.concluded_ms = numberAt(record, "concluded_ms");
  view.late_verdict = verdictAt(record, "late_verdict");
  view.late_reasons = reasonsAt(record, "late_reasons");
  view.late_signer = textAt(record, "late_signer");
  view.late_ms = numberAt(record, "late_ms");
  return view;
}

registry::ConformityRequest requestOf(const Json& record) {
  registry::ConformityRequest request;
  request.application_id = textAt(record, "application_id");
  request.licensor = textAt(record, "licensor");
  request.applicant.iin_bin = textAt(record, "applicant_iin_bin");
  request.applicant.name = textAt(record, "applicant_name");
  request.activity = textAt(record, "activity");
  request.data_json = textAt(record, "data_json");
  return request;
}

std::vector<registry::QueryView> queryViewsOf(const Json& list) {
  std::vector<registry::QueryView> views;
  views.reserve(list.size());
  for (const Json& record : list) {
    views.push_back(queryViewOf(record, textAt(record, "query_id")));
  }
  return views;
}

template <typename Record>
registry::RoundOutcome outcomeAt(const Record& record) {
  const std::string text = textAt(record, "outcome");
  auto outcome = registry::roundOutcomeFromName(text);
  if (!outcome) {
    throw std::runtime_error("an outcome \"" + text + "\" licgate does not know");
  }
  return *outcome;
}

// The round without its queries.
template <typename Record>
DecidedRound decidedRoundOf(const Record& record) {
  DecidedRound round;
  registry::ConformityOutcome& outcome = round.outcome;
  outcome.application_id = textAt(record, "application_id");
  outcome.licensor = textAt(record, "licensor");
  outcome.activity = textAt(record, "activity");
  outcome.applicant_iin_bin = textAt(record, "applicant_iin_bin");
  outcome.applicant_name = textAt(record, "applicant_name");
  outcome.request_fingerprint = textAt(record, "fingerprint");
  outcome.outcome = outcomeAt(record);
  outcome.decided_ms = numberAt(record, "decided_ms");
  round.attempt = static_cast<int>(numberAt(record, "outcome_attempts"));
  return round;
}

std::vector<DecidedRound> decidedRoundsOf(const Json& list) {
  std::vector<DecidedRound> rounds;
  if (!list.is_array()) {
    return rounds;
  }
  for (const Json& record : list) {
    rounds.push_back(decidedRoundOf(record));
    rounds.back().outcome.queries = queryViewsOf(listAt(record, "query_list"));
  }
  return rounds;
}

// A round a script made final, as closeQuery names it.
struct DecidedIds {
  std::string application_id;
  std::vector<std::string> query_ids;
};

// closeQuery's pairs (application id, query ids joined by commas) in an
// array reply, from its element `from` on; nullopt when the reply is not
// such a list.
std::optional<std::vector<DecidedIds>> decidedIdsOf(const redisReply* reply, std::size_t from) {
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements < from ||
      (reply->elements - from) % 2 != 0) {
    return std::nullopt;
  }
  std::vector<DecidedIds> rounds;
  for (std::size_t i = from; i < reply->elements; i += 2) {
    const redisReply* app = reply->element[i];
    const redisReply* ids = reply->element[i + 1];
    if (app->type != REDIS_REPLY_STRING || ids->type != REDIS_REPLY_STRING) {
      return std::nullopt;
    }
    DecidedIds& round = rounds.emplace_back();
    round.application_id.assign(app->str, app->len);
    std::string_view rest(ids->str, ids->len);
    while (!rest.empty()) {
      const std::size_t comma = std::min(rest.find(','), rest.size());
      if (comma > 0) {
        round.query_ids.emplace_back(rest.substr(0, comma));
      }
      rest.remove_prefix(std::min(comma + 1, rest.size()));
    }
  }
  return rounds;
}

std::vector<ClaimedQuery> claimedQueriesOf(const Json& list) {
  std::vector<ClaimedQuery> claimed;
  if (!list.is_array()) {
    return claimed;
  }
  for (const Json& record : list) {
    ClaimedQuery query;
    query.query_id = textAt(record, "query_id");
    query.body = textAt(record, "body");
    query.attempt = static_cast<int>(numberAt(record, "attempts")) + 1;
    query.deadline_ms = numberAt(record, "deadline_ms");
    query.request = requestOf(record.at("request"));
    claimed.push_back(std::move(query));
  }
  return claimed;
}

ConcludeResult concludeResultOf(const std::string& name) {
  static const std::pair<std::string_view, ConcludeResult> kNames[] = {
      {"accepted", ConcludeResult::kAccepted},
      {"duplicate", ConcludeResult::kDuplicate},
      {"late", ConcludeResult::kLate},
      {"unknown", ConcludeResult::kUnknown},
      {"wrong-body", ConcludeResult::kWrongBody},
      {"conflict", ConcludeResult::kConflict},
  };
  for (const auto& [text, result] : kNames) {
    if (text == name) {
      return result;
    }
  }
  throw std::runtime_error("a conclusion's result \"" + name + "\" licgate does not know");
}

std::string_view sendKindName(SendResult::Kind kind) {
  switch (kind) {
    case SendResult::Kind::kDelivered:
      return "delivered";
    case SendResult::Kind::kRetry:
      return "retry";
    case SendResult::Kind::kPermanent:
      return "permanent";
  }
  return "permanent";
}

std::string joinIds(const std::vector<QueryPlan>& queries) {
  std::string joined;
  for (const QueryPlan& query : queries) {
    if (!joined.empty()) {
      joined.push_back(',');
    }
    joined.append(query.query_id);
  }
  return joined;
}

// Reasons as the query's hash keeps them: JSON text; bytes that are not
// UTF-8 are replaced rather than refused, checkConclusion having passed them.
std::string reasonsJson(const std::vector<std::string>& reasons) {
  return Json(reasons).dump(-1, ' ', false, Json::error_handler_t::replace);
}

class RedisConformityTracker final : public ConformityTracker {
 public:
  explicit RedisConformityTracker(const RedisOptions& options)
      : prefix_(options.key_prefix + "cf:"),
        send_key_(prefix_ + "send"),
        licensors_key_(prefix_ + "licensors"),
        old_deadline_key_(prefix_ + "deadline"),
        outcome_key_(prefix_ + "outcome"),
        refused_key_(prefix_ + "refused"),
        tacit_reasons_(reasonsJson({std::string(registry::kTacitConsentReason)})),
        options_(options) {}

  Result<Opened> open(const OpenRound& round) override;
  Result<std::vector<Opened>> openAll(const std::vector<OpenRound>& rounds) override;
  Result<std::vector<Result<Concluded>>> concludeAll(const std::vector<ConclusionCall>& calls,
                                                     std::int64_t now_ms,
                                                     std::int64_t lease_ms) override;
  Result<OpenedAndConcluded> openAndConclude(const std::vector<OpenRound>& rounds,
                                             const std::vector<ConclusionCall>& calls,
                                             std::int64_t now_ms, std::int64_t lease_ms) override;
  Result<std::vector<ClaimedQuery>> claimSends(std::int64_t now_ms, std::int64_t lease_ms,
                                               std::size_t limit) override;
  Result<std::vector<DecidedRound>> settleSends(const std::vector<SendResult>& results,
                                                std::int64_t now_ms,
                                                std::int64_t lease_ms) override;
  Result<Concluded> conclude(const registry::Conclusion& conclusion, const std::string& fingerprint,
                             std::int64_t now_ms, std::int64_t lease_ms) override;
  Result<std::vector<DecidedRound>> expireDue(std::int64_t now_ms, std::int64_t lease_ms,
                                              std::size_t limit) override;
  Result<std::vector<DecidedRound>> claimOutcomes(std::int64_t now_ms, std::int64_t lease_ms,
                                                  std::size_t limit) override;
  Status outcomesDelivered(const std::vector<DeliveredOutcome>& delivered, std::int64_t now_ms,
                           std::int64_t keep_ms) override;
  Status outcomeRetry(const std::string& application_id, std::int64_t retry_at_ms,
                      const std::string& error) override;
  Status outcomeRefused(const std::string& application_id, std::int64_t now_ms,
                        const std::string& error) override;
  Result<bool> resendOutcome(const std::string& application_id, std::int64_t now_ms) override;
  Result<std::vector<RefusedOutcome>> refusedOutcomes(std::size_t limit) override;
  Result<std::optional<Round>> round(const std::string& application_id) override;
  Result<std::vector<registry::QueryView>> pending(const std::string& licensor,
                                                   std::size_t limit) override;
  Result<std::vector<registry::QueryView>> failed(std::size_t limit) override;
  Result<Backlog> backlog() override;
  Result<bool> appendOnly() override;

 private:
  struct Session;
  std::string appKey(const std::string& id) const { return prefix_ + "app:" + id; }
  std::string queryKey(const std::string& id) const { return prefix_ + "q:" + id; }
  std::string pendingKey(const std::string& licensor) const {
    return prefix_ + "pending:" + licensor;
  }

  // The library's ARGV[1..3] after `keys` (numkeys first): prefix, now,
  // the lease's end.
  Words libraryArguments(WordStore& store, const std::vector<std::string_view>& keys,
                         std::int64_t now_ms, std::int64_t lease_end_ms) const;
  Result<ReplyPtr> run(Script Session::*script, const Words& arguments);
  Result<Opened> openedOf(const redisReply* reply, const OpenRound& round);
  // KEYS and ARGV in the layout kIntake reads.
  Words intakeArguments(WordStore& store, const std::vector<const OpenRound*>& rounds,
                        const std::vector<ConclusionCall>& calls, std::int64_t now_ms,
                        std::int64_t lease_ms) const;
  // The answer to a conclusion; `decided` is set when it made its round
  // final, for readDecided.
  Result<Concluded> concludedOf(const redisReply* reply, std::optional<DecidedIds>& decided);
  // The decided rounds named, read in one round trip (HMGET of each hash:
  // a decided round's queries no longer change, so the read need not be
  // part of the script that decided it). A round not read, because Redis
  // could not be reached now or its hashes are gone or hold what licgate
  // did not write, is nullopt: its outcome, claimed by the script, is
  // delivered by the outcome timer once the claim's lease ends.
  std::vector<std::optional<DecidedRound>> readDecided(const std::vector<DecidedIds>& rounds);
  // A script's list of rounds made final, read.
  Result<std::vector<DecidedRound>> decidedOf(Result<ReplyPtr> reply, std::string_view what);
  template <typename T, typename Decode>
  Result<T> decodeReply(Result<ReplyPtr> reply, std::string_view what, Decode decode);
  template <typename T, typename Decode>
  Result<T> decodeReply(const redisReply* reply, std::string_view what, Decode decode);
  Error unexpected(std::string_view what, std::string_view detail) const;
  // "Redis at host:port", as errors name it.
  std::string redisAt() const {
    return "Redis at " + options_.host + ":" + std::to_string(options_.port);
  }

  const std::string prefix_;
  const std::string send_key_;
  const std::string licensors_key_;
  const std::string old_deadline_key_;  // written by earlier versions; emptied by expireDue
  const std::string outcome_key_;
  const std::string refused_key_;
  const std::string tacit_reasons_;  // as a script argument

  // A connection with the scripts as it has loaded them. The commit
  // thread, the flow's thread and the HTTP threads each take one for a
  // call, so that one's round trip (or one's wait to be scheduled to read
  // its reply) does not hold up the others; Redis runs the scripts one at a
  // time whoever sends them.
  struct Session {
    explicit Session(const RedisOptions& options) : connection(options) {}
    Connection connection;
    Script claim_sends{withLibrary(scripts::kClaimSends)};
    Script settle_sends{withLibrary(scripts::kSettleSends)};
    Script intake{withLibrary(scripts::kIntake)};
    Script expire_due{withLibrary(scripts::kExpireDue)};
    Script claim_outcomes{withLibrary(scripts::kClaimOutcomes)};
    Script outcomes_delivered{std::string(scripts::kOutcomesDelivered)};
    Script outcome_retry{std::string(scripts::kOutcomeRetry)};
    Script outcome_refused{std::string(scripts::kOutcomeRefused)};
    Script resend_outcome{std::string(scripts::kResendOutcome)};
    Script refused_outcomes{std::string(scripts::kRefusedOutcomes)};
    Script round{withLibrary(scripts::kRound)};
    Script pending{withLibrary(scripts::kPending)};
  };
  // A session taken from the pool for one call, and put back after it.
  class Lease {
   public:
    Lease(RedisConformityTracker& owner, std::unique_ptr<Session> session)
        : owner_(owner), session_(std::move(session)) {}
    ~Lease() { owner_.giveBack(std::move(session_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Session* operator->() const { return session_.get(); }

   private:
    RedisConformityTracker& owner_;
    std::unique_ptr<Session> session_;
  };
  // Enough for the threads that call at once: the intake's commit thread,
  // the flow's thread, an HTTP thread or two. A further caller waits.
  static constexpr std::size_t kMaxSessions = 4;
  Lease take();
  void giveBack(std::unique_ptr<Session> session);

  const RedisOptions options_;
  std::mutex pool_mutex_;
  std::condition_variable pool_free_;
  std::vector<std::unique_ptr<Session>> idle_;  // guarded by pool_mutex_
  std::size_t sessions_ = 0;                    // made so far, guarded by pool_mutex_
};

Error RedisConformityTracker::unexpected(std::string_view what, std::string_view detail) const {
  return registry::makeError(ErrorCode::kUnavailable,
                             redisAt() + " answered " + std::string(what) +
                                 " with something else: " + std::string(detail));
}

Words RedisConformityTracker::libraryArguments(WordStore& store,
                                               const std::vector<std::string_view>& keys,
                                               std::int64_t now_ms,
                                               std::int64_t lease_end_ms) const {
  Words arguments;
  arguments.add(store.number(static_cast<std::int64_t>(keys.size())));
  for (std::string_view key : keys) {
    arguments.add(key);
  }
  arguments.add(prefix_).add(store.number(now_ms)).add(store.number(lease_end_ms));
  return arguments;
}

RedisConformityTracker::Lease RedisConformityTracker::take() {
  std::unique_lock lock(pool_mutex_);
  pool_free_.wait(lock, [this] { return !idle_.empty() || sessions_ < kMaxSessions; });
  if (!idle_.empty()) {
    std::unique_ptr<Session> session = std::move(idle_.back());
    idle_.pop_back();
    return Lease(*this, std::move(session));
  }
  ++sessions_;
  lock.unlock();
  // Connects at its first command: nothing here waits for Redis.
  return Lease(*this, std::make_unique<Session>(options_));
}

void RedisConformityTracker::giveBack(std::unique_ptr<Session> session) {
  {
    std::lock_guard lock(pool_mutex_);
    idle_.push_back(std::move(session));
  }
  pool_free_.notify_one();
}

Result<ReplyPtr> RedisConformityTracker::run(Script Session::*script, const Words& arguments) {
  Lease session = take();
  return session->connection.runScript((*session.operator->()).*script, arguments);
}

// Replies that are JSON text (or nil, for `decode` to see as null).
template <typename T, typename Decode>
Result<T> RedisConformityTracker::decodeReply(Result<ReplyPtr> reply, std::string_view what,
                                              Decode decode) {
  if (!reply.ok()) {
    return reply.takeError();
  }
  return decodeReply<T>(reply->get(), what, decode);
}

template <typename T, typename Decode>
Result<T> RedisConformityTracker::decodeReply(const redisReply* raw, std::string_view what,
                                              Decode decode) {
  if (raw->type != REDIS_REPLY_STRING && raw->type != REDIS_REPLY_NIL) {
    return unexpected(what, "not a text");
  }
  try {
    Json json = raw->type == REDIS_REPLY_NIL ? Json() : Json::parse(raw->str, raw->str + raw->len);
    return decode(json);
  } catch (const std::exception& error) {
    return unexpected(what, error.what());
  }
}

// The application hash's field/value words when its round opens.
Words appFields(WordStore& store, const OpenRound& round) {
  const registry::ConformityRequest& request = round.request;
  Words app;
  app.add("application_id").add(request.application_id).add("licensor").add(request.licensor);
  app.add("applicant_iin_bin").add(request.applicant.iin_bin);
  app.add("applicant_name").add(request.applicant.name).add("activity").add(request.activity);
  app.add("data_json").add(request.data_json).add("fingerprint").add(round.fingerprint);
  app.add("created_ms").add(store.number(round.now_ms));
  app.add("queries").add(store.keep(joinIds(round.queries)));
  app.add("open").add(store.number(static_cast<std::int64_t>(round.queries.size())));
  // The round counts its verdicts as its queries become final (kLibrary,
  // closeQuery); rounds opened before it did lack the mark.
  app.add("tallied").add("1");
  app.add("outcome").add("").add("outcome_attempts").add("0").add("outcome_error").add("");
  return app;
}

// A query hash's field/value words when it opens: sending, due now (its
// first send claimed by the caller).
Words queryFields(WordStore& store, const OpenRound& round, const QueryPlan& plan) {
  Words fields;
  fields.add("application").add(round.request.application_id);
  fields.add("licensor").add(round.request.licensor).add("body").add(plan.body);
  fields.add("state").add("sending").add("attempts").add("0");
  fields.add("next_ms").add(store.number(round.now_ms));
  fields.add("deadline_ms").add(store.number(plan.deadline_ms));
  fields.add("consent").add(plan.consent_on_silence ? "1" : "0");
  fields.add("max_attempts").add(store.number(plan.max_attempts)).add("last_error").add("");
  return fields;
}

// A round's answer from kIntake; the claims are the plan's, so Redis need not send them.
Result<Opened> RedisConformityTracker::openedOf(const redisReply* reply, const OpenRound& round) {
  const std::string_view answer = reply->type == REDIS_REPLY_STRING
                                      ? std::string_view(reply->str, reply->len)
                                      : std::string_view();
  Opened opened;
  if (answer == "duplicate" || answer == "conflict") {
    opened.result = answer == "duplicate" ? OpenResult::kDuplicate : OpenResult::kConflict;
    return opened;
  }
  if (answer != "opened") {
    return unexpected("the opening of a round", answer);
  }
  for (const QueryPlan& plan : round.queries) {
    opened.claimed.push_back(
        ClaimedQuery{plan.query_id, plan.body, 1, plan.deadline_ms, round.request});
  }
  return opened;
}

Words RedisConformityTracker::intakeArguments(WordStore& store,
                                              const std::vector<const OpenRound*>& rounds,
                                              const std::vector<ConclusionCall>& calls,
                                              std::int64_t now_ms, std::int64_t lease_ms) const {
  Words keys;
  keys.add(send_key_).add(licensors_key_);
  Words arguments;
  arguments.add(prefix_).add(store.number(now_ms)).add(store.number(now_ms + lease_ms));
  arguments.add(store.number(static_cast<std::int64_t>(rounds.size())));
  arguments.add(store.number(static_cast<std::int64_t>(calls.size())));
  for (const OpenRound* round : rounds) {
    keys.add(store.keep(appKey(round->request.application_id)));
    keys.add(store.keep(pendingKey(round->request.licensor)));
    Words queries;
    int query_words = 0;
    for (const QueryPlan& plan : round->queries) {
      keys.add(store.keep(queryKey(plan.query_id)));
      Words fields = queryFields(store, *round, plan);
      query_words = fields.count();
      queries.add(plan.query_id).add(store.number(plan.deadline_ms)).append(fields);
    }
    const Words app = appFields(store, *round);
    arguments.add(round->fingerprint).add(store.number(round->now_ms + round->lease_ms));
    arguments.add(store.number(static_cast<std::int64_t>(round->queries.size())));
    arguments.add(store.number(app.count())).add(store.number(query_words));
    arguments.append(app).append(queries);
  }
  for (const ConclusionCall& call : calls) {
    const registry::Conclusion& conclusion = call.conclusion;
    keys.add(store.keep(queryKey(conclusion.query_id)));
    arguments.add(conclusion.body).add(registry::verdictName(conclusion.verdict));
    arguments.add(store.keep(reasonsJson(conclusion.reasons))).add(conclusion.signer);
    arguments.add(conclusion.signed_document).add(call.fingerprint).add(conclusion.query_id);
  }
  Words all;
  all.add(store.number(keys.count())).append(keys).append(arguments);
  return all;
}

Result<Opened> RedisConformityTracker::open(const OpenRound& round) {
  auto all = openAll({round});
  if (!all.ok()) {
    return all.takeError();
  }
  Opened& opened = all->front();
  if (opened.error) {
    return std::move(*opened.error);
  }
  return std::move(opened);
}

Result<std::vector<Opened>> RedisConformityTracker::openAll(const std::vector<OpenRound>& rounds) {
  auto answered = openAndConclude(rounds, {}, 0, 0);
  if (!answered.ok()) {
    return answered.takeError();
  }
  return std::move(answered->opened);
}

Result<std::vector<ClaimedQuery>> RedisConformityTracker::claimSends(std::int64_t now_ms,
                                                                     std::int64_t lease_ms,
                                                                     std::size_t limit) {
  if (limit == 0) {
    return std::vector<ClaimedQuery>();
  }
  WordStore store;
  Words arguments = libraryArguments(store, {send_key_}, now_ms, now_ms + lease_ms);
  arguments.add(store.limit(limit));
  return decodeReply<std::vector<ClaimedQuery>>(run(&Session::claim_sends, arguments),
                                                "a claim of sends", claimedQueriesOf);
}

Result<std::vector<DecidedRound>> RedisConformityTracker::settleSends(
    const std::vector<SendResult>& results, std::int64_t now_ms, std::int64_t lease_ms) {
  if (results.empty()) {
    return std::vector<DecidedRound>();
  }
  WordStore store;
  Words arguments = libraryArguments(store, {}, now_ms, now_ms + lease_ms);
  for (const SendResult& result : results) {
    arguments.add(result.query_id).add(sendKindName(result.kind)).add(result.error);
    arguments.add(store.number(result.retry_at_ms));
  }
  return decidedOf(run(&Session::settle_sends, arguments), "a settlement of sends");
}

Result<Concluded> RedisConformityTracker::concludedOf(const redisReply* raw,
                                                      std::optional<DecidedIds>& decided) {
  if (raw->type == REDIS_REPLY_ARRAY) {
    auto rounds = decidedIdsOf(raw, 1);
    if (raw->elements != 3 || raw->element[0]->type != REDIS_REPLY_STRING ||
        std::string_view(raw->element[0]->str, raw->element[0]->len) != "accepted" || !rounds) {
      return unexpected("a conclusion", "a list other than a round made final");
    }
    decided = std::move(rounds->front());
    return Concluded{ConcludeResult::kAccepted, {}, {}, {}};
  }
  if (raw->type == REDIS_REPLY_STRING && raw->len > 0 && raw->str[0] != '{') {
    try {
      return Concluded{concludeResultOf(std::string(raw->str, raw->len)), {}, {}, {}};
    } catch (const std::exception& error) {
      return unexpected("a conclusion", error.what());
    }
  }
  return decodeReply<Concluded>(raw, "a conclusion", [](const Json& json) {
    Concluded concluded;
    concluded.result = concludeResultOf(textAt(json, "result"));
    concluded.recorded_body = textAt(json, "recorded_body");
    concluded.late_application = textAt(json, "application");
    return concluded;
  });
}

std::vector<std::optional<DecidedRound>> RedisConformityTracker::readDecided(
    const std::vector<DecidedIds>& rounds) {
  std::vector<std::optional<DecidedRound>> read(rounds.size());
  if (rounds.empty()) {
    return read;
  }
  WordStore store;
  std::vector<Words> commands;
  std::vector<std::size_t> first;  // each round's first command
  for (const DecidedIds& round : rounds) {
    first.push_back(commands.size());
    Words& app = commands.emplace_back();
    app.add("HMGET").add(store.keep(appKey(round.application_id)));
    for (const char* field : kDecidedFields) {
      app.add(field);
    }
    for (const std::string& id : round.query_ids) {
      Words& query = commands.emplace_back();
      query.add("HMGET").add(store.keep(queryKey(id)));
      for (const char* field : kQueryFields) {
        query.add(field);
      }
    }
  }
  auto replies = take()->connection.runPipeline(commands);
  if (!replies.ok()) {
    return read;
  }
  for (std::size_t i = 0; i < rounds.size(); ++i) {
    try {
      std::size_t at = first[i];
      const HashFields app(kDecidedFields, (*replies)[at++].get());
      if (!app.found()) {
        continue;
      }
      DecidedRound round = decidedRoundOf(app);
      for (const std::string& id : rounds[i].query_ids) {
        const HashFields query(kQueryFields, (*replies)[at++].get());
        if (!query.found()) {
          break;
        }
        round.outcome.queries.push_back(queryViewOf(query, id));
      }
      if (round.outcome.queries.size() == rounds[i].query_ids.size()) {
        read[i] = std::move(round);
      }
    } catch (const std::exception&) {
      // Left to the outcome timer, whose claim reports what is wrong.
    }
  }
  return read;
}

Result<std::vector<DecidedRound>> RedisConformityTracker::decidedOf(Result<ReplyPtr> reply,
                                                                    std::string_view what) {
  if (!reply.ok()) {
    return reply.takeError();
  }
  auto names = decidedIdsOf(reply->get(), 0);
  if (!names) {
    return unexpected(what, "not a list of rounds made final");
  }
  std::vector<DecidedRound> rounds;
  for (auto& round : readDecided(*names)) {
    if (round) {
      rounds.push_back(std::move(*round));
    }
  }
  return rounds;
}

Result<Concluded> RedisConformityTracker::conclude(const registry::Conclusion& conclusion,
                                                   const std::string& fingerprint,
                                                   std::int64_t now_ms, std::int64_t lease_ms) {
  auto all = concludeAll({ConclusionCall{conclusion, fingerprint}}, now_ms, lease_ms);
  if (!all.ok()) {
    return all.takeError();
  }
  return std::move(all->front());
}

Result<std::vector<Result<Concluded>>> RedisConformityTracker::concludeAll(
    const std::vector<ConclusionCall>& calls, std::int64_t now_ms, std::int64_t lease_ms) {
  auto answered = openAndConclude({}, calls, now_ms, lease_ms);
  if (!answered.ok()) {
    return answered.takeError();
  }
  return std::move(answered->concluded);
}

Result<ConformityTracker::OpenedAndConcluded> RedisConformityTracker::openAndConclude(
    const std::vector<OpenRound>& rounds, const std::vector<ConclusionCall>& calls,
    std::int64_t now_ms, std::int64_t lease_ms) {
  OpenedAndConcluded answers;
  answers.opened.resize(rounds.size());
  std::vector<const OpenRound*> to_open;
  std::vector<std::size_t> opened_at;  // each round opened, in `rounds`
  for (std::size_t i = 0; i < rounds.size(); ++i) {
    if (rounds[i].queries.empty()) {
      answers.opened[i].error = registry::makeError(
          ErrorCode::kInvalidField,
          "application " + rounds[i].request.application_id + ": a round without queries");
    } else {
      to_open.push_back(&rounds[i]);
      opened_at.push_back(i);
    }
  }
  if (to_open.empty() && calls.empty()) {
    return answers;
  }
  WordStore store;
  const Words arguments = intakeArguments(store, to_open, calls, now_ms, lease_ms);
  auto reply = run(&Session::intake, arguments);
  if (!reply.ok()) {
    return reply.takeError();
  }
  const redisReply* raw = reply->get();
  if (raw->type != REDIS_REPLY_ARRAY || raw->elements != to_open.size() + calls.size()) {
    return unexpected("the intake's calls", "not one answer per call");
  }
  // A call that failed inside the script answers with its error, as its
  // own script's call would.
  const auto failed = [this](const redisReply* answer) {
    return registry::makeError(ErrorCode::kUnavailable, redisAt() + " failed a script: " +
                                                            std::string(answer->str, answer->len));
  };
  for (std::size_t i = 0; i < to_open.size(); ++i) {
    const redisReply* answer = raw->element[i];
    auto opened = answer->type == REDIS_REPLY_ERROR ? Result<Opened>(failed(answer))
                                                    : openedOf(answer, *to_open[i]);
    if (opened.ok()) {
      answers.opened[opened_at[i]] = std::move(*opened);
    } else {
      answers.opened[opened_at[i]].error = opened.takeError();
    }
  }
  answers.concluded.reserve(calls.size());
  std::vector<DecidedIds> decided;
  std::vector<std::size_t> decided_by;  // the conclusion that decided each
  for (std::size_t i = 0; i < calls.size(); ++i) {
    const redisReply* answer = raw->element[to_open.size() + i];
    std::optional<DecidedIds> round;
    answers.concluded.push_back(answer->type == REDIS_REPLY_ERROR
                                    ? Result<Concluded>(failed(answer))
                                    : concludedOf(answer, round));
    if (round) {
      decided.push_back(std::move(*round));
      decided_by.push_back(i);
    }
  }
  auto read = readDecided(decided);
  for (std::size_t i = 0; i < read.size(); ++i) {
    answers.concluded[decided_by[i]]->decided = std::move(read[i]);
  }
  return answers;
}

Result<std::vector<DecidedRound>> RedisConformityTracker::expireDue(std::int64_t now_ms,
                                                                    std::int64_t lease_ms,
                                                                    std::size_t limit) {
  if (limit == 0) {
    return std::vector<DecidedRound>();
  }
  WordStore store;
  Words arguments =
      libraryArguments(store, {licensors_key_, old_deadline_key_}, now_ms, now_ms + lease_ms);
  arguments.add(store.limit(limit)).add(tacit_reasons_);
  return decidedOf(run(&Session::expire_due, arguments), "a deadline check");
}

Result<std::vector<DecidedRound>> RedisConformityTracker::claimOutcomes(std::int64_t now_ms,
                                                                        std::int64_t lease_ms,
                                                                        std::size_t limit) {
  if (limit == 0) {
    return std::vector<DecidedRound>();
  }
  WordStore store;
  Words arguments = libraryArguments(store, {outcome_key_}, now_ms, now_ms + lease_ms);
  arguments.add(store.limit(limit));
  return decodeReply<std::vector<DecidedRound>>(run(&Session::claim_outcomes, arguments),
                                                "a claim of outcomes", decidedRoundsOf);
}

Status RedisConformityTracker::outcomesDelivered(const std::vector<DeliveredOutcome>& delivered,
                                                 std::int64_t now_ms, std::int64_t keep_ms) {
  if (delivered.empty()) {
    return {};
  }
  WordStore store;
  Words arguments;
  arguments.add(store.number(static_cast<std::int64_t>(delivered.size()) + 2));
  arguments.add(outcome_key_).add(store.keep(prefix_ + "failed"));
  for (const DeliveredOutcome& round : delivered) {
    arguments.add(store.keep(appKey(round.application_id)));
  }
  arguments.add(store.number(now_ms)).add(store.number(std::max<std::int64_t>(keep_ms, 0)));
  arguments.add(prefix_);
  for (const DeliveredOutcome& round : delivered) {
    arguments.add(round.application_id)
        .add(store.number(static_cast<std::int64_t>(round.query_ids.size())));
    for (const std::string& id : round.query_ids) {
      arguments.add(id);
    }
  }
  auto reply = run(&Session::outcomes_delivered, arguments);
  return reply.ok() ? Status() : Status(reply.takeError());
}

Status RedisConformityTracker::outcomeRetry(const std::string& application_id,
                                            std::int64_t retry_at_ms, const std::string& error) {
  WordStore store;
  Words arguments;
  arguments.add("2").add(outcome_key_).add(store.keep(appKey(application_id)));
  arguments.add(application_id).add(store.number(retry_at_ms)).add(error);
  auto reply = run(&Session::outcome_retry, arguments);
  return reply.ok() ? Status() : Status(reply.takeError());
}

Status RedisConformityTracker::outcomeRefused(const std::string& application_id,
                                              std::int64_t now_ms, const std::string& error) {
  WordStore store;
  Words arguments;
  arguments.add("3").add(outcome_key_).add(store.keep(appKey(application_id))).add(refused_key_);
  arguments.add(application_id).add(store.number(now_ms)).add(error);
  auto reply = run(&Session::outcome_refused, arguments);
  return reply.ok() ? Status() : Status(reply.takeError());
}

Result<bool> RedisConformityTracker::resendOutcome(const std::string& application_id,
                                                   std::int64_t now_ms) {
  WordStore store;
  Words arguments;
  arguments.add("3").add(refused_key_).add(outcome_key_).add(store.keep(appKey(application_id)));
  arguments.add(application_id).add(store.number(now_ms));
  auto reply = run(&Session::resend_outcome, arguments);
  if (!reply.ok()) {
    return reply.takeError();
  }
  if ((*reply)->type != REDIS_REPLY_INTEGER) {
    return unexpected("a resend of an outcome", "not a number");
  }
  return (*reply)->integer == 1;
}

Result<std::vector<ConformityTracker::RefusedOutcome>> RedisConformityTracker::refusedOutcomes(
    std::size_t limit) {
  if (limit == 0) {
    return std::vector<RefusedOutcome>();
  }
  WordStore store;
  Words arguments;
  arguments.add("1").add(refused_key_).add(store.limit(limit)).add(prefix_);
  return decodeReply<std::vector<RefusedOutcome>>(
      run(&Session::refused_outcomes, arguments), "a read of refused outcomes",
      [](const Json& json) {
        std::vector<RefusedOutcome> list;
        for (const Json& item : json.is_array() ? json : Json::array()) {
          RefusedOutcome refused;
          refused.application_id = textAt(item, "application_id");
          refused.licensor = textAt(item, "licensor");
          refused.outcome = textAt(item, "outcome");
          refused.error = textAt(item, "outcome_error");
          refused.attempts = static_cast<int>(numberAt(item, "outcome_attempts"));
          refused.refused_ms = numberAt(item, "refused_ms");
          list.push_back(std::move(refused));
        }
        return list;
      });
}

Result<std::optional<ConformityTracker::Round>> RedisConformityTracker::round(
    const std::string& application_id) {
  WordStore store;
  Words arguments = libraryArguments(store, {}, 0, 0);
  arguments.add(application_id);
  return decodeReply<std::optional<Round>>(run(&Session::round, arguments), "a round's read",
                                           [](const Json& json) -> std::optional<Round> {
                                             if (json.is_null()) {
                                               return std::nullopt;
                                             }
                                             Round round;
                                             round.request = requestOf(json);
                                             round.queries =
                                                 queryViewsOf(listAt(json, "query_list"));
                                             if (!textAt(json, "outcome").empty()) {
                                               round.outcome = outcomeAt(json);
                                             }
                                             round.decided_ms = numberAt(json, "decided_ms");
                                             round.delivered_ms = numberAt(json, "delivered_ms");
                                             return round;
                                           });
}

Result<std::vector<registry::QueryView>> RedisConformityTracker::pending(
    const std::string& licensor, std::size_t limit) {
  if (limit == 0) {
    return std::vector<registry::QueryView>();
  }
  WordStore store;
  const std::string_view pending_key = store.keep(pendingKey(licensor));
  Words arguments = libraryArguments(store, {pending_key}, 0, 0);
  arguments.add(store.limit(limit)).add("first");
  return decodeReply<std::vector<registry::QueryView>>(
      run(&Session::pending, arguments), "a read of pending queries",
      [](const Json& json) { return queryViewsOf(json.is_array() ? json : Json::array()); });
}

Result<std::vector<registry::QueryView>> RedisConformityTracker::failed(std::size_t limit) {
  if (limit == 0) {
    return std::vector<registry::QueryView>();
  }
  WordStore store;
  const std::string_view failed_key = store.keep(prefix_ + "failed");
  Words arguments = libraryArguments(store, {failed_key}, 0, 0);
  arguments.add(store.limit(limit)).add("last");
  return decodeReply<std::vector<registry::QueryView>>(
      run(&Session::pending, arguments), "a read of failed queries",
      [](const Json& json) { return queryViewsOf(json.is_array() ? json : Json::array()); });
}

Result<ConformityTracker::Backlog> RedisConformityTracker::backlog() {
  std::vector<Words> commands(4);
  commands[0].add("ZCARD").add(send_key_);
  // The open queries are the members of the licensors' pending sets.
  commands[1].add("EVAL").add(scripts::kOpenQueries).add("1").add(licensors_key_);
  commands[2].add("ZCARD").add(outcome_key_);
  commands[3].add("ZCARD").add(refused_key_);
  auto replies = take()->connection.runPipeline(commands);
  if (!replies.ok()) {
    return replies.takeError();
  }
  std::uint64_t counts[4] = {};
  for (std::size_t i = 0; i < 4; ++i) {
    const redisReply* reply = (*replies)[i].get();
    if (reply->type != REDIS_REPLY_INTEGER) {
      return unexpected("ZCARD", "not a number");
    }
    counts[i] = static_cast<std::uint64_t>(reply->integer);
  }
  return Backlog{counts[0], counts[1], counts[2], counts[3]};
}

Result<bool> RedisConformityTracker::appendOnly() {
  std::vector<Words> commands(1);
  commands[0].add("INFO").add("persistence");
  auto replies = take()->connection.runPipeline(commands);
  if (!replies.ok()) {
    return replies.takeError();
  }
  const redisReply* reply = (*replies)[0].get();
  if (reply->type != REDIS_REPLY_STRING) {
    return unexpected("INFO persistence", "not text");
  }
  const std::string_view info(reply->str, reply->len);
  const std::size_t at = info.find("aof_enabled:");
  if (at == std::string_view::npos) {
    return unexpected("INFO persistence", "no aof_enabled line");
  }
  return info.substr(at + 12, 1) == "1";
}

}  // namespace

std::unique_ptr<ConformityTracker> makeConformityTracker(RedisOptions options) {
  return std::make_unique<RedisConformityTracker>(options);
}

}  // namespace licgate::adapters::redis
