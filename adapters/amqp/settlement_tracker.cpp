// Messages sent unsettled and their dispositions (settlement_tracker.hpp).
#include "adapters/amqp/settlement_tracker.hpp"

#include <proton/condition.h>
#include <proton/delivery.h>
#include <proton/disposition.h>

#include <proton/binary.hpp>

#include <algorithm>
#include <cstring>
#include <optional>

#include "adapters/amqp/message_fields.hpp"
#include "adapters/amqp/proton_access.hpp"
#include "adapters/logger.hpp"

namespace licgate::adapters::amqp {

namespace {

// The tag names the delivery in sent_: unlike the pn_delivery_t pointer, it
// is never reused for another message while this one is tracked.
proton::binary tagBytes(std::uint64_t tag) {
  proton::binary bytes(sizeof tag, 0);
  std::memcpy(bytes.data(), &tag, sizeof tag);
  return bytes;
}

bool tagValue(const proton::binary& bytes, std::uint64_t& tag) {
  if (bytes.size() != sizeof tag) {
    return false;
  }
  std::memcpy(&tag, bytes.data(), sizeof tag);
  return true;
}

std::string conditionText(pn_condition_t* condition) {
  if (!pn_condition_is_set(condition)) {
    return "";
  }
  const char* name = pn_condition_get_name(condition);
  const char* description = pn_condition_get_description(condition);
  std::string text = name ? name : "";
  if (description != nullptr && *description != '\0') {
    text.append(text.empty() ? "" : ": ").append(description);
  }
  return text;
}

// AMQP 1.0 section 3.4: the outcome the receiver gave, or nullopt while it
// has given none (no state yet, or only received, section 3.4.1).
std::optional<SendReceipt> receiptOf(pn_delivery_t* delivery) {
  pn_disposition_t* remote = pn_delivery_remote(delivery);
  switch (pn_delivery_remote_state(delivery)) {
    case PN_ACCEPTED:
      return SendReceipt{SendOutcome::kAccepted, ""};
    case PN_REJECTED:
      return SendReceipt{SendOutcome::kRejected, conditionText(pn_disposition_condition(remote))};
    case PN_RELEASED:
      return SendReceipt{SendOutcome::kReleased, ""};
    case PN_MODIFIED: {
      std::string flags;
      if (pn_disposition_is_failed(remote)) {
        flags = "delivery-failed";
      }
      if (pn_disposition_is_undeliverable(remote)) {
        flags.append(flags.empty() ? "" : ", ").append("undeliverable-here");
      }
      return SendReceipt{SendOutcome::kModified, flags};
    }
    default:
      break;
  }
  if (pn_delivery_settled(delivery)) {
    return SendReceipt{SendOutcome::kFailed, "settled by the receiver without an outcome"};
  }
  return std::nullopt;
}

}  // namespace

void report(SendCallback& done, const SendReceipt& receipt) {
  if (!done) {
    return;
  }
  try {
    done(receipt);
  } catch (const std::exception& error) {
    getLogger("amqp")->error("send callback failed: {}", error.what());
  } catch (...) {
    getLogger("amqp")->error("send callback failed with an unknown exception");
  }
}

std::chrono::milliseconds expiryTick(std::chrono::milliseconds timeout) {
  return std::clamp(timeout / 10, std::chrono::milliseconds(5), std::chrono::milliseconds(100));
}

HandedOver::~HandedOver() {
  fail("not sent: the AMQP event loop stopped first");
}

void HandedOver::fail(const std::string& description) {
  if (done) {
    SendCallback taken = std::move(done);
    done = nullptr;
    report(taken, SendReceipt{SendOutcome::kFailed, description});
  }
}

SettlementTracker::~SettlementTracker() {
  failAll("the connection is gone");
}

// The callback stays with `handed` until the message is out, so that a
// throw from Proton still leaves someone to report it.
void SettlementTracker::send(proton::sender& sender, HandedOver& handed) {
  std::uint64_t tag = next_tag_++;
  proton::tracker tracker;
  try {
    tracker = sender.send(makeOutboundMessage(handed.message), tagBytes(tag));
  } catch (const std::exception& error) {
    handed.fail(std::string("cannot send: ") + error.what());
    return;
  }
  pn_link_t* link = protonC(sender);
  sent_.emplace(tag, Sent{tracker, std::move(handed.done), handed.deadline, link});
  handed.done = nullptr;
  order_[link].push_back(tag);
}

void SettlementTracker::onDisposition(proton::tracker& tracker) {
  std::uint64_t tag = 0;
  if (!tagValue(tracker.tag(), tag)) {
    return;
  }
  auto found = sent_.find(tag);
  if (found == sent_.end() || found->second.tracker != tracker) {
    return;  // reported already, or a pre-settled message sharing the link
  }
  std::optional<SendReceipt> receipt = receiptOf(protonC(tracker));
  if (receipt) {
    finish(found, *receipt);
  }
}

void SettlementTracker::finish(std::unordered_map<std::uint64_t, Sent>::iterator sent,
                               const SendReceipt& receipt) {
  SendCallback done = std::move(sent->second.done);
  sent_.erase(sent);
  report(done, receipt);
}

void SettlementTracker::failLink(pn_link_t* link, const std::string& description) {
  auto order = order_.find(link);
  if (order == order_.end()) {
    return;
  }
  std::deque<std::uint64_t> tags = std::move(order->second);
  order_.erase(order);
  for (std::uint64_t tag : tags) {
    if (auto found = sent_.find(tag); found != sent_.end()) {
      finish(found, SendReceipt{SendOutcome::kFailed, description});
    }
  }
}

void SettlementTracker::failAll(const std::string& description) {
  while (!order_.empty()) {
    failLink(order_.begin()->first, description);
  }
}

void SettlementTracker::expire(SteadyClock::time_point now, std::chrono::milliseconds timeout) {
  const std::string description = "no settlement within " + std::to_string(timeout.count()) + " ms";
  for (auto order = order_.begin(); order != order_.end();) {
    std::deque<std::uint64_t>& tags = order->second;
    while (!tags.empty()) {
      auto found = sent_.find(tags.front());
      if (found != sent_.end()) {
        if (found->second.deadline > now) {
          break;
        }
        // Settling abandons the delivery at the receiver too (section
        // 3.4): licgate no longer waits for it, and Proton frees it.
        found->second.tracker.settle();
        finish(found, SendReceipt{SendOutcome::kFailed, description});
      }
      tags.pop_front();
    }
    order = tags.empty() ? order_.erase(order) : std::next(order);
  }
}

}  // namespace licgate::adapters::amqp
