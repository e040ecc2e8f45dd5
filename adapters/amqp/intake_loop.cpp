// The intake's Proton handler: links, credit, messages in, settlements and
// outcome messages out. See intake_loop.hpp for the threading rules.
#include "adapters/amqp/intake_loop.hpp"

#include <proton/condition.h>
#include <proton/delivery.h>
#include <proton/disposition.h>
#include <proton/link.h>
#include <proton/proactor.h>
#include <proton/terminus.h>

#include <proton/connection_options.hpp>
#include <proton/container.hpp>
#include <proton/delivery_mode.hpp>
#include <proton/duration.hpp>
#include <proton/error_condition.hpp>
#include <proton/receiver_options.hpp>
#include <proton/sender_options.hpp>
#include <proton/session.hpp>
#include <proton/source.hpp>
#include <proton/source_options.hpp>
#include <proton/target.hpp>
#include <proton/tracker.hpp>
#include <proton/transport.hpp>

#include <algorithm>

#include "adapters/amqp/message_fields.hpp"
#include "adapters/amqp/proton_access.hpp"
#include "adapters/logger.hpp"
#include "mapping/error_table.hpp"

namespace licgate::adapters::amqp {

using registry::ErrorCode;

// An incoming link on an intake address. It holds at most `window`
// deliveries: credit not yet used plus deliveries not yet settled.
struct LinkState {
  proton::receiver receiver;
  std::string address;
  std::size_t window = 0;
  std::size_t unsettled = 0;
  std::shared_ptr<std::atomic<bool>> open = std::make_shared<std::atomic<bool>>(true);
};

struct Pending {
  proton::delivery delivery;
  LinkState* link = nullptr;
  std::optional<proton::message_id> reply_id;  // kept only when reply-to was set
};

// An outgoing link a peer attached to receive outcome messages, or
// messages sent with sendOnAttached().
struct ReplyLink {
  proton::sender sender;
  std::string address;
  // Messages routed here and posted to the connection, not sent yet: the
  // credit they will take is not free for the next message routed.
  int posted = 0;
};

struct ConnectionState {
  std::shared_ptr<ConnectionHandle> handle;
  proton::connection connection;
  std::unordered_map<pn_link_t*, std::unique_ptr<LinkState>> receivers;
  std::unordered_map<pn_link_t*, ReplyLink> reply_links;
  std::unordered_map<std::uint64_t, Pending> pending;  // by tag
  SettlementTracker settlements;                       // sendOnAttached() messages
};

struct Route {
  std::shared_ptr<ConnectionHandle> connection;
  pn_link_t* link = nullptr;
};

struct OutgoingReply {
  pn_link_t* link = nullptr;
  proton::message message;
};

namespace {

// A client that gives a reply link no credit would make its replies pile
// up in memory; past this many queued on one link, replies are counted
// unroutable instead.
constexpr int kMaxQueuedReplies = 1024;

// When the worker's queue is full a delivery is released at once and its
// credit comes back only after this pause, so a sender does not spin on
// releases while the worker catches up.
const proton::duration kCreditRetryPause(100);

std::string joined(const std::vector<std::string>& items) {
  std::string text;
  for (const std::string& item : items) {
    text.append(text.empty() ? "'" : ", '").append(item).append("'");
  }
  return text;
}

}  // namespace

IntakeLoop::IntakeLoop(const IntakeOptions& options, Counters& counters, JobQueue<Job>& jobs)
    : options_(options), counters_(counters), jobs_(jobs), logger_(getLogger("amqp")) {}

IntakeLoop::~IntakeLoop() = default;

template <typename Step>
void IntakeLoop::guard(const char* where, Step&& step) {
  try {
    step();
  } catch (const std::exception& error) {
    logger_->error("AMQP handler {} failed: {}", where, error.what());
  } catch (...) {
    logger_->error("AMQP handler {} failed with an unknown exception", where);
  }
}

void IntakeLoop::on_open(proton::listener& listener) {
  guard("on_open", [&] {
    if (on_listen_) {
      on_listen_(listener.port(), "");
    }
  });
}

proton::connection_options IntakeLoop::on_accept(proton::listener&) {
  return proton::connection_options(static_cast<proton::messaging_handler&>(*this));
}

void IntakeLoop::on_error(proton::listener&, const std::string& what) {
  guard("on_error", [&] {
    logger_->error("AMQP listener failed: {}", what);
    if (on_listen_) {
      on_listen_(0, what.empty() ? "the listener failed" : what);
    }
  });
}

// Transport, connection, session and link errors all arrive here. Proton's
// default throws, which would stop the container for one bad peer.
void IntakeLoop::on_error(const proton::error_condition& condition) {
  logger_->debug("AMQP peer error: {}", condition.what());
}

ConnectionState* IntakeLoop::findConnection(const proton::connection& connection) const {
  auto found = connections_.find(protonC(connection));
  return found == connections_.end() ? nullptr : found->second.get();
}

LinkState* IntakeLoop::findReceiver(ConnectionState& connection,
                                    const proton::receiver& receiver) const {
  auto found = connection.receivers.find(protonC(receiver));
  return found == connection.receivers.end() ? nullptr : found->second.get();
}

void IntakeLoop::on_connection_open(proton::connection& connection) {
  guard("on_connection_open", [&] {
    auto state = std::make_unique<ConnectionState>();
    state->handle = std::make_shared<ConnectionHandle>();
    state->handle->id = next_connection_id_++;
    state->handle->state = state.get();
    {
      std::lock_guard lock(state->handle->mutex);
      state->handle->work_queue = &connection.work_queue();
    }
    state->connection = connection;
    connection.open();
    counters_.connections.fetch_add(1, std::memory_order_relaxed);
    logger_->debug("[c{}] connection from container '{}', user '{}'", state->handle->id,
                   connection.container_id(), connection.user());
    if (shutting_down_) {
      connection.close(proton::error_condition("amqp:connection:forced", "licgate is stopping"));
    }
    connections_.emplace(protonC(connection), std::move(state));
  });
}

void IntakeLoop::on_transport_close(proton::transport& transport) {
  guard("on_transport_close", [&] {
    proton::connection connection = transport.connection();
    auto found = connections_.find(protonC(connection));
    if (found == connections_.end()) {
      return;
    }
    if (transport.error()) {
      logger_->debug("[c{}] connection closed: {}", found->second->handle->id,
                     transport.error().what());
    } else {
      logger_->debug("[c{}] connection closed", found->second->handle->id);
    }
    dropConnection(*found->second);
    connections_.erase(found);
  });
}

// The connection is gone with its links: its unsettled deliveries can no
// longer be settled, and their senders will send them again.
void IntakeLoop::dropConnection(ConnectionState& connection) {
  connection.settlements.failAll("connection c" + std::to_string(connection.handle->id) +
                                 " closed before settlement");
  counters_.in_flight.fetch_sub(connection.pending.size(), std::memory_order_relaxed);
  connection.pending.clear();
  for (auto& [raw, link] : connection.receivers) {
    link->open->store(false);
    reserved_credit_ -= link->window;
  }
  connection.receivers.clear();
  while (!connection.reply_links.empty()) {
    dropReplyLink(connection, connection.reply_links.begin()->first);
  }
  {
    std::lock_guard lock(connection.handle->mutex);
    connection.handle->work_queue = nullptr;
  }
  connection.handle->state = nullptr;
  counters_.connections.fetch_sub(1, std::memory_order_relaxed);
}

// Ending a session detaches its links without a detach frame for each
// (AMQP 1.0 section 2.5.7), so they are dropped here.
void IntakeLoop::on_session_close(proton::session& session) {
  guard("on_session_close", [&] {
    ConnectionState* connection = findConnection(session.connection());
    if (connection == nullptr) {
      return;
    }
    std::vector<pn_link_t*> receivers;
    for (auto& [raw, link] : connection->receivers) {
      if (link->receiver.session() == session) {
        receivers.push_back(raw);
      }
    }
    for (pn_link_t* raw : receivers) {
      dropReceiver(*connection, raw);
    }
    std::vector<pn_link_t*> senders;
    for (auto& [raw, reply_link] : connection->reply_links) {
      if (reply_link.sender.session() == session) {
        senders.push_back(raw);
      }
    }
    for (pn_link_t* raw : senders) {
      dropReplyLink(*connection, raw);
    }
  });
}

void IntakeLoop::on_receiver_open(proton::receiver& receiver) {
  guard("on_receiver_open", [&] {
    ConnectionState* connection = findConnection(receiver.connection());
    if (connection == nullptr) {
      refuseLink(receiver, "amqp:internal-error", "the connection is not known");
      return;
    }
    openReceiver(*connection, receiver);
  });
}

// Attaches an incoming link on an intake address with its share of the
// credit budget: credit_window, or what is left of max_in_flight.
void IntakeLoop::openReceiver(ConnectionState& connection, proton::receiver& receiver) {
  std::string address = receiver.target().address();
  const auto& addresses = options_.addresses;
  if (std::find(addresses.begin(), addresses.end(), address) == addresses.end()) {
    logger_->debug("[c{}] link to unknown address '{}' refused", connection.handle->id, address);
    refuseLink(
        receiver, "amqp:not-found",
        "licgate takes no messages at address '" + address + "'; it takes " + joined(addresses));
    return;
  }
  std::size_t budget =
      options_.max_in_flight > reserved_credit_ ? options_.max_in_flight - reserved_credit_ : 0;
  std::size_t window =
      std::min(static_cast<std::size_t>(std::max(options_.credit_window, 1)), budget);
  if (window == 0) {
    refuseLink(receiver, "amqp:resource-limit-exceeded",
               "all " + std::to_string(options_.max_in_flight) +
                   " deliveries licgate holds at once are promised to other links; attach later");
    return;
  }

  // AMQP 1.0 section 2.7.3: tell the sender the largest message we take.
  pn_link_set_max_message_size(protonC(receiver), options_.max_message_bytes);
  receiver.open(proton::receiver_options().credit_window(0).auto_accept(false));
  auto link = std::make_unique<LinkState>();
  link->receiver = receiver;
  link->address = address;
  link->window = window;
  reserved_credit_ += window;
  receiver.add_credit(static_cast<std::uint32_t>(window));
  logger_->debug("[c{}] link '{}' to '{}' open with credit {}", connection.handle->id,
                 receiver.name(), address, window);
  connection.receivers.emplace(protonC(receiver), std::move(link));
}

// AMQP 1.0 section 2.6.3: a refused link is attached with a null target
// and detached at once with the error.
void IntakeLoop::refuseLink(proton::receiver& receiver, const std::string& condition,
                            const std::string& description) {
  pn_terminus_set_type(pn_link_target(protonC(receiver)), PN_UNSPECIFIED);
  receiver.open(proton::receiver_options().credit_window(0).auto_accept(false));
  receiver.close(proton::error_condition(condition, description));
}

void IntakeLoop::on_receiver_close(proton::receiver& receiver) {
  guard("on_receiver_close", [&] {
    if (ConnectionState* connection = findConnection(receiver.connection())) {
      dropReceiver(*connection, protonC(receiver));
    }
  });
}

void IntakeLoop::on_receiver_detach(proton::receiver& receiver) {
  on_receiver_close(receiver);
}

// The link's unsettled deliveries cannot be settled any more (Proton does
// not resume links); the worker skips those it has not started.
void IntakeLoop::dropReceiver(ConnectionState& connection, pn_link_t* raw) {
  auto found = connection.receivers.find(raw);
  if (found == connection.receivers.end()) {
    return;
  }
  LinkState* link = found->second.get();
  link->open->store(false);
  for (auto pending = connection.pending.begin(); pending != connection.pending.end();) {
    if (pending->second.link == link) {
      pending = connection.pending.erase(pending);
      counters_.in_flight.fetch_sub(1, std::memory_order_relaxed);
    } else {
      ++pending;
    }
  }
  reserved_credit_ -= link->window;
  logger_->debug("[c{}] link '{}' to '{}' closed", connection.handle->id, link->receiver.name(),
                 link->address);
  connection.receivers.erase(found);
}

// A client that wants outcome messages attaches a receiver whose source is
// its reply-to address, or asks for a dynamic one (AMQP 1.0 section 3.5.3).
void IntakeLoop::on_sender_open(proton::sender& sender) {
  guard("on_sender_open", [&] {
    ConnectionState* connection = findConnection(sender.connection());
    if (connection == nullptr) {
      sender.close(proton::error_condition("amqp:internal-error", "the connection is not known"));
      return;
    }
    std::string address = sender.source().address();
    // The link stays in mixed mode (AMQP 1.0 section 2.8.2): outcome
    // messages go pre-settled and sendOnAttached() messages unsettled.
    proton::sender_options options;
    if (sender.source().dynamic()) {
      address = "licgate/replies/" + std::to_string(connection->handle->id) + "/" +
                std::to_string(next_dynamic_address_++);
      proton::source_options source;
      source.address(address);
      options.source(source);
    }
    sender.open(options);
    connection->reply_links.emplace(protonC(sender), ReplyLink{sender, address});
    routes_.emplace(address, std::make_unique<Route>(Route{connection->handle, protonC(sender)}));
    logger_->debug("[c{}] reply link '{}' from '{}' open", connection->handle->id, sender.name(),
                   address);
  });
}

void IntakeLoop::on_sender_close(proton::sender& sender) {
  guard("on_sender_close", [&] {
    if (ConnectionState* connection = findConnection(sender.connection())) {
      dropReplyLink(*connection, protonC(sender));
    }
  });
}

void IntakeLoop::on_sender_detach(proton::sender& sender) {
  on_sender_close(sender);
}

void IntakeLoop::dropReplyLink(ConnectionState& connection, pn_link_t* raw) {
  auto found = connection.reply_links.find(raw);
  if (found == connection.reply_links.end()) {
    return;
  }
  auto [first, last] = routes_.equal_range(found->second.address);
  for (auto route = first; route != last; ++route) {
    if (route->second->link == raw) {
      routes_.erase(route);
      break;
    }
  }
  connection.settlements.failLink(
      raw, "link to receive from '" + found->second.address + "' closed before settlement");
  connection.reply_links.erase(found);
}

void IntakeLoop::on_message(proton::delivery& delivery, proton::message& message) {
  guard("on_message", [&] {
    counters_.received.fetch_add(1, std::memory_order_relaxed);
    ConnectionState* connection = findConnection(delivery.connection());
    LinkState* link = connection ? findReceiver(*connection, delivery.receiver()) : nullptr;
    if (link == nullptr || shutting_down_) {
      delivery.release();
      counters_.released.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    takeMessage(*connection, *link, delivery, message);
  });
}

// Hands the delivery to the worker. It stays unsettled, and its credit
// spent, until the worker's verdict comes back through settle().
void IntakeLoop::takeMessage(ConnectionState& connection, LinkState& link,
                             proton::delivery& delivery, proton::message& message) {
  Job job;
  job.delivery.address = link.address;
  registry::Status read = readDelivery(message, job.delivery);
  // As it came, for the log: a refused body is dropped below.
  const std::size_t body_bytes = job.delivery.body.size();
  if (!read.ok()) {
    job.delivery.refused = read.takeError();
    job.delivery.body.clear();
  }
  // TODO: check the size while the delivery arrives - Proton C++ 0.37 reads
  // a whole delivery before any handler sees it, so a sender that ignores
  // the link's max-message-size makes licgate hold one oversize message in
  // memory before it is rejected.
  if (job.delivery.body.size() > options_.max_message_bytes) {
    job.delivery.refused = registry::makeError(
        ErrorCode::kTooLarge, "the message body of " + std::to_string(job.delivery.body.size()) +
                                  " bytes is over the limit of " +
                                  std::to_string(options_.max_message_bytes) + " bytes");
    std::string().swap(job.delivery.body);
  }
  logger_->debug("[c{}] message '{}' (correlation '{}', system '{}') on '{}', {} bytes{}{}",
                 connection.handle->id, job.delivery.message_id, job.delivery.correlation_id,
                 job.delivery.sender_system, link.address, body_bytes,
                 job.delivery.refused ? ", refused: " : "",
                 job.delivery.refused ? job.delivery.refused->message : "");

  std::uint64_t tag = next_tag_++;
  Pending pending{delivery, &link, std::nullopt};
  if (!job.delivery.reply_to.empty()) {
    pending.reply_id = message.id();
  }
  job.connection = connection.handle;
  job.link_open = link.open;
  job.tag = tag;
  if (!jobs_.push(job)) {
    logger_->debug("[c{}] worker queue full: message released", connection.handle->id);
    delivery.release();
    counters_.released.fetch_add(1, std::memory_order_relaxed);
    scheduleTopUp(connection, protonC(link.receiver));
    return;
  }
  connection.pending.emplace(tag, std::move(pending));
  ++link.unsettled;
  std::uint64_t in_flight = counters_.in_flight.fetch_add(1, std::memory_order_relaxed) + 1;
  if (in_flight > counters_.in_flight_peak.load(std::memory_order_relaxed)) {
    counters_.in_flight_peak.store(in_flight, std::memory_order_relaxed);
  }
}

// For faults the intake sees itself, before any processor: the outcome and
// condition come from the one error table (mapping/error_table.hpp).
// A rejected outcome carries an error (AMQP 1.0 section 3.4.2) that Proton
// C++ 0.37 cannot set, so it is written on the local disposition directly.
void IntakeLoop::applyVerdict(proton::delivery& delivery, const Verdict& verdict) {
  switch (verdict.settle) {
    case Settle::kAccept:
      delivery.accept();
      counters_.accepted.fetch_add(1, std::memory_order_relaxed);
      return;
    case Settle::kReject: {
      pn_delivery_t* raw = protonC(delivery);
      if (!verdict.condition.empty()) {
        pn_condition_t* condition = pn_disposition_condition(pn_delivery_local(raw));
        pn_condition_set_name(condition, verdict.condition.c_str());
        pn_condition_set_description(condition, wireDescription(verdict.description).c_str());
      }
      pn_delivery_update(raw, PN_REJECTED);
      pn_delivery_settle(raw);
      counters_.rejected.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    case Settle::kRelease:
      delivery.release();
      counters_.released.fetch_add(1, std::memory_order_relaxed);
      return;
  }
}

// Credit goes back only for settled deliveries, so credit plus unsettled
// never exceeds the link's window (AMQP 1.0 section 2.6.7).
void IntakeLoop::topUpCredit(LinkState& link) {
  int credit = std::max(link.receiver.credit(), 0);
  std::size_t held = link.unsettled + static_cast<std::size_t>(credit);
  if (held < link.window) {
    link.receiver.add_credit(static_cast<std::uint32_t>(link.window - held));
  }
}

void IntakeLoop::scheduleTopUp(ConnectionState& connection, pn_link_t* raw) {
  std::shared_ptr<ConnectionHandle> handle = connection.handle;
  connection.connection.work_queue().schedule(kCreditRetryPause, [this, handle, raw] {
    guard("credit retry", [&] {
      if (handle->state == nullptr) {
        return;
      }
      auto found = handle->state->receivers.find(raw);
      if (found != handle->state->receivers.end()) {
        topUpCredit(*found->second);
      }
    });
  });
}

void IntakeLoop::settle(ConnectionHandle& handle, std::vector<Settlement>& batch) {
  guard("settle", [&] {
    ConnectionState* connection = handle.state;
    if (connection == nullptr) {
      return;
    }
    std::vector<LinkState*> touched;
    for (Settlement& settlement : batch) {
      auto found = connection->pending.find(settlement.tag);
      if (found == connection->pending.end()) {
        continue;  // its link closed meanwhile
      }
      Pending pending = std::move(found->second);
      connection->pending.erase(found);
      counters_.in_flight.fetch_sub(1, std::memory_order_relaxed);
      applyVerdict(pending.delivery, settlement.verdict);
      --pending.link->unsettled;
      if (std::find(touched.begin(), touched.end(), pending.link) == touched.end()) {
        touched.push_back(pending.link);
      }
      // A released delivery comes back, and its outcome is sent then.
      if (pending.reply_id && settlement.verdict.settle != Settle::kRelease) {
        queueReply(settlement.reply_to, *pending.reply_id, settlement.verdict);
      }
    }
    for (LinkState* link : touched) {
      topUpCredit(*link);
    }
    flushReplies(*connection);
  });
}

// An open link with that source address, on any connection, preferring one
// with credit not yet spoken for; null when none is open.
Route* IntakeLoop::findRoute(const std::string& address, bool& has_credit) const {
  Route* chosen = nullptr;
  has_credit = false;
  auto [first, last] = routes_.equal_range(address);
  for (auto route = first; route != last; ++route) {
    ConnectionState* owner = route->second->connection->state;
    if (owner == nullptr) {
      continue;
    }
    auto link = owner->reply_links.find(route->second->link);
    if (link != owner->reply_links.end() && link->second.sender.credit() > link->second.posted) {
      has_credit = true;
      return route->second.get();
    }
    if (chosen == nullptr) {
      chosen = route->second.get();
    }
  }
  return chosen;
}

void IntakeLoop::queueReply(const std::string& reply_to, const proton::message_id& message_id,
                            const Verdict& verdict) {
  bool has_credit = false;
  Route* chosen = findRoute(reply_to, has_credit);
  if (chosen == nullptr) {
    counters_.replies_unroutable.fetch_add(1, std::memory_order_relaxed);
    logger_->debug("no link from reply-to '{}': outcome of message '{}' not sent", reply_to,
                   messageIdText(message_id));
    return;
  }
  auto group = std::find_if(outgoing_.begin(), outgoing_.end(),
                            [&](const auto& entry) { return entry.first == chosen->connection; });
  if (group == outgoing_.end()) {
    outgoing_.emplace_back(chosen->connection, std::vector<OutgoingReply>{});
    group = std::prev(outgoing_.end());
  }
  group->second.push_back(
      OutgoingReply{chosen->link, makeOutcomeMessage(reply_to, message_id, verdict)});
}

// Replies for this connection go out now; those for another connection go
// through its work queue, so that they are sent on its turn of the loop.
void IntakeLoop::flushReplies(ConnectionState& here) {
  for (auto& [handle, replies] : outgoing_) {
    if (handle == here.handle) {
      sendReplies(here, replies);
      continue;
    }
    auto batch = std::make_shared<std::vector<OutgoingReply>>(std::move(replies));
    bool posted = false;
    {
      std::lock_guard lock(handle->mutex);
      if (handle->work_queue != nullptr) {
        posted = handle->work_queue->add([this, handle = handle, batch] {
          guard("replies", [&] {
            if (handle->state != nullptr) {
              sendReplies(*handle->state, *batch);
            }
          });
        });
      }
    }
    if (!posted) {
      counters_.replies_unroutable.fetch_add(batch->size(), std::memory_order_relaxed);
    }
  }
  outgoing_.clear();
}

void IntakeLoop::sendReplies(ConnectionState& connection, std::vector<OutgoingReply>& replies) {
  for (OutgoingReply& reply : replies) {
    auto link = connection.reply_links.find(reply.link);
    if (link == connection.reply_links.end() || pn_link_queued(reply.link) >= kMaxQueuedReplies) {
      counters_.replies_unroutable.fetch_add(1, std::memory_order_relaxed);
      logger_->debug("[c{}] reply link gone or full: outcome for '{}' not sent",
                     connection.handle->id, reply.message.to());
      continue;
    }
    proton::tracker tracker = link->second.sender.send(reply.message);
    tracker.settle();
    counters_.replies_sent.fetch_add(1, std::memory_order_relaxed);
  }
}

// The route is chosen here, on the container's queue, where every route is
// known; the message is sent from its connection's own work queue, the only
// place where what is sent reaches the wire.
void IntakeLoop::sendOnAttached(const std::string& address, std::shared_ptr<HandedOver> send) {
  guard("sendOnAttached", [&] {
    if (shutting_down_) {
      send->fail("licgate is stopping");
      return;
    }
    bool has_credit = false;
    Route* route = findRoute(address, has_credit);
    if (route == nullptr || !has_credit) {
      send->fail("no link attached to receive from '" + address + "'" +
                 (route == nullptr ? "" : " has credit"));
      return;
    }
    std::shared_ptr<ConnectionHandle> handle = route->connection;
    pn_link_t* link = route->link;
    handle->state->reply_links.at(link).posted += 1;
    handle->state->connection.work_queue().add([this, handle, link, address, send] {
      guard("sendOnAttached", [&] {
        if (handle->state == nullptr) {
          send->fail("connection c" + std::to_string(handle->id) + " closed before sending to '" +
                     address + "'");
          return;
        }
        sendOnLink(*handle->state, link, address, *send);
      });
    });
  });
}

void IntakeLoop::sendOnLink(ConnectionState& connection, pn_link_t* raw, const std::string& address,
                            HandedOver& send) {
  auto link = connection.reply_links.find(raw);
  if (link == connection.reply_links.end()) {
    send.fail("link to receive from '" + address + "' closed before sending");
    return;
  }
  link->second.posted -= 1;
  if (link->second.sender.credit() <= 0) {
    send.fail("no link attached to receive from '" + address + "' has credit");
    return;
  }
  logger_->debug("[c{}] message '{}' to '{}' sent unsettled", connection.handle->id,
                 send.message.message_id, link->second.address);
  connection.settlements.send(link->second.sender, send);
  scheduleExpiry(connection);
}

// One timer on the container, only while messages wait for settlement. A
// timer on a connection's work queue would outlive the connection, and
// Proton 0.37 crashes when it fires after the connection is freed.
void IntakeLoop::scheduleExpiry(ConnectionState& connection) {
  if (expiry_scheduled_) {
    return;
  }
  expiry_scheduled_ = true;
  proton::duration tick(expiryTick(options_.settle_timeout).count());
  connection.connection.container().schedule(tick, [this] {
    guard("settle timeout", [&] {
      expiry_scheduled_ = false;
      ConnectionState* waiting = nullptr;
      for (auto& [raw, state] : connections_) {
        state->settlements.expire(SteadyClock::now(), options_.settle_timeout);
        if (!state->settlements.empty()) {
          waiting = state.get();
        }
      }
      if (waiting != nullptr) {
        scheduleExpiry(*waiting);
      }
    });
  });
}

void IntakeLoop::on_tracker_accept(proton::tracker& tracker) {
  on_tracker_settle(tracker);
}

void IntakeLoop::on_tracker_reject(proton::tracker& tracker) {
  on_tracker_settle(tracker);
}

void IntakeLoop::on_tracker_release(proton::tracker& tracker) {
  on_tracker_settle(tracker);
}

void IntakeLoop::on_tracker_settle(proton::tracker& tracker) {
  guard("on_tracker", [&] {
    if (ConnectionState* connection = findConnection(tracker.connection())) {
      connection->settlements.onDisposition(tracker);
    }
  });
}

void IntakeLoop::releasePending(ConnectionState& connection) {
  for (auto& [tag, pending] : connection.pending) {
    pending.delivery.release();
    --pending.link->unsettled;
    counters_.released.fetch_add(1, std::memory_order_relaxed);
  }
  counters_.in_flight.fetch_sub(connection.pending.size(), std::memory_order_relaxed);
  connection.pending.clear();
}

// Runs on the container's own work queue, outside any connection, so each
// connection is closed from its own work queue: only there does what is
// done to it reach the wire.
void IntakeLoop::shutDown() {
  guard("shutdown", [&] {
    shutting_down_ = true;
    listener_.stop();
    for (auto& [raw, connection] : connections_) {
      std::shared_ptr<ConnectionHandle> handle = connection->handle;
      connection->connection.work_queue().add([this, handle] {
        guard("close", [&] {
          if (handle->state != nullptr) {
            releasePending(*handle->state);
            handle->state->settlements.failAll("licgate is stopping");
            handle->state->connection.close();
          }
        });
      });
    }
  });
}

pn_proactor_t* IntakeLoop::proactor() const {
  return connections_.empty() ? nullptr : pn_connection_proactor(connections_.begin()->first);
}

void IntakeLoop::forgetConnections() {
  for (auto& [raw, connection] : connections_) {
    dropConnection(*connection);
  }
  connections_.clear();
  routes_.clear();
  outgoing_.clear();
  expiry_scheduled_ = false;
  listener_ = proton::listener();
  shutting_down_ = false;
}

}  // namespace licgate::adapters::amqp
