// The AMQP 1.0 sender of licence events on Qpid Proton C++
// (gateway/amqp_sender.hpp).
#include "gateway/amqp_sender.hpp"

#include <proton/connection.hpp>
#include <proton/connection_options.hpp>
#include <proton/container.hpp>
#include <proton/delivery.hpp>
#include <proton/error_condition.hpp>
#include <proton/message.hpp>
#include <proton/message_id.hpp>
#include <proton/messaging_handler.hpp>
#include <proton/receiver.hpp>
#include <proton/receiver_options.hpp>
#include <proton/sender.hpp>
#include <proton/sender_options.hpp>
#include <proton/source.hpp>
#include <proton/tracker.hpp>
#include <proton/transport.hpp>
#include <proton/work_queue.hpp>

#include <charconv>
#include <deque>
#include <optional>
#include <random>
#include <unordered_map>

namespace licgate::gateway {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::int64_t kTickMs = 100;
constexpr std::int64_t kCloseGraceMs = 2000;

// A reply address of our own, so that outcome messages of two senders on
// one licgate never cross.
std::string makeReplyAddress() {
  std::random_device random;
  std::uniform_int_distribution<std::uint64_t> pick;
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(pick(random)));
  return std::string("licgate-send/replies/") + text;
}

std::string textOf(const proton::message_id& id) {
  try {
    return proton::coerce<std::string>(id);
  } catch (const proton::error&) {
    return proton::to_string(id);
  }
}

std::string property(const proton::message& message, const std::string& name) {
  if (!message.properties().exists(name)) {
    return {};
  }
  try {
    return proton::coerce<std::string>(message.properties().get(name));
  } catch (const proton::error&) {
    return {};
  }
}

class SendHandler final : public proton::messaging_handler {
 public:
  SendHandler(const SendOptions& options, const std::vector<OutgoingMessage>& messages,
              SendReport& report)
      : options_(options),
        messages_(messages),
        report_(report),
        want_replies_(options.want_replies),
        reply_address_(makeReplyAddress()) {
    report_.results.assign(messages.size(), MessageResult{});
    for (std::size_t i = 0; i < messages.size(); ++i) {
      queue_.push_back(i);
      index_by_id_.emplace(messages[i].message_id, i);
    }
  }

  void on_container_start(proton::container& container) override {
    container_ = &container;
    last_progress_ = Clock::now();
    const std::string url = "amqp://" + options_.host + ":" + std::to_string(options_.port);
    connection_ = container.connect(url, proton::connection_options().container_id(
                                             "licgate-send-" + reply_address_.substr(21)));
    if (want_replies_) {
      connection_.open_receiver(reply_address_, proton::receiver_options().credit_window(
                                                    static_cast<int>(options_.window)));
    } else {
      replies_ready_ = true;
    }
    sender_ = connection_.open_sender(options_.address);
    scheduleTick();
  }

  void on_receiver_open(proton::receiver&) override {
    replies_ready_ = true;
    sendWhatFits();
  }

  // A licgate that does not offer outcome messages still settles; the run
  // goes on without them rather than failing.
  void on_receiver_error(proton::receiver& receiver) override {
    want_replies_ = false;
    replies_ready_ = true;
    report_.replies_note = "outcome messages unavailable: " + receiver.error().what();
    sendWhatFits();
  }

  void on_sendable(proton::sender&) override { sendWhatFits(); }

  void on_tracker_accept(proton::tracker& tracker) override {
    settle(tracker, Settlement::kAccepted);
  }

  void on_tracker_reject(proton::tracker& tracker) override {
    settle(tracker, Settlement::kRejected);
  }

  void on_tracker_release(proton::tracker& tracker) override {
    settle(tracker, Settlement::kReleased);
  }

  // A settlement with no outcome we know (AMQP 1.0 section 3.4): treated as
  // released, so the message is sent again.
  void on_tracker_settle(proton::tracker& tracker) override {
    if (in_flight_.count(tracker) != 0) {
      settle(tracker, Settlement::kReleased);
    }
  }

