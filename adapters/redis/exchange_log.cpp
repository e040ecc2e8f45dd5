// ExchangeLog on one hiredis connection (adapters/redis/exchange_log.hpp).
//
// Each write is one Lua script, so that a message and its chain, a request
// and its queued answer, or a status and the check that its message was
// licgate's, never come apart (Redis runs a script atomically).
#include "adapters/redis/exchange_log.hpp"

#include <array>
#include <charconv>
#include <mutex>
#include <string_view>
#include <utility>

#include "adapters/logger.hpp"
#include "adapters/redis/connection.hpp"

namespace licgate::adapters::redis {

using registry::ErrorCode;
using registry::Result;
using registry::Status;

namespace {

// KEYS: message, chain. ARGV: ttl, the message's field in its chain,
// licgate's id, then the message's field/value pairs. Returns the record
// kept, or nothing when this one is the first.
constexpr std::string_view kRecord =
    "local kept = {} "
    "if redis.call('EXISTS', KEYS[1]) == 0 then "
    "  redis.call('HSET', KEYS[1], unpack(ARGV, 4)) "
    "  redis.call('HSET', KEYS[2], ARGV[2], ARGV[3]) "
    "else kept = redis.call('HGETALL', KEYS[1]) end "
    "redis.call('PEXPIRE', KEYS[1], ARGV[1]) "
    "redis.call('PEXPIRE', KEYS[2], ARGV[1]) "
    "return kept";

// KEYS: message, chain, outbox, out. ARGV: ttl, the message's field in its
// chain, licgate's id, the reply's licgate id, its due time, the number N
// of the message's field/value words, those words, then the reply's
// field/value pairs. Returns as kRecord.
constexpr std::string_view kRecordAndEnqueue =
    "local kept = {} "
    "if redis.call('EXISTS', KEYS[1]) == 0 then "
    "  local n = tonumber(ARGV[6]) "
    "  redis.call('HSET', KEYS[1], unpack(ARGV, 7, 6 + n)) "
    "  redis.call('HSET', KEYS[2], ARGV[2], ARGV[3]) "
    "  redis.call('HSET', KEYS[4], unpack(ARGV, 7 + n)) "
    "  redis.call('ZADD', KEYS[3], ARGV[5], ARGV[4]) "
    "else kept = redis.call('HGETALL', KEYS[1]) end "
    "redis.call('PEXPIRE', KEYS[1], ARGV[1]) "
    "redis.call('PEXPIRE', KEYS[2], ARGV[1]) "
    "return kept";

// KEYS: message. ARGV: outcome.
constexpr std::string_view kSetOutcome =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end "
    "redis.call('HSET', KEYS[1], 'outcome', ARGV[1]) "
    "return 1";

// KEYS: sent message. ARGV: ttl, state, the notification's time, then the
// status's field/value pairs. 0: unknown; 2: stale (older than the status
// kept, or "on delivery" after a final state); 1: kept.
constexpr std::string_view kNoteStatus =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end "
    "local state = redis.call('HGET', KEYS[1], 'state') "
    "local at = tonumber(redis.call('HGET', KEYS[1], 'notified_ms') or '-1') "
    "local final = state == 'DELIVERED' or state == 'NOT_DELIVERED' or "
    "  state == 'DELIVERY_STOPPED' "
    "if (final and ARGV[2] == 'ON_DELIVERY') or tonumber(ARGV[3]) < at then return 2 end "
    "redis.call('HSET', KEYS[1], 'notified_ms', ARGV[3], unpack(ARGV, 4)) "
    "redis.call('PEXPIRE', KEYS[1], ARGV[1]) "
    "return 1";

// KEYS: sent message, chain, outbox, out. ARGV: ttl, the message's field in
// its chain, licgate's id, then the message's field/value pairs.
constexpr std::string_view kMarkSent =
    "redis.call('ZREM', KEYS[3], ARGV[3]) "
    "redis.call('DEL', KEYS[4], KEYS[1]) "
    "redis.call('HSET', KEYS[1], unpack(ARGV, 4)) "
    "redis.call('HSET', KEYS[2], ARGV[2], ARGV[3]) "
    "redis.call('PEXPIRE', KEYS[1], ARGV[1]) "
    "redis.call('PEXPIRE', KEYS[2], ARGV[1]) "
    "return 1";

// KEYS: outbox, out. ARGV: licgate id, due, then the hash's field/value
// pairs.
constexpr std::string_view kEnqueue =
    "redis.call('HSET', KEYS[2], unpack(ARGV, 3)) "
    "redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1]) "
    "return 1";

// KEYS: outbox. ARGV: now, lease end, the prefix of the out hashes. The
// hash's key is made from the member found, which only a script can do
// atomically with the claim (so licgate's Redis must not be a cluster).
// Returns {id, fields}, {id} for a member whose hash is gone (dropped), or
// 0 when nothing is due.
constexpr std::string_view kClaimDue =
    "local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 1) "
    "if #due == 0 then return 0 end "
    "local key = ARGV[3] .. due[1] "
    "if redis.call('EXISTS', key) == 0 then "
    "  redis.call('ZREM', KEYS[1], due[1]) return {due[1]} end "
    "redis.call('ZADD', KEYS[1], ARGV[2], due[1]) "
    "redis.call('HINCRBY', key, 'attempts', 1) "
    "return {due[1], redis.call('HGETALL', key)}";

// KEYS: outbox, out. ARGV: licgate id, due, error. A message given up or
// sent meanwhile stays out.
constexpr std::string_view kRetryAt =
    "if redis.call('ZSCORE', KEYS[1], ARGV[1]) == false then return 0 end "
    "redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1]) "
    "redis.call('HSET', KEYS[2], 'last_error', ARGV[3]) "
    "return 1";

// KEYS: outbox, out, failed. ARGV: licgate id, error, ttl.
constexpr std::string_view kGiveUp =
    "redis.call('ZREM', KEYS[1], ARGV[1]) "
    "if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end "
    "redis.call('HSET', KEYS[2], 'last_error', ARGV[2]) "
    "redis.call('RENAME', KEYS[2], KEYS[3]) "
    "redis.call('PEXPIRE', KEYS[3], ARGV[3]) "
    "return 1";

constexpr std::size_t kRecordWords = 16;  // addRecordFields' 8 pairs

// A received message's name in keys and chains: "received:<length of the
// sender>:<sender>:<id>", so that no sender and id with colons in them can
// name another pair's message.
std::string receivedField(const std::string& sender, const std::string& id) {
  return "received:" + std::to_string(sender.size()) + ":" + sender + ":" + id;
}

// The record's fields as the hash keeps them.
void addRecordFields(Words& command, const ExchangeRecord& record) {
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
  for (const auto& [name, value] : fields) {
    command.add(name).add(*value);
  }
}

// The fields of an outbound message's hash; `attempts` is its text.
void addOutboundFields(Words& command, const OutboundMessage& message,
                       const std::string& attempts) {
  command.add("answer").add(message.answer);
  command.add("correlation_id").add(message.correlation_id);
  command.add("service_id").add(message.service_id);
  command.add("message_type").add(message.message_type);
  command.add("message_date").add(message.message_date);
  command.add("attempts").add(attempts);
  command.add("last_error").add(message.last_error);
}

std::string_view textOf(const redisReply* reply) {
  return reply->type == REDIS_REPLY_STRING ? std::string_view(reply->str, reply->len)
                                           : std::string_view();
}

// A hash as HGETALL gives it (name, value, name, value, ...), read into a
// record; an empty list is no record.
std::optional<ExchangeRecord> recordOf(const redisReply* all) {
  if (all->type != REDIS_REPLY_ARRAY || all->elements == 0) {
    return std::nullopt;
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
    std::string_view name = textOf(all->element[i]);
    for (const auto& [field, into] : fields) {
      if (field == name) {
        into->assign(textOf(all->element[i + 1]));
      }
    }
  }
  return found;
}

void readOutboundField(std::string_view name, std::string value, OutboundMessage& message) {
  if (name == "answer") {
    message.answer = std::move(value);
  } else if (name == "correlation_id") {
    message.correlation_id = std::move(value);
  } else if (name == "service_id") {
    message.service_id = std::move(value);
  } else if (name == "message_type") {
    message.message_type = std::move(value);
  } else if (name == "message_date") {
    message.message_date = std::move(value);
  } else if (name == "attempts") {
    std::from_chars(value.data(), value.data() + value.size(), message.attempts);
  } else if (name == "last_error") {
    message.last_error = std::move(value);
  }
}

class RedisExchangeLog final : public ExchangeLog {
 public:
  RedisExchangeLog(const RedisOptions& options, std::int64_t ttl_ms)
      : prefix_(options.key_prefix + "shep:"),
        outbox_key_(prefix_ + "outbox"),
        out_prefix_(prefix_ + "out:"),
        ttl_ms_(std::to_string(ttl_ms)),
        connection_(options) {}

