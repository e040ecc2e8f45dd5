// ConformityTracker against a real redis-server on a free loopback port.
#include "adapters/redis/conformity_tracker.hpp"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "../redis_process.hpp"

namespace licgate::adapters::redis {
namespace {

using registry::ErrorCode;
using registry::QueryState;
using registry::QueryView;
using registry::RoundOutcome;
using registry::Verdict;

constexpr std::int64_t kNow = 1'000'000;
constexpr std::int64_t kLease = 30'000;
constexpr std::int64_t kDeadline = 10'000'000;

registry::ConformityRequest request(const std::string& application_id) {
  registry::ConformityRequest request;
  request.application_id = application_id;
  request.licensor = "CZ-ERU";
  request.applicant = {"050540004455", "Alem Energy LLP"};
  request.activity = "05.1";
  request.data_json = R"({"site":"Almaty, Seifullin 12"})";
  return request;
}

QueryPlan plan(const std::string& query_id, const std::string& body,
               std::int64_t deadline_ms = kDeadline, bool consent = true, int max_attempts = 3) {
  return QueryPlan{query_id, body, deadline_ms, consent, max_attempts};
}

OpenRound openRound(const std::string& application_id, std::vector<QueryPlan> queries,
                    std::int64_t now_ms = kNow) {
  OpenRound round;
  round.request = request(application_id);
  round.fingerprint = "fp-" + application_id;
  round.queries = std::move(queries);
  round.now_ms = now_ms;
  round.lease_ms = kLease;
  return round;
}

registry::Conclusion conclusion(const std::string& query_id, const std::string& body,
                                Verdict verdict = Verdict::kConforms) {
  registry::Conclusion conclusion;
  conclusion.query_id = query_id;
  conclusion.body = body;
  conclusion.verdict = verdict;
  conclusion.reasons = {"premises inspected 2026-12-08"};
  conclusion.signer = "Inspector A. Seitkali";
  conclusion.signed_document = "MIIB";
  return conclusion;
}

SendResult delivered(const std::string& query_id) {
  return SendResult{query_id, SendResult::Kind::kDelivered, "", 0};
}

SendResult retry(const std::string& query_id, std::int64_t at_ms, const std::string& error) {
  return SendResult{query_id, SendResult::Kind::kRetry, error, at_ms};
}

SendResult permanent(const std::string& query_id, const std::string& error) {
  return SendResult{query_id, SendResult::Kind::kPermanent, error, 0};
}

std::vector<std::string> idsOf(const std::vector<ClaimedQuery>& claimed) {
  std::vector<std::string> ids;
  for (const ClaimedQuery& query : claimed) {
    ids.push_back(query.query_id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

class ConformityTrackerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(redis_.start()) << "redis-server did not start";
    tracker_ = makeConformityTracker(options());
  }

  RedisOptions options() const {
    RedisOptions options;
    options.port = redis_.port();
    options.retry_after_ms = 100;
    options.key_prefix = "t:";
    return options;
  }

  // Opens `round` and expects it new.
  void openNew(const OpenRound& round) {
    auto opened = tracker_->open(round);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    ASSERT_EQ(opened->result, OpenResult::kOpened);
  }

  // A one-query round "app-1", its query "cq-1" to "sanitary", delivered.
  void openDelivered(bool consent = true) {
    openNew(openRound("app-1", {plan("cq-1", "sanitary", kDeadline, consent)}));
    auto settled = tracker_->settleSends({delivered("cq-1")}, kNow + 10, kLease);
    ASSERT_TRUE(settled.ok()) << settled.error().message;
  }

  QueryView query(const std::string& application_id, const std::string& query_id) {
    auto found = tracker_->round(application_id);
    EXPECT_TRUE(found.ok() && found->has_value());
    for (const QueryView& view : (*found)->queries) {
      if (view.query_id == query_id) {
        return view;
      }
    }
    ADD_FAILURE() << "no query " << query_id;
    return {};
  }

  ConformityTracker::Backlog backlog() {
    auto counts = tracker_->backlog();
    EXPECT_TRUE(counts.ok());
    return counts.ok() ? *counts : ConformityTracker::Backlog{};
  }

  // A command on a connection of its own: the reply's text or integer,
  // "(nil)" for nil.
  std::string rawText(const std::vector<std::string>& words) {
    redisContext* context = redisConnect("127.0.0.1", redis_.port());
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (const std::string& word : words) {
      argv.push_back(word.data());
      lengths.push_back(word.size());
    }
    auto* reply = static_cast<redisReply*>(
        redisCommandArgv(context, static_cast<int>(argv.size()), argv.data(), lengths.data()));
    std::string text = "(nil)";
    if (reply->type == REDIS_REPLY_INTEGER) {
      text = std::to_string(reply->integer);
    } else if (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS) {
      text.assign(reply->str, reply->len);
    }
    freeReplyObject(reply);
    redisFree(context);
    return text;
  }

  // A command whose reply is a number (ZSCORE, ZCARD, EXISTS); -1 for nil.
  long long raw(const std::vector<std::string>& words) {
    const std::string text = rawText(words);
    return text == "(nil)" ? -1 : std::stoll(text);
  }

  test::RedisProcess redis_;
  std::unique_ptr<ConformityTracker> tracker_;
};

TEST_F(ConformityTrackerTest, OpensARoundWithEveryQueryClaimedForItsFirstSend) {
  auto opened = tracker_->open(openRound(
      "app-1", {plan("cq-1", "sanitary", kDeadline), plan("cq-2", "fire", kDeadline - 5)}));

  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(opened->result, OpenResult::kOpened);
  ASSERT_EQ(opened->claimed.size(), 2u);
  EXPECT_EQ(opened->claimed[0].query_id, "cq-1");
  EXPECT_EQ(opened->claimed[0].body, "sanitary");
  EXPECT_EQ(opened->claimed[0].attempt, 1);
  EXPECT_EQ(opened->claimed[0].deadline_ms, kDeadline);
  EXPECT_EQ(opened->claimed[0].request.applicant.name, "Alem Energy LLP");
  EXPECT_EQ(raw({"ZSCORE", "t:cf:send", "cq-1"}), kNow + kLease);
  EXPECT_EQ(raw({"ZSCORE", "t:cf:pending:CZ-ERU", "cq-1"}), kDeadline);
  EXPECT_EQ(raw({"ZSCORE", "t:cf:pending:CZ-ERU", "cq-2"}), kDeadline - 5);
  EXPECT_EQ(raw({"SISMEMBER", "t:cf:licensors", "t:cf:pending:CZ-ERU"}), 1)
      << "the deadline timer finds the licensor's pending set";

  auto round = tracker_->round("app-1");
  ASSERT_TRUE(round.ok() && round->has_value()) << (round.ok() ? "" : round.error().message);
  EXPECT_EQ((*round)->request.application_id, "app-1");
  EXPECT_EQ((*round)->request.licensor, "CZ-ERU");
  EXPECT_EQ((*round)->request.applicant.iin_bin, "050540004455");
  EXPECT_EQ((*round)->request.activity, "05.1");
  EXPECT_EQ((*round)->request.data_json, R"({"site":"Almaty, Seifullin 12"})");
  EXPECT_FALSE((*round)->outcome.has_value());
  EXPECT_EQ((*round)->decided_ms, 0);
  ASSERT_EQ((*round)->queries.size(), 2u);
  const QueryView& first = (*round)->queries[0];
  EXPECT_EQ(first.query_id, "cq-1");
  EXPECT_EQ(first.application_id, "app-1");
  EXPECT_EQ(first.licensor, "CZ-ERU");
  EXPECT_EQ(first.body, "sanitary");
  EXPECT_EQ(first.state, QueryState::kSending);
  EXPECT_EQ(first.attempts, 0);
  EXPECT_EQ(first.next_attempt_ms, kNow);
  EXPECT_EQ(first.deadline_ms, kDeadline);
  EXPECT_FALSE(first.verdict.has_value());
  EXPECT_EQ(backlog().sends, 2u);
  EXPECT_EQ(backlog().open_queries, 2u);
  EXPECT_EQ(backlog().outcomes, 0u);
}

TEST_F(ConformityTrackerTest, SameRequestAgainIsADuplicateAndChangesNothing) {
  openNew(openRound("app-1", {plan("cq-1", "sanitary")}));
  ASSERT_TRUE(tracker_->settleSends({delivered("cq-1")}, kNow, kLease).ok());

  auto again = tracker_->open(openRound("app-1", {plan("cq-1", "sanitary")}, kNow + 1));

  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->result, OpenResult::kDuplicate);
  EXPECT_TRUE(again->claimed.empty());
  EXPECT_EQ(query("app-1", "cq-1").state, QueryState::kSent);
  EXPECT_EQ(backlog().sends, 0u);
}

TEST_F(ConformityTrackerTest, AnotherRequestUnderTheSameApplicationIsAConflict) {
  openNew(openRound("app-1", {plan("cq-1", "sanitary")}));
  OpenRound other = openRound("app-1", {plan("cq-9", "fire")});
  other.fingerprint = "fp-other";
  other.request.applicant.name = "Someone Else LLP";

  auto opened = tracker_->open(other);

  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(opened->result, OpenResult::kConflict);
  auto round = tracker_->round("app-1");
  ASSERT_TRUE(round.ok() && round->has_value());
  EXPECT_EQ((*round)->request.applicant.name, "Alem Energy LLP");
  ASSERT_EQ((*round)->queries.size(), 1u);
  EXPECT_EQ((*round)->queries[0].query_id, "cq-1");
  EXPECT_EQ(raw({"EXISTS", "t:cf:q:cq-9"}), 0);
}

TEST_F(ConformityTrackerTest, RefusesARoundWithoutQueries) {
  auto opened = tracker_->open(openRound("app-1", {}));

  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, ErrorCode::kInvalidField);
}

TEST_F(ConformityTrackerTest, AClaimedSendIsNotClaimedAgainBeforeItsLeaseEnds) {
  openNew(openRound("app-1", {plan("cq-1", "sanitary"), plan("cq-2", "fire")}));

  auto during_open_lease = tracker_->claimSends(kNow + kLease - 1, kLease, 10);
  auto after_open_lease = tracker_->claimSends(kNow + kLease, kLease, 10);
  auto during_claim = tracker_->claimSends(kNow + 2 * kLease - 1, kLease, 10);
  auto after_claim = tracker_->claimSends(kNow + 2 * kLease, kLease, 1);

  ASSERT_TRUE(during_open_lease.ok()) << during_open_lease.error().message;
  EXPECT_TRUE(during_open_lease->empty());
  ASSERT_TRUE(after_open_lease.ok());
  EXPECT_EQ(idsOf(*after_open_lease), (std::vector<std::string>{"cq-1", "cq-2"}));
  EXPECT_EQ((*after_open_lease)[0].attempt, 1) << "nothing was settled yet";
  EXPECT_EQ((*after_open_lease)[0].request.activity, "05.1");
  EXPECT_EQ((*after_open_lease)[0].deadline_ms, kDeadline);
  ASSERT_TRUE(during_claim.ok());
  EXPECT_TRUE(during_claim->empty());
  ASSERT_TRUE(after_claim.ok());
  EXPECT_EQ(after_claim->size(), 1u) << "the limit";
  EXPECT_EQ(raw({"ZSCORE", "t:cf:send", (*after_claim)[0].query_id}), kNow + 3 * kLease);
}

TEST_F(ConformityTrackerTest, ADeliveredQueryIsSentAndNoLongerDue) {
  openNew(openRound("app-1", {plan("cq-1", "sanitary")}));

  auto settled = tracker_->settleSends({delivered("cq-1")}, kNow + 10, kLease);

  ASSERT_TRUE(settled.ok()) << settled.error().message;
  EXPECT_TRUE(settled->empty());
  QueryView view = query("app-1", "cq-1");
  EXPECT_EQ(view.state, QueryState::kSent);
  EXPECT_EQ(view.attempts, 1);
  EXPECT_EQ(view.next_attempt_ms, 0);
  EXPECT_TRUE(tracker_->claimSends(kNow + 10 * kLease, kLease, 10)->empty());
  EXPECT_EQ(backlog().sends, 0u);
  EXPECT_EQ(backlog().open_queries, 1u);
}

TEST_F(ConformityTrackerTest, ARetryIsDueAgainAtItsTimeWithTheNextAttemptNumber) {
  openNew(openRound("app-1", {plan("cq-1", "sanitary")}));

  auto settled =
      tracker_->settleSends({retry("cq-1", kNow + 5000, "no link attached")}, kNow, kLease);

  ASSERT_TRUE(settled.ok()) << settled.error().message;
  EXPECT_TRUE(settled->empty());
  QueryView view = query("app-1", "cq-1");
  EXPECT_EQ(view.state, QueryState::kRetrying);
  EXPECT_EQ(view.attempts, 1);
  EXPECT_EQ(view.next_attempt_ms, kNow + 5000);
  EXPECT_EQ(view.last_error, "no link attached");
  EXPECT_TRUE(tracker_->claimSends(kNow + 4999, kLease, 10)->empty());
  auto claimed = tracker_->claimSends(kNow + 5000, kLease, 10);
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ((*claimed)[0].attempt, 2);
}

TEST_F(ConformityTrackerTest, ARetryAtTheDeadlineFailsTheQueryAndDecidesTheRound) {
  openNew(openRound("app-1", {plan("cq-1", "sanitary", kNow + 1000)}));

  auto settled = tracker_->settleSends({retry("cq-1", kNow + 1000, "timeout")}, kNow + 1, kLease);

  ASSERT_TRUE(settled.ok()) << settled.error().message;
  ASSERT_EQ(settled->size(), 1u);
  const DecidedRound& decided = (*settled)[0];
  EXPECT_EQ(decided.attempt, 1);
  EXPECT_EQ(decided.outcome.application_id, "app-1");
  EXPECT_EQ(decided.outcome.licensor, "CZ-ERU");
  EXPECT_EQ(decided.outcome.activity, "05.1");
  EXPECT_EQ(decided.outcome.applicant_iin_bin, "050540004455");
  EXPECT_EQ(decided.outcome.outcome, RoundOutcome::kIncomplete);
  EXPECT_EQ(decided.outcome.decided_ms, kNow + 1);
  ASSERT_EQ(decided.outcome.queries.size(), 1u);
  EXPECT_EQ(decided.outcome.queries[0].state, QueryState::kFailed);
  EXPECT_EQ(decided.outcome.queries[0].last_error,
            "the deadline comes before the next attempt: timeout");
  EXPECT_EQ(raw({"ZSCORE", "t:cf:outcome", "app-1"}), kNow + 1 + kLease);
  EXPECT_EQ(backlog().sends, 0u);
  EXPECT_EQ(backlog().open_queries, 0u);
  EXPECT_EQ(raw({"ZCARD", "t:cf:pending:CZ-ERU"}), 0);
}

TEST_F(ConformityTrackerTest, GivesUpAfterTheAttemptsAllowed) {
  openNew(openRound("app-1", {plan("cq-1", "sanitary", kDeadline, true, 2)}));
  ASSERT_TRUE(tracker_->settleSends({retry("cq-1", kNow + 100, "released")}, kNow, kLease).ok());

  auto settled =
      tracker_->settleSends({retry("cq-1", kNow + 300, "released again")}, kNow + 100, kLease);

  ASSERT_TRUE(settled.ok()) << settled.error().message;
  ASSERT_EQ(settled->size(), 1u);
  QueryView view = query("app-1", "cq-1");
  EXPECT_EQ(view.state, QueryState::kFailed);
  EXPECT_EQ(view.attempts, 2);
  EXPECT_EQ(view.next_attempt_ms, 0);
  EXPECT_EQ(view.last_error, "gave up after 2 attempts: released again");
}

TEST_F(ConformityTrackerTest, APermanentRefusalFailsTheQuery) {
  openNew(openRound("app-1", {plan("cq-1", "sanitary"), plan("cq-2", "fire")}));

  auto settled =
      tracker_->settleSends({permanent("cq-1", "rejected: amqp:not-allowed")}, kNow, kLease);

  ASSERT_TRUE(settled.ok()) << settled.error().message;
  EXPECT_TRUE(settled->empty()) << "cq-2 is still open";
  QueryView view = query("app-1", "cq-1");
  EXPECT_EQ(view.state, QueryState::kFailed);
  EXPECT_EQ(view.last_error, "rejected: amqp:not-allowed");
  EXPECT_EQ(backlog().open_queries, 1u);
}

TEST_F(ConformityTrackerTest, ASendResultAfterTheQueryMovedOnCountsOnlyTheAttempt) {
  openNew(openRound("app-1", {plan("cq-1", "sanitary"), plan("cq-2", "fire")}));
  ASSERT_TRUE(tracker_->conclude(conclusion("cq-1", "sanitary"), "f1", kNow, kLease).ok());

  auto settled = tracker_->settleSends(
      {permanent("cq-1", "too late"), retry("cq-unknown", kNow + 5, "x")}, kNow + 1, kLease);

  ASSERT_TRUE(settled.ok()) << settled.error().message;
  EXPECT_TRUE(settled->empty());
  QueryView view = query("app-1", "cq-1");
  EXPECT_EQ(view.state, QueryState::kAnswered);
  EXPECT_EQ(view.attempts, 1);
  EXPECT_EQ(view.last_error, "");
  EXPECT_EQ(raw({"EXISTS", "t:cf:q:cq-unknown"}), 0);
}

TEST_F(ConformityTrackerTest, ClaimSendsDropsMembersNoLongerSending) {
  openDelivered();
  raw({"ZADD", "t:cf:send", "0", "cq-1"});
  raw({"ZADD", "t:cf:send", "0", "cq-gone"});

  auto claimed = tracker_->claimSends(kNow, kLease, 10);

  ASSERT_TRUE(claimed.ok()) << claimed.error().message;
  EXPECT_TRUE(claimed->empty());
  EXPECT_EQ(raw({"ZCARD", "t:cf:send"}), 0);
}

TEST_F(ConformityTrackerTest, AcceptsAConclusionAndDecidesTheRound) {
  openDelivered();
  registry::Conclusion answer = conclusion("cq-1", "sanitary");

  auto concluded = tracker_->conclude(answer, "f1", kNow + 50, kLease);

  ASSERT_TRUE(concluded.ok()) << concluded.error().message;
  EXPECT_EQ(concluded->result, ConcludeResult::kAccepted);
  ASSERT_TRUE(concluded->decided.has_value());
  EXPECT_EQ(concluded->decided->outcome.outcome, RoundOutcome::kConforms);
  EXPECT_EQ(concluded->decided->outcome.decided_ms, kNow + 50);
  EXPECT_EQ(concluded->decided->attempt, 1);
  ASSERT_EQ(concluded->decided->outcome.queries.size(), 1u);
  const QueryView& view = concluded->decided->outcome.queries[0];
  EXPECT_EQ(view.state, QueryState::kAnswered);
  EXPECT_EQ(view.verdict, Verdict::kConforms);
  EXPECT_FALSE(view.tacit);
  EXPECT_EQ(view.reasons, answer.reasons);
  EXPECT_EQ(view.signer, "Inspector A. Seitkali");
  EXPECT_EQ(view.concluded_ms, kNow + 50);
  EXPECT_EQ(rawText({"HGET", "t:cf:q:cq-1", "signed_document"}), "MIIB");
  EXPECT_EQ(backlog().open_queries, 0u);
  EXPECT_EQ(backlog().outcomes, 1u);
  auto round = tracker_->round("app-1");
  ASSERT_TRUE(round.ok() && round->has_value());
  EXPECT_EQ((*round)->outcome, RoundOutcome::kConforms);
  EXPECT_EQ((*round)->decided_ms, kNow + 50);
  EXPECT_EQ((*round)->delivered_ms, 0);
}

// An intake batch with requests and conclusions: one round trip for both,
// the rounds opened before the conclusions are recorded, each answered in
// order, also when Redis has forgotten the script.
TEST_F(ConformityTrackerTest, OpensAndConcludesInOneCall) {
  openDelivered();
  // Both scripts known to the tracker's connection before Redis forgets them.
  auto unknown = tracker_->conclude(conclusion("cq-0", "sanitary"), "f0", kNow, kLease);
  ASSERT_TRUE(unknown.ok() && unknown->result == ConcludeResult::kUnknown);
  ASSERT_EQ(rawText({"SCRIPT", "FLUSH"}), "OK");
  const std::vector<OpenRound> rounds = {openRound("app-2", {plan("cq-2", "fire")}),
                                         openRound("app-1", {plan("cq-1", "sanitary")})};
  const std::vector<ConformityTracker::ConclusionCall> calls = {
      {conclusion("cq-1", "sanitary"), "f1"},
      {conclusion("cq-2", "fire"), "f2"},
      {conclusion("cq-none", "fire"), "f3"}};

  auto both = tracker_->openAndConclude(rounds, calls, kNow + 50, kLease);

  ASSERT_TRUE(both.ok()) << both.error().message;
  ASSERT_EQ(both->opened.size(), 2u);
  EXPECT_EQ(both->opened[0].result, OpenResult::kOpened);
  EXPECT_EQ(both->opened[0].claimed.size(), 1u);
  EXPECT_EQ(both->opened[1].result, OpenResult::kDuplicate);  // app-1 was opened before
  ASSERT_EQ(both->concluded.size(), 3u);
  ASSERT_TRUE(both->concluded[0].ok());
  EXPECT_EQ(both->concluded[0]->result, ConcludeResult::kAccepted);
  EXPECT_TRUE(both->concluded[0]->decided.has_value());
  // cq-2 was opened by the same call, before its conclusion: accepted while
  // its first send is under way, and its round decided.
  ASSERT_TRUE(both->concluded[1].ok());
  EXPECT_EQ(both->concluded[1]->result, ConcludeResult::kAccepted);
  ASSERT_TRUE(both->concluded[1]->decided.has_value());
  EXPECT_EQ(both->concluded[1]->decided->outcome.application_id, "app-2");
  ASSERT_TRUE(both->concluded[2].ok());
  EXPECT_EQ(both->concluded[2]->result, ConcludeResult::kUnknown);
  EXPECT_EQ(backlog().open_queries, 0u);
  EXPECT_EQ(backlog().sends, 0u) << "cq-2 entered the send timer before its conclusion left it";
  EXPECT_EQ(backlog().outcomes, 2u);
}

// The calls of one batch share a script: one that fails inside it answers
// with its error, and the others are still made.
TEST_F(ConformityTrackerTest, ACallThatFailsInsideTheScriptFailsAloneInItsBatch) {
  openNew(openRound("app-1", {plan("cq-1", "sanitary")}));
  openNew(openRound("app-2", {plan("cq-2", "fire")}));
  raw({"HDEL", "t:cf:q:cq-1", "licensor"});       // the script's own error
  rawText({"SET", "t:cf:q:cq-3", "not a hash"});  // a command's error (WRONGTYPE)

  auto answers = tracker_->concludeAll({{conclusion("cq-1", "sanitary"), "f1"},
                                        {conclusion("cq-2", "fire"), "f2"},
                                        {conclusion("cq-3", "fire"), "f3"}},
                                       kNow, kLease);

  ASSERT_TRUE(answers.ok()) << answers.error().message;
  ASSERT_EQ(answers->size(), 3u);
  ASSERT_FALSE((*answers)[0].ok());
  EXPECT_EQ((*answers)[0].error().code, ErrorCode::kUnavailable);
  EXPECT_NE((*answers)[0].error().message.find("failed a script"), std::string::npos)
      << (*answers)[0].error().message;
  ASSERT_FALSE((*answers)[2].ok());
  EXPECT_NE((*answers)[2].error().message.find("WRONGTYPE"), std::string::npos)
      << (*answers)[2].error().message;
  ASSERT_TRUE((*answers)[1].ok()) << (*answers)[1].error().message;
  EXPECT_EQ((*answers)[1]->result, ConcludeResult::kAccepted);
  ASSERT_TRUE((*answers)[1]->decided.has_value());
  EXPECT_EQ((*answers)[1]->decided->outcome.application_id, "app-2");
}

TEST_F(ConformityTrackerTest, AConclusionWhileTheFirstSendIsUnderWayIsAccepted) {
  openNew(openRound("app-1", {plan("cq-1", "sanitary"), plan("cq-2", "fire")}));

  auto concluded = tracker_->conclude(conclusion("cq-1", "sanitary"), "f1", kNow, kLease);

  ASSERT_TRUE(concluded.ok()) << concluded.error().message;
  EXPECT_EQ(concluded->result, ConcludeResult::kAccepted);
  EXPECT_FALSE(concluded->decided.has_value());
  EXPECT_EQ(raw({"ZSCORE", "t:cf:send", "cq-1"}), -1);
  EXPECT_EQ(raw({"ZSCORE", "t:cf:pending:CZ-ERU", "cq-1"}), -1);
  auto pending = tracker_->pending("CZ-ERU", 10);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].query_id, "cq-2");
}

