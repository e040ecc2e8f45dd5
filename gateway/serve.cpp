// `licgate serve` (gateway/serve.hpp).
#include "gateway/serve.hpp"

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include "adapters/amqp/intake_server.hpp"
#include "adapters/amqp/outbound.hpp"
#include "adapters/http/server.hpp"
#include "adapters/redis/conformity_tracker.hpp"
#include "adapters/redis/exchange_log.hpp"
#include "adapters/redis/seen_ids.hpp"
#include "gateway/conformity_courier.hpp"
#include "gateway/conformity_flow.hpp"
#include "gateway/http_api.hpp"
#include "gateway/intake_flow.hpp"
#include "gateway/intake_routing.hpp"
#include "gateway/logging.hpp"
#include "gateway/redis_health.hpp"
#include "gateway/shep_sender.hpp"
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

// Two connections, because a SeenIds is not shared between threads: one for
// the intake worker, one for the PING of /readyz. Redis down at start is not
// an error: licgate starts degraded and recovers when Redis answers.
struct RedisClients {
  std::unique_ptr<adapters::redis::SeenIds> seen_ids;
  std::unique_ptr<adapters::redis::SeenIds> probe;
  // The e-government gateway's chains and outbox, under the register's
  // incarnation as the duplicate check is: what one register received or
  // answered is never taken for another's.
  std::unique_ptr<adapters::redis::ExchangeLog> exchanges;
  // The conformity rounds in flight, when the flow is on.
  std::unique_ptr<adapters::redis::ConformityTracker> conformity;
};

adapters::redis::RedisOptions optionsFor(const config::RedisConfig& redis,
                                         const std::string& incarnation) {
  adapters::redis::RedisOptions options = redis.options;
  options.key_prefix += incarnation + ":";
  return options;
}

// Redis keys are filed under the register's incarnation, so that a fresh
// register, or another register sharing the Redis, is never answered for
// with keys it did not write. A register whose journal ends below what
// Redis remembers of this incarnation is an older copy of it (restored from
// a backup): it is given a new incarnation, since "applied" in Redis would
// otherwise answer for messages the copy never saw.
registry::Result<std::string> redisIncarnation(registry::Store& store,
                                               const config::RedisConfig& redis) {
  auto incarnation = store.incarnation();
  if (!incarnation.ok()) {
    return incarnation;
  }
  auto counts = store.counts();
  if (!counts.ok()) {
    return counts.takeError();
  }
  auto probe = adapters::redis::makeSeenIds(optionsFor(redis, *incarnation));
  auto high_water = probe->highWater();
  if (!high_water.ok() || *high_water <= counts->last_sequence) {
    // Redis down at start: its keys are checked again at the next start; a
    // stale "applied" cannot be read while it is down anyway.
    return incarnation;
  }
  getLogger("gateway")->warn(
      "the register's journal ends at {} but Redis remembers {} of it: an older copy of the "
      "register (restored from a backup?); its duplicate checks start afresh in Redis",
      counts->last_sequence, *high_water);
  return store.renewIncarnation();
}

RedisClients connectRedis(const config::Config& config, const std::string& incarnation,
                          RedisHealth& health) {
  const config::RedisConfig& redis = config.redis;
  RedisClients clients;
  if (!redis.enabled) {
    return clients;
  }
  clients.exchanges =
      adapters::redis::makeExchangeLog(optionsFor(redis, incarnation), config.shep.chain_ttl_ms);
  clients.seen_ids = adapters::redis::makeSeenIds(optionsFor(redis, incarnation));
  clients.probe = adapters::redis::makeSeenIds(optionsFor(redis, incarnation));
  if (config.conformity.enabled()) {
    clients.conformity = adapters::redis::makeConformityTracker(optionsFor(redis, incarnation));
  }
  auto pong = clients.probe->ping();
  if (pong.ok()) {
    getLogger("gateway")->info("redis at {}:{} answers", redis.options.host, redis.options.port);
  } else {
    health.reportFailure(pong.error());
  }
  return clients;
}

// Forwards to the channel courier once it exists: the conformity flow is
// made before the intake it sends through.
struct LateCourier final : Courier {
  Courier* target = nullptr;
  void send(const config::BodyChannel& channel, Parcel parcel, ReceiptCallback done) override {
    if (target == nullptr) {
      done({Receipt::Fate::kRetry, "licgate is starting"});
      return;
    }
    target->send(channel, std::move(parcel), std::move(done));
  }
};

// The conformity flow and what it sends with, when it is on. The flow
// needs the intake (to send on links attached to licgate's listener) and
// the intake's processor needs the flow, so the flow is made first and its
// courier connected once the intake exists. Members are destroyed in
// reverse order: the flow before what it sends with.
struct Conformity {
  const config::Config& config;
  std::unique_ptr<adapters::amqp::AmqpOutbound> outbound;
  LateCourier courier;
  std::unique_ptr<ChannelCourier> channels;
  std::unique_ptr<ConformityFlow> flow;

