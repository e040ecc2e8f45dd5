// The conformity outcomes kept in the register (registry/store.hpp,
// docs/store.md "conformity_outcomes").
//
// Each round's queries are kept as one JSON array: they are read and
// written only with their application. A conclusion names only its query,
// so conformity_queries maps each query id to its application: a row per
// query, written in the outcome's transaction.
#include <chrono>
#include <nlohmann/json.hpp>

#include "registry/date.hpp"
#include "registry/sqlite_store.hpp"

namespace licgate::registry {

namespace {

nlohmann::json queryToJson(const QueryView& query) {
  nlohmann::json out = {
      {"query_id", query.query_id},
      {"body", query.body},
      {"state", queryStateName(query.state)},
      {"attempts", query.attempts},
      {"deadline_ms", query.deadline_ms},
      {"tacit", query.tacit},
      {"reasons", query.reasons},
      {"concluded_ms", query.concluded_ms},
  };
  if (query.verdict) {
    out["verdict"] = verdictName(*query.verdict);
  }
  if (!query.signer.empty()) {
    out["signer"] = query.signer;
  }
  if (!query.last_error.empty()) {
    out["last_error"] = query.last_error;
  }
  if (query.late_verdict) {
    out["late_verdict"] = verdictName(*query.late_verdict);
    out["late_reasons"] = query.late_reasons;
    out["late_signer"] = query.late_signer;
    out["late_ms"] = query.late_ms;
  }
  return out;
}

// The register wrote this JSON itself, so a member that is missing or of
// another type means the file was changed by hand: kInternal, naming it.
Result<QueryView> queryFromJson(const nlohmann::json& in, const ConformityOutcome& outcome) {
  try {
    QueryView query;
    query.query_id = in.at("query_id").get<std::string>();
    query.application_id = outcome.application_id;
    query.licensor = outcome.licensor;
    query.body = in.at("body").get<std::string>();
    const auto state = queryStateFromName(in.at("state").get<std::string>());
    if (!state) {
      return makeError(ErrorCode::kInternal, "conformity outcome of " + outcome.application_id +
                                                 ": unknown query state " + in.at("state").dump());
    }
    query.state = *state;
    query.attempts = in.at("attempts").get<int>();
    query.deadline_ms = in.at("deadline_ms").get<std::int64_t>();
    query.tacit = in.at("tacit").get<bool>();
    query.reasons = in.at("reasons").get<std::vector<std::string>>();
    query.concluded_ms = in.at("concluded_ms").get<std::int64_t>();
    if (in.contains("verdict")) {
      query.verdict = verdictFromName(in["verdict"].get<std::string>());
    }
    query.signer = in.value("signer", "");
    query.last_error = in.value("last_error", "");
    if (in.contains("late_verdict")) {
      query.late_verdict = verdictFromName(in["late_verdict"].get<std::string>());
      // Registers written before the late reasons and signer were kept
      // have neither.
      query.late_reasons = in.value("late_reasons", std::vector<std::string>());
      query.late_signer = in.value("late_signer", "");
      query.late_ms = in.value("late_ms", std::int64_t{0});
    }
    return query;
  } catch (const nlohmann::json::exception& e) {
    return makeError(ErrorCode::kInternal,
                     "conformity outcome of " + outcome.application_id + ": " + e.what());
  }
}

std::string timestampOf(std::int64_t ms) {
  return formatTimestamp(std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)));
}

}  // namespace

Status SqliteStore::keepConformityOutcomes(std::span<const ConformityOutcome> outcomes) {
  if (outcomes.empty()) {
    return {};
  }
  std::lock_guard lock(write_mutex_);
  LICGATE_RETURN_IF_ERROR(beginBatch());
  Status status;
  for (const ConformityOutcome& outcome : outcomes) {
    nlohmann::json queries = nlohmann::json::array();
    for (const QueryView& query : outcome.queries) {
      queries.push_back(queryToJson(query));
    }
    auto insert = writer_->prepare(
        "INSERT INTO conformity_outcomes (application_id, licensor, activity, applicant_iin_bin, "
        "applicant_name, request_fingerprint, outcome, decided_at, decided_ms, queries) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (application_id) DO NOTHING");
    if (!insert) {
      status = insert.takeError();
      break;
    }
    status = insert->bind(1, outcome.application_id)
                 .bind(2, outcome.licensor)
                 .bind(3, outcome.activity)
                 .bind(4, outcome.applicant_iin_bin)
                 .bind(5, outcome.applicant_name)
                 .bind(6, outcome.request_fingerprint)
                 .bind(7, roundOutcomeName(outcome.outcome))
                 .bind(8, timestampOf(outcome.decided_ms))
                 .bind(9, outcome.decided_ms)
                 .bind(10, queries.dump())
                 .run();
    if (!status.ok()) {
      break;
    }
    for (const QueryView& query : outcome.queries) {
      auto index = writer_->prepare(
          "INSERT INTO conformity_queries (query_id, application_id) VALUES (?, ?) "
          "ON CONFLICT (query_id) DO NOTHING");
      if (!index) {
        status = index.takeError();
        break;
      }
      status = index->bind(1, query.query_id).bind(2, outcome.application_id).run();
      if (!status.ok()) {
        break;
      }
    }
    if (!status.ok()) {
      break;
    }
  }
  return endBatch(std::move(status), "conformity outcomes could not be kept");
}

