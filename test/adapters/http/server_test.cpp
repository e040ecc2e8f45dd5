// The HTTP server against a plain socket client speaking HTTP/1.1 bytes.
#include "adapters/http/server.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace licgate::adapters::http {
namespace {

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// One TCP connection to the server; reads answers with Content-Length.
class RawClient {
 public:
  explicit RawClient(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    timeval timeout{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  }
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }

  void send(const std::string& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) {
        return;  // the server closed: the test sees it in the reply
      }
      sent += static_cast<std::size_t>(n);
    }
  }

  std::optional<Reply> readReply() {
    std::size_t end = 0;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) {
        return std::nullopt;
      }
    }
    Reply reply;
    std::string head = buffer_.substr(0, end);
    buffer_.erase(0, end + 4);
    reply.status = std::stoi(head.substr(9, 3));
    std::size_t line = head.find("\r\n");
    while (line != std::string::npos) {
      std::size_t next = head.find("\r\n", line + 2);
      std::string field =
          head.substr(line + 2, next == std::string::npos ? std::string::npos : next - line - 2);
      std::size_t colon = field.find(':');
      std::string name = field.substr(0, colon);
      for (char& c : name) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      reply.headers[name] = field.substr(colon + 2);
      line = next;
    }
    std::size_t length = std::stoul(reply.headers["content-length"]);
    while (buffer_.size() < length) {
      if (!fill()) {
        return std::nullopt;
      }
    }
    reply.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return reply;
  }

  // Everything the server sends until it closes its side.
  std::string readToClose() {
    while (fill()) {
    }
    return std::exchange(buffer_, std::string());
  }

  // True when the server has closed its side (read returns end of file).
  bool closedByServer() {
    char byte = 0;
    return ::recv(fd_, &byte, 1, 0) == 0;
  }

 private:
  bool fill() {
    char chunk[4096];
    ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) {
      return false;
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  int fd_;
  bool connected_ = false;
  std::string buffer_;
};

std::string get(const std::string& target, const std::string& extra_headers = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra_headers + "\r\n";
}

class HttpServerTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (server_) {
      server_->stop();
    }
  }

  void startServer(Handler handler, ServerOptions options = {}) {
    options.port = 0;
    server_ = makeServer(options, std::move(handler));
    auto started = server_->start();
    ASSERT_TRUE(started.ok()) << started.error().message;
  }

  // Starts a server whose handler records the request it was given.
  void startRecording(ServerOptions options = {}) {
    startServer(
        [this](const Request& request) {
          std::lock_guard lock(mutex_);
          requests_.push_back(request);
          return Response{200, "application/json",
                          "{\"seen\":" + std::to_string(requests_.size()) + "}"};
        },
        options);
  }

  Request onlyRequest() {
    std::lock_guard lock(mutex_);
    if (requests_.size() != 1) {
      throw std::runtime_error("expected one request, got " + std::to_string(requests_.size()));
    }
    return requests_[0];
  }

  std::mutex mutex_;
  std::vector<Request> requests_;
  std::unique_ptr<Server> server_;
};

TEST_F(HttpServerTest, ListensOnAFreePortWhenPortIsZero) {
  startRecording();

  EXPECT_GT(server_->boundPort(), 0);
}

TEST_F(HttpServerTest, StartFailsNamingTheAddressWhenThePortIsTaken) {
  startRecording();
  ServerOptions options;
  options.port = server_->boundPort();
  auto second = makeServer(options, [](const Request&) { return Response{}; });

  auto started = second->start();

  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().code, registry::ErrorCode::kUnavailable);
  EXPECT_NE(started.error().message.find("127.0.0.1:" + std::to_string(options.port)),
            std::string::npos)
      << started.error().message;
}

TEST_F(HttpServerTest, StartFailsOnAHostThatIsNotAnAddress) {
  ServerOptions options;
  options.host = "not an address";
  options.port = 0;
  auto server = makeServer(options, [](const Request&) { return Response{}; });

  auto started = server->start();

  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().code, registry::ErrorCode::kUnavailable);
  EXPECT_NE(started.error().message.find("not an address"), std::string::npos);
}

TEST_F(HttpServerTest, HandlerSeesMethodPathAndDecodedQuery) {
  startRecording();
  RawClient client(server_->boundPort());

  client.send(get("/api/v1/licences?holder=%C4%8Cern%C3%BD+a.s.&status=active&empty="));
  auto reply = client.readReply();

  ASSERT_TRUE(reply.has_value());
  Request request = onlyRequest();
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.target, "/api/v1/licences?holder=%C4%8Cern%C3%BD+a.s.&status=active&empty=");
  EXPECT_EQ(request.path, "/api/v1/licences");
  EXPECT_EQ(request.query, (std::multimap<std::string, std::string>{
                               {"holder", "Černý a.s."}, {"status", "active"}, {"empty", ""}}));
}

