// A SOAP client on libcurl, for calling other state systems (interested
// bodies, licensors' callbacks).
//
// One connection per client, kept alive between calls: a call reuses it
// when the server kept it open, and when the server has closed it meanwhile
// (an idle timeout), libcurl notices and connects again, so that a call
// never fails because the last one was long ago.
//
// Blocking: call() waits for the answer, within the timeouts. Not
// thread-safe: one client per thread, or a lock around it.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "mapping/soap.hpp"
#include "registry/result.hpp"

namespace licgate::adapters::http {

struct SoapClientOptions {
  long connect_timeout_ms = 2'000;
  long total_timeout_ms = 10'000;  // the whole call, connect to last byte
  // A call whose transfer stays under low_speed_bytes_per_s for
  // low_speed_time_s is abandoned: a peer that trickles is as bad as a dead
  // one, and waiting for the total timeout would hold the caller longer.
  long low_speed_bytes_per_s = 64;
  long low_speed_time_s = 5;
  std::size_t max_answer_bytes = 8 << 20;
};

// What a call came to. A transport failure (no connection, a timeout, a
// reset) is an error of the call itself (kUnavailable); everything that
// came back as HTTP is an answer, with its fault when it carries one.
struct SoapAnswer {
  int http_status = 0;
  std::string content_type;
  std::string body;
  std::optional<mapping::SoapFault> fault;
  bool reused_connection = false;  // no new connection was opened for this call

  // Whether sending the same call again later may succeed: a fault of the
  // receiving side or a 5xx (and 408, 429) without one. A client fault or
  // any other 4xx never will.
  bool retryable() const;
  bool ok() const { return http_status == 200 && !fault; }
};

class SoapClient {
 public:
  explicit SoapClient(SoapClientOptions options = {});
  ~SoapClient();
  SoapClient(const SoapClient&) = delete;
  SoapClient& operator=(const SoapClient&) = delete;

  // POSTs `envelope` of `version` to `url` with `action` (SOAPAction for
  // 1.1, the action parameter for 1.2; empty: none). Errors: kUnavailable
  // naming the URL and what failed (connect refused, timed out, too slow,
  // answer over max_answer_bytes).
  registry::Result<SoapAnswer> call(const std::string& url, mapping::SoapVersion version,
                                    const std::string& action, const std::string& envelope);

 private:
  struct Handle;
  SoapClientOptions options_;
  std::unique_ptr<Handle> handle_;
};

}  // namespace licgate::adapters::http
