// The stages of the intake, timed apart (docs/benchmarks.md): what
// licgate's intake worker does for each batch of deliveries, run here in
// one thread without AMQP, so each stage's cost per event shows on its own:
//   decode  the JSON body to an event (mapping::decodeInbound)
//   redis   the duplicate check: one pipelined claim and one applied mark
//           per batch against a real redis-server
//   store   one SQLite transaction per batch (registry::Store::applyBatch),
//           CPU time and wall time apart; the difference is mostly the
//           commit's fsync
// It prints one line:
//   bench: stages batch=B decode_us=D redis_us=R store_cpu_us=S store_blocked_us=I
//          fsync_ms=F runqueue_us=Q serial_events_per_s=E
// Figures are per event except fsync_ms (time blocked per commit). Time
// spent waiting for a CPU that other programs held is left out of each
// stage and shown as runqueue_us; E is the rate of one thread doing the
// three stages in turn on an otherwise idle machine.
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <span>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "adapters/redis/seen_ids.hpp"
#include "bench/events.hpp"
#include "bench/harness.hpp"
#include "mapping/inbound_decoder.hpp"
#include "registry/store.hpp"

namespace licgate::bench {
namespace {

using registry::ErrorCode;
using registry::makeError;

struct Options {
  std::size_t events = 100'000;
  std::size_t batch = 256;
  std::string synchronous = "full";
  std::string redis_server = "redis-server";
};

// Wall, CPU and run-queue time of the calling thread, summed over the timed
// sections. Wall minus CPU minus run-queue is the time the thread was
// blocked: in a store commit that is the fsync, in Redis the round trip.
// Run-queue time (waiting for a CPU other programs hold) is reported apart
// so that a busy machine does not pass for a slow stage.
class StageTimer {
 public:
  void start() {
    wall_start_ = Clock::now();
    cpu_start_ = threadCpuSeconds();
    runqueue_start_ = threadRunqueueSeconds();
  }

  void stop() {
    wall_s_ += std::chrono::duration<double>(Clock::now() - wall_start_).count();
    cpu_s_ += threadCpuSeconds() - cpu_start_;
    runqueue_s_ += threadRunqueueSeconds() - runqueue_start_;
  }

  double cpuMicrosPer(std::size_t count) const { return cpu_s_ * 1e6 / count; }
  double runqueueMicrosPer(std::size_t count) const { return runqueue_s_ * 1e6 / count; }
  double blockedMicrosPer(std::size_t count) const {
    return std::max(wall_s_ - cpu_s_ - runqueue_s_, 0.0) * 1e6 / count;
  }
  // What the stage costs one thread that never waits for a CPU.
  double busyMicrosPer(std::size_t count) const {
    return cpuMicrosPer(count) + blockedMicrosPer(count);
  }