TEST_F(ConformityTrackerTest, TheSameConclusionAgainIsADuplicate) {
  openDelivered();
  ASSERT_TRUE(tracker_->conclude(conclusion("cq-1", "sanitary"), "f1", kNow, kLease).ok());

  auto again = tracker_->conclude(conclusion("cq-1", "sanitary"), "f1", kNow + 9, kLease);

  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->result, ConcludeResult::kDuplicate);
  EXPECT_FALSE(again->decided.has_value());
  EXPECT_EQ(query("app-1", "cq-1").concluded_ms, kNow);
}

TEST_F(ConformityTrackerTest, AnotherConclusionAfterTheFirstIsAConflictAndTheFirstStays) {
  openDelivered();
  ASSERT_TRUE(tracker_->conclude(conclusion("cq-1", "sanitary"), "f1", kNow, kLease).ok());

  auto other = tracker_->conclude(conclusion("cq-1", "sanitary", Verdict::kDoesNotConform), "f2",
                                  kNow + 9, kLease);

  ASSERT_TRUE(other.ok()) << other.error().message;
  EXPECT_EQ(other->result, ConcludeResult::kConflict);
  EXPECT_EQ(query("app-1", "cq-1").verdict, Verdict::kConforms);
}

TEST_F(ConformityTrackerTest, AConclusionForAnUnknownQueryIsRefused) {
  auto concluded = tracker_->conclude(conclusion("cq-none", "sanitary"), "f1", kNow, kLease);

  ASSERT_TRUE(concluded.ok()) << concluded.error().message;
  EXPECT_EQ(concluded->result, ConcludeResult::kUnknown);
  EXPECT_EQ(raw({"EXISTS", "t:cf:q:cq-none"}), 0);
}

