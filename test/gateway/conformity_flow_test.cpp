// The conformity flow's states, retries, deadlines and outcomes, with an
// injected clock (test/gateway/conformity_fixture.hpp).
#include "gateway/conformity_flow.hpp"

#include <sqlite3.h>

#include <thread>

#include "test/gateway/conformity_fixture.hpp"

namespace licgate::gateway::testing_conformity {
namespace {

TEST_F(ConformityFlowTest, OpensARoundAndSendsEachBodyItsQueryOnItsChannel) {
  auto answer = flow_->request("eru-export", request("APP-1"));

  ASSERT_TRUE(answer.ok()) << answer.error().message;
  EXPECT_FALSE(answer->duplicate);
  EXPECT_EQ(answer->query_ids,
            (std::vector<std::string>{queryId("APP-1", "sanitary"), queryId("APP-1", "fire")}));
  auto sent = courier_.take();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].channel.address, "conformity/sanitary");
  EXPECT_EQ(sent[1].channel.peer_url, "amqp://127.0.0.1:5999");
  EXPECT_EQ(sent[0].parcel.amqp.message_id, queryId("APP-1", "sanitary"));
  EXPECT_EQ(sent[0].parcel.amqp.subject, "conformity-query");
  auto message = mapping::readQueryJson(sent[0].parcel.amqp.body);
  ASSERT_TRUE(message.ok()) << message.error().message;
  EXPECT_EQ(message->body, "sanitary");
  EXPECT_EQ(message->request.application_id, "APP-1");
  EXPECT_EQ(message->request.data_json, R"({"site":"Almaty"})");
  // Ten working days after Friday 4 December 2026: 16 December is a
  // holiday, so the tenth is Monday 21 December; the deadline is its end.
  EXPECT_EQ(message->deadline, "2026-12-22T00:00:00+05:00");
  EXPECT_EQ(query("APP-1", "sanitary").state, QueryState::kSending);
}

TEST_F(ConformityFlowTest, AnswersTheSameRequestAsADuplicateAndAnotherAsAConflict) {
  ASSERT_TRUE(flow_->request("eru-export", request("APP-1")).ok());
  courier_.take();

  auto again = flow_->request("eru-export", request("APP-1"));
  auto other = flow_->request("eru-export", request("APP-1", "12.3"));

  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate);
  EXPECT_TRUE(courier_.take().empty());
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, registry::ErrorCode::kConflict);
  EXPECT_EQ(flow_->counters().requests_duplicate, 1u);
}

TEST_F(ConformityFlowTest, RefusesWhatItCannotOpenNamingWhy) {
  auto unknown_system = flow_->request("nobody", request("APP-1"));
  auto other_licensor = flow_->request("eru-export", [] {
    auto r = request("APP-1");
    r.licensor = testing::kKzLicensor;
    return r;
  }());
  auto no_body = flow_->request("portal", request("APP-1", "99.9"));
  auto no_outcome = flow_->request("portal", [] {
    auto r = request("APP-2");
    r.licensor = testing::kKzLicensor;
    return r;
  }());
  auto unlisted = flow_->request("portal", [] {
    auto r = request("APP-3");
    r.licensor = "XX-NONE";
    return r;
  }());

  EXPECT_EQ(unknown_system.error().code, registry::ErrorCode::kNotAuthorised);
  EXPECT_EQ(unknown_system.error().message, "system \"nobody\" is not configured");
  EXPECT_EQ(other_licensor.error().code, registry::ErrorCode::kNotAuthorised);
  EXPECT_EQ(no_body.error().message,
            "activity: \"99.9\" needs no interested body's conclusion (it is not listed under "
            "conformity.activities)");
  EXPECT_EQ(no_outcome.error().code, registry::ErrorCode::kInvalidField);
  EXPECT_TRUE(no_outcome.error().message.starts_with(
      "licensor: \"" + std::string(testing::kKzLicensor) + "\" has no outcome channel"));
  EXPECT_EQ(unlisted.error().message,
            "licensor: \"XX-NONE\" is not a licensor listed under licensors");
  EXPECT_TRUE(courier_.take().empty());
  EXPECT_EQ(flow_->counters().requests_refused, 5u);
}

