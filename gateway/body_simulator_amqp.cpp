// The body simulator's AMQP side (gateway/body_simulator_internal.hpp), on
// Qpid Proton C++: one container thread runs the connection to licgate's
// listener and the listeners of amqp_peer channels.
//
// Threads: everything here runs on the container's thread but submit() and
// the calls of start() and stop(). Conclusions from other threads (SOAP
// bodies answering over AMQP) wait in the inbox, which the loop's tick
// drains.
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
#include <proton/sender_options.hpp>
#include <proton/source.hpp>
#include <proton/target.hpp>
#include <proton/tracker.hpp>
#include <proton/transport.hpp>
#include <proton/work_queue.hpp>

#include <deque>
#include <future>
#include <thread>

#include "gateway/body_simulator_internal.hpp"
#include "gateway/body_simulator_proton.hpp"
#include "gateway/logging.hpp"

namespace licgate::gateway::sim {

namespace {

constexpr std::string_view kConclusionsAddress = "conformity/conclusions";
// Unsettled deliveries a receiving link takes at once: enough for the
// round trip at tens of thousands of queries a second.
constexpr int kCreditWindow = 2000;
constexpr std::int64_t kTickMs = 5;

// Who a receiving link takes messages for.
struct Endpoint {
  bool body = true;
  std::size_t index = 0;
};

class AmqpSideImpl;

// A listener of an amqp_peer channel, and the handler of the connections
// licgate opens to it.
class PeerEndpoint final : public proton::messaging_handler, public proton::listen_handler {
 public:
  PeerEndpoint(AmqpSideImpl& side, Endpoint endpoint, const SimChannel& channel)
      : side_(side), endpoint_(endpoint), channel_(channel) {}

  const SimChannel& channel() const { return channel_; }
  Endpoint endpoint() const { return endpoint_; }

  // listen_handler
  void on_open(proton::listener& listener) override;
  void on_error(proton::listener& listener, const std::string& what) override;
  proton::connection_options on_accept(proton::listener&) override {
    return proton::connection_options(static_cast<proton::messaging_handler&>(*this));
  }

  // messaging_handler
  void on_receiver_open(proton::receiver& receiver) override;
  void on_sender_open(proton::sender& sender) override {
    sender.close(proton::error_condition("amqp:not-allowed", "this peer only takes messages"));
  }
  void on_message(proton::delivery& delivery, proton::message& message) override;
  void on_error(const proton::error_condition&) override {}

 private:
  AmqpSideImpl& side_;
  const Endpoint endpoint_;
  const SimChannel channel_;
};

// A receiving link to attach on licgate's listener.
struct Attachment {
  Endpoint endpoint;
  std::string address;
  bool attached = false;
  Clock::time_point not_before;
};

class AmqpSideImpl final : public AmqpSide, public proton::messaging_handler {
 public:
  AmqpSideImpl(const SimConfig& config, Players& players)
      : config_(config), players_(players), logger_(getLogger("simulator")) {
    addEndpoints();
  }

  ~AmqpSideImpl() override { stop(); }

  registry::Status start(BoundPorts& ports) override;
  void stop() override;
  void submit(PendingConclusion conclusion) override;

  // Called on the loop by the peers' handlers.
  void listened(const PeerEndpoint& peer, int port, const std::string& error);
  void take(Endpoint endpoint, proton::delivery& delivery, proton::message& message);

  // messaging_handler: the connection to licgate.
  void on_container_start(proton::container& container) override;
  void on_connection_open(proton::connection& connection) override;
  void on_sendable(proton::sender&) override {
    guard([&] { flush(); });
  }
  void on_message(proton::delivery& delivery, proton::message& message) override;
  void on_receiver_close(proton::receiver& receiver) override;
  void on_sender_close(proton::sender& sender) override;
  void on_tracker_accept(proton::tracker& tracker) override;
  void on_tracker_reject(proton::tracker& tracker) override;
  void on_tracker_release(proton::tracker& tracker) override {
    guard([&] { retry(tracker); });
  }
  void on_tracker_settle(proton::tracker& tracker) override {
    guard([&] { retry(tracker); });
  }
  void on_transport_close(proton::transport& transport) override;
  void on_error(const proton::error_condition&) override {}

