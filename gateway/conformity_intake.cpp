// The conformity flow's intake (gateway/conformity_flow.hpp): requests
// from licensor systems and conclusions from interested bodies, checked,
// taken to Redis and answered; the AMQP deliveries that carry them. The
// flow's sending, timers and reads are in conformity_flow.cpp.
#include <algorithm>
#include <utility>

#include "gateway/conformity_flow.hpp"
#include "gateway/logging.hpp"
#include "mapping/conformity.hpp"
#include "mapping/content_type.hpp"
#include "mapping/encoding.hpp"
#include "mapping/error_table.hpp"
#include "registry/text.hpp"

// GCC 12 reports vectors of Result (a std::variant) that are assigned into
// as "maybe uninitialized" at -O2, wrongly (GCC bug 80635 and its kin):
// every element here is constructed before it is assigned.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace licgate::gateway {

namespace {

using adapters::redis::DecidedRound;
using registry::ErrorCode;
using registry::makeError;

adapters::amqp::Verdict verdictOf(const registry::Error& error) {
  const auto& transport = mapping::errorTransport(error.code);
  adapters::amqp::Verdict verdict;
  verdict.settle =
      transport.amqp_reject ? adapters::amqp::Settle::kReject : adapters::amqp::Settle::kRelease;
  verdict.condition = std::string(transport.amqp_condition);
  verdict.description = error.message;
  verdict.outcome = transport.amqp_reject ? "rejected" : "released";
  verdict.error_code = std::string(registry::errorCodeName(error.code));
  return verdict;
}

// Conformity messages are JSON, which is UTF-8 (RFC 8259 section 8.1): a
// content type that names another media type, or another charset, is
// refused by name rather than read as JSON or as ill-formed UTF-8. A
// message without one is taken as JSON, as most AMQP senders leave it out.
std::optional<registry::Error> contentTypeProblem(const adapters::amqp::Delivery& delivery) {
  const std::string media = mapping::mediaTypeOf(delivery.content_type);
  if (!media.empty() && media != "application/json") {
    return makeError(ErrorCode::kMalformed, "content type \"" +
                                                registry::quoteForMessage(delivery.content_type) +
                                                "\": conformity messages are application/json");
  }
  const std::string charset = mapping::contentTypeParameter(delivery.content_type, "charset");
  if (charset.empty()) {
    return std::nullopt;
  }
  // Its aliases too ("utf8", "UTF-8"), as the intake of licence events reads them.
  auto known = mapping::canonicalCharset(charset);
  if (known.ok() && *known == "UTF-8") {
    return std::nullopt;
  }
  return makeError(ErrorCode::kUnsupportedEncoding,
                   "content type \"" + registry::quoteForMessage(delivery.content_type) +
                       "\": conformity messages are UTF-8 JSON, not " +
                       registry::quoteForMessage(charset));
}

adapters::amqp::Verdict accepted(std::string outcome) {
  adapters::amqp::Verdict verdict;
  verdict.outcome = std::move(outcome);
  return verdict;
}

}  // namespace

registry::Result<adapters::redis::OpenRound> ConformityFlow::planRound(
    const std::string& system, const registry::ConformityRequest& request) const {
  LICGATE_RETURN_IF_ERROR(registry::checkRequest(request));
  LICGATE_RETURN_IF_ERROR(authorise(system, request.licensor));
  const auto& conformity = config_.conformity;
  const auto activity = conformity.activities.find(request.activity);
  if (activity == conformity.activities.end()) {
    return makeError(ErrorCode::kInvalidField,
                     "activity: \"" + request.activity +
                         "\" needs no interested body's conclusion "
                         "(it is not listed under conformity.activities)");
  }
  if (!isListedLicensor(request.licensor)) {
    return makeError(ErrorCode::kInvalidField, "licensor: \"" +
                                                   registry::quoteForMessage(request.licensor) +
                                                   "\" is not a licensor listed under licensors");
  }
  if (!conformity.outcomes.contains(request.licensor)) {
    return makeError(ErrorCode::kInvalidField,
                     "licensor: \"" + request.licensor +
                         "\" has no outcome channel (conformity.outcomes): its outcome would "
                         "reach nobody");
  }
  adapters::redis::OpenRound round;
  round.request = request;
  round.fingerprint = mapping::requestFingerprint(request);
  round.now_ms = clock_();
  round.lease_ms = sendLeaseMs();
  for (const std::string& body_id : activity->second) {
    const config::BodyConfig* body = conformity.findBody(body_id);
    round.queries.push_back({mapping::queryIdFor(request.application_id, body_id), body_id,
                             deadlineOf(*body, round.now_ms),
                             body->on_silence == config::SilenceRule::kConsent,
                             body->retry.attempts});
  }
  return round;
}