// One batch as the intake hands it over: a number no double holds refuses
// its own delivery, not the batch; a delivery the listener refused, and one
// in another charset than UTF-8, are counted with the refused requests.
TEST_F(ConformityFlowTest, ABadDeliveryIsRefusedAloneInItsBatch) {
  auto delivery = [](std::string body) {
    adapters::amqp::Delivery d;
    d.address = std::string(kRequestsAddress);
    d.sender_system = "eru-export";
    d.body = std::move(body);
    return d;
  };
  auto too_big = request("APP-2");
  too_big.data_json = R"({"e":"NUMBER"})";
  std::string overflowing = mapping::writeRequestJson(too_big);
  overflowing.replace(overflowing.find("\"NUMBER\""), 8, "1e400");
  std::vector<adapters::amqp::Delivery> batch{
      delivery(mapping::writeRequestJson(request("APP-1"))), delivery(overflowing), delivery(""),
      delivery(mapping::writeRequestJson(request("APP-4")))};
  batch[0].content_type = "application/json; charset=UTF-8";
  batch[2].refused = registry::Error{registry::ErrorCode::kTooLarge, "the message is too large"};
  batch[3].content_type = "application/json; charset=windows-1251";

  auto prepared = flow_->prepareDeliveries(batch);
  const auto verdicts = flow_->finishDeliveries(*prepared);

  ASSERT_EQ(verdicts.size(), 4u);
  EXPECT_EQ(verdicts[0].outcome, "opened");
  EXPECT_EQ(verdicts[1].settle, adapters::amqp::Settle::kReject);
  EXPECT_NE(verdicts[1].description.find("number overflow parsing '1e400'"), std::string::npos)
      << verdicts[1].description;
  EXPECT_EQ(verdicts[2].settle, adapters::amqp::Settle::kReject);
  EXPECT_EQ(verdicts[3].settle, adapters::amqp::Settle::kReject);
  EXPECT_EQ(verdicts[3].error_code, "unsupported-encoding");
  EXPECT_EQ(verdicts[3].description,
            "content type \"application/json; charset=windows-1251\": conformity messages are "
            "UTF-8 JSON, not windows-1251");
  EXPECT_EQ(flow_->counters().requests_opened, 1u);
  EXPECT_EQ(flow_->counters().requests_refused, 3u);
  // Each refused one is kept, with its sender, bytes and reason.
  auto letters = store_->deadLetters(0, 10);
  ASSERT_TRUE(letters.ok()) << letters.error().message;
  ASSERT_EQ(letters->size(), 3u);
  EXPECT_EQ((*letters)[0].sender_system, "eru-export");
  EXPECT_EQ((*letters)[0].body, overflowing);
  EXPECT_EQ((*letters)[0].code, registry::ErrorCode::kInvalidField);
  EXPECT_EQ((*letters)[1].code, registry::ErrorCode::kTooLarge);
  EXPECT_EQ((*letters)[1].reason, "the message is too large");
  EXPECT_EQ((*letters)[2].reason, verdicts[3].description);
  EXPECT_EQ((*letters)[2].content_type, "application/json; charset=windows-1251");
}

// A refusal that only Redis could tell (an unknown query) is kept as a dead
// letter too; an accepted conclusion in the same batch is not.
TEST_F(ConformityFlowTest, KeepsAConclusionForAnUnknownQueryAsADeadLetter) {
  ASSERT_TRUE(flow_->request("eru-export", request("APP-1")).ok());
  auto delivery = [](const std::string& query_id, const std::string& message_id) {
    adapters::amqp::Delivery d;
    d.address = std::string(kConclusionsAddress);
    d.sender_system = "fire";
    d.message_id = message_id;
    d.content_type = "application/json";
    d.body = mapping::writeConclusionJson(conclusion(query_id, "fire"));
    return d;
  };

  const auto verdicts = flow_->processDeliveries(
      {delivery(queryId("APP-1", "fire"), "m-1"), delivery("cq-nothing", "m-2")});

  ASSERT_EQ(verdicts.size(), 2u);
  EXPECT_EQ(verdicts[0].outcome, "accepted");
  EXPECT_EQ(verdicts[1].settle, adapters::amqp::Settle::kReject);
  auto letters = store_->deadLetters(0, 10);
  ASSERT_TRUE(letters.ok()) << letters.error().message;
  ASSERT_EQ(letters->size(), 1u);
  EXPECT_EQ((*letters)[0].message_id, "m-2");
  EXPECT_EQ((*letters)[0].sender_system, "fire");
  EXPECT_EQ((*letters)[0].code, registry::ErrorCode::kUnknownQuery);
  EXPECT_EQ((*letters)[0].reason, verdicts[1].description);
}

