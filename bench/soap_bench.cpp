// The SOAP read benchmark (docs/benchmarks.md): GetLicence over SOAP 1.1 at
// 50 keep-alive connections against the real licgate program and against a
// server gSOAP generates from licgate's WSDL, both answering from the same
// register file and the same shuffled licence numbers. It prints one line:
//   bench: soap_get_licence rps=X p99_ms=Y gsoap_rps=B ratio=X/B
// (rps and p99 are licgate's). Every answer is checked; one wrong answer
// fails the run. Everything runs on 127.0.0.1; the benchmark starts its own
// redis-server, licgate and gSOAP server, stops them, and gives up after
// --timeout-s.
#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>
#include <CLI/CLI.hpp>

#include "bench/amqp_load.hpp"
#include "bench/events.hpp"
#include "bench/harness.hpp"
#include "bench/program_options.hpp"
#include "bench/register_seed.hpp"
#include "bench/soap_load.hpp"

namespace licgate::bench {
namespace {

using registry::ErrorCode;
using registry::makeError;

// The same shuffle in every run, so that runs are comparable.
constexpr std::uint32_t kShuffleSeed = 20240301;

struct Options : ProgramOptions {
  std::size_t licences = 5000;
  std::size_t annexes = 2;
  int connections = 50;
  double warmup_s = 5;
  double duration_s = 5;
  int http_threads = 2;
  std::string gsoap_server;
};

// One server's half of the run.
struct ServerFigures {
  SoapLoadResult load;
  double server_cpu_s = 0;  // the server's CPU over warm-up and measure
  double load_cpu_s = 0;    // the benchmark's own CPU over the same
};

double callsPerSecond(const SoapLoadResult& load) {
  return load.elapsed_s > 0 ? static_cast<double>(load.answered) / load.elapsed_s : 0;
}

SoapLoadOptions loadOptions(const Options& options, int port) {
  SoapLoadOptions load;
  load.port = port;
  load.connections = options.connections;
  load.warmup = std::chrono::milliseconds(static_cast<std::int64_t>(options.warmup_s * 1000));
  load.measure = std::chrono::milliseconds(static_cast<std::int64_t>(options.duration_s * 1000));
  load.interrupted = &stopFlags().interrupted;
  return load;
}

// Runs the load against a server that is up, and the CPU both sides spent.
registry::Result<ServerFigures> measure(const Options& options, ChildProcess& server, int port,
                                        const std::vector<std::string>& numbers) {
  double server_before = readCpuSeconds(server.pid());
  double own_before = ownCpuSeconds();
  auto load = runSoapLoad(loadOptions(options, port), numbers);
  if (!load) {
    if (stopFlags().timed_out.load()) {
      return makeError(ErrorCode::kUnavailable,
                       "timed out after " + std::to_string(options.timeout_s) + " s");
    }
    return load.takeError();
  }
  ServerFigures figures;
  figures.server_cpu_s = readCpuSeconds(server.pid()) - server_before;
  figures.load_cpu_s = ownCpuSeconds() - own_before;
  figures.load = std::move(*load);
  return figures;
}

// licgate reads the seeded register; AMQP listens on any port, unused.
std::string makeConfig(const Options& options, const std::string& register_path, int redis_port) {
  std::string yaml;
  yaml += "store:\n  path: " + register_path + "\n  synchronous: full\n";
  yaml += "  busy_timeout_ms: 5000\n  country: KZ\n";
  yaml +=
      "redis:\n  enabled: true\n  host: 127.0.0.1\n  port: " + std::to_string(redis_port) + "\n";
  yaml += "amqp:\n  host: 127.0.0.1\n  port: 0\n  container_id: licgate-soap-bench\n";
  yaml += "  addresses:\n    - licences/events\n";
  yaml +=
      "http:\n  host: 127.0.0.1\n  port: 0\n  threads: " + std::to_string(options.http_threads) +
      "\n";
  yaml += std::string("licensors:\n  - code: ") + kBenchLicensor + "\n    name: Бенчмарк\n";
  yaml += std::string("systems:\n  - id: ") + kBenchSystem + "\n    name: SOAP benchmark\n";
  yaml += std::string("    licensors: [") + kBenchLicensor + "]\n";
  yaml += "log:\n  level: warn\n  format: json\n";
  return yaml;
}

// licgate with its own redis-server, both living exactly as long as this call.
registry::Result<ServerFigures> runLicgate(const Options& options, const TempDir& dir,
                                           const std::string& register_path,
                                           const std::vector<std::string>& numbers) {
  auto redis_port = pickFreePort();
  if (!redis_port) {
    return redis_port.takeError();
  }
  auto redis = startRedisServer(options.redis_server, dir, *redis_port);
  if (!redis) {
    return redis.takeError();
  }
  auto licgate = startLicgate(options.licgate, options.wrapper, dir,
                              makeConfig(options, register_path, *redis_port));
  if (!licgate) {
    return licgate.takeError();
  }
  auto figures = measure(options, licgate->process, licgate->ports.http, numbers);
  stopLicgate(licgate->process);
  redis->stop(std::chrono::seconds(5));
  return figures;
}

// The gSOAP server writes its port once it listens.
registry::Result<int> waitForServerPort(ChildProcess& server, const std::string& path,
                                        Clock::time_point deadline) {
  while (Clock::now() < deadline) {
    if (!server.running()) {
      return makeError(ErrorCode::kUnavailable, "the gSOAP server exited at start-up");
    }
    auto text = readFile(path);
    if (text && !text->empty() && text->back() == '\n') {
      return std::atoi(text->c_str());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return makeError(ErrorCode::kUnavailable, "the gSOAP server wrote no port in time");
}

registry::Result<ServerFigures> runGsoap(const Options& options, const TempDir& dir,
                                         const std::string& register_path,
                                         const std::vector<std::string>& numbers) {
  std::string port_path = dir.path() + "/gsoap.port";
  auto server = ChildProcess::spawn({options.gsoap_server, register_path, port_path},
                                    dir.path() + "/gsoap.log");
  if (!server) {
    return server.takeError();
  }
  auto port = waitForServerPort(*server, port_path, Clock::now() + std::chrono::seconds(30));
  if (!port) {
    return port.takeError();
  }
  auto figures = measure(options, *server, *port, numbers);
  server->stop(std::chrono::seconds(5));
  return figures;
}

void describe(const char* name, ServerFigures& figures) {
  SoapLoadResult& load = figures.load;
  double calls = static_cast<double>(load.warmup_calls + load.answered);
  double p50 = quantile(load.latency_ms, 0.50);
  double p99 = quantile(load.latency_ms, 0.99);
  double max = quantile(load.latency_ms, 1.0);
  std::fprintf(stderr,
               "bench: %s answered=%" PRIu64 " warmup=%" PRIu64
               " rps=%.0f p50_ms=%.3f"
               " p99_ms=%.3f max_ms=%.3f reconnects=%" PRIu64
               " server_cpu_us_per_call=%.1f load_cpu_us_per_call=%.1f\n",
               name, load.answered, load.warmup_calls, callsPerSecond(load), p50, p99, max,
               load.reconnects, calls > 0 ? figures.server_cpu_s * 1e6 / calls : 0,
               calls > 0 ? figures.load_cpu_s * 1e6 / calls : 0);
}

registry::Status runBenchmark(const Options& options) {
  auto dir = TempDir::create("licgate-soap-bench-");
  if (!dir) {
    return dir.takeError();
  }
  // Kept for a look when something failed, unless the run was interrupted.
  struct KeepOnFailure {
    TempDir& dir;
    bool failed = true;
    bool keep = false;
    ~KeepOnFailure() {
      if ((failed && !stopFlags().interrupted.load()) || keep) {
        dir.keep();
        std::fprintf(stderr, "bench: run directory kept: %s\n", dir.path().c_str());
      }
    }
  } guard{*dir, true, options.keep};

  const std::string register_path = dir->path() + "/register.db";
  auto numbers = seedRegister(register_path, options.licences, options.annexes);
  if (!numbers) {
    return numbers.takeError();
  }
  std::shuffle(numbers->begin(), numbers->end(), std::mt19937(kShuffleSeed));

  auto licgate = runLicgate(options, *dir, register_path, *numbers);
  if (!licgate) {
    return makeError(licgate.error().code, "licgate: " + licgate.error().message);
  }
  auto gsoap = runGsoap(options, *dir, register_path, *numbers);
  if (!gsoap) {
    return makeError(gsoap.error().code, "gSOAP server: " + gsoap.error().message);
  }
  guard.failed = false;

  if (options.verbose) {
    describe("licgate", *licgate);
    describe("gsoap", *gsoap);
  }
  double rate = callsPerSecond(licgate->load);
  double gsoap_rate = callsPerSecond(gsoap->load);
  double p99 = quantile(licgate->load.latency_ms, 0.99);
  std::printf("bench: soap_get_licence rps=%.0f p99_ms=%.2f gsoap_rps=%.0f ratio=%.2f\n", rate, p99,
              gsoap_rate, gsoap_rate > 0 ? rate / gsoap_rate : 0);
  return {};
}

void addOptions(CLI::App& app, Options& options) {
  addProgramOptions(app, options);
  app.add_option("--licences", options.licences, "licences written to the register")
      ->check(CLI::Range(1, 1'000'000));
  app.add_option("--annexes", options.annexes, "annexes of each licence")
      ->check(CLI::Range(0, 100));
  app.add_option("--connections", options.connections, "keep-alive connections of the load")
      ->check(CLI::Range(1, 400));
  app.add_option("--warmup-s", options.warmup_s, "seconds of load before the measured phase")
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--duration-s", options.duration_s, "seconds of the measured phase")
      ->check(CLI::Range(0.1, 3600.0));
  app.add_option("--http-threads", options.http_threads, "licgate: http.threads")
      ->check(CLI::Range(1, 64));
  app.add_option("--gsoap-server", options.gsoap_server, "the generated gSOAP server")
      ->check(CLI::ExistingFile);
}

}  // namespace
}  // namespace licgate::bench

int main(int argc, char** argv) {
  licgate::bench::Options options;
  options.licgate = licgate::bench::buildTreeProgram("gateway/licgate");
  options.gsoap_server = licgate::bench::buildTreeProgram("bench/gsoap_licence_server");
  CLI::App app{"licgate SOAP benchmark: GetLicence against licgate and a gSOAP server"};
  licgate::bench::addOptions(app, options);
  CLI11_PARSE(app, argc, argv);
  licgate::bench::stopOnSignals(options.timeout_s);

  auto status = licgate::bench::runBenchmark(options);
  if (!status) {
    std::fprintf(stderr, "bench: soap_get_licence failed: %s\n", status.error().message.c_str());
    return 1;
  }
  return 0;
}
