// The options of every benchmark that runs the licgate program itself
// (conformity, intake, SOAP): which programs, how long, and what to keep.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace licgate::bench {

struct ProgramOptions {
  std::string licgate;
  std::string redis_server = "redis-server";
  std::string wrapper;  // a command licgate runs under, e.g. "perf record -g --"
  int timeout_s = 900;  // the whole run gives up after this
  bool keep = false;    // keep the run directory
  bool verbose = false;
};

inline void addProgramOptions(CLI::App& app, ProgramOptions& options) {
  app.add_option("--licgate", options.licgate, "the licgate program")->check(CLI::ExistingFile);
  app.add_option("--redis-server", options.redis_server, "the redis-server program");
  app.add_option("--timeout-s", options.timeout_s, "give up the whole run after this long")
      ->check(CLI::Range(1, 86'400));
  app.add_option("--wrapper", options.wrapper,
                 "run licgate under this command, e.g. \"perf record -g --\" (figures of its "
                 "process are then the wrapper's)");
  app.add_flag("--keep", options.keep, "keep the run directory (register, configs, logs)");
  app.add_flag("-v,--verbose", options.verbose, "details of the run on stderr");
  // The other benchmarks' options are accepted and ignored, so that
  // scripts/bench can pass the same arguments to every benchmark.
  app.allow_extras();
}

}  // namespace licgate::bench
