// The licensor's side of the conformity benchmark (bench/conformity_load.hpp).
#include "bench/conformity_load.hpp"

#include <proton/connection.hpp>
#include <proton/container.hpp>
#include <proton/delivery.hpp>
#include <proton/error_condition.hpp>
#include <proton/message.hpp>
#include <proton/message_id.hpp>
#include <proton/messaging_handler.hpp>
#include <proton/receiver.hpp>
#include <proton/receiver_options.hpp>
#include <proton/sender.hpp>
#include <proton/tracker.hpp>
#include <proton/transport.hpp>
#include <proton/work_queue.hpp>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>
#include <unordered_map>

namespace licgate::bench {

namespace {

using Clock = std::chrono::steady_clock;

class RoundClient : public proton::messaging_handler {
 public:
  RoundClient(const RoundLoadOptions& options, const std::vector<RoundRequest>& requests)
      : options_(options), requests_(requests), sent_at_(requests.size()) {
    result_.latency_ms.reserve(requests.size());
    for (std::size_t i = 0; i < requests.size(); ++i) {
      index_.emplace(requests[i].application_id, i);
    }
    message_.content_type("application/json");
    message_.properties().put("system", options.system);
    message_.inferred(true);
  }

  ~RoundClient() { stopTicker(); }

  RoundLoadResult takeResult() { return std::move(result_); }

  void on_container_start(proton::container& container) override {
    proton::connection connection = container.connect("127.0.0.1:" + std::to_string(options_.port));
    // Credit for every round that can be open, and more: an outcome sent
    // again must not wait behind credit. The open loop keeps a tenth of a
    // second's rounds open at most, unless licgate falls behind.
    const std::size_t open_rounds = options_.rounds_per_s > 0
                                        ? static_cast<std::size_t>(options_.rounds_per_s / 10)
                                        : options_.window;
    connection.open_receiver(
        options_.outcome_address,
        proton::receiver_options().credit_window(static_cast<int>(open_rounds * 4 + 100)));
    connection.open_sender("conformity/requests");
    deadline_ = Clock::now() + options_.timeout;
    connection_ = connection;
    startTicker(connection.work_queue());
  }

  void on_sendable(proton::sender& sender) override {
    sender_ = sender;
    sendMore();
  }

  void on_tracker_reject(proton::tracker& tracker) override {
    ++result_.rejected;
    if (result_.first_rejection.empty()) {
      result_.first_rejection = "request " + std::to_string(result_.rejected) + " rejected";
    }
    // A refused request opens no round: it leaves the window at once.
    --open_;
    ++done_rounds_;
    finishIfDone(tracker.connection());
    sendMore();
  }

  void on_message(proton::delivery& delivery, proton::message& message) override {
    const auto now = Clock::now();
    std::string body;
    if (message.body().type() == proton::BINARY) {
      auto bytes = proton::get<proton::binary>(message.body());
      body.assign(bytes.begin(), bytes.end());
    } else if (message.body().type() == proton::STRING) {
      body = proton::get<std::string>(message.body());
    }
    delivery.accept();
    auto json = nlohmann::json::parse(body, nullptr, false);
    if (!json.is_object() || !json.contains("application_id")) {
      return;
    }
    auto found = index_.find(json["application_id"].get<std::string>());
    if (found == index_.end()) {
      return;
    }
    if (sent_at_[found->second] == Clock::time_point{}) {
      ++result_.repeated_outcomes;
      return;
    }
    result_.latency_ms.push_back(
        std::chrono::duration<double, std::milli>(now - sent_at_[found->second]).count());
    sent_at_[found->second] = Clock::time_point{};
    ++result_.outcomes;
    --open_;
    ++done_rounds_;
    last_outcome_ = now;
    finishIfDone(delivery.connection());
    sendMore();
  }

  void on_transport_error(proton::transport& transport) override {
    if (!result_.timed_out && !finished_) {
      result_.transport_error = transport.error().what();
    }
  }

  void on_transport_close(proton::transport& transport) override {
    stopTicker();
    transport.connection().container().stop();
  }

  void on_error(const proton::error_condition& condition) override {
    if (!result_.timed_out && !finished_) {
      result_.transport_error = condition.what();
    }
  }