TEST_F(ConformityFlowTest, RefusesADeliveryWhoseMediaTypeIsNotJson) {
  adapters::amqp::Delivery xml;
  xml.address = std::string(kConclusionsAddress);
  xml.sender_system = "ecology";
  xml.content_type = "application/xml; charset=utf-8";
  xml.body = "<conclusion/>";
  adapters::amqp::Delivery untyped;
  untyped.address = std::string(kRequestsAddress);
  untyped.sender_system = "eru-export";
  untyped.body = mapping::writeRequestJson(request("APP-1"));

  auto prepared = flow_->prepareDeliveries({xml, untyped});
  const auto verdicts = flow_->finishDeliveries(*prepared);

  ASSERT_EQ(verdicts.size(), 2u);
  EXPECT_EQ(verdicts[0].settle, adapters::amqp::Settle::kReject);
  EXPECT_EQ(verdicts[0].error_code, "malformed");
  EXPECT_EQ(verdicts[0].description,
            "content type \"application/xml; charset=utf-8\": conformity messages are "
            "application/json");
  EXPECT_EQ(verdicts[1].outcome, "opened");
  EXPECT_EQ(flow_->counters().conclusions_refused, 1u);
}

TEST_F(ConformityFlowTest, DeliveredQueriesAreSent) {
  ASSERT_TRUE(flow_->request("eru-export", request("APP-1")).ok());

  settleAll(Receipt::Fate::kDelivered);

  EXPECT_EQ(query("APP-1", "sanitary").state, QueryState::kSent);
  EXPECT_EQ(query("APP-1", "sanitary").attempts, 1);
  EXPECT_EQ(flow_->counters().sends_delivered, 2u);
}

TEST_F(ConformityFlowTest, RetriesWithBackOffAndGivesUpAfterTheAttempts) {
  ASSERT_TRUE(flow_->request("eru-export", request("APP-1", "07.7")).ok());
  settleAll(Receipt::Fate::kRetry, "no link attached");

  const auto first = query("APP-1", "sanitary");
  EXPECT_EQ(first.state, QueryState::kRetrying);
  EXPECT_EQ(first.last_error, "no link attached");
  // initial_ms 1000, drawn between a half and all of it.
  EXPECT_GE(first.next_attempt_ms, kFridayMorning + 500);
  EXPECT_LE(first.next_attempt_ms, kFridayMorning + 1000);

  flow_->tick();  // not due yet
  EXPECT_TRUE(courier_.take().empty());

  // Each pass: due, sent again, failed again. The pauses double (1, 2, 4 s).
  std::int64_t previous_pause = 0;
  for (int attempt = 2; attempt <= 4; ++attempt) {
    const auto before = query("APP-1", "sanitary");
    now_ = before.next_attempt_ms;
    flow_->tick();
    auto resent = settleAll(Receipt::Fate::kRetry, "no link attached");
    ASSERT_EQ(resent.size(), 1u) << "attempt " << attempt;
    const auto after = query("APP-1", "sanitary");
    if (attempt < 4) {
      const std::int64_t pause = after.next_attempt_ms - now_;
      const std::int64_t full = std::min<std::int64_t>(1000LL << (attempt - 1), 8000);
      EXPECT_GE(pause, full / 2) << "attempt " << attempt;
      EXPECT_LE(pause, full) << "attempt " << attempt;
      EXPECT_GT(pause, previous_pause / 2);
      previous_pause = pause;
      EXPECT_EQ(after.state, QueryState::kRetrying);
    } else {
      EXPECT_EQ(after.state, QueryState::kFailed);
      EXPECT_EQ(after.last_error, "gave up after 4 attempts: no link attached");
    }
  }
  // Three sends were retried; the fourth failed the query.
  EXPECT_EQ(flow_->counters().sends_retried, 3u);
  EXPECT_EQ(flow_->counters().sends_failed, 1u);
}

TEST_F(ConformityFlowTest, APermanentRefusalFailsTheQueryAndTheRoundIsIncomplete) {
  ASSERT_TRUE(flow_->request("eru-export", request("APP-1", "12.3")).ok());

  settleAll(Receipt::Fate::kPermanent, "http://127.0.0.1:5998/q answered HTTP 400");

  const auto failed = query("APP-1", "ecology");
  EXPECT_EQ(failed.state, QueryState::kFailed);
  EXPECT_EQ(failed.last_error, "http://127.0.0.1:5998/q answered HTTP 400");
  auto outcome = store_->findConformityOutcome("APP-1");
  ASSERT_TRUE(outcome.ok() && outcome->has_value());
  EXPECT_EQ((*outcome)->outcome, registry::RoundOutcome::kIncomplete);
  auto sent = courier_.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].channel.address, "conformity/outcomes/cz");
  EXPECT_EQ(sent[0].parcel.amqp.message_id, "outcome-APP-1");
}

