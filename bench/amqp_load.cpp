// The benchmark's AMQP sender and bare receiver (bench/amqp_load.hpp).
#include "bench/amqp_load.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <future>
#include <thread>

#include <proton/connection.hpp>
#include <proton/connection_options.hpp>
#include <proton/container.hpp>
#include <proton/delivery.hpp>
#include <proton/error_condition.hpp>
#include <proton/listen_handler.hpp>
#include <proton/listener.hpp>
#include <proton/message.hpp>
#include <proton/message_id.hpp>
#include <proton/messaging_handler.hpp>
#include <proton/receiver.hpp>
#include <proton/receiver_options.hpp>
#include <proton/sender.hpp>
#include <proton/tracker.hpp>
#include <proton/transport.hpp>
#include <proton/work_queue.hpp>

namespace licgate::bench {

namespace {

using Clock = std::chrono::steady_clock;
using registry::ErrorCode;
using registry::makeError;

// Delivery tags are the message's index, so a settlement finds its send time
// without a lookup table (AMQP 1.0 section 2.6.12: tags are opaque to the
// peer and unique among the link's unsettled deliveries).
proton::binary tagOf(std::uint64_t index) {
  proton::binary tag(sizeof(index));
  std::memcpy(tag.data(), &index, sizeof(index));
  return tag;
}

std::uint64_t indexOf(const proton::binary& tag) {
  std::uint64_t index = 0;
  std::memcpy(&index, tag.data(), std::min(tag.size(), sizeof(index)));
  return index;
}

class LoadSender : public proton::messaging_handler {
 public:
  LoadSender(const LoadOptions& options, const std::vector<LoadMessage>& messages)
      : options_(options), messages_(messages), sent_at_(messages.size()) {
    result_.latency_ms.reserve(messages.size());
    message_.content_type(options.content_type);
    message_.properties().put("system", options.system);
    message_.inferred(true);
  }

  LoadResult takeResult() { return std::move(result_); }

  void on_container_start(proton::container& container) override {
    std::string url = options_.host + ":" + std::to_string(options_.port);
    proton::connection connection = container.connect(url);
    connection.open_sender(options_.address);
    deadline_ = Clock::now() + options_.timeout;
    scheduleCheck(container);
  }

  void on_sendable(proton::sender& sender) override { sendMore(sender); }

  void on_tracker_accept(proton::tracker&) override { ++result_.accepted; }
  void on_tracker_reject(proton::tracker&) override { ++result_.rejected; }
  void on_tracker_release(proton::tracker&) override { ++result_.released; }

  void on_tracker_settle(proton::tracker& tracker) override {
    auto now = Clock::now();
    std::uint64_t index = indexOf(tracker.tag());
    if (index < sent_at_.size()) {
      std::chrono::duration<double, std::milli> latency = now - sent_at_[index];
      result_.latency_ms.push_back(latency.count());
    }
    --in_flight_;
    ++settled_;
    if (settled_ == messages_.size()) {
      finish(tracker.connection(), now);
      return;
    }
    proton::sender sender = tracker.sender();
    sendMore(sender);
  }

  // Stopping the container after a timeout aborts the connection; that is
  // the timeout's doing, not a transport failure.
  void on_transport_error(proton::transport& transport) override {
    if (!result_.timed_out) {
      result_.transport_error = transport.error().what();
    }
  }

  void on_transport_close(proton::transport& transport) override {
    transport.connection().container().stop();
  }

  void on_error(const proton::error_condition& condition) override {
    if (!result_.timed_out) {
      result_.transport_error = condition.what();
    }
  }

 private:
  void sendMore(proton::sender& sender) {
    if (next_ == 0 && !messages_.empty() && sender.credit() > 0) {
      started_ = Clock::now();
    }
    while (next_ < messages_.size() && in_flight_ < options_.window && sender.credit() > 0) {
      const LoadMessage& load = messages_[next_];
      message_.id(proton::message_id(load.message_id));
      message_.body(proton::binary(load.body.begin(), load.body.end()));
      sent_at_[next_] = Clock::now();
      sender.send(message_, tagOf(next_));
      ++next_;
      ++in_flight_;
      ++result_.sent;
    }
  }

  void finish(proton::connection connection, Clock::time_point now) {
    std::chrono::duration<double> elapsed = now - started_;
    result_.elapsed_s = elapsed.count();
    done_ = true;
    connection.close();
  }