std::optional<registry::Result<RequestAnswer>> ConformityFlow::decidedBefore(
    const adapters::redis::OpenRound& round) {
  auto kept = store_.findConformityOutcome(round.request.application_id);
  if (!kept.ok()) {
    return registry::Result<RequestAnswer>(kept.takeError());
  }
  if (!kept->has_value()) {
    return std::nullopt;
  }
  if ((*kept)->request_fingerprint != round.fingerprint) {
    return registry::Result<RequestAnswer>(makeError(
        ErrorCode::kConflict, "application \"" + round.request.application_id +
                                  "\" has a conformity round of another request, decided: one "
                                  "application id, one round"));
  }
  RequestAnswer answer;
  answer.duplicate = true;
  for (const auto& query : round.queries) {
    answer.query_ids.push_back(query.query_id);
  }
  std::lock_guard lock(mutex_);
  ++counters_.requests_duplicate;
  return registry::Result<RequestAnswer>(std::move(answer));
}

registry::Result<RequestAnswer> ConformityFlow::request(
    const std::string& system, const registry::ConformityRequest& request) {
  return std::move(requestAll({{system, request}}).front());
}

void ConformityFlow::countRefusedRequest() {
  std::lock_guard lock(mutex_);
  ++counters_.requests_refused;
}

void ConformityFlow::countRefusedConclusion() {
  std::lock_guard lock(mutex_);
  ++counters_.conclusions_refused;
}

std::vector<registry::Result<RequestAnswer>> ConformityFlow::requestAll(
    const std::vector<std::pair<std::string, registry::ConformityRequest>>& requests) {
  return openPlanned(planRequests(requests));
}

ConformityFlow::PlannedRequests ConformityFlow::planRequests(
    const std::vector<std::pair<std::string, registry::ConformityRequest>>& requests) {
  PlannedRequests plan;
  plan.answers.reserve(requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    auto round = planRound(requests[i].first, requests[i].second);
    if (!round.ok()) {
      plan.answers.push_back(round.takeError());
      continue;
    }
    // A round Redis no longer holds (removed after its outcome, or a Redis
    // restored without it) is still in the register: the same request is
    // a duplicate of it, another one a conflict, never a second round.
    auto decided = decidedBefore(*round);
    if (decided.has_value()) {
      plan.answers.push_back(std::move(*decided));
      continue;
    }
    plan.planned.push_back(i);
    plan.rounds.push_back(std::move(*round));
    plan.answers.push_back(RequestAnswer{});
  }
  return plan;
}

std::vector<registry::Result<RequestAnswer>> ConformityFlow::openPlanned(PlannedRequests plan) {
  registry::Result<std::vector<adapters::redis::Opened>> opened =
      plan.rounds.empty() ? std::vector<adapters::redis::Opened>() : tracker_.openAll(plan.rounds);
  return answerRequests(std::move(plan), std::move(opened));
}

