// The conformity flow end to end, real parts only: redis-server with AOF,
// `licgate serve` and `licgate play-bodies` as child processes on loopback,
// requests and conclusions sent over AMQP by the Proton sender, rounds read
// over HTTP. What the simulator counts is what a body or the licensor's
// system would have seen.
//
// Suites named *Slow kill or stop processes mid-round and are labelled slow
// (test/CMakeLists.txt).
#include <gtest/gtest.h>

#include <sqlite3.h>
#include <proton/connection.hpp>
#include <proton/container.hpp>
#include <proton/delivery.hpp>
#include <proton/message.hpp>
#include <proton/messaging_handler.hpp>
#include <proton/receiver_options.hpp>
#include <proton/work_queue.hpp>

#include <algorithm>
#include <atomic>
#include <thread>

#include "test/gateway/conformity_program.hpp"

namespace licgate::gateway::program_test {
namespace {

using namespace std::chrono_literals;

// The licensor's outcome channel, as the simulator attaches it and as
// licgate's configuration names it.
constexpr const char* kOutcomesOverAddress =
    "licensors:\n  - code: CZ-ERU\n    channel: {amqp_address: conformity/outcomes/cz-eru}\n";
constexpr const char* kGateOutcomesOverAddress =
    "  outcomes:\n    CZ-ERU: {amqp_address: conformity/outcomes/cz-eru}\n";

std::string peerUrl(int port) {
  return "amqp://127.0.0.1:" + std::to_string(port);
}

std::string soapUrl(int port) {
  return "http://127.0.0.1:" + std::to_string(port) + "/conformity";
}

std::string conclusionJson(const std::string& query_id, const std::string& body,
                           const std::string& verdict) {
  return json{{"query_id", query_id},
              {"body", body},
              {"verdict", verdict},
              {"reasons", {"checked on site"}},
              {"signer", "Inspector T. Test"},
              {"signed_document", "MIIB"}}
      .dump();
}

// Sends one conclusion to licgate's conformity/conclusions as `system`;
// returns licgate's answer: the outcome when accepted, else the error code.
std::string conclude(const LicgateNode& node, const std::string& system, const std::string& body,
                     const std::string& message_id) {
  SendOptions options = amqpOptions(node, "conformity/conclusions", system);
  const SendReport report =
      sendMessages(options, {{message_id, "application/json", body, message_id}});
  if (report.results.size() != 1) {
    return "no result: " + report.transport_error;
  }
  const MessageResult& result = report.results[0];
  return result.error_code.empty() ? result.outcome : result.error_code;
}

class ConformityProgram : public ::testing::Test {
 protected:
  // An ecology body over SOAP whose service answers 503 for the whole test,
  // needed by activity 12.3; `settings` are the body's further keys in
  // licgate's configuration (retry, deadline, silence rule).
  void startWithEcologyDown(const std::string& settings) {
    rig_.startBodies(gate_, std::string("bodies:\n"
                                        "  - id: ecology\n"
                                        "    channel: {soap: {listen: \"127.0.0.1:0\"}}\n"
                                        "    down_for_ms: 60000\n") +
                                kOutcomesOverAddress);
    rig_.startLicgate(gate_,
                      "  bodies:\n"
                      "    - id: ecology\n      name: Ecology\n"
                      "      channel: {soap_url: \"" +
                          soapUrl(rig_.bodyPort("ecology")) + "\"}\n" + settings +
                          "  activities:\n    \"12.3\": [ecology]\n" + kGateOutcomesOverAddress);
  }