 private:
  static double threadCpuSeconds() {
    timespec now{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
  }

  // The second field of schedstat: nanoseconds spent runnable but waiting.
  static double threadRunqueueSeconds() {
    auto text = readFile("/proc/thread-self/schedstat");
    std::uint64_t on_cpu_ns = 0;
    std::uint64_t waiting_ns = 0;
    if (text) {
      std::sscanf(text->c_str(), "%" SCNu64 " %" SCNu64, &on_cpu_ns, &waiting_ns);
    }
    return static_cast<double>(waiting_ns) / 1e9;
  }

  Clock::time_point wall_start_;
  double cpu_start_ = 0;
  double runqueue_start_ = 0;
  double wall_s_ = 0;
  double cpu_s_ = 0;
  double runqueue_s_ = 0;
};

// Decodes every body as licgate's intake does, building the store's input;
// all must decode. Timed as a whole: reading the clocks per message would
// cost more than some stages.
registry::Result<std::vector<registry::Inbound>> decodeAll(const std::vector<LoadMessage>& messages,
                                                           StageTimer& timer) {
  std::vector<registry::Inbound> inbound;
  inbound.reserve(messages.size());
  mapping::DecodeLimits limits;
  timer.start();
  for (const LoadMessage& message : messages) {
    auto event = mapping::decodeInbound(message.body, "application/json", limits);
    if (!event) {
      return makeError(event.error().code,
                       "message " + message.message_id + ": " + event.error().message);
    }
    inbound.push_back(registry::Inbound{kBenchSystem, message.message_id, "application/json",
                                        message.body, std::move(*event)});
  }
  timer.stop();
  return inbound;
}

// One claim per message and one applied mark per batch, as the intake does them.
registry::Status checkAllInRedis(const std::vector<LoadMessage>& messages, std::size_t batch,
                                 adapters::redis::SeenIds& seen_ids, StageTimer& timer) {
  for (std::size_t first = 0; first < messages.size(); first += batch) {
    std::vector<adapters::redis::MessageKey> keys;
    for (std::size_t i = first; i < std::min(first + batch, messages.size()); ++i) {
      keys.push_back({kBenchSystem, messages[i].message_id});
    }
    timer.start();
    auto claims = seen_ids.claim(keys);
    auto marked =
        claims ? seen_ids.markApplied(claims->batch, {}, 0) : registry::Status(claims.error());
    timer.stop();
    LICGATE_RETURN_IF_ERROR(marked);
  }
  return {};
}

// One transaction per batch; every event must be applied.
registry::Status applyAll(const std::vector<registry::Inbound>& inbound, std::size_t batch,
                          registry::Store& store, StageTimer& timer) {
  std::span<const registry::Inbound> all(inbound);
  for (std::size_t first = 0; first < all.size(); first += batch) {
    auto part = all.subspan(first, std::min(batch, all.size() - first));
    timer.start();
    auto outcomes = store.applyBatch(part);
    timer.stop();
    if (!outcomes) {
      return outcomes.takeError();
    }
    for (std::size_t i = 0; i < outcomes->size(); ++i) {
      if ((*outcomes)[i].disposition != registry::Disposition::kApplied) {
        return makeError(ErrorCode::kInternal,
                         "message " + part[i].message_id + " was not applied: " +
                             std::string(registry::dispositionName((*outcomes)[i].disposition)));
      }
    }
  }
  return {};
}

registry::Status measureRedis(const Options& options, const std::vector<LoadMessage>& messages,
                              const TempDir& dir, StageTimer& timer) {
  auto port = pickFreePort();
  if (!port) {
    return port.takeError();
  }
  auto redis = startRedisServer(options.redis_server, dir, *port);
  if (!redis) {
    return redis.takeError();
  }
  adapters::redis::RedisOptions redis_options;
  redis_options.port = *port;
  redis_options.timeout_ms = 5000;
  auto seen_ids = adapters::redis::makeSeenIds(redis_options);
  auto checked = checkAllInRedis(messages, options.batch, *seen_ids, timer);
  redis->stop(std::chrono::seconds(5));
  return checked;
}

void printStages(const Options& options, const StageTimer& decode, const StageTimer& redis,
                 const StageTimer& store) {
  std::size_t n = options.events;
  double commits = static_cast<double>((n + options.batch - 1) / options.batch);
  double serial_us = decode.busyMicrosPer(n) + redis.busyMicrosPer(n) + store.busyMicrosPer(n);
  double runqueue_us =
      decode.runqueueMicrosPer(n) + redis.runqueueMicrosPer(n) + store.runqueueMicrosPer(n);
  std::printf(
      "bench: stages batch=%zu decode_us=%.1f redis_us=%.1f store_cpu_us=%.1f "
      "store_blocked_us=%.1f fsync_ms=%.2f runqueue_us=%.1f serial_events_per_s=%.0f\n",
      options.batch, decode.busyMicrosPer(n), redis.busyMicrosPer(n), store.cpuMicrosPer(n),
      store.blockedMicrosPer(n), store.blockedMicrosPer(n) * static_cast<double>(n) / 1e3 / commits,
      runqueue_us, 1e6 / serial_us);
}

registry::Status runStages(const Options& options) {
  std::vector<LoadMessage> messages = makeIssueMessages(options.events);
  auto dir = TempDir::create("licgate-stages-");
  if (!dir) {
    return dir.takeError();
  }
  StageTimer decode;
  auto inbound = decodeAll(messages, decode);
  if (!inbound) {
    return inbound.takeError();
  }
  StageTimer redis;
  LICGATE_RETURN_IF_ERROR(measureRedis(options, messages, *dir, redis));
  registry::StoreOptions store_options;
  store_options.path = dir->path() + "/licgate.db";
  store_options.synchronous_full = options.synchronous == "full";
  auto store = registry::openSqliteStore(store_options);
  if (!store) {
    return store.takeError();
  }
  StageTimer apply;
  LICGATE_RETURN_IF_ERROR(applyAll(*inbound, options.batch, **store, apply));

  printStages(options, decode, redis, apply);
  return {};
}

}  // namespace
}  // namespace licgate::bench

int main(int argc, char** argv) {
  licgate::bench::Options options;
  CLI::App app{"licgate intake stages: decode, Redis check and store commit timed apart"};
  app.add_option("--events", options.events, "events put through each stage")
      ->check(CLI::Range(1, 10'000'000));
  app.add_option("--batch", options.batch, "events per Redis pipeline and store transaction")
      ->check(CLI::Range(1, 100'000));
  app.add_option("--synchronous", options.synchronous, "store.synchronous")
      ->check(CLI::IsMember({"full", "normal"}));
  app.add_option("--redis-server", options.redis_server, "the redis-server program");
  // The intake benchmark's options are accepted and ignored, so that
  // scripts/bench can pass the same arguments to every benchmark.
  app.allow_extras();
  CLI11_PARSE(app, argc, argv);

  auto status = licgate::bench::runStages(options);
  if (!status) {
    std::fprintf(stderr, "bench: stages failed: %s\n", status.error().message.c_str());
    return 1;
  }
  return 0;
}