Status SqliteStore::keepLateConclusions(std::span<const LateConclusion> late) {
  if (late.empty()) {
    return {};
  }
  std::lock_guard lock(write_mutex_);
  LICGATE_RETURN_IF_ERROR(beginBatch());
  Status status;
  for (const LateConclusion& conclusion : late) {
    auto select =
        writer_->prepare("SELECT queries FROM conformity_outcomes WHERE application_id = ?");
    if (!select) {
      status = select.takeError();
      break;
    }
    select->bind(1, conclusion.application_id);
    auto row = select->step();
    if (!row) {
      status = row.takeError();
      break;
    }
    if (!*row) {
      continue;  // not kept yet: the round read from Redis when it is has it
    }
    auto queries = nlohmann::json::parse(select->text(0), nullptr, false);
    if (!queries.is_array()) {
      status =
          makeError(ErrorCode::kInternal, "conformity outcome of " + conclusion.application_id +
                                              ": queries are not a JSON array");
      break;
    }
    bool changed = false;
    for (auto& query : queries) {
      if (query.value("query_id", "") == conclusion.query_id && !query.contains("late_verdict")) {
        query["late_verdict"] = verdictName(conclusion.verdict);
        query["late_reasons"] = conclusion.reasons;
        query["late_signer"] = conclusion.signer;
        query["late_ms"] = conclusion.late_ms;
        changed = true;
      }
    }
    if (!changed) {
      continue;
    }
    auto update =
        writer_->prepare("UPDATE conformity_outcomes SET queries = ? WHERE application_id = ?");
    if (!update) {
      status = update.takeError();
      break;
    }
    status = update->bind(1, queries.dump()).bind(2, conclusion.application_id).run();
    if (!status.ok()) {
      break;
    }
  }
  return endBatch(std::move(status), "late conclusions could not be kept");
}

Result<std::optional<ConformityOutcome>> SqliteStore::findConformityOutcome(
    const std::string& application_id) {
  auto lease = readers_.acquire();
  if (!lease) {
    return lease.takeError();
  }
  auto query = lease->connection().prepare(
      "SELECT licensor, activity, applicant_iin_bin, applicant_name, request_fingerprint, "
      "outcome, decided_ms, queries FROM conformity_outcomes WHERE application_id = ?");
  if (!query) {
    return query.takeError();
  }
  query->bind(1, application_id);
  auto row = query->step();
  if (!row) {
    return row.takeError();
  }
  if (!*row) {
    return std::optional<ConformityOutcome>();
  }
  ConformityOutcome outcome;
  outcome.application_id = application_id;
  outcome.licensor = query->text(0);
  outcome.activity = query->text(1);
  outcome.applicant_iin_bin = query->text(2);
  outcome.applicant_name = query->text(3);
  outcome.request_fingerprint = query->text(4);
  const auto decided = roundOutcomeFromName(query->text(5));
  if (!decided) {
    return makeError(ErrorCode::kInternal, "conformity outcome of " + application_id +
                                               ": unknown outcome \"" + query->text(5) + "\"");
  }
  outcome.outcome = *decided;
  outcome.decided_ms = query->integer(6);
  const auto queries = nlohmann::json::parse(query->text(7), nullptr, false);
  if (!queries.is_array()) {
    return makeError(ErrorCode::kInternal,
                     "conformity outcome of " + application_id + ": its queries are not a list");
  }
  for (const auto& item : queries) {
    auto view = queryFromJson(item, outcome);
    if (!view.ok()) {
      return view.takeError();
    }
    outcome.queries.push_back(std::move(*view));
  }
  return std::optional<ConformityOutcome>(std::move(outcome));
}

Result<std::optional<ConformityOutcome>> SqliteStore::findConformityOutcomeOfQuery(
    const std::string& query_id) {
  std::string application_id;
  {
    auto lease = readers_.acquire();
    if (!lease) {
      return lease.takeError();
    }
    auto query = lease->connection().prepare(
        "SELECT application_id FROM conformity_queries WHERE query_id = ?");
    if (!query) {
      return query.takeError();
    }
    query->bind(1, query_id);
    auto row = query->step();
    if (!row) {
      return row.takeError();
    }
    if (!*row) {
      return std::optional<ConformityOutcome>();
    }
    application_id = query->text(0);
  }
  // Two reads, not one snapshot: an outcome is never removed or replaced,
  // so the second finds what the first pointed at.
  return findConformityOutcome(application_id);
}

}  // namespace licgate::registry