  ConformityRig rig_;
  LicgateNode gate_;
};

TEST_F(ConformityProgram, RoundOverAllThreeChannelsReachesTheRegisterAndTheLicensor) {
  rig_.startBodies(gate_, std::string("bodies:\n"
                                      "  - id: sanitary\n"
                                      "    channel: {amqp_address: conformity/sanitary}\n"
                                      "  - id: fire\n"
                                      "    channel: {amqp_peer: {listen: \"127.0.0.1:0\", address: "
                                      "conformity/queries}}\n"
                                      "    verdicts: {\"APP-3\": does-not-conform}\n"
                                      "  - id: ecology\n"
                                      "    channel: {soap: {listen: \"127.0.0.1:0\"}}\n") +
                              kOutcomesOverAddress);
  rig_.startLicgate(gate_,
                    "  bodies:\n"
                    "    - id: sanitary\n      name: Sanitary\n"
                    "      channel: {amqp_address: conformity/sanitary}\n"
                    "    - id: fire\n      name: Fire\n"
                    "      channel: {amqp_peer: {url: \"" +
                        peerUrl(rig_.bodyPort("fire")) +
                        "\", address: conformity/queries}}\n"
                        "    - id: ecology\n      name: Ecology\n"
                        "      channel: {soap_url: \"" +
                        soapUrl(rig_.bodyPort("ecology")) +
                        "\"}\n"
                        "  activities:\n    \"05.1\": [sanitary, fire, ecology]\n" +
                        kGateOutcomesOverAddress);
  const auto applications = applicationIds("APP-", 3);

  EXPECT_EQ(requestRounds(gate_, applications, "05.1"),
            (std::vector<std::string>{"opened", "opened", "opened"}));
  ASSERT_TRUE(rig_.outcomesReach(3, 15s)) << rig_.stats().dump() << "\n" << gate_.process->log();

  for (const auto& id : applications) {
    const json round = roundOf(gate_, id);
    ASSERT_TRUE(round.is_object()) << id;
    const std::string decided = id == "APP-3" ? "does-not-conform" : "conforms";
    EXPECT_EQ(round["outcome"], decided) << round.dump();
    EXPECT_EQ(rig_.registerOutcome(id), decided);
    EXPECT_TRUE(round.contains("decided_at")) << round.dump();
    ASSERT_EQ(round["queries"].size(), 3u) << round.dump();
    for (const auto& query : round["queries"]) {
      EXPECT_EQ(query["state"], "answered") << query.dump();
      const bool refused = id == "APP-3" && query["body"] == "fire";
      EXPECT_EQ(query["verdict"], refused ? "does-not-conform" : "conforms") << query.dump();
    }
  }
  const json stats = rig_.stopBodies();
  for (const char* body : {"sanitary", "fire", "ecology"}) {
    EXPECT_EQ(stats["bodies"][body]["distinct"], 3) << body << ": " << stats.dump();
    EXPECT_EQ(stats["bodies"][body]["conclusions_accepted"], 3) << body << ": " << stats.dump();
    EXPECT_EQ(stats["bodies"][body]["conclusions_rejected"], 0) << body << ": " << stats.dump();
  }
  const json& licensor = stats["licensors"][kLicensor];
  EXPECT_EQ(licensor["distinct"], 3) << stats.dump();
  EXPECT_EQ(licensor["conforms"], 2) << stats.dump();
  EXPECT_EQ(licensor["does_not_conform"], 1) << stats.dump();
  EXPECT_EQ(licensor["incomplete"], 0) << stats.dump();
}

// One application id, one round (docs/conformity.md, step 1), whether the
// round is open or decided.
TEST_F(ConformityProgram, AnswersARequestSentAgainAsDuplicateAndAnotherAsConflict) {
  rig_.startBodies(gate_, std::string("bodies:\n"
                                      "  - id: fire\n"
                                      "    channel: {amqp_peer: {listen: \"127.0.0.1:0\", address: "
                                      "conformity/queries}}\n"
                                      "    delay_ms: 1000\n") +
                              kOutcomesOverAddress);
  rig_.startLicgate(gate_,
                    "  bodies:\n"
                    "    - id: fire\n      name: Fire\n"
                    "      channel: {amqp_peer: {url: \"" +
                        peerUrl(rig_.bodyPort("fire")) +
                        "\", address: conformity/queries}}\n"
                        "  activities:\n    \"05.1\": [fire]\n    \"07.7\": [fire]\n" +
                        kGateOutcomesOverAddress);
  const auto another = [&](const std::string& message_id) {
    const SendReport report =
        sendMessages(amqpOptions(gate_, "conformity/requests", kLicensorSystem),
                     {{message_id, "application/json", requestJson("APP-1", "07.7"), "APP-1"}});
    return report.results.empty() ? report.transport_error : report.results[0].error_code;
  };

  EXPECT_EQ(requestRounds(gate_, {"APP-1"}, "05.1"), std::vector<std::string>{"opened"});
  EXPECT_EQ(requestRounds(gate_, {"APP-1"}, "05.1"), std::vector<std::string>{"duplicate"});
  EXPECT_EQ(another("other-request-1"), "conflict");
  ASSERT_TRUE(rig_.outcomesReach(1, 10s)) << rig_.stats().dump();
  EXPECT_EQ(requestRounds(gate_, {"APP-1"}, "05.1"), std::vector<std::string>{"duplicate"});
  EXPECT_EQ(another("other-request-2"), "conflict");

  const json stats = rig_.stopBodies();
  EXPECT_EQ(stats["bodies"]["fire"]["distinct"], 1) << stats.dump();
  EXPECT_EQ(stats["bodies"]["fire"]["repeats"], 0) << stats.dump();
  EXPECT_EQ(outcomeOf(gate_, "APP-1"), "conforms");
}

TEST_F(ConformityProgram, RetriesABodyThatIsDownAndDecidesSilentOnesAtTheirDeadline) {
  rig_.startBodies(gate_, std::string("bodies:\n"
                                      "  - id: ecology\n"
                                      "    channel: {soap: {listen: \"127.0.0.1:0\"}}\n"
                                      "    down_for_ms: 1500\n"
                                      "  - id: sanitary\n"
                                      "    channel: {amqp_peer: {listen: \"127.0.0.1:0\", address: "
                                      "conformity/queries}}\n"
                                      "    silent: true\n"
                                      "  - id: fire\n"
                                      "    channel: {amqp_peer: {listen: \"127.0.0.1:0\", address: "
                                      "conformity/queries}}\n"
                                      "    silent: true\n") +
                              kOutcomesOverAddress);
  rig_.startLicgate(gate_,
                    "  bodies:\n"
                    "    - id: ecology\n      name: Ecology\n"
                    "      channel: {soap_url: \"" +
                        soapUrl(rig_.bodyPort("ecology")) +
                        "\"}\n"
                        "      retry: {initial_ms: 200, max_ms: 400, attempts: 30}\n"
                        "    - id: sanitary\n      name: Sanitary\n"
                        "      channel: {amqp_peer: {url: \"" +
                        peerUrl(rig_.bodyPort("sanitary")) +
                        "\", address: conformity/queries}}\n"
                        "      deadline_seconds: 3\n      on_silence: consent\n"
                        "    - id: fire\n      name: Fire\n"
                        "      channel: {amqp_peer: {url: \"" +
                        peerUrl(rig_.bodyPort("fire")) +
                        "\", address: conformity/queries}}\n"
                        "      deadline_seconds: 3\n      on_silence: expire\n"
                        "  activities:\n    \"12.3\": [ecology]\n    \"07.7\": [sanitary]\n"
                        "    \"05.1\": [fire]\n" +
                        kGateOutcomesOverAddress);

  EXPECT_EQ(requestRounds(gate_, {"APP-DOWN"}, "12.3"), std::vector<std::string>{"opened"});
  EXPECT_EQ(requestRounds(gate_, {"APP-TACIT"}, "07.7"), std::vector<std::string>{"opened"});
  EXPECT_EQ(requestRounds(gate_, {"APP-EXPIRE"}, "05.1"), std::vector<std::string>{"opened"});
  ASSERT_TRUE(rig_.outcomesReach(3, 15s)) << rig_.stats().dump() << "\n" << gate_.process->log();

  const json down = queryOf(roundOf(gate_, "APP-DOWN"), "ecology");
  EXPECT_EQ(down["state"], "answered") << down.dump();
  EXPECT_GT(down["attempts"].get<int>(), 1) << down.dump();
  EXPECT_EQ(outcomeOf(gate_, "APP-DOWN"), "conforms");
  const json tacit = queryOf(roundOf(gate_, "APP-TACIT"), "sanitary");
  EXPECT_EQ(tacit["state"], "expired") << tacit.dump();
  EXPECT_EQ(tacit["verdict"], "conforms") << tacit.dump();
  EXPECT_EQ(tacit["tacit"], true) << tacit.dump();
  EXPECT_EQ(outcomeOf(gate_, "APP-TACIT"), "conforms");
  const json expired = queryOf(roundOf(gate_, "APP-EXPIRE"), "fire");
  EXPECT_EQ(expired["state"], "expired") << expired.dump();
  EXPECT_FALSE(expired.contains("verdict")) << expired.dump();
  EXPECT_EQ(outcomeOf(gate_, "APP-EXPIRE"), "incomplete");
  const json stats = rig_.stopBodies();
  EXPECT_GT(stats["bodies"]["ecology"]["released"].get<int>(), 0) << stats.dump();
  EXPECT_EQ(stats["bodies"]["ecology"]["distinct"], 1) << stats.dump();
  const json& licensor = stats["licensors"][kLicensor];
  EXPECT_EQ(licensor["conforms"], 2) << stats.dump();
  EXPECT_EQ(licensor["incomplete"], 1) << stats.dump();
  EXPECT_EQ(licensor["tacit"], 1) << stats.dump();
  EXPECT_EQ(licensor["expired"], 2) << stats.dump();
}

TEST_F(ConformityProgram, FailsAQueryWhoseAttemptsRunOutAndKeepsItsConclusionAsLate) {
  startWithEcologyDown("      retry: {initial_ms: 100, max_ms: 200, attempts: 3}\n");

  EXPECT_EQ(requestRounds(gate_, {"APP-F"}, "12.3"), std::vector<std::string>{"opened"});
  ASSERT_TRUE(rig_.outcomesReach(1, 10s)) << rig_.stats().dump() << "\n" << gate_.process->log();
  const std::string query_id = mapping::queryIdFor("APP-F", "ecology");
  EXPECT_EQ(conclude(gate_, "ecology", conclusionJson(query_id, "ecology", "conforms"), "c-1"),
            "late");

  const json round = roundOf(gate_, "APP-F");
  EXPECT_EQ(round["outcome"], "incomplete") << round.dump();
  const json query = queryOf(round, "ecology");
  EXPECT_EQ(query["state"], "failed") << query.dump();
  EXPECT_EQ(query["attempts"], 3) << query.dump();
  EXPECT_NE(query.value("last_error", "").find("503"), std::string::npos) << query.dump();
  EXPECT_FALSE(query.contains("verdict")) << query.dump();
  EXPECT_EQ(query["late_verdict"], "conforms") << query.dump();
  EXPECT_EQ(rig_.registerOutcome("APP-F"), "incomplete");
  const json stats = rig_.stopBodies();
  EXPECT_EQ(stats["bodies"]["ecology"]["released"], 3) << stats.dump();
  EXPECT_EQ(stats["bodies"]["ecology"]["distinct"], 0) << stats.dump();
  EXPECT_EQ(stats["licensors"][kLicensor]["incomplete"], 1) << stats.dump();
}

// A body that never received its query cannot be taken to consent
// (docs/conformity.md, step 6).
TEST_F(ConformityProgram, FailsAnUndeliveredQueryAtItsDeadlineDespiteConsent) {
  startWithEcologyDown(
      "      retry: {initial_ms: 200, max_ms: 400, attempts: 100}\n"
      "      deadline_seconds: 2\n      on_silence: consent\n");

  EXPECT_EQ(requestRounds(gate_, {"APP-U"}, "12.3"), std::vector<std::string>{"opened"});
  ASSERT_TRUE(rig_.outcomesReach(1, 10s)) << rig_.stats().dump() << "\n" << gate_.process->log();

  const json round = roundOf(gate_, "APP-U");
  EXPECT_EQ(round["outcome"], "incomplete") << round.dump();
  const json query = queryOf(round, "ecology");
  EXPECT_EQ(query["state"], "failed") << query.dump();
  EXPECT_FALSE(query.contains("verdict")) << query.dump();
  EXPECT_EQ(query["tacit"], false) << query.dump();
  EXPECT_GT(query["attempts"].get<int>(), 1) << query.dump();
  EXPECT_EQ(rig_.registerOutcome("APP-U"), "incomplete");
  const json stats = rig_.stopBodies();
  EXPECT_EQ(stats["licensors"][kLicensor]["tacit"], 0) << stats.dump();
  EXPECT_EQ(stats["licensors"][kLicensor]["incomplete"], 1) << stats.dump();
}

// A body's system that attaches to licgate's listener, takes every query
// and settles none: what a hung system looks like to licgate.
class UnsettlingBody final : public proton::messaging_handler {
 public:
  UnsettlingBody(int port, std::string address)
      : url_("amqp://127.0.0.1:" + std::to_string(port) + "/" + std::move(address)),
        thread_([this] { proton::container(*this).run(); }) {}
  ~UnsettlingBody() override {
    stopping_ = true;
    thread_.join();
  }

