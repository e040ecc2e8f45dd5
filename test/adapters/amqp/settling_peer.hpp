// A real Proton receiver for the tests of what licgate sends: it either
// listens (an interested body's peer, for AmqpOutbound) or connects and
// attaches a receiving link to an address on licgate's listener (for
// IntakeServer::sendOnAttached). It settles each message as its id says:
// "accept-...", "reject-..." (amqp:precondition-failed, "bad query <id>"),
// "release-...", "modify-...", and "hold-..." is never settled. As a
// listener it refuses links to addresses under "refused/". It runs its
// own container on its own thread and records every message.
#pragma once

#include <proton/condition.h>
#include <proton/delivery.h>
#include <proton/disposition.h>

#include <proton/binary.hpp>
#include <proton/codec/map.hpp>
#include <proton/connection.hpp>
#include <proton/container.hpp>
#include <proton/delivery.hpp>
#include <proton/error_condition.hpp>
#include <proton/listen_handler.hpp>
#include <proton/listener.hpp>
#include <proton/message.hpp>
#include <proton/messaging_handler.hpp>
#include <proton/receiver.hpp>
#include <proton/receiver_options.hpp>
#include <proton/scalar.hpp>
#include <proton/source.hpp>
#include <proton/target.hpp>
#include <proton/work_queue.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "adapters/amqp/message_fields.hpp"
#include "adapters/amqp/outbound.hpp"
#include "adapters/amqp/proton_access.hpp"

namespace licgate::test {

struct ReceivedMessage {
  std::string address;
  std::string message_id;
  std::string subject;
  std::string content_type;
  std::string body;
  std::map<std::string, std::string> properties;
};

class SettlingPeer : public proton::messaging_handler, public proton::listen_handler {
 public:
  // Listens on 127.0.0.1:`port` (0: a free port, see port()).
  static std::unique_ptr<SettlingPeer> listening(int port, int credit = 1000) {
    auto peer = std::unique_ptr<SettlingPeer>(new SettlingPeer(credit));
    peer->listen_port_ = port;
    peer->run();
    return peer;
  }

  // Connects to licgate on `port` and attaches a receiver from `address`.
  static std::unique_ptr<SettlingPeer> attached(int port, const std::string& address,
                                                int credit = 1000) {
    auto peer = std::unique_ptr<SettlingPeer>(new SettlingPeer(credit));
    peer->connect_port_ = port;
    peer->receive_from_ = address;
    peer->run();
    return peer;
  }

  ~SettlingPeer() override {
    container_.stop();
    thread_.join();
  }

  int port() const { return port_; }

  // Waits until the receiver is attached and the other side has answered.
  bool waitUntilAttached() {
    return waitUntil([&] { return attached_; });
  }

  bool waitUntil(const std::function<bool()>& done,
                 std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, done);
  }

  bool waitForMessages(std::size_t count) {
    return waitUntil([&] { return received_.size() >= count; });
  }

  std::vector<ReceivedMessage> received() {
    std::lock_guard lock(mutex_);
    return received_;
  }

  // Detaches the receiving link (with its unsettled deliveries).
  void closeLink() {
    std::lock_guard lock(mutex_);
    if (work_queue_ != nullptr) {
      work_queue_->add([this] { receiver_.close(); });
    }
  }

  void on_container_start(proton::container& container) override {
    if (listen_port_ >= 0) {
      listener_ = container.listen("127.0.0.1:" + std::to_string(listen_port_), *this);
      return;
    }
    proton::connection connection = container.connect("127.0.0.1:" + std::to_string(connect_port_));
    connection.open_receiver(receive_from_, receiverOptions());
  }

  void on_open(proton::listener& listener) override { announce(listener.port()); }

  void on_error(proton::listener&, const std::string&) override { announce(0); }

  void on_connection_open(proton::connection& connection) override {
    if (!connection.active()) {
      connection.open();
    }
    std::lock_guard lock(mutex_);
    work_queue_ = &connection.work_queue();
  }

  void on_receiver_open(proton::receiver& receiver) override {
    if (receiver.target().address().starts_with("refused/")) {
      receiver.open();
      receiver.close(proton::error_condition("amqp:not-found", "no such address"));
      return;
    }
    if (!receiver.active()) {
      receiver.open(receiverOptions());
    }
    receiver_ = receiver;
    if (listen_port_ < 0) {
      announce(connect_port_);
    }
    {
      std::lock_guard lock(mutex_);
      attached_ = true;
    }
    changed_.notify_all();
  }

  void on_transport_close(proton::transport&) override {
    std::lock_guard lock(mutex_);
    work_queue_ = nullptr;
  }