TEST_F(ConformityTrackerTest, AConclusionFromAnotherBodyIsRefusedNamingTheBody) {
  openDelivered();

  auto concluded = tracker_->conclude(conclusion("cq-1", "fire"), "f1", kNow, kLease);

  ASSERT_TRUE(concluded.ok()) << concluded.error().message;
  EXPECT_EQ(concluded->result, ConcludeResult::kWrongBody);
  EXPECT_EQ(concluded->recorded_body, "sanitary");
  EXPECT_EQ(query("app-1", "cq-1").state, QueryState::kSent);
}

TEST_F(ConformityTrackerTest, AConclusionAfterTheDeadlineIsRecordedAsLate) {
  openDelivered(false);
  ASSERT_EQ(tracker_->expireDue(kDeadline, kLease, 10)->size(), 1u);

  auto late = tracker_->conclude(conclusion("cq-1", "sanitary", Verdict::kDoesNotConform), "f1",
                                 kDeadline + 7, kLease);
  auto same_again = tracker_->conclude(conclusion("cq-1", "sanitary", Verdict::kDoesNotConform),
                                       "f1", kDeadline + 8, kLease);
  auto another = tracker_->conclude(conclusion("cq-1", "sanitary"), "f2", kDeadline + 9, kLease);

  ASSERT_TRUE(late.ok()) << late.error().message;
  EXPECT_EQ(late->result, ConcludeResult::kLate);
  EXPECT_FALSE(late->decided.has_value());
  EXPECT_EQ(late->late_application, "app-1");  // recorded now: for the register's copy
  ASSERT_TRUE(same_again.ok());
  EXPECT_EQ(same_again->result, ConcludeResult::kLate);
  EXPECT_EQ(same_again->late_application, "");
  ASSERT_TRUE(another.ok());
  EXPECT_EQ(another->result, ConcludeResult::kConflict);
  QueryView view = query("app-1", "cq-1");
  EXPECT_EQ(view.state, QueryState::kExpired);
  EXPECT_FALSE(view.verdict.has_value());
  EXPECT_EQ(view.late_verdict, Verdict::kDoesNotConform);
  EXPECT_EQ(view.late_ms, kDeadline + 7);
  EXPECT_EQ(tracker_->round("app-1").value()->outcome, RoundOutcome::kIncomplete);
}

