// AmqpOutbound against a real Proton peer on loopback (settling_peer.hpp).
#include "adapters/amqp/outbound.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "settling_peer.hpp"

namespace licgate::adapters::amqp {
namespace {

using test::queryMessage;
using test::Receipts;
using test::SettlingPeer;

constexpr const char* kAddress = "conformity/queries";

// A loopback port nobody listens on (bound, read and closed again).
int unusedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

std::string urlOf(int port) {
  return "amqp://127.0.0.1:" + std::to_string(port);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class OutboundTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (outbound_) {
      outbound_->stop();
    }
  }

  void startOutbound(OutboundOptions options = {}) {
    outbound_ = makeAmqpOutbound(options);
    auto started = outbound_->start();
    ASSERT_TRUE(started.ok()) << started.error().message;
  }

  void sendTo(int port, const std::string& id) {
    outbound_->send(urlOf(port), kAddress, queryMessage(id), receipts_.callbackFor(id));
  }

  Receipts receipts_;  // outlives the outbound, which calls it
  std::unique_ptr<AmqpOutbound> outbound_;
};

TEST_F(OutboundTest, ReportsEachOutcomeTheReceiverGives) {
  auto peer = SettlingPeer::listening(0);
  startOutbound();

  for (const char* id : {"accept-1", "reject-1", "release-1", "modify-1"}) {
    sendTo(peer->port(), id);
  }

  ASSERT_TRUE(receipts_.waitFor(4));
  EXPECT_EQ(receipts_.of("accept-1").outcome, SendOutcome::kAccepted);
  SendReceipt rejected = receipts_.of("reject-1");
  EXPECT_EQ(rejected.outcome, SendOutcome::kRejected);
  EXPECT_TRUE(contains(rejected.description, "amqp:precondition-failed")) << rejected.description;
  EXPECT_TRUE(contains(rejected.description, "bad query reject-1")) << rejected.description;
  EXPECT_EQ(receipts_.of("release-1").outcome, SendOutcome::kReleased);
  EXPECT_EQ(receipts_.of("modify-1").outcome, SendOutcome::kModified);
  EXPECT_EQ(outbound_->inFlight(), 0u);
}

TEST_F(OutboundTest, MessageArrivesWithItsFieldsOnItsAddress) {
  auto peer = SettlingPeer::listening(0);
  startOutbound();

  sendTo(peer->port(), "accept-fields");

  ASSERT_TRUE(peer->waitForMessages(1));
  test::ReceivedMessage received = peer->received().front();
  EXPECT_EQ(received.address, kAddress);
  EXPECT_EQ(received.message_id, "accept-fields");
  EXPECT_EQ(received.subject, "conformity-query");
  EXPECT_EQ(received.content_type, "application/json");
  EXPECT_EQ(received.body, "{\"query_id\":\"accept-fields\"}");
  EXPECT_EQ(received.properties, (std::map<std::string, std::string>{{"body", "sanitary"}}));
}

TEST_F(OutboundTest, MessagesWaitingForCreditGoOutInOrder) {
  auto peer = SettlingPeer::listening(0, /*credit=*/1);
  startOutbound();

  for (int i = 0; i < 20; ++i) {
    sendTo(peer->port(), "accept-" + std::to_string(i));
  }

  ASSERT_TRUE(receipts_.waitFor(20));
  std::vector<test::ReceivedMessage> received = peer->received();
  ASSERT_EQ(received.size(), 20u);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(received[i].message_id, "accept-" + std::to_string(i));
    EXPECT_EQ(receipts_.of("accept-" + std::to_string(i)).outcome, SendOutcome::kAccepted);
  }
}

TEST_F(OutboundTest, UnsettledMessageFailsAfterTheSettleTimeout) {
  auto peer = SettlingPeer::listening(0);
  OutboundOptions options;
  options.settle_timeout = std::chrono::milliseconds(300);
  startOutbound(options);

  sendTo(peer->port(), "hold-1");
  sendTo(peer->port(), "accept-1");

  ASSERT_TRUE(receipts_.waitFor(2));
  SendReceipt held = receipts_.of("hold-1");
  EXPECT_EQ(held.outcome, SendOutcome::kFailed);
  EXPECT_EQ(held.description, "no settlement within 300 ms");
  EXPECT_EQ(receipts_.of("accept-1").outcome, SendOutcome::kAccepted);
}

