// The AMQP intake against real Proton clients on loopback.
#include "adapters/amqp/intake_server.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <proton/types.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "amqp_test_client.hpp"

namespace licgate::adapters::amqp {
namespace {

using test::AmqpTestClient;
using test::ClientOptions;
using test::makeMessage;

// A processor that applies `decide` to each delivery and records each batch
// as it comes in; while held, it blocks after recording, which keeps the
// batch unsettled.
class TestProcessor {
 public:
  std::function<Verdict(const Delivery&)> decide = [](const Delivery&) { return Verdict{}; };

  BatchProcessor callable() {
    return [this](const std::vector<Delivery>& batch) { return process(batch); };
  }

  void hold() {
    std::lock_guard lock(mutex_);
    held_ = true;
  }

  void letGo() {
    {
      std::lock_guard lock(mutex_);
      held_ = false;
    }
    changed_.notify_all();
  }

  bool waitForSeen(std::size_t count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(10), [&] { return seen_.size() >= count; });
  }

  std::vector<Delivery> seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }

  std::vector<std::size_t> batchSizes() {
    std::lock_guard lock(mutex_);
    return batch_sizes_;
  }

 private:
  std::vector<Verdict> process(const std::vector<Delivery>& batch) {
    std::unique_lock lock(mutex_);
    seen_.insert(seen_.end(), batch.begin(), batch.end());
    batch_sizes_.push_back(batch.size());
    changed_.notify_all();
    changed_.wait(lock, [&] { return !held_; });
    std::vector<Verdict> verdicts;
    for (const Delivery& delivery : batch) {
      verdicts.push_back(decide(delivery));
    }
    return verdicts;
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  bool held_ = false;
  std::vector<Delivery> seen_;
  std::vector<std::size_t> batch_sizes_;
};

class IntakeServerTest : public ::testing::Test {
 protected:
  void TearDown() override {
    processor_.letGo();
    if (server_) {
      server_->stop();
    }
  }

  void startServer(IntakeOptions options = {}) {
    options.port = 0;
    server_ = makeIntakeServer(options, processor_.callable());
    auto started = server_->start();
    ASSERT_TRUE(started.ok()) << started.error().message;
  }

  ClientOptions clientOptions() const {
    ClientOptions options;
    options.port = server_->boundPort();
    return options;
  }

  bool waitForStats(const std::function<bool(const IntakeStats&)>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (done(server_->stats())) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  static std::vector<proton::message> numberedMessages(int count) {
    std::vector<proton::message> messages;
    for (int i = 0; i < count; ++i) {
      messages.push_back(
          makeMessage("m-" + std::to_string(i), "<event n='" + std::to_string(i) + "'/>"));
    }
    return messages;
  }

  TestProcessor processor_;  // outlives the server, which calls it
  std::unique_ptr<IntakeServer> server_;
};

Verdict rejection(const std::string& condition, const std::string& description) {
  Verdict verdict;
  verdict.settle = Settle::kReject;
  verdict.condition = condition;
  verdict.description = description;
  verdict.outcome = "rejected";
  verdict.error_code = "illegal-transition";
  verdict.licence_number = "23000001";
  return verdict;
}

TEST_F(IntakeServerTest, ListensOnAFreePortWhenPortIsZero) {
  startServer();

  EXPECT_GT(server_->boundPort(), 0);
}

TEST_F(IntakeServerTest, StartFailsNamingTheAddressWhenThePortIsTaken) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  IntakeOptions options;
  options.port = ntohs(address.sin_port);
  auto server = makeIntakeServer(options, processor_.callable());

  auto started = server->start();
  ::close(fd);

  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().code, registry::ErrorCode::kUnavailable);
  EXPECT_NE(started.error().message.find("127.0.0.1:" + std::to_string(options.port)),
            std::string::npos)
      << started.error().message;
}

TEST_F(IntakeServerTest, StartFailsOnAnAddressThisMachineDoesNotHave) {
  IntakeOptions options;
  options.host = "192.0.2.1";  // TEST-NET-1 (RFC 5737): binding fails, nothing is sent
  options.port = 0;
  auto server = makeIntakeServer(options, processor_.callable());

  auto started = server->start();

  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().code, registry::ErrorCode::kUnavailable);
  EXPECT_NE(started.error().message.find("192.0.2.1"), std::string::npos)
      << started.error().message;
}