TEST_F(HttpServerTest, PathIsPercentDecodedButKeepsPlus) {
  startRecording();
  RawClient client(server_->boundPort());

  client.send(get("/api/v1/licences/%C4%8C+1%25"));
  ASSERT_TRUE(client.readReply().has_value());

  EXPECT_EQ(onlyRequest().path, "/api/v1/licences/Č+1%");
}

TEST_F(HttpServerTest, PathWithAPercentNotFollowedByTwoHexDigitsIs400AndReachesNoHandler) {
  startRecording();
  RawClient client(server_->boundPort());

  for (const char* path : {"/api/v1/licences/%ZZ", "/api/v1/licences/1%2", "/a%"}) {
    client.send(get(path));
    auto reply = client.readReply();

    ASSERT_TRUE(reply.has_value()) << path;
    EXPECT_EQ(reply->status, 400) << path;
    EXPECT_NE(reply->body.find("\"error\":\"malformed\""), std::string::npos) << reply->body;
    EXPECT_NE(reply->body.find(std::string("the request path \\\"") + path + "\\\" has a '%'"),
              std::string::npos)
        << reply->body;
  }
  // The connection stays open for the next request.
  client.send(get("/ok"));
  auto reply = client.readReply();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(onlyRequest().path, "/ok");
}

TEST_F(HttpServerTest, QueryParameterWithABadPercentEscapeIs400NamingIt) {
  startRecording();
  RawClient client(server_->boundPort());

  client.send(get("/api/v1/licences?status=active&holder=50%"));
  auto reply = client.readReply();

  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 400);
  EXPECT_NE(reply->body.find("the query parameter \\\"holder=50%\\\""), std::string::npos)
      << reply->body;
}

TEST_F(HttpServerTest, RepeatedQueryParameterKeepsEveryValueInOrder) {
  startRecording();
  RawClient client(server_->boundPort());

  client.send(get("/x?status=terminated&limit=5&status=active&status=terminated"));
  ASSERT_TRUE(client.readReply().has_value());

  EXPECT_EQ(onlyRequest().query,
            (std::multimap<std::string, std::string>{{"limit", "5"},
                                                     {"status", "terminated"},
                                                     {"status", "active"},
                                                     {"status", "terminated"}}));
}

TEST_F(HttpServerTest, HeaderNamesAreLowerCase) {
  startRecording();
  RawClient client(server_->boundPort());

  client.send(get("/healthz", "X-Request-ID: r-17\r\nAccept: application/json\r\n"));
  ASSERT_TRUE(client.readReply().has_value());

  Request request = onlyRequest();
  EXPECT_EQ(request.headers.at("x-request-id"), "r-17");
  EXPECT_EQ(request.headers.at("accept"), "application/json");
}

TEST_F(HttpServerTest, PostBodyReachesTheHandler) {
  startRecording();
  RawClient client(server_->boundPort());
  std::string body = "{\"licence\":\"23000001\"}";

  client.send(
      "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body);
  ASSERT_TRUE(client.readReply().has_value());

  EXPECT_EQ(onlyRequest().method, "POST");
  EXPECT_EQ(onlyRequest().body, body);
}

TEST_F(HttpServerTest, ResponseCarriesStatusContentTypeAndBody) {
  startServer([](const Request&) {
    return Response{404, "application/json", "{\"error\":\"unknown-licence\"}"};
  });
  RawClient client(server_->boundPort());

  client.send(get("/api/v1/licences/99000001"));
  auto reply = client.readReply();

  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 404);
  EXPECT_EQ(reply->headers["content-type"], "application/json");
  EXPECT_EQ(reply->body, "{\"error\":\"unknown-licence\"}");
}

TEST_F(HttpServerTest, ResponseCarriesTheHandlersHeaders) {
  startServer([](const Request&) {
    Response response{405, "application/json", "{}"};
    response.headers["Allow"] = "GET";
    return response;
  });
  RawClient client(server_->boundPort());

  client.send("DELETE /api/v1/licences/99000001 HTTP/1.1\r\nHost: x\r\n\r\n");
  auto reply = client.readReply();

  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 405);
  EXPECT_EQ(reply->headers["allow"], "GET");
  EXPECT_EQ(reply->headers["content-type"], "application/json");
  EXPECT_EQ(reply->body, "{}");
}

