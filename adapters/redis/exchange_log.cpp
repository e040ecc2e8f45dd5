// ExchangeLog on one hiredis connection (adapters/redis/exchange_log.hpp).
//
// Each write is one Lua script, so that a message and its chain, or a
// status and the check that its message was licgate's, never come apart
// (Redis runs a script atomically).
#include "adapters/redis/exchange_log.hpp"

#include <array>
#include <mutex>
#include <string_view>
#include <utility>

#include "adapters/redis/connection.hpp"

namespace licgate::adapters::redis {

using registry::ErrorCode;
using registry::Result;

namespace {

// KEYS: message, chain. ARGV: ttl, message id, licgate id, then the
// message's field/value pairs.
constexpr std::string_view kRecord =
    "local fresh = redis.call('EXISTS', KEYS[1]) == 0 "
    "if fresh then "
    "  redis.call('HSET', KEYS[1], unpack(ARGV, 4)) "
    "  redis.call('HSET', KEYS[2], ARGV[2], ARGV[3]) "
    "end "
    "redis.call('PEXPIRE', KEYS[1], ARGV[1]) "
    "redis.call('PEXPIRE', KEYS[2], ARGV[1]) "
    "if fresh then return 1 else return 0 end";

// KEYS: message. ARGV: ttl, then the status's field/value pairs.
constexpr std::string_view kNoteStatus =
    "if redis.call('HGET', KEYS[1], 'direction') ~= 'sent' then return 0 end "
    "redis.call('HSET', KEYS[1], unpack(ARGV, 2)) "
    "redis.call('PEXPIRE', KEYS[1], ARGV[1]) "
    "return 1";

class RedisExchangeLog final : public ExchangeLog {
 public:
  RedisExchangeLog(const RedisOptions& options, std::int64_t ttl_ms)
      : prefix_(options.key_prefix + "shep:"),
        ttl_ms_(std::to_string(ttl_ms)),
        connection_(options) {}

  Result<bool> record(const ExchangeRecord& record) override;
  Result<std::optional<ExchangeRecord>> find(const std::string& message_id) override;
  Result<std::int64_t> chainLength(const std::string& correlation_id) override;
  Result<bool> noteStatus(const std::string& message_id, const StatusNote& note) override;

 private:
  Result<ReplyPtr> runOne(Words& command);
  Result<bool> runScript(Words& command);

  const std::string prefix_;
  const std::string ttl_ms_;  // as a command argument
  std::mutex mutex_;          // guards connection_
  Connection connection_;
};

Result<ReplyPtr> RedisExchangeLog::runOne(Words& command) {
  std::vector<Words> commands{command};
  std::lock_guard lock(mutex_);
  auto replies = connection_.runPipeline(commands);
  if (!replies.ok()) {
    return replies.takeError();
  }
  return std::move((*replies)[0]);
}

Result<bool> RedisExchangeLog::runScript(Words& command) {
  auto reply = runOne(command);
  if (!reply.ok()) {
    return reply.takeError();
  }
  if ((*reply)->type != REDIS_REPLY_INTEGER) {
    return registry::makeError(ErrorCode::kUnavailable, "Redis at " + connection_.address() +
                                                            " answered a script with something "
                                                            "else than a number");
  }
  return (*reply)->integer == 1;
}

Result<bool> RedisExchangeLog::record(const ExchangeRecord& record) {
  const std::string message_key = prefix_ + "message:" + record.message_id;
  const std::string chain_key = prefix_ + "chain:" + record.correlation_id;
  const std::array<std::pair<std::string_view, const std::string*>, 8> fields{{
      {"message_id", &record.message_id},
      {"correlation_id", &record.correlation_id},
      {"licgate_id", &record.licgate_id},
      {"direction", &record.direction},
      {"sender", &record.sender},
      {"service_id", &record.service_id},
      {"message_type", &record.message_type},
      {"outcome", &record.outcome},
  }};
  Words command;
  command.add("EVAL").add(kRecord).add("2").add(message_key).add(chain_key);
  command.add(ttl_ms_).add(record.message_id).add(record.licgate_id);
  for (const auto& [name, value] : fields) {
    command.add(name).add(*value);
  }
  return runScript(command);
}

Result<bool> RedisExchangeLog::noteStatus(const std::string& message_id, const StatusNote& note) {
  const std::string message_key = prefix_ + "message:" + message_id;
  const std::array<std::pair<std::string_view, const std::string*>, 6> fields{{
      {"notification_id", &note.notification_id},
      {"state", &note.state},
      {"status_code", &note.status_code},
      {"status_message", &note.status_message},
      {"status_date", &note.status_date},
      {"error_code", &note.error_code},
  }};
  Words command;
  command.add("EVAL").add(kNoteStatus).add("1").add(message_key).add(ttl_ms_);
  for (const auto& [name, value] : fields) {
    command.add(name).add(*value);
  }
  return runScript(command);
}

Result<std::optional<ExchangeRecord>> RedisExchangeLog::find(const std::string& message_id) {
  const std::string message_key = prefix_ + "message:" + message_id;
  Words command;
  command.add("HGETALL").add(message_key);
  auto reply = runOne(command);
  if (!reply.ok()) {
    return reply.takeError();
  }
  const redisReply* all = reply->get();
  if (all->type != REDIS_REPLY_ARRAY) {
    return registry::makeError(ErrorCode::kUnavailable, "Redis at " + connection_.address() +
                                                            " answered HGETALL " + message_key +
                                                            " with something else than a list");
  }
  if (all->elements == 0) {
    return std::optional<ExchangeRecord>();
  }
  ExchangeRecord found;
  const std::array<std::pair<std::string_view, std::string*>, 11> fields{{
      {"message_id", &found.message_id},
      {"correlation_id", &found.correlation_id},
      {"licgate_id", &found.licgate_id},
      {"direction", &found.direction},
      {"sender", &found.sender},
      {"service_id", &found.service_id},
      {"message_type", &found.message_type},
      {"outcome", &found.outcome},
      {"state", &found.state},
      {"status_code", &found.status_code},
      {"status_date", &found.status_date},
  }};
  for (std::size_t i = 0; i + 1 < all->elements; i += 2) {
    std::string_view name(all->element[i]->str, all->element[i]->len);
    for (const auto& [field, into] : fields) {
      if (field == name) {
        into->assign(all->element[i + 1]->str, all->element[i + 1]->len);
      }
    }
  }
  return std::optional<ExchangeRecord>(std::move(found));
}

Result<std::int64_t> RedisExchangeLog::chainLength(const std::string& correlation_id) {
  Words command;
  const std::string chain_key = prefix_ + "chain:" + correlation_id;
  command.add("HLEN").add(chain_key);
  auto reply = runOne(command);
  if (!reply.ok()) {
    return reply.takeError();
  }
  if ((*reply)->type != REDIS_REPLY_INTEGER) {
    return registry::makeError(ErrorCode::kUnavailable, "Redis at " + connection_.address() +
                                                            " answered HLEN with something else");
  }
  return static_cast<std::int64_t>((*reply)->integer);
}

}  // namespace

std::unique_ptr<ExchangeLog> makeExchangeLog(const RedisOptions& options, std::int64_t ttl_ms) {
  return std::make_unique<RedisExchangeLog>(options, ttl_ms);
}

}  // namespace licgate::adapters::redis