TEST_F(IntakeServerTest, StartAfterStopIsRefused) {
  startServer();
  server_->stop();

  auto started = server_->start();

  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().code, registry::ErrorCode::kInternal);
}

TEST_F(IntakeServerTest, AcceptsEveryDeliveryTheProcessorAccepts) {
  startServer();
  AmqpTestClient client(clientOptions());

  client.send(numberedMessages(50));

  ASSERT_TRUE(client.waitForOutcomes(50));
  EXPECT_EQ(client.countByState(), (std::map<std::string, int>{{"accepted", 50}}));
  EXPECT_EQ(processor_.seen().size(), 50u);
  EXPECT_EQ(server_->stats().accepted, 50u);
  EXPECT_EQ(server_->stats().received, 50u);
}

TEST_F(IntakeServerTest, DeliveryCarriesTheMessageFields) {
  startServer();
  AmqpTestClient client(clientOptions());
  proton::message message = makeMessage("m-7", "<event/>", "replies/tax");
  message.correlation_id("conversation-3");
  message.content_type("application/xml; charset=windows-1250");

  client.send({message});

  ASSERT_TRUE(client.waitForOutcomes(1));
  std::vector<Delivery> seen = processor_.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].address, "licences/events");
  EXPECT_EQ(seen[0].message_id, "m-7");
  EXPECT_EQ(seen[0].correlation_id, "conversation-3");
  EXPECT_EQ(seen[0].reply_to, "replies/tax");
  EXPECT_EQ(seen[0].content_type, "application/xml; charset=windows-1250");
  EXPECT_EQ(seen[0].sender_system, "tax");
  EXPECT_EQ(seen[0].body, "<event/>");
}

TEST_F(IntakeServerTest, SenderSystemFallsBackToUserId) {
  startServer();
  AmqpTestClient client(clientOptions());
  proton::message message = makeMessage("m-1", "{}");
  message.properties().erase("system");
  message.user("statistics");

  client.send({message});

  ASSERT_TRUE(client.waitForOutcomes(1));
  ASSERT_EQ(processor_.seen().size(), 1u);
  EXPECT_EQ(processor_.seen()[0].sender_system, "statistics");
}

TEST_F(IntakeServerTest, StringBodyIsTakenAsItsBytes) {
  startServer();
  AmqpTestClient client(clientOptions());
  proton::message message = makeMessage("m-1", "");
  message.body(std::string("{\"event\":\"issue\",\"holder\":\"Čížek\"}"));

  client.send({message});

  ASSERT_TRUE(client.waitForOutcomes(1));
  ASSERT_EQ(processor_.seen().size(), 1u);
  EXPECT_EQ(processor_.seen()[0].body, "{\"event\":\"issue\",\"holder\":\"Čížek\"}");
}

TEST_F(IntakeServerTest, SenderSeesTheRejectionConditionAndDescription) {
  processor_.decide = [](const Delivery& delivery) {
    if (delivery.message_id == "m-1") {
      return rejection("amqp:precondition-failed", "licence 23000001 is terminated: no resume");
    }
    return Verdict{};
  };
  startServer();
  AmqpTestClient client(clientOptions());

  client.send(numberedMessages(3));

  ASSERT_TRUE(client.waitForOutcomes(3));
  test::Outcome rejected = client.outcomeOf("m-1");
  EXPECT_EQ(rejected.state, "rejected");
  EXPECT_EQ(rejected.condition, "amqp:precondition-failed");
  EXPECT_EQ(rejected.description, "licence 23000001 is terminated: no resume");
  EXPECT_EQ(client.outcomeOf("m-0").state, "accepted");
  EXPECT_EQ(client.outcomeOf("m-2").state, "accepted");
  EXPECT_EQ(server_->stats().rejected, 1u);
}

