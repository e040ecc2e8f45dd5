// GetLicence load on keep-alive connections (bench/soap_load.hpp).
//
// One io_context on the calling thread drives every connection. Each
// connection is a Connection: do_x starts an asynchronous step and on_x
// completes it, as in adapters/http/server.cpp. The run fails at the first
// wrong answer, broken connection or timeout: a figure from a server that
// answered something else would measure the wrong thing.
#include "bench/soap_load.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <memory>
#include <optional>
#include <string_view>

namespace licgate::bench {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using registry::ErrorCode;
using registry::makeError;

constexpr const char* kSoapAction = "\"urn:licgate:soap:1#GetLicence\"";
// How often the run looks at the interrupt flag.
constexpr std::chrono::milliseconds kPollInterval(20);

// <found>true</found> with any prefix, or none: each server picks its own.
bool saysFound(std::string_view body) {
  constexpr std::string_view kMark = "found>true</";
  for (std::size_t at = body.find(kMark); at != std::string_view::npos;
       at = body.find(kMark, at + 1)) {
    std::size_t open = body.rfind('<', at);
    if (open == std::string_view::npos) {
      continue;
    }
    std::string_view prefix = body.substr(open + 1, at - open - 1);
    if (prefix.empty() ||
        (prefix.back() == ':' && prefix.find_first_of("</> \t\r\n") == std::string_view::npos)) {
      return true;
    }
  }
  return false;
}

// What every connection shares: the phases, the figures and the first
// failure, which ends the run.
struct Run {
  Run(const SoapLoadOptions& load_options, const std::vector<std::string>& load_numbers)
      : options(load_options), numbers(load_numbers) {}

  const SoapLoadOptions& options;
  const std::vector<std::string>& numbers;
  std::vector<std::string> envelopes;
  asio::io_context io;
  Clock::time_point measure_from;
  Clock::time_point measure_until;
  SoapLoadResult result;
  std::optional<registry::Error> failure;
  int open_connections = 0;

  void fail(ErrorCode code, std::string message) {
    if (!failure) {
      failure = registry::Error{code, std::move(message)};
    }
    io.stop();
  }

  // Counts one checked answer by the phase it arrived in.
  void record(Clock::time_point sent, Clock::time_point answered) {
    if (answered < measure_from) {
      ++result.warmup_calls;
    } else if (answered <= measure_until) {
      ++result.answered;
      result.latency_ms.push_back(
          std::chrono::duration<double, std::milli>(answered - sent).count());
    }
  }
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Run& run, std::size_t first) : run_(run), stream_(run.io), next_(first) {
    request_.method(bhttp::verb::post);
    request_.target("/soap/v1");
    request_.version(11);
    request_.set(bhttp::field::host, "127.0.0.1:" + std::to_string(run.options.port));
    request_.set(bhttp::field::content_type, "text/xml; charset=utf-8");
    request_.set("SOAPAction", kSoapAction);
    request_.keep_alive(true);
  }

  void start() {
    ++run_.open_connections;
    doConnect();
  }

 private:
  void doConnect() {
    stream_.expires_after(run_.options.request_timeout);
    tcp::endpoint endpoint(asio::ip::address_v4::loopback(),
                           static_cast<std::uint16_t>(run_.options.port));
    stream_.async_connect(endpoint,
                          beast::bind_front_handler(&Connection::onConnect, shared_from_this()));
  }

  void onConnect(beast::error_code error) {
    if (error) {
      run_.fail(
          ErrorCode::kUnavailable,
          "connect to 127.0.0.1:" + std::to_string(run_.options.port) + ": " + error.message());
      return;
    }
    stream_.socket().set_option(tcp::no_delay(true));
    doSend();
  }

