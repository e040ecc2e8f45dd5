// The HTTP/1.1 server on Boost.Beast: the only translation unit that
// compiles Beast.
//
// Threads: `threads` threads run one io_context. Each connection is a
// Session on its own strand, so one connection's steps never run at once;
// the handler runs on the thread that read the request and may block.
//
// A connection reads one request, answers it, and reads the next while both
// sides keep it alive (RFC 9112 section 9.3). A request whose body is over
// max_body_bytes is answered 413 and the connection closed, because the
// rest of its body is never read.
#include "adapters/http/server.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <nlohmann/json.hpp>

#include <pthread.h>
#include <atomic>
#include <cctype>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "adapters/logger.hpp"
#include "mapping/error_table.hpp"
#include "registry/text.hpp"

namespace licgate::adapters::http {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using registry::Error;
using registry::ErrorCode;
using registry::makeError;
using registry::Result;

// A client that does not read its answer holds a socket; after this long
// it is closed.
constexpr std::chrono::seconds kWriteTimeout(30);

// Sent, without reading anything, to the connection one over the limit.
constexpr std::string_view kTooManyConnections =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    "Connection: close\r\nRetry-After: 1\r\nContent-Length: 67\r\n\r\n"
    "{\"error\":\"unavailable\",\"message\":\"too many connections; try again\"}";
// Request line and headers; more is not an API request.
constexpr std::uint32_t kHeaderLimit = 16 * 1024;

// Beast 1.74 has its own string_view.
std::string_view toStd(beast::string_view text) {
  return {text.data(), text.size()};
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

// RFC 3986 section 2.1 percent-decoding; in a query, '+' also stands for a
// space (HTML form encoding). A '%' not followed by two hex digits makes the
// text malformed (nullopt): kept as it is, it would name a licence or an
// application that no client meant.
std::optional<std::string> decodePercent(std::string_view text, bool plus_is_space) {
  std::string decoded;
  decoded.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size() || hexValue(text[i + 1]) < 0 || hexValue(text[i + 2]) < 0) {
        return std::nullopt;
      }
      decoded.push_back(static_cast<char>(hexValue(text[i + 1]) * 16 + hexValue(text[i + 2])));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      decoded.push_back(' ');
    } else {
      decoded.push_back(c);
    }
  }
  return decoded;
}

Error badEscape(std::string_view where, std::string_view text) {
  return makeError(ErrorCode::kMalformed,
                   std::string(where) + " \"" + registry::quoteForMessage(text) +
                       "\" has a '%' that is not followed by two hexadecimal digits "
                       "(RFC 3986 section 2.1: write a '%' itself as %25)");
}

// "a=1&b=two+words". A repeated name keeps every value: which one to take,
// or whether to take any, is the handler's to decide.
Result<std::multimap<std::string, std::string>> decodeQuery(std::string_view query) {
  std::multimap<std::string, std::string> parameters;
  while (!query.empty()) {
    std::size_t end = query.find('&');
    std::string_view pair = query.substr(0, end);
    query = end == std::string_view::npos ? std::string_view() : query.substr(end + 1);
    if (pair.empty()) {
      continue;
    }
    std::size_t equals = pair.find('=');
    auto name = decodePercent(pair.substr(0, equals), true);
    auto value = equals == std::string_view::npos ? std::optional<std::string>("")
                                                  : decodePercent(pair.substr(equals + 1), true);
    if (!name || !value) {
      return badEscape("the query parameter", pair);
    }
    parameters.emplace(std::move(*name), std::move(*value));
  }
  return parameters;
}

std::string lowerCase(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return lower;
}

Result<Request> toRequest(bhttp::request<bhttp::string_body>&& message) {
  Request request;
  request.method = std::string(toStd(message.method_string()));
  request.target = std::string(toStd(message.target()));
  std::string_view target = toStd(message.target());
  std::size_t question = target.find('?');
  auto path = decodePercent(target.substr(0, question), false);
  if (!path) {
    return badEscape("the request path", target.substr(0, question));
  }
  request.path = std::move(*path);
  if (question != std::string_view::npos) {
    auto query = decodeQuery(target.substr(question + 1));
    if (!query.ok()) {
      return query.takeError();
    }
    request.query = std::move(*query);
  }
  for (const auto& field : message) {
    std::string name = lowerCase(toStd(field.name_string()));
    auto [entry, inserted] = request.headers.emplace(name, std::string(toStd(field.value())));
    if (!inserted) {
      // RFC 9110 section 5.3: repeated fields combine into one list.
      entry->second.append(", ").append(toStd(field.value()));
    }
  }
  request.body = std::move(message.body());
  return request;
}

