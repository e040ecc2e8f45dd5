// IntakeServer::sendOnAttached against a real Proton peer that attached a
// receiving link to licgate's listener (settling_peer.hpp).
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "adapters/amqp/intake_server.hpp"
#include "settling_peer.hpp"

namespace licgate::adapters::amqp {
namespace {

using test::queryMessage;
using test::Receipts;
using test::SettlingPeer;

constexpr const char* kAddress = "conformity/sanitary";

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class IntakeSendOnAttachedTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (server_) {
      server_->stop();
    }
  }

  void startServer(IntakeOptions options = {}) {
    options.port = 0;
    server_ = makeIntakeServer(options, [](const std::vector<Delivery>& batch) {
      return std::vector<Verdict>(batch.size());
    });
    auto started = server_->start();
    ASSERT_TRUE(started.ok()) << started.error().message;
  }

  std::unique_ptr<SettlingPeer> attachPeer(int credit = 1000) {
    auto peer = SettlingPeer::attached(server_->boundPort(), kAddress, credit);
    EXPECT_TRUE(peer->waitUntilAttached());
    return peer;
  }

  void send(const std::string& id) {
    server_->sendOnAttached(kAddress, queryMessage(id), receipts_.callbackFor(id));
  }

  // Credit arrives after the attach; a message sent before it would fail.
  void waitForCredit() {
    for (int attempt = 0; attempt < 100; ++attempt) {
      std::string id = "accept-probe-" + std::to_string(attempt);
      send(id);
      ASSERT_TRUE(receipts_.waitFor(static_cast<std::size_t>(attempt) + 1));
      if (receipts_.of(id).outcome == SendOutcome::kAccepted) {
        probes_ = static_cast<std::size_t>(attempt) + 1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL() << "the attached link never had credit";
  }

  Receipts receipts_;  // outlives the server, which calls it
  std::unique_ptr<IntakeServer> server_;
  std::size_t probes_ = 0;
};

TEST_F(IntakeSendOnAttachedTest, ReportsEachOutcomeTheReceiverGives) {
  startServer();
  auto peer = attachPeer();
  waitForCredit();

  for (const char* id : {"accept-1", "reject-1", "release-1", "modify-1"}) {
    send(id);
  }

  ASSERT_TRUE(receipts_.waitFor(probes_ + 4));
  EXPECT_EQ(receipts_.of("accept-1").outcome, SendOutcome::kAccepted);
  SendReceipt rejected = receipts_.of("reject-1");
  EXPECT_EQ(rejected.outcome, SendOutcome::kRejected);
  EXPECT_TRUE(contains(rejected.description, "amqp:precondition-failed")) << rejected.description;
  EXPECT_TRUE(contains(rejected.description, "bad query reject-1")) << rejected.description;
  EXPECT_EQ(receipts_.of("release-1").outcome, SendOutcome::kReleased);
  EXPECT_EQ(receipts_.of("modify-1").outcome, SendOutcome::kModified);
}

TEST_F(IntakeSendOnAttachedTest, MessageArrivesWithItsFields) {
  startServer();
  auto peer = attachPeer();
  waitForCredit();

  send("accept-fields");

  ASSERT_TRUE(receipts_.waitFor(probes_ + 1));
  test::ReceivedMessage received = peer->received().back();
  EXPECT_EQ(received.address, kAddress);
  EXPECT_EQ(received.message_id, "accept-fields");
  EXPECT_EQ(received.subject, "conformity-query");
  EXPECT_EQ(received.content_type, "application/json");
  EXPECT_EQ(received.body, "{\"query_id\":\"accept-fields\"}");
  EXPECT_EQ(received.properties.at("body"), "sanitary");
}

TEST_F(IntakeSendOnAttachedTest, NoLinkAttachedFailsAtOnce) {
  startServer();

  send("accept-1");

  ASSERT_TRUE(receipts_.waitFor(1, std::chrono::milliseconds(500)));
  SendReceipt receipt = receipts_.of("accept-1");
  EXPECT_EQ(receipt.outcome, SendOutcome::kFailed);
  EXPECT_EQ(receipt.description, "no link attached to receive from 'conformity/sanitary'");
}

TEST_F(IntakeSendOnAttachedTest, LinkWithoutCreditFailsAtOnce) {
  startServer();
  auto peer = attachPeer(/*credit=*/0);

  send("accept-1");

  ASSERT_TRUE(receipts_.waitFor(1, std::chrono::milliseconds(500)));
  SendReceipt receipt = receipts_.of("accept-1");
  EXPECT_EQ(receipt.outcome, SendOutcome::kFailed);
  EXPECT_TRUE(contains(receipt.description, "no link attached to receive from"))
      << receipt.description;
}

TEST_F(IntakeSendOnAttachedTest, LinkClosedBeforeSettlementFails) {
  startServer();
  auto peer = attachPeer();
  waitForCredit();
  send("hold-1");
  ASSERT_TRUE(peer->waitForMessages(probes_ + 1));

  peer->closeLink();

  ASSERT_TRUE(receipts_.waitFor(probes_ + 1));
  SendReceipt receipt = receipts_.of("hold-1");
  EXPECT_EQ(receipt.outcome, SendOutcome::kFailed);
  EXPECT_TRUE(contains(receipt.description, "closed before settlement")) << receipt.description;
}

TEST_F(IntakeSendOnAttachedTest, ConnectionClosedBeforeSettlementFails) {
  startServer();
  auto peer = attachPeer();
  waitForCredit();
  send("hold-1");
  ASSERT_TRUE(peer->waitForMessages(probes_ + 1));

  peer.reset();

  ASSERT_TRUE(receipts_.waitFor(probes_ + 1));
  SendReceipt receipt = receipts_.of("hold-1");
  EXPECT_EQ(receipt.outcome, SendOutcome::kFailed);
  EXPECT_TRUE(contains(receipt.description, "closed before settlement")) << receipt.description;
}

TEST_F(IntakeSendOnAttachedTest, UnsettledMessageFailsAfterTheSettleTimeout) {
  IntakeOptions options;
  options.settle_timeout = std::chrono::milliseconds(300);
  startServer(options);
  auto peer = attachPeer();
  waitForCredit();

  send("hold-1");

  ASSERT_TRUE(receipts_.waitFor(probes_ + 1));
  SendReceipt receipt = receipts_.of("hold-1");
  EXPECT_EQ(receipt.outcome, SendOutcome::kFailed);
  EXPECT_EQ(receipt.description, "no settlement within 300 ms");
}

TEST_F(IntakeSendOnAttachedTest, StopFailsWhatIsNotSettled) {
  startServer();
  auto peer = attachPeer();
  waitForCredit();
  send("hold-1");
  ASSERT_TRUE(peer->waitForMessages(probes_ + 1));

  server_->stop();
  send("accept-after-stop");

  ASSERT_TRUE(receipts_.waitFor(probes_ + 2));
  EXPECT_EQ(receipts_.of("hold-1").outcome, SendOutcome::kFailed);
  EXPECT_EQ(receipts_.of("accept-after-stop").outcome, SendOutcome::kFailed);
}

}  // namespace
}  // namespace licgate::adapters::amqp
