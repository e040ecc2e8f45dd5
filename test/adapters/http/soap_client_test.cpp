// The SOAP client against licgate's own HTTP server on loopback, whose
// handler plays the peer: answers, faults of both versions, errors without
// a fault, slowness and closed connections.
#include "adapters/http/soap_client.hpp"

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <thread>

#include "adapters/http/server.hpp"

namespace licgate::adapters::http {
namespace {

using mapping::SoapVersion;
using registry::ErrorCode;

const std::string kAnswer11 =
    "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>"
    "<x:Answer xmlns:x=\"urn:x\">yes</x:Answer></soap:Body></soap:Envelope>";

std::string fault11(const std::string& code) {
  return "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\">"
         "<SOAP-ENV:Body><SOAP-ENV:Fault><faultcode>SOAP-ENV:" +
         code + "</faultcode><faultstring>" + code +
         " said no</faultstring></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>";
}

std::string fault12(const std::string& code) {
  return "<env:Envelope xmlns:env=\"http://www.w3.org/2003/05/soap-envelope\"><env:Body>"
         "<env:Fault><env:Code><env:Value>env:" +
         code + "</env:Value></env:Code><env:Reason><env:Text xml:lang=\"en\">" + code +
         "</env:Text></env:Reason></env:Fault></env:Body></env:Envelope>";
}

// A port nothing listens on: bound, then closed.
int unusedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

class SoapClientTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (server_) {
      server_->stop();
    }
  }

  void startPeer(ServerOptions options = {}) {
    options.port = 0;
    server_ = makeServer(options, [this](const Request& request) {
      std::lock_guard lock(mutex_);
      last_ = request;
      return answer_(request);
    });
    ASSERT_TRUE(server_->start().ok());
  }

  void answerWith(std::function<Response(const Request&)> answer) {
    std::lock_guard lock(mutex_);
    answer_ = std::move(answer);
  }

  Request lastRequest() {
    std::lock_guard lock(mutex_);
    return last_;
  }

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(server_->boundPort()) + "/soap";
  }

  std::mutex mutex_;
  std::function<Response(const Request&)> answer_ = [](const Request&) {
    return Response{200, "text/xml; charset=utf-8", kAnswer11};
  };
  Request last_;
  std::unique_ptr<Server> server_;
};

TEST_F(SoapClientTest, PostsTheEnvelopeWithTheVersionsContentTypeAndAction) {
  startPeer();
  SoapClient client;

  auto answer11 = client.call(url(), SoapVersion::k11, "urn:x#Ask", "<e11/>");
  Request sent11 = lastRequest();
  auto answer12 = client.call(url(), SoapVersion::k12, "urn:x#Ask", "<e12/>");
  Request sent12 = lastRequest();

  ASSERT_TRUE(answer11.ok()) << answer11.error().message;
  EXPECT_TRUE(answer11->ok());
  EXPECT_EQ(answer11->body, kAnswer11);
  EXPECT_EQ(sent11.method, "POST");
  EXPECT_EQ(sent11.body, "<e11/>");
  EXPECT_EQ(sent11.headers.at("content-type"), "text/xml; charset=utf-8");
  EXPECT_EQ(sent11.headers.at("soapaction"), "\"urn:x#Ask\"");
  ASSERT_TRUE(answer12.ok());
  EXPECT_EQ(sent12.headers.at("content-type"),
            "application/soap+xml; charset=utf-8; action=\"urn:x#Ask\"");
  EXPECT_EQ(sent12.headers.count("soapaction"), 0u);
}

TEST_F(SoapClientTest, ReusesTheConnectionBetweenCalls) {
  startPeer();
  SoapClient client;

  auto first = client.call(url(), SoapVersion::k11, "", "<a/>");
  auto second = client.call(url(), SoapVersion::k11, "", "<b/>");

  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_FALSE(first->reused_connection);
  EXPECT_TRUE(second->reused_connection);
}

// The peer closes connections idle for 200 ms; a call after that connects
// again instead of failing on the dead one.
TEST_F(SoapClientTest, CallAfterThePeerClosedTheIdleConnectionSucceeds) {
  ServerOptions options;
  options.header_timeout_ms = 200;
  startPeer(options);
  SoapClient client;
  ASSERT_TRUE(client.call(url(), SoapVersion::k11, "", "<a/>").ok());

  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto later = client.call(url(), SoapVersion::k11, "", "<b/>");

  ASSERT_TRUE(later.ok()) << later.error().message;
  EXPECT_TRUE(later->ok());
  EXPECT_FALSE(later->reused_connection);
}

TEST_F(SoapClientTest, ClassifiesFaultsAndStatusesForRetry) {
  struct Case {
    int status;
    std::string content_type;
    std::string body;
    bool has_fault;
    bool retry;
  };
  const std::vector<Case> cases{
      {500, "text/xml", fault11("Server"), true, true},
      {500, "text/xml", fault11("Client"), true, false},
      {500, "text/xml", fault11("Client.Authentication"), true, false},
      {400, "application/soap+xml", fault12("Sender"), true, false},
      {500, "application/soap+xml", fault12("Receiver"), true, true},
      {503, "text/html", "<html>maintenance</html>", false, true},
      {502, "text/plain", "bad gateway", false, true},
      {429, "text/plain", "slow down", false, true},
      {404, "text/html", "<html>no such service</html>", false, false},
      {401, "text/plain", "who are you", false, false},
      {200, "text/xml", kAnswer11, false, false},
  };
  startPeer();
  SoapClient client;

  for (const Case& each : cases) {
    answerWith([&](const Request&) { return Response{each.status, each.content_type, each.body}; });

    auto answer = client.call(url(), SoapVersion::k11, "", "<a/>");

    ASSERT_TRUE(answer.ok()) << answer.error().message;
    EXPECT_EQ(answer->http_status, each.status) << each.body;
    EXPECT_EQ(answer->fault.has_value(), each.has_fault) << each.body;
    EXPECT_EQ(answer->retryable(), each.retry) << each.status << " " << each.body;
  }
}

TEST_F(SoapClientTest, RefusedConnectionNamesTheUrl) {
  SoapClient client;
  const std::string nowhere = "http://127.0.0.1:" + std::to_string(unusedPort()) + "/soap";

  auto answer = client.call(nowhere, SoapVersion::k11, "", "<a/>");

  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(answer.error().message.find(nowhere), std::string::npos) << answer.error().message;
}

TEST_F(SoapClientTest, PeerSlowerThanTheTotalTimeoutIsAbandoned) {
  startPeer();
  answerWith([&](const Request&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    return Response{200, "text/xml", kAnswer11};
  });
  SoapClientOptions options;
  options.total_timeout_ms = 200;
  SoapClient client(options);
  auto started = std::chrono::steady_clock::now();

  auto answer = client.call(url(), SoapVersion::k11, "", "<a/>");
  auto waited = std::chrono::steady_clock::now() - started;

  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(answer.error().message.find("timed out"), std::string::npos) << answer.error().message;
  EXPECT_LT(waited, std::chrono::milliseconds(650));
}

TEST_F(SoapClientTest, AnswerOverTheLimitIsRefused) {
  startPeer();
  answerWith([](const Request&) { return Response{200, "text/xml", std::string(5000, 'x')}; });
  SoapClientOptions options;
  options.max_answer_bytes = 1000;
  SoapClient client(options);

  auto answer = client.call(url(), SoapVersion::k11, "", "<a/>");

  ASSERT_FALSE(answer.ok());
  EXPECT_NE(answer.error().message.find("over 1000 bytes"), std::string::npos)
      << answer.error().message;
}

}  // namespace
}  // namespace licgate::adapters::http