Response errorResponse(ErrorCode code, const std::string& message) {
  Response response;
  response.status = mapping::errorTransport(code).http_status;
  // The message may quote a path or parameter as the client sent it, bytes
  // that are not UTF-8 included: replaced, not thrown on, since this is
  // also the answer to a handler that threw.
  response.body =
      nlohmann::json{{"error", registry::errorCodeName(code)}, {"message", message}}.dump(
          -1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

// Counts a connection for as long as its session lives.
class ConnectionSlot {
 public:
  explicit ConnectionSlot(std::atomic<int>& open) : open_(open) { open_.fetch_add(1); }
  ~ConnectionSlot() { open_.fetch_sub(1); }
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;

 private:
  std::atomic<int>& open_;
};

// One connection: do_x starts an asynchronous step, on_x completes it. A
// request is read in two steps, the header under the header timeout and
// then the body a piece at a time, each piece under the body's idle
// timeout, so that a slow upload that keeps sending is not cut.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, const ServerOptions& options, const Handler& handler,
          std::shared_ptr<spdlog::logger> logger, std::atomic<int>& open)
      : stream_(std::move(socket)),
        options_(options),
        handler_(handler),
        logger_(std::move(logger)),
        slot_(open) {}

  void start() {
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&Session::doRead, shared_from_this()));
  }

 private:
  void doRead() {
    parser_.emplace();
    parser_->body_limit(options_.max_body_bytes);
    parser_->header_limit(kHeaderLimit);
    stream_.expires_after(std::chrono::milliseconds(options_.header_timeout_ms));
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             beast::bind_front_handler(&Session::onReadHeader, shared_from_this()));
  }

  void onReadHeader(beast::error_code error, std::size_t) {
    if (error || parser_->is_done()) {
      onRead(error);
      return;
    }
    doReadBody();
  }

  void doReadBody() {
    stream_.expires_after(std::chrono::milliseconds(options_.body_idle_timeout_ms));
    bhttp::async_read_some(stream_, buffer_, *parser_,
                           beast::bind_front_handler(&Session::onReadBody, shared_from_this()));
  }

  void onReadBody(beast::error_code error, std::size_t) {
    if (error || parser_->is_done()) {
      onRead(error);
      return;
    }
    doReadBody();
  }

  void onRead(beast::error_code error) {
    if (error == bhttp::error::end_of_stream) {
      doClose();
      return;
    }
    if (error == bhttp::error::body_limit) {
      doWrite(errorResponse(ErrorCode::kTooLarge, "the request body is over the limit of " +
                                                      std::to_string(options_.max_body_bytes) +
                                                      " bytes"),
              false, 11, false);
      return;
    }
    if (error && error.category() == bhttp::make_error_code(bhttp::error::body_limit).category()) {
      doWrite(errorResponse(ErrorCode::kMalformed,
                            "the request is not valid HTTP/1.1: " + error.message()),
              false, 11, false);
      return;
    }
    if (error) {
      logger_->debug("HTTP connection dropped: {}", error.message());
      doClose();
      return;
    }
    bhttp::request<bhttp::string_body> message = parser_->release();
    // RFC 9112 section 3.2: an HTTP/1.1 request without Host is answered 400.
    if (message.version() == 11 && message.find(bhttp::field::host) == message.end()) {
      doWrite(errorResponse(ErrorCode::kMalformed,
                            "the HTTP/1.1 request has no Host header (RFC 9112 section 3.2)"),
              false, 11, false);
      return;
    }
    bool keep_alive = message.keep_alive();
    unsigned version = message.version();
    bool head = message.method() == bhttp::verb::head;
    auto request = toRequest(std::move(message));
    if (!request.ok()) {
      doWrite(errorResponse(request.error().code, request.error().message), keep_alive, version,
              head);
      return;
    }
    doWrite(callHandler(*request), keep_alive, version, head);
  }

  // Exceptions end here: the client gets a 500 and the server goes on.
  Response callHandler(const Request& request) {
    auto started = std::chrono::steady_clock::now();
    Response response;
    try {
      response = handler_(request);
    } catch (const std::exception& failure) {
      logger_->error("HTTP handler failed on {} {}: {}", request.method, request.path,
                     failure.what());
      response = errorResponse(ErrorCode::kInternal, "licgate failed while answering " +
                                                         request.method + " " + request.path);
    } catch (...) {
      logger_->error("HTTP handler failed on {} {}", request.method, request.path);
      response = errorResponse(ErrorCode::kInternal, "licgate failed while answering " +
                                                         request.method + " " + request.path);
    }
    auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - started);
    // The path only: a query may hold a holder's identifier.
    logger_->debug("HTTP {} {} -> {} in {} us", request.method, request.path, response.status,
                   elapsed.count());
    return response;
  }

  // A response to HEAD keeps its Content-Length but sends no body (RFC 9110
  // section 9.3.2): bytes after the header would be read by a keep-alive
  // client as the start of the next response.
  void doWrite(Response&& response, bool keep_alive, unsigned version, bool head) {
    response_.emplace(static_cast<bhttp::status>(response.status), version);
    response_->set(bhttp::field::server, "licgate");
    response_->set(bhttp::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) {
      response_->set(name, value);
    }
    response_->body() = std::move(response.body);
    response_->keep_alive(keep_alive);
    response_->prepare_payload();
    if (head) {
      response_->body().clear();
    }
    stream_.expires_after(kWriteTimeout);
    bhttp::async_write(
        stream_, *response_,
        beast::bind_front_handler(&Session::onWrite, shared_from_this(), !keep_alive));
  }

  void onWrite(bool close, beast::error_code error, std::size_t) {
    if (error) {
      logger_->debug("HTTP write failed: {}", error.message());
      return;
    }
    if (close) {
      doClose();
      return;
    }
    doRead();
  }

  void doClose() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<bhttp::response<bhttp::string_body>> response_;
  const ServerOptions& options_;
  const Handler& handler_;
  std::shared_ptr<spdlog::logger> logger_;
  ConnectionSlot slot_;
};

