// Real peers for the gateway tests, on loopback only: temporary directories,
// free ports, a redis-server of the test's own, the licgate program as a
// child process, and a minimal HTTP/1.1 client.
//
// Header-only because the test programs are built from *_test.cpp files.
// Every process started here is stopped by its destructor, so a failing
// test leaves nothing running.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test/ports.hpp"

namespace licgate::testing {

namespace fs = std::filesystem;

// A fresh directory under the system's temporary directory, removed with
// everything in it when the object goes.
class TempDir {
 public:
  TempDir() {
    std::random_device random;
    path_ = fs::temp_directory_path() / ("licgate-test-" + std::to_string(random()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const fs::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

// Ports for peers that cannot take port 0 themselves (redis-server), or
// that must come back on the same one (test/ports.hpp).
using test::canConnect;
using test::pickFreePort;

// A child process with its stdout and stderr in a file.
class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess() { kill(SIGKILL); }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  void start(const std::vector<std::string>& argv, const std::string& log_file) {
    std::vector<char*> args;
    for (const auto& arg : argv) {
      args.push_back(const_cast<char*>(arg.c_str()));
    }
    args.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      // A test program killed by a timeout runs no destructors: its children
      // die with it instead of lingering.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      const int log = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(log, STDOUT_FILENO);
      ::dup2(log, STDERR_FILENO);
      ::execvp(args[0], args.data());
      ::_exit(127);
    }
    if (pid_ < 0) {
      throw std::runtime_error("fork failed");
    }
  }

  bool running() const { return pid_ > 0; }

  // Waits for the process to end by itself; returns its exit code (128 +
  // the signal when a signal ended it).
  int wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  pid_t pid() const { return pid_; }

  // Sends `signal` and reaps the process, with SIGKILL after 15 s so that a
  // process that does not stop cannot hang the test; returns its wait status.
  int kill(int signal) {
    if (pid_ <= 0) {
      return -1;
    }
    ::kill(pid_, signal);
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
};

template <typename Ready>
bool waitFor(Ready ready, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ready()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return ready();
}

// A redis-server of the test's own: loopback, a free port, no persistence,
// its files in `dir`.
class RedisServer {
 public:
  explicit RedisServer(const fs::path& dir) : dir_(dir), port_(pickFreePort()) {}

  void start() {
    process_.start(
        {"redis-server", "--bind", "127.0.0.1", "--port", std::to_string(port_), "--save", "",
         "--appendonly", "no", "--dir", dir_.string(), "--protected-mode", "no"},
        (dir_ / "redis.log").string());
    if (!waitFor([&] { return canConnect(port_); })) {
      throw std::runtime_error("redis-server did not start on port " + std::to_string(port_));
    }
  }

  void stop() { process_.kill(SIGKILL); }
  int port() const { return port_; }

 private:
  fs::path dir_;
  int port_;
  ChildProcess process_;
};

struct HttpReply {
  int status = 0;
  std::string body;
};

// One request over a fresh connection (Connection: close); status 0 when
// the server cannot be reached. `headers` are whole lines without CRLF.
inline HttpReply httpRequest(int port, const std::string& method, const std::string& target,
                             const std::vector<std::string>& headers = {},
                             const std::string& body = "") {
  HttpReply reply;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return reply;
  }
  std::string request =
      method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const std::string& line : headers) {
    request += line + "\r\n";
  }
  if (!body.empty()) {
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  request += "\r\n" + body;
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string response;
  char buffer[65536];
  for (ssize_t got; (got = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) {
    response.append(buffer, static_cast<std::size_t>(got));
  }
  ::close(fd);
  if (response.size() < 12) {
    return reply;
  }
  reply.status = std::atoi(response.substr(9, 3).c_str());
  const auto body_at = response.find("\r\n\r\n");
  if (body_at != std::string::npos) {
    reply.body = response.substr(body_at + 4);
  }
  if (response.find("Transfer-Encoding: chunked") != std::string::npos ||
      response.find("transfer-encoding: chunked") != std::string::npos) {
    std::string joined;
    std::size_t at = 0;
    while (at < reply.body.size()) {
      const auto line_end = reply.body.find("\r\n", at);
      const auto size = std::stoul(reply.body.substr(at, line_end - at), nullptr, 16);
      if (size == 0) {
        break;
      }
      joined += reply.body.substr(line_end + 2, size);
      at = line_end + 2 + size + 2;
    }
    reply.body = joined;
  }
  return reply;
}

inline HttpReply httpGet(int port, const std::string& target) {
  return httpRequest(port, "GET", target);
}

// Runs a program to its end with its output in `output_file`; returns the
// exit code.
inline int runProgram(const std::vector<std::string>& argv, const std::string& output_file) {
  ChildProcess process;
  process.start(argv, output_file);
  return process.wait();
}

inline std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline void writeFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// The licgate program, started with a configuration and --ports-file.
class LicgateProcess {
 public:
  LicgateProcess(std::string program, std::string config_path, const fs::path& dir)
      : program_(std::move(program)),
        config_path_(std::move(config_path)),
        ports_file_((dir / "ports.json").string()),
        log_file_((dir / "licgate.log").string()) {}

  // Starts licgate and waits until it has written its ports.
  void start() {
    std::error_code ignored;
    fs::remove(ports_file_, ignored);
    process_.start({program_, "serve", "--config", config_path_, "--ports-file", ports_file_},
                   log_file_);
    if (!waitFor([&] { return fs::exists(ports_file_); })) {
      throw std::runtime_error("licgate wrote no ports file; log:\n" + readFile(log_file_));
    }
    const auto ports = nlohmann::json::parse(readFile(ports_file_));
    amqp_port_ = ports.at("amqp").get<int>();
    http_port_ = ports.at("http").get<int>();
  }

  int stop(int signal = SIGTERM) { return process_.kill(signal); }
  int amqpPort() const { return amqp_port_; }
  int httpPort() const { return http_port_; }
  std::string log() const { return readFile(log_file_); }

 private:
  std::string program_;
  std::string config_path_;
  std::string ports_file_;
  std::string log_file_;
  ChildProcess process_;
  int amqp_port_ = 0;
  int http_port_ = 0;
};

}  // namespace licgate::testing
