// The peers of the body simulator's tests (test/gateway/body_simulator_test.cpp):
// licgate's side played by real adapters on loopback, and the play-bodies
// program as a child process. Header-only, as test_support.hpp is.
#pragma once

#include <gtest/gtest.h>
#include <proton/connection.hpp>
#include <proton/container.hpp>
#include <proton/message.hpp>
#include <proton/message_id.hpp>
#include <proton/messaging_handler.hpp>
#include <proton/sender.hpp>
#include <proton/tracker.hpp>

#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "adapters/amqp/intake_server.hpp"
#include "adapters/http/server.hpp"
#include "adapters/http/soap_client.hpp"
#include "gateway/amqp_sender.hpp"
#include "mapping/conformity.hpp"
#include "mapping/licence_xml.hpp"
#include "mapping/soap.hpp"
#include "test/gateway/test_support.hpp"

namespace licgate::gateway::sim_test {

using nlohmann::json;
using testing::TempDir;
using testing::waitFor;
namespace amqp = adapters::amqp;
namespace http = adapters::http;

inline constexpr const char* kIntakeTrigger = "test/trigger";

// What a licgate configuration needs besides its store and ports.
inline constexpr const char* kLicgateRest = R"(licensors:
  - code: CZ-ERU
    name: ERU
systems:
  - id: portal
    name: Portal
    licensors: ["*"]
log:
  level: warn
)";

inline mapping::QueryMessage makeQuery(const std::string& id, const std::string& body,
                                       const std::string& application = "KZ-APP-1") {
  mapping::QueryMessage query;
  query.query_id = id;
  query.body = body;
  query.deadline = "2026-12-18T00:00:00+05:00";
  query.request.application_id = application;
  query.request.licensor = "CZ-ERU";
  query.request.applicant = {"050540004455", "Alem Energy LLP"};
  query.request.activity = "05.1";
  query.request.data_json = "{}";
  return query;
}

inline OutgoingMessage queryMessage(const mapping::QueryMessage& query) {
  return {query.query_id, "application/json", mapping::writeQueryJson(query), query.query_id};
}

inline registry::ConformityOutcome makeOutcome(const std::string& application,
                                               registry::RoundOutcome outcome, bool tacit) {
  registry::ConformityOutcome round;
  round.application_id = application;
  round.licensor = "CZ-ERU";
  round.outcome = outcome;
  round.decided_ms = 1'700'000'000'000;
  registry::QueryView answered;
  answered.query_id = "cq-1";
  answered.body = "sanitary";
  answered.state = registry::QueryState::kAnswered;
  answered.verdict = registry::Verdict::kConforms;
  answered.reasons = {"fine"};
  answered.signer = "A";
  round.queries.push_back(answered);
  registry::QueryView silent;
  silent.query_id = "cq-2";
  silent.body = "fire";
  silent.state = registry::QueryState::kExpired;
  if (tacit) {
    silent.verdict = registry::Verdict::kConforms;
    silent.tacit = true;
    silent.reasons = {std::string(registry::kTacitConsentReason)};
  }
  round.queries.push_back(silent);
  return round;
}

// licgate's side of the AMQP exchange: takes conclusions (accepting them,
// or rejecting those of `reject_query`), and turns a message on
// kIntakeTrigger into a query to an amqp_address body: licgate's reply
// mechanism sends the verdict's description, as a string, on the link the
// body attached under the message's reply-to.
class FakeLicgate {
 public:
  void start(int port = 0) {
    amqp::IntakeOptions options;
    options.port = port;
    options.addresses = {"conformity/conclusions", kIntakeTrigger};
    server_ =
        amqp::makeIntakeServer(options, [this](const std::vector<amqp::Delivery>& deliveries) {
          std::vector<amqp::Verdict> verdicts;
          std::lock_guard lock(mutex_);
          for (const auto& delivery : deliveries) {
            verdicts.push_back(decide(delivery));
          }
          return verdicts;
        });
    ASSERT_TRUE(server_->start().ok());
  }
  void stop() { server_->stop(); }
  int port() const { return server_->boundPort(); }
  amqp::IntakeStats stats() const { return server_->stats(); }

  void rejectQuery(const std::string& query_id) {
    std::lock_guard lock(mutex_);
    reject_query_ = query_id;
  }

  std::vector<amqp::Delivery> conclusions() const {
    std::lock_guard lock(mutex_);
    return conclusions_;
  }

  std::size_t count() const {
    std::lock_guard lock(mutex_);
    return conclusions_.size();
  }

 private:
  amqp::Verdict decide(const amqp::Delivery& delivery) {
    if (delivery.address == kIntakeTrigger) {
      return {amqp::Settle::kAccept, "", delivery.body, "applied", "", ""};
    }
    conclusions_.push_back(delivery);
    auto conclusion = mapping::readConclusionJson(delivery.body);
    if (conclusion.ok() && conclusion->query_id == reject_query_) {
      return {amqp::Settle::kReject,
              "amqp:precondition-failed",
              "conflict: a different one",
              "rejected",
              "conflict",
              ""};
    }
    return {amqp::Settle::kAccept, "", "", "accepted", "", ""};
  }

  mutable std::mutex mutex_;
  std::unique_ptr<amqp::IntakeServer> server_;
  std::vector<amqp::Delivery> conclusions_;
  std::string reject_query_;
};

// licgate's SOAP endpoint: takes SubmitConclusion.
class FakeSoapEndpoint {
 public:
  // Every SubmitConclusion answered with this client fault instead.
  void refuseWith(registry::Error error) {
    std::lock_guard lock(mutex_);
    refusal_ = std::move(error);
  }

