// `licgate serve` (gateway/serve.hpp).
#include "gateway/serve.hpp"

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include "adapters/amqp/intake_server.hpp"
#include "adapters/http/server.hpp"
#include "adapters/redis/seen_ids.hpp"
#include "gateway/http_api.hpp"
#include "gateway/intake_flow.hpp"
#include "gateway/logging.hpp"
#include "gateway/redis_health.hpp"
#include "registry/store.hpp"

namespace licgate::gateway {

namespace {

// Written under a temporary name and renamed, so that a reader polling for
// the file never sees half of it.
registry::Status writePortsFile(const std::string& path, int amqp_port, int http_port) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << "{\"amqp\":" << amqp_port << ",\"http\":" << http_port << "}\n";
    if (!out) {
      return registry::makeError(registry::ErrorCode::kUnavailable,
                                 "ports file " + temporary + " cannot be written");
    }
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) {
    return registry::makeError(registry::ErrorCode::kUnavailable,
                               "ports file " + path + ": " + error.message());
  }
  return {};
}

// The signals are blocked in every thread (the mask is inherited by the
// threads the adapters start) and taken synchronously by sigwait, so no
// handler runs inside a library call.
sigset_t blockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

std::string signalName(int signal) {
  return signal == SIGINT ? "SIGINT" : "SIGTERM";
}

}  // namespace

int runServe(const config::Config& config, const ServeOptions& options) {
  auto log = getLogger("gateway");
  const sigset_t stop_signals = blockStopSignals();

  auto store = registry::openSqliteStore(config.store);
  if (!store.ok()) {
    log->error("store cannot be opened: {}", store.error().message);
    return 1;
  }
  log->info("store open at {}", config.store.path);

  RedisHealth redis_health(config.redis.enabled);
  std::unique_ptr<adapters::redis::SeenIds> seen_ids;
  std::unique_ptr<adapters::redis::SeenIds> redis_probe;
  if (config.redis.enabled) {
    seen_ids = adapters::redis::makeSeenIds(config.redis.options);
    redis_probe = adapters::redis::makeSeenIds(config.redis.options);
    auto pong = redis_probe->ping();
    if (pong.ok()) {
      log->info("redis at {}:{} answers", config.redis.options.host, config.redis.options.port);
    } else {
      redis_health.reportFailure(pong.error());
    }
  }

  IntakeFlow intake_flow(config, **store, seen_ids.get(), redis_health);
  auto intake = adapters::amqp::makeIntakeServer(config.amqp, intake_flow.processor());
  if (auto started = intake->start(); !started.ok()) {
    log->error("amqp intake cannot start: {}", started.error().message);
    return 1;
  }

  HttpApi api(ApiSources{store->get(), &intake_flow, &redis_health, redis_probe.get(),
                         [&intake] { return intake->stats(); }});
  auto http = adapters::http::makeServer(config.http, api.handler());
  if (auto started = http->start(); !started.ok()) {
    log->error("http server cannot start: {}", started.error().message);
    intake->stop();
    return 1;
  }
  log->info("listening: amqp://{}:{} and http://{}:{}", config.amqp.host, intake->boundPort(),
            config.http.host, http->boundPort());

  if (!options.ports_file.empty()) {
    if (auto written = writePortsFile(options.ports_file, intake->boundPort(), http->boundPort());
        !written.ok()) {
      log->error("{}", written.error().message);
      http->stop();
      intake->stop();
      return 1;
    }
  }

  int signal = 0;
  sigwait(&stop_signals, &signal);
  log->info("stopping on {}", signalName(signal));
  intake->stop();
  http->stop();
  store->reset();
  log->info("stopped");
  return 0;
}

}  // namespace licgate::gateway