  int received() const { return received_; }

  void on_container_start(proton::container& container) override {
    container.open_receiver(url_, proton::receiver_options().credit_window(10).auto_accept(false));
    container.schedule(proton::duration(50), [this, &container] { poll(container); });
  }
  void on_message(proton::delivery&, proton::message&) override { ++received_; }
  void on_error(const proton::error_condition&) override {}

 private:
  void poll(proton::container& container) {
    if (stopping_) {
      container.stop();
      return;
    }
    container.schedule(proton::duration(50), [this, &container] { poll(container); });
  }

  std::string url_;
  std::atomic<int> received_{0};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// A send on an attached link counts as failed after send_timeout_ms
// (docs/configuration.md), as one to a peer or a SOAP URL does: it is
// retried then, not when the send's lease ends with the first still
// unsettled.
TEST_F(ConformityProgram, CountsAnUnsettledSendOnAnAttachedLinkAsFailedAfterTheSendTimeout) {
  rig_.startBodies(gate_, kOutcomesOverAddress);
  rig_.startLicgate(gate_,
                    std::string("  bodies:\n"
                                "    - id: sanitary\n      name: Sanitary\n"
                                "      channel: {amqp_address: conformity/sanitary}\n"
                                "      retry: {initial_ms: 5000, max_ms: 5000, attempts: 5}\n"
                                "  activities:\n    \"07.7\": [sanitary]\n") +
                        kGateOutcomesOverAddress);
  UnsettlingBody body(gate_.amqp_port, "conformity/sanitary");
  std::this_thread::sleep_for(300ms);

  EXPECT_EQ(requestRounds(gate_, {"APP-H"}, "07.7"), std::vector<std::string>{"opened"});
  ASSERT_TRUE(testing::waitFor([&] { return body.received() > 0; }, 5s));
  std::this_thread::sleep_for(1500ms);

  const json query = queryOf(roundOf(gate_, "APP-H"), "sanitary");
  EXPECT_EQ(query["state"], "retrying") << query.dump();
  EXPECT_EQ(query["attempts"], 1) << query.dump();
  EXPECT_NE(query.value("last_error", "").find("500 ms"), std::string::npos) << query.dump();
  EXPECT_EQ(body.received(), 1);
}

// Conclusions sent directly, as a body's system would: each of licgate's
// answers of step 5 (docs/conformity.md).
TEST_F(ConformityProgram, AnswersEveryKindOfConclusionSentDirectly) {
  rig_.startBodies(gate_, std::string("bodies:\n"
                                      "  - id: sanitary\n"
                                      "    channel: {amqp_peer: {listen: \"127.0.0.1:0\", address: "
                                      "conformity/queries}}\n"
                                      "    silent: true\n"
                                      "  - id: fire\n"
                                      "    channel: {amqp_peer: {listen: \"127.0.0.1:0\", address: "
                                      "conformity/queries}}\n"
                                      "    silent: true\n") +
                              kOutcomesOverAddress);
  rig_.startLicgate(gate_,
                    "  bodies:\n"
                    "    - id: sanitary\n      name: Sanitary\n"
                    "      channel: {amqp_peer: {url: \"" +
                        peerUrl(rig_.bodyPort("sanitary")) +
                        "\", address: conformity/queries}}\n"
                        "    - id: fire\n      name: Fire\n"
                        "      channel: {amqp_peer: {url: \"" +
                        peerUrl(rig_.bodyPort("fire")) +
                        "\", address: conformity/queries}}\n"
                        "      deadline_seconds: 2\n      on_silence: consent\n"
                        "  activities:\n    \"07.7\": [sanitary]\n    \"05.1\": [fire]\n" +
                        kGateOutcomesOverAddress);
  ASSERT_EQ(requestRounds(gate_, {"APP-1"}, "07.7"), std::vector<std::string>{"opened"});
  ASSERT_EQ(requestRounds(gate_, {"APP-2"}, "05.1"), std::vector<std::string>{"opened"});
  const std::string sanitary = mapping::queryIdFor("APP-1", "sanitary");
  const std::string fire = mapping::queryIdFor("APP-2", "fire");
  ASSERT_TRUE(testing::waitFor(
      [&] { return queryOf(roundOf(gate_, "APP-1"), "sanitary")["state"] == "sent"; }, 10s));

  const std::string first = conclusionJson(sanitary, "sanitary", "conforms");
  EXPECT_EQ(conclude(gate_, "sanitary", first, "c-1"), "accepted");
  EXPECT_EQ(conclude(gate_, "sanitary", first, "c-2"), "duplicate");
  EXPECT_EQ(
      conclude(gate_, "sanitary", conclusionJson(sanitary, "sanitary", "does-not-conform"), "c-3"),
      "conflict");
  EXPECT_EQ(conclude(gate_, "sanitary",
                     conclusionJson("cq-000000000000000000000000", "sanitary", "conforms"), "c-4"),
            "unknown-query");
  EXPECT_EQ(conclude(gate_, "fire", conclusionJson(sanitary, "fire", "conforms"), "c-5"),
            "wrong-body");
  ASSERT_TRUE(testing::waitFor([&] { return outcomeOf(gate_, "APP-2") == "conforms"; }, 10s));
  EXPECT_EQ(conclude(gate_, "fire", conclusionJson(fire, "fire", "does-not-conform"), "c-6"),
            "late");

  const json round = roundOf(gate_, "APP-1");
  EXPECT_EQ(round["outcome"], "conforms") << round.dump();
  EXPECT_EQ(queryOf(round, "sanitary")["verdict"], "conforms") << round.dump();
  const json late = roundOf(gate_, "APP-2");
  EXPECT_EQ(late["outcome"], "conforms") << late.dump();
  const json late_query = queryOf(late, "fire");
  EXPECT_EQ(late_query["verdict"], "conforms") << late.dump();
  EXPECT_EQ(late_query["tacit"], true) << late.dump();
  EXPECT_EQ(late_query["late_verdict"], "does-not-conform") << late.dump();
  ASSERT_TRUE(rig_.outcomesReach(2, 10s)) << rig_.stats().dump();
  EXPECT_EQ(rig_.stopBodies()["licensors"][kLicensor]["conforms"], 2);
}

// Bodies that take a while to answer, so that rounds are open when a
// process goes.
constexpr const char* kSlowBodies =
    "bodies:\n"
    "  - id: sanitary\n"
    "    channel: {amqp_address: conformity/sanitary}\n"
    "    delay_ms: 1500\n"
    "  - id: fire\n"
    "    channel: {amqp_peer: {listen: \"127.0.0.1:0\", address: conformity/queries}}\n"
    "    delay_ms: 1500\n"
    "  - id: ecology\n"
    "    channel: {soap: {listen: \"127.0.0.1:0\"}}\n"
    "    delay_ms: 1500\n";

std::string slowBodiesOnLicgate(const ConformityRig& rig) {
  return "  bodies:\n"
         "    - id: sanitary\n      name: Sanitary\n"
         "      channel: {amqp_address: conformity/sanitary}\n"
         "      retry: {initial_ms: 200, max_ms: 1000, attempts: 50}\n"
         "    - id: fire\n      name: Fire\n"
         "      channel: {amqp_peer: {url: \"" +
         peerUrl(rig.bodyPort("fire")) +
         "\", address: conformity/queries}}\n"
         "      retry: {initial_ms: 200, max_ms: 1000, attempts: 50}\n"
         "    - id: ecology\n      name: Ecology\n"
         "      channel: {soap_url: \"" +
         soapUrl(rig.bodyPort("ecology")) +
         "\"}\n"
         "      retry: {initial_ms: 200, max_ms: 1000, attempts: 50}\n"
         "  activities:\n    \"05.1\": [sanitary, fire, ecology]\n" +
         kGateOutcomesOverAddress;
}

// Every round decided, every query answered with the simulator's verdict
// and reached each body under one id per application.
void expectAllAnswered(const ConformityRig& rig, const LicgateNode& gate,
                       const std::vector<std::string>& applications, const json& stats) {
  // An outcome goes out before its register write, and one whose process
  // stopped in between is written when its claim's lease ends
  // (ConformityFlow::keep): the register may trail the outcomes by a lease.
  testing::waitFor(
      [&] {
        return std::all_of(applications.begin(), applications.end(), [&](const std::string& id) {
          return rig.registerOutcome(id) == "conforms";
        });
      },
      10s);
  for (const auto& id : applications) {
    EXPECT_EQ(rig.registerOutcome(id), "conforms") << id;
    const json round = roundOf(gate, id);
    EXPECT_EQ(round.value("outcome", ""), "conforms") << id << ": " << round.dump();
    for (const auto& query : round.value("queries", json::array())) {
      EXPECT_EQ(query["state"], "answered") << query.dump();
      EXPECT_EQ(query["verdict"], "conforms") << query.dump();
      EXPECT_FALSE(query.contains("late_verdict")) << query.dump();
    }
  }
  const auto count = static_cast<std::int64_t>(applications.size());
  for (const auto& [body, counters] : stats["bodies"].items()) {
    EXPECT_EQ(counters["distinct"], count) << body << ": " << stats.dump();
    EXPECT_EQ(counters["malformed"], 0) << body << ": " << stats.dump();
    EXPECT_EQ(counters["conclusions_rejected"], 0) << body << ": " << stats.dump();
  }
  EXPECT_EQ(stats["licensors"][kLicensor]["distinct"], count) << stats.dump();
  EXPECT_EQ(stats["licensors"][kLicensor]["conforms"], count) << stats.dump();
}

class ConformityProgramSlow : public ConformityProgram {
 protected:
  // Stops licgate with `signal` while the bodies have their queries and
  // again while outcomes go out, starting it again each time on the same
  // configuration and ports.
  void restartMidRound(int signal) {
    rig_.startBodies(gate_, std::string(kSlowBodies) + kOutcomesOverAddress);
    const std::string conformity = slowBodiesOnLicgate(rig_);
    rig_.startLicgate(gate_, conformity);
    const auto applications = applicationIds("APP-K", 20);
    EXPECT_EQ(requestRounds(gate_, applications, "05.1"),
              std::vector<std::string>(applications.size(), "opened"));
    ASSERT_TRUE(
        testing::waitFor([&] { return rig_.counter("bodies", "fire", "distinct") > 0; }, 10s));

    const json open = getJson(gate_.http_port, "/api/v1/licensors/CZ-ERU/pending");
    EXPECT_EQ(open.value("count", 0), 60) << open.dump();
    expectStopped(gate_.process->stop(signal), signal);
    std::this_thread::sleep_for(300ms);
    rig_.startLicgate(gate_, conformity);
    ASSERT_TRUE(testing::waitFor(
        [&] { return rig_.counter("licensors", kLicensor, "distinct") > 0; }, 15s));
    expectStopped(gate_.process->stop(signal), signal);
    rig_.startLicgate(gate_, conformity);

    ASSERT_TRUE(rig_.outcomesReach(20, 25s)) << rig_.stats().dump() << "\n" << gate_.process->log();
    const json stats = rig_.stopBodies();
    expectAllAnswered(rig_, gate_, applications, stats);
    const json none = getJson(gate_.http_port, "/api/v1/licensors/CZ-ERU/pending");
    EXPECT_EQ(none.value("count", -1), 0) << none.dump();
  }

