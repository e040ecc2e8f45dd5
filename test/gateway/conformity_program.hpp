// The real parts of the conformity flow on loopback, for the program-level
// tests (test/gateway/conformity_program_test.cpp): a redis-server with AOF,
// one or two `licgate serve` processes on one register file, and the
// `licgate play-bodies` program as the bodies and the licensor's outcome
// receiver. Every child is stopped by a destructor, so a failing assertion
// leaves nothing running.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gateway/amqp_sender.hpp"
#include "mapping/conformity.hpp"
#include "registry/store.hpp"
#include "test/adapters/redis_process.hpp"
#include "test/gateway/body_simulator_peers.hpp"
#include "test/gateway/test_support.hpp"

namespace licgate::gateway::program_test {

using nlohmann::json;
namespace fs = std::filesystem;

inline constexpr const char* kLicensor = "CZ-ERU";
inline constexpr const char* kLicensorSystem = "e-licensing";

// One licgate process: its own ports (picked up front, so that a restart
// binds the same ones and the simulator, dialling a fixed URL, finds it
// again) and its own directory for the ports file and log.
struct LicgateNode {
  int amqp_port = testing::pickFreePort();
  int http_port = testing::pickFreePort();
  fs::path dir;
  std::unique_ptr<testing::LicgateProcess> process;

  std::string soapUrl() const {
    return "http://127.0.0.1:" + std::to_string(http_port) + "/soap/v1";
  }
};

class ConformityRig {
 public:
  ConformityRig() : redis_(true) {
    if (!redis_.start()) {
      throw std::runtime_error("redis-server did not start");
    }
  }

  // The simulator, dialling `node`; `yaml` holds its bodies and licensors.
  void startBodies(const LicgateNode& node, const std::string& yaml) {
    simulator_.start(sim_test::header(node.amqp_port, node.soapUrl()) + yaml +
                     "stats_file: " + dir_.file("stats.json") + "\n");
  }
  int bodyPort(const std::string& id) const { return simulator_.bodyPort(id); }
  int licensorPort() const { return simulator_.licensorPort(kLicensor); }

  // Writes the configuration of `node` and starts it; `conformity` is the
  // conformity section without its calendar and timing keys.
  void startLicgate(LicgateNode& node, const std::string& conformity) {
    if (node.dir.empty()) {
      node.dir = dir_.path() / ("licgate-" + std::to_string(node.amqp_port));
      fs::create_directories(node.dir);
    }
    const std::string config = (node.dir / "licgate.yaml").string();
    testing::writeFile(config, configText(node, conformity));
    node.process = std::make_unique<testing::LicgateProcess>(LICGATE_PROGRAM, config, node.dir);
    node.process->start();
  }

  // The simulator's counters as its stats file has them now; null before
  // the first write.
  json stats() const {
    return json::parse(testing::readFile(dir_.file("stats.json")), nullptr, false);
  }
  std::int64_t counter(const std::string& group, const std::string& id,
                       const std::string& name) const {
    const json now = stats();
    if (!now.is_object() || !now.contains(group) || !now[group].contains(id)) {
      return -1;
    }
    return now[group][id].value(name, std::int64_t{-1});
  }
  bool outcomesReach(std::int64_t applications, std::chrono::milliseconds limit) const {
    return testing::waitFor(
        [&] { return counter("licensors", kLicensor, "distinct") >= applications; }, limit);
  }
  json stopBodies() { return simulator_.stop(); }

  // The outcome the register (not Redis) keeps for the application; empty
  // when it keeps none.
  std::string registerOutcome(const std::string& application_id) const {
    registry::StoreOptions options;
    options.path = registerPath();
    auto store = registry::openSqliteStore(options);
    if (!store.ok()) {
      return "register unreadable: " + store.error().message;
    }
    auto kept = (*store)->findConformityOutcome(application_id);
    if (!kept.ok() || !kept->has_value()) {
      return "";
    }
    return std::string(registry::roundOutcomeName((*kept)->outcome));
  }
  std::string registerPath() const { return dir_.file("register.db"); }

