// SeenIds on hiredis' synchronous API: one connection, pipelined commands.
//
// Thread-safety: every call takes one mutex for its whole round trip, so
// callers on several threads share the connection one batch at a time. The
// intake claims a batch on one thread while it marks the batch before on
// another; each is a single round trip, short beside the store transaction.
#include "adapters/redis/seen_ids.hpp"

#include <charconv>
#include <chrono>
#include <mutex>
#include <random>
#include <string_view>
#include <vector>

#include "adapters/redis/connection.hpp"

namespace licgate::adapters::redis {

using registry::ErrorCode;
using registry::Result;
using registry::Status;

namespace {

// The value of an applied batch's key, and the value with which earlier
// licgate versions marked each applied message.
constexpr std::string_view kAppliedValue = "applied";

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

class RedisSeenIds final : public SeenIds {
 public:
  explicit RedisSeenIds(const RedisOptions& options)
      : options_(options),
        token_(makeToken()),
        applied_ttl_ms_(std::to_string(options.applied_ttl_ms)),
        connection_(options) {}

  Result<Claims> claim(const std::vector<MessageKey>& keys) override;
  Status markApplied(std::uint64_t batch, const BatchFate& fate,
                     std::uint64_t last_sequence) override;
  Result<std::uint64_t> highWater() override;
  Status ping() override;

 private:
  Result<ReplyPtr> readValues(const std::vector<std::string>& names);
  Result<std::vector<Claim>> readHolders(const std::vector<std::string>& held_names);
  std::string keyOf(const MessageKey& key) const;
  std::string claimValue(std::uint64_t batch) const;
  std::string batchKey(std::string_view claim_value) const;

  const RedisOptions options_;
  const std::string token_;
  const std::string applied_ttl_ms_;  // the expiry as a command argument