  Result<std::optional<ExchangeRecord>> record(const ExchangeRecord& record) override;
  Status setOutcome(const std::string& sender, const std::string& message_id,
                    const std::string& outcome) override;
  Result<std::optional<ExchangeRecord>> findReceived(const std::string& sender,
                                                     const std::string& message_id) override;
  Result<std::optional<ExchangeRecord>> findSent(const std::string& message_id) override;
  Result<std::int64_t> chainLength(const std::string& correlation_id) override;
  Result<StatusNoted> noteStatus(const std::string& message_id, const StatusNote& note) override;
  Result<std::optional<ExchangeRecord>> recordAndEnqueue(const ExchangeRecord& received,
                                                         const OutboundMessage& reply,
                                                         std::int64_t due_ms) override;
  Status enqueue(const OutboundMessage& message, std::int64_t due_ms) override;
  Result<std::optional<OutboundMessage>> claimDue(std::int64_t now_ms,
                                                  std::int64_t lease_ms) override;
  Status markSent(const OutboundMessage& message, const std::string& message_id) override;
  Status retryAt(const std::string& licgate_id, std::int64_t due_ms,
                 const std::string& error) override;
  Status giveUp(const std::string& licgate_id, const std::string& error) override;
  Result<std::int64_t> outboxSize() override;

