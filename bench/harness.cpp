// Child processes, loopback ports, temporary directories and a small HTTP
// client for the benchmarks (bench/harness.hpp).
#include "bench/harness.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace licgate::bench {

namespace {

using registry::ErrorCode;
using registry::makeError;

std::string describeErrno(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

// Runs in the forked child before exec: only async-signal-safe calls, so
// everything it needs was prepared before fork. An exec failure writes
// errno to `report`, which exec closes on success (O_CLOEXEC).
[[noreturn]] void execChild(char* const* args, const char* log_path, pid_t parent, int report) {
  // The kernel kills the child when the benchmark dies, whatever the cause;
  // the parent may already be gone between fork and prctl, hence the check.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) {
    _exit(126);
  }
  // Its own process group, so that stop() reaches a wrapper's children too
  // (a profiler or tracer that runs licgate) and a terminal's Ctrl-C reaches
  // only the benchmark, which then stops its children in order.
  setpgid(0, 0);
  int log = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log >= 0) {
    dup2(log, STDOUT_FILENO);
    dup2(log, STDERR_FILENO);
  }
  int null_in = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_in >= 0) {
    dup2(null_in, STDIN_FILENO);
  }
  execvp(args[0], args);
  int failure = errno;
  ssize_t ignored = write(report, &failure, sizeof(failure));
  (void)ignored;
  _exit(127);
}

sockaddr_in loopbackAddress(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

bool connectOnce(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  sockaddr_in address = loopbackAddress(port);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  close(fd);
  return ok;
}

}  // namespace

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), status_(other.status_) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    stop(std::chrono::milliseconds(2000));
    pid_ = std::exchange(other.pid_, -1);
    status_ = other.status_;
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  stop(std::chrono::milliseconds(2000));
}

registry::Result<ChildProcess> ChildProcess::spawn(const std::vector<std::string>& argv,
                                                   const std::string& log_path) {
  if (argv.empty()) {
    return makeError(ErrorCode::kInternal, "spawn: empty command line");
  }
  std::vector<char*> args;
  for (const auto& arg : argv) {
    args.push_back(const_cast<char*>(arg.c_str()));
  }
  args.push_back(nullptr);
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) {
    return makeError(ErrorCode::kUnavailable, describeErrno("pipe for " + argv[0]));
  }

  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    close(report[0]);
    execChild(args.data(), log_path.c_str(), parent, report[1]);
  }
  close(report[1]);
  if (pid > 0) {
    setpgid(pid, pid);  // as the child does, so stop() works whichever runs first
  }
  if (pid < 0) {
    close(report[0]);
    return makeError(ErrorCode::kUnavailable, describeErrno("fork for " + argv[0]));
  }
  ChildProcess child;
  child.pid_ = pid;

  // EOF on the pipe means exec succeeded; an int on it is exec's errno.
  int failure = 0;
  ssize_t got = read(report[0], &failure, sizeof(failure));
  close(report[0]);
  if (got == static_cast<ssize_t>(sizeof(failure))) {
    child.stop(std::chrono::milliseconds(100));
    errno = failure;
    return makeError(ErrorCode::kUnavailable, describeErrno("cannot run " + argv[0]));
  }
  return child;
}

bool ChildProcess::running() {
  if (pid_ < 0) {
    return false;
  }
  int status = 0;
  pid_t done = waitpid(pid_, &status, WNOHANG);
  if (done == pid_ || (done < 0 && errno == ECHILD)) {
    status_ = status;
    pid_ = -1;
    return false;
  }
  return true;
}

int ChildProcess::stop(std::chrono::milliseconds grace) {
  if (!running()) {
    return status_;
  }
  kill(-pid_, SIGTERM);
  auto deadline = Clock::now() + grace;
  while (Clock::now() < deadline) {
    if (!running()) {
      return status_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(-pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  status_ = status;
  pid_ = -1;
  return status_;
}

registry::Result<int> pickFreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return makeError(ErrorCode::kUnavailable, describeErrno("socket for a free port"));
  }
  sockaddr_in address = loopbackAddress(0);
  socklen_t length = sizeof(address);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    std::string message = describeErrno("bind 127.0.0.1:0");
    close(fd);
    return makeError(ErrorCode::kUnavailable, message);
  }
  close(fd);
  return static_cast<int>(ntohs(address.sin_port));
}