TEST_F(IntakeServerTest, ReleaseVerdictReleasesTheDelivery) {
  processor_.decide = [](const Delivery&) {
    Verdict verdict;
    verdict.settle = Settle::kRelease;
    return verdict;
  };
  startServer();
  AmqpTestClient client(clientOptions());

  client.send(numberedMessages(2));

  ASSERT_TRUE(client.waitForOutcomes(2));
  EXPECT_EQ(client.countByState(), (std::map<std::string, int>{{"released", 2}}));
  EXPECT_EQ(server_->stats().released, 2u);
}

TEST_F(IntakeServerTest, ProcessorExceptionReleasesTheBatch) {
  processor_.decide = [](const Delivery&) -> Verdict { throw std::runtime_error("store gone"); };
  startServer();
  AmqpTestClient client(clientOptions());

  client.send(numberedMessages(3));

  ASSERT_TRUE(client.waitForOutcomes(3));
  EXPECT_EQ(client.countByState(), (std::map<std::string, int>{{"released", 3}}));
}

TEST_F(IntakeServerTest, WrongNumberOfVerdictsReleasesTheBatch) {
  IntakeOptions options;
  options.port = 0;
  server_ = makeIntakeServer(options,
                             [](const std::vector<Delivery>&) { return std::vector<Verdict>{}; });
  ASSERT_TRUE(server_->start().ok());
  AmqpTestClient client(clientOptions());

  client.send(numberedMessages(2));

  ASSERT_TRUE(client.waitForOutcomes(2));
  EXPECT_EQ(client.countByState(), (std::map<std::string, int>{{"released", 2}}));
}

TEST_F(IntakeServerTest, OutcomeMessageGoesToReplyToWithTheMessageIdAsCorrelationId) {
  processor_.decide = [](const Delivery&) {
    return rejection("amqp:precondition-failed", "licence 23000001 is terminated");
  };
  startServer();
  ClientOptions options = clientOptions();
  options.reply_address = "replies/tax";
  AmqpTestClient client(options);

  client.send({makeMessage("m-42", "<event/>", "replies/tax")});

  ASSERT_TRUE(client.waitUntil([&] { return client.outcomeMessages().size() == 1; }));
  test::OutcomeMessage reply = client.outcomeMessages()[0];
  EXPECT_EQ(reply.correlation_id, proton::message_id("m-42"));
  EXPECT_EQ(reply.properties, (std::map<std::string, std::string>{{"outcome", "rejected"},
                                                                  {"error", "illegal-transition"},
                                                                  {"licence", "23000001"}}));
  EXPECT_EQ(reply.body, "licence 23000001 is terminated");
  EXPECT_EQ(server_->stats().replies_sent, 1u);
}

TEST_F(IntakeServerTest, OutcomeMessageKeepsANumericMessageIdType) {
  startServer();
  ClientOptions options = clientOptions();
  options.reply_address = "replies/tax";
  AmqpTestClient client(options);
  proton::message message = makeMessage("", "<event/>", "replies/tax");
  message.id(std::uint64_t{9001});

  client.send({message});

  ASSERT_TRUE(client.waitUntil([&] { return client.outcomeMessages().size() == 1; }));
  EXPECT_EQ(client.outcomeMessages()[0].correlation_id, proton::message_id(std::uint64_t{9001}));
  EXPECT_EQ(client.outcomeMessages()[0].properties.at("outcome"), "accepted");
  ASSERT_EQ(processor_.seen().size(), 1u);
  EXPECT_EQ(processor_.seen()[0].message_id, "ulong:9001");
}

TEST_F(IntakeServerTest, OutcomeMessageGoesToADynamicReplyAddress) {
  startServer();
  ClientOptions options = clientOptions();
  options.dynamic_reply = true;
  AmqpTestClient client(options);
  ASSERT_TRUE(client.waitUntil([&] { return client.senderOpen(); }));
  std::string reply_address = client.currentReplyAddress();

  client.send({makeMessage("m-1", "<event/>", reply_address)});

  EXPECT_FALSE(reply_address.empty());
  ASSERT_TRUE(client.waitUntil([&] { return client.outcomeMessages().size() == 1; }));
  EXPECT_EQ(client.outcomeMessages()[0].correlation_id, proton::message_id("m-1"));
}