  test::RedisProcess& redis() { return redis_; }

 private:
  // The register's busy timeout (2 s) is what the tests that hold the
  // register outwait; send_timeout_ms 500 makes a lease 2 s
  // (2 * send_timeout_ms + 1000), so that a dead process's claims come due
  // within the test.
  std::string configText(const LicgateNode& node, const std::string& conformity) const {
    return "store:\n  path: " + registerPath() +
           "\n  synchronous: normal\n  busy_timeout_ms: 2000\n"
           "redis:\n  port: " +
           std::to_string(redis_.port()) +
           "\n  timeout_ms: 500\n  retry_after_ms: 200\n"
           "amqp:\n  port: " +
           std::to_string(node.amqp_port) + "\nhttp:\n  port: " + std::to_string(node.http_port) +
           "\nlicensors:\n  - code: CZ-ERU\n    name: ERU\n"
           "systems:\n  - id: e-licensing\n    name: Licensing\n    licensors: [CZ-ERU]\n"
           "log:\n  level: info\n  format: json\n"
           "conformity:\n  calendar: " +
           std::string(LICGATE_SOURCE_DIR) +
           "/config/calendar-kz.yaml\n  utc_offset: \"+05:00\"\n  send_timeout_ms: 500\n" +
           conformity;
  }

  testing::TempDir dir_;
  test::RedisProcess redis_;
  sim_test::Simulator simulator_{dir_};
};

inline std::string requestJson(const std::string& application_id, const std::string& activity) {
  return json{{"application_id", application_id},
              {"licensor", kLicensor},
              {"applicant", {{"iin_bin", "050540004455"}, {"name", "Alem Energy LLP"}}},
              {"activity", activity},
              {"data", {{"site", "Almaty, Seifullin 12"}}}}
      .dump();
}

inline SendOptions amqpOptions(const LicgateNode& node, const std::string& address,
                               const std::string& system) {
  SendOptions options;
  options.port = node.amqp_port;
  options.address = address;
  options.system = system;
  options.idle_timeout = std::chrono::seconds(10);
  options.reply_grace = std::chrono::seconds(2);
  return options;
}

// Sends one request per application as the licensor system; returns the
// outcome of each ("opened", "duplicate", or the error code).
inline std::vector<std::string> requestRounds(const LicgateNode& node,
                                              const std::vector<std::string>& applications,
                                              const std::string& activity) {
  std::vector<OutgoingMessage> messages;
  for (const auto& id : applications) {
    messages.push_back({"request-" + id, "application/json", requestJson(id, activity), id});
  }
  const SendReport report =
      sendMessages(amqpOptions(node, "conformity/requests", kLicensorSystem), messages);
  std::vector<std::string> outcomes;
  for (const auto& result : report.results) {
    outcomes.push_back(result.error_code.empty() ? result.outcome : result.error_code);
  }
  return outcomes;
}

inline json getJson(int port, const std::string& target) {
  const auto reply = testing::httpGet(port, target);
  return reply.status == 200 ? json::parse(reply.body, nullptr, false) : json();
}

inline json roundOf(const LicgateNode& node, const std::string& application_id) {
  return getJson(node.http_port, "/api/v1/applications/" + application_id + "/conformity");
}

inline std::string outcomeOf(const LicgateNode& node, const std::string& application_id) {
  const json round = roundOf(node, application_id);
  return round.is_object() ? round.value("outcome", "") : "";
}

// The round's query to `body`; null when there is none.
inline json queryOf(const json& round, const std::string& body) {
  if (!round.is_object()) {
    return json();
  }
  for (const auto& query : round["queries"]) {
    if (query["body"] == body) {
      return query;
    }
  }
  return json();
}

inline std::vector<std::string> applicationIds(const std::string& prefix, int count) {
  std::vector<std::string> ids;
  for (int i = 1; i <= count; ++i) {
    ids.push_back(prefix + std::to_string(i));
  }
  return ids;
}

}  // namespace licgate::gateway::program_test