 private:
  template <typename Step>
  void guard(Step&& step) {
    try {
      step();
    } catch (const std::exception& error) {
      logger_->error("AMQP handler failed: {}", error.what());
    }
  }

  void addEndpoints();
  void reportListening();
  void connect();
  void openConclusionSender();
  void requeueInFlight();
  void attachDue();
  void takeQuery(std::size_t index, proton::delivery& delivery, const proton::message& message);
  void takeOutcome(std::size_t index, proton::delivery& delivery, const proton::message& message);
  void enqueue(PendingConclusion conclusion);
  void requestFlush();
  void flush();
  void tick(std::uint64_t generation);
  void retry(proton::tracker& tracker);

  const SimConfig& config_;
  Players& players_;
  std::shared_ptr<spdlog::logger> logger_;
  std::vector<std::unique_ptr<PeerEndpoint>> peers_;
  std::unique_ptr<proton::container> container_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};

  // Until every listener has reported.
  std::size_t listeners_pending_ = 0;
  BoundPorts ports_;
  std::string listen_error_;
  std::promise<void> listening_;
  bool listening_reported_ = false;

  // The connection to licgate, loop only.
  proton::connection licgate_;
  proton::sender conclusions_;
  bool connected_ = false;
  bool sender_open_ = false;  // conclusions_ opened and not closed by licgate
  Clock::time_point sender_not_before_;
  bool flush_posted_ = false;
  std::uint64_t generation_ = 0;  // one per connection: a tick of an old one stops
  std::vector<Attachment> attachments_;
  std::map<proton::receiver, Endpoint> receivers_;
  std::deque<PendingConclusion> ready_;  // due, waiting for credit
  std::multimap<Clock::time_point, PendingConclusion> later_;
  std::map<proton::tracker, PendingConclusion> in_flight_;