TEST_F(ConformityFlowTest, NeverRetriesAtOrPastTheDeadline) {
  ASSERT_TRUE(flow_->request("eru-export", request("APP-1", "12.3")).ok());  // 20 s deadline
  settleAll(Receipt::Fate::kRetry, "connection refused");
  for (int i = 0; i < 10 && query("APP-1", "ecology").state == QueryState::kRetrying; ++i) {
    now_ = query("APP-1", "ecology").next_attempt_ms;
    EXPECT_LT(now_.load(), kFridayMorning + 20'000);
    flow_->tick();
    settleAll(Receipt::Fate::kRetry, "connection refused");
  }

  const auto failed = query("APP-1", "ecology");
  EXPECT_EQ(failed.state, QueryState::kFailed);
  EXPECT_TRUE(failed.last_error.starts_with("the deadline comes before the next attempt") ||
              failed.last_error.starts_with("gave up after 4 attempts"))
      << failed.last_error;
}

TEST_F(ConformityFlowTest, ConclusionsCloseTheRoundWhichIsKeptAndSentToTheLicensor) {
  ASSERT_TRUE(flow_->request("eru-export", request("APP-1")).ok());
  settleAll(Receipt::Fate::kDelivered);
  now_ += kHour;

  auto first = flow_->conclude("sanitary", conclusion(queryId("APP-1", "sanitary"), "sanitary"));
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->result, "accepted");
  flow_->drain();
  EXPECT_TRUE(courier_.take().empty());  // the fire body has not answered
  auto second =
      flow_->conclude("", conclusion(queryId("APP-1", "fire"), "fire", Verdict::kDoesNotConform));
  ASSERT_TRUE(second.ok());
  flow_->drain();

  auto outcome = store_->findConformityOutcome("APP-1");
  ASSERT_TRUE(outcome.ok() && outcome->has_value());
  EXPECT_EQ((*outcome)->outcome, registry::RoundOutcome::kDoesNotConform);
  EXPECT_EQ((*outcome)->decided_ms, kFridayMorning + kHour);
  auto sent = courier_.take();
  ASSERT_EQ(sent.size(), 1u);
  auto json = nlohmann::json::parse(sent[0].parcel.amqp.body);
  EXPECT_EQ(json["outcome"], "does-not-conform");
  EXPECT_EQ(json["conclusions"].size(), 2u);
  EXPECT_EQ(query("APP-1", "fire").reasons, std::vector<std::string>{"checked by fire"});

  sent[0].done({Receipt::Fate::kDelivered, ""});
  flow_->drain();
  EXPECT_EQ(flow_->counters().outcomes_delivered, 1u);
  auto round = tracker_->round("APP-1");
  ASSERT_TRUE(round.ok() && round->has_value());
  EXPECT_EQ((*round)->delivered_ms, kFridayMorning + kHour);
}

TEST_F(ConformityFlowTest, AnswersRepeatedWrongAndUnknownConclusions) {
  ASSERT_TRUE(flow_->request("eru-export", request("APP-1")).ok());
  settleAll(Receipt::Fate::kDelivered);
  const std::string id = queryId("APP-1", "sanitary");
  ASSERT_TRUE(flow_->conclude("sanitary", conclusion(id, "sanitary")).ok());

  auto repeat = flow_->conclude("sanitary", conclusion(id, "sanitary"));
  auto changed = flow_->conclude("sanitary", conclusion(id, "sanitary", Verdict::kDoesNotConform));
  auto wrong_body = flow_->conclude("fire", conclusion(id, "fire"));
  auto lying_system = flow_->conclude("fire", conclusion(id, "sanitary"));
  auto unknown = flow_->conclude("sanitary", conclusion("cq-000000000000000000000000", "sanitary"));

  ASSERT_TRUE(repeat.ok());
  EXPECT_EQ(repeat->result, "duplicate");
  EXPECT_EQ(changed.error().code, registry::ErrorCode::kConflict);
  EXPECT_EQ(wrong_body.error().code, registry::ErrorCode::kWrongBody);
  EXPECT_EQ(wrong_body.error().message,
            "query \"" + id + "\" went to body \"sanitary\", not \"fire\"");
  EXPECT_EQ(lying_system.error().code, registry::ErrorCode::kWrongBody);
  EXPECT_EQ(unknown.error().code, registry::ErrorCode::kUnknownQuery);
  EXPECT_EQ(unknown.error().message,
            "query_id: \"cq-000000000000000000000000\" is not a query licgate sent: neither Redis "
            "nor the register knows it");
  EXPECT_EQ(query("APP-1", "sanitary").verdict, Verdict::kConforms);
}

