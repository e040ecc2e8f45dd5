// `licgate play-bodies` (gateway/body_simulator.hpp): the players, the
// outcome readers, and the run that ties the AMQP and SOAP sides together.
#include "gateway/body_simulator.hpp"

#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <pugixml.hpp>
#include <thread>

#include "gateway/body_simulator_internal.hpp"
#include "gateway/logging.hpp"
#include "mapping/xml_names.hpp"

namespace licgate::gateway {

namespace sim {

using registry::ErrorCode;
using registry::makeError;

BodyPlayer::BodyPlayer(const SimBody& spec, Clock::time_point started)
    : spec_(spec), up_at_(started + std::chrono::milliseconds(spec.down_for_ms)) {}

std::optional<registry::Conclusion> BodyPlayer::take(const mapping::QueryMessage& query) {
  queries_ += 1;
  {
    std::lock_guard lock(mutex_);
    if (!seen_.insert(query.query_id).second) {
      repeats_ += 1;
    }
  }
  if (spec_.silent) {
    return std::nullopt;
  }
  registry::Conclusion conclusion;
  conclusion.query_id = query.query_id;
  conclusion.body = spec_.id;
  auto override_verdict = spec_.verdicts.find(query.request.application_id);
  conclusion.verdict =
      override_verdict == spec_.verdicts.end() ? spec_.verdict : override_verdict->second;
  conclusion.reasons = spec_.reasons;
  conclusion.signer = spec_.signer;
  return conclusion;
}

void BodyPlayer::countSettled(bool accepted, const std::string& description) {
  if (accepted) {
    accepted_ += 1;
    return;
  }
  rejected_ += 1;
  std::lock_guard lock(mutex_);
  last_rejection_ = description;
}

nlohmann::json BodyPlayer::counters() const {
  nlohmann::json out;
  const std::uint64_t queries = queries_;
  const std::uint64_t repeats = repeats_;
  out["queries"] = queries;
  out["distinct"] = queries - repeats;
  out["repeats"] = repeats;
  out["released"] = released_.load();
  out["malformed"] = malformed_.load();
  out["concluded"] = concluded_.load();
  out["conclusions_accepted"] = accepted_.load();
  out["conclusions_rejected"] = rejected_.load();
  std::lock_guard lock(mutex_);
  out["last_rejection"] = last_rejection_;
  return out;
}

void LicensorPlayer::take(const OutcomeSummary& outcome) {
  outcomes_ += 1;
  std::lock_guard lock(mutex_);
  if (!applications_.insert(outcome.application_id).second) {
    return;
  }
  by_outcome_[outcome.outcome] += 1;
  tacit_ += static_cast<std::uint64_t>(outcome.tacit);
  expired_ += static_cast<std::uint64_t>(outcome.expired);
}

nlohmann::json LicensorPlayer::counters() const {
  nlohmann::json out;
  out["outcomes"] = outcomes_.load();
  out["malformed"] = malformed_.load();
  std::lock_guard lock(mutex_);
  out["distinct"] = applications_.size();
  auto count = [&](const char* name) {
    auto found = by_outcome_.find(name);
    return found == by_outcome_.end() ? std::uint64_t{0} : found->second;
  };
  out["conforms"] = count("conforms");
  out["does_not_conform"] = count("does-not-conform");
  out["incomplete"] = count("incomplete");
  out["tacit"] = tacit_;
  out["expired"] = expired_;
  return out;
}

registry::Result<OutcomeSummary> readOutcomeJson(std::string_view bytes) {
  const auto document = nlohmann::json::parse(bytes, nullptr, false);
  if (document.is_discarded() || !document.is_object()) {
    return makeError(ErrorCode::kMalformed, "outcome: not a JSON object");
  }
  OutcomeSummary summary;
  const auto application = document.find("application_id");
  const auto outcome = document.find("outcome");
  if (application == document.end() || !application->is_string() || outcome == document.end() ||
      !outcome->is_string()) {
    return makeError(ErrorCode::kMalformed, "outcome: application_id and outcome are required");
  }
  summary.application_id = application->get<std::string>();
  summary.outcome = outcome->get<std::string>();
  const auto conclusions = document.find("conclusions");
  if (conclusions != document.end() && conclusions->is_array()) {
    for (const auto& conclusion : *conclusions) {
      if (!conclusion.is_object()) {
        continue;
      }
      summary.tacit += conclusion.value("tacit", false) ? 1 : 0;
      summary.expired += conclusion.value("state", "") == "expired" ? 1 : 0;
    }
  }
  return summary;
}

registry::Result<OutcomeSummary> readOutcomeSoap(const mapping::SoapCall& call) {
  if (call.operation != "ConformityOutcome") {
    return makeError(ErrorCode::kMalformed,
                     "expected <ConformityOutcome>, not <" + call.operation + ">");
  }
  OutcomeSummary summary;
  for (const auto& [name, value] : call.parameters) {
    if (name == "applicationId") {
      summary.application_id = value;
    } else if (name == "outcome") {
      summary.outcome = value;
    }
  }
  if (summary.application_id.empty() || summary.outcome.empty()) {
    return makeError(ErrorCode::kMalformed,
                     "ConformityOutcome: applicationId and outcome are required");
  }
  // Each conclusion has elements of its own, so readSoapCall hands it over
  // as a document.
  for (const auto& [name, xml] : call.documents) {
    pugi::xml_document document;
    if (name != "conclusion" || !document.load_string(xml.c_str())) {
      continue;
    }
    for (pugi::xml_node child : document.document_element().children()) {
      const std::string_view local = mapping::localName(child.name());
      const std::string_view text = child.text().as_string();
      summary.tacit += local == "tacit" && text == "true" ? 1 : 0;
      summary.expired += local == "state" && text == "expired" ? 1 : 0;
    }
  }
  return summary;
}

}  // namespace sim

namespace {

nlohmann::json countersOf(const sim::Players& players) {
  nlohmann::json out;
  out["bodies"] = nlohmann::json::object();
  out["licensors"] = nlohmann::json::object();
  for (const auto& body : players.bodies) {
    out["bodies"][body->spec().id] = body->counters();
  }
  for (const auto& licensor : players.licensors) {
    out["licensors"][licensor->spec().code] = licensor->counters();
  }
  return out;
}

// Written to a temporary file and renamed, so that a reader never sees half
// a file.
bool writeAtomically(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text << '\n';
    if (!out.flush()) {
      return false;
    }
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  return !error;
}

// Blocks until SIGINT or SIGTERM, rewriting the stats file meanwhile.
void waitForSignal(const sigset_t& signals, const sim::Players& players,
                   const std::string& stats_file) {
  const timespec pause{0, 200'000'000};
  while (true) {
    const int signal = ::sigtimedwait(&signals, nullptr, &pause);
    if (signal == SIGINT || signal == SIGTERM) {
      return;
    }
    if (!stats_file.empty()) {
      writeAtomically(stats_file, countersOf(players).dump());
    }
  }
}

}  // namespace

int runPlayBodies(const SimConfig& config, const std::string& ports_file) {
  auto logger = getLogger("simulator");

  // The signals are blocked before any thread starts, so that every thread
  // inherits the mask and only sigtimedwait below takes them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  sim::Players players;
  const auto started = sim::Clock::now();
  for (const auto& body : config.bodies) {
    players.bodies.push_back(std::make_unique<sim::BodyPlayer>(body, started));
  }
  for (const auto& licensor : config.licensors) {
    players.licensors.push_back(std::make_unique<sim::LicensorPlayer>(licensor));
  }
  auto amqp = sim::makeAmqpSide(config, players);
  auto soap = sim::makeSoapSide(config, players);
  players.amqp = amqp.get();
  players.soap = soap.get();

  sim::BoundPorts ports;
  if (auto status = soap->start(ports); !status.ok()) {
    std::cerr << "play-bodies: " << status.error().message << '\n';
    return 1;
  }
  if (auto status = amqp->start(ports); !status.ok()) {
    soap->stop();
    std::cerr << "play-bodies: " << status.error().message << '\n';
    return 1;
  }
  if (!ports_file.empty()) {
    writeAtomically(
        ports_file,
        nlohmann::json{{"bodies", ports.bodies}, {"licensors", ports.licensors}}.dump());
  }
  logger->info("playing {} bodies and {} licensors", config.bodies.size(), config.licensors.size());

  waitForSignal(signals, players, config.stats_file);

  amqp->stop();
  soap->stop();
  const std::string counters = countersOf(players).dump();
  if (!config.stats_file.empty()) {
    writeAtomically(config.stats_file, counters);
  }
  std::cout << counters << std::endl;
  return 0;
}

}  // namespace licgate::gateway
