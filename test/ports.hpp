// Loopback ports for the servers tests start (licgate, redis-server, the
// body simulator's peers), shared by every test helper.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <random>
#include <stdexcept>

namespace licgate::test {

inline sockaddr_in loopbackAddress(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

// A TCP port on 127.0.0.1 that nothing is bound to now, taken below the
// kernel's ephemeral range (32768 and up by default on Linux). Tests stop
// servers and start them again on the same port (licgate killed mid-round,
// Redis restarted); a port the kernel once handed out for port 0 it hands
// out again as the source port of some outgoing connection, which may then
// hold it when the server comes back ("Address already in use").
inline int pickFreePort() {
  thread_local std::mt19937 random{std::random_device{}()};
  std::uniform_int_distribution<int> ports(20000, 32000);
  for (int tries = 0; tries < 500; ++tries) {
    const int port = ports(random);
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    const sockaddr_in address = loopbackAddress(port);
    const bool free = ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    if (free) {
      return port;
    }
  }
  throw std::runtime_error("no free loopback port in 20000..32000");
}

inline bool canConnect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  const sockaddr_in address = loopbackAddress(port);
  const bool connected =
      ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return connected;
}

}  // namespace licgate::test
