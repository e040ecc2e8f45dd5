// A real Proton client for the intake tests: one connection with a sender
// on an address and, when asked, a receiver for outcome messages. It runs
// its own container on its own thread and records what the server did with
// each message (outcome, error condition) and every outcome message.
#pragma once

#include <proton/condition.h>
#include <proton/delivery.h>
#include <proton/disposition.h>
#include <proton/link.h>

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
#include <proton/scalar.hpp>
#include <proton/sender.hpp>
#include <proton/source.hpp>
#include <proton/source_options.hpp>
#include <proton/tracker.hpp>
#include <proton/work_queue.hpp>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "adapters/amqp/message_fields.hpp"
#include "adapters/amqp/proton_access.hpp"

namespace licgate::test {

struct Outcome {
  std::string state;  // "accepted", "rejected", "released"
  std::string condition;
  std::string description;
};

struct OutcomeMessage {
  proton::message_id correlation_id;
  std::map<std::string, std::string> properties;
  std::string body;
};

struct ClientOptions {
  int port = 0;
  std::string address = "licences/events";  // "" opens no sender
  std::string reply_address;                // a receiver with this source address
  bool dynamic_reply = false;               // or a receiver asking for a dynamic address
};

class AmqpTestClient : public proton::messaging_handler {
 public:
  explicit AmqpTestClient(ClientOptions options)
      : options_(std::move(options)), container_(*this, "licgate-test-client") {
    thread_ = std::thread([this] {
      try {
        container_.run();
      } catch (const std::exception&) {
        // The test asserts on what was recorded; a dead client shows there.
      }
    });
  }

  ~AmqpTestClient() override {
    container_.stop();
    thread_.join();
  }

  // Queues messages; they go out as the server gives credit.
  void send(std::vector<proton::message> messages) {
    std::lock_guard lock(mutex_);
    for (auto& message : messages) {
      to_send_.push_back(std::move(message));
    }
    if (work_queue_ != nullptr) {
      work_queue_->add([this] { sendWhatCreditAllows(); });
    }
  }

  // A transfer without a single byte: no AMQP message at all (section 3.2).
  void sendEmptyTransfer() {
    std::lock_guard lock(mutex_);
    if (work_queue_ != nullptr) {
      work_queue_->add([this] {
        pn_link_t* link = adapters::amqp::protonC(sender_);
        pn_delivery(link, pn_dtag("empty", 5));
        pn_link_advance(link);
      });
    }
  }

  // Waits until `done` holds (checked under the client's lock).
  bool waitUntil(const std::function<bool()>& done,
                 std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, done);
  }

  bool waitForOutcomes(std::size_t count) {
    return waitUntil([&] { return outcomes_.size() >= count; });
  }

  // Under the lock, for use inside waitUntil() or after it.
  const std::map<std::string, Outcome>& outcomes() const { return outcomes_; }
  const std::vector<OutcomeMessage>& outcomeMessages() const { return outcome_messages_; }
  const proton::error_condition& senderError() const { return sender_error_; }
  const std::string& replyAddress() const { return reply_address_; }
  bool senderOpen() const { return sender_open_; }
  bool transportClosed() const { return transport_closed_; }

  std::string currentReplyAddress() {
    std::lock_guard lock(mutex_);
    return reply_address_;
  }

  Outcome outcomeOf(const std::string& id) {
    std::lock_guard lock(mutex_);
    auto found = outcomes_.find(id);
    return found == outcomes_.end() ? Outcome{} : found->second;
  }

  std::map<std::string, int> countByState() {
    std::lock_guard lock(mutex_);
    std::map<std::string, int> counts;
    for (const auto& [id, outcome] : outcomes_) {
      ++counts[outcome.state];
    }
    return counts;
  }

  void on_container_start(proton::container& container) override {
    connection_ = container.connect("127.0.0.1:" + std::to_string(options_.port));
    if (options_.dynamic_reply) {
      proton::source_options source;
      source.dynamic(true);
      connection_.open_receiver("", proton::receiver_options().source(source));
      return;  // the sender opens once the address is known
    }
    if (!options_.reply_address.empty()) {
      connection_.open_receiver(options_.reply_address);
    }
    if (!options_.address.empty()) {
      connection_.open_sender(options_.address);
    }
  }