TEST_F(HttpServerTest, ResponseToHeadHasTheLengthButNoBody) {
  startServer([](const Request&) { return Response{200, "application/json", "{\"a\":1}"}; });
  RawClient client(server_->boundPort());

  client.send("HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::string bytes = client.readToClose();

  ASSERT_NE(bytes.find("\r\n\r\n"), std::string::npos) << bytes;
  EXPECT_NE(bytes.find("Content-Length: 7\r\n"), std::string::npos) << bytes;
  EXPECT_EQ(bytes.substr(bytes.find("\r\n\r\n") + 4), "");
}

TEST_F(HttpServerTest, ClientSendingItsHeaderSlowlyIsClosedAtTheHeaderTimeout) {
  ServerOptions options;
  options.header_timeout_ms = 200;
  startRecording(options);
  RawClient client(server_->boundPort());
  auto started = std::chrono::steady_clock::now();

  client.send("GET /slow HTTP/1.1\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  client.send("Host: x\r\n");
  bool closed = client.closedByServer();
  auto waited = std::chrono::steady_clock::now() - started;

  EXPECT_TRUE(closed);
  EXPECT_GE(waited, std::chrono::milliseconds(190));
  EXPECT_LT(waited, std::chrono::seconds(5));
  std::lock_guard lock(mutex_);
  EXPECT_TRUE(requests_.empty());
}

// Each piece of the body comes sooner than the body's idle timeout, though
// the whole takes longer than both timeouts.
TEST_F(HttpServerTest, SlowUploadThatKeepsSendingIsNotCut) {
  ServerOptions options;
  options.header_timeout_ms = 300;
  options.body_idle_timeout_ms = 300;
  startRecording(options);
  RawClient client(server_->boundPort());

  client.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\n\r\n");
  for (char byte : std::string("12345678")) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    client.send(std::string(1, byte));
  }
  auto reply = client.readReply();

  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(onlyRequest().body, "12345678");
}

TEST_F(HttpServerTest, UploadThatStopsIsClosedAtTheBodyTimeout) {
  ServerOptions options;
  options.body_idle_timeout_ms = 200;
  startRecording(options);
  RawClient client(server_->boundPort());

  client.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\n\r\n1234");

  EXPECT_TRUE(client.closedByServer());
  std::lock_guard lock(mutex_);
  EXPECT_TRUE(requests_.empty());
}

TEST_F(HttpServerTest, ConnectionOverTheLimitIs503AndTheNextAfterOneClosesIsServed) {
  ServerOptions options;
  options.max_connections = 2;
  startRecording(options);
  auto first = std::make_unique<RawClient>(server_->boundPort());
  RawClient second(server_->boundPort());
  first->send(get("/1"));
  second.send(get("/2"));
  ASSERT_TRUE(first->readReply().has_value());
  ASSERT_TRUE(second.readReply().has_value());

  RawClient third(server_->boundPort());
  std::string refused = third.readToClose();
  first.reset();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  RawClient fourth(server_->boundPort());
  fourth.send(get("/4"));
  auto served = fourth.readReply();

  EXPECT_EQ(refused.rfind("HTTP/1.1 503 ", 0), 0u) << refused;
  EXPECT_NE(refused.find("too many connections"), std::string::npos);
  ASSERT_TRUE(served.has_value());
  EXPECT_EQ(served->status, 200);
}

TEST_F(HttpServerTest, Http11RequestWithoutHostIs400) {
  startRecording();
  RawClient client(server_->boundPort());

  client.send("GET /healthz HTTP/1.1\r\n\r\n");
  auto reply = client.readReply();

  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 400);
  EXPECT_NE(reply->body.find("no Host header"), std::string::npos) << reply->body;
}

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  startRecording();
  RawClient client(server_->boundPort());

  client.send(get("/first"));
  auto first = client.readReply();
  client.send(get("/second"));
  auto second = client.readReply();

  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(first->body, "{\"seen\":1}");
  EXPECT_EQ(second->body, "{\"seen\":2}");
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  startRecording();
  RawClient client(server_->boundPort());

  client.send(get("/first") + get("/second"));
  auto first = client.readReply();
  auto second = client.readReply();

  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(first->body, "{\"seen\":1}");
  EXPECT_EQ(second->body, "{\"seen\":2}");
}

TEST_F(HttpServerTest, ConnectionCloseIsHonoured) {
  startRecording();
  RawClient client(server_->boundPort());

  client.send(get("/healthz", "Connection: close\r\n"));
  auto reply = client.readReply();

  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->headers["connection"], "close");
  EXPECT_TRUE(client.closedByServer());
}

TEST_F(HttpServerTest, BodyOverTheLimitIs413NamingTheLimit) {
  ServerOptions options;
  options.max_body_bytes = 64;
  startRecording(options);
  RawClient client(server_->boundPort());

  client.send("POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 65\r\n\r\n" +
              std::string(65, 'x'));
  auto reply = client.readReply();

  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 413);
  EXPECT_EQ(reply->headers["content-type"], "application/json");
  EXPECT_EQ(reply->body,
            "{\"error\":\"too-large\",\"message\":\"the request body is over the limit of 64 "
            "bytes\"}");
  EXPECT_TRUE(client.closedByServer());
  std::lock_guard lock(mutex_);
  EXPECT_TRUE(requests_.empty());
}