TEST_F(IntakeServerTest, OutcomeMessageReachesAReplyLinkOnAnotherConnection) {
  startServer();
  ClientOptions listener_options = clientOptions();
  listener_options.address = "";
  listener_options.reply_address = "replies/statistics";
  AmqpTestClient listener(listener_options);
  ASSERT_TRUE(listener.waitUntil([&] { return !listener.replyAddress().empty(); }));
  ASSERT_TRUE(waitForStats([](const IntakeStats& stats) { return stats.connections == 1; }));
  AmqpTestClient sender(clientOptions());

  sender.send({makeMessage("m-5", "<event/>", "replies/statistics")});

  ASSERT_TRUE(listener.waitUntil([&] { return listener.outcomeMessages().size() == 1; }));
  EXPECT_EQ(listener.outcomeMessages()[0].correlation_id, proton::message_id("m-5"));
}

TEST_F(IntakeServerTest, ReplyToWithoutALinkIsCountedUnroutable) {
  startServer();
  AmqpTestClient client(clientOptions());

  client.send({makeMessage("m-1", "<event/>", "replies/nobody")});

  ASSERT_TRUE(client.waitForOutcomes(1));
  EXPECT_EQ(client.outcomeOf("m-1").state, "accepted");
  EXPECT_EQ(server_->stats().replies_unroutable, 1u);
  EXPECT_EQ(server_->stats().replies_sent, 0u);
}

TEST_F(IntakeServerTest, OversizeDeliveryIsRejectedNamingBothSizes) {
  IntakeOptions options;
  options.max_message_bytes = 100;
  startServer(options);
  AmqpTestClient client(clientOptions());

  client.send(
      {makeMessage("big", std::string(101, 'x')), makeMessage("fits", std::string(100, 'x'))});

  ASSERT_TRUE(client.waitForOutcomes(2));
  test::Outcome big = client.outcomeOf("big");
  EXPECT_EQ(big.state, "rejected");
  EXPECT_EQ(big.condition, "amqp:link:message-size-exceeded");
  EXPECT_NE(big.description.find("101 bytes"), std::string::npos) << big.description;
  EXPECT_NE(big.description.find("limit of 100 bytes"), std::string::npos) << big.description;
  EXPECT_EQ(client.outcomeOf("fits").state, "accepted");
}

// The processor accepts everything, but a refused delivery is rejected
// anyway; the processor sees it without its body, to keep it as a dead
// letter.
TEST_F(IntakeServerTest, OversizeDeliveryReachesTheProcessorWithoutItsBody) {
  IntakeOptions options;
  options.max_message_bytes = 100;
  startServer(options);
  AmqpTestClient client(clientOptions());

  client.send({makeMessage("big", std::string(101, 'x'))});

  ASSERT_TRUE(client.waitForOutcomes(1));
  ASSERT_EQ(processor_.seen().size(), 1u);
  const Delivery big = processor_.seen()[0];
  EXPECT_EQ(big.message_id, "big");
  EXPECT_TRUE(big.body.empty());
  ASSERT_TRUE(big.refused.has_value());
  EXPECT_EQ(big.refused->code, registry::ErrorCode::kTooLarge);
  EXPECT_EQ(big.refused->message, "the message body of 101 bytes is over the limit of 100 bytes");
  EXPECT_EQ(client.outcomeOf("big").state, "rejected");
}

TEST_F(IntakeServerTest, RefusedDeliveryReleasedByTheProcessorIsReleased) {
  IntakeOptions options;
  options.max_message_bytes = 10;
  processor_.decide = [](const Delivery&) {
    Verdict verdict;
    verdict.settle = Settle::kRelease;
    return verdict;
  };
  startServer(options);
  AmqpTestClient client(clientOptions());

  client.send({makeMessage("big", std::string(11, 'x'))});

  ASSERT_TRUE(client.waitForOutcomes(1));
  EXPECT_EQ(client.outcomeOf("big").state, "released");
}

