// Connections from licgate to other systems' AMQP peers (outbound.hpp).
//
// Threads: send() may run anywhere; it only appends to the inbox under
// inbox_mutex_ and, when the inbox was empty, posts one drain job to the
// container. Everything else runs on the container's one thread, so the
// peers, links and trackers need no lock. The drain job runs outside any
// connection, so it only sorts messages to their peers; a connection's
// messages are sent from its own work queue, the only place where what is
// sent reaches the wire.
#include "adapters/amqp/outbound.hpp"

#include <proton/connection.hpp>
#include <proton/connection_options.hpp>
#include <proton/container.hpp>
#include <proton/delivery_mode.hpp>
#include <proton/duration.hpp>
#include <proton/error_condition.hpp>
#include <proton/messaging_handler.hpp>
#include <proton/sender.hpp>
#include <proton/sender_options.hpp>
#include <proton/tracker.hpp>
#include <proton/transport.hpp>
#include <proton/work_queue.hpp>

#include <pthread.h>
#include <atomic>
#include <charconv>
#include <deque>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "adapters/amqp/proton_access.hpp"
#include "adapters/amqp/settlement_tracker.hpp"
#include "adapters/logger.hpp"

namespace licgate::adapters::amqp {

namespace {

using registry::ErrorCode;
using registry::Status;

// How long stop() waits for the connections to close politely before the
// container is stopped outright.
constexpr std::chrono::seconds kShutdownGrace(2);
constexpr const char* kStopping = "licgate is stopping";

// "amqp://host:port" (port 5672 when absent) to the "host:port" Proton
// dials; nullopt when it is not of that form.
std::optional<std::string> dialAddress(const std::string& url) {
  constexpr std::string_view kScheme = "amqp://";
  if (!url.starts_with(kScheme)) {
    return std::nullopt;
  }
  std::string_view rest = std::string_view(url).substr(kScheme.size());
  if (!rest.empty() && rest.back() == '/') {
    rest.remove_suffix(1);
  }
  std::size_t colon = rest.rfind(':');
  std::string_view host = rest.substr(0, colon);
  int port = 5672;
  if (colon != std::string_view::npos) {
    std::string_view digits = rest.substr(colon + 1);
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (error != std::errc() || end != digits.data() + digits.size() || port < 1 || port > 65535) {
      return std::nullopt;
    }
  }
  if (host.empty() || host.find('/') != std::string_view::npos) {
    return std::nullopt;
  }
  return std::string(host) + ":" + std::to_string(port);
}

// A peer that vanishes without closing its socket would otherwise hold its
// connection open for ever, every message to it waiting out the settle
// timeout; with an idle timeout Proton sends heartbeats and closes the
// transport when the peer sends nothing for this long (AMQP 1.0 section
// 2.4.5), and the next message dials again.
constexpr std::chrono::seconds kIdleTimeout(30);

proton::connection_options connectionOptions() {
  return proton::connection_options().idle_timeout(
      proton::duration(std::chrono::milliseconds(kIdleTimeout).count()));
}

struct Item {
  std::string url;
  std::string address;
  std::unique_ptr<HandedOver> send;
};

// One sending link per address; messages wait here, in order, for credit.
struct Link {
  proton::sender sender;
  std::string address;
  std::deque<std::unique_ptr<HandedOver>> waiting;
};

enum class PeerState : std::uint8_t { kIdle, kConnecting, kOpen };

struct Peer {
  std::string url;
  std::string dial;
  PeerState state = PeerState::kIdle;
  proton::connection connection;
  std::vector<Item> outbox;  // arrived since the connection's last turn
  std::unordered_map<std::string, std::unique_ptr<Link>> links;  // by address
  std::unordered_map<pn_link_t*, Link*> by_link;
  SettlementTracker settlements;
  bool flush_posted = false;
  SteadyClock::time_point redial_at{};
  std::string last_error;
};

class ProtonOutbound final : public AmqpOutbound, public proton::messaging_handler {
 public:
  explicit ProtonOutbound(OutboundOptions options)
      : options_(std::move(options)), logger_(getLogger("amqp")) {}

  ~ProtonOutbound() override { stop(); }

  Status start() override;
  void stop() override;
  void send(const std::string& url, const std::string& address, OutboundMessage message,
            SendCallback done) override;
  std::uint64_t inFlight() const override { return in_flight_.load(std::memory_order_relaxed); }