class BeastServer final : public Server {
 public:
  BeastServer(ServerOptions options, Handler handler)
      : options_(std::move(options)), handler_(std::move(handler)), logger_(getLogger("http")) {}

  ~BeastServer() override { stop(); }

  registry::Status start() override;
  int boundPort() const override { return bound_port_.load(); }
  void stop() override;

 private:
  registry::Status bind(const std::string& address);
  void doAccept();
  void onAccept(beast::error_code error, tcp::socket socket);

  const ServerOptions options_;
  const Handler handler_;
  std::shared_ptr<spdlog::logger> logger_;
  std::unique_ptr<asio::io_context> io_context_;
  std::unique_ptr<tcp::acceptor> acceptor_;  // destroyed before io_context_
  std::vector<std::thread> threads_;
  std::atomic<int> bound_port_{0};
  std::atomic<int> open_connections_{0};
  std::mutex lifecycle_mutex_;
  bool running_ = false;
};

registry::Status BeastServer::start() {
  std::lock_guard lock(lifecycle_mutex_);
  if (running_) {
    return {};
  }
  std::string address = options_.host + ":" + std::to_string(options_.port);
  int threads = std::max(options_.threads, 1);
  io_context_ = std::make_unique<asio::io_context>(threads);
  LICGATE_RETURN_IF_ERROR(bind(address));

  doAccept();
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this] {
      pthread_setname_np(pthread_self(), "http");
      io_context_->run();
    });
  }
  running_ = true;
  logger_->info("HTTP server listening on {}:{} with {} threads", options_.host, bound_port_.load(),
                threads);
  return {};
}

registry::Status BeastServer::bind(const std::string& address) {
  auto fail = [&](const beast::error_code& error) {
    acceptor_.reset();
    return registry::makeError(ErrorCode::kUnavailable,
                               "cannot listen for HTTP on " + address + ": " + error.message());
  };
  beast::error_code error;
  asio::ip::address ip = asio::ip::make_address(options_.host, error);
  if (error) {
    return fail(error);
  }
  tcp::endpoint endpoint(ip, static_cast<std::uint16_t>(options_.port));
  acceptor_ = std::make_unique<tcp::acceptor>(asio::make_strand(*io_context_));
  if (acceptor_->open(endpoint.protocol(), error) ||
      acceptor_->set_option(asio::socket_base::reuse_address(true), error) ||
      acceptor_->bind(endpoint, error) ||
      acceptor_->listen(asio::socket_base::max_listen_connections, error)) {
    return fail(error);
  }
  bound_port_ = acceptor_->local_endpoint().port();
  return {};
}

void BeastServer::doAccept() {
  acceptor_->async_accept(asio::make_strand(*io_context_),
                          beast::bind_front_handler(&BeastServer::onAccept, this));
}

void BeastServer::onAccept(beast::error_code error, tcp::socket socket) {
  if (error == asio::error::operation_aborted) {
    return;
  }
  if (error) {
    // Out of descriptors, for one: this connection is lost, the next may work.
    logger_->warn("HTTP accept failed: {}", error.message());
  } else if (open_connections_.load() >= options_.max_connections) {
    // The answer fits in the socket's send buffer, so writing it here does
    // not hold up the accept loop.
    logger_->debug("HTTP connection refused: {} open", open_connections_.load());
    beast::error_code ignored;
    asio::write(socket, asio::buffer(kTooManyConnections.data(), kTooManyConnections.size()),
                ignored);
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  } else {
    std::make_shared<Session>(std::move(socket), options_, handler_, logger_, open_connections_)
        ->start();
  }
  doAccept();
}

// Pending handlers, and with them the sessions and their sockets, are
// destroyed with the io_context.
void BeastServer::stop() {
  std::lock_guard lock(lifecycle_mutex_);
  if (!running_) {
    return;
  }
  running_ = false;
  io_context_->stop();
  for (std::thread& thread : threads_) {
    thread.join();
  }
  threads_.clear();
  acceptor_.reset();
  io_context_.reset();
  logger_->info("HTTP server on port {} stopped", bound_port_.load());
}

}  // namespace

std::unique_ptr<Server> makeServer(ServerOptions options, Handler handler) {
  return std::make_unique<BeastServer>(std::move(options), std::move(handler));
}

}  // namespace licgate::adapters::http