TEST_F(ConformityTrackerTest, ALateConclusionKeepsItsReasonsSignerAndDocument) {
  openDelivered(false);
  ASSERT_EQ(tracker_->expireDue(kDeadline, kLease, 10)->size(), 1u);

  ASSERT_TRUE(tracker_
                  ->conclude(conclusion("cq-1", "sanitary", Verdict::kDoesNotConform), "f1",
                             kDeadline + 7, kLease)
                  .ok());

  QueryView view = query("app-1", "cq-1");
  EXPECT_EQ(view.late_reasons, std::vector<std::string>{"premises inspected 2026-12-08"});
  EXPECT_EQ(view.late_signer, "Inspector A. Seitkali");
  EXPECT_TRUE(view.reasons.empty()) << "what the deadline decided stays";
  EXPECT_EQ(rawText({"HGET", "t:cf:q:cq-1", "late_signed_document"}), "MIIB");
}

TEST_F(ConformityTrackerTest, ASilentConsentBodyIsTakenToConformAtTheDeadline) {
  openDelivered(true);

  EXPECT_TRUE(tracker_->expireDue(kDeadline - 1, kLease, 10)->empty());
  auto decided = tracker_->expireDue(kDeadline, kLease, 10);

  ASSERT_TRUE(decided.ok()) << decided.error().message;
  ASSERT_EQ(decided->size(), 1u);
  EXPECT_EQ((*decided)[0].outcome.outcome, RoundOutcome::kConforms);
  const QueryView& view = (*decided)[0].outcome.queries.at(0);
  EXPECT_EQ(view.state, QueryState::kExpired);
  EXPECT_EQ(view.verdict, Verdict::kConforms);
  EXPECT_TRUE(view.tacit);
  EXPECT_EQ(view.reasons, std::vector<std::string>{std::string(registry::kTacitConsentReason)});
  EXPECT_EQ(view.concluded_ms, kDeadline);
  EXPECT_EQ(backlog().open_queries, 0u);
}