  void on_connection_open(proton::connection& connection) override;
  void on_transport_error(proton::transport& transport) override;
  void on_transport_close(proton::transport& transport) override;
  void on_sendable(proton::sender& sender) override;
  void on_sender_error(proton::sender& sender) override;
  void on_sender_close(proton::sender& sender) override;
  void on_tracker_accept(proton::tracker& tracker) override { onDisposition(tracker); }
  void on_tracker_reject(proton::tracker& tracker) override { onDisposition(tracker); }
  void on_tracker_release(proton::tracker& tracker) override { onDisposition(tracker); }
  void on_tracker_settle(proton::tracker& tracker) override { onDisposition(tracker); }
  void on_error(const proton::error_condition& condition) override;

 private:
  void postDrain();
  void drain();
  void dialOrRefuse(Peer& peer, Item& item, std::vector<Peer*>& touched);
  void postFlush(Peer& peer);
  void flush(Peer& peer);
  Link& linkFor(Peer& peer, const std::string& address);
  void sendWaiting(Peer& peer, Link& link);
  void onDisposition(proton::tracker& tracker);
  void dropLink(Peer& peer, pn_link_t* raw, const std::string& why);
  void dropConnection(Peer& peer, const std::string& why);
  void scheduleExpiry();
  void expire();
  void shutDown();
  void failEverything();
  Peer* findPeer(const proton::connection& connection);
  void runLoop();

  template <typename Step>
  void guard(const char* where, Step&& step);

  const OutboundOptions options_;
  std::shared_ptr<spdlog::logger> logger_;
  std::atomic<std::uint64_t> in_flight_{0};

  std::mutex inbox_mutex_;  // guards the next three
  std::vector<Item> inbox_;
  bool drain_posted_ = false;
  bool accepting_ = false;  // started and not stopping

  // Loop thread only.
  std::unordered_map<std::string, std::unique_ptr<Peer>> peers_;  // by URL
  std::unordered_map<pn_connection_t*, Peer*> by_connection_;
  bool expiry_scheduled_ = false;
  bool shutting_down_ = false;

