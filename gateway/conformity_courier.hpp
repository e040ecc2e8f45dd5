// How a conformity query reaches a body, and an outcome a licensor: one
// call whatever the channel (docs/conformity.md, "Sending"), and one
// receipt back saying whether it was delivered, may be tried again, or
// never will be.
//
// - amqp_address: on a link the other system attached to licgate's own
//   listener (IntakeServer::sendOnAttached);
// - amqp_peer: to the other system's peer (AmqpOutbound);
// - soap_url: a POST through libcurl (SoapClient), on a few threads of the
//   courier's own, since a call blocks for as long as the server takes.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "adapters/amqp/intake_server.hpp"
#include "adapters/amqp/outbound.hpp"
#include "config/config.hpp"
#include "mapping/soap.hpp"

namespace licgate::gateway {

// What is sent: the AMQP message and, for SOAP channels, the envelope.
struct Parcel {
  adapters::amqp::OutboundMessage amqp;
  std::string soap_action;
  std::string soap_envelope;  // written only when the channel is SOAP
};

struct Receipt {
  enum class Fate : std::uint8_t {
    kDelivered,  // the channel took it
    kRetry,      // it may pass: send again later
    kPermanent,  // it never will: the receiver refused it
  };
  Fate fate = Fate::kRetry;
  std::string error;  // what went wrong, naming the channel
};

using ReceiptCallback = std::function<void(const Receipt&)>;

class Courier {
 public:
  virtual ~Courier() = default;
  // Sends `parcel` on `channel`; `done` is called once, later, on a thread
  // of the courier's (it must not block). Thread-safe.
  virtual void send(const config::BodyChannel& channel, Parcel parcel, ReceiptCallback done) = 0;
};

// The courier of the real channels. `intake` sends on links attached to
// licgate's listener and `outbound` to other peers; both must outlive the
// courier and be started by the caller. The SOAP calls run on
// `soap_threads` threads, each with a client of its own.
class ChannelCourier final : public Courier {
 public:
  ChannelCourier(adapters::amqp::IntakeServer& intake, adapters::amqp::AmqpOutbound& outbound,
                 std::int64_t soap_timeout_ms, int soap_threads = 4);
  ~ChannelCourier() override;
  ChannelCourier(const ChannelCourier&) = delete;
  ChannelCourier& operator=(const ChannelCourier&) = delete;

  void send(const config::BodyChannel& channel, Parcel parcel, ReceiptCallback done) override;

  // Fails every SOAP call not started yet ("licgate is stopping") and joins
  // the SOAP threads. Idempotent; the destructor calls it.
  void stop();

 private:
  struct SoapJob {
    std::string url;
    Parcel parcel;
    ReceiptCallback done;
  };
  void runSoap(std::int64_t timeout_ms);

  adapters::amqp::IntakeServer& intake_;
  adapters::amqp::AmqpOutbound& outbound_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<SoapJob> soap_jobs_;
  bool stopping_ = false;
  std::vector<std::thread> soap_threads_;
};

// What an AMQP settlement means for a query or an outcome: accepted is
// delivered; rejected is permanent; released, modified and no settlement
// at all may pass.
Receipt receiptOf(const adapters::amqp::SendReceipt& receipt, const std::string& where);

}  // namespace licgate::gateway
