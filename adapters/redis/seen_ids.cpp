// SeenIds on hiredis' synchronous API: one connection, pipelined commands.
//
// Thread-safety: every call takes one mutex for its whole round trip, so
// callers on several threads share the connection one batch at a time.
// Claims are pipelined per batch, which keeps the lock short compared with
// the store transaction that follows it.
#include "adapters/redis/seen_ids.hpp"

#include <hiredis/hiredis.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <mutex>
#include <random>
#include <string_view>

#include "adapters/logger.hpp"

namespace licgate::adapters::redis {

using registry::ErrorCode;
using registry::Result;
using registry::Status;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::string_view kAppliedValue = "applied";

struct ReplyFree {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyFree>;

struct ContextFree {
  void operator()(redisContext* context) const { redisFree(context); }
};
using ContextPtr = std::unique_ptr<redisContext, ContextFree>;

timeval toTimeval(int ms) {
  return timeval{ms / 1000, static_cast<suseconds_t>((ms % 1000) * 1000)};
}

// 128 random bits as hex: two processes never share a claim token, so a
// claim left by a crashed process is never mistaken for our own.
std::string makeToken() {
  std::random_device device;
  std::mt19937_64 engine((static_cast<std::uint64_t>(device()) << 32) ^ device());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token;
  for (int half = 0; half < 2; ++half) {
    std::uint64_t bits = engine();
    for (int nibble = 0; nibble < 16; ++nibble) {
      token.push_back(kHex[bits & 0xF]);
      bits >>= 4;
    }
  }
  return token;
}

enum class Command : std::uint8_t { kClaim, kMarkApplied, kRead };

bool isStatus(const redisReply* reply, std::string_view text) {
  return reply->type == REDIS_REPLY_STATUS && std::string_view(reply->str, reply->len) == text;
}

class RedisSeenIds final : public SeenIds {
 public:
  explicit RedisSeenIds(const RedisOptions& options)
      : options_(options),
        address_(options.host + ":" + std::to_string(options.port)),
        token_(makeToken()),
        lease_ms_(std::to_string(options.lease_ms)),
        applied_ttl_ms_(std::to_string(options.applied_ttl_ms)),
        logger_(getLogger("redis")) {}

  Result<std::vector<Claim>> claim(const std::vector<MessageKey>& keys) override;
  Status markApplied(const std::vector<MessageKey>& keys) override;
  Status ping() override;

 private:
  Status connectIfNeeded();
  Result<std::vector<ReplyPtr>> runPipeline(Command command, const std::vector<std::string>& keys);
  int appendCommand(Command command, const std::string& key);
  Status dropConnection(const std::string& why);
  std::string keyOf(const MessageKey& key) const;
  std::string describeReadFailure() const;

  const RedisOptions options_;
  const std::string address_;
  const std::string token_;
  const std::string lease_ms_;  // the expiries as command arguments
  const std::string applied_ttl_ms_;
  std::shared_ptr<spdlog::logger> logger_;

