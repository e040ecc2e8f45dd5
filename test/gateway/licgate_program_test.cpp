// End-to-end tests of the licgate program: the real binary started as a
// child process with its own redis-server, fed by the Proton sender over
// loopback AMQP, read back over HTTP and from its SQLite file.
//
// Suites named *Slow send thousands of messages or kill processes and are
// labelled slow (test/CMakeLists.txt).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "gateway/amqp_sender.hpp"
#include "registry/event_codec.hpp"
#include "registry/store.hpp"
#include "test/gateway/fake_shep_gateway.hpp"
#include "test/gateway/gateway_samples.hpp"
#include "test/gateway/test_support.hpp"

namespace licgate::gateway {
namespace {

using nlohmann::json;
using registry::EventType;
using registry::LicenceStatus;
using testing::TempDir;

// Writes a configuration for a fresh register in `dir`; redis_port 0 leaves
// Redis out. `extra`: more top-level sections.
std::string writeConfig(const TempDir& dir, int redis_port, const std::string& extra = "") {
  std::string text = "store:\n  path: register.db\n  synchronous: normal\n  busy_timeout_ms: 200\n";
  if (redis_port != 0) {
    text += "redis:\n  port: " + std::to_string(redis_port) +
            "\n  timeout_ms: 200\n  retry_after_ms: 200\n";
  }
  text += R"(amqp:
  port: 0
  max_batch: 128
http:
  port: 0
licensors:
  - code: CZ-ERU
    name: Energetický regulační úřad
  - code: KZ-MIIR
    name: Ministry of Industry
systems:
  - id: eru-export
    name: ERU export
    licensors: [CZ-ERU]
  - id: portal
    name: Portal
    licensors: ["*"]
log:
  level: info
  format: json
)" + extra;
  const std::string path = dir.file("licgate.yaml");
  testing::writeFile(path, text);
  return path;
}

OutgoingMessage xmlMessage(const std::string& id, const registry::Event& event) {
  return {id, "application/xml", mapping::writeEventXml(event), id};
}

OutgoingMessage jsonMessage(const std::string& id, const registry::Event& event) {
  return {id, "application/json", registry::encodeEvent(event), id};
}

std::string legacyNumber(int i) {
  char text[16];
  std::snprintf(text, sizeof text, "T-%06d", i);
  return text;
}

// A stream of licence events for CZ-ERU with a known end state: imports,
// then suspensions, resumptions, terminations and copies, with invalid
// messages of five kinds among them. `expected` gets the outcome each
// message must have.
struct Plan {
  std::vector<OutgoingMessage> messages;
  std::vector<std::string> expected;  // "applied" or the error code name
  std::map<std::string, LicenceStatus> statuses;
  int applied = 0;
  int rejected = 0;