  void on_message(proton::delivery&, proton::message& message) override {
    auto found = index_by_id_.find(textOf(message.correlation_id()));
    if (found == index_by_id_.end()) {
      return;
    }
    MessageResult& result = report_.results[found->second];
    if (result.outcome.empty()) {
      replies_ += 1;
    }
    result.outcome = property(message, "outcome");
    result.error_code = property(message, "error");
    result.licence_number = property(message, "licence");
    if (message.body().type() == proton::STRING) {
      result.description = proton::get<std::string>(message.body());
    }
    last_progress_ = Clock::now();
    finishWhenDone();
  }

  void on_sender_error(proton::sender& sender) override { fail(sender.error().what()); }

  void on_connection_error(proton::connection& connection) override {
    fail(connection.error().what());
  }

  // Proton reports a transport that ends with an error here instead of in
  // on_transport_close. closing_ stops the tick, whose timer would
  // otherwise keep the container running.
  void on_transport_error(proton::transport& transport) override {
    if (report_.transport_error.empty()) {
      report_.transport_error = transport.error().what();
    }
    closing_ = true;
    container_->stop();
  }

  void on_transport_close(proton::transport&) override {
    closing_ = true;
    container_->stop();
  }

 private:
  void sendWhatFits() {
    if (!replies_ready_ || closing_ || !sender_.active()) {
      return;
    }
    while (sender_.credit() > 0 && in_flight_.size() < options_.window && !queue_.empty()) {
      const std::size_t index = queue_.front();
      queue_.pop_front();
      in_flight_.emplace(sender_.send(makeMessage(messages_[index])), index);
      MessageResult& result = report_.results[index];
      result.attempts += 1;
      if (result.attempts == 1) {
        report_.sent += 1;
      } else {
        report_.resent += 1;
      }
    }
    finishWhenDone();
  }

  proton::message makeMessage(const OutgoingMessage& outgoing) const {
    proton::message message;
    message.id(proton::message_id(outgoing.message_id));
    message.content_type(outgoing.content_type);
    message.properties().put("system", options_.system);
    if (want_replies_) {
      message.reply_to(reply_address_);
    }
    // inferred: a binary body travels as a data section, not as an
    // amqp-value (AMQP 1.0 section 3.2.6).
    message.inferred(true);
    message.body(proton::binary(outgoing.body.begin(), outgoing.body.end()));
    return message;
  }

  void settle(proton::tracker& tracker, Settlement settlement) {
    auto found = in_flight_.find(tracker);
    if (found == in_flight_.end()) {
      return;
    }
    const std::size_t index = found->second;
    in_flight_.erase(found);
    last_progress_ = Clock::now();
    MessageResult& result = report_.results[index];
    if (settlement == Settlement::kReleased && result.attempts < options_.max_attempts) {
      retries_.push_back({Clock::now() + options_.retry_delay, index});
      return;
    }
    result.settlement = settlement;
    settled_ += 1;
    sendWhatFits();
  }

  bool repliesComplete() const {
    if (!want_replies_) {
      return true;
    }
    std::size_t expected = 0;
    for (const auto& result : report_.results) {
      if (result.settlement == Settlement::kAccepted ||
          result.settlement == Settlement::kRejected) {
        expected += 1;
      }
    }
    return replies_ >= expected;
  }

  void finishWhenDone() {
    if (closing_ || settled_ < messages_.size()) {
      return;
    }
    if (repliesComplete()) {
      close();
    } else if (!grace_deadline_) {
      grace_deadline_ = Clock::now() + options_.reply_grace;
    }
  }

  void close() {
    if (closing_) {
      return;
    }
    closing_ = true;
    connection_.close();
  }

  // A peer that stopped answering may not answer the close either, so the
  // run ends a little later whatever happens to the close.
  void fail(const std::string& what) {
    if (report_.transport_error.empty()) {
      report_.transport_error = what;
    }
    close();
    container_->schedule(proton::duration(kCloseGraceMs), [this] { container_->stop(); });
  }

  // One short periodic tick does all the waiting (resends after a release,
  // the grace for late outcome messages, giving up when licgate stops
  // answering): the container does not return from run() while a timer is
  // pending, so long timers would hold the run open after the last answer.
  // The tick runs on the connection's work queue: work scheduled on the
  // container has no connection context, and what it sends is not flushed.
  void scheduleTick() {
    connection_.work_queue().schedule(proton::duration(kTickMs), [this] { tick(); });
  }

