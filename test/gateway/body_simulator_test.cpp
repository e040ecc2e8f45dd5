// Tests of `licgate play-bodies` (gateway/body_simulator.hpp): the real
// program as a child process, with licgate's side played by real adapters
// on loopback: an IntakeServer that takes the conclusions on
// conformity/conclusions, an HTTP server that takes SubmitConclusion, the
// Proton sender and the SOAP client sending queries and outcomes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "gateway/body_simulator.hpp"
#include "test/gateway/body_simulator_peers.hpp"
#include "test/gateway/test_support.hpp"

namespace licgate::gateway {
namespace {

using nlohmann::json;
using sim_test::FakeLicgate;
using sim_test::FakeSoapEndpoint;
using sim_test::header;
using sim_test::kLicgateRest;
using sim_test::makeOutcome;
using sim_test::makeQuery;
using sim_test::peerOptions;
using sim_test::queryMessage;
using sim_test::sendWithReplyTo;
using sim_test::Simulator;
using testing::TempDir;
using testing::waitFor;
namespace http = adapters::http;

class BodySimulator : public ::testing::Test {
 protected:
  void SetUp() override { licgate_.start(); }

  TempDir dir_;
  FakeLicgate licgate_;
  Simulator simulator_{dir_};
};

TEST_F(BodySimulator, PeerBodyAnswersWithItsConclusion) {
  simulator_.start(header(licgate_.port()) + R"(bodies:
  - id: fire
    channel: {amqp_peer: {listen: "127.0.0.1:0", address: conformity/queries}}
    verdict: conforms
    verdicts: {"KZ-APP-7": does-not-conform}
    reasons: ["premises inspected"]
    signer: "Inspector B"
)");

  auto report = sendMessages(peerOptions(simulator_.bodyPort("fire")),
                             {queryMessage(makeQuery("cq-1", "fire", "KZ-APP-1")),
                              queryMessage(makeQuery("cq-7", "fire", "KZ-APP-7"))});

  EXPECT_EQ(report.accepted, 2u) << report.transport_error;
  ASSERT_TRUE(waitFor([&] { return licgate_.count() == 2; })) << simulator_.log();
  std::map<std::string, registry::Conclusion> by_query;
  for (const auto& delivery : licgate_.conclusions()) {
    EXPECT_EQ(delivery.address, "conformity/conclusions");
    EXPECT_EQ(delivery.sender_system, "fire");
    EXPECT_EQ(delivery.content_type, "application/json");
    auto conclusion = mapping::readConclusionJson(delivery.body);
    ASSERT_TRUE(conclusion.ok()) << conclusion.error().message;
    by_query[conclusion->query_id] = *conclusion;
  }
  EXPECT_EQ(by_query["cq-1"].verdict, registry::Verdict::kConforms);
  EXPECT_EQ(by_query["cq-7"].verdict, registry::Verdict::kDoesNotConform);
  EXPECT_EQ(by_query["cq-1"].body, "fire");
  EXPECT_EQ(by_query["cq-1"].signer, "Inspector B");
  EXPECT_EQ(by_query["cq-1"].reasons, std::vector<std::string>{"premises inspected"});
  const json counters = simulator_.stop();
  EXPECT_EQ(counters["bodies"]["fire"]["queries"], 2);
  EXPECT_EQ(counters["bodies"]["fire"]["concluded"], 2);
  EXPECT_EQ(counters["bodies"]["fire"]["conclusions_accepted"], 2);
}

TEST_F(BodySimulator, RepeatedQueryIsAnsweredAgain) {
  simulator_.start(header(licgate_.port()) + R"(bodies:
  - id: fire
    channel: {amqp_peer: {listen: "127.0.0.1:0", address: conformity/queries}}
)");
  const auto query = queryMessage(makeQuery("cq-1", "fire"));

  auto first = sendMessages(peerOptions(simulator_.bodyPort("fire")), {query});
  auto second = sendMessages(peerOptions(simulator_.bodyPort("fire")), {query});

  EXPECT_EQ(first.accepted + second.accepted, 2u);
  ASSERT_TRUE(waitFor([&] { return licgate_.count() == 2; }));
  EXPECT_EQ(licgate_.conclusions()[0].body, licgate_.conclusions()[1].body);
  const json counters = simulator_.stop();
  EXPECT_EQ(counters["bodies"]["fire"]["queries"], 2);
  EXPECT_EQ(counters["bodies"]["fire"]["distinct"], 1);
  EXPECT_EQ(counters["bodies"]["fire"]["repeats"], 1);
  EXPECT_EQ(counters["bodies"]["fire"]["concluded"], 2);
}

TEST_F(BodySimulator, DownPeerReleasesUntilItIsUp) {
  simulator_.start(header(licgate_.port()) + R"(bodies:
  - id: fire
    channel: {amqp_peer: {listen: "127.0.0.1:0", address: conformity/queries}}
    down_for_ms: 1500
)");
  const auto query = queryMessage(makeQuery("cq-1", "fire"));

  auto while_down = sendMessages(peerOptions(simulator_.bodyPort("fire")), {query});
  std::this_thread::sleep_for(std::chrono::milliseconds(1600));
  auto when_up = sendMessages(peerOptions(simulator_.bodyPort("fire")), {query});

  EXPECT_EQ(while_down.released, 1u);
  EXPECT_EQ(when_up.accepted, 1u);
  ASSERT_TRUE(waitFor([&] { return licgate_.count() == 1; }));
  const json counters = simulator_.stop();
  EXPECT_EQ(counters["bodies"]["fire"]["released"], 1);
  EXPECT_EQ(counters["bodies"]["fire"]["queries"], 1);
}

TEST_F(BodySimulator, SilentBodyTakesQueriesAndNeverAnswers) {
  simulator_.start(header(licgate_.port()) + R"(bodies:
  - id: fire
    channel: {amqp_peer: {listen: "127.0.0.1:0", address: conformity/queries}}
    silent: true
)");

  auto report = sendMessages(peerOptions(simulator_.bodyPort("fire")),
                             {queryMessage(makeQuery("cq-1", "fire"))});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));