  std::mutex mutex_;  // guards everything below
  Connection connection_;
  std::uint64_t last_batch_ = 0;
};

std::string RedisSeenIds::keyOf(const MessageKey& key) const {
  std::string text;
  text.reserve(options_.key_prefix.size() + key.sender_system.size() + key.message_id.size() + 7);
  text.append(options_.key_prefix).append("seen:").append(key.sender_system);
  text.append(":").append(key.message_id);
  return text;
}

std::string RedisSeenIds::claimValue(std::uint64_t batch) const {
  return token_ + ":" + std::to_string(batch);
}

std::string RedisSeenIds::batchKey(std::string_view claim_value) const {
  std::string text(options_.key_prefix);
  text.append("batch:").append(claim_value);
  return text;
}

// Round one: SET NX claims every key that nobody holds, for a new batch.
// Round two reads whose claims hold the others (readHolders).
Result<Claims> RedisSeenIds::claim(const std::vector<MessageKey>& keys) {
  Claims claims;
  claims.claims.assign(keys.size(), Claim::kNew);
  if (keys.empty()) {
    return claims;
  }
  std::vector<std::string> names;
  names.reserve(keys.size());
  for (const MessageKey& key : keys) {
    names.push_back(keyOf(key));
  }

  std::lock_guard lock(mutex_);
  claims.batch = ++last_batch_;
  const std::string value = claimValue(claims.batch);
  std::vector<Words> commands(names.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    commands[i].add("SET").add(names[i]).add(value).add("NX").add("PX").add(applied_ttl_ms_);
  }
  auto set_replies = connection_.runPipeline(commands);
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

  auto holders = readHolders(held_names);
  if (!holders.ok()) {
    return holders.takeError();
  }
  for (std::size_t j = 0; j < held.size(); ++j) {
    claims.claims[held[j]] = (*holders)[j];
  }
  return claims;
}

// One MGET: the reply holds one element per name (nil or a string).
Result<ReplyPtr> RedisSeenIds::readValues(const std::vector<std::string>& names) {
  std::vector<Words> command(1);
  command[0].add("MGET");
  for (const std::string& name : names) {
    command[0].add(name);
  }
  auto replies = connection_.runPipeline(command);
  if (!replies.ok()) {
    return replies.takeError();
  }
  ReplyPtr reply = std::move((*replies)[0]);
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != names.size()) {
    return registry::makeError(ErrorCode::kUnavailable, "Redis at " + connection_.address() +
                                                            " answered MGET with something else");
  }
  return reply;
}

// For keys another claim holds: one MGET of the claim values, then one MGET
// of the batch keys they name. A nil anywhere (the key expired between the
// rounds, or its batch was never applied) leaves the message to the store,
// which is always safe.
Result<std::vector<Claim>> RedisSeenIds::readHolders(const std::vector<std::string>& held_names) {
  auto values = readValues(held_names);
  if (!values.ok()) {
    return values.takeError();
  }

  std::vector<Claim> holders(held_names.size(), Claim::kHeldElsewhere);
  std::vector<std::size_t> by_batch;
  std::vector<std::string> batch_names;
  for (std::size_t j = 0; j < held_names.size(); ++j) {
    const redisReply* value = (*values)->element[j];
    if (value->type != REDIS_REPLY_STRING) {
      continue;
    }
    std::string_view text(value->str, value->len);
    if (text == kAppliedValue) {
      holders[j] = Claim::kApplied;
      continue;
    }
    by_batch.push_back(j);
    batch_names.push_back(batchKey(text));
  }
  if (by_batch.empty()) {
    return holders;
  }

  auto marks = readValues(batch_names);
  if (!marks.ok()) {
    return marks.takeError();
  }
  for (std::size_t k = 0; k < by_batch.size(); ++k) {
    if ((*marks)->element[k]->type == REDIS_REPLY_STRING) {
      holders[by_batch[k]] = Claim::kApplied;
    }
  }
  return holders;
}

// The fate goes first and the batch key last, inside one MULTI/EXEC when
// there is a fate: a claim the store did not apply must never be found
// under an applied batch, even for the moment between two commands.
// Raises the mark only: batches of two processes may be marked out of
// order.
constexpr std::string_view kRaiseHighWater =
    "local now = tonumber(redis.call('GET', KEYS[1]) or '0') "
    "if tonumber(ARGV[1]) > now then redis.call('SET', KEYS[1], ARGV[1]) end "
    "return 0";

Status RedisSeenIds::markApplied(std::uint64_t batch, const BatchFate& fate,
                                 std::uint64_t last_sequence) {
  std::vector<std::string> dropped;
  for (const MessageKey& key : fate.not_applied) {
    dropped.push_back(keyOf(key));
  }
  std::vector<std::string> adopted;
  for (const MessageKey& key : fate.applied_before) {
    adopted.push_back(keyOf(key));
  }

  std::lock_guard lock(mutex_);
  const std::string value = claimValue(batch);
  const std::string batch_name = batchKey(value);
  const bool transaction = !dropped.empty() || !adopted.empty();
  std::vector<Words> commands;
  if (transaction) {
    commands.emplace_back().add("MULTI");
  }
  if (!dropped.empty()) {
    Words& del = commands.emplace_back();
    del.add("DEL");
    for (const std::string& name : dropped) {
      del.add(name);
    }
  }
  for (const std::string& name : adopted) {
    commands.emplace_back().add("SET").add(name).add(value).add("PX").add(applied_ttl_ms_);
  }
  commands.emplace_back()
      .add("SET")
      .add(batch_name)
      .add(kAppliedValue)
      .add("PX")
      .add(applied_ttl_ms_);
  if (transaction) {
    commands.emplace_back().add("EXEC");
  }
  const std::string high_water_key = options_.key_prefix + "high-water";
  const std::string sequence = std::to_string(last_sequence);
  if (last_sequence > 0) {
    commands.emplace_back()
        .add("EVAL")
        .add(kRaiseHighWater)
        .add("1")
        .add(high_water_key)
        .add(sequence);
  }
  auto replies = connection_.runPipeline(commands);
  if (!replies.ok()) {
    return replies.takeError();
  }
  const std::size_t exec_at = replies->size() - (last_sequence > 0 ? 2 : 1);
  if (transaction && (*replies)[exec_at]->type != REDIS_REPLY_ARRAY) {
    return registry::makeError(ErrorCode::kUnavailable, "Redis at " + connection_.address() +
                                                            " did not run the batch's transaction");
  }
  return {};
}

Result<std::uint64_t> RedisSeenIds::highWater() {
  std::lock_guard lock(mutex_);
  std::vector<Words> command(1);
  const std::string key = options_.key_prefix + "high-water";
  command[0].add("GET").add(key);
  auto replies = connection_.runPipeline(command);
  if (!replies.ok()) {
    return replies.takeError();
  }
  const redisReply* reply = (*replies)[0].get();
  if (reply->type == REDIS_REPLY_NIL) {
    return std::uint64_t{0};
  }
  std::string_view text(reply->str, reply->len);
  std::uint64_t value = 0;
  auto [end, failure] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (reply->type != REDIS_REPLY_STRING || failure != std::errc() ||
      end != text.data() + text.size()) {
    return registry::makeError(ErrorCode::kUnavailable, "Redis at " + connection_.address() + ": " +
                                                            key + " is not a number");
  }
  return value;
}

Status RedisSeenIds::ping() {
  std::lock_guard lock(mutex_);
  return connection_.ping();
}

}  // namespace

std::unique_ptr<SeenIds> makeSeenIds(const RedisOptions& options) {
  return std::make_unique<RedisSeenIds>(options);
}

}  // namespace licgate::adapters::redis