TEST_F(ConformityTrackerTest, AtTheDeadlineAnExpireBodyHasNoVerdictAndAnUnsentQueryFails) {
  openNew(openRound("app-1", {plan("cq-1", "sanitary", kDeadline, false),
                              plan("cq-2", "fire", kDeadline), plan("cq-3", "env", kDeadline)}));
  ASSERT_TRUE(
      tracker_->settleSends({delivered("cq-1"), retry("cq-3", kNow + 10, "timeout")}, kNow, kLease)
          .ok());

  auto decided = tracker_->expireDue(kDeadline + 1, kLease, 10);

  ASSERT_TRUE(decided.ok()) << decided.error().message;
  ASSERT_EQ(decided->size(), 1u);
  EXPECT_EQ((*decided)[0].outcome.outcome, RoundOutcome::kIncomplete);
  QueryView expired = query("app-1", "cq-1");
  EXPECT_EQ(expired.state, QueryState::kExpired);
  EXPECT_FALSE(expired.verdict.has_value());
  EXPECT_FALSE(expired.tacit);
  for (const char* unsent : {"cq-2", "cq-3"}) {
    QueryView failed = query("app-1", unsent);
    EXPECT_EQ(failed.state, QueryState::kFailed) << unsent;
    EXPECT_FALSE(failed.verdict.has_value()) << "a body that never took it cannot consent";
  }
  EXPECT_EQ(query("app-1", "cq-2").last_error,
            "the deadline passed before the body took the query");
  EXPECT_EQ(query("app-1", "cq-3").last_error,
            "the deadline passed before the body took the query: timeout")
      << "the last send's error says why";
  EXPECT_EQ(backlog().sends, 0u);
  EXPECT_EQ(backlog().open_queries, 0u);
}

TEST_F(ConformityTrackerTest, ExpireDueTakesAtMostTheLimitEarliestFirst) {
  openNew(openRound("app-1",
                    {plan("cq-1", "sanitary", kDeadline + 2), plan("cq-2", "fire", kDeadline)}));

  auto decided = tracker_->expireDue(kDeadline + 5, kLease, 1);

  ASSERT_TRUE(decided.ok()) << decided.error().message;
  EXPECT_TRUE(decided->empty());
  EXPECT_EQ(query("app-1", "cq-2").state, QueryState::kFailed);
  EXPECT_EQ(query("app-1", "cq-1").state, QueryState::kSending);
}

// More queries than the scripts put in one timer command: each call still
// moves every one of them.
TEST_F(ConformityTrackerTest, ManyQueriesOpenSettleAndExpireInOneCallEach) {
  constexpr std::uint64_t kRounds = 1203;
  std::vector<OpenRound> rounds;
  std::vector<SendResult> sends;
  for (std::uint64_t i = 0; i < kRounds; ++i) {
    const std::string query = "cq-" + std::to_string(i);
    rounds.push_back(openRound("app-" + std::to_string(i), {plan(query, "sanitary")}));
    sends.push_back(delivered(query));
  }

  auto opened = tracker_->openAll(rounds);
  const ConformityTracker::Backlog after_open = backlog();
  auto settled = tracker_->settleSends(sends, kNow + 10, kLease);
  const ConformityTracker::Backlog after_settle = backlog();
  auto expired = tracker_->expireDue(kDeadline, kLease, kRounds);

  ASSERT_TRUE(opened.ok()) << opened.error().message;
  ASSERT_EQ(opened->size(), kRounds);
  EXPECT_EQ(opened->back().result, OpenResult::kOpened);
  EXPECT_EQ(after_open.sends, kRounds);
  EXPECT_EQ(after_open.open_queries, kRounds);
  ASSERT_TRUE(settled.ok()) << settled.error().message;
  EXPECT_EQ(after_settle.sends, 0u);
  ASSERT_TRUE(expired.ok()) << expired.error().message;
  EXPECT_EQ(expired->size(), kRounds);
  EXPECT_EQ(backlog().open_queries, 0u);
  EXPECT_EQ(backlog().outcomes, kRounds);
  EXPECT_EQ(tracker_->round("app-1202").value()->outcome, RoundOutcome::kConforms);
}

TEST_F(ConformityTrackerTest, ExpireDueFindsTheDeadlinesOfEveryLicensor) {
  openNew(openRound("app-1", {plan("cq-1", "sanitary", kDeadline)}));
  OpenRound other = openRound("app-2", {plan("cq-2", "fire", kDeadline + 1)});
  other.request.licensor = "CZ-OTHER";
  openNew(other);
  EXPECT_EQ(backlog().open_queries, 2u);

  auto decided = tracker_->expireDue(kDeadline + 1, kLease, 10);

  ASSERT_TRUE(decided.ok()) << decided.error().message;
  EXPECT_EQ(decided->size(), 2u);
  EXPECT_EQ(query("app-1", "cq-1").state, QueryState::kFailed);
  EXPECT_EQ(query("app-2", "cq-2").state, QueryState::kFailed);
  EXPECT_EQ(backlog().open_queries, 0u);
}

// A Redis written by an earlier version kept the deadlines in a sorted set
// of their own and had no set of licensors: its queries still expire.
TEST_F(ConformityTrackerTest, ExpireDueTakesOverTheDeadlineSetOfEarlierVersions) {
  openNew(openRound("app-1", {plan("cq-1", "sanitary", kDeadline)}));
  raw({"DEL", "t:cf:licensors"});
  raw({"ZADD", "t:cf:deadline", std::to_string(kDeadline), "cq-1"});
  EXPECT_EQ(backlog().open_queries, 0u) << "no licensor is known yet";

  auto decided = tracker_->expireDue(kDeadline, kLease, 10);

  ASSERT_TRUE(decided.ok()) << decided.error().message;
  EXPECT_EQ(decided->size(), 1u);
  EXPECT_EQ(query("app-1", "cq-1").state, QueryState::kFailed);
  EXPECT_EQ(raw({"EXISTS", "t:cf:deadline"}), 0);
  EXPECT_EQ(raw({"SISMEMBER", "t:cf:licensors", "t:cf:pending:CZ-ERU"}), 1);
}

struct OutcomeCase {
  std::vector<std::optional<Verdict>> verdicts;  // nullopt: the query expires without one
  RoundOutcome expected;
};