  EXPECT_EQ(report.accepted, 1u);
  EXPECT_EQ(licgate_.count(), 0u);
  const json counters = simulator_.stop();
  EXPECT_EQ(counters["bodies"]["fire"]["queries"], 1);
  EXPECT_EQ(counters["bodies"]["fire"]["concluded"], 0);
}

TEST_F(BodySimulator, MalformedQueryIsRejectedAsDecodeError) {
  simulator_.start(header(licgate_.port()) + R"(bodies:
  - id: fire
    channel: {amqp_peer: {listen: "127.0.0.1:0", address: conformity/queries}}
)");

  auto report = sendMessages(peerOptions(simulator_.bodyPort("fire")),
                             {{"q-bad", "application/json", "{\"query_id\": 1}", "bad"}});

  EXPECT_EQ(report.rejected, 1u);
  const json counters = simulator_.stop();
  EXPECT_EQ(counters["bodies"]["fire"]["malformed"], 1);
  EXPECT_EQ(counters["bodies"]["fire"]["queries"], 0);
}

TEST_F(BodySimulator, RejectedConclusionIsCountedWithItsReason) {
  simulator_.start(header(licgate_.port()) + R"(bodies:
  - id: fire
    channel: {amqp_peer: {listen: "127.0.0.1:0", address: conformity/queries}}
)");
  licgate_.rejectQuery("cq-2");

  auto report = sendMessages(
      peerOptions(simulator_.bodyPort("fire")),
      {queryMessage(makeQuery("cq-1", "fire")), queryMessage(makeQuery("cq-2", "fire"))});

  ASSERT_TRUE(waitFor([&] { return licgate_.count() == 2; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const json counters = simulator_.stop();
  EXPECT_EQ(counters["bodies"]["fire"]["conclusions_accepted"], 1);
  EXPECT_EQ(counters["bodies"]["fire"]["conclusions_rejected"], 1);
  EXPECT_EQ(counters["bodies"]["fire"]["last_rejection"],
            "amqp:precondition-failed: conflict: a different one");
}

TEST_F(BodySimulator, DelayedAnswerWaitsItsDelay) {
  simulator_.start(header(licgate_.port()) + R"(bodies:
  - id: fire
    channel: {amqp_peer: {listen: "127.0.0.1:0", address: conformity/queries}}
    delay_ms: 700
)");
  const auto sent = std::chrono::steady_clock::now();

  sendMessages(peerOptions(simulator_.bodyPort("fire")), {queryMessage(makeQuery("cq-1", "fire"))});
  ASSERT_TRUE(waitFor([&] { return licgate_.count() == 1; }));

  EXPECT_GE(std::chrono::steady_clock::now() - sent, std::chrono::milliseconds(700));
  simulator_.stop();
}

TEST_F(BodySimulator, AddressBodyAttachesToLicgateAndAnswers) {
  simulator_.start(header(licgate_.port()) + R"(bodies:
  - id: sanitary
    channel: {amqp_address: conformity/sanitary}
    verdict: does-not-conform
)");
  // The body attaches after connecting; until then the reply is unroutable.
  ASSERT_TRUE(waitFor([&] {
    sendWithReplyTo(licgate_.port(), "conformity/sanitary",
                    {mapping::writeQueryJson(makeQuery("cq-9", "sanitary"))});
    return licgate_.stats().replies_sent > 0;
  }));

  ASSERT_TRUE(waitFor([&] { return licgate_.count() >= 1; })) << simulator_.log();
  auto conclusion = mapping::readConclusionJson(licgate_.conclusions()[0].body);
  ASSERT_TRUE(conclusion.ok());
  EXPECT_EQ(conclusion->query_id, "cq-9");
  EXPECT_EQ(conclusion->body, "sanitary");
  EXPECT_EQ(conclusion->verdict, registry::Verdict::kDoesNotConform);
  EXPECT_EQ(licgate_.conclusions()[0].sender_system, "sanitary");
  const json counters = simulator_.stop();
  EXPECT_GE(counters["bodies"]["sanitary"]["queries"], 1);
}

TEST_F(BodySimulator, ReconnectsToLicgateStartedLaterAndAgain) {
  const int port = testing::pickFreePort();
  licgate_.stop();
  simulator_.start(header(port) + R"(bodies:
  - id: fire
    channel: {amqp_peer: {listen: "127.0.0.1:0", address: conformity/queries}}
)");
  sendMessages(peerOptions(simulator_.bodyPort("fire")), {queryMessage(makeQuery("cq-1", "fire"))});
  std::this_thread::sleep_for(std::chrono::milliseconds(700));

  FakeLicgate later;
  later.start(port);
  ASSERT_TRUE(waitFor([&] { return later.count() == 1; })) << simulator_.log();
  later.stop();
  FakeLicgate again;
  again.start(port);
  sendMessages(peerOptions(simulator_.bodyPort("fire")), {queryMessage(makeQuery("cq-2", "fire"))});

  ASSERT_TRUE(waitFor([&] { return again.count() == 1; })) << simulator_.log();
  EXPECT_EQ(mapping::readConclusionJson(again.conclusions()[0].body)->query_id, "cq-2");
  simulator_.stop();
}

TEST_F(BodySimulator, AddressBodyAttachesOnlyOnceUp) {
  simulator_.start(header(licgate_.port()) + R"(bodies:
  - id: sanitary
    channel: {amqp_address: conformity/sanitary}
    down_for_ms: 1500
)");
  const std::string query = mapping::writeQueryJson(makeQuery("cq-3", "sanitary"));
  std::this_thread::sleep_for(std::chrono::milliseconds(700));

  sendWithReplyTo(licgate_.port(), "conformity/sanitary", {query});
  const auto while_down = licgate_.stats();
  ASSERT_TRUE(waitFor([&] {
    sendWithReplyTo(licgate_.port(), "conformity/sanitary", {query});
    return licgate_.stats().replies_sent > 0;
  }));

  EXPECT_EQ(while_down.replies_unroutable, 1u);
  EXPECT_EQ(while_down.replies_sent, 0u);
  EXPECT_GE(while_down.connections, 1u);
  ASSERT_TRUE(waitFor([&] { return licgate_.count() >= 1; }));
  simulator_.stop();
}

TEST_F(BodySimulator, SoapFaultOnConclusionIsARejection) {
  FakeSoapEndpoint endpoint;
  endpoint.refuseWith(registry::makeError(registry::ErrorCode::kUnknownQuery, "no query cq-8"));
  endpoint.start();
  simulator_.start(header(licgate_.port(), endpoint.url()) + R"(bodies:
  - id: fire
    channel: {amqp_peer: {listen: "127.0.0.1:0", address: conformity/queries}}
    answer_over: soap
)");

  sendMessages(peerOptions(simulator_.bodyPort("fire")), {queryMessage(makeQuery("cq-8", "fire"))});
  ASSERT_TRUE(waitFor([&] { return endpoint.calls().size() == 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));

  EXPECT_EQ(endpoint.calls().size(), 1u);
  const json counters = simulator_.stop();
  EXPECT_EQ(counters["bodies"]["fire"]["conclusions_rejected"], 1);
  EXPECT_EQ(counters["bodies"]["fire"]["last_rejection"], "unknown-query: no query cq-8");
}

// licgate killed with SIGKILL while the simulator is connected, started
// again as another peer on the same port: the conclusion waiting meanwhile
// gets through. The first licgate (the real program) does not take
// conformity/conclusions, so the simulator keeps asking for the link.
TEST_F(BodySimulator, ConclusionWaitsThroughLicgateKilled) {
  const int port = testing::pickFreePort();
  testing::writeFile(dir_.file("licgate.yaml"), "store:\n  path: " + dir_.file("register.db") +
                                                    "\namqp:\n  port: " + std::to_string(port) +
                                                    "\nhttp:\n  port: 0\n" + kLicgateRest);
  testing::LicgateProcess real(LICGATE_PROGRAM, dir_.file("licgate.yaml"), dir_.path());
  real.start();
  simulator_.start(header(port) + R"(bodies:
  - id: fire
    channel: {amqp_peer: {listen: "127.0.0.1:0", address: conformity/queries}}
)");
  sendMessages(peerOptions(simulator_.bodyPort("fire")), {queryMessage(makeQuery("cq-4", "fire"))});
  std::this_thread::sleep_for(std::chrono::milliseconds(800));

  real.stop(SIGKILL);
  FakeLicgate again;
  again.start(port);

  ASSERT_TRUE(waitFor([&] { return again.count() == 1; })) << simulator_.log();
  EXPECT_EQ(mapping::readConclusionJson(again.conclusions()[0].body)->query_id, "cq-4");
  const json counters = simulator_.stop();
  EXPECT_EQ(counters["bodies"]["fire"]["concluded"], 1);
  EXPECT_EQ(counters["bodies"]["fire"]["conclusions_accepted"], 1);
}

TEST_F(BodySimulator, SoapBodyAnswersOverSoapAfterBeingDown) {
  FakeSoapEndpoint endpoint;
  endpoint.start();
  simulator_.start(header(licgate_.port(), endpoint.url()) + R"(bodies:
  - id: ecology
    channel: {soap: {listen: "127.0.0.1:0"}}
    down_for_ms: 1000
)");
  const std::string url = "http://127.0.0.1:" + std::to_string(simulator_.bodyPort("ecology"));
  const std::string envelope =
      mapping::writeQuerySoap(makeQuery("cq-5", "ecology"), mapping::SoapVersion::k11);
  http::SoapClient client;

  auto down = client.call(url, mapping::SoapVersion::k11, "", envelope);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto up = client.call(url, mapping::SoapVersion::k11, "", envelope);

  ASSERT_TRUE(down.ok() && up.ok());
  EXPECT_EQ(down->http_status, 503);
  EXPECT_EQ(up->http_status, 200);
  EXPECT_NE(up->body.find("ConformityQueryResponse"), std::string::npos);
  ASSERT_TRUE(waitFor([&] { return endpoint.calls().size() == 1; })) << simulator_.log();
  auto conclusion = mapping::readConclusionSoap(endpoint.calls()[0]);
  ASSERT_TRUE(conclusion.ok()) << conclusion.error().message;
  EXPECT_EQ(conclusion->query_id, "cq-5");
  EXPECT_EQ(conclusion->body, "ecology");
  EXPECT_EQ(conclusion->signer, "Inspector of ecology");
  const json counters = simulator_.stop();
  EXPECT_EQ(counters["bodies"]["ecology"]["released"], 1);
  EXPECT_EQ(counters["bodies"]["ecology"]["conclusions_accepted"], 1);
}

TEST_F(BodySimulator, SoapBodyMayAnswerOverAmqp) {
  simulator_.start(header(licgate_.port()) + R"(bodies:
  - id: ecology
    channel: {soap: {listen: "127.0.0.1:0"}}
    answer_over: amqp
)");
  const std::string url = "http://127.0.0.1:" + std::to_string(simulator_.bodyPort("ecology"));
  http::SoapClient client;

  auto answer =
      client.call(url, mapping::SoapVersion::k12, "",
                  mapping::writeQuerySoap(makeQuery("cq-6", "ecology"), mapping::SoapVersion::k12));

  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(answer->http_status, 200);
  ASSERT_TRUE(waitFor([&] { return licgate_.count() == 1; })) << simulator_.log();
  EXPECT_EQ(mapping::readConclusionJson(licgate_.conclusions()[0].body)->query_id, "cq-6");
  simulator_.stop();
}

TEST_F(BodySimulator, OutcomeReceiversCountOutcomes) {
  simulator_.start(header(licgate_.port()) + R"(licensors:
  - code: CZ-ERU
    channel: {amqp_peer: {listen: "127.0.0.1:0", address: conformity/outcomes}}
  - code: KZ-MIIR
    channel: {soap: {listen: "127.0.0.1:0"}}
stats_file: )" + dir_.file("stats.json") +
                   "\n");
  auto outcome = [](const std::string& application, registry::RoundOutcome round, bool tacit) {
    return OutgoingMessage{"outcome-" + application, "application/json",
                           mapping::writeOutcomeJson(makeOutcome(application, round, tacit), 300),
                           application};
  };
  http::SoapClient client;

  auto report = sendMessages(peerOptions(simulator_.licensorPort("CZ-ERU"), "conformity/outcomes"),
                             {outcome("A-1", registry::RoundOutcome::kConforms, true),
                              outcome("A-1", registry::RoundOutcome::kConforms, true),
                              outcome("A-2", registry::RoundOutcome::kIncomplete, false),
                              outcome("A-3", registry::RoundOutcome::kDoesNotConform, false)});
  auto soap = client.call(
      "http://127.0.0.1:" + std::to_string(simulator_.licensorPort("KZ-MIIR")),
      mapping::SoapVersion::k11, "",
      mapping::writeOutcomeSoap(makeOutcome("B-1", registry::RoundOutcome::kConforms, true), 300,
                                mapping::SoapVersion::k11));

  EXPECT_EQ(report.accepted, 4u);
  ASSERT_TRUE(soap.ok());
  EXPECT_EQ(soap->http_status, 200);
  EXPECT_NE(soap->body.find("ConformityOutcomeResponse"), std::string::npos);
  ASSERT_TRUE(waitFor([&] {
    auto stats = json::parse(testing::readFile(dir_.file("stats.json")), nullptr, false);
    return !stats.is_discarded() && stats["licensors"]["KZ-MIIR"]["outcomes"] == 1 &&
           stats["licensors"]["CZ-ERU"]["outcomes"] == 4;
  }));
  const json counters = simulator_.stop();
  const json& eru = counters["licensors"]["CZ-ERU"];
  EXPECT_EQ(eru["outcomes"], 4);
  EXPECT_EQ(eru["distinct"], 3);
  EXPECT_EQ(eru["conforms"], 1);
  EXPECT_EQ(eru["incomplete"], 1);
  EXPECT_EQ(eru["does_not_conform"], 1);
  EXPECT_EQ(eru["tacit"], 1);
  EXPECT_EQ(eru["expired"], 3);
  EXPECT_EQ(counters["licensors"]["KZ-MIIR"]["tacit"], 1);
  EXPECT_EQ(counters["licensors"]["KZ-MIIR"]["expired"], 1);
  EXPECT_EQ(json::parse(testing::readFile(dir_.file("stats.json"))), counters);
}

TEST(BodySimulatorConfig, UnknownKeyIsRefusedNamingItsPath) {
  TempDir dir;
  testing::writeFile(dir.file("bad.yaml"), R"(bodies:
  - id: fire
    channel: {amqp_address: conformity/fire}
    colour: red
)");

  const int code = testing::runProgram(
      {LICGATE_PROGRAM, "play-bodies", "--config", dir.file("bad.yaml")}, dir.file("out.txt"));

  EXPECT_EQ(code, 2);
  EXPECT_NE(testing::readFile(dir.file("out.txt")).find("bodies[0].colour: unknown key"),
            std::string::npos)
      << testing::readFile(dir.file("out.txt"));
}

TEST(BodySimulatorConfig, UsageErrorsAndAnUnreadableFileEndTheProgram) {
  TempDir dir;

  const int no_config =
      testing::runProgram({LICGATE_PROGRAM, "play-bodies"}, dir.file("usage.txt"));
  const int empty_config =
      testing::runProgram({LICGATE_PROGRAM, "play-bodies", "--config", ""}, dir.file("usage.txt"));
  const int missing = testing::runProgram(
      {LICGATE_PROGRAM, "play-bodies", "--config", dir.file("none.yaml")}, dir.file("out.txt"));

  EXPECT_EQ(no_config, 64);
  EXPECT_EQ(empty_config, 64);
  EXPECT_EQ(missing, 2);
  EXPECT_NE(testing::readFile(dir.file("out.txt")).find("none.yaml cannot be read"),
            std::string::npos);
}

TEST(BodySimulatorConfig, ChannelMustHaveOneKind) {
  auto config = readSimConfig(R"(bodies:
  - id: fire
    channel: {amqp_address: a, soap: {listen: "127.0.0.1:0"}}
  - id: fire
    channel: {soap: {listen: "nowhere"}}
    verdict: maybe
)",
                              "test.yaml");

  ASSERT_FALSE(config.ok());
  const std::string& message = config.error().message;
  EXPECT_NE(message.find("bodies[0].channel: must give exactly one"), std::string::npos);
  EXPECT_NE(message.find("bodies[1].channel.soap.listen"), std::string::npos);
  EXPECT_NE(message.find("bodies[1].verdict"), std::string::npos);
  EXPECT_NE(message.find("bodies[1].id: \"fire\" is given to another body"), std::string::npos);
}

TEST(BodySimulatorConfig, RefusesALicgateSoapUrlThatIsNotHttp) {
  auto config = readSimConfig(R"(licgate: {soap_url: "amqp://127.0.0.1:8080/soap/v1"}
bodies:
  - id: fire
    channel: {amqp_address: conformity/fire}
)",
                              "test.yaml");

  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("licgate.soap_url: \"amqp://127.0.0.1:8080/soap/v1\""),
            std::string::npos)
      << config.error().message;
}