TEST_F(ConformityFlowTest, DeadlinesGiveTacitConsentOrExpireAndALateConclusionChangesNothing) {
  ASSERT_TRUE(flow_->request("eru-export", request("APP-1")).ok());
  settleAll(Receipt::Fate::kDelivered);
  const std::int64_t deadline = query("APP-1", "sanitary").deadline_ms;
  EXPECT_EQ(flow_->workingDaysLeft(deadline), 10);

  now_ = deadline - 1;
  flow_->tick();
  EXPECT_EQ(query("APP-1", "sanitary").state, QueryState::kSent);
  EXPECT_EQ(flow_->workingDaysLeft(deadline), 0);
  now_ = deadline;
  flow_->tick();

  const auto sanitary = query("APP-1", "sanitary");
  EXPECT_EQ(sanitary.state, QueryState::kExpired);
  EXPECT_EQ(sanitary.verdict, Verdict::kConforms);
  EXPECT_TRUE(sanitary.tacit);
  EXPECT_EQ(sanitary.reasons, std::vector<std::string>{std::string(registry::kTacitConsentReason)});
  const auto fire = query("APP-1", "fire");
  EXPECT_EQ(fire.state, QueryState::kExpired);
  EXPECT_EQ(fire.verdict, std::nullopt);
  auto outcome = store_->findConformityOutcome("APP-1");
  ASSERT_TRUE(outcome.ok() && outcome->has_value());
  EXPECT_EQ((*outcome)->outcome, registry::RoundOutcome::kIncomplete);

  auto late = flow_->conclude(
      "fire", conclusion(queryId("APP-1", "fire"), "fire", Verdict::kDoesNotConform));
  auto repeat = flow_->conclude(
      "fire", conclusion(queryId("APP-1", "fire"), "fire", Verdict::kDoesNotConform));
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->result, "late");
  ASSERT_TRUE(repeat.ok());
  EXPECT_EQ(repeat->result, "late");  // the same answer, but counted as a duplicate
  EXPECT_EQ(flow_->counters().conclusions_late, 1u);
  EXPECT_EQ(flow_->counters().conclusions_duplicate, 1u);
  EXPECT_EQ(query("APP-1", "fire").late_verdict, Verdict::kDoesNotConform);
  EXPECT_EQ(query("APP-1", "fire").state, QueryState::kExpired);
  auto kept = store_->findConformityOutcome("APP-1");
  EXPECT_EQ((*kept)->outcome, registry::RoundOutcome::kIncomplete);
  // The register's copy shows the late conclusion too, for reads without Redis.
  ASSERT_EQ((*kept)->queries.size(), 2u);
  const auto& kept_fire =
      (*kept)->queries[0].body == "fire" ? (*kept)->queries[0] : (*kept)->queries[1];
  EXPECT_EQ(kept_fire.late_verdict, Verdict::kDoesNotConform);
  EXPECT_EQ(kept_fire.late_ms, now_);
  EXPECT_EQ(kept_fire.verdict, std::nullopt);
}

TEST_F(ConformityFlowTest, AQueryNeverDeliveredByItsDeadlineFails) {
  ASSERT_TRUE(flow_->request("eru-export", request("APP-1", "12.3")).ok());
  courier_.take();  // no receipt: the process died mid-send, say

  now_ = kFridayMorning + 20'000;
  flow_->tick();

  const auto ecology = query("APP-1", "ecology");
  EXPECT_EQ(ecology.state, QueryState::kFailed);
  EXPECT_EQ(ecology.last_error, "the deadline passed before the body took the query");
}

TEST_F(ConformityFlowTest, AnUnsettledSendIsSentAgainWhenItsLeaseEnds) {
  ASSERT_TRUE(flow_->request("eru-export", request("APP-1")).ok());
  ASSERT_EQ(courier_.take().size(), 2u);  // never settled

  now_ += 2 * config_.conformity.send_timeout_ms;
  flow_->tick();
  EXPECT_TRUE(courier_.take().empty());
  now_ += 1001;
  flow_->tick();

  auto again = settleAll(Receipt::Fate::kDelivered);
  ASSERT_EQ(again.size(), 2u);
  std::set<std::string> ids = {again[0].parcel.amqp.message_id, again[1].parcel.amqp.message_id};
  EXPECT_EQ(ids, (std::set<std::string>{queryId("APP-1", "sanitary"), queryId("APP-1", "fire")}));
  EXPECT_EQ(query("APP-1", "sanitary").state, QueryState::kSent);
}

TEST_F(ConformityFlowTest, AnOutcomeTheLicensorDidNotTakeIsSentAgain) {
  decideOneBodyRound("APP-1");
  settleAll(Receipt::Fate::kRetry, "no link attached to receive from 'conformity/outcomes/cz'");

  now_ += 1000;
  flow_->tick();
  auto again = settleAll(Receipt::Fate::kDelivered);

  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].parcel.amqp.message_id, "outcome-APP-1");
  EXPECT_EQ(flow_->counters().outcomes_retried, 1u);
  EXPECT_EQ(flow_->counters().outcomes_delivered, 1u);
  now_ += 600'000;
  flow_->tick();
  EXPECT_TRUE(courier_.take().empty());
}