TEST_F(OutboundTest, MessageWaitingForCreditFailsAfterTheSettleTimeout) {
  auto peer = SettlingPeer::listening(0, /*credit=*/0);
  OutboundOptions options;
  options.settle_timeout = std::chrono::milliseconds(300);
  startOutbound(options);

  sendTo(peer->port(), "accept-1");

  ASSERT_TRUE(receipts_.waitFor(1));
  SendReceipt receipt = receipts_.of("accept-1");
  EXPECT_EQ(receipt.outcome, SendOutcome::kFailed);
  EXPECT_TRUE(contains(receipt.description, "no settlement within 300 ms (no credit"))
      << receipt.description;
  EXPECT_TRUE(peer->received().empty());
}

TEST_F(OutboundTest, StopReportsMessagesWaitingForCreditAsFailed) {
  auto peer = SettlingPeer::listening(0, /*credit=*/0);
  startOutbound();
  sendTo(peer->port(), "accept-1");
  sendTo(peer->port(), "accept-2");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));

  outbound_->stop();

  ASSERT_EQ(receipts_.count(), 2u);
  EXPECT_EQ(receipts_.of("accept-1").description, "licgate is stopping");
  EXPECT_EQ(receipts_.of("accept-2").description, "licgate is stopping");
}

TEST_F(OutboundTest, StopReportsUnsettledMessagesAsFailed) {
  auto peer = SettlingPeer::listening(0);
  startOutbound();
  for (const char* id : {"hold-1", "hold-2", "hold-3"}) {
    sendTo(peer->port(), id);
  }
  ASSERT_TRUE(peer->waitForMessages(3));

  outbound_->stop();

  ASSERT_EQ(receipts_.count(), 3u);
  for (const char* id : {"hold-1", "hold-2", "hold-3"}) {
    SendReceipt receipt = receipts_.of(id);
    EXPECT_EQ(receipt.outcome, SendOutcome::kFailed) << id;
    EXPECT_EQ(receipt.description, "licgate is stopping") << id;
  }
  EXPECT_EQ(outbound_->inFlight(), 0u);
}

TEST_F(OutboundTest, SendAfterStopOrBeforeStartFailsAtOnce) {
  outbound_ = makeAmqpOutbound();
  sendTo(unusedPort(), "accept-early");
  ASSERT_TRUE(outbound_->start().ok());
  outbound_->stop();

  sendTo(unusedPort(), "accept-late");

  EXPECT_EQ(receipts_.count(), 2u);
  EXPECT_EQ(receipts_.of("accept-early").outcome, SendOutcome::kFailed);
  EXPECT_EQ(receipts_.of("accept-late").outcome, SendOutcome::kFailed);
  EXPECT_FALSE(outbound_->start().ok());
}

TEST_F(OutboundTest, UrlThatDoesNotParseFailsAtOnce) {
  startOutbound();

  outbound_->send("http://127.0.0.1:80", kAddress, queryMessage("accept-1"),
                  receipts_.callbackFor("accept-1"));

  ASSERT_EQ(receipts_.count(), 1u);
  EXPECT_TRUE(contains(receipts_.of("accept-1").description, "http://127.0.0.1:80"));
}

TEST_F(OutboundTest, RefusedConnectionFailsAndIsNotDialledAgainDuringThePause) {
  OutboundOptions options;
  options.reconnect_pause = std::chrono::seconds(30);
  startOutbound(options);
  int port = unusedPort();

  sendTo(port, "accept-1");
  ASSERT_TRUE(receipts_.waitFor(1));
  sendTo(port, "accept-2");
  ASSERT_TRUE(receipts_.waitFor(2, std::chrono::milliseconds(500)));

  SendReceipt first = receipts_.of("accept-1");
  EXPECT_EQ(first.outcome, SendOutcome::kFailed);
  EXPECT_TRUE(contains(first.description, "connection to " + urlOf(port) + " failed"))
      << first.description;
  EXPECT_TRUE(contains(receipts_.of("accept-2").description, "not dialled again"))
      << receipts_.of("accept-2").description;
}

TEST_F(OutboundTest, PeerGoingDownFailsWhatItHadNotSettled) {
  auto peer = SettlingPeer::listening(0);
  startOutbound();
  sendTo(peer->port(), "hold-1");
  ASSERT_TRUE(peer->waitForMessages(1));

  peer.reset();

  ASSERT_TRUE(receipts_.waitFor(1));
  SendReceipt receipt = receipts_.of("hold-1");
  EXPECT_EQ(receipt.outcome, SendOutcome::kFailed);
  EXPECT_TRUE(contains(receipt.description, "closed before settlement")) << receipt.description;
}

