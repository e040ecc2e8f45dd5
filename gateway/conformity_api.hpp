// The conformity flow's routes of the JSON/HTTP API (docs/http-api.md):
//
//   GET /api/v1/applications/{id}/conformity   the application's round
//   GET /api/v1/licensors/{code}/pending?limit=N   the licensor's open queries
//   GET /api/v1/conformity/failed?limit=N   queries that never reached their body
//   GET /api/v1/conformity/refused-outcomes?limit=N   outcomes a licensor refused
//   POST /api/v1/conformity/refused-outcomes/{id}/resend   one of them due again
//
// and its figures for /api/v1/stats and /metrics. Called by HttpApi.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "adapters/http/server.hpp"
#include "gateway/conformity_flow.hpp"
#include "gateway/metrics_text.hpp"

namespace licgate::gateway {

// The answer when `request` is one of the routes above; nullopt otherwise.
// `flow` null (the flow is off) answers them 404 naming why.
std::optional<adapters::http::Response> conformityRoute(ConformityFlow* flow,
                                                        const adapters::http::Request& request);

// The flow's counters and what waits in Redis, as /api/v1/stats shows them
// (the backlog null when Redis does not answer).
nlohmann::ordered_json conformityStatsJson(ConformityFlow& flow);

// The same as Prometheus families; the backlog's gauges only while Redis
// answers.
void writeConformityMetrics(MetricsText& metrics, ConformityFlow& flow);

}  // namespace licgate::gateway
