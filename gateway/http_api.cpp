// The JSON/HTTP API routes (gateway/http_api.hpp).
#include "gateway/http_api.hpp"

#include <algorithm>
#include <charconv>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <sstream>

#include "gateway/conformity_api.hpp"
#include "gateway/metrics_text.hpp"
#include "mapping/error_table.hpp"
#include "mapping/json_view.hpp"
#include "registry/identifiers.hpp"

namespace licgate::gateway {

using adapters::http::Request;
using adapters::http::Response;
using registry::ErrorCode;
using registry::Result;

namespace {

constexpr std::string_view kLicencesPath = "/api/v1/licences";
constexpr int kDefaultLimit = 50;
constexpr int kMaxLimit = 1000;

Response jsonResponse(int status, std::string body) {
  return Response{status, "application/json", std::move(body)};
}

Response errorResponse(const registry::Error& error) {
  return jsonResponse(mapping::errorTransport(error.code).http_status, mapping::errorToJson(error));
}

registry::Error badParameter(std::string_view name, const std::string& what) {
  return registry::makeError(ErrorCode::kInvalidField,
                             "parameter " + std::string(name) + ": " + what);
}

// Unknown parameters are refused like unknown configuration keys, and so
// are empty ones: either would otherwise widen a search silently (a
// `holder=` that lost its value matches every holder). A repeated one is
// refused rather than one of its values picked: the client meant both.
registry::Status checkParameters(const Request& request,
                                 std::initializer_list<std::string_view> known) {
  for (const auto& [name, value] : request.query) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::string names;
      for (auto k : known) {
        names += names.empty() ? std::string(k) : ", " + std::string(k);
      }
      return badParameter(name, "unknown (known: " + names + ")");
    }
    if (const std::size_t count = request.query.count(name); count > 1) {
      return badParameter(name, "given " + std::to_string(count) + " times (give it once)");
    }
    if (value.empty()) {
      return badParameter(name, "has an empty value (leave the parameter out instead)");
    }
  }
  return {};
}

// A whole number in [min, max]; `fallback` when the parameter is absent.
Result<std::int64_t> readNumber(const Request& request, std::string_view name, std::int64_t min,
                                std::int64_t max, std::int64_t fallback) {
  auto found = request.query.find(std::string(name));
  if (found == request.query.end()) {
    return fallback;
  }
  const std::string& text = found->second;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < min ||
      value > max) {
    const std::string range = max == INT64_MAX
                                  ? "of at least " + std::to_string(min)
                                  : "in " + std::to_string(min) + ".." + std::to_string(max);
    return badParameter(name, "\"" + text + "\" is not a whole number " + range);
  }
  return value;
}

// The journal and the dead letters page the same way: entries after a
// sequence number, at most `limit` of them.
struct SequencePage {
  std::int64_t after = 0;
  int limit = 0;
};

Result<SequencePage> readSequencePage(const Request& request) {
  LICGATE_RETURN_IF_ERROR(checkParameters(request, {"after", "limit"}));
  auto after = readNumber(request, "after", 0, INT64_MAX, 0);
  if (!after.ok()) {
    return after.takeError();
  }
  auto limit = readNumber(request, "limit", 1, kMaxLimit, 100);
  if (!limit.ok()) {
    return limit.takeError();
  }
  return SequencePage{*after, static_cast<int>(*limit)};
}

std::string parameter(const Request& request, const std::string& name) {
  auto found = request.query.find(name);
  return found == request.query.end() ? std::string() : found->second;
}

// "cz-ico:00216224" -> scheme and value. The value must pass the register's
// own identifier rules: no licence is stored under an invalid one, so a
// mistyped check digit would otherwise be an empty page that looks like an
// answer.
Result<registry::HolderId> parseHolder(const std::string& text) {
  const auto colon = text.find(':');
  if (colon == std::string::npos || colon + 1 == text.size()) {
    return badParameter("holder", "\"" + text + "\" is not SCHEME:ID, e.g. cz-ico:00216224");
  }
  auto scheme = registry::parseIdScheme(text.substr(0, colon));
  if (!scheme.ok()) {
    return badParameter("holder", "\"" + text.substr(0, colon) +
                                      "\" is not a holder id scheme (kz-iin, kz-bin, cz-ico)");
  }
  auto id = registry::readHolderId(*scheme, text.substr(colon + 1));
  if (!id.ok()) {
    return badParameter("holder", id.error().message);
  }
  return id;
}