// A round counts its verdicts as they come; one opened by a version that
// kept no counts (no "tallied" mark) is decided by reading its queries, with
// the same rule.
TEST_F(ConformityTrackerTest, DecidesTheOutcomeByTheRegistersRule) {
  const std::vector<OutcomeCase> cases = {
      {{Verdict::kConforms, Verdict::kConforms}, RoundOutcome::kConforms},
      {{Verdict::kConforms, Verdict::kDoesNotConform}, RoundOutcome::kDoesNotConform},
      {{std::nullopt, Verdict::kDoesNotConform}, RoundOutcome::kDoesNotConform},
      {{Verdict::kConforms, std::nullopt}, RoundOutcome::kIncomplete},
      {{std::nullopt, std::nullopt}, RoundOutcome::kIncomplete},
  };
  for (std::size_t n = 0; n < 2 * cases.size(); ++n) {
    const std::size_t i = n % cases.size();
    const bool counted = n < cases.size();
    const std::string app = "app-" + std::to_string(n);
    const std::string first = "cq-" + std::to_string(n) + "-a";
    const std::string second = "cq-" + std::to_string(n) + "-b";
    openNew(openRound(
        app, {plan(first, "sanitary", kDeadline, false), plan(second, "fire", kDeadline, false)}));
    EXPECT_EQ(raw({"HDEL", "t:cf:app:" + app, "tallied"}), 1) << "case " << n;
    if (counted) {
      raw({"HSET", "t:cf:app:" + app, "tallied", "1"});
    }
    ASSERT_TRUE(tracker_->settleSends({delivered(first), delivered(second)}, kNow, kLease).ok());
    std::optional<DecidedRound> decided;
    for (const auto& [id, body, verdict] : {std::tuple{first, "sanitary", cases[i].verdicts[0]},
                                            std::tuple{second, "fire", cases[i].verdicts[1]}}) {
      if (verdict) {
        auto concluded = tracker_->conclude(conclusion(id, body, *verdict), "f", kNow, kLease);
        ASSERT_TRUE(concluded.ok());
        decided = concluded->decided;
      }
    }
    if (!decided) {
      auto expired = tracker_->expireDue(kDeadline, kLease, 100);
      ASSERT_TRUE(expired.ok());
      ASSERT_EQ(expired->size(), 1u) << "case " << n;
      decided = (*expired)[0];
    }

    ASSERT_TRUE(decided.has_value()) << "case " << n;
    EXPECT_EQ(decided->outcome.outcome, cases[i].expected) << "case " << n;
    EXPECT_EQ(decided->outcome.queries.size(), 2u);
    EXPECT_EQ(tracker_->round(app).value()->outcome, cases[i].expected);
  }
}

TEST_F(ConformityTrackerTest, OutcomesAreClaimedRetriedAndDelivered) {
  openDelivered();
  ASSERT_TRUE(tracker_->conclude(conclusion("cq-1", "sanitary"), "f1", kNow, kLease).ok());

  auto during_lease = tracker_->claimOutcomes(kNow + kLease - 1, kLease, 10);
  auto after_lease = tracker_->claimOutcomes(kNow + kLease, kLease, 10);
  ASSERT_TRUE(tracker_->outcomeRetry("app-1", kNow + kLease + 100, "outcome channel down").ok());
  auto before_retry = tracker_->claimOutcomes(kNow + kLease + 99, kLease, 10);
  auto at_retry = tracker_->claimOutcomes(kNow + kLease + 100, kLease, 10);

  ASSERT_TRUE(during_lease.ok()) << during_lease.error().message;
  EXPECT_TRUE(during_lease->empty());
  ASSERT_TRUE(after_lease.ok());
  ASSERT_EQ(after_lease->size(), 1u);
  EXPECT_EQ((*after_lease)[0].attempt, 2);
  EXPECT_EQ((*after_lease)[0].outcome.outcome, RoundOutcome::kConforms);
  EXPECT_EQ((*after_lease)[0].outcome.decided_ms, kNow);
  EXPECT_EQ((*after_lease)[0].outcome.queries.at(0).verdict, Verdict::kConforms);
  ASSERT_TRUE(before_retry.ok());
  EXPECT_TRUE(before_retry->empty());
  ASSERT_TRUE(at_retry.ok());
  ASSERT_EQ(at_retry->size(), 1u);
  EXPECT_EQ((*at_retry)[0].attempt, 3);

  ASSERT_TRUE(
      tracker_->outcomesDelivered({{"app-1", {"cq-1"}}, {"app-unknown", {}}}, kNow + 2 * kLease, 0)
          .ok());

  EXPECT_EQ(backlog().outcomes, 0u);
  EXPECT_EQ(tracker_->round("app-1").value()->delivered_ms, kNow + 2 * kLease);
  EXPECT_TRUE(tracker_->claimOutcomes(kNow + 10 * kLease, kLease, 10)->empty());
  EXPECT_EQ(raw({"EXISTS", "t:cf:app:app-unknown"}), 0);
  ASSERT_TRUE(tracker_->outcomeRetry("app-1", kNow + 11 * kLease, "late failure").ok());
  EXPECT_EQ(backlog().outcomes, 0u) << "a delivered outcome stays delivered";
}

// More rounds than the script marks in one command.
TEST_F(ConformityTrackerTest, ManyOutcomesAreMarkedDeliveredInOneCall) {
  constexpr int kRounds = 1203;
  std::vector<DeliveredOutcome> delivered;
  for (int i = 0; i < kRounds; ++i) {
    const std::string app = "app-" + std::to_string(i);
    const std::string query = "cq-" + std::to_string(i);
    openNew(openRound(app, {plan(query, "sanitary")}));
    ASSERT_TRUE(tracker_->conclude(conclusion(query, "sanitary"), "f", kNow, kLease).ok());
    delivered.push_back({app, {query}});
  }
  ASSERT_EQ(backlog().outcomes, static_cast<std::uint64_t>(kRounds));

  ASSERT_TRUE(tracker_->outcomesDelivered(delivered, kNow + 7, 1000).ok());

  EXPECT_EQ(backlog().outcomes, 0u);
  for (const int i : {0, 499, 500, 1000, kRounds - 1}) {
    const std::string app = "app-" + std::to_string(i);
    EXPECT_EQ(tracker_->round(app).value()->delivered_ms, kNow + 7) << app;
    EXPECT_GT(raw({"PTTL", "t:cf:q:cq-" + std::to_string(i)}), 0) << app;
  }
}

TEST_F(ConformityTrackerTest, ARefusedOutcomeWaitsInItsListUntilItIsResent) {
  openDelivered();
  ASSERT_TRUE(tracker_->conclude(conclusion("cq-1", "sanitary"), "f1", kNow, kLease).ok());

  ASSERT_TRUE(tracker_->outcomeRefused("app-1", kNow + 5, "amqp:not-allowed: no such app").ok());
  auto after_lease = tracker_->claimOutcomes(kNow + 10 * kLease, kLease, 10);
  auto refused = tracker_->refusedOutcomes(10);
  const ConformityTracker::Backlog while_refused = backlog();
  auto resent = tracker_->resendOutcome("app-1", kNow + 20 * kLease);
  auto resent_twice = tracker_->resendOutcome("app-1", kNow + 20 * kLease);
  auto claimed = tracker_->claimOutcomes(kNow + 20 * kLease, kLease, 10);

  ASSERT_TRUE(after_lease.ok()) << after_lease.error().message;
  EXPECT_TRUE(after_lease->empty());
  ASSERT_TRUE(refused.ok()) << refused.error().message;
  ASSERT_EQ(refused->size(), 1u);
  EXPECT_EQ((*refused)[0].application_id, "app-1");
  EXPECT_EQ((*refused)[0].licensor, "CZ-ERU");
  EXPECT_EQ((*refused)[0].outcome, "conforms");
  EXPECT_EQ((*refused)[0].error, "amqp:not-allowed: no such app");
  EXPECT_EQ((*refused)[0].attempts, 1);
  EXPECT_EQ((*refused)[0].refused_ms, kNow + 5);
  EXPECT_EQ(while_refused.outcomes, 0u);
  EXPECT_EQ(while_refused.refused_outcomes, 1u);
  ASSERT_TRUE(resent.ok()) << resent.error().message;
  EXPECT_TRUE(*resent);
  ASSERT_TRUE(resent_twice.ok());
  EXPECT_FALSE(*resent_twice);
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ((*claimed)[0].attempt, 2);
  EXPECT_TRUE(tracker_->refusedOutcomes(10)->empty());
  EXPECT_EQ(backlog().refused_outcomes, 0u);
}

