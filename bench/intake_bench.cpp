// The intake benchmark (docs/benchmarks.md): the same licence events sent
// over AMQP 1.0 to a bare Proton receiver that accepts without doing
// anything, and to the real licgate program, where each is validated,
// applied, committed to a fresh SQLite store and only then settled. It
// prints one line:
//   bench: intake events_per_s=X p50_ms=Y p99_ms=Z bare_events_per_s=B ratio=X/B rss_mb=M
// Everything runs on 127.0.0.1; the benchmark starts its own redis-server
// and licgate and stops them, and gives up after --timeout-s.
#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "bench/amqp_load.hpp"
#include "bench/events.hpp"
#include "bench/harness.hpp"
#include "bench/program_options.hpp"

namespace licgate::bench {
namespace {

using registry::ErrorCode;
using registry::makeError;

struct Options : ProgramOptions {
  std::size_t events = 100'000;
  std::size_t window = 1000;
  int credit = 1000;
  int max_batch = 256;
  std::string synchronous = "full";
  bool no_redis = false;
  int bare_runs = 3;
  bool bare_only = false;
};

// What licgate says it did, from GET /api/v1/stats (docs/http-api.md).
struct RegisterStats {
  std::uint64_t applied = 0;        // intake.applied: events applied by this process
  std::uint64_t active = 0;         // register.licences.active
  std::uint64_t last_sequence = 0;  // register.lastSequence
  std::uint64_t batches = 0;        // intake.batches: store transactions
};

// What the licgate half measured besides the load itself.
struct LicgateFigures {
  LoadResult load;
  std::uint64_t peak_rss_bytes = 0;
  RegisterStats stats;
  double cpu_s = 0;         // licgate's user and system CPU
  double sender_cpu_s = 0;  // the benchmark's own CPU while it sent
  double redis_cpu_s = 0;   // redis-server's CPU over the run
  std::vector<ThreadTimes> threads;
};

// The benchmark's own CPU time so far (user and system, all threads).
double eventsPerSecond(const LoadResult& load) {
  return load.elapsed_s > 0 ? static_cast<double>(load.accepted) / load.elapsed_s : 0;
}

void describeLoad(const char* name, LoadResult load) {
  double p50 = quantile(load.latency_ms, 0.50);
  double p99 = quantile(load.latency_ms, 0.99);
  double max = quantile(load.latency_ms, 1.0);
  std::fprintf(stderr,
               "bench: %s sent=%" PRIu64 " accepted=%" PRIu64 " rejected=%" PRIu64
               " released=%" PRIu64
               " elapsed_s=%.3f events_per_s=%.0f p50_ms=%.3f p99_ms=%.3f"
               " max_ms=%.3f\n",
               name, load.sent, load.accepted, load.rejected, load.released, load.elapsed_s,
               eventsPerSecond(load), p50, p99, max);
}

// The load is valid only when every message was accepted in time.
registry::Status checkAllAccepted(const char* name, const LoadResult& load, std::size_t count) {
  if (!load.transport_error.empty()) {
    return makeError(ErrorCode::kUnavailable,
                     std::string(name) + ": connection failed: " + load.transport_error);
  }
  if (load.timed_out || load.accepted != count) {
    return makeError(ErrorCode::kInternal,
                     std::string(name) + ": " + std::to_string(load.accepted) + " of " +
                         std::to_string(count) + " accepted (rejected " +
                         std::to_string(load.rejected) + ", released " +
                         std::to_string(load.released) +
                         (load.timed_out ? ", stopped by the timeout or an interrupt)" : ")"));
  }
  return {};
}

// The bare run: the load and the CPU both ends of it used (sender and
// receiver share the benchmark's process).
struct BareFigures {
  LoadResult load;
  double cpu_s = 0;
};

registry::Result<BareFigures> runBare(const Options& options,
                                      const std::vector<LoadMessage>& messages) {
  auto receiver = startBareReceiver(options.credit);
  if (!receiver) {
    return receiver.takeError();
  }
  LoadOptions load_options;
  load_options.port = (*receiver)->port();
  load_options.system = kBenchSystem;
  load_options.window = options.window;
  load_options.timeout = std::chrono::seconds(options.timeout_s);
  load_options.interrupted = &stopFlags().interrupted;
  double cpu_before = ownCpuSeconds();
  auto load = sendLoad(load_options, messages);
  (*receiver)->stop();
  if (!load) {
    return load.takeError();
  }
  LICGATE_RETURN_IF_ERROR(checkAllAccepted("bare receiver", *load, messages.size()));
  return BareFigures{std::move(*load), ownCpuSeconds() - cpu_before};
}

// The bare rate moves with whatever else the machine runs (two threads on
// two cores, or on one), so it is measured several times and the run with
// the median rate is the reference.
registry::Result<BareFigures> runBareMedian(const Options& options,
                                            const std::vector<LoadMessage>& messages) {
  std::vector<BareFigures> runs;
  for (int i = 0; i < options.bare_runs; ++i) {
    auto run = runBare(options, messages);
    if (!run) {
      return run.takeError();
    }
    runs.push_back(std::move(*run));
  }
  std::sort(runs.begin(), runs.end(), [](const BareFigures& a, const BareFigures& b) {
    return eventsPerSecond(a.load) < eventsPerSecond(b.load);
  });
  if (options.verbose) {
    std::fprintf(stderr, "bench: bare runs events_per_s=");
    for (const BareFigures& run : runs) {
      std::fprintf(stderr, "%s%.0f", &run == &runs.front() ? "" : ",", eventsPerSecond(run.load));
    }
    std::fprintf(stderr, " (median taken)\n");
  }
  return std::move(runs[runs.size() / 2]);
}

// A configuration for one run: a fresh store in the run's directory, the
// run's own redis-server, any free ports, and one sending system allowed
// for the benchmark's licensor.
std::string makeConfig(const Options& options, int redis_port) {
  std::string yaml;
  yaml += "store:\n  path: licgate.db\n  synchronous: " + options.synchronous + "\n";
  yaml += "  busy_timeout_ms: 5000\n  country: KZ\n";
  yaml +=
      "redis:\n  enabled: true\n  host: 127.0.0.1\n  port: " + std::to_string(redis_port) + "\n";
  yaml += "amqp:\n  host: 127.0.0.1\n  port: 0\n  container_id: licgate-bench\n";
  yaml += "  credit_window: " + std::to_string(options.credit) + "\n";
  yaml += "  max_batch: " + std::to_string(options.max_batch) + "\n";
  yaml += "  addresses:\n    - licences/events\n";
  yaml += "http:\n  host: 127.0.0.1\n  port: 0\n  threads: 1\n";
  yaml += std::string("licensors:\n  - code: ") + kBenchLicensor + "\n    name: Бенчмарк\n";
  yaml += std::string("systems:\n  - id: ") + kBenchSystem + "\n    name: Intake benchmark\n";
  yaml += std::string("    licensors: [") + kBenchLicensor + "]\n";
  yaml += "log:\n  level: warn\n  format: json\n";
  return yaml;
}

registry::Result<RegisterStats> readStats(int http_port) {
  const std::string target = "/api/v1/stats";
  auto reply = httpGet(http_port, target, std::chrono::seconds(10));
  if (!reply) {
    return reply.takeError();
  }
  auto json = nlohmann::json::parse(reply->body, nullptr, false);
  if (reply->status != 200 || !json.is_object()) {
    return makeError(ErrorCode::kMalformed, "GET " + target + ": status " +
                                                std::to_string(reply->status) + ": " + reply->body);
  }
  try {
    RegisterStats stats;
    stats.applied = json.at("intake").at("applied").get<std::uint64_t>();
    stats.batches = json.at("intake").at("batches").get<std::uint64_t>();
    stats.active = json.at("register").at("licences").at("active").get<std::uint64_t>();
    stats.last_sequence = json.at("register").at("lastSequence").get<std::uint64_t>();
    return stats;
  } catch (const nlohmann::json::exception& error) {
    return makeError(ErrorCode::kMalformed, "GET " + target + ": " + error.what());
  }
}

// Sends the load to a running licgate and reads back what it did, before
// it is stopped: the applied count, its peak RSS and its CPU time.
registry::Result<LicgateFigures> measureLicgate(const Options& options, ChildProcess& licgate,
                                                const LicgatePorts& ports,
                                                const std::vector<LoadMessage>& messages) {
  LoadOptions load_options;
  load_options.port = ports.amqp;
  load_options.system = kBenchSystem;
  load_options.window = options.window;
  load_options.timeout = std::chrono::seconds(options.timeout_s);
  load_options.interrupted = &stopFlags().interrupted;
  double cpu_before = ownCpuSeconds();
  auto load = sendLoad(load_options, messages);
  if (!load) {
    return load.takeError();
  }
  LICGATE_RETURN_IF_ERROR(checkAllAccepted("licgate", *load, messages.size()));

  LicgateFigures figures;
  figures.sender_cpu_s = ownCpuSeconds() - cpu_before;
  figures.load = std::move(*load);
  auto stats = readStats(ports.http);
  if (!stats) {
    return stats.takeError();
  }
  figures.stats = *stats;
  auto rss = readPeakRss(licgate.pid());
  if (!rss) {
    return rss.takeError();
  }
  figures.peak_rss_bytes = *rss;
  figures.cpu_s = readCpuSeconds(licgate.pid());
  if (auto threads = readThreadTimes(licgate.pid())) {
    figures.threads = std::move(*threads);
  }
  return figures;
}

// Starts licgate with a fresh configuration, waits for its ports, measures
// it and stops it.
registry::Result<LicgateFigures> runLicgateWith(const Options& options,
                                                const std::vector<LoadMessage>& messages,
                                                TempDir& dir, int redis_port) {
  auto licgate =
      startLicgate(options.licgate, options.wrapper, dir, makeConfig(options, redis_port));
  if (!licgate) {
    return licgate.takeError();
  }
  auto figures = measureLicgate(options, licgate->process, licgate->ports, messages);
  stopLicgate(licgate->process);
  return figures;
}

// The run's own redis-server lives exactly as long as this call.
registry::Result<LicgateFigures> runLicgate(const Options& options,
                                            const std::vector<LoadMessage>& messages,
                                            TempDir& dir) {
  auto redis_port = pickFreePort();
  if (!redis_port) {
    return redis_port.takeError();
  }
  ChildProcess redis;
  if (!options.no_redis) {
    auto started = startRedisServer(options.redis_server, dir, *redis_port);
    if (!started) {
      return started.takeError();
    }
    redis = std::move(*started);
  }
  auto figures = runLicgateWith(options, messages, dir, *redis_port);
  if (figures && redis.running()) {
    figures->redis_cpu_s = readCpuSeconds(redis.pid());
  }
  redis.stop(std::chrono::seconds(5));
  return figures;
}

// Where the CPU went, per event: the two ends of the bare run, and licgate,
// the benchmark's sender and redis-server in the licgate run. On a machine
// of C cores no run can go faster than C / (sum of its CPU per event).
void describeCpu(const Options& options, const LicgateFigures& licgate, const BareFigures& bare) {
  double n = static_cast<double>(options.events);
  std::fprintf(stderr,
               "bench: cpu_us_per_event bare_both_ends=%.1f licgate=%.1f sender=%.1f redis=%.1f\n",
               bare.cpu_s * 1e6 / n, licgate.cpu_s * 1e6 / n, licgate.sender_cpu_s * 1e6 / n,
               licgate.redis_cpu_s * 1e6 / n);
}

void printSummary(const Options& options, LicgateFigures& licgate, BareFigures& bare) {
  if (options.verbose) {
    describeLoad("bare", bare.load);
    describeLoad("licgate", licgate.load);
    describeCpu(options, licgate, bare);
    const RegisterStats& stats = licgate.stats;
    std::fprintf(stderr,
                 "bench: licgate applied=%" PRIu64 " active=%" PRIu64 " last_sequence=%" PRIu64
                 " batches=%" PRIu64 " cpu_s=%.2f cpu_us_per_event=%.1f\n",
                 stats.applied, stats.active, stats.last_sequence, stats.batches, licgate.cpu_s,
                 licgate.cpu_s * 1e6 / static_cast<double>(options.events));
    for (const ThreadTimes& thread : licgate.threads) {
      std::fprintf(stderr, "bench: licgate thread=%s cpu_s=%.2f runqueue_s=%.2f\n",
                   thread.name.c_str(), thread.cpu_s, thread.runqueue_s);
    }
  }
  double rate = eventsPerSecond(licgate.load);
  double bare_rate = eventsPerSecond(bare.load);
  double p50 = quantile(licgate.load.latency_ms, 0.50);
  double p99 = quantile(licgate.load.latency_ms, 0.99);
  std::printf(
      "bench: intake events_per_s=%.0f p50_ms=%.2f p99_ms=%.2f bare_events_per_s=%.0f "
      "ratio=%.3f rss_mb=%.1f\n",
      rate, p50, p99, bare_rate, bare_rate > 0 ? rate / bare_rate : 0,
      static_cast<double>(licgate.peak_rss_bytes) / (1024.0 * 1024.0));
}

registry::Status runBenchmark(const Options& options) {
  std::vector<LoadMessage> messages = makeIssueMessages(options.events);
  auto bare = runBareMedian(options, messages);
  if (!bare) {
    return bare.takeError();
  }
  if (options.bare_only) {
    describeLoad("bare", bare->load);
    return {};
  }
  auto dir = TempDir::create("licgate-bench-");
  if (!dir) {
    return dir.takeError();
  }
  auto licgate = runLicgate(options, messages, *dir);
  if ((!licgate && !stopFlags().interrupted.load()) || options.keep) {
    dir->keep();
    std::fprintf(stderr, "bench: run directory kept: %s\n", dir->path().c_str());
  }
  if (!licgate) {
    return licgate.takeError();
  }
  // Accepted is not enough: each event must have been applied once, and the
  // fresh register must hold exactly one active licence per event.
  const RegisterStats& stats = licgate->stats;
  if (stats.applied != options.events || stats.active != options.events) {
    return makeError(ErrorCode::kInternal,
                     "licgate accepted every event but applied " + std::to_string(stats.applied) +
                         " and holds " + std::to_string(stats.active) + " active licences, of " +
                         std::to_string(options.events));
  }
  printSummary(options, *licgate, *bare);
  return {};
}

void addOptions(CLI::App& app, Options& options) {
  addProgramOptions(app, options);
  app.add_option("--events", options.events, "events sent to each receiver")
      ->check(CLI::Range(1, 10'000'000));
  app.add_option("--window", options.window, "unsettled deliveries the sender allows")
      ->check(CLI::Range(1, 100'000));
  app.add_option("--credit", options.credit, "link credit of both receivers")
      ->check(CLI::Range(1, 100'000));
  app.add_option("--max-batch", options.max_batch, "licgate: deliveries per store transaction")
      ->check(CLI::Range(1, 100'000));
  app.add_option("--synchronous", options.synchronous, "licgate: store.synchronous")
      ->check(CLI::IsMember({"full", "normal"}));
  app.add_flag("--no-redis", options.no_redis,
               "licgate: redis.enabled false (the store's duplicate check alone)");
  app.add_option("--bare-runs", options.bare_runs, "bare runs; the median rate is the reference")
      ->check(CLI::Range(1, 99));
  app.add_flag("--bare-only", options.bare_only, "measure the bare receiver alone");
}

}  // namespace
}  // namespace licgate::bench

int main(int argc, char** argv) {
  using licgate::bench::Options;
  Options options;
  options.licgate = licgate::bench::buildTreeProgram("gateway/licgate");
  CLI::App app{"licgate intake benchmark: licgate against a bare AMQP receiver"};
  licgate::bench::addOptions(app, options);
  CLI11_PARSE(app, argc, argv);
  licgate::bench::stopOnSignals(0);

  auto status = licgate::bench::runBenchmark(options);
  if (!status) {
    std::fprintf(stderr, "bench: intake failed: %s\n", status.error().message.c_str());
    return 1;
  }
  return 0;
}