  void on_message(proton::delivery& delivery, proton::message& message) override {
    ReceivedMessage received;
    received.address = delivery.receiver().target().address();
    if (received.address.empty()) {
      received.address = delivery.receiver().source().address();
    }
    received.message_id = adapters::amqp::messageIdText(message.id());
    received.subject = message.subject();
    received.content_type = message.content_type();
    if (message.body().type() == proton::BINARY) {
      auto bytes = proton::get<proton::binary>(message.body());
      received.body.assign(bytes.begin(), bytes.end());
    }
    std::map<std::string, proton::scalar> properties;
    proton::get(message.properties().value(), properties);
    for (const auto& [key, value] : properties) {
      received.properties[key] = proton::coerce<std::string>(value);
    }
    settle(delivery, received.message_id);
    {
      std::lock_guard lock(mutex_);
      received_.push_back(std::move(received));
    }
    changed_.notify_all();
  }

  void on_error(const proton::error_condition&) override {}

 private:
  explicit SettlingPeer(int credit) : credit_(credit), container_(*this, "settling-peer") {}

  void run() {
    std::future<int> port = port_promise_.get_future();
    thread_ = std::thread([this] {
      try {
        container_.run();
      } catch (const std::exception&) {
        // The tests see a dead peer in what it recorded.
      }
    });
    if (port.wait_for(std::chrono::seconds(10)) == std::future_status::ready) {
      port_ = port.get();
    }
  }

  void announce(int port) {
    if (!announced_) {
      announced_ = true;
      port_promise_.set_value(port);
    }
  }

  proton::receiver_options receiverOptions() const {
    return proton::receiver_options().credit_window(credit_).auto_accept(false);
  }

  static void settle(proton::delivery& delivery, const std::string& id) {
    if (id.starts_with("hold")) {
      return;
    }
    if (id.starts_with("reject")) {
      pn_delivery_t* raw = adapters::amqp::protonC(delivery);
      pn_condition_t* condition = pn_disposition_condition(pn_delivery_local(raw));
      pn_condition_set_name(condition, "amqp:precondition-failed");
      pn_condition_set_description(condition, ("bad query " + id).c_str());
      pn_delivery_update(raw, PN_REJECTED);
      pn_delivery_settle(raw);
    } else if (id.starts_with("release")) {
      delivery.release();
    } else if (id.starts_with("modify")) {
      delivery.modify();
    } else {
      delivery.accept();
    }
  }

  const int credit_;
  int listen_port_ = -1;
  int connect_port_ = 0;
  std::string receive_from_;
  int port_ = 0;
  std::promise<int> port_promise_;
  bool announced_ = false;  // peer thread only
  proton::container container_;
  std::thread thread_;
  proton::listener listener_;
  proton::receiver receiver_;  // peer thread only

  std::mutex mutex_;
  std::condition_variable changed_;
  proton::work_queue* work_queue_ = nullptr;
  std::vector<ReceivedMessage> received_;
  bool attached_ = false;
};

// Receipts as the sender's callbacks report them, by message id.
class Receipts {
 public:
  adapters::amqp::SendCallback callbackFor(const std::string& id) {
    return [this, id](const adapters::amqp::SendReceipt& receipt) {
      {
        std::lock_guard lock(mutex_);
        by_id_[id].push_back(receipt);
        ++count_;
      }
      changed_.notify_all();
    };
  }

  bool waitFor(std::size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return count_ >= count; });
  }

  // The one receipt of `id`; kFailed "none" or "several" when not exactly one.
  adapters::amqp::SendReceipt of(const std::string& id) {
    std::lock_guard lock(mutex_);
    auto found = by_id_.find(id);
    if (found == by_id_.end() || found->second.size() != 1) {
      return {adapters::amqp::SendOutcome::kFailed,
              found == by_id_.end() ? "none" : "several receipts"};
    }
    return found->second.front();
  }

  std::size_t count() {
    std::lock_guard lock(mutex_);
    return count_;
  }

  std::map<std::string, std::vector<adapters::amqp::SendReceipt>> all() {
    std::lock_guard lock(mutex_);
    return by_id_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, std::vector<adapters::amqp::SendReceipt>> by_id_;
  std::size_t count_ = 0;
};

inline adapters::amqp::OutboundMessage queryMessage(const std::string& id) {
  adapters::amqp::OutboundMessage message;
  message.message_id = id;
  message.subject = "conformity-query";
  message.content_type = "application/json";
  message.body = "{\"query_id\":\"" + id + "\"}";
  message.properties["body"] = "sanitary";
  return message;
}

}  // namespace licgate::test
