// The hand-overs of the AMQP intake: JobQueue between the event loop and
// the prepare thread, Handoff between the prepare and the commit thread.
//
// Bounded so that the worker's backlog has a ceiling whatever happens on the
// connections; push never blocks, because the event loop must not wait for
// the store. The worker takes whatever is queued, up to a batch: a batch is
// never held back to fill up, so one message alone is not delayed.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

namespace licgate::adapters::amqp {

template <typename Job>
class JobQueue {
 public:
  explicit JobQueue(std::size_t capacity) : capacity_(capacity) {}

  // False when the queue is full or closed; the caller keeps the job.
  bool push(Job& job) {
    bool was_empty = false;
    {
      std::lock_guard lock(mutex_);
      if (closed_ || jobs_.size() >= capacity_) {
        return false;
      }
      was_empty = jobs_.empty();
      jobs_.push_back(std::move(job));
    }
    // The worker waits only on an empty queue, so only the first job after
    // it emptied needs to wake it: a futex call per message would cost
    // more than the rest of the hand-over.
    if (was_empty) {
      ready_.notify_one();
    }
    return true;
  }

  // Blocks until there is a job or the queue is closed; moves up to `max`
  // jobs into `out` (cleared first). False once closed: the rest is dropped.
  bool popBatch(std::vector<Job>& out, std::size_t max) {
    out.clear();
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [this] { return closed_ || !jobs_.empty(); });
    if (closed_) {
      return false;
    }
    while (!jobs_.empty() && out.size() < max) {
      out.push_back(std::move(jobs_.front()));
      jobs_.pop_front();
    }
    return true;
  }

  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
      jobs_.clear();
    }
    ready_.notify_all();
  }

 private:
  const std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Job> jobs_;
  bool closed_ = false;
};

// One slot between the two stages of a StagedProcessor
// (intake_server.hpp). The prepare thread waits for the slot to empty
// before it takes its next batch from the JobQueue, so that only one batch
// is ever prepared ahead of the one being committed: deliveries wait in
// the JobQueue meanwhile, and the next batch holds all of them.
template <typename Batch>
class Handoff {
 public:
  // Blocks until the slot is empty. False once closed.
  bool waitUntilEmpty() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return closed_ || !slot_; });
    return !closed_;
  }

  // Fills the slot, waiting for it to empty first. False once closed: the
  // batch is dropped.
  bool put(Batch batch) {
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [this] { return closed_ || !slot_; });
      if (closed_) {
        return false;
      }
      slot_.emplace(std::move(batch));
    }
    changed_.notify_all();
    return true;
  }

  // Blocks until the slot holds a batch and moves it out. False once
  // closed.
  bool take(Batch& out) {
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [this] { return closed_ || slot_; });
      if (closed_) {
        return false;
      }
      out = std::move(*slot_);
      slot_.reset();
    }
    changed_.notify_all();
    return true;
  }

  // Wakes both threads; what the slot held is dropped.
  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
      slot_.reset();
    }
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::optional<Batch> slot_;
  bool closed_ = false;
};

}  // namespace licgate::adapters::amqp