Result<registry::LicenceQuery> readLicenceQuery(const Request& request) {
  LICGATE_RETURN_IF_ERROR(
      checkParameters(request, {"holder", "licensor", "status", "after", "limit"}));
  registry::LicenceQuery query;
  const std::string holder = parameter(request, "holder");
  if (!holder.empty()) {
    auto id = parseHolder(holder);
    if (!id.ok()) {
      return id.takeError();
    }
    query.holder = *id;
  }
  query.licensor = parameter(request, "licensor");
  const std::string status = parameter(request, "status");
  if (!status.empty()) {
    auto parsed = registry::parseStatus(status);
    if (!parsed.ok()) {
      return badParameter("status",
                          "\"" + status + "\" is not a status (active, suspended, terminated)");
    }
    query.status = *parsed;
  }
  query.after_number = parameter(request, "after");
  auto limit = readNumber(request, "limit", 1, kMaxLimit, kDefaultLimit);
  if (!limit.ok()) {
    return limit.takeError();
  }
  query.limit = static_cast<int>(*limit);
  return query;
}

void writeIntakeMetrics(MetricsText& metrics, const IntakeCounters& intake) {
  metrics.family("licgate_intake_messages_total", "counter",
                 "Licence event deliveries decided, by disposition.");
  metrics.sample("licgate_intake_messages_total", "disposition", "applied", intake.applied);
  metrics.sample("licgate_intake_messages_total", "disposition", "duplicate", intake.duplicate);
  metrics.sample("licgate_intake_messages_total", "disposition", "unchanged", intake.unchanged);
  metrics.sample("licgate_intake_messages_total", "disposition", "rejected", intake.rejected);
  metrics.sample("licgate_intake_messages_total", "disposition", "released", intake.released);
  metrics.family("licgate_intake_duplicates_by_redis_total", "counter",
                 "Duplicates answered by Redis without a store transaction.");
  metrics.sample("licgate_intake_duplicates_by_redis_total", intake.duplicate_by_redis);
  metrics.family("licgate_intake_rejections_total", "counter",
                 "Rejected licence events, by error code.");
  for (const auto& [reason, count] : intake.rejected_by_reason) {
    metrics.sample("licgate_intake_rejections_total", "reason", reason, count);
  }
  metrics.family("licgate_intake_batches_total", "counter", "Store transactions of the intake.");
  metrics.sample("licgate_intake_batches_total", intake.batches);
}

void writeAmqpMetrics(MetricsText& metrics, const adapters::amqp::IntakeStats& amqp) {
  metrics.family("licgate_amqp_connections", "gauge", "Open AMQP connections.");
  metrics.sample("licgate_amqp_connections", amqp.connections);
  metrics.family("licgate_amqp_in_flight", "gauge", "AMQP deliveries received, not settled.");
  metrics.sample("licgate_amqp_in_flight", amqp.in_flight);
  metrics.family("licgate_amqp_deliveries_total", "counter", "AMQP deliveries by settlement.");
  metrics.sample("licgate_amqp_deliveries_total", "settled", "accepted", amqp.accepted);
  metrics.sample("licgate_amqp_deliveries_total", "settled", "rejected", amqp.rejected);
  metrics.sample("licgate_amqp_deliveries_total", "settled", "released", amqp.released);
  metrics.family("licgate_amqp_replies_unroutable_total", "counter",
                 "Outcome messages whose reply-to named no open link.");
  metrics.sample("licgate_amqp_replies_unroutable_total", amqp.replies_unroutable);
  metrics.family("licgate_amqp_loop_restarts_total", "counter",
                 "AMQP event loops restarted after Proton failed on what a peer sent; each "
                 "closed every connection.");
  metrics.sample("licgate_amqp_loop_restarts_total", amqp.loop_restarts);
}

void writeShepMetrics(MetricsText& metrics, const ShepSenderCounters& shep) {
  metrics.family("licgate_shep_sends_total", "counter",
                 "Attempts to send a message through the e-government gateway, by result.");
  metrics.sample("licgate_shep_sends_total", "result", "sent", shep.sent);
  metrics.sample("licgate_shep_sends_total", "result", "retried", shep.retried);
  metrics.sample("licgate_shep_sends_total", "result", "failed", shep.failed);
  if (shep.outbox >= 0) {
    metrics.family("licgate_shep_outbox_messages", "gauge",
                   "Messages waiting to be sent through the e-government gateway.");
    metrics.sample("licgate_shep_outbox_messages", static_cast<std::uint64_t>(shep.outbox));
  }
}