  void doSend() {
    index_ = next_ % run_.numbers.size();
    next_ += static_cast<std::size_t>(run_.options.connections);
    request_.body() = run_.envelopes[index_];
    request_.prepare_payload();
    response_ = {};
    stream_.expires_after(run_.options.request_timeout);
    sent_ = Clock::now();
    bhttp::async_write(stream_, request_,
                       beast::bind_front_handler(&Connection::onWrite, shared_from_this()));
  }

  void onWrite(beast::error_code error, std::size_t) {
    if (error) {
      failCall("sending", error);
      return;
    }
    bhttp::async_read(stream_, buffer_, response_,
                      beast::bind_front_handler(&Connection::onRead, shared_from_this()));
  }

  void onRead(beast::error_code error, std::size_t) {
    Clock::time_point answered = Clock::now();
    if (error) {
      failCall("reading the answer", error);
      return;
    }
    const std::string& number = run_.numbers[index_];
    const std::string& body = response_.body();
    if (response_.result_int() != 200 || !saysFound(body) ||
        body.find(">" + number + "<") == std::string::npos) {
      run_.fail(ErrorCode::kInternal,
                "GetLicence " + number + ": HTTP " + std::to_string(response_.result_int()) +
                    " without found true and the number: " + body.substr(0, 400));
      return;
    }
    run_.record(sent_, answered);
    if (answered >= run_.measure_until) {
      close();
      return;
    }
    // A server may end keep-alive after some calls (RFC 9112 section 9.6);
    // the client then opens a new connection, as any client would.
    if (!response_.keep_alive()) {
      ++run_.result.reconnects;
      beast::error_code ignored;
      stream_.socket().close(ignored);
      buffer_.clear();
      doConnect();
      return;
    }
    doSend();
  }

  void failCall(const char* step, beast::error_code error) {
    run_.fail(ErrorCode::kUnavailable, std::string("GetLicence ") + run_.numbers[index_] + ": " +
                                           step + ": " + error.message());
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
    if (--run_.open_connections == 0) {
      run_.io.stop();
    }
  }

  Run& run_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  bhttp::request<bhttp::string_body> request_;
  bhttp::response<bhttp::string_body> response_;
  std::size_t next_;
  std::size_t index_ = 0;
  Clock::time_point sent_;
};

// Stops the run when interrupted; rearms itself until the io_context stops.
void watchInterrupt(Run& run, asio::steady_timer& timer) {
  timer.expires_after(kPollInterval);
  timer.async_wait([&run, &timer](beast::error_code error) {
    if (error) {
      return;
    }
    if (run.options.interrupted != nullptr && run.options.interrupted->load()) {
      run.fail(ErrorCode::kUnavailable, "interrupted");
      return;
    }
    watchInterrupt(run, timer);
  });
}

}  // namespace

std::string getLicenceEnvelope(const std::string& number) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
         "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>"
         "<GetLicence xmlns=\"urn:licgate:soap:1\"><number>" +
         number + "</number></GetLicence></soap:Body></soap:Envelope>";
}

registry::Result<SoapLoadResult> runSoapLoad(const SoapLoadOptions& options,
                                             const std::vector<std::string>& numbers) {
  if (numbers.empty() || options.connections < 1) {
    return makeError(ErrorCode::kInvalidField, "SOAP load: no numbers or no connections");
  }
  Run run(options, numbers);
  run.envelopes.reserve(numbers.size());
  for (const std::string& number : numbers) {
    run.envelopes.push_back(getLicenceEnvelope(number));
  }

  run.measure_from = Clock::now() + options.warmup;
  run.measure_until = run.measure_from + options.measure;
  for (int c = 0; c < options.connections; ++c) {
    std::make_shared<Connection>(run, static_cast<std::size_t>(c))->start();
  }
  asio::steady_timer interrupt_timer(run.io);
  watchInterrupt(run, interrupt_timer);
  run.io.run();

  if (run.failure) {
    return *run.failure;
  }
  run.result.elapsed_s = std::chrono::duration<double>(options.measure).count();
  return std::move(run.result);
}

}  // namespace licgate::bench