TEST_F(ConformityTrackerTest, ARefusalAfterTheOutcomeWasDeliveredChangesNothing) {
  openDelivered();
  ASSERT_TRUE(tracker_->conclude(conclusion("cq-1", "sanitary"), "f1", kNow, kLease).ok());
  ASSERT_TRUE(tracker_->outcomesDelivered({{"app-1", {"cq-1"}}}, kNow + 1, 0).ok());

  ASSERT_TRUE(tracker_->outcomeRefused("app-1", kNow + 2, "refused late").ok());
  ASSERT_TRUE(tracker_->outcomeRefused("app-unknown", kNow + 2, "never decided").ok());

  EXPECT_TRUE(tracker_->refusedOutcomes(10)->empty());
  EXPECT_EQ(tracker_->round("app-1").value()->delivered_ms, kNow + 1);
  EXPECT_EQ(raw({"EXISTS", "t:cf:app:app-unknown"}), 0);
}

TEST_F(ConformityTrackerTest, ADeliveredRoundExpiresAfterTheTimeItIsKept) {
  openDelivered();
  ASSERT_TRUE(tracker_->conclude(conclusion("cq-1", "sanitary"), "f1", kNow, kLease).ok());
  openNew(openRound("app-2", {plan("cq-2", "fire")}));
  ASSERT_TRUE(tracker_->settleSends({permanent("cq-2", "404")}, kNow + 1, kLease).ok());

  ASSERT_TRUE(tracker_->outcomesDelivered({{"app-1", {"cq-1"}}}, kNow + 100, 50).ok());

  const auto app_ttl = raw({"PTTL", "t:cf:app:app-1"});
  const auto query_ttl = raw({"PTTL", "t:cf:q:cq-1"});
  EXPECT_GT(app_ttl, 0);
  EXPECT_LE(app_ttl, 50);
  EXPECT_GT(query_ttl, 0);
  EXPECT_LE(query_ttl, 50);
  EXPECT_EQ(raw({"PTTL", "t:cf:app:app-2"}), -1) << "a round not delivered stays";
  EXPECT_EQ(raw({"ZCARD", "t:cf:failed"}), 0) << "failed 99 ms before, kept 50";
}

TEST_F(ConformityTrackerTest, ADeliveredRoundKeptForEverDoesNotExpire) {
  openDelivered();
  ASSERT_TRUE(tracker_->conclude(conclusion("cq-1", "sanitary"), "f1", kNow, kLease).ok());

  ASSERT_TRUE(tracker_->outcomesDelivered({{"app-1", {"cq-1"}}}, kNow + 100, 0).ok());

  EXPECT_EQ(raw({"PTTL", "t:cf:app:app-1"}), -1);
  EXPECT_EQ(raw({"PTTL", "t:cf:q:cq-1"}), -1);
}

TEST_F(ConformityTrackerTest, PendingListsTheLicensorsOpenQueriesEarliestDeadlineFirst) {
  openNew(openRound("app-1", {plan("cq-1", "sanitary", kDeadline + 20)}));
  openNew(
      openRound("app-2", {plan("cq-2", "fire", kDeadline), plan("cq-3", "env", kDeadline + 10)}));
  ASSERT_TRUE(tracker_->conclude(conclusion("cq-3", "env"), "f", kNow, kLease).ok());

  auto pending = tracker_->pending("CZ-ERU", 10);
  auto first = tracker_->pending("CZ-ERU", 1);
  auto other = tracker_->pending("KZ-MIIR", 10);

  ASSERT_TRUE(pending.ok()) << pending.error().message;
  ASSERT_EQ(pending->size(), 2u);
  EXPECT_EQ((*pending)[0].query_id, "cq-2");
  EXPECT_EQ((*pending)[0].application_id, "app-2");
  EXPECT_EQ((*pending)[1].query_id, "cq-1");
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ((*first)[0].query_id, "cq-2");
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->empty());
}

TEST_F(ConformityTrackerTest, AnUnknownApplicationHasNoRound) {
  auto round = tracker_->round("app-none");

  ASSERT_TRUE(round.ok()) << round.error().message;
  EXPECT_FALSE(round->has_value());
}

TEST_F(ConformityTrackerTest, TwoTrackersNeverClaimTheSameQueryAtOnce) {
  std::vector<QueryPlan> plans;
  for (int i = 0; i < 60; ++i) {
    plans.push_back(plan("cq-" + std::to_string(i), "body-" + std::to_string(i)));
  }
  openNew(openRound("app-1", plans));
  std::vector<std::unique_ptr<ConformityTracker>> trackers;
  trackers.push_back(makeConformityTracker(options()));
  trackers.push_back(makeConformityTracker(options()));
  std::vector<std::vector<std::string>> claimed(2);
  // Both connected before either claims, and one query a claim: otherwise
  // the first to connect could claim everything before the other's first
  // call, and the test would show nothing of two at once.
  for (auto& tracker : trackers) {
    ASSERT_TRUE(tracker->backlog().ok());
  }
  std::atomic<bool> go = false;

  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      while (!go) {
        std::this_thread::yield();
      }
      for (int round = 0; round < 60; ++round) {
        auto batch = trackers[t]->claimSends(kNow + kLease, kLease, 1);
        if (batch.ok()) {
          for (const ClaimedQuery& query : *batch) {
            claimed[t].push_back(query.query_id);
          }
        }
      }
    });
  }
  go = true;
  for (std::thread& thread : threads) {
    thread.join();
  }

  std::set<std::string> all(claimed[0].begin(), claimed[0].end());
  all.insert(claimed[1].begin(), claimed[1].end());
  EXPECT_EQ(all.size(), 60u);
  EXPECT_EQ(claimed[0].size() + claimed[1].size(), 60u) << "no query claimed twice";
  EXPECT_FALSE(claimed[0].empty());
  EXPECT_FALSE(claimed[1].empty());
}