  void tick() {
    if (closing_) {
      return;
    }
    const auto now = Clock::now();
    while (!retries_.empty() && retries_.front().first <= now) {
      queue_.push_back(retries_.front().second);
      retries_.pop_front();
    }
    sendWhatFits();
    if (grace_deadline_ && now >= *grace_deadline_) {
      close();
      return;
    }
    if (now - last_progress_ > options_.idle_timeout) {
      fail("no settlement from " + options_.host + ":" + std::to_string(options_.port) + " for " +
           std::to_string(options_.idle_timeout.count()) + " ms");
      return;
    }
    scheduleTick();
  }

  const SendOptions& options_;
  const std::vector<OutgoingMessage>& messages_;
  SendReport& report_;
  bool want_replies_;
  const std::string reply_address_;

  proton::container* container_ = nullptr;
  proton::connection connection_;
  proton::sender sender_;
  std::deque<std::size_t> queue_;
  std::map<proton::tracker, std::size_t> in_flight_;
  std::unordered_map<std::string, std::size_t> index_by_id_;
  std::size_t settled_ = 0;
  std::size_t replies_ = 0;
  std::deque<std::pair<Clock::time_point, std::size_t>> retries_;  // due time, message
  std::optional<Clock::time_point> grace_deadline_;
  bool replies_ready_ = false;
  bool closing_ = false;
  Clock::time_point last_progress_;
};

void summarise(SendReport& report) {
  for (const auto& result : report.results) {
    switch (result.settlement) {
      case Settlement::kAccepted:
        report.accepted += 1;
        break;
      case Settlement::kRejected:
        report.rejected += 1;
        break;
      case Settlement::kReleased:
        report.released += 1;
        break;
      case Settlement::kUnsettled:
        report.unsettled += 1;
        break;
    }
    if (result.settlement == Settlement::kAccepted || result.settlement == Settlement::kRejected) {
      report.applied += result.outcome == "applied" ? 1 : 0;
      report.duplicate += result.outcome == "duplicate" ? 1 : 0;
      report.unchanged += result.outcome == "unchanged" ? 1 : 0;
      report.without_reply += result.outcome.empty() ? 1 : 0;
      if (result.outcome != "applied" && result.outcome != "duplicate" &&
          result.outcome != "unchanged" && result.outcome != "rejected" &&
          !result.outcome.empty()) {
        report.other_outcomes[result.outcome] += 1;
      }
    }
    if (result.settlement == Settlement::kRejected) {
      const std::string reason = result.error_code.empty() ? "unknown" : result.error_code;
      report.rejected_by_reason[reason] += 1;
      report.first_rejection.emplace(reason, result.description);
    }
  }
}

}  // namespace

SendReport sendMessages(const SendOptions& options, const std::vector<OutgoingMessage>& messages) {
  SendReport report;
  const auto started = Clock::now();
  SendHandler handler(options, messages, report);
  try {
    proton::container container(handler);
    container.run();
  } catch (const std::exception& e) {
    if (report.transport_error.empty()) {
      report.transport_error = e.what();
    }
  }
  report.elapsed_s = std::chrono::duration<double>(Clock::now() - started).count();
  summarise(report);
  return report;
}

registry::Status parseAmqpUrl(const std::string& url, SendOptions& options) {
  constexpr std::string_view kScheme = "amqp://";
  auto bad = [&](const std::string& why) {
    return registry::makeError(registry::ErrorCode::kInvalidField,
                               "url \"" + url + "\" " + why + " (expected amqp://HOST:PORT)");
  };
  if (!url.starts_with(kScheme)) {
    return bad("does not start with amqp://");
  }
  std::string rest = url.substr(kScheme.size());
  if (!rest.empty() && rest.back() == '/') {
    rest.pop_back();
  }
  const auto colon = rest.rfind(':');
  std::string host = colon == std::string::npos ? rest : rest.substr(0, colon);
  int port = 5672;
  if (colon != std::string::npos) {
    const std::string text = rest.substr(colon + 1);
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
    if (ec != std::errc() || end != text.data() + text.size() || port < 1 || port > 65535) {
      return bad("has no valid port");
    }
  }
  if (host.empty()) {
    return bad("has no host");
  }
  options.host = host;
  options.port = port;
  return {};
}

}  // namespace licgate::gateway
