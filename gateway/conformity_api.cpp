// The conformity flow's HTTP routes (gateway/conformity_api.hpp).
#include "gateway/conformity_api.hpp"

#include <charconv>

#include "gateway/http_api.hpp"
#include "mapping/conformity.hpp"
#include "mapping/error_table.hpp"
#include "mapping/json_view.hpp"

namespace licgate::gateway {

namespace {

using adapters::http::Request;
using adapters::http::Response;
using registry::ErrorCode;

constexpr std::string_view kApplicationsPath = "/api/v1/applications/";
constexpr std::string_view kConformitySuffix = "/conformity";
constexpr std::string_view kLicensorsPath = "/api/v1/licensors/";
constexpr std::string_view kPendingSuffix = "/pending";
constexpr std::string_view kFailedPath = "/api/v1/conformity/failed";
constexpr std::string_view kRefusedPath = "/api/v1/conformity/refused-outcomes";
constexpr std::string_view kResendSuffix = "/resend";
constexpr std::size_t kDefaultPending = 100;
constexpr std::size_t kMaxPending = 10'000;

Response json(int status, std::string body) {
  return Response{status, "application/json", std::move(body)};
}

Response error(const registry::Error& e) {
  return json(mapping::errorTransport(e.code).http_status, mapping::errorToJson(e));
}

// The part of `path` between `prefix` and `suffix`, when it has that shape
// and the part is not empty. The part may hold a slash (an id sent as
// "a%2Fb"): the route is still the one the client meant, and its handler
// says what is wrong with the id rather than the server finding no route.
std::optional<std::string> middle(const std::string& path, std::string_view prefix,
                                  std::string_view suffix) {
  if (!path.starts_with(prefix) || !path.ends_with(suffix) ||
      path.size() <= prefix.size() + suffix.size()) {
    return std::nullopt;
  }
  return path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
}

// A 400 naming what keeps `id` from being an application id any request
// could have named; nullopt when nothing does.
std::optional<Response> badApplicationId(const std::string& id) {
  if (std::string problem = registry::applicationIdProblem(id); !problem.empty()) {
    return error(registry::makeError(ErrorCode::kInvalidField, "application id " + problem));
  }
  return std::nullopt;
}

void appendQueries(std::string& out, ConformityFlow& flow,
                   const std::vector<registry::QueryView>& queries) {
  out += '[';
  for (std::size_t i = 0; i < queries.size(); ++i) {
    if (i > 0) {
      out += ',';
    }
    mapping::appendQueryJson(out, queries[i], flow.workingDaysLeftOf(queries[i]),
                             flow.utcOffsetMinutes());
  }
  out += ']';
}

Response getRound(ConformityFlow& flow, const Request& request, const std::string& id) {
  if (!request.query.empty()) {
    return error(registry::makeError(
        ErrorCode::kInvalidField,
        "parameter " + request.query.begin()->first + ": unknown (this route takes none)"));
  }
  if (auto refused = badApplicationId(id)) {
    return std::move(*refused);
  }
  auto round = flow.round(id);
  if (!round.ok()) {
    return error(round.error());
  }
  if (!round->has_value()) {
    return error(registry::makeError(ErrorCode::kNotFound,
                                     "application \"" + id + "\" has no conformity round"));
  }
  const RoundView& view = **round;
  nlohmann::ordered_json head;
  head["application_id"] = view.request.application_id;
  head["licensor"] = view.request.licensor;
  head["activity"] = view.request.activity;
  head["applicant"] = {{"iin_bin", view.request.applicant.iin_bin}};
  if (!view.request.applicant.name.empty()) {
    head["applicant"]["name"] = view.request.applicant.name;
  }
  head["outcome"] = view.outcome;
  if (view.decided_ms > 0) {
    head["decided_at"] = mapping::formatLocalTime(view.decided_ms, flow.utcOffsetMinutes());
  }
  std::string out = head.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  out.pop_back();  // the closing brace: the queries follow
  out += ",\"queries\":";
  appendQueries(out, flow, view.queries);
  out += '}';
  return json(200, std::move(out));
}

// ?limit=N, 1..kMaxPending; the default when absent. Any other parameter
// is refused, as every route of the API refuses what it does not know.
registry::Result<std::size_t> readLimit(const Request& request) {
  std::size_t limit = kDefaultPending;
  for (const auto& [name, value] : request.query) {
    if (name != "limit") {
      return registry::makeError(ErrorCode::kInvalidField,
                                 "parameter " + name + ": unknown (known: limit)");
    }
    if (const auto given = request.query.count(name); given > 1) {
      return registry::makeError(
          ErrorCode::kInvalidField,
          "parameter limit: given " + std::to_string(given) + " times (give it once)");
    }
    if (value.empty()) {
      return registry::makeError(
          ErrorCode::kInvalidField,
          "parameter limit: has an empty value (leave the parameter out instead)");
    }
    std::size_t parsed = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), parsed);
    if (ec != std::errc() || end != value.data() + value.size() || parsed < 1 ||
        parsed > kMaxPending) {
      return registry::makeError(ErrorCode::kInvalidField, "parameter limit: \"" + value +
                                                               "\" is not a whole number in 1.." +
                                                               std::to_string(kMaxPending));
    }
    limit = parsed;
  }
  return limit;
}