  // A short repeating check rather than one timer for the whole timeout: a
  // pending timer keeps the container running after the load is done.
  void scheduleCheck(proton::container& container) {
    container.schedule(kCheckEvery, proton::work([this, &container] { checkDeadline(container); }));
  }

  void checkDeadline(proton::container& container) {
    if (done_) {
      return;
    }
    bool interrupted = options_.interrupted != nullptr && options_.interrupted->load();
    if (!interrupted && Clock::now() < deadline_) {
      scheduleCheck(container);
      return;
    }
    result_.timed_out = true;
    result_.elapsed_s = std::chrono::duration<double>(Clock::now() - started_).count();
    container.stop();
  }

  static inline const proton::duration kCheckEvery{100};

  const LoadOptions& options_;
  const std::vector<LoadMessage>& messages_;
  std::vector<Clock::time_point> sent_at_;
  proton::message message_;
  LoadResult result_;
  Clock::time_point started_ = Clock::now();
  Clock::time_point deadline_;
  std::size_t next_ = 0;
  std::size_t in_flight_ = 0;
  std::size_t settled_ = 0;
  bool done_ = false;
};

// Accepts every link and every delivery; auto-accept settles each delivery
// as soon as on_message returns (AMQP 1.0 section 3.4.2, accepted).
class BareHandler : public proton::messaging_handler {
 public:
  explicit BareHandler(int credit_window) : credit_window_(credit_window) {}

  void on_receiver_open(proton::receiver& receiver) override {
    if (receiver.active()) {
      return;
    }
    receiver.open(proton::receiver_options().credit_window(credit_window_));
  }

  void on_message(proton::delivery&, proton::message&) override {
    received_.fetch_add(1, std::memory_order_relaxed);
  }

  std::uint64_t received() const { return received_.load(std::memory_order_relaxed); }

 private:
  int credit_window_;
  std::atomic<std::uint64_t> received_{0};
};

class BareListener : public proton::listen_handler {
 public:
  explicit BareListener(BareHandler& handler) : handler_(handler) {}

  std::future<registry::Result<int>> port() { return port_.get_future(); }

  void on_open(proton::listener& listener) override { port_.set_value(listener.port()); }

  proton::connection_options on_accept(proton::listener&) override {
    return proton::connection_options().handler(handler_);
  }

  void on_error(proton::listener&, const std::string& what) override {
    port_.set_value(makeError(ErrorCode::kUnavailable, "bare receiver cannot listen: " + what));
  }

 private:
  BareHandler& handler_;
  std::promise<registry::Result<int>> port_;
};

class ProtonBareReceiver : public BareReceiver {
 public:
  explicit ProtonBareReceiver(int credit_window)
      : handler_(credit_window), listener_(handler_), container_("licgate-bench-bare") {}

  ~ProtonBareReceiver() override { stop(); }

  registry::Status start() {
    auto port = listener_.port();
    container_.listen("127.0.0.1:0", listener_);
    thread_ = std::thread([this] { container_.run(); });
    auto bound = port.get();
    if (!bound) {
      return bound.takeError();
    }
    port_ = *bound;
    return {};
  }

  int port() const override { return port_; }
  std::uint64_t received() const override { return handler_.received(); }

  void stop() override {
    if (thread_.joinable()) {
      container_.stop();
      thread_.join();
    }
  }

 private:
  BareHandler handler_;
  BareListener listener_;
  proton::container container_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace

registry::Result<LoadResult> sendLoad(const LoadOptions& options,
                                      const std::vector<LoadMessage>& messages) {
  LoadSender sender(options, messages);
  try {
    proton::container container(sender, "licgate-bench-sender");
    container.run();
  } catch (const std::exception& error) {
    return makeError(ErrorCode::kUnavailable, std::string("AMQP sender failed: ") + error.what());
  }
  return sender.takeResult();
}

registry::Result<std::unique_ptr<BareReceiver>> startBareReceiver(int credit_window) {
  auto receiver = std::make_unique<ProtonBareReceiver>(credit_window);
  try {
    LICGATE_RETURN_IF_ERROR(receiver->start());
  } catch (const std::exception& error) {
    return makeError(ErrorCode::kUnavailable, std::string("bare receiver failed: ") + error.what());
  }
  return std::unique_ptr<BareReceiver>(std::move(receiver));
}

double quantile(std::vector<double>& values, double q) {
  if (values.empty()) {
    return 0;
  }
  std::sort(values.begin(), values.end());
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size())));
  return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

}  // namespace licgate::bench
