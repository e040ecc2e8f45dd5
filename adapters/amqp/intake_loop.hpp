// The event-loop side of the AMQP intake: the Proton handler that accepts
// connections and links, turns messages into Jobs for the worker and
// settles them when the worker's verdicts come back.
//
// Threads: every member function runs on the container's one thread, the
// event loop, except where it says otherwise. The loop's bookkeeping
// (connections, links, pending deliveries, the credit budget, reply routes)
// therefore needs no lock. The worker reaches a connection only through its
// ConnectionHandle: the handle's work_queue, under the handle's mutex.
//
// Internal to adapters/amqp.
#pragma once

#include <proton/connection.hpp>
#include <proton/delivery.hpp>
#include <proton/listen_handler.hpp>
#include <proton/listener.hpp>
#include <proton/message.hpp>
#include <proton/message_id.hpp>
#include <proton/messaging_handler.hpp>
#include <proton/receiver.hpp>
#include <proton/sender.hpp>
#include <proton/work_queue.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <spdlog/spdlog.h>

#include "adapters/amqp/intake_server.hpp"
#include "adapters/amqp/job_queue.hpp"
#include "adapters/amqp/settlement_tracker.hpp"

struct pn_connection_t;
struct pn_link_t;
struct pn_proactor_t;

namespace licgate::adapters::amqp {

// Written by the loop and the worker, read by stats() from anywhere.
struct Counters {
  std::atomic<std::uint64_t> received{0};
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> rejected{0};
  std::atomic<std::uint64_t> released{0};
  std::atomic<std::uint64_t> replies_sent{0};
  std::atomic<std::uint64_t> replies_unroutable{0};
  std::atomic<std::uint64_t> in_flight{0};
  std::atomic<std::uint64_t> in_flight_peak{0};
  std::atomic<std::uint64_t> connections{0};
  std::atomic<std::uint64_t> loop_restarts{0};
};

struct ConnectionState;
struct LinkState;
struct Route;
struct OutgoingReply;

// What the worker may hold of a connection. Proton frees the connection's
// work_queue after its transport closes, so the loop clears `work_queue`
// (under `mutex`) in on_transport_close and the worker posts only while it
// is set.
struct ConnectionHandle {
  std::uint64_t id = 0;
  std::mutex mutex;
  proton::work_queue* work_queue = nullptr;  // guarded by mutex
  ConnectionState* state = nullptr;          // event loop only; null once closed
};

// One delivery on its way to the worker and back.
struct Job {
  Delivery delivery;
  std::shared_ptr<ConnectionHandle> connection;
  std::shared_ptr<std::atomic<bool>> link_open;  // false: nobody can settle it any more
  std::uint64_t tag = 0;
};

struct Settlement {
  std::uint64_t tag = 0;
  Verdict verdict;
  std::string reply_to;
};

class IntakeLoop final : public proton::messaging_handler, public proton::listen_handler {
 public:
  IntakeLoop(const IntakeOptions& options, Counters& counters, JobQueue<Job>& jobs);
  ~IntakeLoop() override;

  // Called from the control thread before the loop runs.
  void setListener(proton::listener listener) { listener_ = std::move(listener); }
  // Set once the listener is open (the bound port) or has failed (a
  // message); `on_listen` is called on the loop thread.
  void setListenCallback(std::function<void(int port, std::string error)> on_listen) {
    on_listen_ = std::move(on_listen);
  }

  // Runs on the connection's thread (posted by the worker): settles the
  // batch, tops up credit, sends the outcome messages.
  void settle(ConnectionHandle& handle, std::vector<Settlement>& batch);

  // Runs on the container's work queue: picks a link attached to receive
  // from `address` with credit and sends there on its connection's turn
  // (IntakeServer::sendOnAttached).
  void sendOnAttached(const std::string& address, std::shared_ptr<HandedOver> send);