 private:
  std::string receivedKey(const std::string& sender, const std::string& id) const {
    return prefix_ + receivedField(sender, id);
  }
  std::string sentKey(const std::string& id) const { return prefix_ + "sent:" + id; }
  std::string chainKey(const std::string& id) const { return prefix_ + "chain:" + id; }

  Result<ReplyPtr> runOne(Words& command);
  Result<std::int64_t> runInteger(Words& command, std::string_view what);
  Status runScript(Words& command);
  Result<std::optional<ExchangeRecord>> runRecordScript(Words& command);
  Result<std::optional<ExchangeRecord>> findAt(const std::string& key);

  const std::string prefix_;
  const std::string outbox_key_;
  const std::string out_prefix_;
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

Result<std::int64_t> RedisExchangeLog::runInteger(Words& command, std::string_view what) {
  auto reply = runOne(command);
  if (!reply.ok()) {
    return reply.takeError();
  }
  if ((*reply)->type != REDIS_REPLY_INTEGER) {
    return registry::makeError(ErrorCode::kUnavailable, "Redis at " + connection_.address() +
                                                            " answered " + std::string(what) +
                                                            " with something else than a number");
  }
  return static_cast<std::int64_t>((*reply)->integer);
}

Status RedisExchangeLog::runScript(Words& command) {
  auto result = runInteger(command, "a script");
  return result.ok() ? Status() : Status(result.takeError());
}

Result<std::optional<ExchangeRecord>> RedisExchangeLog::runRecordScript(Words& command) {
  auto reply = runOne(command);
  if (!reply.ok()) {
    return reply.takeError();
  }
  if ((*reply)->type != REDIS_REPLY_ARRAY) {
    return registry::makeError(
        ErrorCode::kUnavailable,
        "Redis at " + connection_.address() + " answered the record's script with something else");
  }
  return recordOf(reply->get());
}

Result<std::optional<ExchangeRecord>> RedisExchangeLog::record(const ExchangeRecord& record) {
  const std::string message_key = receivedKey(record.sender, record.message_id);
  const std::string chain_key = chainKey(record.correlation_id);
  const std::string field = receivedField(record.sender, record.message_id);
  Words command;
  command.add("EVAL").add(kRecord).add("2").add(message_key).add(chain_key);
  command.add(ttl_ms_).add(field).add(record.licgate_id);
  addRecordFields(command, record);
  return runRecordScript(command);
}

Result<std::optional<ExchangeRecord>> RedisExchangeLog::recordAndEnqueue(
    const ExchangeRecord& received, const OutboundMessage& reply, std::int64_t due_ms) {
  const std::string message_key = receivedKey(received.sender, received.message_id);
  const std::string chain_key = chainKey(received.correlation_id);
  const std::string field = receivedField(received.sender, received.message_id);
  const std::string out_key = out_prefix_ + reply.licgate_id;
  const std::string due = std::to_string(due_ms);
  const std::string attempts = std::to_string(reply.attempts);
  const std::string record_words = std::to_string(kRecordWords);
  Words command;
  command.add("EVAL").add(kRecordAndEnqueue).add("4").add(message_key).add(chain_key);
  command.add(outbox_key_).add(out_key);
  command.add(ttl_ms_).add(field).add(received.licgate_id);
  command.add(reply.licgate_id).add(due).add(record_words);
  addRecordFields(command, received);
  addOutboundFields(command, reply, attempts);
  return runRecordScript(command);
}

Status RedisExchangeLog::setOutcome(const std::string& sender, const std::string& message_id,
                                    const std::string& outcome) {
  const std::string message_key = receivedKey(sender, message_id);
  Words command;
  command.add("EVAL").add(kSetOutcome).add("1").add(message_key).add(outcome);
  return runScript(command);
}

Result<StatusNoted> RedisExchangeLog::noteStatus(const std::string& message_id,
                                                 const StatusNote& note) {
  const std::string message_key = sentKey(message_id);
  const std::string notified = std::to_string(note.notified_ms);
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
  command.add(note.state).add(notified);
  for (const auto& [name, value] : fields) {
    command.add(name).add(*value);
  }
  auto result = runInteger(command, "a script");
  if (!result.ok()) {
    return result.takeError();
  }
  return *result == 1 ? StatusNoted::kNoted
                      : (*result == 2 ? StatusNoted::kStale : StatusNoted::kUnknown);
}

Result<std::optional<ExchangeRecord>> RedisExchangeLog::findAt(const std::string& key) {
  Words command;
  command.add("HGETALL").add(key);
  auto reply = runOne(command);
  if (!reply.ok()) {
    return reply.takeError();
  }
  return recordOf(reply->get());
}

Result<std::optional<ExchangeRecord>> RedisExchangeLog::findReceived(
    const std::string& sender, const std::string& message_id) {
  return findAt(receivedKey(sender, message_id));
}

Result<std::optional<ExchangeRecord>> RedisExchangeLog::findSent(const std::string& message_id) {
  return findAt(sentKey(message_id));
}

Result<std::int64_t> RedisExchangeLog::chainLength(const std::string& correlation_id) {
  const std::string key = chainKey(correlation_id);
  Words command;
  command.add("HLEN").add(key);
  return runInteger(command, "HLEN");
}

Status RedisExchangeLog::enqueue(const OutboundMessage& message, std::int64_t due_ms) {
  const std::string out_key = out_prefix_ + message.licgate_id;
  const std::string due = std::to_string(due_ms);
  const std::string attempts = std::to_string(message.attempts);
  Words command;
  command.add("EVAL").add(kEnqueue).add("2").add(outbox_key_).add(out_key);
  command.add(message.licgate_id).add(due);
  addOutboundFields(command, message, attempts);
  return runScript(command);
}

Result<std::optional<OutboundMessage>> RedisExchangeLog::claimDue(std::int64_t now_ms,
                                                                  std::int64_t lease_ms) {
  const std::string now = std::to_string(now_ms);
  const std::string lease_end = std::to_string(now_ms + lease_ms);
  Words command;
  command.add("EVAL").add(kClaimDue).add("1").add(outbox_key_).add(now).add(lease_end);
  command.add(out_prefix_);
  auto reply = runOne(command);
  if (!reply.ok()) {
    return reply.takeError();
  }
  const redisReply* claimed = reply->get();
  if (claimed->type == REDIS_REPLY_INTEGER) {
    return std::optional<OutboundMessage>();
  }
  if (claimed->type == REDIS_REPLY_ARRAY && claimed->elements == 1) {
    getLogger("redis")->warn("outbox: {} had no message behind it and was dropped",
                             textOf(claimed->element[0]));
    return std::optional<OutboundMessage>();
  }
  if (claimed->type != REDIS_REPLY_ARRAY || claimed->elements != 2 ||
      claimed->element[1]->type != REDIS_REPLY_ARRAY) {
    return registry::makeError(
        ErrorCode::kUnavailable,
        "Redis at " + connection_.address() + " answered the outbox's claim with something else");
  }
  OutboundMessage message;
  message.licgate_id = textOf(claimed->element[0]);
  const redisReply* fields = claimed->element[1];
  for (std::size_t i = 0; i + 1 < fields->elements; i += 2) {
    readOutboundField(textOf(fields->element[i]), std::string(textOf(fields->element[i + 1])),
                      message);
  }
  return std::optional<OutboundMessage>(std::move(message));
}

Status RedisExchangeLog::markSent(const OutboundMessage& message, const std::string& message_id) {
  ExchangeRecord record;
  record.message_id = message_id;
  record.correlation_id = message.correlation_id;
  record.licgate_id = message.licgate_id;
  record.direction = "sent";
  record.service_id = message.service_id;
  record.message_type = message.message_type;
  record.outcome = "sent";
  const std::string message_key = sentKey(message_id);
  const std::string chain_key = chainKey(message.correlation_id);
  const std::string out_key = out_prefix_ + message.licgate_id;
  const std::string field = "sent:" + message_id;
  Words command;
  command.add("EVAL").add(kMarkSent).add("4").add(message_key).add(chain_key);
  command.add(outbox_key_).add(out_key);
  command.add(ttl_ms_).add(field).add(message.licgate_id);
  addRecordFields(command, record);
  return runScript(command);
}

Status RedisExchangeLog::retryAt(const std::string& licgate_id, std::int64_t due_ms,
                                 const std::string& error) {
  const std::string out_key = out_prefix_ + licgate_id;
  const std::string due = std::to_string(due_ms);
  Words command;
  command.add("EVAL").add(kRetryAt).add("2").add(outbox_key_).add(out_key);
  command.add(licgate_id).add(due).add(error);
  return runScript(command);
}

Status RedisExchangeLog::giveUp(const std::string& licgate_id, const std::string& error) {
  const std::string out_key = out_prefix_ + licgate_id;
  const std::string failed_key = prefix_ + "failed:" + licgate_id;
  Words command;
  command.add("EVAL").add(kGiveUp).add("3").add(outbox_key_).add(out_key).add(failed_key);
  command.add(licgate_id).add(error).add(ttl_ms_);
  return runScript(command);
}

Result<std::int64_t> RedisExchangeLog::outboxSize() {
  Words command;
  command.add("ZCARD").add(outbox_key_);
  return runInteger(command, "ZCARD");
}

}  // namespace

std::unique_ptr<ExchangeLog> makeExchangeLog(const RedisOptions& options, std::int64_t ttl_ms) {
  return std::make_unique<RedisExchangeLog>(options, ttl_ms);
}

}  // namespace licgate::adapters::redis
