// One hiredis connection as the Redis adapters use it: connected on first
// use, reconnected after a failure but not more often than retry_after_ms,
// commands sent as pipelines of argument vectors. Internal to
// adapters/redis: its callers wrap it behind interfaces of their own.
//
// Blocking: every call waits for Redis up to the configured timeout. Not
// thread-safe: the owner guards it (each adapter holds one mutex per
// connection).
#pragma once

#include <hiredis/hiredis.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <spdlog/logger.h>

#include "adapters/redis/seen_ids.hpp"
#include "registry/result.hpp"

namespace licgate::adapters::redis {

struct ReplyFree {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyFree>;

struct ContextFree {
  void operator()(redisContext* context) const { redisFree(context); }
};
using ContextPtr = std::unique_ptr<redisContext, ContextFree>;

// The words of one command: arguments as (pointer, length) pairs, so no
// format string is parsed per key, which showed in profiles of large
// batches. The words are not copied: what they point at must outlive the
// pipeline that sends them.
class Words {
 public:
  Words() {
    argv_.reserve(6);
    lengths_.reserve(6);
  }

  Words& add(std::string_view word) {
    argv_.push_back(word.data());
    lengths_.push_back(word.size());
    return *this;
  }
  // Every word of `other`, after these (its words are not copied either).
  Words& append(const Words& other) {
    argv_.insert(argv_.end(), other.argv_.begin(), other.argv_.end());
    lengths_.insert(lengths_.end(), other.lengths_.begin(), other.lengths_.end());
    return *this;
  }
  int count() const { return static_cast<int>(argv_.size()); }
  const char** argv() { return argv_.data(); }
  const std::size_t* lengths() const { return lengths_.data(); }
  // The second word (a command's key), or the first when there is one.
  std::string key() const;

 private:
  std::vector<const char*> argv_;
  std::vector<std::size_t> lengths_;
};

bool isStatus(const redisReply* reply, std::string_view text);

// A Lua script run by EVALSHA, so that a call sends the script's 40-digit
// SHA-1 instead of its text. Redis computes the SHA-1 when the script is
// loaded; it forgets its scripts when it restarts (or on SCRIPT FLUSH),
// and Connection::runScript loads the script again then. Not thread-safe:
// owned beside the Connection, under the same mutex.
class Script {
 public:
  explicit Script(std::string source) : source_(std::move(source)) {}

  const std::string& source() const { return source_; }

 private:
  friend class Connection;

  std::string source_;
  std::string sha1_;  // empty until the first SCRIPT LOAD
};

class Connection {
 public:
  explicit Connection(const RedisOptions& options);

  // "host:port", for messages.
  const std::string& address() const { return address_; }

  // Sends every command, then reads every reply: one round trip. A reply
  // that is an error fails the whole pipeline, naming the command's key.
  // Errors: kUnavailable (no connection, a timeout, an error reply).
  registry::Result<std::vector<ReplyPtr>> runPipeline(std::vector<Words>& commands);

  // EVALSHA of `script` with `arguments` (numkeys, the keys, then ARGV):
  // loads the script first when it is not known yet, and again (then runs
  // it once more) when Redis answers NOSCRIPT, which it does before running
  // anything. Errors: kUnavailable (as runPipeline, and for an error the
  // script raised).
  registry::Result<ReplyPtr> runScript(Script& script, const Words& arguments);

  // PING. Errors: kUnavailable when Redis does not answer PONG.
  registry::Status ping();

 private:
  registry::Status connectIfNeeded();
  registry::Result<std::vector<ReplyPtr>> exchange(std::vector<Words>& commands);
  registry::Status loadScript(Script& script);
  registry::Status dropConnection(const std::string& why);
  std::string describeReadFailure() const;

  const RedisOptions options_;
  const std::string address_;
  std::shared_ptr<spdlog::logger> logger_;
  ContextPtr context_;
  std::chrono::steady_clock::time_point next_attempt_{};
  bool reported_down_ = false;
};

}  // namespace licgate::adapters::redis
