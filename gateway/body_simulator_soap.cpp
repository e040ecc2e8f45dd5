// The body simulator's SOAP side (gateway/body_simulator_internal.hpp): a
// server for each soap channel, and the workers that post SubmitConclusion
// to licgate.
#include <condition_variable>
#include <thread>

#include "adapters/http/server.hpp"
#include "adapters/http/soap_client.hpp"
#include "gateway/body_simulator_internal.hpp"
#include "gateway/logging.hpp"
#include "mapping/licence_xml.hpp"

namespace licgate::gateway::sim {

namespace {

namespace http = adapters::http;
using mapping::SoapVersion;

constexpr std::string_view kSubmitConclusionAction = "urn:licgate:soap:1#SubmitConclusion";
// Workers posting conclusions: each call blocks for a round trip to licgate,
// so a few run at once to keep up with a body that answers fast.
constexpr int kSoapWorkers = 4;

std::string header(const http::Request& request, const std::string& name) {
  auto found = request.headers.find(name);
  return found == request.headers.end() ? std::string() : found->second;
}

http::Response faultResponse(SoapVersion version, const registry::Error& error) {
  return {mapping::soapFaultHttpStatus(version, error.code),
          std::string(mapping::soapContentType(version)),
          mapping::writeSoapFault(version, error, "simulator")};
}

// An answer whose Body holds one empty element of licgate's namespace, as
// ConformityQueryResponse and ConformityOutcomeResponse are.
http::Response emptyResponse(SoapVersion version, const char* element) {
  const std::string envelope = mapping::writeSoapEnvelope(version, [&](pugi::xml_node body) {
    pugi::xml_node response = body.append_child(element);
    response.append_attribute("xmlns") = std::string(mapping::kSoapNamespace).c_str();
  });
  return {200, std::string(mapping::soapContentType(version)), envelope};
}

class SoapSideImpl final : public SoapSide {
 public:
  SoapSideImpl(const SimConfig& config, Players& players)
      : config_(config), players_(players), logger_(getLogger("simulator")) {}

  ~SoapSideImpl() override { stop(); }

  registry::Status start(BoundPorts& ports) override {
    for (std::size_t i = 0; i < config_.bodies.size(); ++i) {
      const SimChannel& channel = config_.bodies[i].channel;
      if (channel.kind == SimChannel::Kind::kSoap) {
        LICGATE_RETURN_IF_ERROR(listen(
            channel, [this, i](const http::Request& r) { return takeQuery(i, r); },
            ports.bodies[config_.bodies[i].id]));
      }
    }
    for (std::size_t i = 0; i < config_.licensors.size(); ++i) {
      const SimChannel& channel = config_.licensors[i].channel;
      if (channel.kind == SimChannel::Kind::kSoap) {
        LICGATE_RETURN_IF_ERROR(listen(
            channel, [this, i](const http::Request& r) { return takeOutcome(i, r); },
            ports.licensors[config_.licensors[i].code]));
      }
    }
    for (int i = 0; i < kSoapWorkers; ++i) {
      workers_.emplace_back([this] { work(); });
    }
    return {};
  }

  void stop() override {
    for (auto& server : servers_) {
      server->stop();
    }
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& worker : workers_) {
      worker.join();
    }
    workers_.clear();
  }

  void submit(PendingConclusion conclusion) override {
    {
      std::lock_guard lock(mutex_);
      due_.emplace(conclusion.due, std::move(conclusion));
    }
    wake_.notify_one();
  }

 private:
  registry::Status listen(const SimChannel& channel, http::Handler handler, int& bound) {
    http::ServerOptions options;
    options.host = channel.host;
    options.port = channel.port;
    options.threads = 2;
    auto server =
        http::makeServer(options, [handler = std::move(handler)](const http::Request& request) {
          // SOAP over HTTP is a POST (SOAP 1.1 section 6.1; SOAP 1.2 part 2
          // section 7.4), on whatever path.
          if (request.method != "POST") {
            return http::Response{405, "text/plain", "SOAP takes POST\n", {{"Allow", "POST"}}};
          }
          return handler(request);
        });
    LICGATE_RETURN_IF_ERROR(server->start());
    bound = server->boundPort();
    servers_.push_back(std::move(server));
    return {};
  }

