// The outbox's sender (gateway/shep_sender.hpp).
#include "gateway/shep_sender.hpp"

#include <pthread.h>

#include <algorithm>
#include <chrono>

#include "gateway/logging.hpp"
#include "mapping/shep.hpp"

namespace licgate::gateway {

using registry::Result;

namespace {

// How often the thread looks for due messages when nothing wakes it:
// retries come due on their own.
constexpr std::chrono::milliseconds kPoll{200};

std::int64_t systemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

adapters::http::SoapClientOptions clientOptions(const config::ShepConfig& shep) {
  adapters::http::SoapClientOptions options;
  options.total_timeout_ms = static_cast<long>(shep.send_timeout_ms);
  options.connect_timeout_ms = std::min<long>(2'000, options.total_timeout_ms);
  return options;
}

}  // namespace

ShepSender::ShepSender(const config::ShepConfig& shep, adapters::redis::ExchangeLog& exchanges,
                       Clock now_ms)
    : shep_(shep),
      exchanges_(exchanges),
      now_ms_(now_ms ? std::move(now_ms) : Clock(systemNowMs)),
      client_(clientOptions(shep)),
      jitter_(std::random_device()()),
      log_(getLogger("soap")) {}

ShepSender::~ShepSender() {
  stop();
}

void ShepSender::start() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "shep-sender");
    run();
  });
}

void ShepSender::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wakeup_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void ShepSender::wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  wakeup_.notify_all();
}

ShepSenderCounters ShepSender::counters() const {
  return {sent_.load(), retried_.load(), failed_.load(), -1};
}

ShepSenderCounters ShepSender::stats() {
  ShepSenderCounters counts = counters();
  auto size = exchanges_.outboxSize();
  counts.outbox = size.ok() ? *size : -1;
  return counts;
}

void ShepSender::run() {
  while (true) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) {
        return;
      }
      woken_ = false;
    }
    // Everything due goes out before the thread sleeps again.
    while (sendOne()) {
      std::lock_guard lock(mutex_);
      if (stopping_) {
        return;
      }
    }
    std::unique_lock lock(mutex_);
    wakeup_.wait_for(lock, kPoll, [this] { return woken_ || stopping_; });
  }
}

std::int64_t ShepSender::backoffAfter(std::int64_t attempts) {
  std::int64_t delay = shep_.send_backoff_ms;
  for (std::int64_t i = 1; i < attempts && delay < shep_.send_backoff_max_ms; ++i) {
    delay *= 2;
  }
  delay = std::min(delay, shep_.send_backoff_max_ms);
  std::uniform_int_distribution<std::int64_t> upper_half(delay / 2, delay);
  return upper_half(jitter_);
}

// The lease outlasts the call, so that a message is never claimed twice
// while its call can still succeed.
bool ShepSender::sendOne() {
  auto claimed = exchanges_.claimDue(now_ms_(), shep_.send_timeout_ms * 2 + 1'000);
  if (!claimed.ok()) {
    log_->debug("outbox: {}", claimed.error().message);
    return false;
  }
  if (!claimed->has_value()) {
    return false;
  }
  const adapters::redis::OutboundMessage& message = **claimed;

  // Written now, with the sender's password from the configuration: the
  // outbox keeps only the answer.
  mapping::ShepOutgoing outgoing{
      message.correlation_id, message.service_id, mapping::ShepMessageType::kResponse,
      message.message_date,   shep_.sender_id,    shep_.password};
  auto envelope = message.answer.empty()
                      ? Result<std::string>(registry::makeError(registry::ErrorCode::kInternal,
                                                                "the outbox entry holds no answer"))
                      : mapping::writeShepAsyncOutgoing(outgoing, message.answer);
  if (!envelope.ok()) {
    settle(message, envelope.error().message, false);
    return true;
  }
  auto answer = client_.call(shep_.async_url, mapping::SoapVersion::k11, "", *envelope);
  if (!answer.ok()) {
    settle(message, answer.error().message, true);
    return true;
  }
  if (!answer->ok()) {
    std::string why = "HTTP " + std::to_string(answer->http_status);
    if (answer->fault) {
      why += ", fault " + answer->fault->code + ": " + answer->fault->text;
    }
    settle(message, why, answer->retryable());
    return true;
  }
  auto ack = mapping::readShepAsyncAck(answer->body, answer->content_type);
  if (!ack.ok()) {
    settle(message, ack.error().message, false);
    return true;
  }
  auto marked = exchanges_.markSent(message, ack->message_id);
  if (!marked.ok()) {
    // The gateway has it; Redis could not file it, so the lease runs out and
    // it is sent again: at least once.
    log_->warn("outbox: {} sent as {} but not filed: {}", message.licgate_id, ack->message_id,
               marked.error().message);
    return true;
  }
  sent_.fetch_add(1);
  log_->debug("outbox: {} (chain {}) sent, the gateway numbered it {}", message.licgate_id,
              message.correlation_id, ack->message_id);
  return true;
}

void ShepSender::settle(const adapters::redis::OutboundMessage& message, const std::string& error,
                        bool retryable) {
  if (retryable && message.attempts < shep_.send_attempts) {
    const std::int64_t due = now_ms_() + backoffAfter(message.attempts);
    retried_.fetch_add(1);
    log_->debug("outbox: {} (chain {}) attempt {} failed, again in {} ms: {}", message.licgate_id,
                message.correlation_id, message.attempts, due - now_ms_(), error);
    if (auto kept = exchanges_.retryAt(message.licgate_id, due, error); !kept.ok()) {
      log_->debug("outbox: {}: {}", message.licgate_id, kept.error().message);
    }
    return;
  }
  failed_.fetch_add(1);
  log_->error("outbox: {} (chain {}) given up at attempt {}: {}", message.licgate_id,
              message.correlation_id, message.attempts, error);
  if (auto kept = exchanges_.giveUp(message.licgate_id, error); !kept.ok()) {
    log_->debug("outbox: {}: {}", message.licgate_id, kept.error().message);
  }
}

}  // namespace licgate::gateway