  void on_connection_open(proton::connection& connection) override {
    std::lock_guard lock(mutex_);
    work_queue_ = &connection.work_queue();
  }

  void on_receiver_open(proton::receiver& receiver) override {
    {
      std::lock_guard lock(mutex_);
      reply_address_ = receiver.source().address();
    }
    changed_.notify_all();
    if (options_.dynamic_reply) {
      connection_.open_sender(options_.address);
    }
  }

  void on_sender_open(proton::sender& sender) override {
    sender_ = sender;
    {
      std::lock_guard lock(mutex_);
      sender_open_ = true;
    }
    changed_.notify_all();
  }

  void on_sendable(proton::sender&) override { sendWhatCreditAllows(); }

  void on_tracker_accept(proton::tracker& tracker) override { record(tracker, "accepted"); }
  void on_tracker_reject(proton::tracker& tracker) override { record(tracker, "rejected"); }
  void on_tracker_release(proton::tracker& tracker) override { record(tracker, "released"); }

  void on_message(proton::delivery&, proton::message& message) override {
    OutcomeMessage received;
    received.correlation_id = message.correlation_id();
    for (const char* key : {"outcome", "error", "licence"}) {
      if (message.properties().exists(key)) {
        received.properties[key] = proton::get<std::string>(message.properties().get(key));
      }
    }
    received.body = proton::get<std::string>(message.body());
    {
      std::lock_guard lock(mutex_);
      outcome_messages_.push_back(std::move(received));
    }
    changed_.notify_all();
  }

  void on_sender_error(proton::sender& sender) override {
    {
      std::lock_guard lock(mutex_);
      sender_error_ = sender.error();
    }
    changed_.notify_all();
  }

  void on_transport_close(proton::transport&) override {
    {
      std::lock_guard lock(mutex_);
      transport_closed_ = true;
      work_queue_ = nullptr;
    }
    changed_.notify_all();
  }

  void on_error(const proton::error_condition&) override {}

 private:
  void sendWhatCreditAllows() {
    std::lock_guard lock(mutex_);
    while (sender_ && sender_.active() && sender_.credit() > 0 && !to_send_.empty()) {
      proton::message& message = to_send_.front();
      proton::tracker tracker = sender_.send(message);
      ids_[tracker] = adapters::amqp::messageIdText(message.id());
      to_send_.pop_front();
    }
  }

  void record(proton::tracker& tracker, const char* state) {
    Outcome outcome{state, "", ""};
    pn_delivery_t* raw = adapters::amqp::protonC(tracker);
    pn_condition_t* condition = pn_disposition_condition(pn_delivery_remote(raw));
    if (pn_condition_is_set(condition)) {
      outcome.condition = pn_condition_get_name(condition);
      const char* description = pn_condition_get_description(condition);
      outcome.description = description ? description : "";
    }
    {
      std::lock_guard lock(mutex_);
      outcomes_[ids_[tracker]] = outcome;
    }
    changed_.notify_all();
  }

  const ClientOptions options_;
  proton::container container_;
  std::thread thread_;
  proton::connection connection_;  // client thread only
  proton::sender sender_;          // client thread only

  std::mutex mutex_;
  std::condition_variable changed_;
  proton::work_queue* work_queue_ = nullptr;
  std::deque<proton::message> to_send_;
  std::map<proton::tracker, std::string> ids_;
  std::map<std::string, Outcome> outcomes_;
  std::vector<OutcomeMessage> outcome_messages_;
  proton::error_condition sender_error_;
  std::string reply_address_;
  bool sender_open_ = false;
  bool transport_closed_ = false;
};

// A message with a string id and a body in a data section, as licensor
// systems send them.
inline proton::message makeMessage(const std::string& id, const std::string& body,
                                   const std::string& reply_to = "") {
  proton::message message;
  message.id(id);
  message.body(proton::binary(body.begin(), body.end()));
  message.content_type("application/xml");
  message.properties().put("system", "tax");
  if (!reply_to.empty()) {
    message.reply_to(reply_to);
  }
  return message;
}

}  // namespace licgate::test