Response listQueries(ConformityFlow& flow, const std::string& head_key,
                     const std::string& head_value,
                     const registry::Result<std::vector<registry::QueryView>>& queries) {
  if (!queries.ok()) {
    return error(queries.error());
  }
  nlohmann::ordered_json head;
  if (!head_key.empty()) {
    head[head_key] = head_value;
  }
  head["count"] = queries->size();
  std::string out = head.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  out.pop_back();
  out += ",\"queries\":";
  appendQueries(out, flow, *queries);
  out += '}';
  return json(200, std::move(out));
}

Response getPending(ConformityFlow& flow, const Request& request, const std::string& licensor) {
  auto limit = readLimit(request);
  if (!limit.ok()) {
    return error(limit.error());
  }
  return listQueries(flow, "licensor", licensor, flow.pending(licensor, *limit));
}

Response getFailed(ConformityFlow& flow, const Request& request) {
  auto limit = readLimit(request);
  if (!limit.ok()) {
    return error(limit.error());
  }
  return listQueries(flow, "", "", flow.failed(*limit));
}

Response getRefused(ConformityFlow& flow, const Request& request) {
  auto limit = readLimit(request);
  if (!limit.ok()) {
    return error(limit.error());
  }
  auto refused = flow.refusedOutcomes(*limit);
  if (!refused.ok()) {
    return error(refused.error());
  }
  nlohmann::ordered_json out = {{"count", refused->size()},
                                {"outcomes", nlohmann::ordered_json::array()}};
  for (const auto& item : *refused) {
    out["outcomes"].push_back(
        {{"application_id", item.application_id},
         {"licensor", item.licensor},
         {"outcome", item.outcome},
         {"error", item.error},
         {"attempts", item.attempts},
         {"refused_at", mapping::formatLocalTime(item.refused_ms, flow.utcOffsetMinutes())}});
  }
  return json(200, out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

Response postResend(ConformityFlow& flow, const Request& request, const std::string& id) {
  if (!request.query.empty()) {
    return error(registry::makeError(
        ErrorCode::kInvalidField,
        "parameter " + request.query.begin()->first + ": unknown (this route takes none)"));
  }
  if (!request.body.empty()) {
    return error(registry::makeError(ErrorCode::kInvalidField,
                                     "the resend takes no body (this one has " +
                                         std::to_string(request.body.size()) + " bytes)"));
  }
  if (auto refused = badApplicationId(id)) {
    return std::move(*refused);
  }
  if (auto resent = flow.resendOutcome(id); !resent.ok()) {
    return error(resent.error());
  }
  nlohmann::ordered_json out = {{"application_id", id}, {"outcome", "due"}};
  return json(202, out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace

std::optional<Response> conformityRoute(ConformityFlow* flow, const Request& request) {
  auto application = middle(request.path, kApplicationsPath, kConformitySuffix);
  auto licensor = middle(request.path, kLicensorsPath, kPendingSuffix);
  const bool failed = request.path == kFailedPath;
  const bool refused = request.path == kRefusedPath;
  auto resend = middle(request.path, std::string(kRefusedPath) + "/", kResendSuffix);
  if (!application && !licensor && !failed && !refused && !resend) {
    return std::nullopt;
  }
  const std::string_view allowed = resend ? "POST" : "GET";
  if (request.method != allowed) {
    return methodNotAllowed(request, allowed);
  }
  if (flow == nullptr) {
    return error(registry::makeError(
        ErrorCode::kNotFound,
        "no resource at " + request.path +
            ": the conformity flow is off (no conformity.activities configured)"));
  }
  if (failed) {
    return getFailed(*flow, request);
  }
  if (refused) {
    return getRefused(*flow, request);
  }
  if (resend) {
    return postResend(*flow, request, *resend);
  }
  return application ? getRound(*flow, request, *application)
                     : getPending(*flow, request, *licensor);
}

nlohmann::ordered_json conformityStatsJson(ConformityFlow& flow) {
  const ConformityCounters c = flow.counters();
  nlohmann::ordered_json json = {{"requestsOpened", c.requests_opened},
                                 {"requestsDuplicate", c.requests_duplicate},
                                 {"requestsRefused", c.requests_refused},
                                 {"sends", c.sends},
                                 {"sendsDelivered", c.sends_delivered},
                                 {"sendsRetried", c.sends_retried},
                                 {"sendsFailed", c.sends_failed},
                                 {"conclusionsAccepted", c.conclusions_accepted},
                                 {"conclusionsDuplicate", c.conclusions_duplicate},
                                 {"conclusionsLate", c.conclusions_late},
                                 {"conclusionsRefused", c.conclusions_refused},
                                 {"roundsDecided", c.rounds_decided},
                                 {"outcomesDelivered", c.outcomes_delivered},
                                 {"outcomesRetried", c.outcomes_retried},
                                 {"outcomesRefused", c.outcomes_refused},
                                 {"redisErrors", c.redis_errors}};
  auto backlog = flow.backlog();
  json["backlog"] = backlog.ok()
                        ? nlohmann::ordered_json{{"sendsDue", backlog->sends},
                                                 {"openQueries", backlog->open_queries},
                                                 {"outcomesDue", backlog->outcomes},
                                                 {"refusedOutcomes", backlog->refused_outcomes}}
                        : nullptr;
  return json;
}

void writeConformityMetrics(MetricsText& metrics, ConformityFlow& flow) {
  const ConformityCounters c = flow.counters();
  constexpr std::string_view kRequests = "licgate_conformity_requests_total";
  metrics.family(kRequests, "counter", "Conformity requests, by result.");
  metrics.sample(kRequests, "result", "opened", c.requests_opened);
  metrics.sample(kRequests, "result", "duplicate", c.requests_duplicate);
  metrics.sample(kRequests, "result", "refused", c.requests_refused);
  constexpr std::string_view kSends = "licgate_conformity_sends_total";
  metrics.family(kSends, "counter", "Sends of conformity queries, by receipt.");
  metrics.sample(kSends, "result", "delivered", c.sends_delivered);
  metrics.sample(kSends, "result", "retried", c.sends_retried);
  metrics.sample(kSends, "result", "failed", c.sends_failed);
  constexpr std::string_view kConclusions = "licgate_conformity_conclusions_total";
  metrics.family(kConclusions, "counter", "Conclusions from bodies, by result.");
  metrics.sample(kConclusions, "result", "accepted", c.conclusions_accepted);
  metrics.sample(kConclusions, "result", "duplicate", c.conclusions_duplicate);
  metrics.sample(kConclusions, "result", "late", c.conclusions_late);
  metrics.sample(kConclusions, "result", "refused", c.conclusions_refused);
  constexpr std::string_view kOutcomes = "licgate_conformity_outcomes_total";
  metrics.family(kOutcomes, "counter",
                 "Rounds decided and kept by this process, and outcome deliveries, by result.");
  metrics.sample(kOutcomes, "result", "decided", c.rounds_decided);
  metrics.sample(kOutcomes, "result", "delivered", c.outcomes_delivered);
  metrics.sample(kOutcomes, "result", "retried", c.outcomes_retried);
  metrics.sample(kOutcomes, "result", "refused", c.outcomes_refused);
  metrics.family("licgate_conformity_redis_errors_total", "counter",
                 "Calls of the conformity flow that found Redis unavailable.");
  metrics.sample("licgate_conformity_redis_errors_total", c.redis_errors);
  auto backlog = flow.backlog();
  if (!backlog.ok()) {
    return;
  }
  metrics.family("licgate_conformity_backlog", "gauge",
                 "What waits in Redis: sends due or under way, queries not final, outcomes due, "
                 "outcomes refused.");
  metrics.sample("licgate_conformity_backlog", "of", "sends", backlog->sends);
  metrics.sample("licgate_conformity_backlog", "of", "open_queries", backlog->open_queries);
  metrics.sample("licgate_conformity_backlog", "of", "outcomes", backlog->outcomes);
  metrics.sample("licgate_conformity_backlog", "of", "refused_outcomes", backlog->refused_outcomes);
}

}  // namespace licgate::gateway