// The intake, the flow's thread and the HTTP threads call one tracker at
// once: each call on a connection of its own (a few at most), every call's
// effect whole.
TEST_F(ConformityTrackerTest, ThreadsCallingAtOnceEachGetTheirOwnAnswers) {
  constexpr int kThreads = 6;
  constexpr int kRounds = 30;
  std::vector<std::vector<OpenResult>> results(kThreads);
  std::atomic<bool> go = false;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      while (!go) {
        std::this_thread::yield();
      }
      for (int r = 0; r < kRounds; ++r) {
        const std::string id = std::to_string(t) + "-" + std::to_string(r);
        // Every other round twice: the second is its duplicate.
        for (int again = 0; again <= r % 2; ++again) {
          auto opened = tracker_->open(openRound("app-" + id, {plan("cq-" + id, "sanitary")}));
          results[t].push_back(opened.ok() ? opened->result : OpenResult::kConflict);
        }
      }
    });
  }
  go = true;
  for (std::thread& thread : threads) {
    thread.join();
  }

  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(results[t].size(), static_cast<std::size_t>(kRounds + kRounds / 2));
    std::size_t at = 0;
    for (int r = 0; r < kRounds; ++r) {
      EXPECT_EQ(results[t][at++], OpenResult::kOpened) << t << "-" << r;
      if (r % 2 == 1) {
        EXPECT_EQ(results[t][at++], OpenResult::kDuplicate) << t << "-" << r;
      }
    }
  }
  EXPECT_EQ(backlog().open_queries, static_cast<std::uint64_t>(kThreads * kRounds));
  // The tracker's connections, and the one this count is made on.
  const std::string clients = rawText({"CLIENT", "LIST"});
  const auto connections = std::count(clients.begin(), clients.end(), '\n');
  EXPECT_GE(connections, 2);
  EXPECT_LE(connections, 5) << clients;
}

TEST_F(ConformityTrackerTest, LoadsItsScriptsAgainWhenRedisForgetsThem) {
  openNew(openRound("app-1", {plan("cq-1", "sanitary")}));
  ASSERT_EQ(rawText({"SCRIPT", "FLUSH"}), "OK");

  auto claimed = tracker_->claimSends(kNow + kLease, kLease, 10);

  ASSERT_TRUE(claimed.ok()) << claimed.error().message;
  EXPECT_EQ(claimed->size(), 1u);
}

TEST_F(ConformityTrackerTest, EveryCallIsUnavailableWhenRedisIsDown) {
  redis_.stop();

  std::vector<std::pair<std::string, registry::Status>> calls;
  calls.reserve(11);
  auto status = [](auto result) {
    return result.ok() ? registry::Status() : registry::Status(result.takeError());
  };
  calls.emplace_back("open", status(tracker_->open(openRound("app-1", {plan("cq-1", "s")}))));
  calls.emplace_back("claimSends", status(tracker_->claimSends(kNow, kLease, 10)));
  calls.emplace_back("settleSends",
                     status(tracker_->settleSends({delivered("cq-1")}, kNow, kLease)));
  calls.emplace_back("conclude",
                     status(tracker_->conclude(conclusion("cq-1", "s"), "f", kNow, kLease)));
  calls.emplace_back("expireDue", status(tracker_->expireDue(kNow, kLease, 10)));
  calls.emplace_back("claimOutcomes", status(tracker_->claimOutcomes(kNow, kLease, 10)));
  calls.emplace_back("outcomesDelivered",
                     tracker_->outcomesDelivered({{"app-1", {"cq-1"}}}, kNow, 0));
  calls.emplace_back("outcomeRetry", tracker_->outcomeRetry("app-1", kNow, "down"));
  calls.emplace_back("outcomeRefused", tracker_->outcomeRefused("app-1", kNow, "refused"));
  calls.emplace_back("resendOutcome", status(tracker_->resendOutcome("app-1", kNow)));
  calls.emplace_back("refusedOutcomes", status(tracker_->refusedOutcomes(10)));
  calls.emplace_back("round", status(tracker_->round("app-1")));
  calls.emplace_back("pending", status(tracker_->pending("CZ-ERU", 10)));
  calls.emplace_back("backlog", status(tracker_->backlog()));

  for (const auto& [name, result] : calls) {
    ASSERT_FALSE(result.ok()) << name;
    EXPECT_EQ(result.error().code, ErrorCode::kUnavailable) << name;
  }
}

TEST_F(ConformityTrackerTest, AQueryInAStateLicgateDoesNotKnowIsUnavailableNotACrash) {
  openNew(openRound("app-1", {plan("cq-1", "sanitary")}));
  raw({"HSET", "t:cf:q:cq-1", "state", "lost"});

  auto round = tracker_->round("app-1");

  ASSERT_FALSE(round.ok());
  EXPECT_EQ(round.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(round.error().message.find("lost"), std::string::npos) << round.error().message;
}

TEST(ConformityTrackerPersistence, TellsWhetherRedisKeepsAnAppendOnlyFile) {
  test::RedisProcess with_aof(true);
  test::RedisProcess without_aof(false);
  ASSERT_TRUE(with_aof.start());
  ASSERT_TRUE(without_aof.start());
  RedisOptions options;
  options.port = with_aof.port();
  auto on = makeConformityTracker(options)->appendOnly();
  options.port = without_aof.port();
  auto off = makeConformityTracker(options)->appendOnly();
  without_aof.stop();
  auto down = makeConformityTracker(options)->appendOnly();

  ASSERT_TRUE(on.ok()) << on.error().message;
  EXPECT_TRUE(*on);
  ASSERT_TRUE(off.ok()) << off.error().message;
  EXPECT_FALSE(*off);
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.error().code, ErrorCode::kUnavailable);
}

TEST(ConformityTrackerRestart, ARedisRestartWithAofKeepsEveryRound) {
  test::RedisProcess redis(true);
  ASSERT_TRUE(redis.start());
  RedisOptions options;
  options.port = redis.port();
  options.retry_after_ms = 50;
  options.key_prefix = "t:";
  auto tracker = makeConformityTracker(options);
  ASSERT_EQ(
      tracker->open(openRound("app-1", {plan("cq-1", "sanitary"), plan("cq-2", "fire")}))->result,
      OpenResult::kOpened);
  ASSERT_EQ(tracker->open(openRound("app-2", {plan("cq-3", "sanitary")}))->result,
            OpenResult::kOpened);
  ASSERT_TRUE(
      tracker->settleSends({delivered("cq-1"), retry("cq-2", kNow + 500, "timeout")}, kNow, kLease)
          .ok());
  ASSERT_TRUE(tracker->conclude(conclusion("cq-3", "sanitary"), "f", kNow, kLease).ok());

  redis.stop();
  ASSERT_TRUE(redis.start());

  // The first call finds the old connection broken; the next reconnects.
  auto first = tracker->round("app-1");
  for (int tries = 0; !first.ok() && tries < 20; ++tries) {
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    first = tracker->round("app-1");
  }
  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_TRUE(first->has_value());
  ASSERT_EQ((*first)->queries.size(), 2u);
  EXPECT_EQ((*first)->queries[0].state, QueryState::kSent);
  EXPECT_EQ((*first)->queries[1].state, QueryState::kRetrying);
  EXPECT_EQ((*first)->queries[1].next_attempt_ms, kNow + 500);
  auto second = tracker->round("app-2");
  ASSERT_TRUE(second.ok() && second->has_value());
  EXPECT_EQ((*second)->outcome, RoundOutcome::kConforms);
  auto claimed = tracker->claimSends(kNow + 500, kLease, 10);
  ASSERT_TRUE(claimed.ok()) << claimed.error().message;
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ((*claimed)[0].query_id, "cq-2");
  EXPECT_EQ((*claimed)[0].attempt, 2);
  auto outcomes = tracker->claimOutcomes(kNow + kLease, kLease, 10);
  ASSERT_TRUE(outcomes.ok());
  ASSERT_EQ(outcomes->size(), 1u);
  EXPECT_EQ((*outcomes)[0].outcome.application_id, "app-2");
}

}  // namespace
}  // namespace licgate::adapters::redis
