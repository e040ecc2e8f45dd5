// licgate's JSON/HTTP API: reading the register, the change feed, dead
// letters and figures, and the operator's health, readiness and metrics.
// docs/http-api.md documents every route with an example.
//
//   GET /api/v1/licences/{number}   a licence with its annexes and history
//   GET /api/v1/licences?holder=SCHEME:ID&licensor=&status=&after=&limit=
//   GET /api/v1/changes?after=N&limit=M
//   GET /api/v1/dead-letters?after=ID&limit=M
//   GET /api/v1/stats               register counts and intake counters
//   GET /api/v1/applications/{id}/conformity, /api/v1/licensors/{code}/pending
//                                   the conformity flow (gateway/conformity_api.hpp)
//   GET /healthz                    the process is up
//   GET /readyz                     the store answers; Redis up, degraded or disabled
//   GET /metrics                    Prometheus text format 0.0.4
//   POST /soap/v1, GET /soap/v1?wsdl the SOAP services (gateway/soap_api.hpp)
//
// Errors are JSON {"error": "<code name>", "message": "..."} with the HTTP
// status of mapping/error_table.hpp: an unknown licence is 404, a bad
// parameter 400 naming the parameter, a store that does not answer 503.
#pragma once

#include <functional>
#include <mutex>

#include "adapters/amqp/intake_server.hpp"
#include "adapters/http/server.hpp"
#include "adapters/redis/seen_ids.hpp"
#include "gateway/conformity_flow.hpp"
#include "gateway/intake_flow.hpp"
#include "gateway/redis_health.hpp"
#include "gateway/shep_sender.hpp"
#include "gateway/soap_api.hpp"
#include "registry/store.hpp"

namespace licgate::gateway {

// What the API reads besides the store. Everything must outlive the API.
// The 405 of a route that takes only `allowed` (RFC 9110 section
// 15.5.6: its Allow header names the method), with the API's JSON error.
adapters::http::Response methodNotAllowed(const adapters::http::Request& request,
                                          std::string_view allowed);

struct ApiSources {
  registry::Store* store = nullptr;
  const IntakeFlow* intake = nullptr;  // null: no intake counters to show
  RedisHealth* redis_health = nullptr;
  // A connection of its own for /readyz's PING (a SeenIds is not shared
  // between threads); null when Redis is not configured.
  adapters::redis::SeenIds* redis_probe = nullptr;
  std::function<adapters::amqp::IntakeStats()> amqp_stats;  // empty: no AMQP figures
  SoapApi* soap = nullptr;  // answers kSoapPath; null: no SOAP services
  // The e-government gateway's outbox (gateway/shep_sender.hpp); empty: no
  // answers are sent through the gateway.
  std::function<ShepSenderCounters()> shep_stats;
  ConformityFlow* conformity = nullptr;  // null: the conformity flow is off
};

class HttpApi {
 public:
  explicit HttpApi(ApiSources sources);

  // Answers one request. Blocks on the store (and on Redis for /readyz).
  // Thread-safe: the HTTP server calls it from several threads.
  adapters::http::Response handle(const adapters::http::Request& request);

  // handle() as the HTTP server's Handler.
  adapters::http::Handler handler();

 private:
  adapters::http::Response getLicence(const std::string& number);
  adapters::http::Response searchLicences(const adapters::http::Request& request);
  adapters::http::Response getChanges(const adapters::http::Request& request);
  adapters::http::Response getDeadLetters(const adapters::http::Request& request);
  adapters::http::Response getStats();
  adapters::http::Response getReadiness();
  adapters::http::Response getMetrics();
  std::string probeRedis();

  ApiSources sources_;
  std::mutex probe_mutex_;
};

}  // namespace licgate::gateway