void writeStoreMetrics(MetricsText& metrics, const Result<registry::StoreCounts>& counts) {
  metrics.family("licgate_store_up", "gauge", "1 when the store answers.");
  metrics.sample("licgate_store_up", counts.ok() ? 1 : 0);
  if (!counts.ok()) {
    return;
  }
  metrics.family("licgate_register_licences", "gauge", "Licences in the register, by status.");
  metrics.sample("licgate_register_licences", "status", "active", counts->licences_active);
  metrics.sample("licgate_register_licences", "status", "suspended", counts->licences_suspended);
  metrics.sample("licgate_register_licences", "status", "terminated", counts->licences_terminated);
  metrics.family("licgate_register_last_sequence", "gauge", "Sequence of the last journal entry.");
  metrics.sample("licgate_register_last_sequence", counts->last_sequence);
  metrics.family("licgate_dead_letters", "gauge", "Rejected messages kept as dead letters.");
  metrics.sample("licgate_dead_letters", counts->dead_letters);
}

nlohmann::ordered_json intakeToJson(const IntakeCounters& intake) {
  nlohmann::ordered_json json;
  json["batches"] = intake.batches;
  json["messages"] = intake.messages;
  json["applied"] = intake.applied;
  json["duplicate"] = intake.duplicate;
  json["duplicateByRedis"] = intake.duplicate_by_redis;
  json["unchanged"] = intake.unchanged;
  json["rejected"] = intake.rejected;
  json["released"] = intake.released;
  json["rejectedByReason"] = nlohmann::ordered_json::object();
  for (const auto& [reason, count] : intake.rejected_by_reason) {
    json["rejectedByReason"][reason] = count;
  }
  return json;
}

}  // namespace

Response methodNotAllowed(const Request& request, std::string_view allowed) {
  Response response = errorResponse(
      registry::makeError(ErrorCode::kNotImplemented,
                          "method " + request.method + " is not allowed on " + request.path));
  response.status = 405;
  response.headers["Allow"] = std::string(allowed);
  return response;
}

HttpApi::HttpApi(ApiSources sources) : sources_(std::move(sources)) {}

adapters::http::Handler HttpApi::handler() {
  return [this](const Request& request) { return handle(request); };
}

Response HttpApi::handle(const Request& request) {
  const std::string& path = request.path;
  if (path == kSoapPath && sources_.soap != nullptr) {
    return sources_.soap->handle(request);
  }
  // The conformity routes answer every method themselves: one of them is
  // a POST.
  if (auto answered = conformityRoute(sources_.conformity, request)) {
    return std::move(*answered);
  }
  const bool licence = path.size() > kLicencesPath.size() + 1 && path.starts_with(kLicencesPath) &&
                       path[kLicencesPath.size()] == '/';
  const bool known = licence || path == kLicencesPath || path == "/api/v1/changes" ||
                     path == "/api/v1/dead-letters" || path == "/api/v1/stats" ||
                     path == "/healthz" || path == "/readyz" || path == "/metrics";
  if (!known) {
    return errorResponse(registry::makeError(ErrorCode::kNotFound, "no resource at " + path));
  }
  // A known resource with another method is 405; an unknown one is 404
  // whatever the method, so that a mistyped POST is not told to use GET.
  if (request.method != "GET") {
    return methodNotAllowed(request, "GET");
  }
  if (path == kLicencesPath) {
    return searchLicences(request);
  }
  if (licence) {
    return getLicence(path.substr(kLicencesPath.size() + 1));
  }
  if (path == "/api/v1/changes") {
    return getChanges(request);
  }
  if (path == "/api/v1/dead-letters") {
    return getDeadLetters(request);
  }
  if (path == "/api/v1/stats") {
    return getStats();
  }
  if (path == "/healthz") {
    return jsonResponse(200, R"({"status":"up"})");
  }
  if (path == "/readyz") {
    return getReadiness();
  }
  if (path == "/metrics") {
    return getMetrics();
  }
  return errorResponse(registry::makeError(ErrorCode::kNotFound, "no resource at " + path));
}

Response HttpApi::getLicence(const std::string& number) {
  auto licence = sources_.store->findLicence(number);
  if (!licence.ok()) {
    return errorResponse(licence.error());
  }
  auto history = sources_.store->history(number);
  if (!history.ok()) {
    return errorResponse(history.error());
  }
  return jsonResponse(200, mapping::licenceToJson(*licence, *history));
}

Response HttpApi::searchLicences(const Request& request) {
  auto query = readLicenceQuery(request);
  if (!query.ok()) {
    return errorResponse(query.error());
  }
  auto page = sources_.store->searchLicences(*query);
  if (!page.ok()) {
    return errorResponse(page.error());
  }
  return jsonResponse(200, mapping::licencePageToJson(*page));
}

Response HttpApi::getChanges(const Request& request) {
  auto page = readSequencePage(request);
  if (!page.ok()) {
    return errorResponse(page.error());
  }
  auto entries = sources_.store->changesAfter(static_cast<std::uint64_t>(page->after), page->limit);
  if (!entries.ok()) {
    return errorResponse(entries.error());
  }
  return jsonResponse(200, mapping::journalToJson(*entries));
}