TEST_F(OutboundTest, ReconnectsOnceThePeerIsBackAndThePauseHasPassed) {
  auto peer = SettlingPeer::listening(0);
  int port = peer->port();
  OutboundOptions options;
  options.reconnect_pause = std::chrono::milliseconds(200);
  startOutbound(options);
  sendTo(port, "accept-before");
  ASSERT_TRUE(receipts_.waitFor(1));
  peer.reset();
  sendTo(port, "accept-down");
  ASSERT_TRUE(receipts_.waitFor(2));

  peer = SettlingPeer::listening(port);
  ASSERT_EQ(peer->port(), port);
  std::size_t expected = 2;
  for (int attempt = 0; attempt < 50; ++attempt) {
    std::string id = "accept-after-" + std::to_string(attempt);
    sendTo(port, id);
    ASSERT_TRUE(receipts_.waitFor(++expected));
    if (receipts_.of(id).outcome == SendOutcome::kAccepted) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

  EXPECT_EQ(receipts_.of("accept-before").outcome, SendOutcome::kAccepted);
  EXPECT_EQ(receipts_.of("accept-down").outcome, SendOutcome::kFailed);
  ASSERT_EQ(peer->received().size(), 1u);
  EXPECT_TRUE(peer->received().front().message_id.starts_with("accept-after-"));
}

TEST_F(OutboundTest, ManyMessagesAreEachReportedOnce) {
  constexpr int kCount = 20'000;
  auto peer = SettlingPeer::listening(0);
  startOutbound();

  for (int i = 0; i < kCount; ++i) {
    sendTo(peer->port(), "accept-" + std::to_string(i));
  }

  ASSERT_TRUE(receipts_.waitFor(kCount, std::chrono::seconds(60)));
  auto all = receipts_.all();
  ASSERT_EQ(all.size(), static_cast<std::size_t>(kCount));
  for (const auto& [id, receipts] : all) {
    ASSERT_EQ(receipts.size(), 1u) << id;
    ASSERT_EQ(receipts.front().outcome, SendOutcome::kAccepted) << id;
  }
  EXPECT_EQ(outbound_->inFlight(), 0u);
}

TEST_F(OutboundTest, LinkThePeerRefusesFailsItsMessagesNamingTheAddress) {
  auto peer = SettlingPeer::listening(0);
  startOutbound();

  outbound_->send(urlOf(peer->port()), "refused/fire", queryMessage("accept-1"),
                  receipts_.callbackFor("accept-1"));
  sendTo(peer->port(), "accept-2");

  ASSERT_TRUE(receipts_.waitFor(2));
  SendReceipt refused = receipts_.of("accept-1");
  EXPECT_EQ(refused.outcome, SendOutcome::kFailed);
  EXPECT_TRUE(contains(refused.description, "link to 'refused/fire'")) << refused.description;
  EXPECT_TRUE(contains(refused.description, "amqp:not-found")) << refused.description;
  EXPECT_EQ(receipts_.of("accept-2").outcome, SendOutcome::kAccepted);
}

TEST_F(OutboundTest, OneConnectionCarriesSeveralAddresses) {
  auto peer = SettlingPeer::listening(0);
  startOutbound();

  outbound_->send(urlOf(peer->port()), "bodies/fire", queryMessage("accept-fire"),
                  receipts_.callbackFor("accept-fire"));
  outbound_->send(urlOf(peer->port()), "bodies/sanitary", queryMessage("accept-sanitary"),
                  receipts_.callbackFor("accept-sanitary"));

  ASSERT_TRUE(receipts_.waitFor(2));
  EXPECT_EQ(receipts_.of("accept-fire").outcome, SendOutcome::kAccepted);
  EXPECT_EQ(receipts_.of("accept-sanitary").outcome, SendOutcome::kAccepted);
  std::map<std::string, std::string> address_by_id;
  for (const auto& received : peer->received()) {
    address_by_id[received.message_id] = received.address;
  }
  EXPECT_EQ(address_by_id["accept-fire"], "bodies/fire");
  EXPECT_EQ(address_by_id["accept-sanitary"], "bodies/sanitary");
}

}  // namespace
}  // namespace licgate::adapters::amqp