std::vector<registry::Result<RequestAnswer>> ConformityFlow::answerRequests(
    PlannedRequests plan, registry::Result<std::vector<adapters::redis::Opened>> opened) {
  auto& answers = plan.answers;
  const auto& rounds = plan.rounds;
  const auto& planned = plan.planned;
  std::uint64_t opened_count = 0, duplicates = 0;
  if (!opened.ok()) {
    noteRedisError(opened.error(), "conformity requests could not be opened");
    for (std::size_t k = 0; k < planned.size(); ++k) {
      answers[planned[k]] = opened.error();
    }
  } else {
    for (std::size_t k = 0; k < planned.size(); ++k) {
      auto& result = (*opened)[k];
      const auto& round = rounds[k];
      if (result.error) {
        noteRedisError(*result.error, "a conformity request could not be opened");
        answers[planned[k]] = std::move(*result.error);
        continue;
      }
      if (result.result == adapters::redis::OpenResult::kConflict) {
        answers[planned[k]] =
            makeError(ErrorCode::kConflict, "application \"" + round.request.application_id +
                                                "\" has a conformity round of another request: one "
                                                "application id, one round");
        continue;
      }
      RequestAnswer answer;
      answer.duplicate = result.result == adapters::redis::OpenResult::kDuplicate;
      for (const auto& query : round.queries) {
        answer.query_ids.push_back(query.query_id);
      }
      ++(answer.duplicate ? duplicates : opened_count);
      answers[planned[k]] = std::move(answer);
      dispatch(std::move(result.claimed));
    }
  }
  std::uint64_t refused = 0;
  for (const auto& answer : answers) {
    refused += !answer.ok() && answer.error().code != ErrorCode::kUnavailable ? 1 : 0;
  }
  std::lock_guard lock(mutex_);
  counters_.requests_opened += opened_count;
  counters_.requests_duplicate += duplicates;
  counters_.requests_refused += refused;
  return std::move(answers);
}

registry::Status ConformityFlow::checkSender(const std::string& system,
                                             const registry::Conclusion& conclusion) const {
  LICGATE_RETURN_IF_ERROR(registry::checkConclusion(conclusion));
  if (!system.empty() && system != conclusion.body) {
    return makeError(ErrorCode::kWrongBody, "the conclusion names body \"" + conclusion.body +
                                                "\" but was sent by system \"" + system + "\"");
  }
  return {};
}

namespace {

registry::Error unknownQuery(const registry::Conclusion& conclusion) {
  return makeError(ErrorCode::kUnknownQuery,
                   "query_id: \"" + conclusion.query_id +
                       "\" is not a query licgate sent: neither Redis nor the register knows it");
}

registry::Error wrongBody(const registry::Conclusion& conclusion, const std::string& recorded) {
  return makeError(ErrorCode::kWrongBody, "query \"" + conclusion.query_id + "\" went to body \"" +
                                              recorded + "\", not \"" + conclusion.body + "\"");
}

registry::Error conflictOf(const registry::Conclusion& conclusion) {
  return makeError(ErrorCode::kConflict,
                   "query \"" + conclusion.query_id +
                       "\" has another conclusion of this body recorded; it stays");
}

// Whether a conclusion says what one recorded says. The register keeps no
// fingerprint of a conclusion, so the signed document is not compared: a
// repeat that differs only in it counts as the same.
bool saysTheSame(const registry::Conclusion& conclusion, std::optional<registry::Verdict> verdict,
                 const std::vector<std::string>& reasons, const std::string& signer) {
  return verdict == conclusion.verdict && reasons == conclusion.reasons &&
         signer == conclusion.signer;
}

}  // namespace

registry::Result<ConclusionAnswer> ConformityFlow::answerFromRegister(
    const registry::Conclusion& conclusion, std::int64_t now,
    std::vector<registry::LateConclusion>& late) {
  auto kept = store_.findConformityOutcomeOfQuery(conclusion.query_id);
  if (!kept.ok()) {
    return kept.takeError();
  }
  if (!kept->has_value()) {
    return unknownQuery(conclusion);
  }
  const registry::ConformityOutcome& outcome = **kept;
  const auto query =
      std::find_if(outcome.queries.begin(), outcome.queries.end(),
                   [&](const registry::QueryView& q) { return q.query_id == conclusion.query_id; });
  if (query == outcome.queries.end()) {
    return unknownQuery(conclusion);
  }
  if (query->body != conclusion.body) {
    return wrongBody(conclusion, query->body);
  }
  for (const auto& earlier : late) {
    if (earlier.query_id == conclusion.query_id) {
      if (saysTheSame(conclusion, earlier.verdict, earlier.reasons, earlier.signer)) {
        return ConclusionAnswer{"late", true};
      }
      return conflictOf(conclusion);
    }
  }
  if (query->state == registry::QueryState::kAnswered) {
    if (saysTheSame(conclusion, query->verdict, query->reasons, query->signer)) {
      return ConclusionAnswer{"duplicate"};
    }
    return conflictOf(conclusion);
  }
  if (query->late_verdict) {
    if (saysTheSame(conclusion, query->late_verdict, query->late_reasons, query->late_signer)) {
      return ConclusionAnswer{"late", true};
    }
    return conflictOf(conclusion);
  }
  late.push_back({outcome.application_id, conclusion.query_id, conclusion.verdict,
                  conclusion.reasons, conclusion.signer, now});
  return ConclusionAnswer{"late"};
}

