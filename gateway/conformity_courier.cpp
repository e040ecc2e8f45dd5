// The courier of the real channels (gateway/conformity_courier.hpp).
#include "gateway/conformity_courier.hpp"

#include "adapters/http/soap_client.hpp"

namespace licgate::gateway {

Receipt receiptOf(const adapters::amqp::SendReceipt& receipt, const std::string& where) {
  using adapters::amqp::SendOutcome;
  switch (receipt.outcome) {
    case SendOutcome::kAccepted:
      return {Receipt::Fate::kDelivered, ""};
    case SendOutcome::kRejected:
      return {
          Receipt::Fate::kPermanent,
          where + " rejected it" + (receipt.description.empty() ? "" : ": " + receipt.description)};
    case SendOutcome::kReleased:
    case SendOutcome::kModified:
      return {Receipt::Fate::kRetry,
              where + " " + adapters::amqp::sendOutcomeName(receipt.outcome) + " it" +
                  (receipt.description.empty() ? "" : ": " + receipt.description)};
    case SendOutcome::kFailed:
      return {Receipt::Fate::kRetry, where + ": " + receipt.description};
  }
  return {Receipt::Fate::kRetry, where + ": unknown settlement"};
}

ChannelCourier::ChannelCourier(adapters::amqp::IntakeServer& intake,
                               adapters::amqp::AmqpOutbound& outbound, std::int64_t soap_timeout_ms,
                               int soap_threads)
    : intake_(intake), outbound_(outbound) {
  for (int i = 0; i < soap_threads; ++i) {
    soap_threads_.emplace_back([this, soap_timeout_ms] { runSoap(soap_timeout_ms); });
  }
}

ChannelCourier::~ChannelCourier() {
  stop();
}

void ChannelCourier::stop() {
  std::deque<SoapJob> abandoned;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      return;
    }
    stopping_ = true;
    abandoned.swap(soap_jobs_);
  }
  wake_.notify_all();
  for (auto& thread : soap_threads_) {
    thread.join();
  }
  for (auto& job : abandoned) {
    job.done({Receipt::Fate::kRetry, job.url + ": licgate is stopping"});
  }
}

void ChannelCourier::send(const config::BodyChannel& channel, Parcel parcel, ReceiptCallback done) {
  switch (channel.kind) {
    case config::BodyChannelKind::kAmqpAddress: {
      const std::string where = "licgate's address " + channel.address;
      intake_.sendOnAttached(channel.address, std::move(parcel.amqp),
                             [where, done = std::move(done)](const auto& receipt) {
                               done(receiptOf(receipt, where));
                             });
      return;
    }
    case config::BodyChannelKind::kAmqpPeer: {
      const std::string where = channel.peer_url + " (" + channel.address + ")";
      outbound_.send(channel.peer_url, channel.address, std::move(parcel.amqp),
                     [where, done = std::move(done)](const auto& receipt) {
                       done(receiptOf(receipt, where));
                     });
      return;
    }
    case config::BodyChannelKind::kSoap: {
      {
        std::lock_guard lock(mutex_);
        if (!stopping_) {
          soap_jobs_.push_back({channel.soap_url, std::move(parcel), std::move(done)});
          wake_.notify_one();
          return;
        }
      }
      done({Receipt::Fate::kRetry, channel.soap_url + ": licgate is stopping"});
      return;
    }
  }
}

void ChannelCourier::runSoap(std::int64_t timeout_ms) {
  adapters::http::SoapClientOptions options;
  options.total_timeout_ms = static_cast<long>(timeout_ms);
  options.connect_timeout_ms = static_cast<long>(std::min<std::int64_t>(timeout_ms, 2000));
  adapters::http::SoapClient client(options);
  for (;;) {
    SoapJob job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !soap_jobs_.empty(); });
      if (stopping_) {
        return;
      }
      job = std::move(soap_jobs_.front());
      soap_jobs_.pop_front();
    }
    auto answer = client.call(job.url, mapping::SoapVersion::k11, job.parcel.soap_action,
                              job.parcel.soap_envelope);
    if (!answer.ok()) {
      job.done({Receipt::Fate::kRetry, answer.error().message});
    } else if (answer->ok()) {
      job.done({Receipt::Fate::kDelivered, ""});
    } else {
      std::string what = job.url + " answered HTTP " + std::to_string(answer->http_status);
      if (answer->fault) {
        what += ", fault " + answer->fault->code + ": " + answer->fault->text;
      }
      job.done({answer->retryable() ? Receipt::Fate::kRetry : Receipt::Fate::kPermanent, what});
    }
  }
}

}  // namespace licgate::gateway