  void add(OutgoingMessage message, std::string outcome) {
    applied += outcome == "applied" ? 1 : 0;
    rejected += outcome == "applied" ? 0 : 1;
    messages.push_back(std::move(message));
    expected.push_back(std::move(outcome));
  }
};

Plan planStream(int licences, const std::string& prefix) {
  Plan plan;
  auto id = [&](const std::string& kind, int i) { return prefix + kind + "-" + std::to_string(i); };
  for (int i = 0; i < licences; ++i) {
    auto event = testing::importEvent(legacyNumber(i));
    plan.add(i % 2 == 0 ? xmlMessage(id("import", i), event) : jsonMessage(id("import", i), event),
             "applied");
    plan.statuses[legacyNumber(i)] = LicenceStatus::kActive;
  }
  for (int i = 0; i < licences; ++i) {
    const std::string number = legacyNumber(i);
    if (i % 4 == 1) {
      plan.add(xmlMessage(id("suspend", i), testing::licenceEvent(EventType::kSuspend, number)),
               "applied");
      plan.statuses[number] = LicenceStatus::kSuspended;
    } else if (i % 4 == 2) {
      plan.add(xmlMessage(id("terminate", i), testing::licenceEvent(EventType::kTerminate, number)),
               "applied");
      plan.statuses[number] = LicenceStatus::kTerminated;
    } else if (i % 20 == 3) {
      plan.add(xmlMessage(id("copy", i), testing::licenceEvent(EventType::kDuplicate, number)),
               "applied");
    } else if (i % 8 == 0) {
      plan.add(
          xmlMessage(id("resume-active", i), testing::licenceEvent(EventType::kResume, number)),
          "illegal-transition");
    }
  }
  for (int i = 1; i < licences; i += 8) {
    plan.add(
        xmlMessage(id("resume", i), testing::licenceEvent(EventType::kResume, legacyNumber(i))),
        "applied");
    plan.statuses[legacyNumber(i)] = LicenceStatus::kActive;
  }
  return plan;
}

// Invalid messages of four more kinds, `each` of every kind.
void addInvalid(Plan& plan, int each, const std::string& prefix) {
  for (int i = 0; i < each; ++i) {
    const std::string n = std::to_string(i);
    plan.add(xmlMessage(prefix + "unknown-" + n,
                        testing::licenceEvent(EventType::kSuspend, "NOT-HELD-" + n)),
             "unknown-licence");
    OutgoingMessage broken = xmlMessage(prefix + "malformed-" + n, testing::importEvent("X"));
    broken.body = broken.body.substr(0, broken.body.size() / 2);
    plan.add(broken, "malformed");
    auto bad_id = testing::importEvent("BAD-" + n);
    bad_id.holder->id->value = "00637077";
    plan.add(xmlMessage(prefix + "check-digit-" + n, bad_id), "invalid-field");
    auto foreign = testing::importEvent("KZ-" + n);
    foreign.licensor = testing::kKzLicensor;
    plan.add(xmlMessage(prefix + "foreign-" + n, foreign), "not-authorised");
  }
}

SendOptions senderTo(int port, const std::string& system) {
  SendOptions options;
  options.port = port;
  options.system = system;
  options.idle_timeout = std::chrono::seconds(60);
  return options;
}

// Every message ended as planned: accepted with "applied", or rejected
// with the planned error code.
void expectOutcomes(const Plan& plan, const SendReport& report) {
  ASSERT_EQ(report.results.size(), plan.messages.size());
  int mismatches = 0;
  for (std::size_t i = 0; i < plan.messages.size() && mismatches < 5; ++i) {
    const MessageResult& result = report.results[i];
    const std::string got = result.outcome == "rejected" ? result.error_code : result.outcome;
    if (got != plan.expected[i]) {
      ADD_FAILURE() << plan.messages[i].message_id << ": expected " << plan.expected[i] << ", got "
                    << got << " (" << result.description << ")";
      mismatches += 1;
    }
  }
}

std::unique_ptr<registry::Store> openStore(const TempDir& dir) {
  registry::StoreOptions options;
  options.path = dir.file("register.db");
  auto store = registry::openSqliteStore(options);
  if (!store.ok()) {
    ADD_FAILURE() << store.error().message;
    return nullptr;
  }
  return std::move(*store);
}

// The status of every licence of `licensor` in the register.
std::map<std::string, LicenceStatus> registerStatuses(registry::Store& store,
                                                      const std::string& licensor) {
  std::map<std::string, LicenceStatus> statuses;
  registry::LicenceQuery query;
  query.licensor = licensor;
  query.limit = 1000;
  while (true) {
    auto page = store.searchLicences(query);
    if (!page.ok()) {
      ADD_FAILURE() << page.error().message;
      return statuses;
    }
    for (const auto& licence : page->licences) {
      statuses[licence.number] = licence.status;
    }
    if (page->next_after.empty()) {
      return statuses;
    }
    query.after_number = page->next_after;
  }
}

json getJson(int port, const std::string& target, int expected_status = 200) {
  auto reply = testing::httpGet(port, target);
  EXPECT_EQ(reply.status, expected_status) << target << ": " << reply.body;
  return json::parse(reply.body, nullptr, false);
}

class LicgateProgram : public ::testing::Test {
 protected:
  void startWithRedis() {
    redis_ = std::make_unique<testing::RedisServer>(dir_.path());
    redis_->start();
    start(redis_->port());
  }

  void start(int redis_port, const std::string& extra = "") {
    config_path_ = writeConfig(dir_, redis_port, extra);
    licgate_ =
        std::make_unique<testing::LicgateProcess>(LICGATE_PROGRAM, config_path_, dir_.path());
    licgate_->start();
  }

