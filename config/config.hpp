// licgate's configuration: read once at start-up from a YAML file into plain
// values that nothing changes afterwards. docs/configuration.md describes
// every key; config/licgate.example.yaml is a complete, commented example.
//
// The adapters' option structs are used as they are, so that what the file
// says is exactly what the adapter gets; the loader only checks the values.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/amqp/intake_server.hpp"
#include "adapters/http/server.hpp"
#include "adapters/redis/seen_ids.hpp"
#include "registry/result.hpp"
#include "registry/store.hpp"
#include "registry/working_days.hpp"

namespace licgate::config {

// The wildcard in a system's licensor list: it may act for every licensor.
inline constexpr std::string_view kAnyLicensor = "*";

struct LicensorConfig {
  std::string code;  // as events carry it, e.g. "CZ-ERU"
  std::string name;
};

// An information system that sends licence events (AMQP application
// property "system").
struct SystemConfig {
  std::string id;
  std::string name;
  std::vector<std::string> licensors;  // codes, or kAnyLicensor alone

  // True when this system may send events for `licensor`.
  bool mayActFor(std::string_view licensor) const;
};

struct RedisConfig {
  // Without Redis the store's durable duplicate check answers alone: correct
  // but every duplicate costs a store transaction.
  bool enabled = false;
  adapters::redis::RedisOptions options;
};

enum class LogFormat : std::uint8_t { kJson, kText };

struct LogConfig {
  std::string level = "info";  // trace, debug, info, warn, error, critical, off
  LogFormat format = LogFormat::kJson;
};

// The e-government gateway's synchronous channel (docs/soap.md): which of
// licgate's SOAP operations each serviceId of a SendMessage runs.
struct ShepConfig {
  std::map<std::string, std::string, std::less<>> services;  // serviceId -> operation
  // How long Redis remembers a chain of the asynchronous channel after its
  // last message (an UPDATE or RESPONSE after that is to an unknown chain).
  std::int64_t chain_ttl_ms = 30LL * 86'400'000;
  // Where licgate sends its messages on the asynchronous channel (the
  // gateway's IAsyncChannel sendMessage), as whom, and how it retries.
  // Empty: reads are not answered on that channel.
  std::string async_url;
  // The gateway's own schemas (its interface files); empty: its messages
  // are not validated against them.
  std::string schema_dir;
  std::string sender_id;
  std::string password;
  int send_attempts = 8;
  std::int64_t send_backoff_ms = 500;
  std::int64_t send_backoff_max_ms = 60'000;
  std::int64_t send_timeout_ms = 10'000;
};

// How licgate reaches an interested body's system: exactly one of three
// channels.
enum class BodyChannelKind : std::uint8_t {
  kAmqpAddress,  // the body's system attaches to an address on licgate's AMQP listener
  kAmqpPeer,     // licgate connects to the body's own AMQP peer
  kSoap,         // licgate calls the body's SOAP service
};

struct BodyChannel {
  BodyChannelKind kind = BodyChannelKind::kAmqpAddress;
  // kAmqpAddress: the address on licgate's listener; kAmqpPeer: the address
  // on the body's peer. Empty for kSoap.
  std::string address;
  std::string peer_url;  // kAmqpPeer: "amqp://host:port"
  std::string soap_url;  // kSoap: an http:// or https:// URL
};

// What a conformity query comes to when the body's deadline passes without
// a conclusion.
enum class SilenceRule : std::uint8_t {
  kConsent,  // tacit consent: counted as conforming, with that reason recorded
  kExpire,   // the query expires without a conclusion
};

// How sending a conformity query to a body is retried: backing off from
// initial_ms, doubling up to max_ms, at most `attempts` sends in all.
struct RetryPolicy {
  std::int64_t initial_ms = 1000;
  std::int64_t max_ms = 60'000;
  int attempts = 20;
};

// An interested body (sanitary, fire, environment, ...) whose conclusion a
// licensor needs before issuing a licence.
struct BodyConfig {
  std::string id;
  std::string name;
  BodyChannel channel;
  int deadline_working_days = 10;  // the law's default
  // When set, the deadline is this many seconds after the request instead
  // of a count of working days: for drills and demonstrations, where
  // nobody waits ten working days to see a tacit consent.
  std::int64_t deadline_seconds = 0;
  SilenceRule on_silence = SilenceRule::kConsent;
  RetryPolicy retry;
};

// The conformity flow's configuration: which bodies each activity needs,
// how each body is reached, and the working-day calendar its deadlines are
// counted in.
struct ConformityConfig {
  // The calendar file, resolved against the configuration file's
  // directory; empty when none is configured (the conformity flow then
  // refuses to start). `calendar_data` is what it holds, checked at load.
  std::string calendar;
  registry::WorkingCalendarData calendar_data;
  std::vector<BodyConfig> bodies;
  // Activity code -> ids of the bodies it needs, each one of `bodies`.
  std::map<std::string, std::vector<std::string>, std::less<>> activities;
  // Licensor code -> the channel its system receives outcomes on; a
  // licensor without one cannot ask for a conformity check, since its
  // outcome would reach nobody.
  std::map<std::string, BodyChannel, std::less<>> outcomes;
  // The register's time zone, in which a deadline's working days are
  // counted and its times are written: Kazakhstan's single zone, UTC+5
  // since March 2024, by default.
  int utc_offset_minutes = 300;
  // How long a send (a query to a body, an outcome to a licensor) may take
  // before it counts as failed and is retried.
  std::int64_t send_timeout_ms = 10'000;
  // How long a round stays in Redis once its outcome was delivered: the
  // register keeps it for good, and what stays in Redis lets a late
  // conclusion be recorded as late. 0 keeps it in Redis for ever.
  std::int64_t keep_delivered_days = 90;

  // The body with this id, or nullptr.
  const BodyConfig* findBody(std::string_view id) const;
  // Whether the flow has anything to do: some activity needs a body.
  bool enabled() const { return !activities.empty(); }
};

struct Config {
  registry::StoreOptions store;
  RedisConfig redis;
  adapters::amqp::IntakeOptions amqp;
  adapters::http::ServerOptions http;
  std::vector<LicensorConfig> licensors;
  std::vector<SystemConfig> systems;
  LogConfig log;
  ShepConfig shep;
  ConformityConfig conformity;

  // The system with this id, or nullptr.
  const SystemConfig* findSystem(std::string_view id) const;
};

// Parses and checks a configuration. `origin` names the text in messages
// (the file name); `base_dir` is where a relative store path is resolved
// (the file's directory). Unknown keys are errors, so a misspelt key does
// not silently fall back to a default.
//
// Errors: kMalformed when the text is not YAML (with line and column);
// kInvalidField listing every bad value, one per line, each naming the key
// path and the value: "amqp.port: 70000 is not a port (0..65535)".
registry::Result<Config> parseConfig(std::string_view yaml_text, std::string_view origin,
                                     const std::string& base_dir);

// Reads `path` and parses it, resolving a relative store path against the
// file's directory. kNotFound when the file cannot be read or is not a
// regular file (a directory, say), naming it.
registry::Result<Config> loadConfigFile(const std::string& path);

}  // namespace licgate::config