 private:
  // The requests the loop may send now: up to the window (closed), or those
  // due by now at the rate (open).
  std::size_t sendLimit(Clock::time_point now) const {
    if (options_.rounds_per_s <= 0) {
      return open_ < options_.window ? requests_.size() : next_;
    }
    if (next_ == 0) {
      return 1;
    }
    const double elapsed = std::chrono::duration<double>(now - started_).count();
    return std::min(requests_.size(),
                    static_cast<std::size_t>(elapsed * options_.rounds_per_s) + 1);
  }

  // When request `i` was due in the open loop's schedule.
  Clock::time_point dueAt(std::size_t i, Clock::time_point now) const {
    if (i == 0) {
      return now;
    }
    return started_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                          static_cast<double>(i) / options_.rounds_per_s));
  }

  void sendMore() {
    if (!sender_ || finished_) {
      return;
    }
    const auto now = Clock::now();
    while (next_ < sendLimit(now) && sender_.credit() > 0) {
      if (next_ == 0) {
        started_ = now;
      }
      const RoundRequest& request = requests_[next_];
      message_.id(proton::message_id("request-" + request.application_id));
      message_.body(proton::binary(request.body.begin(), request.body.end()));
      if (options_.rounds_per_s > 0) {
        result_.send_lag_ms.push_back(
            std::chrono::duration<double, std::milli>(now - dueAt(next_, now)).count());
      }
      sent_at_[next_] = now;
      sender_.send(message_);
      ++next_;
      ++open_;
      ++result_.sent;
    }
  }

  void finishIfDone(proton::connection connection) {
    if (done_rounds_ < requests_.size() || finished_) {
      return;
    }
    finished_ = true;
    result_.elapsed_s = std::chrono::duration<double>(last_outcome_ - started_).count();
    stopTicker();
    connection.close();
  }

  // The loop's clock, on a thread of its own that hands each tick to the
  // connection's work queue: a millisecond for the open loop's pacing, a
  // tenth of a second for the timeout. Timers chained with
  // container::schedule stopped firing in open-loop runs of some thousands
  // of rounds (the container then waited in epoll with no timeout, for
  // ever); what caused it was not found, and this clock does not depend on
  // them.
  void startTicker(proton::work_queue& queue) {
    const auto period =
        options_.rounds_per_s > 0 ? std::chrono::milliseconds(1) : std::chrono::milliseconds(100);
    ticker_ = std::thread([this, &queue, period] {
      while (!ticker_stop_.load()) {
        std::this_thread::sleep_for(period);
        if (ticker_stop_.load() || !queue.add(proton::work([this] { tick(); }))) {
          return;
        }
      }
    });
  }

  // Called on the container's thread before the connection goes, so that
  // the ticker never hands work to a queue that is gone.
  void stopTicker() {
    ticker_stop_.store(true);
    if (ticker_.joinable() && ticker_.get_id() != std::this_thread::get_id()) {
      ticker_.join();
    }
  }

  void tick() {
    if (finished_ || ticker_stop_.load()) {
      return;
    }
    const bool interrupted = options_.interrupted != nullptr && options_.interrupted->load();
    if (interrupted || Clock::now() >= deadline_) {
      result_.timed_out = true;
      result_.elapsed_s = std::chrono::duration<double>(Clock::now() - started_).count();
      stopTicker();
      connection_.container().stop();
      return;
    }
    sendMore();
  }

  const RoundLoadOptions& options_;
  const std::vector<RoundRequest>& requests_;
  std::vector<Clock::time_point> sent_at_;
  std::unordered_map<std::string, std::size_t> index_;
  proton::message message_;
  proton::connection connection_;
  proton::sender sender_;
  RoundLoadResult result_;
  Clock::time_point started_ = Clock::now();
  Clock::time_point last_outcome_ = Clock::now();
  Clock::time_point deadline_;
  std::size_t next_ = 0;
  std::size_t open_ = 0;
  std::size_t done_rounds_ = 0;
  bool finished_ = false;
  std::atomic<bool> ticker_stop_{false};
  std::thread ticker_;
};

}  // namespace

registry::Result<RoundLoadResult> runRounds(const RoundLoadOptions& options,
                                            const std::vector<RoundRequest>& requests) {
  RoundClient client(options, requests);
  try {
    proton::container container(client, "licgate-conformity-bench");
    container.run();
  } catch (const std::exception& e) {
    return registry::makeError(registry::ErrorCode::kUnavailable,
                               std::string("conformity load: ") + e.what());
  }
  return client.takeResult();
}

}  // namespace licgate::bench
