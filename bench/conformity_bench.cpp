// The conformity benchmark (docs/benchmarks.md): rounds of conformity
// queries through the real licgate program, to interested bodies played by
// `licgate play-bodies` that answer at once over an AMQP peer, with the
// benchmark as the licensor's system (requests in, outcomes back on an
// address of licgate's listener). It prints one line:
//   bench: conformity queries_per_s=X redis_cmds_per_query=Y added_p50_ms=Z added_p99_ms=W
// queries_per_s counts queries sent and concluded, first request to last
// outcome; redis_cmds_per_query is what Redis itself saw (MONITOR) over
// --count-rounds more rounds after the measured ones: the commands licgate
// sent (each script call one), with the commands the scripts ran inside
// Redis on a second line; the
// latencies are from a request to its outcome, so they include the
// simulated bodies' own handling and bound from above what licgate adds.
// Everything runs on 127.0.0.1; the benchmark starts its redis-server
// (AOF on), licgate and the simulator, stops them, and gives up after
// --timeout-s.
#include <hiredis/hiredis.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <unistd.h>
#include <CLI/CLI.hpp>

#include "bench/amqp_load.hpp"
#include "bench/conformity_load.hpp"
#include "bench/harness.hpp"
#include "bench/program_options.hpp"

namespace licgate::bench {
namespace {

using registry::ErrorCode;
using registry::makeError;

constexpr const char* kLicensor = "KZ-BENCH";
constexpr const char* kSystem = "bench-licensor";
constexpr const char* kOutcomeAddress = "conformity/outcomes/bench";

struct Options : ProgramOptions {
  Options() { timeout_s = 600; }
  std::size_t rounds = 20'000;
  std::size_t warmup_rounds = 2'000;
  int bodies = 2;  // queries per round
  std::size_t window = 64;
  double rate = 0;  // queries/s offered; 0: the closed loop of `window`
  std::size_t count_rounds = 2'000;
};

std::string licgateConfig(const Options& options, const TempDir& dir, int redis_port,
                          const std::vector<int>& body_ports) {
  std::string yaml;
  yaml += "store:\n  path: " + dir.path() + "/register.db\n";
  yaml += "redis:\n  host: 127.0.0.1\n  port: " + std::to_string(redis_port) + "\n";
  yaml += "  timeout_ms: 2000\n";
  yaml += "amqp:\n  host: 127.0.0.1\n  port: 0\n  container_id: licgate-conformity-bench\n";
  yaml += "http:\n  host: 127.0.0.1\n  port: 0\n";
  yaml += std::string("licensors:\n  - code: ") + kLicensor + "\n    name: Benchmark licensor\n";
  yaml += std::string("systems:\n  - id: ") + kSystem + "\n    name: Benchmark licensor system\n";
  yaml += std::string("    licensors: [") + kLicensor + "]\n";
  yaml += "log:\n  level: warn\n  format: json\n";
  yaml += "conformity:\n  calendar: " + std::string(LICGATE_SOURCE_DIR) +
          "/config/calendar-kz.yaml\n  bodies:\n";
  std::string ids;
  for (int b = 0; b < options.bodies; ++b) {
    const std::string id = "body-" + std::to_string(b);
    yaml += "    - id: " + id + "\n      name: Body " + std::to_string(b) + "\n";
    yaml += "      channel:\n        amqp_peer: {url: \"amqp://127.0.0.1:" +
            std::to_string(body_ports[b]) + "\", address: queries/" + id + "}\n";
    ids += (ids.empty() ? "" : ", ") + id;
  }
  yaml += "  activities:\n    \"01.1\": [" + ids + "]\n";
  yaml +=
      std::string("  outcomes:\n    ") + kLicensor + ": {amqp_address: " + kOutcomeAddress + "}\n";
  return yaml;
}

// Each body on a peer of its own in the simulator, as each would run its own.
std::string simulatorConfig(const Options& options, int licgate_amqp,
                            const std::vector<int>& body_ports) {
  std::string yaml =
      "licgate:\n  amqp_url: \"amqp://127.0.0.1:" + std::to_string(licgate_amqp) + "\"\nbodies:\n";
  for (int b = 0; b < options.bodies; ++b) {
    const std::string id = "body-" + std::to_string(b);
    yaml += "  - id: " + id + "\n    channel:\n      amqp_peer: {listen: \"127.0.0.1:" +
            std::to_string(body_ports[b]) + "\", address: queries/" + id + "}\n";
  }
  return yaml;
}

std::vector<RoundRequest> makeRequests(std::size_t count, const std::string& prefix) {
  std::vector<RoundRequest> requests;
  requests.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const std::string id = prefix + std::to_string(i);
    nlohmann::json body = {
        {"application_id", id},
        {"licensor", kLicensor},
        {"applicant", {{"iin_bin", "050540004455"}, {"name", "Alem Energy LLP"}}},
        {"activity", "01.1"},
        {"data", {{"site", "Almaty, Seifullin 12"}, {"n", i}}}};
    requests.push_back({id, body.dump()});
  }
  return requests;
}

// The commands Redis receives while it is watched, as MONITOR shows them:
// those a client sent (EVALSHA, a pipeline's HMGET) apart from those the
// scripts ran inside Redis (MONITOR names their client "lua"). INFO
// commandstats cannot tell the two apart when both use the same command.
// MONITOR costs Redis some time per command, so the counting phase is kept
// apart from the measured one.
struct RedisCalls {
  std::uint64_t sent = 0;
  std::uint64_t inside = 0;
};

class CommandCounter {
 public:
  // Watches Redis at `port` from now until counted() is called.
  static registry::Result<std::unique_ptr<CommandCounter>> start(int port) {
    redisContext* context = redisConnect("127.0.0.1", port);
    if (context == nullptr || context->err != 0) {
      if (context != nullptr) {
        redisFree(context);
      }
      return makeError(ErrorCode::kUnavailable, "redis at port " + std::to_string(port));
    }
    auto* reply = static_cast<redisReply*>(redisCommand(context, "MONITOR"));
    const bool watching = reply != nullptr && reply->type == REDIS_REPLY_STATUS;
    if (reply != nullptr) {
      freeReplyObject(reply);
    }
    if (!watching) {
      redisFree(context);
      return makeError(ErrorCode::kUnavailable, "redis refused MONITOR");
    }
    // A short timeout, so that the thread sees the stop flag.
    const timeval tick{0, 100'000};
    redisSetTimeout(context, tick);
    return std::unique_ptr<CommandCounter>(new CommandCounter(context));
  }

  ~CommandCounter() {
    stop_ = true;
    if (thread_.joinable()) {
      thread_.join();
    }
    redisFree(context_);
  }

  // Stops watching; what was seen.
  RedisCalls counted() {
    stop_ = true;
    thread_.join();
    return calls_;
  }

 private:
  explicit CommandCounter(redisContext* context) : context_(context) {
    thread_ = std::thread([this] { watch(); });
  }

  // Each line: <time> [<db> <client address, or lua>] "<command>" ...
  void watch() {
    while (!stop_) {
      void* raw = nullptr;
      if (redisGetReply(context_, &raw) != REDIS_OK) {
        if (context_->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK)) {
          context_->err = 0;
          continue;
        }
        return;
      }
      auto* reply = static_cast<redisReply*>(raw);
      if (reply->type == REDIS_REPLY_STATUS) {
        const std::string_view line(reply->str, reply->len);
        (line.find(" lua] ") != std::string_view::npos ? calls_.inside : calls_.sent) += 1;
      }
      freeReplyObject(reply);
    }
  }

