// A stand-in for the e-government gateway's asynchronous channel
// (IAsyncChannel's sendMessage) in tests: licgate's own HTTP server on a
// free loopback port with a handler that records each call and answers it
// as scripted, acknowledging with a sendMessageResponse that numbers the
// message "gw-<n>" (n: the calls so far).
#pragma once

#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "adapters/http/server.hpp"

namespace licgate::testing {

// What the stand-in answers, call by call; once the script is used up it
// acknowledges.
enum class ShepAnswer { kAck, kUnavailable, kServerFault, kClientFault };

inline std::string shepFault(const std::string& code) {
  return "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><s:Fault>"
         "<faultcode>s:" +
         code + "</faultcode><faultstring>" + code +
         " says no</faultstring></s:Fault></s:Body></s:Envelope>";
}

class FakeShepGateway {
 public:
  FakeShepGateway() {
    adapters::http::ServerOptions options;
    options.port = 0;
    server_ = adapters::http::makeServer(
        options, [this](const adapters::http::Request& request) { return answer(request); });
  }
  ~FakeShepGateway() { server_->stop(); }

  bool start() { return server_->start().ok(); }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(server_->boundPort()) + "/bip-async";
  }
  // While down, every call is answered 503, as a gateway that is not
  // taking messages.
  void setDown(bool down) {
    std::lock_guard lock(mutex_);
    down_ = down;
  }
  void script(std::deque<ShepAnswer> answers) {
    std::lock_guard lock(mutex_);
    script_ = std::move(answers);
  }
  std::vector<adapters::http::Request> calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }

 private:
  adapters::http::Response answer(const adapters::http::Request& request) {
    std::lock_guard lock(mutex_);
    calls_.push_back(request);
    ShepAnswer next = down_ ? ShepAnswer::kUnavailable : ShepAnswer::kAck;
    if (!down_ && !script_.empty()) {
      next = script_.front();
      script_.pop_front();
    }
    switch (next) {
      case ShepAnswer::kUnavailable:
        return adapters::http::Response{503, "text/plain", "busy"};
      case ShepAnswer::kServerFault:
        return adapters::http::Response{500, "text/xml; charset=utf-8", shepFault("Server")};
      case ShepAnswer::kClientFault:
        return adapters::http::Response{500, "text/xml; charset=utf-8", shepFault("Client")};
      case ShepAnswer::kAck:
        break;
    }
    const std::string id = "gw-" + std::to_string(calls_.size());
    return adapters::http::Response{
        200, "text/xml; charset=utf-8",
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>"
        "<a:sendMessageResponse xmlns:a=\"http://bip.bee.kz/AsyncChannel/v10/Types\">"
        "<response><messageId>" +
            id +
            "</messageId><correlationId>chain-r</correlationId>"
            "<responseDate>2026-12-04T10:00:01Z</responseDate></response>"
            "</a:sendMessageResponse></s:Body></s:Envelope>"};
  }

  std::unique_ptr<adapters::http::Server> server_;
  std::mutex mutex_;
  std::deque<ShepAnswer> script_;
  bool down_ = false;
  std::vector<adapters::http::Request> calls_;
};

}  // namespace licgate::testing