  Conformity(const config::Config& c, registry::Store& store,
             adapters::redis::ConformityTracker* tracker, RedisHealth& health)
      : config(c) {
    if (tracker != nullptr) {
      outbound = adapters::amqp::makeAmqpOutbound(
          {"licgate-outbound", std::chrono::milliseconds(config.conformity.send_timeout_ms),
           std::chrono::milliseconds(1000)});
      flow = std::make_unique<ConformityFlow>(config, store, *tracker, courier);
      flow->reportRedisHealthTo(&health);
    }
  }

  void connect(adapters::amqp::IntakeServer& intake) {
    if (flow) {
      channels =
          std::make_unique<ChannelCourier>(intake, *outbound, config.conformity.send_timeout_ms);
      courier.target = channels.get();
    }
  }

  registry::Status start() {
    if (!flow) {
      return {};
    }
    if (auto started = outbound->start(); !started.ok()) {
      return registry::makeError(started.error().code,
                                 "conformity sending cannot start: " + started.error().message);
    }
    flow->start();
    getLogger("gateway")->info("conformity flow on: {} activities, {} bodies",
                               config.conformity.activities.size(),
                               config.conformity.bodies.size());
    return {};
  }

  void stop() {
    if (flow) {
      flow->stop();
      channels->stop();
      outbound->stop();
    }
  }
};

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

  std::string incarnation;
  if (config.redis.enabled) {
    auto found = redisIncarnation(**store, config.redis);
    if (!found.ok()) {
      log->error("store cannot be read: {}", found.error().message);
      return 1;
    }
    incarnation = *found;
  }
  RedisHealth redis_health(config.redis.enabled);
  RedisClients redis = connectRedis(config, incarnation, redis_health);

  IntakeFlow intake_flow(config, **store, redis.seen_ids.get(), redis_health);
  Conformity conformity(config, **store, redis.conformity.get(), redis_health);
  adapters::amqp::IntakeOptions intake_options = config.amqp;
  if (conformity.flow) {
    intake_options.addresses.emplace_back(kRequestsAddress);
    intake_options.addresses.emplace_back(kConclusionsAddress);
    // A query sent on an attached link must be settled within the flow's
    // send timeout, or its lease could end while it still waits and a second
    // send would overtake it.
    intake_options.settle_timeout = std::chrono::milliseconds(config.conformity.send_timeout_ms);
  }
  auto intake = adapters::amqp::makeIntakeServer(
      intake_options, routeDeliveries(intake_flow.processor(), conformity.flow.get()));
  // The flow sends on links attached to the intake's listener; it is
  // created before the intake starts, so no conformity delivery finds it
  // missing.
  conformity.connect(*intake);
  if (auto started = intake->start(); !started.ok()) {
    log->error("amqp intake cannot start: {}", started.error().message);
    return 1;
  }
  if (auto started = conformity.start(); !started.ok()) {
    log->error("{}", started.error().message);
    intake->stop();
    return 1;
  }

  // The answers to reads asked on the e-government gateway's asynchronous
  // channel go back through the gateway; without Redis there is no outbox.
  std::unique_ptr<ShepSender> shep_sender;
  if (redis.exchanges && !config.shep.async_url.empty()) {
    shep_sender = std::make_unique<ShepSender>(config.shep, *redis.exchanges);
    shep_sender->start();
  }
  std::unique_ptr<ShepSchemas> shep_schemas;
  if (!config.shep.schema_dir.empty()) {
    auto loaded = ShepSchemas::load(config.shep.schema_dir);
    if (!loaded.ok()) {
      log->error("{}", loaded.error().message);
      intake->stop();
      return 1;
    }
    shep_schemas = std::move(*loaded);
    log->info("e-government gateway schemas loaded from {}", config.shep.schema_dir);
  }
  SoapApi soap(**store, &intake_flow, config.shep,
               ShepParts{redis.exchanges.get(), shep_sender.get(), shep_schemas.get()},
               conformity.flow.get());
  std::function<ShepSenderCounters()> shep_stats;
  if (shep_sender) {
    shep_stats = [&shep_sender] { return shep_sender->stats(); };
  }
  HttpApi api(ApiSources{store->get(), &intake_flow, &redis_health, redis.probe.get(),
                         [&intake] { return intake->stats(); }, &soap, shep_stats,
                         conformity.flow.get()});
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
  // The flow first: its sends under way are settled by their leases, and
  // nothing it hands the intake after this is lost (Redis has it).
  conformity.stop();
  intake->stop();
  http->stop();
  if (shep_sender) {
    shep_sender->stop();
  }
  store->reset();
  log->info("stopped");
  return 0;
}

}  // namespace licgate::gateway