  redisContext* context_;
  std::atomic<bool> stop_{false};
  RedisCalls calls_;  // the watching thread's until counted()
  std::thread thread_;
};

// used_memory from INFO memory: what the rounds in Redis take.
std::uint64_t redisUsedMemory(int port) {
  redisContext* context = redisConnect("127.0.0.1", port);
  std::uint64_t used = 0;
  if (context != nullptr && context->err == 0) {
    auto* reply = static_cast<redisReply*>(redisCommand(context, "INFO memory"));
    if (reply != nullptr && reply->type == REDIS_REPLY_STRING) {
      const std::string text(reply->str, reply->len);
      const auto at = text.find("used_memory:");
      if (at != std::string::npos) {
        used = std::stoull(text.substr(at + 12));
      }
    }
    if (reply != nullptr) {
      freeReplyObject(reply);
    }
  }
  if (context != nullptr) {
    redisFree(context);
  }
  return used;
}

registry::Result<RoundLoadResult> rounds(const Options& options, int amqp_port,
                                         const std::vector<RoundRequest>& requests) {
  RoundLoadOptions load;
  load.port = amqp_port;
  load.system = kSystem;
  load.outcome_address = kOutcomeAddress;
  load.window = options.window;
  load.rounds_per_s = options.rate / options.bodies;
  load.timeout = std::chrono::seconds(options.timeout_s);
  load.interrupted = &stopFlags().interrupted;
  auto result = runRounds(load, requests);
  if (!result) {
    return result;
  }
  if (result->timed_out || !result->transport_error.empty() || result->rejected > 0) {
    return makeError(
        ErrorCode::kUnavailable,
        "rounds did not complete: " + std::to_string(result->outcomes) + " of " +
            std::to_string(requests.size()) + " outcomes, " + std::to_string(result->rejected) +
            " requests rejected" +
            (result->first_rejection.empty() ? "" : " (" + result->first_rejection + ")") +
            (result->transport_error.empty() ? "" : ", " + result->transport_error) +
            (result->timed_out ? ", timed out" : ""));
  }
  return result;
}

registry::Status runBenchmark(const Options& options) {
  auto dir = TempDir::create("licgate-conformity-bench");
  if (!dir) {
    return dir.takeError();
  }
  if (options.keep) {
    dir->keep();
    std::fprintf(stderr, "bench: conformity: run directory %s\n", dir->path().c_str());
  }
  auto redis_port = pickFreePort();
  std::vector<int> body_ports;
  for (int b = 0; b < options.bodies; ++b) {
    auto port = pickFreePort();
    if (!port) {
      return port.takeError();
    }
    body_ports.push_back(*port);
  }
  if (!redis_port) {
    return redis_port.takeError();
  }
  auto redis = startRedisServer(options.redis_server, *dir, *redis_port, true);
  if (!redis) {
    return redis.takeError();
  }
  auto licgate = startLicgate(options.licgate, options.wrapper, *dir,
                              licgateConfig(options, *dir, *redis_port, body_ports));
  if (!licgate) {
    return licgate.takeError();
  }
  const std::string sim_config = dir->path() + "/bodies.yaml";
  std::ofstream(sim_config) << simulatorConfig(options, licgate->ports.amqp, body_ports);
  auto simulator = ChildProcess::spawn({options.licgate, "play-bodies", "--config", sim_config},
                                       dir->path() + "/bodies.log");
  if (!simulator) {
    stopLicgate(licgate->process);
    return simulator.takeError();
  }
  for (int port : body_ports) {
    if (auto up = waitForPort(port, Clock::now() + std::chrono::seconds(10)); !up) {
      stopLicgate(licgate->process);
      return up.takeError();
    }
  }

  auto warm = rounds(options, licgate->ports.amqp, makeRequests(options.warmup_rounds, "W-"));
  if (!warm) {
    stopLicgate(licgate->process);
    return makeError(warm.error().code, "warm-up: " + warm.error().message);
  }
  const double licgate_cpu_before = readCpuSeconds(licgate->process.pid());
  const double redis_cpu_before = readCpuSeconds(redis->pid());
  const double bodies_cpu_before = readCpuSeconds(simulator->pid());
  const double own_cpu_before = ownCpuSeconds();
  const std::uint64_t memory_before = redisUsedMemory(*redis_port);
  auto measured = rounds(options, licgate->ports.amqp, makeRequests(options.rounds, "M-"));
  const double licgate_cpu = readCpuSeconds(licgate->process.pid()) - licgate_cpu_before;
  const double redis_cpu = readCpuSeconds(redis->pid()) - redis_cpu_before;
  const double bodies_cpu = readCpuSeconds(simulator->pid()) - bodies_cpu_before;
  const double own_cpu = ownCpuSeconds() - own_cpu_before;
  const std::uint64_t memory_after = redisUsedMemory(*redis_port);
  // The counting phase: the measured rounds' last writes first, so that
  // they are not counted as the new rounds'.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  registry::Result<RedisCalls> calls = makeError(ErrorCode::kUnavailable, "not counted");
  registry::Result<RoundLoadResult> counted = makeError(ErrorCode::kUnavailable, "not run");
  if (measured) {
    auto counter = CommandCounter::start(*redis_port);
    if (!counter) {
      calls = counter.takeError();
    } else {
      counted = rounds(options, licgate->ports.amqp, makeRequests(options.count_rounds, "C-"));
      // The counted rounds' own last writes (receipts, deliveries) go on
      // after their outcomes arrived.
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      calls = (*counter)->counted();
    }
  }
  simulator->stop(std::chrono::seconds(5));
  stopLicgate(licgate->process);
  redis->stop(std::chrono::seconds(5));
  if (!measured) {
    return measured.takeError();
  }
  if (!counted) {
    return makeError(counted.error().code, "counting phase: " + counted.error().message);
  }
  if (!calls) {
    return calls.takeError();
  }

  const double queries = static_cast<double>(measured->outcomes) * options.bodies;
  const double rate = measured->elapsed_s > 0 ? queries / measured->elapsed_s : 0;
  const double counted_queries = static_cast<double>(counted->outcomes) * options.bodies;
  const double sent = static_cast<double>(calls->sent);
  const double p50 = quantile(measured->latency_ms, 0.50);
  const double p99 = quantile(measured->latency_ms, 0.99);
  if (options.verbose) {
    auto per_query = [queries](double cpu) { return queries > 0 ? cpu * 1e6 / queries : 0; };
    char load[160];
    if (options.rate > 0) {
      std::snprintf(load, sizeof load, "%.0f queries/s offered (sends late: p99 %.2f ms)",
                    options.rate, quantile(measured->send_lag_ms, 0.99));
    } else {
      std::snprintf(load, sizeof load, "window %zu", options.window);
    }
    std::fprintf(stderr,
                 "conformity: %zu rounds of %d queries in %.2f s, %s; CPU us/query: "
                 "licgate %.0f, redis %.0f, bodies %.0f, this licensor %.0f; outcomes sent "
                 "again %llu; max %.2f ms; Redis memory %.0f bytes/round\n",
                 options.rounds, options.bodies, measured->elapsed_s, load, per_query(licgate_cpu),
                 per_query(redis_cpu), per_query(bodies_cpu), per_query(own_cpu),
                 static_cast<unsigned long long>(measured->repeated_outcomes),
                 quantile(measured->latency_ms, 1.0),
                 static_cast<double>(memory_after - std::min(memory_after, memory_before)) /
                     static_cast<double>(std::max<std::size_t>(options.rounds, 1)));
  }
  std::printf(
      "bench: conformity queries_per_s=%.0f redis_cmds_per_query=%.2f added_p50_ms=%.2f "
      "added_p99_ms=%.2f\n",
      rate, counted_queries > 0 ? sent / counted_queries : 0, p50, p99);
  std::printf("bench: conformity_redis commands_in_scripts_per_query=%.1f\n",
              counted_queries > 0 ? static_cast<double>(calls->inside) / counted_queries : 0);
  return {};
}

void addOptions(CLI::App& app, Options& options) {
  addProgramOptions(app, options);
  app.add_option("--rounds", options.rounds, "applications in the measured phase")
      ->check(CLI::Range(1, 10'000'000));
  app.add_option("--warmup-rounds", options.warmup_rounds, "applications before it")
      ->check(CLI::Range(1, 10'000'000));
  app.add_option("--count-rounds", options.count_rounds,
                 "applications after the measured ones, with Redis' commands counted")
      ->check(CLI::Range(1, 10'000'000));
  app.add_option("--bodies", options.bodies, "interested bodies per application")
      ->check(CLI::Range(1, 16));
  app.add_option("--window", options.window, "rounds open at once (closed loop)")
      ->check(CLI::Range(1, 100'000));
  app.add_option("--rate", options.rate,
                 "queries/s offered in an open loop, whatever is open (0: closed loop)")
      ->check(CLI::Range(0.0, 1e6));
}

}  // namespace
}  // namespace licgate::bench

int main(int argc, char** argv) {
  licgate::bench::Options options;
  options.licgate = licgate::bench::buildTreeProgram("gateway/licgate");
  CLI::App app{"licgate conformity benchmark: rounds of queries to simulated bodies"};
  licgate::bench::addOptions(app, options);
  CLI11_PARSE(app, argc, argv);
  licgate::bench::stopOnSignals(options.timeout_s);

  auto status = licgate::bench::runBenchmark(options);
  if (!status) {
    std::fprintf(stderr, "bench: conformity failed: %s\n", status.error().message.c_str());
    return 1;
  }
  return 0;
}
