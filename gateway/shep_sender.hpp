// Sends the messages of licgate's outbox (adapters/redis/exchange_log.hpp)
// to the e-government gateway's asynchronous channel: the RESPONSE of each
// read asked for there (docs/soap.md).
//
// One thread claims the message due first, for a lease, and POSTs it with
// the libcurl SOAP client. The gateway's sendMessageResponse numbers the
// message, and it moves into its chain as sent; a failure that may pass (no
// connection, a timeout, a 5xx, a Server fault) makes it due again after an
// exponential back-off with jitter, capped; a failure that never will (a
// Client fault, another 4xx, an answer that is no acknowledgement) or the
// last of `attempts` ends it in the failed keys, logged at error. A message
// whose lease ran out (this or another process died while sending it) is
// due again: sending is at least once.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include <spdlog/spdlog.h>

#include "adapters/http/soap_client.hpp"
#include "adapters/redis/exchange_log.hpp"
#include "config/config.hpp"

namespace licgate::gateway {

struct ShepSenderCounters {
  std::uint64_t sent = 0;
  std::uint64_t retried = 0;
  std::uint64_t failed = 0;
  // Messages in the outbox, due or not, as Redis counts them when asked;
  // -1 when Redis did not answer.
  std::int64_t outbox = -1;
};

class ShepSender {
 public:
  // Milliseconds since the epoch; tests pass their own clock.
  using Clock = std::function<std::int64_t()>;

  // `exchanges` must outlive the sender. Uses shep.async_url, the send_*
  // keys and, for the lease, send_timeout_ms.
  ShepSender(const config::ShepConfig& shep, adapters::redis::ExchangeLog& exchanges,
             Clock now_ms = {});
  ~ShepSender();
  ShepSender(const ShepSender&) = delete;
  ShepSender& operator=(const ShepSender&) = delete;

  // Starts the thread; stop() (or the destructor) ends it after the send
  // in progress.
  void start();
  void stop();

  // A message was queued: look now rather than at the next poll.
  void wake();

  // Claims and sends at most one due message, on the caller's thread.
  // Returns false when none was due (or Redis could not be asked). Blocks
  // for the call. Not to be mixed with start() (one client).
  bool sendOne();

  // Counts since start. Without the outbox's size (outbox is -1): no call
  // to Redis.
  ShepSenderCounters counters() const;

  // counters() with the outbox's size. Blocks on Redis.
  ShepSenderCounters stats();

  // The pause before attempt `attempts` + 1: backoff * 2^(attempts - 1),
  // capped, then drawn uniformly from its upper half.
  std::int64_t backoffAfter(std::int64_t attempts);

 private:
  void run();
  void settle(const adapters::redis::OutboundMessage& message, const std::string& error,
              bool retryable);

  const config::ShepConfig shep_;
  adapters::redis::ExchangeLog& exchanges_;
  Clock now_ms_;
  adapters::http::SoapClient client_;
  std::mt19937_64 jitter_;
  std::shared_ptr<spdlog::logger> log_;

  std::atomic<std::uint64_t> sent_{0};
  std::atomic<std::uint64_t> retried_{0};
  std::atomic<std::uint64_t> failed_{0};

  std::mutex mutex_;  // guards woken_ and stopping_
  std::condition_variable wakeup_;
  bool woken_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace licgate::gateway
