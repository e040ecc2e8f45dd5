// What a benchmark needs around the program it measures: child processes
// that cannot outlive the benchmark, free loopback ports, a private
// temporary directory, a plain HTTP GET, and a process's peak memory.
//
// Everything here is blocking and single-threaded; it is used between the
// timed phases, never inside them.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <sys/types.h>

#include "registry/result.hpp"

namespace licgate::bench {

using Clock = std::chrono::steady_clock;

// A child process started with fork/exec in a process group of its own.
// Its stdout and stderr go to `log_path`. The child is killed with SIGKILL
// if the benchmark dies first (PR_SET_PDEATHSIG), so an interrupted run
// leaves nothing behind; stop() signals the whole group, which includes
// what a wrapper (a profiler, a tracer) started.
class ChildProcess {
 public:
  ChildProcess() = default;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ~ChildProcess();

  // Errors: kUnavailable naming the program when fork or exec fails (an exec
  // failure shows as the child exiting with status 127 at once).
  static registry::Result<ChildProcess> spawn(const std::vector<std::string>& argv,
                                              const std::string& log_path);

  pid_t pid() const { return pid_; }

  // False once the child has exited (reaps it).
  bool running();

  // SIGTERM, then SIGKILL after `grace`; waits for the exit. Returns the exit
  // status as waitpid reports it, or -1 when there was no child. Idempotent.
  int stop(std::chrono::milliseconds grace);

 private:
  pid_t pid_ = -1;
  int status_ = -1;
};

// A port that was free on 127.0.0.1 a moment ago (bound to port 0, then
// closed). A program that cannot take port 0 itself (redis-server) gets one.
registry::Result<int> pickFreePort();

// Polls until a TCP connection to 127.0.0.1:port succeeds or `deadline`.
// Errors: kUnavailable naming the port.
registry::Status waitForPort(int port, Clock::time_point deadline);

// A fresh directory under $TMPDIR (or /tmp), removed with its contents by
// the destructor unless keep() was called.
class TempDir {
 public:
  TempDir() = default;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&& other) noexcept;
  ~TempDir();

  // Errors: kUnavailable naming the template when mkdtemp fails.
  static registry::Result<TempDir> create(const std::string& prefix);

  const std::string& path() const { return path_; }
  void keep() { keep_ = true; }

 private:
  std::string path_;
  bool keep_ = false;
};

// A redis-server on 127.0.0.1:port that keeps nothing on disk, its log in
// `dir`; returns once it accepts connections. Errors: kUnavailable when it
// cannot be started or does not listen within 10 seconds.
// With `append_only`, Redis keeps an AOF in `dir` (appendfsync everysec),
// as it must for the conformity flow (docs/conformity.md). Sorted sets are
// always skip lists (zset-max-listpack-entries 0), as docs/conformity.md
// recommends for the conformity timers.
registry::Result<ChildProcess> startRedisServer(const std::string& program, const TempDir& dir,
                                                int port, bool append_only = false);

struct HttpReply {
  int status = 0;
  std::string body;
};

// GET http://127.0.0.1:port<target> with HTTP/1.1 and Connection: close;
// reads to EOF. Errors: kUnavailable naming the URL when the connection or
// the read fails, kMalformed when the reply has no status line.
registry::Result<HttpReply> httpGet(int port, const std::string& target,
                                    std::chrono::milliseconds timeout);

// Peak resident set size of a live process in bytes, from VmHWM in
// /proc/PID/status (proc(5)). Errors: kUnavailable naming the pid.
registry::Result<std::uint64_t> readPeakRss(pid_t pid);

// CPU time (user and system) this process has used so far, in seconds
// (getrusage(2)): the cost of a benchmark's own load, read around a phase.
double ownCpuSeconds();

// Where one thread of a process spent its time, from /proc/PID/task/TID:
// comm (its name) and schedstat (time on a CPU and time waiting for one,
// in nanoseconds; see the kernel's sched-stats documentation). The rest of
// its life it was blocked: on I/O, a lock, or waiting for work.
struct ThreadTimes {
  std::string name;
  double cpu_s = 0;
  double runqueue_s = 0;
};

// Every thread of a live process; threads that end while it reads are
// skipped. Errors: kUnavailable naming the pid.
registry::Result<std::vector<ThreadTimes>> readThreadTimes(pid_t pid);

// The ports licgate listens on, from the file `licgate serve --ports-file`
// writes ({"amqp":N,"http":M}) once both listeners are bound.
struct LicgatePorts {
  int amqp = 0;
  int http = 0;
};

// Polls `path` until licgate has written it. Errors: kUnavailable when
// licgate exits first or nothing is written by `deadline`.
registry::Result<LicgatePorts> waitForLicgatePorts(ChildProcess& licgate, const std::string& path,
                                                   Clock::time_point deadline);

// A licgate started for a benchmark, listening.
struct RunningLicgate {
  ChildProcess process;
  LicgatePorts ports;
};

// Writes `config_text` as licgate.yaml in `dir` and starts `licgate serve`
// on it, behind the words of `wrapper` (a profiler; empty: none), its log
// in dir/licgate.log; returns once it has written its ports. Errors:
// kUnavailable when it cannot be written, started, or does not listen
// within 30 seconds.
registry::Result<RunningLicgate> startLicgate(const std::string& licgate,
                                              const std::string& wrapper, const TempDir& dir,
                                              const std::string& config_text);

// SIGTERM, and a warning on stderr when licgate does not exit 0 within 10
// seconds (then SIGKILL).
void stopLicgate(ChildProcess& licgate);

// User plus system CPU time of a live process in seconds, 0 when it cannot
// be read (proc(5), fields 14 and 15 of /proc/PID/stat).
double readCpuSeconds(pid_t pid);

// Set by SIGINT or SIGTERM (interrupted) and by the alarm of
// stopOnSignals' timeout (both): a load in progress checks `interrupted`
// and stops, and the benchmark stops what it started.
struct StopFlags {
  std::atomic<bool> interrupted{false};
  std::atomic<bool> timed_out{false};
};
StopFlags& stopFlags();

// Sets SIGINT and SIGTERM to raise stopFlags().interrupted and, when
// `timeout_s` > 0, an alarm that raises both after that many seconds.
void stopOnSignals(int timeout_s);

// A program of the build tree, `relative` to its top (the benchmarks are in
// bench/, licgate in gateway/), found from the running benchmark's path;
// `relative` itself when that path cannot be read.
std::string buildTreeProgram(const std::string& relative);

// `text` split at white space: a wrapper command line ("perf record -g --").
std::vector<std::string> splitWords(const std::string& text);

// The whole file as text. Errors: kUnavailable naming the path.
registry::Result<std::string> readFile(const std::string& path);

// Writes `text` to `path`, replacing it. Errors: kUnavailable naming the path.
registry::Status writeFile(const std::string& path, const std::string& text);

}  // namespace licgate::bench
