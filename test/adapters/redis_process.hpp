// A real redis-server for tests: on a free loopback port, in a temporary
// directory, without persistence unless asked for AOF; stopped and removed
// by the destructor.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>

#include "test/ports.hpp"

namespace licgate::test {

class RedisProcess {
 public:
  // Picks the port; does not start. With `append_only`, Redis keeps an AOF
  // in its directory, so that a stop() and start() find every key again.
  explicit RedisProcess(bool append_only = false);
  ~RedisProcess();
  RedisProcess(const RedisProcess&) = delete;
  RedisProcess& operator=(const RedisProcess&) = delete;

  // Starts redis-server and waits until it answers; false when it does not
  // within five seconds.
  bool start();
  // Stops it (SIGTERM, then waits); start() again reuses the port.
  void stop();
  // SIGSTOP / SIGCONT: a Redis that accepts bytes but never answers.
  void pause();
  void resume();

  int port() const { return port_; }

 private:
  int port_;
  std::string dir_;
  bool append_only_;
  pid_t pid_ = -1;
};

inline RedisProcess::RedisProcess(bool append_only)
    : port_(pickFreePort()), append_only_(append_only) {
  std::string pattern = (std::filesystem::temp_directory_path() / "licgate-redis-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("cannot make a temporary directory");
  }
  dir_ = pattern;
}

inline RedisProcess::~RedisProcess() {
  stop();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

inline bool RedisProcess::start() {
  std::string port = std::to_string(port_);
  std::string log = dir_ + "/redis.log";
  pid_ = ::fork();
  if (pid_ == 0) {
    ::execlp("redis-server", "redis-server", "--port", port.c_str(), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", append_only_ ? "yes" : "no", "--dir", dir_.c_str(),
             "--logfile", log.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    if (canConnect(port_)) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

inline void RedisProcess::stop() {
  if (pid_ <= 0) {
    return;
  }
  ::kill(pid_, SIGCONT);
  ::kill(pid_, SIGTERM);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

inline void RedisProcess::pause() {
  ::kill(pid_, SIGSTOP);
}

inline void RedisProcess::resume() {
  ::kill(pid_, SIGCONT);
}

}  // namespace licgate::test