registry::Result<ConclusionAnswer> ConformityFlow::answerOf(const registry::Conclusion& conclusion,
                                                            adapters::redis::Concluded& concluded) {
  using adapters::redis::ConcludeResult;
  switch (concluded.result) {
    case ConcludeResult::kAccepted:
      return ConclusionAnswer{"accepted"};
    case ConcludeResult::kDuplicate:
      return ConclusionAnswer{"duplicate"};
    case ConcludeResult::kLate:
      return ConclusionAnswer{"late", concluded.late_application.empty()};
    case ConcludeResult::kUnknown:
      return unknownQuery(conclusion);
    case ConcludeResult::kWrongBody:
      return wrongBody(conclusion, concluded.recorded_body);
    case ConcludeResult::kConflict:
      return conflictOf(conclusion);
  }
  return makeError(ErrorCode::kInternal, "unknown conclusion result");
}

registry::Result<ConclusionAnswer> ConformityFlow::conclude(
    const std::string& system, const registry::Conclusion& conclusion) {
  return std::move(concludeAll({{system, conclusion}}).front());
}

std::vector<registry::Result<ConclusionAnswer>> ConformityFlow::concludeAll(
    const std::vector<std::pair<std::string, registry::Conclusion>>& conclusions) {
  return recordChecked(checkConclusions(conclusions));
}

ConformityFlow::CheckedConclusions ConformityFlow::checkConclusions(
    const std::vector<std::pair<std::string, registry::Conclusion>>& conclusions) const {
  CheckedConclusions checked;
  checked.answers.reserve(conclusions.size());
  for (std::size_t i = 0; i < conclusions.size(); ++i) {
    const auto& [system, conclusion] = conclusions[i];
    if (auto status = checkSender(system, conclusion); !status.ok()) {
      checked.answers.push_back(status.takeError());
      continue;
    }
    checked.answers.push_back(ConclusionAnswer{});
    checked.calls.push_back({conclusion, mapping::conclusionFingerprint(conclusion)});
    checked.called.push_back(i);
  }
  return checked;
}

std::vector<registry::Result<ConclusionAnswer>> ConformityFlow::recordChecked(
    CheckedConclusions checked) {
  const std::int64_t now = clock_();
  ConcludedCalls concluded = checked.calls.empty()
                                 ? std::vector<registry::Result<adapters::redis::Concluded>>()
                                 : tracker_.concludeAll(checked.calls, now, sendLeaseMs());
  return answerConclusions(std::move(checked), std::move(concluded), now);
}