// Sending it again would be refused again: it waits for the operator.
TEST_F(ConformityFlowTest, AnOutcomeTheLicensorRefusedWaitsForTheOperatorsResend) {
  decideOneBodyRound("APP-1");
  settleAll(Receipt::Fate::kPermanent, "amqp:not-allowed: unknown application");

  now_ += 600'000;
  flow_->tick();
  auto while_refused = courier_.take();
  auto listed = flow_->refusedOutcomes(10);
  auto resent = flow_->resendOutcome("APP-1");
  flow_->tick();
  auto again = settleAll(Receipt::Fate::kDelivered);

  EXPECT_TRUE(while_refused.empty());
  EXPECT_EQ(flow_->counters().outcomes_refused, 1u);
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].application_id, "APP-1");
  EXPECT_EQ((*listed)[0].licensor, "CZ-ERU");
  EXPECT_EQ((*listed)[0].error, "amqp:not-allowed: unknown application");
  EXPECT_EQ((*listed)[0].attempts, 1);
  EXPECT_EQ((*listed)[0].refused_ms, kFridayMorning);
  ASSERT_TRUE(resent.ok()) << resent.error().message;
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].parcel.amqp.message_id, "outcome-APP-1");
  EXPECT_EQ(flow_->counters().outcomes_delivered, 1u);
  EXPECT_TRUE(flow_->refusedOutcomes(10)->empty());
  EXPECT_EQ(flow_->round("APP-1").value()->outcome, "conforms");
}

TEST_F(ConformityFlowTest, RefusesToResendAnOutcomeThatWasNotRefused) {
  ASSERT_TRUE(flow_->request("eru-export", request("APP-1", "12.3")).ok());

  auto open = flow_->resendOutcome("APP-1");
  auto unknown = flow_->resendOutcome("APP-404");

  ASSERT_FALSE(open.ok());
  EXPECT_EQ(open.error().code, registry::ErrorCode::kNotFound);
  EXPECT_EQ(open.error().message, "application \"APP-1\" has no refused outcome to resend");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, registry::ErrorCode::kNotFound);
}

// A refused message whose dead letter the register cannot take (another
// writer holds it) is released, to come again, rather than rejected without
// a trace; once the register is free the same message is refused and kept.
TEST_F(ConformityFlowTest, ARefusalTheRegisterCannotKeepIsReleasedInstead) {
  adapters::amqp::Delivery unknown;
  unknown.address = std::string(kConclusionsAddress);
  unknown.sender_system = "fire";
  unknown.message_id = "m-1";
  unknown.body = mapping::writeConclusionJson(conclusion("cq-nothing", "fire"));
  sqlite3* holder = nullptr;
  ASSERT_EQ(sqlite3_open(dir_.file("register.db").c_str(), &holder), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(holder, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);

  const auto held = flow_->processDeliveries({unknown});
  sqlite3_exec(holder, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(holder);
  const auto again = flow_->processDeliveries({unknown});

  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(held[0].settle, adapters::amqp::Settle::kRelease);
  EXPECT_NE(held[0].description.find("could not keep it as a dead letter"), std::string::npos)
      << held[0].description;
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].settle, adapters::amqp::Settle::kReject);
  EXPECT_EQ(again[0].error_code, "unknown-query");
  auto letters = store_->deadLetters(0, 10);
  ASSERT_TRUE(letters.ok()) << letters.error().message;
  ASSERT_EQ(letters->size(), 1u);
  EXPECT_EQ((*letters)[0].message_id, "m-1");
}

