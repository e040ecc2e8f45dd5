// A small HTTP/1.1 server on Boost.Beast for licgate's JSON API.
//
// The server owns its threads; handlers run on them and may block (they read
// the store). Requests and responses are plain structs here so that Beast
// stays inside server.cpp, the one translation unit that compiles it.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "registry/result.hpp"

namespace licgate::adapters::http {

struct Request {
  std::string method;                             // "GET", "POST", ...
  std::string target;                             // path and query, as sent
  std::string path;                               // decoded path without the query
  std::multimap<std::string, std::string> query;  // decoded, all values of a repeated name
  std::map<std::string, std::string> headers;     // lower-case names
  std::string body;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Fields besides Server, Content-Type, Content-Length and Connection, which
  // the server sets itself: {"Allow", "GET"}. The `{}` lets a Response be
  // brace-initialised without it under -Wmissing-field-initializers.
  std::map<std::string, std::string> headers{};
};

using Handler = std::function<Response(const Request&)>;

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port
  int threads = 2;
  std::size_t max_body_bytes = 1 << 20;
  // A request line and headers must arrive whole within this long of the
  // connection (or its previous answer): a client that sends them a byte at
  // a time (slowloris) is closed, and so is an idle keep-alive connection.
  int header_timeout_ms = 10'000;
  // A body may take as long as it needs while it keeps coming: the
  // connection is closed only when this long passes without a byte of it.
  int body_idle_timeout_ms = 30'000;
  // Connections open at once; one more is answered 503 and closed, so that
  // no client can take every socket the process may hold.
  int max_connections = 512;
};

class Server {
 public:
  virtual ~Server() = default;
  // Binds and starts the threads. kUnavailable naming the address on failure.
  virtual registry::Status start() = 0;
  virtual int boundPort() const = 0;
  // Stops accepting, finishes nothing more, joins the threads. Idempotent.
  virtual void stop() = 0;
};

// `handler` gets every request; exceptions from it become a 500 JSON error.
std::unique_ptr<Server> makeServer(ServerOptions options, Handler handler);

}  // namespace licgate::adapters::http
