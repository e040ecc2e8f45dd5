// The AMQP intake's threads: the Proton container's event loop (see
// intake_loop.hpp) and two workers that run the processor's two stages.
//
// The workers own no Proton object. The prepare thread gets Jobs from a
// bounded queue, runs the first stage on whatever is queued (up to
// max_batch) and hands the batch to the commit thread through a one-slot
// Handoff. The commit thread runs the second stage and sends the verdicts
// back to each connection's own thread with one work_queue job per
// connection per batch, which is where the deliveries are settled.
#include "adapters/amqp/intake_server.hpp"

#include <proton/event.h>
#include <proton/proactor.h>

#include <proton/container.hpp>
#include <proton/work_queue.hpp>

#include <pthread.h>
#include <algorithm>
#include <chrono>
#include <future>
#include <thread>

#include "adapters/amqp/intake_loop.hpp"
#include "adapters/amqp/job_queue.hpp"
#include "adapters/amqp/message_fields.hpp"
#include "adapters/logger.hpp"
#include "mapping/error_table.hpp"

namespace licgate::adapters::amqp {

namespace {

using registry::ErrorCode;
using registry::Status;

// How long start() waits for the listener, and stop() for connections to
// close politely before the container is stopped outright.
constexpr std::chrono::seconds kListenTimeout(10);
constexpr std::chrono::seconds kShutdownGrace(2);

struct ListenOutcome {
  int port = 0;
  std::string error;
};

// A batch between the two stages.
struct StagedBatch {
  std::vector<Job> jobs;
  std::vector<Delivery> deliveries;
  std::unique_ptr<PreparedBatch> prepared;
  bool prepare_failed = false;
};

// The verdict for a delivery the intake refused itself (Delivery::refused).
Verdict refusalVerdict(const registry::Error& error) {
  const mapping::ErrorTransport& transport = mapping::errorTransport(error.code);
  Verdict verdict;
  verdict.settle = Settle::kReject;
  verdict.condition = std::string(transport.amqp_condition);
  verdict.description = error.message;
  verdict.outcome = "rejected";
  verdict.error_code = std::string(registry::errorCodeName(error.code));
  return verdict;
}

std::vector<Verdict> releaseAll(std::size_t count) {
  Verdict release;
  release.settle = Settle::kRelease;
  release.description = "licgate could not process the message; send it again";
  return std::vector<Verdict>(count, release);
}

class ProtonIntakeServer final : public IntakeServer {
 public:
  ProtonIntakeServer(IntakeOptions options, StagedProcessor processor)
      : options_(std::move(options)),
        processor_(std::move(processor)),
        logger_(getLogger("amqp")),
        jobs_(std::max(options_.max_in_flight, options_.max_batch)),
        loop_(options_, counters_, jobs_) {}

  ~ProtonIntakeServer() override { stop(); }

  Status start() override;
  int boundPort() const override { return bound_port_.load(); }
  void stop() override;
  IntakeStats stats() const override;
  void sendOnAttached(const std::string& address, OutboundMessage message,
                      SendCallback done) override;

 private:
  Status makeContainer(const std::string& address, std::function<void(int, std::string)> on_listen);
  void runLoop();
  bool restartContainer();
  void closeDisconnected(pn_proactor_t* proactor);
  void stopContainer();
  void runPrepare();
  void runCommit();
  void prepare(StagedBatch& batch);
  std::vector<Verdict> commit(StagedBatch& batch);
  void postSettlements(std::vector<Job>& jobs, std::vector<Delivery>& deliveries,
                       std::vector<Verdict>& verdicts);