std::vector<registry::Result<ConclusionAnswer>> ConformityFlow::answerConclusions(
    CheckedConclusions checked, ConcludedCalls concluded, std::int64_t now) {
  auto& answers = checked.answers;
  const auto& calls = checked.calls;
  const auto& called = checked.called;
  std::vector<DecidedRound> decided;
  std::vector<registry::LateConclusion> late;
  // Late conclusions of rounds only the register holds, and their answers.
  std::vector<registry::LateConclusion> register_late;
  std::vector<std::size_t> register_late_answers;
  for (std::size_t k = 0; k < called.size(); ++k) {
    if (!concluded.ok()) {
      answers[called[k]] = concluded.error();
      continue;
    }
    auto& result = (*concluded)[k];
    if (!result.ok()) {
      noteRedisError(result.error(), "a conclusion could not be recorded");
      answers[called[k]] = result.takeError();
      continue;
    }
    if (result->result == adapters::redis::ConcludeResult::kUnknown) {
      const std::size_t before = register_late.size();
      answers[called[k]] = answerFromRegister(calls[k].conclusion, now, register_late);
      if (register_late.size() > before) {
        register_late_answers.push_back(called[k]);
      }
      continue;
    }
    answers[called[k]] = answerOf(calls[k].conclusion, *result);
    if (result->decided) {
      decided.push_back(std::move(*result->decided));
    }
    if (!result->late_application.empty()) {
      const registry::Conclusion& conclusion = calls[k].conclusion;
      late.push_back({result->late_application, conclusion.query_id, conclusion.verdict,
                      conclusion.reasons, conclusion.signer, now});
    }
  }
  if (!concluded.ok() && !calls.empty()) {
    noteRedisError(concluded.error(), "conclusions could not be recorded");
  }
  // The register's copy of a round decided already gets them too, so that
  // a round read from it (Redis down, or the round gone from Redis) shows
  // them. Redis holds them either way: a failure here is only logged.
  if (auto kept = store_.keepLateConclusions(late); !kept.ok()) {
    getLogger("conformity")
        ->warn("{} late conclusions are in Redis but not in the register: {}", late.size(),
               kept.error().message);
  }
  // Of a round Redis has forgotten, the register holds the only copy: a
  // late conclusion it did not take is not recorded anywhere, so its sender
  // is told to send it again.
  if (auto kept = store_.keepLateConclusions(register_late); !kept.ok()) {
    for (const std::size_t index : register_late_answers) {
      answers[index] = makeError(
          ErrorCode::kUnavailable,
          "the late conclusion could not be kept in the register: " + kept.error().message);
    }
  }
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    for (const auto& answer : answers) {
      if (!answer.ok()) {
        counters_.conclusions_refused += answer.error().code != ErrorCode::kUnavailable ? 1 : 0;
        continue;
      }
      ++(answer->result == "accepted"                      ? counters_.conclusions_accepted
         : answer->result == "duplicate" || answer->repeat ? counters_.conclusions_duplicate
                                                           : counters_.conclusions_late);
    }
    // Handed to the flow's thread for the register before they are sent,
    // so that it sees each round before its receipt (deliver()).
    for (const auto& round : decided) {
      decided_.push_back(round);
    }
    wake = handedOver(decided.size());
  }
  if (wake) {
    wake_.notify_one();
  }
  for (const auto& round : decided) {
    sendOutcome(round);
  }
  return std::move(answers);
}

std::vector<adapters::amqp::Verdict> ConformityFlow::processDeliveries(
    const std::vector<adapters::amqp::Delivery>& batch) {
  return finishDeliveries(*prepareDeliveries(batch));
}

std::unique_ptr<ConformityFlow::PreparedDeliveries> ConformityFlow::prepareDeliveries(
    std::vector<adapters::amqp::Delivery> deliveries) {
  auto prepared = std::make_unique<PreparedDeliveries>();
  prepared->batch = std::move(deliveries);
  const std::vector<adapters::amqp::Delivery>& batch = prepared->batch;
  prepared->verdicts.resize(batch.size());
  // Requests and conclusions apart, each kind in one Redis round trip.
  std::vector<std::pair<std::string, registry::ConformityRequest>> requests;
  std::vector<std::pair<std::string, registry::Conclusion>> conclusions;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto& delivery = batch[i];
    std::optional<registry::Error> refused = delivery.refused;
    if (!refused) {
      refused = contentTypeProblem(delivery);
    }
    if (refused) {
      // Refused before it was read: by the listener (too large, say) or
      // for its content type.
      refuse(*prepared, i, std::move(*refused));
      std::lock_guard lock(mutex_);
      ++(delivery.address == kRequestsAddress ? counters_.requests_refused
                                              : counters_.conclusions_refused);
    } else if (delivery.address == kRequestsAddress) {
      auto request = mapping::readRequestJson(delivery.body);
      if (request.ok()) {
        requests.emplace_back(delivery.sender_system, std::move(*request));
        prepared->request_at.push_back(i);
      } else {
        refuse(*prepared, i, request.takeError());
        std::lock_guard lock(mutex_);
        ++counters_.requests_refused;
      }
    } else {
      auto conclusion = mapping::readConclusionJson(delivery.body);
      if (conclusion.ok()) {
        conclusions.emplace_back(delivery.sender_system, std::move(*conclusion));
        prepared->conclusion_at.push_back(i);
      } else {
        refuse(*prepared, i, conclusion.takeError());
        std::lock_guard lock(mutex_);
        ++counters_.conclusions_refused;
      }
    }
  }
  prepared->requests = planRequests(requests);
  prepared->conclusions = checkConclusions(conclusions);
  return prepared;
}