  // Releases every unsettled delivery (the senders may send them again),
  // stops listening and closes the connections.
  void shutDown();

  // After the container has ended, before it is destroyed: drops what the
  // loop holds of every connection, so that nothing posts to them any more.
  void forgetConnections();

  // The proactor under the connections, or null when there are none.
  pn_proactor_t* proactor() const;

  // listen_handler
  void on_open(proton::listener& listener) override;
  proton::connection_options on_accept(proton::listener& listener) override;
  void on_error(proton::listener& listener, const std::string& what) override;

  // messaging_handler
  void on_connection_open(proton::connection& connection) override;
  void on_transport_close(proton::transport& transport) override;
  void on_session_close(proton::session& session) override;
  void on_receiver_open(proton::receiver& receiver) override;
  void on_receiver_close(proton::receiver& receiver) override;
  void on_receiver_detach(proton::receiver& receiver) override;
  void on_sender_open(proton::sender& sender) override;
  void on_sender_close(proton::sender& sender) override;
  void on_sender_detach(proton::sender& sender) override;
  void on_message(proton::delivery& delivery, proton::message& message) override;
  void on_error(const proton::error_condition& condition) override;
  void on_tracker_accept(proton::tracker& tracker) override;
  void on_tracker_reject(proton::tracker& tracker) override;
  void on_tracker_release(proton::tracker& tracker) override;
  void on_tracker_settle(proton::tracker& tracker) override;

 private:
  ConnectionState* findConnection(const proton::connection& connection) const;
  LinkState* findReceiver(ConnectionState& connection, const proton::receiver& receiver) const;

  void openReceiver(ConnectionState& connection, proton::receiver& receiver);
  void refuseLink(proton::receiver& receiver, const std::string& condition,
                  const std::string& description);
  void dropReceiver(ConnectionState& connection, pn_link_t* link);
  void dropReplyLink(ConnectionState& connection, pn_link_t* link);
  void dropConnection(ConnectionState& connection);

  void takeMessage(ConnectionState& connection, LinkState& link, proton::delivery& delivery,
                   proton::message& message);
  void applyVerdict(proton::delivery& delivery, const Verdict& verdict);
  void topUpCredit(LinkState& link);
  void scheduleTopUp(ConnectionState& connection, pn_link_t* link);
  void releasePending(ConnectionState& connection);

  Route* findRoute(const std::string& address, bool& has_credit) const;
  void sendOnLink(ConnectionState& connection, pn_link_t* link, const std::string& address,
                  HandedOver& send);
  void scheduleExpiry(ConnectionState& connection);

  void queueReply(const std::string& reply_to, const proton::message_id& message_id,
                  const Verdict& verdict);
  void flushReplies(ConnectionState& here);
  void sendReplies(ConnectionState& connection, std::vector<OutgoingReply>& replies);

  // Runs `step` and logs what it throws: nothing thrown in a handler may
  // reach Proton, which would stop the whole container.
  template <typename Step>
  void guard(const char* where, Step&& step);

  const IntakeOptions options_;
  Counters& counters_;
  JobQueue<Job>& jobs_;
  std::shared_ptr<spdlog::logger> logger_;
  proton::listener listener_;
  std::function<void(int, std::string)> on_listen_;

  std::unordered_map<pn_connection_t*, std::unique_ptr<ConnectionState>> connections_;
  std::unordered_multimap<std::string, std::unique_ptr<Route>> routes_;  // by reply address
  std::vector<std::pair<std::shared_ptr<ConnectionHandle>, std::vector<OutgoingReply>>> outgoing_;
  std::uint64_t next_connection_id_ = 1;
  std::uint64_t next_tag_ = 1;
  std::uint64_t next_dynamic_address_ = 1;
  std::size_t reserved_credit_ = 0;  // sum of the windows of open intake links
  bool expiry_scheduled_ = false;
  bool shutting_down_ = false;
};

}  // namespace licgate::adapters::amqp