TEST_F(IntakeServerTest, OversizeRejectionIsAlsoSentToReplyTo) {
  IntakeOptions options;
  options.max_message_bytes = 10;
  startServer(options);
  ClientOptions client_options = clientOptions();
  client_options.reply_address = "replies/tax";
  AmqpTestClient client(client_options);

  client.send({makeMessage("big", std::string(11, 'x'), "replies/tax")});

  ASSERT_TRUE(client.waitUntil([&] { return client.outcomeMessages().size() == 1; }));
  EXPECT_EQ(client.outcomeMessages()[0].properties.at("outcome"), "rejected");
  EXPECT_EQ(client.outcomeMessages()[0].properties.at("error"), "too-large");
}

TEST_F(IntakeServerTest, MessageIdOverItsBoundIsRefusedAndCut) {
  startServer();
  AmqpTestClient client(clientOptions());

  client.send({makeMessage(std::string(5000, 'i'), "<event/>")});

  ASSERT_TRUE(client.waitForOutcomes(1));
  ASSERT_EQ(processor_.seen().size(), 1u);
  const Delivery seen = processor_.seen()[0];
  EXPECT_EQ(seen.message_id.size(), 1024u);
  ASSERT_TRUE(seen.refused.has_value());
  EXPECT_EQ(seen.refused->message, "message-id has 5000 bytes, more than 1024");
}

TEST_F(IntakeServerTest, BodyThatIsNeitherDataNorStringIsADecodeError) {
  startServer();
  AmqpTestClient client(clientOptions());
  proton::message message = makeMessage("m-1", "");
  message.body(std::int32_t{12});

  client.send({message});

  ASSERT_TRUE(client.waitForOutcomes(1));
  test::Outcome outcome = client.outcomeOf("m-1");
  EXPECT_EQ(outcome.state, "rejected");
  EXPECT_EQ(outcome.condition, "amqp:decode-error");
  EXPECT_NE(outcome.description.find("int"), std::string::npos) << outcome.description;
  ASSERT_EQ(processor_.seen().size(), 1u);
  EXPECT_EQ(processor_.seen()[0].message_id, "m-1");
  EXPECT_EQ(processor_.seen()[0].refused->code, registry::ErrorCode::kMalformed);
}

TEST_F(IntakeServerTest, LinkToAnUnknownAddressIsClosedWithNotFound) {
  startServer();
  ClientOptions options = clientOptions();
  options.address = "licences/nowhere";
  AmqpTestClient client(options);

  ASSERT_TRUE(client.waitUntil([&] { return !client.senderError().empty(); }));

  proton::error_condition error = client.senderError();
  EXPECT_EQ(error.name(), "amqp:not-found");
  EXPECT_NE(error.description().find("'licences/nowhere'"), std::string::npos)
      << error.description();
}