// An outcome goes out as soon as its round is decided, its register write
// meanwhile. When the write fails (another writer holds the register), the
// outcome is not marked delivered although the licensor took it: once its
// claim ends it is kept and sent again.
TEST_F(ConformityFlowTest, AnOutcomeTheRegisterDidNotTakeIsKeptAndSentAgain) {
  ASSERT_TRUE(flow_->request("eru-export", request("APP-1", "12.3")).ok());
  settleAll(Receipt::Fate::kDelivered);
  sqlite3* holder = nullptr;
  ASSERT_EQ(sqlite3_open(dir_.file("register.db").c_str(), &holder), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(holder, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);

  ASSERT_TRUE(flow_->conclude("ecology", conclusion(queryId("APP-1", "ecology"), "ecology")).ok());
  auto first = courier_.take();
  ASSERT_EQ(first.size(), 1u);  // sent before the flow's thread kept it
  EXPECT_EQ(first[0].parcel.amqp.message_id, "outcome-APP-1");
  flow_->drain();  // the write waits out the busy timeout and fails
  first[0].done({Receipt::Fate::kDelivered, ""});
  flow_->drain();
  EXPECT_EQ(flow_->counters().outcomes_delivered, 0u);
  EXPECT_EQ(flow_->counters().rounds_decided, 0u);
  auto round = tracker_->round("APP-1");
  ASSERT_TRUE(round.ok() && round->has_value());
  EXPECT_EQ((*round)->delivered_ms, 0);
  auto none = store_->findConformityOutcome("APP-1");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());

  sqlite3_exec(holder, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(holder);
  now_ += 600'000;  // past the claim's lease
  flow_->tick();
  auto kept = store_->findConformityOutcome("APP-1");
  ASSERT_TRUE(kept.ok() && kept->has_value());
  EXPECT_EQ((*kept)->outcome, registry::RoundOutcome::kConforms);
  auto again = settleAll(Receipt::Fate::kDelivered);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].parcel.amqp.message_id, "outcome-APP-1");
  EXPECT_EQ(flow_->counters().outcomes_delivered, 1u);
  round = tracker_->round("APP-1");
  ASSERT_TRUE(round.ok() && round->has_value());
  EXPECT_EQ((*round)->delivered_ms, kFridayMorning + 600'000);
}

// Another process decided the round and died before it kept or sent the
// outcome: once that process's lease ends, this one keeps and sends it.
TEST_F(ConformityFlowTest, KeepsAndSendsAnOutcomeWhoseDeciderDied) {
  ASSERT_TRUE(flow_->request("eru-export", request("APP-1", "12.3")).ok());
  settleAll(Receipt::Fate::kDelivered);
  const registry::Conclusion answer = conclusion(queryId("APP-1", "ecology"), "ecology");
  auto decided = tracker_->conclude(answer, mapping::conclusionFingerprint(answer), now_, 30'000);
  ASSERT_TRUE(decided.ok() && decided->decided.has_value());

  flow_->tick();
  EXPECT_TRUE(courier_.take().empty());  // the other's lease holds
  now_ += 30'001;
  flow_->tick();

  auto kept = store_->findConformityOutcome("APP-1");
  ASSERT_TRUE(kept.ok() && kept->has_value());
  EXPECT_EQ((*kept)->outcome, registry::RoundOutcome::kConforms);
  auto sent = courier_.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].parcel.amqp.message_id, "outcome-APP-1");
}

// Redis without AOF loses its rounds when it restarts; the register still
// holds each decided one, and one application id stays one round.
TEST_F(ConformityFlowTest, KnowsADecidedRoundAfterRedisHasForgottenIt) {
  ASSERT_TRUE(flow_->request("eru-export", request("APP-1", "12.3")).ok());
  settleAll(Receipt::Fate::kPermanent, "refused");
  courier_.take();  // the outcome
  redis_.stop();
  ASSERT_TRUE(redis_.start());

  auto again = flow_->request("eru-export", request("APP-1", "12.3"));
  auto other = flow_->request("eru-export", [] {
    auto changed = request("APP-1", "12.3");
    changed.data_json = R"({"site":"elsewhere"})";
    return changed;
  }());

  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->query_ids, std::vector<std::string>{queryId("APP-1", "ecology")});
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, registry::ErrorCode::kConflict);
  EXPECT_TRUE(courier_.take().empty());  // nothing sent again
  auto round = flow_->round("APP-1");
  ASSERT_TRUE(round.ok() && round->has_value());
  EXPECT_EQ((*round)->request.applicant.name, "Alem Energy LLP");
}

TEST_F(ConformityFlowTest, ShowsTheRoundFromTheRegisterOnceRedisHasForgottenIt) {
  ASSERT_TRUE(flow_->request("eru-export", request("APP-1", "12.3")).ok());
  settleAll(Receipt::Fate::kPermanent, "refused");
  redis_.stop();

  auto round = flow_->round("APP-1");

  ASSERT_TRUE(round.ok()) << round.error().message;
  ASSERT_TRUE(round->has_value());
  EXPECT_EQ((*round)->outcome, "incomplete");
  ASSERT_EQ((*round)->queries.size(), 1u);
  EXPECT_EQ((*round)->queries[0].last_error, "refused");
  auto missing = flow_->round("APP-2");
  EXPECT_FALSE(missing.ok());  // Redis down and the register does not know it
  EXPECT_EQ(missing.error().code, registry::ErrorCode::kUnavailable);
}