  std::mutex mutex_;  // guards everything below
  ContextPtr context_;
  Clock::time_point next_attempt_{};
  bool reported_down_ = false;
};

std::string RedisSeenIds::keyOf(const MessageKey& key) const {
  std::string text;
  text.reserve(options_.key_prefix.size() + key.sender_system.size() + key.message_id.size() + 7);
  text.append(options_.key_prefix).append("seen:").append(key.sender_system);
  text.append(":").append(key.message_id);
  return text;
}

// hiredis reports a read timeout as an I/O error with EAGAIN.
std::string RedisSeenIds::describeReadFailure() const {
  if (context_->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    return "no reply within " + std::to_string(options_.timeout_ms) + " ms";
  }
  return std::string("no reply: ") + context_->errstr;
}

// Connects when there is no connection, but not more often than
// retry_after_ms: while Redis is down each call fails at once instead of
// waiting for a connect timeout.
Status RedisSeenIds::connectIfNeeded() {
  if (context_) {
    return {};
  }
  Clock::time_point now = Clock::now();
  if (now < next_attempt_) {
    return registry::makeError(
        ErrorCode::kUnavailable,
        "Redis at " + address_ + " is unavailable; next attempt in " +
            std::to_string(
                std::chrono::duration_cast<std::chrono::milliseconds>(next_attempt_ - now)
                    .count()) +
            " ms");
  }
  ContextPtr context(redisConnectWithTimeout(options_.host.c_str(), options_.port,
                                             toTimeval(options_.timeout_ms)));
  if (!context || context->err != 0) {
    next_attempt_ = now + std::chrono::milliseconds(options_.retry_after_ms);
    std::string why = context ? context->errstr : "out of memory";
    return dropConnection("cannot connect: " + why);
  }
  if (redisSetTimeout(context.get(), toTimeval(options_.timeout_ms)) != REDIS_OK) {
    next_attempt_ = now + std::chrono::milliseconds(options_.retry_after_ms);
    return dropConnection("cannot set the timeout");
  }
  context_ = std::move(context);
  if (reported_down_) {
    logger_->info("Redis at {} is reachable again", address_);
    reported_down_ = false;
  }
  return {};
}

// Forgets the connection (the next call reconnects) and returns the error
// the caller passes on. Warns once per outage, not once per call.
Status RedisSeenIds::dropConnection(const std::string& why) {
  context_.reset();
  if (!reported_down_) {
    logger_->warn("Redis at {} unavailable: {}", address_, why);
    reported_down_ = true;
  }
  return registry::makeError(ErrorCode::kUnavailable, "Redis at " + address_ + ": " + why);
}

// Arguments as (pointer, length) pairs: no format string to parse per key,
// which showed in profiles of large batches.
int RedisSeenIds::appendCommand(Command command, const std::string& key) {
  static constexpr std::string_view kSet = "SET";
  static constexpr std::string_view kGet = "GET";
  static constexpr std::string_view kNx = "NX";
  static constexpr std::string_view kPx = "PX";
  std::array<std::string_view, 6> words;
  std::size_t count = 0;
  switch (command) {
    case Command::kClaim:
      words = {kSet, key, token_, kNx, kPx, lease_ms_};
      count = 6;
      break;
    case Command::kMarkApplied:
      words = {kSet, key, kAppliedValue, kPx, applied_ttl_ms_};
      count = 5;
      break;
    case Command::kRead:
      words = {kGet, key};
      count = 2;
      break;
  }
  std::array<const char*, 6> argv{};
  std::array<std::size_t, 6> lengths{};
  for (std::size_t i = 0; i < count; ++i) {
    argv[i] = words[i].data();
    lengths[i] = words[i].size();
  }
  return redisAppendCommandArgv(context_.get(), static_cast<int>(count), argv.data(),
                                lengths.data());
}

// Sends one command per key and then reads all the replies: one round trip
// for the batch. A reply that is an error fails the whole batch.
Result<std::vector<ReplyPtr>> RedisSeenIds::runPipeline(Command command,
                                                        const std::vector<std::string>& keys) {
  LICGATE_RETURN_IF_ERROR(connectIfNeeded());
  for (const std::string& key : keys) {
    if (appendCommand(command, key) != REDIS_OK) {
      return dropConnection(std::string("cannot queue a command: ") + context_->errstr).takeError();
    }
  }
  std::vector<ReplyPtr> replies;
  replies.reserve(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(context_.get(), &raw) != REDIS_OK) {
      return dropConnection(describeReadFailure()).takeError();
    }
    replies.emplace_back(static_cast<redisReply*>(raw));
  }
  for (std::size_t i = 0; i < replies.size(); ++i) {
    if (replies[i]->type == REDIS_REPLY_ERROR) {
      return registry::makeError(ErrorCode::kUnavailable,
                                 "Redis at " + address_ + " refused the command for key " +
                                     keys[i] + ": " +
                                     std::string(replies[i]->str, replies[i]->len));
    }
  }
  return replies;
}

// Round one: SET NX claims every key that nobody holds. Round two reads the
// keys that were held, to tell "applied before" from "in work elsewhere".
Result<std::vector<Claim>> RedisSeenIds::claim(const std::vector<MessageKey>& keys) {
  std::vector<Claim> claims(keys.size(), Claim::kNew);
  if (keys.empty()) {
    return claims;
  }
  std::vector<std::string> names;
  names.reserve(keys.size());
  for (const MessageKey& key : keys) {
    names.push_back(keyOf(key));
  }

  std::lock_guard lock(mutex_);
  auto set_replies = runPipeline(Command::kClaim, names);
  if (!set_replies.ok()) {
    return set_replies.takeError();
  }
  std::vector<std::size_t> held;
  std::vector<std::string> held_names;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (!isStatus((*set_replies)[i].get(), "OK")) {
      held.push_back(i);
      held_names.push_back(names[i]);
    }
  }
  if (held.empty()) {
    return claims;
  }

  auto get_replies = runPipeline(Command::kRead, held_names);
  if (!get_replies.ok()) {
    return get_replies.takeError();
  }
  for (std::size_t j = 0; j < held.size(); ++j) {
    const redisReply* reply = (*get_replies)[j].get();
    bool applied = reply->type == REDIS_REPLY_STRING &&
                   std::string_view(reply->str, reply->len) == kAppliedValue;
    // A nil here means the lease expired between the rounds: the store
    // decides, which is always safe.
    claims[held[j]] = applied ? Claim::kApplied : Claim::kHeldElsewhere;
  }
  return claims;
}

Status RedisSeenIds::markApplied(const std::vector<MessageKey>& keys) {
  if (keys.empty()) {
    return {};
  }
  std::vector<std::string> names;
  names.reserve(keys.size());
  for (const MessageKey& key : keys) {
    names.push_back(keyOf(key));
  }

  std::lock_guard lock(mutex_);
  auto replies = runPipeline(Command::kMarkApplied, names);
  if (!replies.ok()) {
    return replies.takeError();
  }
  return {};
}

Status RedisSeenIds::ping() {
  std::lock_guard lock(mutex_);
  LICGATE_RETURN_IF_ERROR(connectIfNeeded());
  ReplyPtr reply(static_cast<redisReply*>(redisCommand(context_.get(), "PING")));
  if (!reply) {
    return dropConnection(describeReadFailure());
  }
  if (!isStatus(reply.get(), "PONG")) {
    return registry::makeError(ErrorCode::kUnavailable,
                               "Redis at " + address_ + " answered PING with something else");
  }
  return {};
}

}  // namespace

std::unique_ptr<SeenIds> makeSeenIds(const RedisOptions& options) {
  return std::make_unique<RedisSeenIds>(options);
}

}  // namespace licgate::adapters::redis