  // A ConformityQuery: 503 while the body is down (licgate sends it again),
  // a fault when it cannot be read, otherwise an empty response and the
  // conclusion on its way.
  http::Response takeQuery(std::size_t index, const http::Request& request) {
    BodyPlayer& body = *players_.bodies[index];
    if (body.down()) {
      body.countReleased();
      return {503, "text/plain", "the body is down"};
    }
    auto call = mapping::readSoapCall(request.body, header(request, "content-type"));
    if (!call.ok()) {
      body.countMalformed();
      return faultResponse(SoapVersion::k11, call.error());
    }
    auto query = mapping::readQuerySoap(*call);
    if (!query.ok()) {
      body.countMalformed();
      return faultResponse(call->version, query.error());
    }
    if (auto conclusion = body.take(*query)) {
      players_.answer(index, std::move(*conclusion));
    }
    return emptyResponse(call->version, "ConformityQueryResponse");
  }

  http::Response takeOutcome(std::size_t index, const http::Request& request) {
    LicensorPlayer& licensor = *players_.licensors[index];
    auto call = mapping::readSoapCall(request.body, header(request, "content-type"));
    if (!call.ok()) {
      licensor.countMalformed();
      return faultResponse(SoapVersion::k11, call.error());
    }
    auto outcome = readOutcomeSoap(*call);
    if (!outcome.ok()) {
      licensor.countMalformed();
      return faultResponse(call->version, outcome.error());
    }
    licensor.take(*outcome);
    return emptyResponse(call->version, "ConformityOutcomeResponse");
  }

  // Takes the earliest conclusion once it is due and posts it; one that
  // may pass later (licgate down, a 5xx, a server fault) waits kRetryPause
  // and goes again.
  void work() {
    http::SoapClient client;
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      if (due_.empty()) {
        wake_.wait(lock);
        continue;
      }
      if (due_.begin()->first > Clock::now()) {
        wake_.wait_until(lock, due_.begin()->first);
        continue;
      }
      PendingConclusion pending = std::move(due_.begin()->second);
      due_.erase(due_.begin());
      lock.unlock();
      post(client, pending);
      lock.lock();
    }
  }

  void post(http::SoapClient& client, PendingConclusion& pending) {
    BodyPlayer& body = *players_.bodies[pending.body];
    if (pending.attempts++ == 0) {
      body.countConcluded();
    }
    auto answer =
        client.call(config_.soap_url, SoapVersion::k11, std::string(kSubmitConclusionAction),
                    mapping::writeConclusionSoap(pending.conclusion, SoapVersion::k11));
    if (answer.ok() && answer->ok()) {
      body.countSettled(true, {});
      return;
    }
    if (!answer.ok() || answer->retryable()) {
      logger_->debug(
          "[{}] conclusion {} not taken ({}); again in {} ms", body.spec().id,
          pending.conclusion.query_id,
          answer.ok() ? "HTTP " + std::to_string(answer->http_status) : answer.error().message,
          kRetryPause.count());
      pending.due = Clock::now() + kRetryPause;
      submit(std::move(pending));
      return;
    }
    body.countSettled(false, answer->fault
                                 ? answer->fault->licgate_code + ": " + answer->fault->text
                                 : "HTTP " + std::to_string(answer->http_status));
  }

  const SimConfig& config_;
  Players& players_;
  std::shared_ptr<spdlog::logger> logger_;
  std::vector<std::unique_ptr<http::Server>> servers_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::multimap<Clock::time_point, PendingConclusion> due_;  // guarded by mutex_
  bool stopping_ = false;                                    // guarded by mutex_
};

}  // namespace

std::unique_ptr<SoapSide> makeSoapSide(const SimConfig& config, Players& players) {
  return std::make_unique<SoapSideImpl>(config, players);
}

}  // namespace licgate::gateway::sim