  void expectStopped(int status, int signal) {
    if (signal == SIGKILL) {
      EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
    } else {
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << "\n"
                                                                 << gate_.process->log();
    }
  }
};

TEST_F(ConformityProgramSlow, AnswersEveryQueryOnceWhenLicgateIsKilledMidRound) {
  restartMidRound(SIGKILL);
}

TEST_F(ConformityProgramSlow, AnswersEveryQueryOnceWhenLicgateIsStoppedMidRound) {
  restartMidRound(SIGTERM);
}

TEST_F(ConformityProgramSlow, CompletesEveryRoundWhenRedisRestartsMidRound) {
  rig_.startBodies(gate_, std::string(kSlowBodies) + kOutcomesOverAddress);
  rig_.startLicgate(gate_, slowBodiesOnLicgate(rig_));
  const auto applications = applicationIds("APP-R", 10);
  EXPECT_EQ(requestRounds(gate_, applications, "05.1"),
            std::vector<std::string>(applications.size(), "opened"));
  ASSERT_TRUE(
      testing::waitFor([&] { return rig_.counter("bodies", "fire", "distinct") > 0; }, 10s));

  rig_.redis().stop();
  // What is in flight lives in Redis: while it is down, an open round
  // cannot be read, and says so rather than showing nothing.
  const auto open = testing::httpGet(gate_.http_port, "/api/v1/applications/APP-R1/conformity");
  EXPECT_EQ(open.status, 503) << open.body;
  const auto pending = testing::httpGet(gate_.http_port, "/api/v1/licensors/CZ-ERU/pending");
  EXPECT_EQ(pending.status, 503) << pending.body;
  std::this_thread::sleep_for(1500ms);
  ASSERT_TRUE(rig_.redis().start());

  ASSERT_TRUE(rig_.outcomesReach(10, 25s)) << rig_.stats().dump() << "\n" << gate_.process->log();
  const json stats = rig_.stopBodies();
  expectAllAnswered(rig_, gate_, applications, stats);
}

// licgate starts degraded without Redis (docs/configuration.md) and opens
// rounds once Redis answers.
TEST_F(ConformityProgramSlow, OpensRoundsOnceRedisComesUpAfterLicgate) {
  rig_.startBodies(gate_, std::string(kSlowBodies) + kOutcomesOverAddress);
  rig_.redis().stop();
  rig_.startLicgate(gate_, slowBodiesOnLicgate(rig_));
  ASSERT_TRUE(rig_.redis().start());
  std::this_thread::sleep_for(500ms);

  const auto applications = applicationIds("APP-U", 5);
  EXPECT_EQ(requestRounds(gate_, applications, "05.1"), std::vector<std::string>(5, "opened"));

  ASSERT_TRUE(rig_.outcomesReach(5, 15s)) << rig_.stats().dump() << "\n" << gate_.process->log();
  expectAllAnswered(rig_, gate_, applications, rig_.stopBodies());
}

// Bodies both processes reach: each connects to the peer and posts to the
// SOAP server; the outcomes go over SOAP too, since a link attached to
// one listener does not reach the other process. `extra`: more keys of
// each body in the simulator.
std::string sharedBodies(const std::string& extra) {
  return "bodies:\n"
         "  - id: fire\n"
         "    channel: {amqp_peer: {listen: \"127.0.0.1:0\", address: conformity/queries}}\n" +
         extra +
         "  - id: ecology\n"
         "    channel: {soap: {listen: \"127.0.0.1:0\"}}\n" +
         extra +
         "licensors:\n  - code: CZ-ERU\n"
         "    channel: {soap: {listen: \"127.0.0.1:0\"}}\n";
}

std::string sharedBodiesOnLicgate(const ConformityRig& rig, const std::string& extra = "") {
  const std::string retry = "      retry: {initial_ms: 200, max_ms: 1000, attempts: 50}\n" + extra;
  return "  bodies:\n"
         "    - id: fire\n      name: Fire\n"
         "      channel: {amqp_peer: {url: \"" +
         peerUrl(rig.bodyPort("fire")) + "\", address: conformity/queries}}\n" + retry +
         "    - id: ecology\n      name: Ecology\n"
         "      channel: {soap_url: \"" +
         soapUrl(rig.bodyPort("ecology")) + "\"}\n" + retry +
         "  activities:\n    \"05.1\": [fire, ecology]\n"
         "  outcomes:\n    CZ-ERU: {soap_url: \"" +
         soapUrl(rig.licensorPort()) + "\"}\n";
}

TEST_F(ConformityProgramSlow, TwoProcessesShareTheRoundsAndOneFinishesWhatTheOtherLeft) {
  LicgateNode other;
  rig_.startBodies(gate_, sharedBodies("    delay_ms: 1000\n    down_for_ms: 2500\n"));
  const std::string conformity = sharedBodiesOnLicgate(rig_);
  rig_.startLicgate(gate_, conformity);
  rig_.startLicgate(other, conformity);

  // Half the requests to each, while the bodies are down, so that both
  // processes retry the same queries; nobody dies, so nothing is sent twice.
  const auto first = applicationIds("APP-A", 20);
  const auto second = applicationIds("APP-B", 20);
  EXPECT_EQ(requestRounds(gate_, first, "05.1"), std::vector<std::string>(20, "opened"));
  EXPECT_EQ(requestRounds(other, second, "05.1"), std::vector<std::string>(20, "opened"));
  ASSERT_TRUE(rig_.outcomesReach(40, 15s)) << rig_.stats().dump();
  const json shared = rig_.stats();
  for (const char* body : {"fire", "ecology"}) {
    EXPECT_GT(shared["bodies"][body]["released"], 0) << shared.dump();
    EXPECT_EQ(shared["bodies"][body]["distinct"], 40) << shared.dump();
    EXPECT_EQ(shared["bodies"][body]["repeats"], 0) << shared.dump();
  }
  EXPECT_EQ(shared["licensors"][kLicensor]["outcomes"], 40) << shared.dump();

  // The simulator answers to `gate_`, so `other` is the one killed, with
  // its rounds just opened: their sends are due or claimed by it, and
  // `gate_` takes them when due or when the leases end.
  const auto orphans = applicationIds("APP-C", 30);
  EXPECT_EQ(requestRounds(other, orphans, "05.1"), std::vector<std::string>(30, "opened"));
  other.process->stop(SIGKILL);

  ASSERT_TRUE(rig_.outcomesReach(70, 20s)) << rig_.stats().dump() << "\n" << gate_.process->log();
  const json stats = rig_.stopBodies();
  std::vector<std::string> all = first;
  all.insert(all.end(), second.begin(), second.end());
  all.insert(all.end(), orphans.begin(), orphans.end());
  expectAllAnswered(rig_, gate_, all, stats);
}

// Both processes run the deadlines: each silent query is decided once,
// and each round's outcome sent once.
TEST_F(ConformityProgramSlow, TwoProcessesDecideEachDeadlineOnce) {
  LicgateNode other;
  rig_.startBodies(gate_, sharedBodies("    silent: true\n"));
  const std::string conformity =
      sharedBodiesOnLicgate(rig_, "      deadline_seconds: 2\n      on_silence: consent\n");
  rig_.startLicgate(gate_, conformity);
  rig_.startLicgate(other, conformity);

  EXPECT_EQ(requestRounds(gate_, applicationIds("APP-S", 10), "05.1"),
            std::vector<std::string>(10, "opened"));
  EXPECT_EQ(requestRounds(other, applicationIds("APP-T", 10), "05.1"),
            std::vector<std::string>(10, "opened"));

  ASSERT_TRUE(rig_.outcomesReach(20, 15s)) << rig_.stats().dump();
  std::this_thread::sleep_for(500ms);
  const json stats = rig_.stopBodies();
  const json& licensor = stats["licensors"][kLicensor];
  EXPECT_EQ(licensor["outcomes"], 20) << stats.dump();
  EXPECT_EQ(licensor["conforms"], 20) << stats.dump();
  EXPECT_EQ(licensor["tacit"], 40) << stats.dump();
  for (const char* body : {"fire", "ecology"}) {
    EXPECT_EQ(stats["bodies"][body]["distinct"], 20) << stats.dump();
    EXPECT_EQ(stats["bodies"][body]["repeats"], 0) << stats.dump();
  }
  EXPECT_EQ(rig_.registerOutcome("APP-S1"), "conforms");
  EXPECT_EQ(rig_.registerOutcome("APP-T10"), "conforms");
}

// The process that decided the rounds sends their outcomes and dies while
// it keeps them (the register held by another writer), before it marked
// them delivered: the other claims them when the leases end, keeps them
// and sends them again.
TEST_F(ConformityProgramSlow, TheOtherProcessDeliversOutcomesClaimedByOneThatDied) {
  LicgateNode other;
  rig_.startBodies(gate_, sharedBodies(""));
  const std::string conformity = sharedBodiesOnLicgate(rig_);
  rig_.startLicgate(gate_, conformity);
  rig_.startLicgate(other, conformity);
  sqlite3* holder = nullptr;
  ASSERT_EQ(sqlite3_open(rig_.registerPath().c_str(), &holder), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(holder, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  const auto applications = applicationIds("APP-D", 10);
  EXPECT_EQ(requestRounds(gate_, applications, "05.1"), std::vector<std::string>(10, "opened"));
  // Every conclusion reaches `gate_`, the simulator's licgate.
  ASSERT_TRUE(testing::waitFor(
      [&] {
        return rig_.counter("bodies", "ecology", "conclusions_accepted") == 10 &&
               rig_.counter("bodies", "fire", "conclusions_accepted") == 10;
      },
      10s));

  gate_.process->stop(SIGKILL);
  sqlite3_exec(holder, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(holder);

  ASSERT_TRUE(rig_.outcomesReach(10, 15s)) << rig_.stats().dump() << "\n" << other.process->log();
  ASSERT_TRUE(testing::waitFor(
      [&] {
        return std::all_of(applications.begin(), applications.end(), [&](const std::string& id) {
          return rig_.registerOutcome(id) == "conforms";
        });
      },
      15s))
      << other.process->log();
  for (const auto& id : applications) {
    EXPECT_EQ(outcomeOf(other, id), "conforms") << id;
  }
  // Each sent by the one that died, and again by the other.
  ASSERT_TRUE(
      testing::waitFor([&] { return rig_.counter("licensors", kLicensor, "outcomes") >= 20; }, 15s))
      << rig_.stats().dump();
  EXPECT_EQ(rig_.stopBodies()["licensors"][kLicensor]["conforms"], 10);
}

// The outcome waits in Redis for the licensor's system, which attaches
// its link only after the round was decided.
TEST_F(ConformityProgramSlow, SendsTheOutcomeOnceTheLicensorsSystemAttaches) {
  const std::string bodies =
      "bodies:\n"
      "  - id: fire\n"
      "    channel: {amqp_peer: {listen: \"127.0.0.1:0\", address: conformity/queries}}\n";
  rig_.startBodies(gate_, bodies);
  rig_.startLicgate(gate_,
                    "  bodies:\n"
                    "    - id: fire\n      name: Fire\n"
                    "      channel: {amqp_peer: {url: \"" +
                        peerUrl(rig_.bodyPort("fire")) +
                        "\", address: conformity/queries}}\n"
                        "  activities:\n    \"05.1\": [fire]\n" +
                        kGateOutcomesOverAddress);
  EXPECT_EQ(requestRounds(gate_, {"APP-O"}, "05.1"), std::vector<std::string>{"opened"});
  ASSERT_TRUE(testing::waitFor([&] { return outcomeOf(gate_, "APP-O") == "conforms"; }, 10s));
  EXPECT_EQ(rig_.stopBodies()["bodies"]["fire"]["conclusions_accepted"], 1);

  rig_.startBodies(gate_, bodies + kOutcomesOverAddress);

  ASSERT_TRUE(rig_.outcomesReach(1, 15s)) << rig_.stats().dump() << "\n" << gate_.process->log();
  const json stats = rig_.stopBodies();
  EXPECT_EQ(stats["licensors"][kLicensor]["conforms"], 1) << stats.dump();
  EXPECT_EQ(stats["bodies"]["fire"]["queries"], 0) << stats.dump();
  EXPECT_EQ(rig_.registerOutcome("APP-O"), "conforms");
}

// A round decided while another writer holds the register (an operator's
// backup, say) past licgate's busy timeout: the first keep fails, the round
// is claimed again when its lease ends, and that delivery must keep it.
TEST_F(ConformityProgramSlow, KeepsARoundDecidedWhileTheRegisterWasLocked) {
  rig_.startBodies(gate_, std::string("bodies:\n"
                                      "  - id: fire\n"
                                      "    channel: {amqp_peer: {listen: \"127.0.0.1:0\", address: "
                                      "conformity/queries}}\n") +
                              kOutcomesOverAddress);
  rig_.startLicgate(gate_,
                    "  bodies:\n"
                    "    - id: fire\n      name: Fire\n"
                    "      channel: {amqp_peer: {url: \"" +
                        peerUrl(rig_.bodyPort("fire")) +
                        "\", address: conformity/queries}}\n"
                        "  activities:\n    \"05.1\": [fire]\n" +
                        kGateOutcomesOverAddress);
  sqlite3* holder = nullptr;
  ASSERT_EQ(sqlite3_open(rig_.registerPath().c_str(), &holder), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(holder, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);

  EXPECT_EQ(requestRounds(gate_, {"APP-L"}, "05.1"), std::vector<std::string>{"opened"});
  // Past the busy timeout (2 s) of the first keep, and into the second
  // delivery after the lease (2 s) ended.
  std::this_thread::sleep_for(3000ms);
  sqlite3_exec(holder, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(holder);

  // The outcome went out at once; its register write failed, so it was
  // not marked delivered: when its lease ended it was kept and sent again.
  ASSERT_TRUE(rig_.outcomesReach(1, 10s)) << rig_.stats().dump() << "\n" << gate_.process->log();
  ASSERT_TRUE(testing::waitFor([&] { return rig_.registerOutcome("APP-L") == "conforms"; }, 10s))
      << gate_.process->log();
  EXPECT_EQ(outcomeOf(gate_, "APP-L"), "conforms");
  ASSERT_TRUE(
      testing::waitFor([&] { return rig_.counter("licensors", kLicensor, "outcomes") == 2; }, 10s))
      << rig_.stats().dump();
}

}  // namespace
}  // namespace licgate::gateway::program_test