  std::unique_ptr<proton::container> container_;
  std::unique_ptr<proton::work_queue> control_;  // destroyed before the container
  std::thread loop_thread_;
  std::promise<void> loop_ended_;
  std::mutex lifecycle_mutex_;
  bool started_ = false;
  bool stopped_ = false;
};

template <typename Step>
void ProtonOutbound::guard(const char* where, Step&& step) {
  try {
    step();
  } catch (const std::exception& error) {
    logger_->error("AMQP outbound handler {} failed: {}", where, error.what());
  } catch (...) {
    logger_->error("AMQP outbound handler {} failed with an unknown exception", where);
  }
}

Status ProtonOutbound::start() {
  std::lock_guard lock(lifecycle_mutex_);
  if (stopped_) {
    return registry::makeError(ErrorCode::kInternal,
                               "the AMQP outbound was stopped and cannot start again");
  }
  if (started_) {
    return {};
  }
  try {
    container_ = std::make_unique<proton::container>(*this, options_.container_id);
    // With no connection open the container must go on waiting for sends.
    container_->auto_stop(false);
    control_ = std::make_unique<proton::work_queue>(*container_);
  } catch (const std::exception& error) {
    control_.reset();
    container_.reset();
    return registry::makeError(ErrorCode::kInternal,
                               std::string("cannot start the AMQP outbound: ") + error.what());
  }
  loop_thread_ = std::thread([this] { runLoop(); });
  started_ = true;
  {
    std::lock_guard inbox_lock(inbox_mutex_);
    accepting_ = true;
  }
  logger_->info("AMQP outbound started as container '{}'", options_.container_id);
  return {};
}

void ProtonOutbound::runLoop() {
  pthread_setname_np(pthread_self(), "amqp-outbound");
  try {
    container_->run();
  } catch (const std::exception& error) {
    logger_->error("AMQP outbound event loop failed: {}", error.what());
  }
  loop_ended_.set_value();
}

void ProtonOutbound::send(const std::string& url, const std::string& address,
                          OutboundMessage message, SendCallback done) {
  in_flight_.fetch_add(1, std::memory_order_relaxed);
  SendCallback counted = [this, done = std::move(done)](const SendReceipt& receipt) {
    in_flight_.fetch_sub(1, std::memory_order_relaxed);
    if (done) {
      done(receipt);
    }
  };
  auto send = std::make_unique<HandedOver>(std::move(message), std::move(counted),
                                           SteadyClock::now() + options_.settle_timeout);
  if (!dialAddress(url)) {
    send->fail("url '" + url + "' is not amqp://HOST:PORT");
    return;
  }
  std::unique_lock lock(inbox_mutex_);
  if (!accepting_) {
    lock.unlock();
    send->fail("the AMQP outbound is not running (not started, or licgate is stopping)");
    return;
  }
  inbox_.push_back(Item{url, address, std::move(send)});
  postDrain();
}

// The caller holds inbox_mutex_: while accepting_ is set under it, stop()
// has not begun and control_ is alive. One drain job serves whatever
// arrives until it runs, so a burst of sends costs one wake-up.
void ProtonOutbound::postDrain() {
  if (drain_posted_ || inbox_.empty()) {
    return;
  }
  drain_posted_ = true;
  if (!control_->add([this] { drain(); })) {
    logger_->debug("AMQP outbound container is stopping: stop() fails its inbox");
  }
}

// Sorts what arrived to its peers, dialling those not connected; each peer
// gets one flush on its connection's turn for the whole batch.
void ProtonOutbound::drain() {
  guard("drain", [&] {
    std::vector<Item> items;
    {
      std::lock_guard lock(inbox_mutex_);
      items.swap(inbox_);
      drain_posted_ = false;
    }
    std::vector<Peer*> touched;
    for (Item& item : items) {
      std::unique_ptr<Peer>& slot = peers_[item.url];
      if (!slot) {
        slot = std::make_unique<Peer>();
        slot->url = item.url;
        slot->dial = *dialAddress(item.url);
      }
      dialOrRefuse(*slot, item, touched);
    }
    for (Peer* peer : touched) {
      postFlush(*peer);
    }
    scheduleExpiry();
  });
}

// A peer that failed is not dialled again before reconnect_pause: its
// messages fail at once meanwhile, rather than each waiting for a timeout.
void ProtonOutbound::dialOrRefuse(Peer& peer, Item& item, std::vector<Peer*>& touched) {
  if (shutting_down_) {
    item.send->fail(kStopping);
    return;
  }
  if (peer.state == PeerState::kIdle) {
    if (SteadyClock::now() < peer.redial_at) {
      item.send->fail("connection to " + peer.url + " failed: " + peer.last_error +
                      " (not dialled again for " +
                      std::to_string(options_.reconnect_pause.count()) + " ms)");
      return;
    }
    logger_->debug("AMQP outbound: connecting to {}", peer.url);
    peer.connection = container_->connect(peer.dial, connectionOptions());
    peer.state = PeerState::kConnecting;
    by_connection_[protonC(peer.connection)] = &peer;
  }
  peer.outbox.push_back(std::move(item));
  if (peer.state == PeerState::kOpen && !peer.flush_posted) {
    peer.flush_posted = true;
    touched.push_back(&peer);
  }
}

void ProtonOutbound::postFlush(Peer& peer) {
  Peer* target = &peer;
  proton::connection connection = peer.connection;
  peer.connection.work_queue().add([this, target, connection] {
    guard("flush", [&] {
      // The peer may have lost this connection, and dialled another, since.
      if (target->state == PeerState::kOpen && target->connection == connection) {
        flush(*target);
      }
    });
  });
}

Peer* ProtonOutbound::findPeer(const proton::connection& connection) {
  auto found = by_connection_.find(protonC(connection));
  return found == by_connection_.end() ? nullptr : found->second;
}

void ProtonOutbound::on_connection_open(proton::connection& connection) {
  guard("on_connection_open", [&] {
    Peer* peer = findPeer(connection);
    if (peer == nullptr) {
      return;
    }
    logger_->info("AMQP outbound: connected to {}", peer->url);
    peer->state = PeerState::kOpen;
    flush(*peer);
  });
}

// Runs on the peer's connection: messages move to their link, in order,
// and go out as far as credit allows.
void ProtonOutbound::flush(Peer& peer) {
  peer.flush_posted = false;
  std::vector<Item> items;
  items.swap(peer.outbox);
  std::vector<Link*> touched;
  for (Item& item : items) {
    Link& link = linkFor(peer, item.address);
    link.waiting.push_back(std::move(item.send));
    if (touched.empty() || touched.back() != &link) {
      touched.push_back(&link);
    }
  }
  for (Link* link : touched) {
    sendWaiting(peer, *link);
  }
}

// At least once (AMQP 1.0 section 3.4): sent unsettled, and settled by the
// receiver first.
Link& ProtonOutbound::linkFor(Peer& peer, const std::string& address) {
  std::unique_ptr<Link>& link = peer.links[address];
  if (!link) {
    link = std::make_unique<Link>();
    link->address = address;
    link->sender = peer.connection.open_sender(
        address, proton::sender_options().delivery_mode(proton::delivery_mode::AT_LEAST_ONCE));
    peer.by_link[protonC(link->sender)] = link.get();
  }
  return *link;
}

void ProtonOutbound::sendWaiting(Peer& peer, Link& link) {
  while (!link.waiting.empty() && link.sender.credit() > 0) {
    peer.settlements.send(link.sender, *link.waiting.front());
    link.waiting.pop_front();
  }
}

void ProtonOutbound::on_sendable(proton::sender& sender) {
  guard("on_sendable", [&] {
    Peer* peer = findPeer(sender.connection());
    if (peer == nullptr) {
      return;
    }
    auto link = peer->by_link.find(protonC(sender));
    if (link != peer->by_link.end()) {
      sendWaiting(*peer, *link->second);
    }
  });
}

void ProtonOutbound::onDisposition(proton::tracker& tracker) {
  guard("on_tracker", [&] {
    if (Peer* peer = findPeer(tracker.connection())) {
      peer->settlements.onDisposition(tracker);
    }
  });
}

// The peer refused or detached the link (an unknown address, say): what it
// held fails, and the next message for the address opens a new link.
void ProtonOutbound::on_sender_error(proton::sender& sender) {
  guard("on_sender_error", [&] {
    if (Peer* peer = findPeer(sender.connection())) {
      dropLink(*peer, protonC(sender), sender.error().what());
    }
  });
}

void ProtonOutbound::on_sender_close(proton::sender& sender) {
  guard("on_sender_close", [&] {
    if (Peer* peer = findPeer(sender.connection())) {
      dropLink(*peer, protonC(sender), "closed by the peer");
    }
  });
}

void ProtonOutbound::dropLink(Peer& peer, pn_link_t* raw, const std::string& why) {
  auto found = peer.by_link.find(raw);
  if (found == peer.by_link.end()) {
    return;
  }
  Link* link = found->second;
  std::string where = "link to '" + link->address + "' at " + peer.url;
  logger_->debug("AMQP outbound: {} closed: {}", where, why);
  for (auto& waiting : link->waiting) {
    waiting->fail(where + " closed before sending: " + why);
  }
  peer.settlements.failLink(raw, where + " closed before settlement: " + why);
  peer.by_link.erase(found);
  peer.links.erase(link->address);
}

void ProtonOutbound::on_transport_error(proton::transport& transport) {
  on_transport_close(transport);
}

void ProtonOutbound::on_transport_close(proton::transport& transport) {
  guard("on_transport_close", [&] {
    Peer* peer = findPeer(transport.connection());
    if (peer == nullptr) {
      return;
    }
    std::string why = transport.error() ? transport.error().what() : "closed by the peer";
    dropConnection(*peer, why);
    if (shutting_down_ && by_connection_.empty()) {
      container_->stop();
    }
  });
}

// Everything the connection held fails; the peer is dialled again for the
// next message once reconnect_pause has passed.
void ProtonOutbound::dropConnection(Peer& peer, const std::string& why) {
  if (peer.state == PeerState::kOpen) {
    logger_->info("AMQP outbound: connection to {} closed: {}", peer.url, why);
  } else {
    logger_->debug("AMQP outbound: cannot connect to {}: {}", peer.url, why);
  }
  std::string failed = "connection to " + peer.url + " failed: " + why;
  for (Item& item : peer.outbox) {
    item.send->fail(failed);
  }
  peer.outbox.clear();
  for (auto& [address, link] : peer.links) {
    for (auto& waiting : link->waiting) {
      waiting->fail(failed);
    }
  }
  peer.settlements.failAll("connection to " + peer.url + " closed before settlement: " + why);
  peer.links.clear();
  peer.by_link.clear();
  by_connection_.erase(protonC(peer.connection));
  peer.connection = proton::connection();
  peer.state = PeerState::kIdle;
  peer.flush_posted = false;
  peer.last_error = why;
  peer.redial_at = SteadyClock::now() + options_.reconnect_pause;
}

// One timer on the container, only while messages are in flight.
void ProtonOutbound::scheduleExpiry() {
  if (expiry_scheduled_ || shutting_down_ || in_flight_.load() == 0) {
    return;
  }
  expiry_scheduled_ = true;
  proton::duration tick(expiryTick(options_.settle_timeout).count());
  container_->schedule(tick, [this] {
    guard("settle timeout", [&] {
      expiry_scheduled_ = false;
      expire();
      scheduleExpiry();
    });
  });
}

// Deadlines run in the order messages were handed over, so on each link
// only the front of the queue needs looking at.
void ProtonOutbound::expire() {
  SteadyClock::time_point now = SteadyClock::now();
  std::string timed_out =
      "no settlement within " + std::to_string(options_.settle_timeout.count()) + " ms";
  for (auto& [url, peer] : peers_) {
    std::erase_if(peer->outbox, [&](Item& item) {
      if (item.send->deadline > now) {
        return false;
      }
      item.send->fail(timed_out + " (still connecting to " + url + ")");
      return true;
    });
    for (auto& [address, link] : peer->links) {
      while (!link->waiting.empty() && link->waiting.front()->deadline <= now) {
        link->waiting.front()->fail(timed_out + " (no credit from " + url + " for '" + address +
                                    "')");
        link->waiting.pop_front();
      }
    }
    peer->settlements.expire(now, options_.settle_timeout);
  }
}

void ProtonOutbound::on_error(const proton::error_condition& condition) {
  logger_->debug("AMQP outbound peer error: {}", condition.what());
}

// On the container's queue: every message still held fails now, and each
// connection is closed from its own work queue, where the close reaches the
// wire; the container stops once the last transport has closed.
void ProtonOutbound::shutDown() {
  guard("shutdown", [&] {
    shutting_down_ = true;
    failEverything();
    if (by_connection_.empty()) {
      container_->stop();
      return;
    }
    for (auto& [raw, peer] : by_connection_) {
      proton::connection connection = peer->connection;
      connection.work_queue().add([connection]() mutable { connection.close(); });
    }
  });
}

void ProtonOutbound::failEverything() {
  std::vector<Item> items;
  {
    std::lock_guard lock(inbox_mutex_);
    items.swap(inbox_);
  }
  for (Item& item : items) {
    item.send->fail(kStopping);
  }
  for (auto& [url, peer] : peers_) {
    for (Item& item : peer->outbox) {
      item.send->fail(kStopping);
    }
    peer->outbox.clear();
    for (auto& [address, link] : peer->links) {
      for (auto& waiting : link->waiting) {
        waiting->fail(kStopping);
      }
      link->waiting.clear();
    }
    peer->settlements.failAll(kStopping);
  }
}

void ProtonOutbound::stop() {
  std::lock_guard lock(lifecycle_mutex_);
  if (stopped_) {
    return;
  }
  stopped_ = true;
  {
    std::lock_guard inbox_lock(inbox_mutex_);
    accepting_ = false;
  }
  if (!started_) {
    return;
  }
  std::future<void> ended = loop_ended_.get_future();
  bool posted = control_->add([this] { shutDown(); });
  if (!posted || ended.wait_for(kShutdownGrace) != std::future_status::ready) {
    container_->stop();
  }
  loop_thread_.join();

  // The loop has ended: what it did not get to fails here, on this thread.
  failEverything();
  by_connection_.clear();
  peers_.clear();
  control_.reset();
  container_.reset();
  logger_->info("AMQP outbound stopped");
}

}  // namespace

std::unique_ptr<AmqpOutbound> makeAmqpOutbound(OutboundOptions options) {
  return std::make_unique<ProtonOutbound>(std::move(options));
}

}  // namespace licgate::adapters::amqp