Response HttpApi::getDeadLetters(const Request& request) {
  auto page = readSequencePage(request);
  if (!page.ok()) {
    return errorResponse(page.error());
  }
  auto letters = sources_.store->deadLetters(page->after, page->limit);
  if (!letters.ok()) {
    return errorResponse(letters.error());
  }
  return jsonResponse(200, mapping::deadLettersToJson(*letters));
}

Response HttpApi::getStats() {
  auto counts = sources_.store->counts();
  if (!counts.ok()) {
    return errorResponse(counts.error());
  }
  nlohmann::ordered_json stats;
  stats["register"]["lastSequence"] = counts->last_sequence;
  stats["register"]["licences"]["active"] = counts->licences_active;
  stats["register"]["licences"]["suspended"] = counts->licences_suspended;
  stats["register"]["licences"]["terminated"] = counts->licences_terminated;
  stats["register"]["deadLetters"] = counts->dead_letters;
  stats["intake"] = sources_.intake != nullptr ? intakeToJson(sources_.intake->counters())
                                               : intakeToJson(IntakeCounters{});
  if (sources_.amqp_stats) {
    const auto amqp = sources_.amqp_stats();
    stats["amqp"] = {{"received", amqp.received},        {"accepted", amqp.accepted},
                     {"rejected", amqp.rejected},        {"released", amqp.released},
                     {"repliesSent", amqp.replies_sent}, {"inFlight", amqp.in_flight},
                     {"connections", amqp.connections},  {"loopRestarts", amqp.loop_restarts}};
  }
  stats["redis"]["state"] = !sources_.redis_health->enabled()   ? "disabled"
                            : sources_.redis_health->degraded() ? "degraded"
                                                                : "up";
  stats["redis"]["outages"] = sources_.redis_health->outages();
  if (sources_.shep_stats) {
    const ShepSenderCounters shep = sources_.shep_stats();
    stats["shep"] = {{"sent", shep.sent}, {"retried", shep.retried}, {"failed", shep.failed}};
    stats["shep"]["outbox"] = shep.outbox >= 0 ? nlohmann::ordered_json(shep.outbox) : nullptr;
  }
  if (sources_.conformity != nullptr) {
    stats["conformity"] = conformityStatsJson(*sources_.conformity);
  }
  return jsonResponse(200, stats.dump());
}

// Asks Redis itself rather than trusting the intake's last answer, so that
// readiness is right when no traffic flows.
std::string HttpApi::probeRedis() {
  RedisHealth& health = *sources_.redis_health;
  if (!health.enabled() || sources_.redis_probe == nullptr) {
    return "disabled";
  }
  std::lock_guard lock(probe_mutex_);
  auto pong = sources_.redis_probe->ping();
  if (pong.ok()) {
    health.reportSuccess();
    return "up";
  }
  health.reportFailure(pong.error());
  return "degraded";
}

// Ready but degraded is 200: licgate takes events correctly on the store
// alone. Without the store it cannot take anything: 503.
Response HttpApi::getReadiness() {
  auto counts = sources_.store->counts();
  nlohmann::ordered_json body;
  body["status"] = counts.ok() ? "ready" : "not-ready";
  body["store"] = counts.ok() ? "up" : "unavailable";
  body["redis"] = probeRedis();
  if (!counts.ok()) {
    body["message"] = counts.error().message;
  }
  return jsonResponse(counts.ok() ? 200 : 503, body.dump());
}

Response HttpApi::getMetrics() {
  MetricsText metrics;
  writeIntakeMetrics(metrics,
                     sources_.intake != nullptr ? sources_.intake->counters() : IntakeCounters{});
  if (sources_.amqp_stats) {
    writeAmqpMetrics(metrics, sources_.amqp_stats());
  }
  metrics.family("licgate_redis_degraded", "gauge",
                 "1 while Redis does not answer and the store checks duplicates alone.");
  metrics.sample("licgate_redis_degraded", sources_.redis_health->degraded() ? 1 : 0);
  metrics.family("licgate_redis_outages_total", "counter", "Redis outages since start.");
  metrics.sample("licgate_redis_outages_total", sources_.redis_health->outages());
  if (sources_.shep_stats) {
    writeShepMetrics(metrics, sources_.shep_stats());
  }
  writeStoreMetrics(metrics, sources_.store->counts());
  if (sources_.conformity != nullptr) {
    writeConformityMetrics(metrics, *sources_.conformity);
  }
  return Response{200, "text/plain; version=0.0.4", metrics.text()};
}

}  // namespace licgate::gateway