registry::Status waitForPort(int port, Clock::time_point deadline) {
  while (Clock::now() < deadline) {
    if (connectOnce(port)) {
      return {};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return makeError(ErrorCode::kUnavailable,
                   "nothing listens on 127.0.0.1:" + std::to_string(port) + " in time");
}

TempDir::TempDir(TempDir&& other) noexcept
    : path_(std::exchange(other.path_, {})), keep_(other.keep_) {}

TempDir::~TempDir() {
  if (!path_.empty() && !keep_) {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
}

registry::Result<TempDir> TempDir::create(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/" + prefix + "XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (mkdtemp(buffer.data()) == nullptr) {
    return makeError(ErrorCode::kUnavailable, describeErrno("mkdtemp " + pattern));
  }
  TempDir dir;
  dir.path_ = buffer.data();
  return dir;
}

registry::Result<ChildProcess> startRedisServer(const std::string& program, const TempDir& dir,
                                                int port, bool append_only) {
  auto redis = ChildProcess::spawn(
      {program, "--port", std::to_string(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
       append_only ? "yes" : "no", "--zset-max-listpack-entries", "0", "--dir", dir.path(),
       "--daemonize", "no"},
      dir.path() + "/redis.log");
  if (!redis) {
    return redis.takeError();
  }
  LICGATE_RETURN_IF_ERROR(waitForPort(port, Clock::now() + std::chrono::seconds(10)));
  return redis;
}

namespace {

registry::Status sendAll(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) {
      return makeError(ErrorCode::kUnavailable, describeErrno("HTTP send"));
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

registry::Result<std::string> readToEof(int fd, std::chrono::milliseconds timeout) {
  std::string data;
  char chunk[8192];
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    pollfd ready{fd, POLLIN, 0};
    if (poll(&ready, 1, 50) <= 0) {
      continue;
    }
    ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
    if (n == 0) {
      return data;
    }
    if (n < 0) {
      return makeError(ErrorCode::kUnavailable, describeErrno("HTTP read"));
    }
    data.append(chunk, static_cast<std::size_t>(n));
  }
  return makeError(ErrorCode::kUnavailable, "HTTP read timed out");
}

registry::Result<HttpReply> parseReply(const std::string& raw, const std::string& url) {
  // RFC 9112 section 4: "HTTP/1.1 200 OK" then headers, a blank line, body.
  std::size_t space = raw.find(' ');
  std::size_t head_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/", 0) != 0 || space == std::string::npos || head_end == std::string::npos) {
    return makeError(ErrorCode::kMalformed, "no HTTP status line from " + url);
  }
  HttpReply reply;
  reply.status = std::atoi(raw.c_str() + space + 1);
  reply.body = raw.substr(head_end + 4);
  return reply;
}

}  // namespace

registry::Result<HttpReply> httpGet(int port, const std::string& target,
                                    std::chrono::milliseconds timeout) {
  std::string url = "http://127.0.0.1:" + std::to_string(port) + target;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address = loopbackAddress(port);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    std::string message = describeErrno("connect " + url);
    if (fd >= 0) {
      close(fd);
    }
    return makeError(ErrorCode::kUnavailable, message);
  }
  std::string request = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                        "\r\nConnection: close\r\n\r\n";
  auto sent = sendAll(fd, request);
  auto raw = sent ? readToEof(fd, timeout) : registry::Result<std::string>(sent.takeError());
  close(fd);
  if (!raw) {
    return makeError(raw.error().code, raw.error().message + " (" + url + ")");
  }
  return parseReply(*raw, url);
}

registry::Result<std::uint64_t> readPeakRss(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/status";
  auto text = readFile(path);
  if (!text) {
    return text.takeError();
  }
  std::istringstream lines(*text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      return static_cast<std::uint64_t>(std::strtoull(line.c_str() + 6, nullptr, 10)) * 1024;
    }
  }
  return makeError(ErrorCode::kUnavailable, "no VmHWM in " + path);
}

registry::Result<std::vector<ThreadTimes>> readThreadTimes(pid_t pid) {
  std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  std::error_code error;
  std::filesystem::directory_iterator entries(tasks, error);
  if (error) {
    return makeError(ErrorCode::kUnavailable, "cannot list " + tasks + ": " + error.message());
  }
  std::vector<ThreadTimes> threads;
  for (const auto& entry : entries) {
    auto name = readFile(entry.path().string() + "/comm");
    auto schedstat = readFile(entry.path().string() + "/schedstat");
    if (!name || !schedstat) {
      continue;
    }
    ThreadTimes times;
    times.name = name->substr(0, name->find('\n'));
    std::istringstream fields(*schedstat);
    std::uint64_t on_cpu_ns = 0;
    std::uint64_t waiting_ns = 0;
    fields >> on_cpu_ns >> waiting_ns;
    times.cpu_s = static_cast<double>(on_cpu_ns) / 1e9;
    times.runqueue_s = static_cast<double>(waiting_ns) / 1e9;
    threads.push_back(times);
  }
  return threads;
}

registry::Result<LicgatePorts> waitForLicgatePorts(ChildProcess& licgate, const std::string& path,
                                                   Clock::time_point deadline) {
  while (Clock::now() < deadline) {
    if (!licgate.running()) {
      return makeError(ErrorCode::kUnavailable, "licgate exited at start-up");
    }
    auto text = readFile(path);
    auto json = text ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json();
    if (json.is_object() && json.contains("amqp") && json.contains("http")) {
      return LicgatePorts{json["amqp"].get<int>(), json["http"].get<int>()};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return makeError(ErrorCode::kUnavailable, "licgate wrote no ports to " + path + " in time");
}

double readCpuSeconds(pid_t pid) {
  auto text = readFile("/proc/" + std::to_string(pid) + "/stat");
  if (!text) {
    return 0;
  }
  std::size_t after_name = text->rfind(')');
  std::istringstream fields(text->substr(after_name + 2));
  std::string field;
  std::uint64_t ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i >= 14) {
      ticks += std::stoull(field);
    }
  }
  return static_cast<double>(ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

StopFlags& stopFlags() {
  static StopFlags flags;
  return flags;
}

namespace {

void noteInterrupt(int) {
  stopFlags().interrupted.store(true);
}

void noteTimeout(int) {
  stopFlags().timed_out.store(true);
  stopFlags().interrupted.store(true);
}

}  // namespace

void stopOnSignals(int timeout_s) {
  std::signal(SIGINT, noteInterrupt);
  std::signal(SIGTERM, noteInterrupt);
  if (timeout_s > 0) {
    std::signal(SIGALRM, noteTimeout);
    alarm(static_cast<unsigned>(timeout_s));
  }
}

std::string buildTreeProgram(const std::string& relative) {
  std::error_code error;
  auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) {
    return relative;
  }
  return (self.parent_path().parent_path() / relative).string();
}

std::vector<std::string> splitWords(const std::string& text) {
  std::istringstream words(text);
  std::vector<std::string> out;
  for (std::string word; words >> word;) {
    out.push_back(word);
  }
  return out;
}

registry::Result<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return makeError(ErrorCode::kUnavailable, "cannot read " + path);
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

registry::Status writeFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    return makeError(ErrorCode::kUnavailable, "cannot write " + path);
  }
  return {};
}

registry::Result<RunningLicgate> startLicgate(const std::string& licgate,
                                              const std::string& wrapper, const TempDir& dir,
                                              const std::string& config_text) {
  const std::string config_path = dir.path() + "/licgate.yaml";
  LICGATE_RETURN_IF_ERROR(writeFile(config_path, config_text));
  const std::string ports_path = dir.path() + "/ports.json";
  std::vector<std::string> command = splitWords(wrapper);
  command.insert(command.end(),
                 {licgate, "serve", "--config", config_path, "--ports-file", ports_path});
  auto process = ChildProcess::spawn(command, dir.path() + "/licgate.log");
  if (!process) {
    return process.takeError();
  }
  auto ports = waitForLicgatePorts(*process, ports_path, Clock::now() + std::chrono::seconds(30));
  if (!ports) {
    return ports.takeError();
  }
  return RunningLicgate{std::move(*process), *ports};
}

void stopLicgate(ChildProcess& licgate) {
  int status = licgate.stop(std::chrono::seconds(10));
  if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
    std::fprintf(stderr, "bench: warning: licgate did not exit 0 on SIGTERM (wait status %d)\n",
                 status);
  }
}

double ownCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

}  // namespace licgate::bench