// Throughput: queries to a peer body answered to licgate's side, as fast as
// both go.
TEST(BodySimulatorSlow, AnswersThousandsOfQueriesPerSecond) {
  TempDir dir;
  FakeLicgate licgate;
  licgate.start();
  Simulator simulator(dir);
  simulator.start(header(licgate.port()) + R"(bodies:
  - id: fire
    channel: {amqp_peer: {listen: "127.0.0.1:0", address: conformity/queries}}
stats_file: )" + dir.file("stats.json") +
                  "\n");
  constexpr int kQueries = 60'000;
  std::vector<OutgoingMessage> messages;
  for (int i = 0; i < kQueries; ++i) {
    messages.push_back(queryMessage(makeQuery("cq-" + std::to_string(i), "fire")));
  }
  auto options = peerOptions(simulator.bodyPort("fire"));
  options.window = 2000;
  const auto started = std::chrono::steady_clock::now();

  auto report = sendMessages(options, messages);
  ASSERT_TRUE(waitFor([&] { return licgate.count() == kQueries; }, std::chrono::seconds(60)));

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const double cpu = simulator.cpuSeconds();
  std::printf(
      "play-bodies: %d queries answered in %.2f s: %.0f queries/s; the simulator used %.2f s "
      "of CPU: %.0f queries per CPU second\n",
      kQueries, seconds, kQueries / seconds, cpu, kQueries / cpu);
  EXPECT_EQ(report.accepted, static_cast<std::uint64_t>(kQueries));
  // The last settlements may still be on their way back.
  EXPECT_TRUE(waitFor([&] {
    auto stats = json::parse(testing::readFile(dir.file("stats.json")), nullptr, false);
    return !stats.is_discarded() && stats["bodies"]["fire"]["conclusions_accepted"] == kQueries;
  }));
  simulator.stop();
}