// Redis forgets a delivered round (conformity.keep_delivered_days, or a
// restart without its data); the register keeps it, and answers for it.
TEST_F(ConformityFlowTest, AnswersConclusionsOfARoundRedisHasForgottenFromTheRegister) {
  ASSERT_TRUE(flow_->request("eru-export", request("APP-1")).ok());
  settleAll(Receipt::Fate::kDelivered);
  const std::string sanitary = queryId("APP-1", "sanitary");
  const std::string fire = queryId("APP-1", "fire");
  ASSERT_TRUE(flow_->conclude("sanitary", conclusion(sanitary, "sanitary")).ok());
  now_ = query("APP-1", "fire").deadline_ms;
  flow_->tick();  // fire expires: the round is decided and kept
  ASSERT_TRUE(store_->findConformityOutcome("APP-1")->has_value());
  redis_.stop();
  ASSERT_TRUE(redis_.start());
  // The first command on the old connection finds it closed; the tick
  // takes that and the next command connects again.
  flow_->tick();
  now_ += 1000;

  auto repeat = flow_->conclude("sanitary", conclusion(sanitary, "sanitary"));
  auto changed =
      flow_->conclude("sanitary", conclusion(sanitary, "sanitary", Verdict::kDoesNotConform));
  auto wrong_body = flow_->conclude("fire", conclusion(sanitary, "fire"));
  auto late = flow_->conclude("fire", conclusion(fire, "fire", Verdict::kDoesNotConform));
  auto late_again = flow_->conclude("fire", conclusion(fire, "fire", Verdict::kDoesNotConform));
  auto late_other = flow_->conclude("fire", conclusion(fire, "fire", Verdict::kConforms));
  auto unknown = flow_->conclude("fire", conclusion("cq-000000000000000000000001", "fire"));

  ASSERT_TRUE(repeat.ok()) << repeat.error().message;
  EXPECT_EQ(repeat->result, "duplicate");
  ASSERT_FALSE(changed.ok());
  EXPECT_EQ(changed.error().code, registry::ErrorCode::kConflict);
  ASSERT_FALSE(wrong_body.ok());
  EXPECT_EQ(wrong_body.error().message,
            "query \"" + sanitary + "\" went to body \"sanitary\", not \"fire\"");
  ASSERT_TRUE(late.ok()) << late.error().message;
  EXPECT_EQ(late->result, "late");
  ASSERT_TRUE(late_again.ok()) << late_again.error().message;
  EXPECT_EQ(late_again->result, "late");
  ASSERT_FALSE(late_other.ok());
  EXPECT_EQ(late_other.error().code, registry::ErrorCode::kConflict);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, registry::ErrorCode::kUnknownQuery);
  // Before the restart: sanitary accepted. After: the repeat and the late
  // one's repeat are duplicates, one late, four refused.
  EXPECT_EQ(flow_->counters().conclusions_accepted, 1u);
  EXPECT_EQ(flow_->counters().conclusions_duplicate, 2u);
  EXPECT_EQ(flow_->counters().conclusions_late, 1u);
  EXPECT_EQ(flow_->counters().conclusions_refused, 4u);
  auto kept = store_->findConformityOutcome("APP-1");
  ASSERT_TRUE(kept.ok() && kept->has_value());
  EXPECT_EQ((*kept)->outcome, registry::RoundOutcome::kIncomplete);
  for (const auto& q : (*kept)->queries) {
    if (q.body == "fire") {
      EXPECT_EQ(q.state, QueryState::kExpired);
      EXPECT_EQ(q.verdict, std::nullopt);
      EXPECT_EQ(q.late_verdict, Verdict::kDoesNotConform);
      EXPECT_EQ(q.late_ms, now_);
    } else {
      EXPECT_EQ(q.verdict, Verdict::kConforms);
      EXPECT_EQ(q.late_verdict, std::nullopt);
    }
  }
}

// The readiness, /api/v1/stats and /metrics read RedisHealth: an outage
// only the flow sees must show there, and so must its end.
TEST_F(ConformityFlowTest, ReportsRedisOutagesToTheGatewaysHealth) {
  RedisHealth health(true);
  flow_->reportRedisHealthTo(&health);
  flow_->tick();
  const bool degraded_while_up = health.degraded();

  redis_.stop();
  flow_->tick();
  const bool degraded_while_down = health.degraded();
  ASSERT_TRUE(redis_.start());
  // The tracker waits redis.retry_after_ms (in real time) before it dials a
  // Redis that was away again: the first pass that reaches it ends the
  // outage.
  for (int pass = 0; pass < 100 && health.degraded(); ++pass) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    flow_->tick();
  }

  EXPECT_FALSE(degraded_while_up);
  EXPECT_TRUE(degraded_while_down);
  EXPECT_FALSE(health.degraded());
  EXPECT_EQ(health.outages(), 1u);
}

}  // namespace
}  // namespace licgate::gateway::testing_conformity