  std::mutex inbox_mutex_;
  std::vector<PendingConclusion> inbox_;  // guarded by inbox_mutex_
};

void PeerEndpoint::on_open(proton::listener& listener) {
  side_.listened(*this, listener.port(), "");
}

void PeerEndpoint::on_error(proton::listener&, const std::string& what) {
  side_.listened(*this, 0, what);
}

// Only links to the channel's address are taken, as licgate's own intake
// does: a link elsewhere is refused with amqp:not-found (AMQP 1.0 section
// 2.6.3).
void PeerEndpoint::on_receiver_open(proton::receiver& receiver) {
  const std::string address = receiver.target().address();
  if (address != channel_.address) {
    receiver.close(proton::error_condition(
        "amqp:not-found",
        "no address '" + address + "' here; this peer takes '" + channel_.address + "'"));
    return;
  }
  receiver.open(proton::receiver_options().credit_window(kCreditWindow).auto_accept(false));
}

void PeerEndpoint::on_message(proton::delivery& delivery, proton::message& message) {
  side_.take(endpoint_, delivery, message);
}

void AmqpSideImpl::addEndpoints() {
  auto add = [&](Endpoint endpoint, const SimChannel& channel) {
    if (channel.kind == SimChannel::Kind::kAmqpPeer) {
      peers_.push_back(std::make_unique<PeerEndpoint>(*this, endpoint, channel));
    } else if (channel.kind == SimChannel::Kind::kAmqpAddress) {
      attachments_.push_back({endpoint, channel.address, false, Clock::time_point{}});
    }
  };
  for (std::size_t i = 0; i < config_.bodies.size(); ++i) {
    add({true, i}, config_.bodies[i].channel);
  }
  for (std::size_t i = 0; i < config_.licensors.size(); ++i) {
    add({false, i}, config_.licensors[i].channel);
  }
}

registry::Status AmqpSideImpl::start(BoundPorts& ports) {
  auto listening = listening_.get_future();
  container_ = std::make_unique<proton::container>(*this, "licgate-play-bodies");
  thread_ = std::thread([this] {
    try {
      container_->run();
    } catch (const std::exception& error) {
      logger_->error("AMQP container stopped: {}", error.what());
      if (!listening_reported_) {
        listen_error_ = std::string("the AMQP container failed: ") + error.what();
        reportListening();
      }
    }
  });
  listening.wait();
  if (!listen_error_.empty()) {
    return registry::makeError(registry::ErrorCode::kUnavailable, listen_error_);
  }
  ports.bodies.insert(ports_.bodies.begin(), ports_.bodies.end());
  ports.licensors.insert(ports_.licensors.begin(), ports_.licensors.end());
  return {};
}

void AmqpSideImpl::stop() {
  if (!container_ || stopping_.exchange(true)) {
    return;
  }
  container_->stop();
  thread_.join();
}

void AmqpSideImpl::submit(PendingConclusion conclusion) {
  std::lock_guard lock(inbox_mutex_);
  inbox_.push_back(std::move(conclusion));
}

void AmqpSideImpl::on_container_start(proton::container& container) {
  guard([&] {
    listeners_pending_ = peers_.size();
    for (auto& peer : peers_) {
      const SimChannel& channel = peer->channel();
      container.listen(channel.host + ":" + std::to_string(channel.port), *peer);
    }
    if (listeners_pending_ == 0) {
      reportListening();
    }
    connect();
  });
}

void AmqpSideImpl::listened(const PeerEndpoint& peer, int port, const std::string& error) {
  const Endpoint endpoint = peer.endpoint();
  const std::string name =
      endpoint.body ? config_.bodies[endpoint.index].id : config_.licensors[endpoint.index].code;
  if (!error.empty() && listen_error_.empty()) {
    listen_error_ = "cannot listen on " + peer.channel().host + ":" +
                    std::to_string(peer.channel().port) + " for " + name + ": " + error;
  }
  (endpoint.body ? ports_.bodies : ports_.licensors)[name] = port;
  if (listeners_pending_ > 0 && --listeners_pending_ == 0) {
    reportListening();
  }
}

// Once only: start() waits for it, and a promise is set once.
void AmqpSideImpl::reportListening() {
  if (!listening_reported_) {
    listening_reported_ = true;
    listening_.set_value();
  }
}

// Dialled again kRetryPause after each failure, whatever its cause: licgate
// may start after the simulator, or be killed and started again.
void AmqpSideImpl::connect() {
  if (stopping_) {
    return;
  }
  generation_ += 1;
  flush_posted_ = false;
  const std::string url = "amqp://" + config_.amqp_host + ":" + std::to_string(config_.amqp_port);
  licgate_ = container_->connect(url, proton::connection_options().container_id(
                                          "licgate-play-bodies-" + std::to_string(generation_)));
  openConclusionSender();
  for (Attachment& attachment : attachments_) {
    attachment.attached = false;
  }
  attachDue();
  const std::uint64_t generation = generation_;
  licgate_.work_queue().schedule(proton::duration(kTickMs),
                                 [this, generation] { tick(generation); });
}

void AmqpSideImpl::openConclusionSender() {
  conclusions_ = licgate_.open_sender(
      std::string(kConclusionsAddress),
      proton::sender_options().delivery_mode(proton::delivery_mode::AT_LEAST_ONCE));
  sender_open_ = true;
}

// A licgate that does not take conclusions yet (its conformity flow not
// configured) refuses the link with amqp:not-found; the link is opened again
// after a pause, and what it had not settled goes on the next one.
void AmqpSideImpl::on_sender_close(proton::sender& sender) {
  guard([&] {
    if (sender != conclusions_) {
      return;
    }
    logger_->debug("licgate closed the link to '{}': {}", kConclusionsAddress,
                   sender.error().what());
    sender_open_ = false;
    sender_not_before_ = Clock::now() + kRetryPause;
    requeueInFlight();
  });
}

void AmqpSideImpl::requeueInFlight() {
  for (auto& [tracker, pending] : in_flight_) {
    ready_.push_front(std::move(pending));
  }
  in_flight_.clear();
}

// A body that is down attaches once it is up; a link licgate closed is
// attached again after a pause.
void AmqpSideImpl::attachDue() {
  const auto now = Clock::now();
  for (Attachment& attachment : attachments_) {
    if (attachment.attached || now < attachment.not_before ||
        (attachment.endpoint.body && players_.bodies[attachment.endpoint.index]->down())) {
      continue;
    }
    attachment.attached = true;
    proton::receiver receiver = licgate_.open_receiver(
        attachment.address,
        proton::receiver_options().credit_window(kCreditWindow).auto_accept(false));
    receivers_[receiver] = attachment.endpoint;
  }
}

void AmqpSideImpl::on_connection_open(proton::connection&) {
  guard([&] {
    connected_ = true;
    logger_->info("connected to licgate at {}:{}", config_.amqp_host, config_.amqp_port);
    flush();
  });
}

void AmqpSideImpl::on_message(proton::delivery& delivery, proton::message& message) {
  guard([&] {
    auto found = receivers_.find(delivery.receiver());
    if (found == receivers_.end()) {
      delivery.release();
      return;
    }
    take(found->second, delivery, message);
  });
}

void AmqpSideImpl::on_receiver_close(proton::receiver& receiver) {
  guard([&] {
    auto found = receivers_.find(receiver);
    if (found == receivers_.end()) {
      return;
    }
    for (Attachment& attachment : attachments_) {
      if (attachment.endpoint.body == found->second.body &&
          attachment.endpoint.index == found->second.index) {
        attachment.attached = false;
        attachment.not_before = Clock::now() + kRetryPause;
      }
    }
    logger_->debug("licgate closed the link to '{}': {}", receiver.source().address(),
                   receiver.error().what());
    receivers_.erase(found);
  });
}

// Conclusions sent and not settled go again on the next connection: licgate
// takes the same conclusion twice as a duplicate.
void AmqpSideImpl::on_transport_close(proton::transport& transport) {
  guard([&] {
    if (connected_) {
      logger_->info("connection to licgate lost: {}", transport.error().what());
    }
    connected_ = false;
    receivers_.clear();
    sender_open_ = false;
    requeueInFlight();
    generation_ += 1;
    if (!stopping_) {
      container_->schedule(proton::duration(kRetryPause.count()),
                           [this] { guard([&] { connect(); }); });
    }
  });
}

void AmqpSideImpl::take(Endpoint endpoint, proton::delivery& delivery, proton::message& message) {
  guard([&] {
    if (endpoint.body) {
      takeQuery(endpoint.index, delivery, message);
    } else {
      takeOutcome(endpoint.index, delivery, message);
    }
  });
}

void AmqpSideImpl::takeOutcome(std::size_t index, proton::delivery& delivery,
                               const proton::message& message) {
  LicensorPlayer& licensor = *players_.licensors[index];
  auto outcome = readOutcomeJson(bodyBytes(message));
  if (!outcome.ok()) {
    licensor.countMalformed();
    settleDelivery(delivery, "amqp:decode-error", outcome.error().message);
    return;
  }
  licensor.take(*outcome);
  settleDelivery(delivery);
}

// Released while the body is down: licgate takes that as "try again".
void AmqpSideImpl::takeQuery(std::size_t index, proton::delivery& delivery,
                             const proton::message& message) {
  BodyPlayer& player = *players_.bodies[index];
  if (player.down()) {
    player.countReleased();
    delivery.release();
    return;
  }
  auto query = mapping::readQueryJson(bodyBytes(message));
  if (!query.ok()) {
    player.countMalformed();
    settleDelivery(delivery, "amqp:decode-error", query.error().message);
    return;
  }
  auto conclusion = player.take(*query);
  settleDelivery(delivery);
  if (!conclusion) {
    return;
  }
  PendingConclusion pending{index, std::move(*conclusion),
                            Clock::now() + std::chrono::milliseconds(player.spec().delay_ms)};
  if (player.spec().answer_over_soap) {
    players_.soap->submit(std::move(pending));
    return;
  }
  enqueue(std::move(pending));
}

void AmqpSideImpl::enqueue(PendingConclusion conclusion) {
  if (conclusion.due <= Clock::now()) {
    ready_.push_back(std::move(conclusion));
    requestFlush();
    return;
  }
  later_.emplace(conclusion.due, std::move(conclusion));
}

// A message came in on another connection (a peer's): what it sends on
// licgate's connection is flushed only from that connection's own context,
// so the send is posted there, once for however many arrive meanwhile.
void AmqpSideImpl::requestFlush() {
  if (!connected_ || flush_posted_) {
    return;
  }
  flush_posted_ = true;
  const std::uint64_t generation = generation_;
  licgate_.work_queue().add([this, generation] {
    guard([&] {
      if (generation == generation_) {
        flush_posted_ = false;
        flush();
      }
    });
  });
}

void AmqpSideImpl::flush() {
  if (!connected_ || !sender_open_ || !conclusions_.active()) {
    return;
  }
  while (conclusions_.credit() > 0 && !ready_.empty()) {
    PendingConclusion pending = std::move(ready_.front());
    ready_.pop_front();
    if (pending.attempts++ == 0) {
      players_.bodies[pending.body]->countConcluded();
    }
    proton::tracker tracker = conclusions_.send(conclusionMessage(pending.conclusion));
    in_flight_.emplace(tracker, std::move(pending));
  }
}

void AmqpSideImpl::tick(std::uint64_t generation) {
  if (generation != generation_ || stopping_) {
    return;
  }
  guard([&] {
    std::vector<PendingConclusion> arrived;
    {
      std::lock_guard lock(inbox_mutex_);
      arrived.swap(inbox_);
    }
    for (auto& conclusion : arrived) {
      enqueue(std::move(conclusion));
    }
    const auto now = Clock::now();
    while (!later_.empty() && later_.begin()->first <= now) {
      ready_.push_back(std::move(later_.begin()->second));
      later_.erase(later_.begin());
    }
    if (connected_) {
      if (!sender_open_ && now >= sender_not_before_) {
        openConclusionSender();
      }
      attachDue();
      flush();
    }
  });
  licgate_.work_queue().schedule(proton::duration(kTickMs),
                                 [this, generation] { tick(generation); });
}

void AmqpSideImpl::on_tracker_accept(proton::tracker& tracker) {
  guard([&] {
    auto found = in_flight_.find(tracker);
    if (found == in_flight_.end()) {
      return;
    }
    players_.bodies[found->second.body]->countSettled(true, {});
    in_flight_.erase(found);
  });
}

void AmqpSideImpl::on_tracker_reject(proton::tracker& tracker) {
  guard([&] {
    auto found = in_flight_.find(tracker);
    if (found == in_flight_.end()) {
      return;
    }
    players_.bodies[found->second.body]->countSettled(false, rejectionText(tracker));
    in_flight_.erase(found);
  });
}

// Released or modified (licgate could not decide now), or settled with no
// outcome: sent again after a pause.
void AmqpSideImpl::retry(proton::tracker& tracker) {
  auto found = in_flight_.find(tracker);
  if (found == in_flight_.end()) {
    return;
  }
  PendingConclusion pending = std::move(found->second);
  in_flight_.erase(found);
  pending.due = Clock::now() + kRetryPause;
  later_.emplace(pending.due, std::move(pending));
}

}  // namespace

std::unique_ptr<AmqpSide> makeAmqpSide(const SimConfig& config, Players& players) {
  return std::make_unique<AmqpSideImpl>(config, players);
}

}  // namespace licgate::gateway::sim
