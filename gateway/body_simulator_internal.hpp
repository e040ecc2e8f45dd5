// The parts of the body simulator (gateway/body_simulator.hpp): the players
// that decide what a body answers and count what happened, the AMQP side
// (every Proton connection, on one container thread) and the SOAP side
// (servers for SOAP channels, workers that post SubmitConclusion).
//
// Threads: a BodyPlayer or LicensorPlayer is called from the AMQP loop and
// from the SOAP servers' threads at once, so each guards itself.
//
// Internal to gateway/.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "gateway/body_simulator.hpp"
#include "mapping/conformity.hpp"
#include "mapping/soap.hpp"
#include "registry/conformity.hpp"
#include "registry/result.hpp"

namespace licgate::gateway::sim {

using Clock = std::chrono::steady_clock;

// How long the simulator waits before dialling licgate again, and before
// sending again a conclusion licgate released or could not take.
inline constexpr std::chrono::milliseconds kRetryPause{500};

class BodyPlayer {
 public:
  BodyPlayer(const SimBody& spec, Clock::time_point started);

  const SimBody& spec() const { return spec_; }

  // Down for down_for_ms from the start: the channel refuses queries then.
  bool down() const { return Clock::now() < up_at_; }

  // Counts a query read from the wire, as new or as a repeat of one seen
  // before, and returns the conclusion to send: the same for a repeat, so
  // that a query sent again (at least once) gets the same answer. nullopt
  // for a silent body.
  std::optional<registry::Conclusion> take(const mapping::QueryMessage& query);

  void countReleased() { released_ += 1; }
  void countMalformed() { malformed_ += 1; }
  void countConcluded() { concluded_ += 1; }
  // How licgate settled (AMQP) or answered (SOAP) one conclusion.
  void countSettled(bool accepted, const std::string& description);

  nlohmann::json counters() const;

 private:
  const SimBody spec_;
  const Clock::time_point up_at_;
  mutable std::mutex mutex_;
  std::unordered_set<std::string> seen_;  // query ids, guarded by mutex_
  std::string last_rejection_;            // guarded by mutex_
  std::atomic<std::uint64_t> queries_{0};
  std::atomic<std::uint64_t> repeats_{0};
  std::atomic<std::uint64_t> released_{0};
  std::atomic<std::uint64_t> malformed_{0};
  std::atomic<std::uint64_t> concluded_{0};
  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<std::uint64_t> rejected_{0};
};

// What a licensor's receiver counts of one outcome.
struct OutcomeSummary {
  std::string application_id;
  std::string outcome;  // "conforms", "does-not-conform", "incomplete"
  int tacit = 0;        // conclusions that are tacit consents
  int expired = 0;      // queries in state expired
};

// {"application_id", "outcome", "conclusions": [{"state", "tacit"}...]}; the
// other members are not looked at. kMalformed naming what is missing.
registry::Result<OutcomeSummary> readOutcomeJson(std::string_view bytes);
// A ConformityOutcome call (mapping/conformity.hpp, writeOutcomeSoap).
registry::Result<OutcomeSummary> readOutcomeSoap(const mapping::SoapCall& call);

class LicensorPlayer {
 public:
  explicit LicensorPlayer(const SimLicensor& spec) : spec_(spec) {}

  const SimLicensor& spec() const { return spec_; }

  // Counts an outcome: every one in `outcomes`, the rest once per
  // application, since licgate sends an outcome again until it is accepted.
  void take(const OutcomeSummary& outcome);
  void countMalformed() { malformed_ += 1; }

  nlohmann::json counters() const;

 private:
  const SimLicensor spec_;
  mutable std::mutex mutex_;
  std::unordered_set<std::string> applications_;     // guarded by mutex_
  std::map<std::string, std::uint64_t> by_outcome_;  // guarded by mutex_
  std::uint64_t tacit_ = 0;                          // guarded by mutex_
  std::uint64_t expired_ = 0;                        // guarded by mutex_
  std::atomic<std::uint64_t> outcomes_{0};
  std::atomic<std::uint64_t> malformed_{0};
};

// A conclusion on its way back to licgate.
struct PendingConclusion {
  std::size_t body = 0;  // index into the players
  registry::Conclusion conclusion;
  Clock::time_point due;
  int attempts = 0;  // sends so far: `concluded` counts a conclusion once
};

// Where conclusions of one way (AMQP or SOAP) go. Thread-safe, non-blocking.
class ConclusionSink {
 public:
  virtual ~ConclusionSink() = default;
  virtual void submit(PendingConclusion conclusion) = 0;
};

// The players and the two ways back, shared by every part.
struct Players {
  std::vector<std::unique_ptr<BodyPlayer>> bodies;
  std::vector<std::unique_ptr<LicensorPlayer>> licensors;
  ConclusionSink* amqp = nullptr;
  ConclusionSink* soap = nullptr;

  // Hands a body's conclusion to its way back.
  void answer(std::size_t body, registry::Conclusion conclusion) {
    const SimBody& spec = bodies[body]->spec();
    PendingConclusion pending{body, std::move(conclusion),
                              Clock::now() + std::chrono::milliseconds(spec.delay_ms)};
    (spec.answer_over_soap ? soap : amqp)->submit(std::move(pending));
  }
};

// The ports the listeners bound, by body id and licensor code.
struct BoundPorts {
  std::map<std::string, int> bodies;
  std::map<std::string, int> licensors;
};

// Every AMQP connection: the one to licgate's listener (conclusions out;
// receiving links for amqp_address channels) and the listeners of
// amqp_peer channels.
class AmqpSide : public ConclusionSink {
 public:
  // Binds the listeners and starts the container thread; returns once every
  // listener is bound (their ports in `ports`). kUnavailable naming the
  // address that cannot be bound.
  virtual registry::Status start(BoundPorts& ports) = 0;
  // Closes everything and joins the thread. Idempotent.
  virtual void stop() = 0;
};

std::unique_ptr<AmqpSide> makeAmqpSide(const SimConfig& config, Players& players);

// The SOAP channels' servers and the workers that post SubmitConclusion.
class SoapSide : public ConclusionSink {
 public:
  virtual registry::Status start(BoundPorts& ports) = 0;
  virtual void stop() = 0;
};

std::unique_ptr<SoapSide> makeSoapSide(const SimConfig& config, Players& players);

}  // namespace licgate::gateway::sim