TEST_F(IntakeServerTest, UnsettledDeliveriesPerLinkStayWithinTheCreditWindow) {
  IntakeOptions options;
  options.credit_window = 10;
  startServer(options);
  processor_.hold();
  AmqpTestClient client(clientOptions());

  client.send(numberedMessages(50));
  ASSERT_TRUE(waitForStats([](const IntakeStats& stats) { return stats.received >= 10; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  IntakeStats held = server_->stats();
  processor_.letGo();

  EXPECT_EQ(held.received, 10u);
  EXPECT_EQ(held.in_flight, 10u);
  ASSERT_TRUE(client.waitForOutcomes(50));
  EXPECT_EQ(client.countByState(), (std::map<std::string, int>{{"accepted", 50}}));
  EXPECT_EQ(server_->stats().in_flight_peak, 10u);
  EXPECT_EQ(server_->stats().in_flight, 0u);
}

TEST_F(IntakeServerTest, BatchesHoldWhateverIsQueuedUpToMaxBatch) {
  IntakeOptions options;
  options.max_batch = 4;
  startServer(options);
  processor_.hold();
  AmqpTestClient client(clientOptions());

  client.send(numberedMessages(20));
  ASSERT_TRUE(processor_.waitForSeen(1));
  ASSERT_TRUE(waitForStats([](const IntakeStats& stats) { return stats.received == 20; }));
  processor_.letGo();

  ASSERT_TRUE(client.waitForOutcomes(20));
  std::vector<std::size_t> sizes = processor_.batchSizes();
  std::size_t total = 0;
  for (std::size_t size : sizes) {
    EXPECT_LE(size, 4u);
    total += size;
  }
  EXPECT_EQ(total, 20u);
  // The second batch was taken while the first was held in its commit
  // (whatever had arrived by then); the third only once the first was let
  // go, from a queue already full.
  ASSERT_GE(sizes.size(), 3u);
  EXPECT_EQ(sizes[2], 4u);
}

// A batch waits in the hand-over while the one before it commits; the one
// after it is not taken from the queue until then.
TEST_F(IntakeServerTest, PreparesOnlyOneBatchAheadOfTheCommit) {
  IntakeOptions options;
  options.port = 0;
  options.max_batch = 1;
  // Shared with the server's threads, which may outlive this body when an
  // assertion fails; the guard lets a held commit go in any case.
  struct Gate {
    std::mutex mutex;
    std::condition_variable changed;
    std::size_t prepared = 0;
    bool held = true;
    void open() {
      {
        std::lock_guard lock(mutex);
        held = false;
      }
      changed.notify_all();
    }
  };
  auto gate = std::make_shared<Gate>();
  std::unique_ptr<Gate, std::function<void(Gate*)>> release(gate.get(), [](Gate* g) { g->open(); });
  StagedProcessor stages;
  stages.prepare = [gate](const std::vector<Delivery>& /*batch*/) {
    std::lock_guard lock(gate->mutex);
    ++gate->prepared;
    return std::unique_ptr<PreparedBatch>();
  };
  stages.commit = [gate](PreparedBatch* /*prepared*/, const std::vector<Delivery>& batch) {
    std::unique_lock lock(gate->mutex);
    gate->changed.wait(lock, [&] { return !gate->held; });
    return std::vector<Verdict>(batch.size());
  };
  server_ = makeIntakeServer(options, stages);
  ASSERT_TRUE(server_->start().ok());
  AmqpTestClient client(clientOptions());

  client.send(numberedMessages(5));
  ASSERT_TRUE(waitForStats([](const IntakeStats& stats) { return stats.received == 5; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::size_t prepared_while_held = 0;
  {
    std::lock_guard lock(gate->mutex);
    prepared_while_held = gate->prepared;
  }
  gate->open();

  EXPECT_EQ(prepared_while_held, 2u);  // one in its commit, one handed over
  ASSERT_TRUE(client.waitForOutcomes(5));
  EXPECT_EQ(client.countByState(), (std::map<std::string, int>{{"accepted", 5}}));
}

TEST_F(IntakeServerTest, PrepareExceptionReleasesOnlyItsBatch) {
  IntakeOptions options;
  options.port = 0;
  options.max_batch = 1;
  StagedProcessor stages;
  stages.prepare = [](const std::vector<Delivery>& batch) -> std::unique_ptr<PreparedBatch> {
    if (batch.front().message_id == "m-1") {
      throw std::runtime_error("cannot prepare");
    }
    return nullptr;
  };
  stages.commit = [](PreparedBatch* /*prepared*/, const std::vector<Delivery>& batch) {
    return std::vector<Verdict>(batch.size());
  };
  server_ = makeIntakeServer(options, stages);
  ASSERT_TRUE(server_->start().ok());
  AmqpTestClient client(clientOptions());

  client.send(numberedMessages(3));

  ASSERT_TRUE(client.waitForOutcomes(3));
  EXPECT_EQ(client.outcomeOf("m-0").state, "accepted");
  EXPECT_EQ(client.outcomeOf("m-1").state, "released");
  EXPECT_EQ(client.outcomeOf("m-2").state, "accepted");
}

TEST_F(IntakeServerTest, LinksShareTheInFlightBudgetAndTheLastIsRefused) {
  IntakeOptions options;
  options.credit_window = 10;
  options.max_in_flight = 15;
  startServer(options);
  processor_.hold();
  AmqpTestClient first(clientOptions());
  ASSERT_TRUE(first.waitUntil([&] { return first.senderOpen(); }));
  AmqpTestClient second(clientOptions());
  ASSERT_TRUE(second.waitUntil([&] { return second.senderOpen(); }));

  AmqpTestClient third(clientOptions());
  second.send(numberedMessages(20));

  ASSERT_TRUE(third.waitUntil([&] { return !third.senderError().empty(); }));
  EXPECT_EQ(third.senderError().name(), "amqp:resource-limit-exceeded");
  ASSERT_TRUE(waitForStats([](const IntakeStats& stats) { return stats.received >= 5; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(server_->stats().received, 5u);
}

TEST_F(IntakeServerTest, StopReleasesUnsettledDeliveries) {
  startServer();
  processor_.hold();
  AmqpTestClient client(clientOptions());
  client.send(numberedMessages(5));
  ASSERT_TRUE(waitForStats([](const IntakeStats& stats) { return stats.received == 5; }));

  auto stopped = std::async(std::launch::async, [&] { server_->stop(); });
  bool all_released = client.waitForOutcomes(5);
  processor_.letGo();
  stopped.get();

  EXPECT_TRUE(all_released);
  EXPECT_EQ(client.countByState(), (std::map<std::string, int>{{"released", 5}}));
  EXPECT_EQ(server_->stats().in_flight, 0u);
}

TEST_F(IntakeServerTest, VerdictsForAClosedConnectionAreDropped) {
  startServer();
  processor_.hold();
  {
    AmqpTestClient gone(clientOptions());
    gone.send(numberedMessages(5));
    ASSERT_TRUE(processor_.waitForSeen(1));
  }
  ASSERT_TRUE(waitForStats([](const IntakeStats& stats) { return stats.connections == 0; }));

  processor_.letGo();
  AmqpTestClient client(clientOptions());
  client.send({makeMessage("after", "<event/>")});

  ASSERT_TRUE(client.waitForOutcomes(1));
  EXPECT_EQ(client.outcomeOf("after").state, "accepted");
  EXPECT_EQ(server_->stats().in_flight, 0u);
}

// Proton 0.37 throws on a transfer with no bytes before any handler runs;
// the intake restarts its event loop (intake_server.cpp).
TEST_F(IntakeServerTest, TransferWithoutAMessageRestartsTheLoopAndIntakeGoesOn) {
  startServer();
  AmqpTestClient broken(clientOptions());
  ASSERT_TRUE(broken.waitUntil([&] { return broken.senderOpen(); }));

  broken.sendEmptyTransfer();
  ASSERT_TRUE(waitForStats([](const IntakeStats& stats) { return stats.loop_restarts == 1; }));
  AmqpTestClient client(clientOptions());
  client.send({makeMessage("after", "<event/>")});

  ASSERT_TRUE(client.waitForOutcomes(1));
  EXPECT_EQ(client.outcomeOf("after").state, "accepted");
  EXPECT_TRUE(broken.waitUntil([&] { return broken.transportClosed(); }));
  EXPECT_EQ(server_->stats().connections, 1u);
}

TEST_F(IntakeServerTest, LoopRestartClosesOtherConnectionsSoTheirSendersResend) {
  startServer();
  processor_.hold();
  AmqpTestClient bystander(clientOptions());
  bystander.send(numberedMessages(3));
  ASSERT_TRUE(waitForStats([](const IntakeStats& stats) { return stats.in_flight == 3; }));
  AmqpTestClient broken(clientOptions());
  ASSERT_TRUE(broken.waitUntil([&] { return broken.senderOpen(); }));

  broken.sendEmptyTransfer();

  EXPECT_TRUE(bystander.waitUntil([&] { return bystander.transportClosed(); }));
  EXPECT_EQ(server_->stats().in_flight, 0u);
  EXPECT_EQ(server_->stats().connections, 0u);
  processor_.letGo();
}

TEST_F(IntakeServerTest, StopTwiceIsHarmless) {
  startServer();

  server_->stop();
  server_->stop();

  EXPECT_EQ(server_->stats().connections, 0u);
}

}  // namespace
}  // namespace licgate::adapters::amqp