std::vector<adapters::amqp::Verdict> ConformityFlow::finishDeliveries(
    PreparedDeliveries& prepared) {
  auto& verdicts = prepared.verdicts;
  std::vector<registry::Result<RequestAnswer>> requests;
  std::vector<registry::Result<ConclusionAnswer>> conclusions;
  auto& rounds = prepared.requests.rounds;
  auto& calls = prepared.conclusions.calls;
  if (!rounds.empty() && !calls.empty()) {
    // Both kinds in one round trip to Redis: every outcome and query of
    // the batch goes out one round trip sooner.
    const std::int64_t now = clock_();
    auto both = tracker_.openAndConclude(rounds, calls, now, sendLeaseMs());
    registry::Result<std::vector<adapters::redis::Opened>> opened =
        both.ok() ? registry::Result<std::vector<adapters::redis::Opened>>(std::move(both->opened))
                  : both.error();
    ConcludedCalls concluded =
        both.ok() ? ConcludedCalls(std::move(both->concluded)) : both.error();
    requests = answerRequests(std::move(prepared.requests), std::move(opened));
    conclusions = answerConclusions(std::move(prepared.conclusions), std::move(concluded), now);
  } else {
    if (!prepared.request_at.empty()) {
      requests = openPlanned(std::move(prepared.requests));
    }
    if (!prepared.conclusion_at.empty()) {
      conclusions = recordChecked(std::move(prepared.conclusions));
    }
  }
  for (std::size_t k = 0; k < requests.size(); ++k) {
    if (requests[k].ok()) {
      verdicts[prepared.request_at[k]] = accepted(requests[k]->duplicate ? "duplicate" : "opened");
    } else {
      refuse(prepared, prepared.request_at[k], requests[k].takeError());
    }
  }
  for (std::size_t k = 0; k < conclusions.size(); ++k) {
    if (conclusions[k].ok()) {
      verdicts[prepared.conclusion_at[k]] = accepted(conclusions[k]->result);
    } else {
      refuse(prepared, prepared.conclusion_at[k], conclusions[k].takeError());
    }
  }
  keepRefused(prepared);
  return std::move(verdicts);
}

void ConformityFlow::refuse(PreparedDeliveries& prepared, std::size_t i, registry::Error error) {
  prepared.verdicts[i] = verdictOf(error);
  prepared.refusals.emplace_back(i, std::move(error));
}

// As the intake keeps a rejected licence event, so that the operator sees
// what a sender was refused and why (GET /api/v1/dead-letters). A delivery
// released (Redis unavailable) comes again and is no dead letter.
void ConformityFlow::keepRefused(PreparedDeliveries& prepared) {
  std::vector<registry::DeadLetter> letters;
  std::vector<std::size_t> kept_at;
  for (const auto& [i, error] : prepared.refusals) {
    if (prepared.verdicts[i].settle != adapters::amqp::Settle::kReject) {
      continue;
    }
    const adapters::amqp::Delivery& delivery = prepared.batch[i];
    registry::DeadLetter letter;
    letter.sender_system = delivery.sender_system;
    letter.message_id = delivery.message_id;
    letter.content_type = delivery.content_type;
    letter.code = error.code;
    letter.reason = error.message;
    letter.body = delivery.body;
    letters.push_back(std::move(letter));
    kept_at.push_back(i);
  }
  auto kept = store_.keepDeadLetters(letters);
  if (kept.ok()) {
    return;
  }
  // Rejected without a trace would lose what the sender sent: released, it
  // comes again, to be refused again once the register takes it.
  getLogger("conformity")
      ->warn("{} refused conformity message(s) released: {}", kept_at.size(), kept.error().message);
  for (std::size_t i : kept_at) {
    prepared.verdicts[i] = verdictOf(registry::makeError(
        ErrorCode::kUnavailable,
        "refused (" + prepared.verdicts[i].description +
            "), but the register could not keep it as a dead letter: " + kept.error().message));
  }
}

}  // namespace licgate::gateway