  TempDir dir_;
  std::string config_path_;
  std::unique_ptr<testing::RedisServer> redis_;
  std::unique_ptr<testing::LicgateProcess> licgate_;
};

TEST_F(LicgateProgram, ServesLicencesOverHttpAfterAmqpIntake) {
  startWithRedis();
  std::vector<OutgoingMessage> messages = {
      xmlMessage("m-1", testing::importEvent("310100016")),
      xmlMessage("m-2", testing::licenceEvent(EventType::kSuspend, "310100016"))};

  SendReport report = sendMessages(senderTo(licgate_->amqpPort(), "eru-export"), messages);
  json licence = getJson(licgate_->httpPort(), "/api/v1/licences/310100016");
  auto missing = testing::httpGet(licgate_->httpPort(), "/api/v1/licences/310199999");

  EXPECT_EQ(report.accepted, 2u);
  EXPECT_EQ(report.applied, 2u);
  EXPECT_NE(licence.dump().find("Obec Velký Karlov"), std::string::npos);
  EXPECT_NE(licence.dump().find("suspended"), std::string::npos);
  EXPECT_EQ(missing.status, 404);
}

TEST_F(LicgateProgram, AnswersSoapCallsOnItsHttpPort) {
  startWithRedis();
  sendMessages(senderTo(licgate_->amqpPort(), "eru-export"),
               {xmlMessage("m-1", testing::importEvent("310100016"))});
  const std::string call =
      "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>"
      "<GetLicence xmlns=\"urn:licgate:soap:1\"><number>310100016</number></GetLicence>"
      "</s:Body></s:Envelope>";

  auto reply = testing::httpRequest(
      licgate_->httpPort(), "POST", "/soap/v1",
      {"Content-Type: text/xml; charset=utf-8", "SOAPAction: \"urn:licgate:soap:1#GetLicence\""},
      call);
  auto wsdl = testing::httpGet(licgate_->httpPort(), "/soap/v1?wsdl");

  EXPECT_EQ(reply.status, 200) << reply.body;
  EXPECT_NE(reply.body.find("<lg:found>true</lg:found>"), std::string::npos) << reply.body;
  EXPECT_NE(reply.body.find("Obec Velký Karlov"), std::string::npos);
  EXPECT_EQ(wsdl.status, 200);
  EXPECT_NE(wsdl.body.find("location=\"http://127.0.0.1/soap/v1\""), std::string::npos);
}

// The npm soap package builds its client from the WSDL licgate serves and
// calls every operation (test/interop/npm-soap; scripts/test installs it).
TEST_F(LicgateProgram, NpmSoapClientCallsEveryOperation) {
  const std::string interop = LICGATE_SOURCE_DIR "/test/interop/npm-soap";
  ASSERT_TRUE(std::filesystem::exists(interop + "/node_modules/soap"))
      << "the npm soap package is not installed in " << interop << "; scripts/test installs it";
  startWithRedis();
  sendMessages(senderTo(licgate_->amqpPort(), "eru-export"),
               {xmlMessage("m-1", testing::importEvent("310100016")),
                xmlMessage("m-2", testing::importEvent("310100017"))});
  const std::string wsdl =
      "http://127.0.0.1:" + std::to_string(licgate_->httpPort()) + "/soap/v1?wsdl";

  int code = testing::runProgram(
      {"node", interop + "/client.js", wsdl, "310100016", dir_.file("answers.json")},
      dir_.file("node.txt"));

  ASSERT_EQ(code, 0) << testing::readFile(dir_.file("node.txt"));
  json answers = json::parse(testing::readFile(dir_.file("answers.json")));
  EXPECT_EQ(answers["getLicence"]["found"], true);
  EXPECT_EQ(answers["getLicence"]["licence"]["holder"]["name"], "Obec Velký Karlov");
  EXPECT_EQ(answers["getUnknownLicence"]["found"], false);
  EXPECT_EQ(answers["findLicences"]["licence"].size(), 2u);
  EXPECT_EQ(answers["getChanges"]["change"][0]["licenceEvent"]["type"], "import");
  EXPECT_EQ(answers["getChanges"]["nextAfter"], "1");
  EXPECT_EQ(answers["submit"]["outcome"], "applied");
  EXPECT_EQ(answers["submitAgain"]["outcome"], "duplicate");
  EXPECT_EQ(answers["badLimit"]["fault"]["code"], "soap:Client");
  EXPECT_EQ(answers["badLimit"]["fault"]["licgateCode"], "invalid-field");
  EXPECT_EQ(getJson(licgate_->httpPort(), "/api/v1/licences/310100016")["status"], "suspended");
}

// Redis remembers what one register applied; a fresh register behind the
// same Redis must not be answered for with it.
TEST_F(LicgateProgram, FreshRegisterBehindAUsedRedisAppliesEverything) {
  startWithRedis();
  std::vector<OutgoingMessage> messages = {xmlMessage("m-1", testing::importEvent("310100016"))};
  ASSERT_EQ(sendMessages(senderTo(licgate_->amqpPort(), "eru-export"), messages).applied, 1u);
  licgate_->stop();
  TempDir fresh;
  testing::LicgateProcess second(LICGATE_PROGRAM, writeConfig(fresh, redis_->port()), fresh.path());
  second.start();

  SendReport report = sendMessages(senderTo(second.amqpPort(), "eru-export"), messages);

  EXPECT_EQ(report.applied, 1u);
  EXPECT_EQ(report.duplicate, 0u);
  EXPECT_EQ(testing::httpGet(second.httpPort(), "/api/v1/licences/310100016").status, 200);
}

// A register put back from a copy older than what Redis remembers applies
// again what the copy does not hold.
TEST_F(LicgateProgram, RegisterRestoredFromAnOlderCopyAppliesWhatTheCopyLacks) {
  startWithRedis();
  auto sender = senderTo(licgate_->amqpPort(), "eru-export");
  ASSERT_EQ(sendMessages(sender, {xmlMessage("m-1", testing::importEvent("310100016"))}).applied,
            1u);
  licgate_->stop();
  std::filesystem::copy_file(dir_.file("register.db"), dir_.file("backup.db"));
  licgate_->start();
  std::vector<OutgoingMessage> later = {xmlMessage("m-2", testing::importEvent("310100017"))};
  ASSERT_EQ(sendMessages(senderTo(licgate_->amqpPort(), "eru-export"), later).applied, 1u);
  licgate_->stop();
  std::filesystem::remove(dir_.file("register.db-wal"));
  std::filesystem::remove(dir_.file("register.db-shm"));
  std::filesystem::copy_file(dir_.file("backup.db"), dir_.file("register.db"),
                             std::filesystem::copy_options::overwrite_existing);
  licgate_->start();

  SendReport report = sendMessages(senderTo(licgate_->amqpPort(), "eru-export"), later);

  EXPECT_EQ(report.applied, 1u);
  EXPECT_EQ(testing::httpGet(licgate_->httpPort(), "/api/v1/licences/310100017").status, 200);
}

// A C++ client that gSOAP generated from licgate's WSDL at build time calls
// every operation (test/interop/gsoap/client.cpp).
TEST_F(LicgateProgram, GsoapClientCallsEveryOperation) {
  startWithRedis();
  sendMessages(senderTo(licgate_->amqpPort(), "eru-export"),
               {xmlMessage("m-1", testing::importEvent("310100016")),
                xmlMessage("m-2", testing::importEvent("310100017"))});
  const std::string url = "http://127.0.0.1:" + std::to_string(licgate_->httpPort()) + "/soap/v1";

  int code = testing::runProgram({GSOAP_CLIENT, url, "310100016", dir_.file("answers.txt")},
                                 dir_.file("gsoap.txt"));

  ASSERT_EQ(code, 0) << testing::readFile(dir_.file("gsoap.txt"));
  const std::string answers = testing::readFile(dir_.file("answers.txt"));
  for (const char* line :
       {"getLicence.found=true\n", "getLicence.holder=Obec Velký Karlov\n",
        "getUnknown.found=false\n", "findLicences.count=2\n", "getChanges.count=1\n",
        "getChanges.licensor=CZ-ERU\n", "submit.applied=true\n", "badLimit.fault=true\n",
        "badLimit.text=FindLicences: <limit> \"0\" is not a whole number in 1..1000\n"}) {
    EXPECT_NE(answers.find(line), std::string::npos) << line << "\n" << answers;
  }
  EXPECT_EQ(getJson(licgate_->httpPort(), "/api/v1/licences/310100016")["status"], "suspended");
}

TEST_F(LicgateProgram, StopsCleanlyOnSigterm) {
  startWithRedis();

  int status = licgate_->stop(SIGTERM);

  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_NE(licgate_->log().find("\"message\":\"stopped\""), std::string::npos) << licgate_->log();
}

TEST_F(LicgateProgram, LogsTheBoundPortsAsJson) {
  startWithRedis();

  const std::string log = licgate_->log();

  EXPECT_NE(log.find("\"level\":\"info\",\"logger\":\"gateway\",\"message\":\"listening: "
                     "amqp://127.0.0.1:" +
                     std::to_string(licgate_->amqpPort()) +
                     " and http://127.0.0.1:" + std::to_string(licgate_->httpPort()) + "\""),
            std::string::npos)
      << log;
}

TEST_F(LicgateProgram, CheckConfigNamesTheBadKey) {
  testing::writeFile(dir_.file("bad.yaml"), "amqp:\n  port: 70000\n");

  int code = testing::runProgram({LICGATE_PROGRAM, "check-config", dir_.file("bad.yaml")},
                                 dir_.file("out.txt"));

  EXPECT_EQ(code, 1);
  EXPECT_NE(testing::readFile(dir_.file("out.txt")).find("amqp.port: 70000 is not a port"),
            std::string::npos);
}

TEST_F(LicgateProgram, CheckConfigRefusesADirectory) {
  int code = testing::runProgram({LICGATE_PROGRAM, "check-config", dir_.path().string()},
                                 dir_.file("out.txt"));

  EXPECT_EQ(code, 1);
  EXPECT_EQ(testing::readFile(dir_.file("out.txt")),
            "configuration file " + dir_.path().string() + " cannot be read: it is a directory\n");
}

TEST_F(LicgateProgram, RefusesToServeWithABadConfiguration) {
  testing::writeFile(dir_.file("bad.yaml"), "store:\n  path: x.db\n");

  int code = testing::runProgram({LICGATE_PROGRAM, "serve", "--config", dir_.file("bad.yaml")},
                                 dir_.file("out.txt"));

  EXPECT_EQ(code, 2);
  EXPECT_NE(testing::readFile(dir_.file("out.txt")).find("licensors: needs a list"),
            std::string::npos);
}

TEST_F(LicgateProgram, SendCommandRecognisesAFileSentTwice) {
  startWithRedis();
  testing::writeFile(dir_.file("event.xml"),
                     mapping::writeEventXml(testing::importEvent("310100016")));
  const std::vector<std::string> send = {LICGATE_PROGRAM,
                                         "send",
                                         "--url",
                                         "amqp://127.0.0.1:" + std::to_string(licgate_->amqpPort()),
                                         "--system",
                                         "eru-export",
                                         "--format",
                                         "xml",
                                         dir_.file("event.xml")};

  int first = testing::runProgram(send, dir_.file("first.txt"));
  int again = testing::runProgram(send, dir_.file("again.txt"));

  EXPECT_EQ(first, 0);
  EXPECT_EQ(again, 0);
  EXPECT_NE(testing::readFile(dir_.file("first.txt")).find("accepted=1 "), std::string::npos);
  EXPECT_NE(testing::readFile(dir_.file("first.txt")).find("applied=1 "), std::string::npos);
  EXPECT_NE(testing::readFile(dir_.file("again.txt")).find("duplicate=1 "), std::string::npos)
      << testing::readFile(dir_.file("again.txt"));
}

TEST_F(LicgateProgram, SendRefusesAnEmptySystemWithoutSending) {
  start(0);
  testing::writeFile(dir_.file("event.xml"),
                     mapping::writeEventXml(testing::importEvent("310100016")));

  int code = testing::runProgram(
      {LICGATE_PROGRAM, "send", "--url", "amqp://127.0.0.1:" + std::to_string(licgate_->amqpPort()),
       "--system", "", "--format", "xml", dir_.file("event.xml")},
      dir_.file("out.txt"));
  json stats = getJson(licgate_->httpPort(), "/api/v1/stats");

  EXPECT_EQ(code, 64);
  EXPECT_EQ(testing::readFile(dir_.file("out.txt")),
            "--system: is empty\nRun with --help for more information.\n");
  EXPECT_EQ(stats["amqp"]["received"], 0);
  EXPECT_EQ(stats["register"]["deadLetters"], 0);
}

TEST_F(LicgateProgram, ExitsWithTheUsageCodeOnEveryUsageError) {
  const std::vector<std::vector<std::string>> usage_errors = {
      {},
      {"send", "--system", "eru-export", "--format", "xml", "--colour", "x.xml"},
      {"send", "--format", "xml", "x.xml"},
      {"send", "--system", "eru-export", "--format", "xml", "--window", "0", "x.xml"},
      {"send", "--system", "eru-export", "--format", "csv", "x.xml"},
      {"send", "--system", "eru-export", "--format", "xml", "--url", "http://x", "x.xml"},
      {"send", "--system", "eru-export", "--format", "xml", ""},
      {"serve", "--config", ""},
      {"check-config"},
  };

  std::vector<int> codes;
  for (const auto& arguments : usage_errors) {
    std::vector<std::string> argv = {LICGATE_PROGRAM};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    codes.push_back(testing::runProgram(argv, dir_.file("out.txt")));
  }

  EXPECT_EQ(codes, std::vector<int>(usage_errors.size(), 64));
}

TEST_F(LicgateProgram, ExitsWithZeroOnHelpAndVersion) {
  int help = testing::runProgram({LICGATE_PROGRAM, "send", "--help"}, dir_.file("help.txt"));
  int version = testing::runProgram({LICGATE_PROGRAM, "--version"}, dir_.file("version.txt"));

  EXPECT_EQ(help, 0);
  EXPECT_EQ(version, 0);
  EXPECT_EQ(testing::readFile(dir_.file("version.txt")), "0.1.0\n");
}

TEST_F(LicgateProgram, ResendsReleasedMessagesUntilTheStoreCommits) {
  startWithRedis();
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(dir_.file("register.db").c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  std::thread unlock([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  });

  SendReport report = sendMessages(senderTo(licgate_->amqpPort(), "eru-export"),
                                   {xmlMessage("m-1", testing::importEvent("310100016"))});
  unlock.join();
  sqlite3_close(other);
  json stats = getJson(licgate_->httpPort(), "/api/v1/stats");

  EXPECT_EQ(report.applied, 1u);
  EXPECT_GT(report.resent, 0u);
  EXPECT_GT(stats["intake"]["released"].get<int>(), 0);
}

TEST_F(LicgateProgram, ReportsRedisDegradedWhenRedisDies) {
  startWithRedis();
  ASSERT_EQ(getJson(licgate_->httpPort(), "/readyz").at("redis"), "up");

  redis_->stop();
  json ready = getJson(licgate_->httpPort(), "/readyz");
  SendReport report = sendMessages(senderTo(licgate_->amqpPort(), "eru-export"),
                                   {xmlMessage("m-1", testing::importEvent("310100016"))});
  auto metrics = testing::httpGet(licgate_->httpPort(), "/metrics");

  EXPECT_EQ(ready.at("status"), "ready");
  EXPECT_EQ(ready.at("redis"), "degraded");
  EXPECT_EQ(report.applied, 1u);
  EXPECT_NE(metrics.body.find("licgate_redis_degraded 1\n"), std::string::npos);
}

// A read asked on the e-government gateway's asynchronous channel is
// answered through the gateway, by the real program; the answer queued in
// Redis survives licgate being killed while the gateway is down.
TEST_F(LicgateProgram, AnswersThroughTheGatewayAfterBeingKilledWhileItWasDown) {
  testing::FakeShepGateway gateway;
  ASSERT_TRUE(gateway.start());
  gateway.setDown(true);
  redis_ = std::make_unique<testing::RedisServer>(dir_.path());
  redis_->start();
  start(redis_->port(),
        "shep:\n  services:\n    LICGATE_GET_LICENCE: GetLicence\n"
        "  async_url: " +
            gateway.url() +
            "\n  sender_id: LICGATE\n  send_backoff_ms: 50\n"
            "  send_backoff_max_ms: 100\n  send_attempts: 100\n"
            // A send cut by the kill holds its message for its lease,
            // twice this and a second: well inside the wait below.
            "  send_timeout_ms: 1000\n");
  sendMessages(senderTo(licgate_->amqpPort(), "eru-export"),
               {xmlMessage("m-1", testing::importEvent("310100016"))});
  const std::string request =
      "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>"
      "<a:sendMessage xmlns:a=\"http://bip.bee.kz/AsyncChannel/v10/Types\"><request><messageInfo>"
      "<messageId>gw-in-1</messageId><serviceId>LICGATE_GET_LICENCE</serviceId>"
      "<messageType>REQUEST</messageType><messageDate>2026-12-04T10:00:00Z</messageDate>"
      "<sender><senderId>tax</senderId></sender></messageInfo><messageData><data>"
      "<GetLicence xmlns=\"urn:licgate:soap:1\"><number>310100016</number></GetLicence>"
      "</data></messageData></request></a:sendMessage></s:Body></s:Envelope>";

  auto ack =
      testing::httpRequest(licgate_->httpPort(), "POST", "/soap/v1",
                           {"Content-Type: text/xml; charset=utf-8", "SOAPAction: \"\""}, request);
  ASSERT_EQ(ack.status, 200) << ack.body;
  ASSERT_TRUE(testing::waitFor([&] { return gateway.calls().size() >= 2; }));
  licgate_->stop(SIGKILL);
  const std::size_t calls_while_down = gateway.calls().size();
  gateway.setDown(false);
  licgate_->start();

  ASSERT_TRUE(testing::waitFor(
      [&] { return getJson(licgate_->httpPort(), "/api/v1/stats")["shep"]["sent"] == 1; }));
  json stats = getJson(licgate_->httpPort(), "/api/v1/stats");
  const auto calls = gateway.calls();
  EXPECT_EQ(calls.size(), calls_while_down + 1);
  EXPECT_NE(calls.back().body.find("<correlationId>gw-in-1</correlationId>"), std::string::npos)
      << calls.back().body;
  EXPECT_NE(calls.back().body.find("<lg:number>310100016</lg:number>"), std::string::npos);
  EXPECT_EQ(stats["shep"]["outbox"], 0);
}

class LicgateProgramSlow : public LicgateProgram {
 protected:
  // Waits until the register's journal has reached `sequence`.
  bool waitForSequence(std::uint64_t sequence) {
    return testing::waitFor(
        [&] {
          auto reply = testing::httpGet(licgate_->httpPort(), "/api/v1/stats");
          auto stats = json::parse(reply.body, nullptr, false);
          return reply.status == 200 &&
                 stats["register"]["lastSequence"].get<std::uint64_t>() >= sequence;
        },
        std::chrono::seconds(60));
  }

  // Every journal entry's message id, checking that none appears twice.
  std::set<std::string> journalMessageIds(registry::Store& store) {
    std::set<std::string> ids;
    std::uint64_t after = 0;
    while (true) {
      auto entries = store.changesAfter(after, 1000);
      if (!entries.ok() || entries->empty()) {
        return ids;
      }
      for (const auto& entry : *entries) {
        EXPECT_TRUE(ids.insert(entry.message_id).second) << entry.message_id << " applied twice";
        after = entry.sequence;
      }
    }
  }
};

// 10,000 messages: 8,000 events of one system with invalid ones among them,
// 1,000 issues from another system on a second connection at the same time,
// and 1,000 sent again. The register must hold exactly the planned state.
TEST_F(LicgateProgramSlow, AppliesTenThousandMessagesExactly) {
  startWithRedis();
  Plan plan = planStream(4000, "s-");
  addInvalid(plan, 200, "s-");
  std::vector<OutgoingMessage> issues;
  for (int i = 0; i < 1000; ++i) {
    issues.push_back(xmlMessage("issue-" + std::to_string(i), testing::issueEvent()));
  }
  Plan resend;
  for (int i = 0; i < 800; ++i) {
    resend.add(plan.messages[static_cast<std::size_t>(i)], "duplicate");
  }
  for (std::size_t i = 0; i < plan.messages.size(); ++i) {
    if (plan.expected[i] == "malformed") {
      resend.add(plan.messages[i], "malformed");
    }
  }
  ASSERT_EQ(plan.messages.size() + issues.size() + resend.messages.size(), 10'000u);

  SendReport issued;
  std::thread portal(
      [&] { issued = sendMessages(senderTo(licgate_->amqpPort(), "portal"), issues); });
  SendReport stream = sendMessages(senderTo(licgate_->amqpPort(), "eru-export"), plan.messages);
  portal.join();
  SendReport again = sendMessages(senderTo(licgate_->amqpPort(), "eru-export"), resend.messages);
  json stats = getJson(licgate_->httpPort(), "/api/v1/stats");
  licgate_->stop(SIGTERM);
  auto store = openStore(dir_);
  ASSERT_NE(store, nullptr);

  expectOutcomes(plan, stream);
  expectOutcomes(resend, again);
  EXPECT_EQ(stream.accepted, static_cast<std::uint64_t>(plan.applied));
  EXPECT_EQ(stream.rejected, static_cast<std::uint64_t>(plan.rejected));
  EXPECT_EQ(issued.applied, 1000u);
  std::set<std::string> numbers;
  for (const auto& result : issued.results) {
    EXPECT_EQ(result.licence_number.size(), 8u) << result.licence_number;
    numbers.insert(result.licence_number);
  }
  EXPECT_EQ(numbers.size(), 1000u);
  EXPECT_EQ(registerStatuses(*store, testing::kCzLicensor), plan.statuses);
  EXPECT_EQ(registerStatuses(*store, testing::kKzLicensor).size(), 1000u);
  auto counts = store->counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->last_sequence, static_cast<std::uint64_t>(plan.applied + 1000));
  EXPECT_EQ(counts->dead_letters, static_cast<std::uint64_t>(plan.rejected));
  EXPECT_EQ(journalMessageIds(*store).size(), counts->last_sequence);
  EXPECT_EQ(stats["intake"]["applied"], plan.applied + 1000);
  EXPECT_EQ(stats["intake"]["duplicate"], 800);
  EXPECT_EQ(stats["intake"]["rejected"], plan.rejected + 200);
  EXPECT_EQ(stats["intake"]["rejectedByReason"]["not-authorised"], 200);
}

// SIGKILL in the middle of a stream, a restart on the same files, and every
// message not settled sent again: nothing lost, nothing applied twice.
TEST_F(LicgateProgramSlow, LosesNothingWhenKilledMidStream) {
  startWithRedis();
  Plan plan = planStream(2000, "k-");
  SendReport first;
  std::thread sender(
      [&] { first = sendMessages(senderTo(licgate_->amqpPort(), "eru-export"), plan.messages); });
  ASSERT_TRUE(waitForSequence(500));
  licgate_->stop(SIGKILL);
  sender.join();
  licgate_->start();
  std::vector<std::size_t> unsettled;
  std::vector<OutgoingMessage> resend;
  for (std::size_t i = 0; i < plan.messages.size(); ++i) {
    const Settlement settlement = first.results[i].settlement;
    if (settlement != Settlement::kAccepted && settlement != Settlement::kRejected) {
      unsettled.push_back(i);
      resend.push_back(plan.messages[i]);
    }
  }

  SendReport second = sendMessages(senderTo(licgate_->amqpPort(), "eru-export"), resend);
  licgate_->stop(SIGTERM);
  auto store = openStore(dir_);
  ASSERT_NE(store, nullptr);

  EXPECT_FALSE(first.transport_error.empty());
  EXPECT_GT(unsettled.size(), 0u);
  EXPECT_EQ(second.unsettled + second.released, 0u);
  for (std::size_t k = 0; k < unsettled.size(); ++k) {
    const MessageResult& result = second.results[k];
    const std::string& expected = plan.expected[unsettled[k]];
    if (expected == "applied") {
      EXPECT_TRUE(result.outcome == "applied" || result.outcome == "duplicate") << result.outcome;
    } else {
      EXPECT_EQ(result.error_code, expected);
    }
  }
  EXPECT_EQ(registerStatuses(*store, testing::kCzLicensor), plan.statuses);
  auto counts = store->counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->last_sequence, static_cast<std::uint64_t>(plan.applied));
  EXPECT_EQ(journalMessageIds(*store).size(), static_cast<std::size_t>(plan.applied));
}

// Redis killed while a stream flows: the intake goes on with the store's
// check alone and decides every message as planned.
TEST_F(LicgateProgramSlow, KeepsTakingEventsWhenRedisDiesMidStream) {
  startWithRedis();
  Plan plan = planStream(2000, "r-");
  SendReport report;
  std::thread sender(
      [&] { report = sendMessages(senderTo(licgate_->amqpPort(), "eru-export"), plan.messages); });
  ASSERT_TRUE(waitForSequence(500));
  redis_->stop();
  sender.join();
  std::vector<OutgoingMessage> first_imports(plan.messages.begin(), plan.messages.begin() + 500);

  SendReport again = sendMessages(senderTo(licgate_->amqpPort(), "eru-export"), first_imports);
  json ready = getJson(licgate_->httpPort(), "/readyz");

  expectOutcomes(plan, report);
  EXPECT_EQ(again.duplicate, 500u);
  EXPECT_EQ(ready.at("redis"), "degraded");
  EXPECT_EQ(ready.at("status"), "ready");
}

}  // namespace
}  // namespace licgate::gateway