TEST_F(HttpServerTest, BodyAtTheLimitIsTaken) {
  ServerOptions options;
  options.max_body_bytes = 64;
  startRecording(options);
  RawClient client(server_->boundPort());

  client.send("POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 64\r\n\r\n" +
              std::string(64, 'x'));
  auto reply = client.readReply();

  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(onlyRequest().body.size(), 64u);
}

TEST_F(HttpServerTest, HandlerExceptionIs500JsonError) {
  startServer([](const Request&) -> Response { throw std::runtime_error("store is locked"); });
  RawClient client(server_->boundPort());

  client.send(get("/api/v1/changes?after=1"));
  auto reply = client.readReply();

  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 500);
  EXPECT_EQ(reply->body,
            "{\"error\":\"internal\",\"message\":\"licgate failed while answering GET "
            "/api/v1/changes\"}");
}

// The 500's message quotes the path, which may decode to bytes that are
// not UTF-8: the answer replaces them instead of throwing again.
TEST_F(HttpServerTest, HandlerExceptionOnAPathThatIsNotUtf8IsStillAnswered) {
  startServer([](const Request&) -> Response { throw std::runtime_error("bad path"); });
  RawClient client(server_->boundPort());

  client.send(get("/api/v1/licensors/%FF/pending"));
  auto reply = client.readReply();
  client.send(get("/b"));
  auto second = client.readReply();

  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 500);
  EXPECT_EQ(reply->body,
            "{\"error\":\"internal\",\"message\":\"licgate failed while answering GET "
            "/api/v1/licensors/\xEF\xBF\xBD/pending\"}");
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->status, 500);
}

TEST_F(HttpServerTest, ServerKeepsServingAfterAHandlerException) {
  bool thrown = false;
  startServer([&](const Request&) -> Response {
    if (!thrown) {
      thrown = true;
      throw std::runtime_error("once");
    }
    return Response{200, "application/json", "{}"};
  });
  RawClient client(server_->boundPort());

  client.send(get("/a"));
  auto first = client.readReply();
  client.send(get("/b"));
  auto second = client.readReply();

  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(first->status, 500);
  EXPECT_EQ(second->status, 200);
}

TEST_F(HttpServerTest, UnknownMethodReachesTheHandler) {
  startServer([](const Request& request) {
    return Response{405, "application/json", "{\"method\":\"" + request.method + "\"}"};
  });
  RawClient client(server_->boundPort());

  client.send("PURGE /api/v1/licences HTTP/1.1\r\nHost: x\r\n\r\n");
  auto reply = client.readReply();

  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 405);
  EXPECT_EQ(reply->body, "{\"method\":\"PURGE\"}");
}

TEST_F(HttpServerTest, BytesThatAreNotHttpGet400AndAClose) {
  startRecording();
  RawClient client(server_->boundPort());

  client.send("HELLO THERE\r\n\r\n");
  auto reply = client.readReply();

  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 400);
  EXPECT_NE(reply->body.find("\"error\":\"malformed\""), std::string::npos) << reply->body;
  EXPECT_TRUE(client.closedByServer());
}

TEST_F(HttpServerTest, ThreadsServeConnectionsConcurrently) {
  std::mutex mutex;
  std::condition_variable changed;
  int inside = 0;
  ServerOptions options;
  options.threads = 2;
  startServer(
      [&](const Request&) {
        std::unique_lock lock(mutex);
        ++inside;
        changed.notify_all();
        bool both = changed.wait_for(lock, std::chrono::seconds(5), [&] { return inside == 2; });
        return Response{both ? 200 : 504, "application/json", "{}"};
      },
      options);
  RawClient first(server_->boundPort());
  RawClient second(server_->boundPort());

  first.send(get("/a"));
  second.send(get("/b"));
  auto first_reply = first.readReply();
  auto second_reply = second.readReply();

  ASSERT_TRUE(first_reply.has_value());
  ASSERT_TRUE(second_reply.has_value());
  EXPECT_EQ(first_reply->status, 200);
  EXPECT_EQ(second_reply->status, 200);
}

TEST_F(HttpServerTest, StopClosesTheListener) {
  startRecording();
  int port = server_->boundPort();

  server_->stop();

  RawClient client(port);
  EXPECT_FALSE(client.connected());
}

TEST_F(HttpServerTest, StopClosesOpenConnections) {
  startRecording();
  RawClient client(server_->boundPort());
  client.send(get("/a"));
  ASSERT_TRUE(client.readReply().has_value());

  server_->stop();

  EXPECT_TRUE(client.closedByServer());
}

}  // namespace
}  // namespace licgate::adapters::http