// The same through a link the body attached to licgate's listener, the
// queries carried by the intake's outcome messages (see FakeLicgate).
TEST(BodySimulatorSlow, AnswersThousandsOfQueriesPerSecondOnAnAttachedLink) {
  TempDir dir;
  FakeLicgate licgate;
  licgate.start();
  Simulator simulator(dir);
  simulator.start(header(licgate.port()) + R"(bodies:
  - id: sanitary
    channel: {amqp_address: conformity/sanitary}
stats_file: )" + dir.file("stats.json") +
                  "\n");
  ASSERT_TRUE(waitFor([&] {
    sendWithReplyTo(licgate.port(), "conformity/sanitary",
                    {mapping::writeQueryJson(makeQuery("cq-warm", "sanitary"))});
    return licgate.count() > 0;
  }));
  const std::size_t warm = licgate.count();
  const std::uint64_t dropped_before = licgate.stats().replies_unroutable;
  constexpr int kQueries = 60'000;
  std::vector<std::string> queries;
  for (int i = 0; i < kQueries; ++i) {
    queries.push_back(mapping::writeQueryJson(makeQuery("cq-" + std::to_string(i), "sanitary")));
  }
  const auto started = std::chrono::steady_clock::now();

  // The intake drops an outcome message when 1024 wait on the reply link
  // (docs/amqp.md): with every process on two cores, the simulator may fall
  // that far behind for a moment. Those queries never reach it; every one
  // that does must be answered.
  sendWithReplyTo(licgate.port(), "conformity/sanitary", std::move(queries));
  auto dropped = [&] { return licgate.stats().replies_unroutable - dropped_before; };
  ASSERT_TRUE(waitFor([&] { return licgate.count() - warm + dropped() >= kQueries; },
                      std::chrono::seconds(60)))
      << "conclusions: " << licgate.count() - warm << ", dropped: " << dropped();

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const auto answered = static_cast<double>(licgate.count() - warm);
  const double cpu = simulator.cpuSeconds();
  std::printf(
      "play-bodies (attached link): %.0f queries answered in %.2f s: %.0f queries/s (%llu "
      "dropped by the intake); the simulator used %.2f s of CPU: %.0f queries per CPU second\n",
      answered, seconds, answered / seconds, static_cast<unsigned long long>(dropped()), cpu,
      answered / cpu);
  EXPECT_TRUE(waitFor([&] {
    auto stats = json::parse(testing::readFile(dir.file("stats.json")), nullptr, false);
    return !stats.is_discarded() && stats["bodies"]["sanitary"]["conclusions_accepted"] ==
                                        stats["bodies"]["sanitary"]["queries"];
  }));
  simulator.stop();
}

}  // namespace
}  // namespace licgate::gateway