  const IntakeOptions options_;
  const StagedProcessor processor_;
  std::shared_ptr<spdlog::logger> logger_;
  Counters counters_;
  JobQueue<Job> jobs_;
  Handoff<StagedBatch> handoff_;
  IntakeLoop loop_;             // outlives the container, which calls it
  std::mutex container_mutex_;  // guards the next three: the loop may replace the container
  std::unique_ptr<proton::container> container_;
  std::unique_ptr<proton::work_queue> control_;  // destroyed before the container
  bool stopping_ = false;
  std::thread loop_thread_;
  std::thread prepare_thread_;
  std::thread commit_thread_;
  std::promise<void> loop_ended_;
  std::atomic<int> bound_port_{0};
  std::mutex lifecycle_mutex_;
  bool started_ = false;
  bool stopped_ = false;
};

Status ProtonIntakeServer::start() {
  std::lock_guard lock(lifecycle_mutex_);
  if (started_ || stopped_) {
    return stopped_ ? registry::makeError(ErrorCode::kInternal,
                                          "the AMQP intake was stopped and cannot start again")
                    : Status{};
  }
  std::string address = options_.host + ":" + std::to_string(options_.port);
  auto promise = std::make_shared<std::promise<ListenOutcome>>();
  auto reported = std::make_shared<std::atomic<bool>>(false);
  std::future<ListenOutcome> outcome = promise->get_future();
  {
    std::lock_guard container_lock(container_mutex_);
    auto made = makeContainer(address, [promise, reported](int port, std::string error) {
      if (!reported->exchange(true)) {
        promise->set_value(ListenOutcome{port, std::move(error)});
      }
    });
    if (!made.ok()) {
      stopped_ = true;
      return made;
    }
  }
  loop_thread_ = std::thread([this] { runLoop(); });

  std::string failure;
  if (outcome.wait_for(kListenTimeout) != std::future_status::ready) {
    failure = "AMQP listener on " + address + " did not open in time";
  } else if (ListenOutcome listened = outcome.get(); !listened.error.empty()) {
    failure = "cannot listen for AMQP on " + address + ": " + listened.error;
  } else {
    bound_port_ = listened.port;
  }
  if (!failure.empty()) {
    stopContainer();
    loop_thread_.join();
    stopped_ = true;
    return registry::makeError(ErrorCode::kUnavailable, failure);
  }
  prepare_thread_ = std::thread([this] { runPrepare(); });
  commit_thread_ = std::thread([this] { runCommit(); });
  started_ = true;
  logger_->info("AMQP intake listening on {}:{} for {}", options_.host, bound_port_.load(),
                fmt::join(options_.addresses, ", "));
  return {};
}

// The listener reports success or failure asynchronously, on the loop, to
// `on_listen`. The caller holds container_mutex_.
Status ProtonIntakeServer::makeContainer(const std::string& address,
                                         std::function<void(int, std::string)> on_listen) {
  loop_.setListenCallback(std::move(on_listen));
  try {
    container_ = std::make_unique<proton::container>(options_.container_id);
    control_ = std::make_unique<proton::work_queue>(*container_);
    loop_.setListener(container_->listen(address, static_cast<proton::listen_handler&>(loop_)));
  } catch (const std::exception& error) {
    control_.reset();
    container_.reset();
    return registry::makeError(ErrorCode::kUnavailable,
                               "cannot listen for AMQP on " + address + ": " + error.what());
  }
  return {};
}

void ProtonIntakeServer::runLoop() {
  pthread_setname_np(pthread_self(), "amqp-loop");
  for (;;) {
    proton::container* container = nullptr;
    {
      std::lock_guard lock(container_mutex_);
      container = container_.get();
    }
    bool failed = false;
    try {
      container->run();
    } catch (const std::exception& error) {
      logger_->error("AMQP event loop failed: {}", error.what());
      failed = true;
    }
    pn_proactor_t* proactor = loop_.proactor();
    loop_.forgetConnections();
    if (!failed) {
      break;
    }
    if (proactor != nullptr) {
      closeDisconnected(proactor);
    }
    if (!restartContainer()) {
      break;
    }
  }
  loop_ended_.set_value();
}

// A container that failed has asked its proactor to disconnect everything
// but stopped before the proactor could do it, so the sockets would stay
// open, and their senders would wait on them instead of sending again. The
// proactor is run here, without handlers, until it has closed them all.
void ProtonIntakeServer::closeDisconnected(pn_proactor_t* proactor) {
  auto deadline = std::chrono::steady_clock::now() + kShutdownGrace;
  while (std::chrono::steady_clock::now() < deadline) {
    pn_event_batch_t* batch = pn_proactor_get(proactor);
    if (batch == nullptr) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    bool inactive = false;
    while (pn_event_t* event = pn_event_batch_next(batch)) {
      inactive = inactive || pn_event_type(event) == PN_PROACTOR_INACTIVE;
    }
    pn_proactor_done(proactor, batch);
    if (inactive) {
      return;
    }
  }
  logger_->warn("AMQP connections of the failed event loop did not all close");
}

// Proton 0.37 throws inside its own dispatch for some deliveries a peer can
// send (a transfer with no bytes, for one) before any handler of ours runs,
// and that ends the container. A new container on the same port keeps the
// intake serving; the connections of the old one are dropped, and their
// senders send their unsettled deliveries again.
bool ProtonIntakeServer::restartContainer() {
  std::lock_guard lock(container_mutex_);
  if (stopping_) {
    return false;
  }
  control_.reset();
  container_.reset();
  counters_.loop_restarts.fetch_add(1, std::memory_order_relaxed);
  int port = bound_port_.load();
  std::string address = options_.host + ":" + std::to_string(port);
  auto made = makeContainer(address, [this, address](int, std::string error) {
    if (!error.empty()) {
      logger_->error("AMQP intake cannot listen again on {}: {}", address, error);
    }
  });
  if (!made.ok()) {
    logger_->error("AMQP intake stopped for good: {}", made.error().message);
    return false;
  }
  logger_->warn("AMQP event loop restarted on port {}; its connections were dropped", port);
  return true;
}

void ProtonIntakeServer::stopContainer() {
  std::lock_guard lock(container_mutex_);
  stopping_ = true;
  if (container_) {
    container_->stop();
  }
}

// Connections are closed politely first, so senders see their unsettled
// deliveries released; a peer that does not answer the close within
// kShutdownGrace is cut off.
void ProtonIntakeServer::stop() {
  std::lock_guard lock(lifecycle_mutex_);
  if (!started_ || stopped_) {
    return;
  }
  stopped_ = true;
  std::future<void> ended = loop_ended_.get_future();
  bool posted = false;
  {
    std::lock_guard container_lock(container_mutex_);
    stopping_ = true;
    posted = control_ && control_->add([this] { loop_.shutDown(); });
  }
  if (!posted || ended.wait_for(kShutdownGrace) != std::future_status::ready) {
    stopContainer();
  }
  loop_thread_.join();
  jobs_.close();
  handoff_.close();
  prepare_thread_.join();
  commit_thread_.join();
  control_.reset();
  container_.reset();
  logger_->info("AMQP intake on port {} stopped", bound_port_.load());
}

IntakeStats ProtonIntakeServer::stats() const {
  IntakeStats stats;
  stats.received = counters_.received.load();
  stats.accepted = counters_.accepted.load();
  stats.rejected = counters_.rejected.load();
  stats.released = counters_.released.load();
  stats.replies_sent = counters_.replies_sent.load();
  stats.replies_unroutable = counters_.replies_unroutable.load();
  stats.in_flight = counters_.in_flight.load();
  stats.in_flight_peak = counters_.in_flight_peak.load();
  stats.connections = counters_.connections.load();
  stats.loop_restarts = counters_.loop_restarts.load();
  return stats;
}

// A job the container drops unrun (it stopped or failed first) reports the
// message kFailed as it is destroyed (HandedOver).
void ProtonIntakeServer::sendOnAttached(const std::string& address, OutboundMessage message,
                                        SendCallback done) {
  auto send = std::make_shared<HandedOver>(std::move(message), std::move(done),
                                           SteadyClock::now() + options_.settle_timeout);
  bool posted = false;
  {
    std::lock_guard lock(container_mutex_);
    posted = !stopping_ && control_ &&
             control_->add([this, address, send] { loop_.sendOnAttached(address, send); });
  }
  if (!posted) {
    send->fail("the AMQP intake is not running");
  }
}

void ProtonIntakeServer::runPrepare() {
  pthread_setname_np(pthread_self(), "amqp-prepare");
  StagedBatch batch;
  while (handoff_.waitUntilEmpty() &&
         jobs_.popBatch(batch.jobs, std::max<std::size_t>(options_.max_batch, 1))) {
    // A job whose link closed meanwhile cannot be settled; its sender sends
    // it again, so processing it now would be wasted work.
    std::erase_if(batch.jobs, [](const Job& job) { return !job.link_open->load(); });
    if (batch.jobs.empty()) {
      continue;
    }
    batch.deliveries.clear();
    for (Job& job : batch.jobs) {
      batch.deliveries.push_back(std::move(job.delivery));
    }
    prepare(batch);
    if (!handoff_.put(std::move(batch))) {
      return;
    }
    batch = StagedBatch{};
  }
}

void ProtonIntakeServer::runCommit() {
  pthread_setname_np(pthread_self(), "amqp-commit");
  StagedBatch batch;
  while (handoff_.take(batch)) {
    std::vector<Verdict> verdicts = commit(batch);
    for (std::size_t i = 0; i < verdicts.size(); ++i) {
      // A copy of a message applied before keeps its answer, duplicate,
      // whatever is wrong with this copy: the id is what names a message.
      const std::optional<registry::Error>& refused = batch.deliveries[i].refused;
      if (refused && verdicts[i].settle != Settle::kRelease && verdicts[i].outcome != "duplicate") {
        verdicts[i] = refusalVerdict(*refused);
      }
    }
    postSettlements(batch.jobs, batch.deliveries, verdicts);
    batch = StagedBatch{};
  }
}

// A failed first stage is remembered, not retried: the batch is released
// at its turn, after the batches before it have been settled.
void ProtonIntakeServer::prepare(StagedBatch& batch) {
  if (!processor_.prepare) {
    return;
  }
  try {
    batch.prepared = processor_.prepare(batch.deliveries);
  } catch (const std::exception& error) {
    logger_->error("the intake processor failed to prepare {} deliveries, releasing them: {}",
                   batch.deliveries.size(), error.what());
    batch.prepare_failed = true;
  } catch (...) {
    logger_->error("the intake processor failed to prepare {} deliveries, releasing them",
                   batch.deliveries.size());
    batch.prepare_failed = true;
  }
}

// Whatever goes wrong in the processor releases the batch: licgate could not
// decide, and the senders may send again.
std::vector<Verdict> ProtonIntakeServer::commit(StagedBatch& batch) {
  const std::vector<Delivery>& deliveries = batch.deliveries;
  if (batch.prepare_failed) {
    return releaseAll(deliveries.size());
  }
  try {
    std::vector<Verdict> verdicts = processor_.commit(batch.prepared.get(), deliveries);
    if (verdicts.size() == deliveries.size()) {
      return verdicts;
    }
    logger_->error("the intake processor returned {} verdicts for {} deliveries; releasing them",
                   verdicts.size(), deliveries.size());
  } catch (const std::exception& error) {
    logger_->error("the intake processor failed on {} deliveries, releasing them: {}",
                   deliveries.size(), error.what());
  } catch (...) {
    logger_->error("the intake processor failed on {} deliveries, releasing them",
                   deliveries.size());
  }
  return releaseAll(deliveries.size());
}

// Groups the verdicts by connection, keeping their order, and posts one job
// per connection: settling a whole batch costs one wake-up per connection.
void ProtonIntakeServer::postSettlements(std::vector<Job>& jobs, std::vector<Delivery>& deliveries,
                                         std::vector<Verdict>& verdicts) {
  using Batch = std::vector<Settlement>;
  std::vector<std::pair<std::shared_ptr<ConnectionHandle>, std::shared_ptr<Batch>>> groups;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    // The description says why (Redis down, say): the condition alone is
    // only the error's class on the wire.
    logger_->debug("[c{}] message '{}' from '{}': {}{}{}{}{}", jobs[i].connection->id,
                   deliveries[i].message_id, deliveries[i].sender_system,
                   settleName(verdicts[i].settle), verdicts[i].condition.empty() ? "" : " ",
                   verdicts[i].condition, verdicts[i].description.empty() ? "" : ": ",
                   verdicts[i].description);
    auto group = std::find_if(groups.rbegin(), groups.rend(),
                              [&](const auto& entry) { return entry.first == jobs[i].connection; });
    if (group == groups.rend()) {
      groups.emplace_back(jobs[i].connection, std::make_shared<Batch>());
      group = groups.rbegin();
    }
    group->second->push_back(
        Settlement{jobs[i].tag, std::move(verdicts[i]), std::move(deliveries[i].reply_to)});
  }
  for (auto& [handle, batch] : groups) {
    std::lock_guard lock(handle->mutex);
    if (handle->work_queue == nullptr) {
      continue;  // the connection closed: its senders send these again
    }
    handle->work_queue->add(
        [loop = &loop_, handle = handle, batch = batch] { loop->settle(*handle, *batch); });
  }
}

}  // namespace

std::unique_ptr<IntakeServer> makeIntakeServer(IntakeOptions options, StagedProcessor processor) {
  return std::make_unique<ProtonIntakeServer>(std::move(options), std::move(processor));
}

std::unique_ptr<IntakeServer> makeIntakeServer(IntakeOptions options, BatchProcessor processor) {
  StagedProcessor staged;
  staged.commit = [processor = std::move(processor)](PreparedBatch* /*prepared*/,
                                                     const std::vector<Delivery>& deliveries) {
    return processor(deliveries);
  };
  return makeIntakeServer(std::move(options), std::move(staged));
}

}  // namespace licgate::adapters::amqp