  void start() {
    http::ServerOptions options;
    options.port = 0;
    server_ = http::makeServer(options, [this](const http::Request& request) {
      auto call = mapping::readSoapCall(request.body, request.headers.at("content-type"));
      std::lock_guard lock(mutex_);
      calls_.push_back(call.ok() ? *call : mapping::SoapCall{});
      if (refusal_) {
        const auto version = mapping::SoapVersion::k11;
        return http::Response{mapping::soapFaultHttpStatus(version, refusal_->code),
                              std::string(mapping::soapContentType(version)),
                              mapping::writeSoapFault(version, *refusal_, "test")};
      }
      const std::string envelope =
          mapping::writeSoapEnvelope(mapping::SoapVersion::k11, [](pugi::xml_node body) {
            pugi::xml_node response = body.append_child("SubmitConclusionResponse");
            response.append_attribute("xmlns") = std::string(mapping::kSoapNamespace).c_str();
            response.append_child("result").text() = "accepted";
          });
      return http::Response{200, "text/xml; charset=utf-8", envelope};
    });
    ASSERT_TRUE(server_->start().ok());
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->boundPort()); }
  std::vector<mapping::SoapCall> calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }

 private:
  mutable std::mutex mutex_;
  std::unique_ptr<http::Server> server_;
  std::vector<mapping::SoapCall> calls_;
  std::optional<registry::Error> refusal_;
};

// Sends messages with reply-to set, which sendMessages does not do, at most
// kWindow unsettled at once; returns when each is settled. The window stays
// under the 1024 outcome messages the intake queues on one reply link
// before it drops them as unroutable (docs/amqp.md).
class ReplyToSender final : public proton::messaging_handler {
 public:
  ReplyToSender(int port, std::string reply_to, std::vector<std::string> bodies)
      : port_(port), reply_to_(std::move(reply_to)), bodies_(std::move(bodies)) {}

  void on_container_start(proton::container& container) override {
    container.open_sender("amqp://127.0.0.1:" + std::to_string(port_) + "/" + kIntakeTrigger);
  }
  void on_sendable(proton::sender& sender) override {
    while (sender.credit() > 0 && next_ < bodies_.size() && next_ - settled_ < kWindow) {
      proton::message message;
      message.id(proton::message_id("trigger-" + std::to_string(next_)));
      message.reply_to(reply_to_);
      message.content_type("application/json");
      message.properties().put("system", "licgate");
      message.inferred(true);
      const std::string& body = bodies_[next_++];
      message.body(proton::binary(body.begin(), body.end()));
      sender.send(message);
    }
  }
  void on_tracker_settle(proton::tracker& tracker) override {
    if (++settled_ == bodies_.size()) {
      tracker.connection().close();
      return;
    }
    proton::sender sender = tracker.sender();
    on_sendable(sender);
  }
  void on_error(const proton::error_condition&) override {}

 private:
  static constexpr std::size_t kWindow = 500;
  int port_;
  std::string reply_to_;
  std::vector<std::string> bodies_;
  std::size_t next_ = 0;
  std::size_t settled_ = 0;
};

inline void sendWithReplyTo(int port, const std::string& reply_to,
                            std::vector<std::string> bodies) {
  ReplyToSender sender(port, reply_to, std::move(bodies));
  proton::container(sender).run();
}

// The play-bodies program with a configuration of its own.
class Simulator {
 public:
  explicit Simulator(const TempDir& dir) : dir_(dir) {}

  void start(const std::string& yaml) {
    config_ = dir_.file("bodies.yaml");
    testing::writeFile(config_, yaml);
    std::error_code ignored;
    std::filesystem::remove(dir_.file("ports.json"), ignored);
    process_.start({LICGATE_PROGRAM, "play-bodies", "--config", config_, "--ports-file",
                    dir_.file("ports.json")},
                   dir_.file("bodies.log"));
    if (!waitFor([&] { return std::filesystem::exists(dir_.file("ports.json")); })) {
      throw std::runtime_error("play-bodies wrote no ports file; log:\n" + log());
    }
    ports_ = json::parse(testing::readFile(dir_.file("ports.json")));
  }

  int bodyPort(const std::string& id) const { return ports_.at("bodies").at(id).get<int>(); }
  int licensorPort(const std::string& code) const {
    return ports_.at("licensors").at(code).get<int>();
  }
  std::string log() const { return testing::readFile(dir_.file("bodies.log")); }

  // The CPU time the program has used so far, user and system
  // (proc(5), /proc/PID/stat fields 14 and 15).
  double cpuSeconds() const {
    const std::string stat = testing::readFile("/proc/" + std::to_string(process_.pid()) + "/stat");
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));
    std::string field;
    double ticks = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
      ticks += i >= 14 ? std::stod(field) : 0;
    }
    return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
  }

  // Stops it with SIGTERM; returns the counters it printed.
  json stop() {
    const int status = process_.kill(SIGTERM);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << log();
    const std::string text = log();
    const auto line = text.rfind("\n{");
    return json::parse(line == std::string::npos ? text : text.substr(line + 1));
  }

 private:
  const TempDir& dir_;
  std::string config_;
  json ports_;
  testing::ChildProcess process_;
};

inline std::string header(int amqp_port, const std::string& soap_url = "http://127.0.0.1:1/soap") {
  return "licgate:\n  amqp_url: \"amqp://127.0.0.1:" + std::to_string(amqp_port) +
         "\"\n  soap_url: \"" + soap_url + "\"\n";
}

inline SendOptions peerOptions(int port, const std::string& address = "conformity/queries") {
  SendOptions options;
  options.port = port;
  options.address = address;
  options.system = "licgate";
  options.want_replies = false;
  options.max_attempts = 1;
  options.idle_timeout = std::chrono::seconds(10);
  return options;
}

}  // namespace licgate::gateway::sim_test
