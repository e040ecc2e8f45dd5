// One hiredis connection (adapters/redis/connection.hpp).
#include "adapters/redis/connection.hpp"

#include <cerrno>

#include "adapters/logger.hpp"

namespace licgate::adapters::redis {

using registry::ErrorCode;
using registry::Result;
using registry::Status;
using Clock = std::chrono::steady_clock;

namespace {

timeval toTimeval(int ms) {
  return timeval{ms / 1000, static_cast<suseconds_t>((ms % 1000) * 1000)};
}

}  // namespace

std::string Words::key() const {
  std::size_t at = argv_.size() > 1 ? 1 : 0;
  return argv_.empty() ? std::string() : std::string(argv_[at], lengths_[at]);
}

bool isStatus(const redisReply* reply, std::string_view text) {
  return reply->type == REDIS_REPLY_STATUS && std::string_view(reply->str, reply->len) == text;
}

Connection::Connection(const RedisOptions& options)
    : options_(options),
      address_(options.host + ":" + std::to_string(options.port)),
      logger_(getLogger("redis")) {}

// hiredis reports a read timeout as an I/O error with EAGAIN.
std::string Connection::describeReadFailure() const {
  if (context_->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    return "no reply within " + std::to_string(options_.timeout_ms) + " ms";
  }
  return std::string("no reply: ") + context_->errstr;
}

// Connects when there is no connection, but not more often than
// retry_after_ms: while Redis is down each call fails at once instead of
// waiting for a connect timeout.
Status Connection::connectIfNeeded() {
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
    logger_->debug("Redis at {} is reachable again", address_);
    reported_down_ = false;
  }
  return {};
}

// Forgets the connection (the next call reconnects) and returns the error
// the caller passes on. Logged at debug, once per outage: the gateway warns
// of the outage (gateway/redis_health.hpp), with its metric.
Status Connection::dropConnection(const std::string& why) {
  context_.reset();
  if (!reported_down_) {
    logger_->debug("Redis at {} unavailable: {}", address_, why);
    reported_down_ = true;
  }
  return registry::makeError(ErrorCode::kUnavailable, "Redis at " + address_ + ": " + why);
}

// Sends every command, then reads every reply; error replies are left to
// the caller.
Result<std::vector<ReplyPtr>> Connection::exchange(std::vector<Words>& commands) {
  LICGATE_RETURN_IF_ERROR(connectIfNeeded());
  for (Words& words : commands) {
    if (redisAppendCommandArgv(context_.get(), words.count(), words.argv(), words.lengths()) !=
        REDIS_OK) {
      return dropConnection(std::string("cannot queue a command: ") + context_->errstr).takeError();
    }
  }
  std::vector<ReplyPtr> replies;
  replies.reserve(commands.size());
  for (std::size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(context_.get(), &raw) != REDIS_OK) {
      return dropConnection(describeReadFailure()).takeError();
    }
    replies.emplace_back(static_cast<redisReply*>(raw));
  }
  return replies;
}

Result<std::vector<ReplyPtr>> Connection::runPipeline(std::vector<Words>& commands) {
  auto replies = exchange(commands);
  if (!replies.ok()) {
    return replies.takeError();
  }
  for (std::size_t i = 0; i < replies->size(); ++i) {
    const redisReply* reply = (*replies)[i].get();
    if (reply->type == REDIS_REPLY_ERROR) {
      return registry::makeError(ErrorCode::kUnavailable, "Redis at " + address_ +
                                                              " refused the command for key " +
                                                              commands[i].key() + ": " +
                                                              std::string(reply->str, reply->len));
    }
  }
  return replies;
}

Status Connection::loadScript(Script& script) {
  std::vector<Words> command(1);
  command[0].add("SCRIPT").add("LOAD").add(script.source_);
  auto replies = runPipeline(command);
  if (!replies.ok()) {
    return replies.takeError();
  }
  const redisReply* reply = (*replies)[0].get();
  if (reply->type != REDIS_REPLY_STRING) {
    return registry::makeError(
        ErrorCode::kUnavailable,
        "Redis at " + address_ + " answered SCRIPT LOAD with something else");
  }
  script.sha1_.assign(reply->str, reply->len);
  return {};
}

Result<ReplyPtr> Connection::runScript(Script& script, const Words& arguments) {
  if (script.sha1_.empty()) {
    LICGATE_RETURN_IF_ERROR(loadScript(script));
  }
  for (int round = 0;; ++round) {
    std::vector<Words> command(1);
    command[0].add("EVALSHA").add(script.sha1_).append(arguments);
    auto replies = exchange(command);
    if (!replies.ok()) {
      return replies.takeError();
    }
    ReplyPtr reply = std::move((*replies)[0]);
    if (reply->type != REDIS_REPLY_ERROR) {
      return reply;
    }
    std::string_view text(reply->str, reply->len);
    if (round == 0 && text.starts_with("NOSCRIPT")) {
      LICGATE_RETURN_IF_ERROR(loadScript(script));
      continue;
    }
    return registry::makeError(ErrorCode::kUnavailable,
                               "Redis at " + address_ + " failed a script: " + std::string(text));
  }
}

Status Connection::ping() {
  std::vector<Words> command(1);
  command[0].add("PING");
  auto replies = runPipeline(command);
  if (!replies.ok()) {
    return replies.takeError();
  }
  if (!isStatus((*replies)[0].get(), "PONG")) {
    return registry::makeError(ErrorCode::kUnavailable,
                               "Redis at " + address_ + " answered PING with something else");
  }
  return {};
}

}  // namespace licgate::adapters::redis
