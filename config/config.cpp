// The YAML loader of licgate's configuration (config/config.hpp).
//
// Every value is checked here, at start-up, so that the adapters can trust
// their options: a bad port or an unknown licensor stops licgate before it
// opens anything. Problems are collected rather than returned one by one, so
// one run of `licgate check-config` shows them all.
#include "config/config.hpp"

#include "config/conformity_config.hpp"
#include "config/host_check.hpp"
#include "config/text_file.hpp"
#include "config/yaml_reader.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>

namespace licgate::config {

using registry::Error;
using registry::ErrorCode;
using registry::Result;

bool SystemConfig::mayActFor(std::string_view licensor) const {
  return std::any_of(licensors.begin(), licensors.end(), [&](const std::string& code) {
    return code == kAnyLicensor || code == licensor;
  });
}

const SystemConfig* Config::findSystem(std::string_view id) const {
  for (const auto& system : systems) {
    if (system.id == id) {
      return &system;
    }
  }
  return nullptr;
}

namespace {

constexpr Range kPort{0, 65535, "a port"};
constexpr Range kMillis{1, 3'600'000, "a number of milliseconds"};
constexpr Range kLongMillis{1, 365LL * 86'400'000, "a number of milliseconds"};
constexpr Range kThreads{1, 64, "a number of threads"};
constexpr Range kConnections{1, 100'000, "a number of connections"};
constexpr Range kBytes{1024, 64LL << 20, "a size in bytes"};
constexpr Range kCredit{1, 100'000, "a credit window"};
constexpr Range kBatch{1, 10'000, "a batch size"};
constexpr Range kInFlight{1, 1'000'000, "a number of deliveries"};

// The addresses licgate knows what to do with; anything else would take
// deliveries that no flow handles.
constexpr std::string_view kKnownAddresses[] = {"licences/events"};

constexpr std::string_view kLogLevels[] = {"trace", "debug",    "info", "warn",
                                           "error", "critical", "off"};

bool isCountryCode(std::string_view code) {
  return code.size() == 2 &&
         std::all_of(code.begin(), code.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

bool isIpv4Address(const std::string& text) {
  in_addr ignored{};
  return ::inet_pton(AF_INET, text.c_str(), &ignored) == 1;
}

bool isIpv6Address(const std::string& text) {
  in6_addr ignored{};
  return ::inet_pton(AF_INET6, text.c_str(), &ignored) == 1;
}

// An IPv4 address in dotted decimal or an IPv6 address, as inet_pton reads
// them: no brackets, no zone, no shorthand such as "127.1".
bool isIpAddress(const std::string& text) {
  return isIpv4Address(text) || isIpv6Address(text);
}

// A host name as RFC 1123 (2.1) has it: labels of ASCII letters, digits and
// hyphens, 1..63 characters, neither starting nor ending with a hyphen,
// joined by dots, 253 characters at most. A last label of digits alone is
// refused, as RFC 1123 asks, so that a mistyped address ("10.0.0.256") is
// not looked up as a name.
bool isHostName(std::string_view name) {
  if (name.empty() || name.size() > 253) {
    return false;
  }
  std::string_view rest = name;
  while (true) {
    const std::size_t dot = rest.find('.');
    const std::string_view label = rest.substr(0, dot);
    const bool letters_digits_hyphens = std::all_of(label.begin(), label.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    });
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-' ||
        !letters_digits_hyphens) {
      return false;
    }
    if (dot == std::string_view::npos) {
      return !std::all_of(label.begin(), label.end(), [](char c) { return c >= '0' && c <= '9'; });
    }
    rest.remove_prefix(dot + 1);
  }
}

}  // namespace

std::string hostAndPortProblem(std::string_view authority) {
  std::string_view host = authority;
  std::string_view port;
  bool has_port = false;
  if (authority.starts_with('[')) {
    const std::size_t close = authority.find(']');
    const std::string_view after =
        close == std::string_view::npos ? std::string_view() : authority.substr(close + 1);
    if (close == std::string_view::npos ||
        !isIpv6Address(std::string(authority.substr(1, close - 1))) ||
        (!after.empty() && after.front() != ':')) {
      return "has a host in brackets that is not an IPv6 address";
    }
    has_port = !after.empty();
    port = has_port ? after.substr(1) : std::string_view();
  } else {
    const std::size_t colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
      has_port = true;
    }
    if (host.empty()) {
      return "has no host";
    }
    if (!isIpv4Address(std::string(host)) && !isHostName(host)) {
      return "has host \"" + std::string(host) +
             "\", which is not an IPv4 address, a host name or an IPv6 address in brackets";
    }
  }
  if (!has_port) {
    return "";
  }
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value < 1 ||
      value > 65535) {
    return "has port \"" + std::string(port) + "\", which is not a port (1..65535)";
  }
  return "";
}

// What is wrong with `url` as the address licgate sends to, or an empty
// text when nothing is: http:// or https://, a host, and a port 1..65535
// when one is given. The HTTP client would take some of these and fail only
// at the first send, long after start; others it would read differently
// from what the operator meant. `credentials_advice` says what to do
// instead of writing credentials into the URL.
std::string httpUrlProblem(std::string_view url, std::string_view credentials_advice) {
  if (std::any_of(url.begin(), url.end(), [](unsigned char c) { return c <= 0x20 || c == 0x7f; })) {
    return "contains a space or a control character";
  }
  std::string_view rest;
  if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else {
    return "is not an http:// or https:// URL";
  }
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.find('@') != std::string_view::npos) {
    return "carries credentials" + std::string(credentials_advice);
  }
  return hostAndPortProblem(authority);
}

namespace {

// Checks a host read from `where`. Names are resolved only when licgate
// connects or listens, so a name is checked for its form alone; the HTTP
// server binds to an address without resolving anything and so takes
// addresses only (`names_allowed` false).
void checkHost(Reader& reader, const std::string& where, const std::string& host,
               bool names_allowed) {
  if (isIpAddress(host) || (names_allowed && isHostName(host))) {
    return;
  }
  reader.fail(where, "\"" + host + "\" is not " +
                         (names_allowed ? std::string("an IPv4 or IPv6 address or a host name")
                                        : std::string("an IPv4 or IPv6 address (the HTTP server "
                                                      "does not resolve host names)")));
}

void readStore(Reader& reader, const YAML::Node& node, const std::string& base_dir,
               registry::StoreOptions& store) {
  const std::string path = "store";
  if (!node.IsDefined()) {
    reader.fail(path, "is required (at least store.path)");
    return;
  }
  if (node.IsNull()) {
    reader.fail(path, "is empty; it is required (at least store.path)");
    return;
  }
  if (!reader.checkMap(node, path, {"path", "synchronous", "busy_timeout_ms", "country"})) {
    return;
  }
  reader.readString(node, path, "path", store.path, true);
  if (!store.path.empty() && !base_dir.empty() && std::filesystem::path(store.path).is_relative()) {
    store.path = (std::filesystem::path(base_dir) / store.path).lexically_normal().string();
  }
  std::string synchronous = "full";
  reader.readString(node, path, "synchronous", synchronous);
  constexpr std::string_view kModes[] = {"full", "normal"};
  reader.checkOneOf(path + ".synchronous", synchronous, kModes);
  store.synchronous_full = synchronous != "normal";
  reader.readInteger(node, path, "busy_timeout_ms", kMillis, store.busy_timeout_ms);
  reader.readString(node, path, "country", store.country);
  if (!isCountryCode(store.country)) {
    reader.fail(path + ".country",
                "\"" + store.country + "\" is not an ISO 3166-1 alpha-2 code in Latin capitals");
  }
}

void readRedis(Reader& reader, const YAML::Node& node, RedisConfig& redis) {
  const std::string path = "redis";
  if (!node.IsDefined()) {
    redis.enabled = false;
    return;
  }
  // A section given empty (`redis:` with every key commented out, say) is
  // still present, and a present section enables Redis: with its defaults.
  if (node.IsNull()) {
    redis.enabled = true;
    return;
  }
  if (!reader.checkMap(node, path,
                       {"enabled", "host", "port", "timeout_ms", "retry_after_ms", "key_prefix",
                        "applied_ttl_ms"})) {
    return;
  }
  redis.enabled = true;
  reader.readBool(node, path, "enabled", redis.enabled);
  auto& options = redis.options;
  if (reader.readString(node, path, "host", options.host)) {
    checkHost(reader, path + ".host", options.host, true);
  }
  reader.readInteger(node, path, "port", Range{1, 65535, "a port"}, options.port);
  reader.readInteger(node, path, "timeout_ms", kMillis, options.timeout_ms);
  reader.readInteger(node, path, "retry_after_ms", kMillis, options.retry_after_ms);
  reader.readString(node, path, "key_prefix", options.key_prefix);
  reader.readInteger(node, path, "applied_ttl_ms", kLongMillis, options.applied_ttl_ms);
}

void readAmqp(Reader& reader, const YAML::Node& node, adapters::amqp::IntakeOptions& amqp) {
  const std::string path = "amqp";
  if (!reader.readSection(node, path,
                          {"host", "port", "container_id", "credit_window", "max_in_flight",
                           "max_message_bytes", "max_batch", "addresses"})) {
    return;
  }
  if (reader.readString(node, path, "host", amqp.host)) {
    checkHost(reader, path + ".host", amqp.host, true);
  }
  reader.readInteger(node, path, "port", kPort, amqp.port);
  reader.readString(node, path, "container_id", amqp.container_id);
  const bool credit_read =
      reader.readInteger(node, path, "credit_window", kCredit, amqp.credit_window);
  const bool in_flight_read =
      reader.readInteger(node, path, "max_in_flight", kInFlight, amqp.max_in_flight);
  if (credit_read && in_flight_read &&
      amqp.max_in_flight < static_cast<std::size_t>(amqp.credit_window)) {
    reader.fail(path + ".max_in_flight",
                std::to_string(amqp.max_in_flight) + " is less than credit_window (" +
                    std::to_string(amqp.credit_window) + "): no link could be given its window");
  }
  reader.readInteger(node, path, "max_message_bytes", kBytes, amqp.max_message_bytes);
  reader.readInteger(node, path, "max_batch", kBatch, amqp.max_batch);
  if (reader.readStringList(node, path, "addresses", amqp.addresses) && amqp.addresses.empty()) {
    reader.fail(path + ".addresses", "is empty: licgate would take no deliveries");
  }
  for (std::size_t i = 0; i < amqp.addresses.size(); ++i) {
    reader.checkOneOf(path + ".addresses[" + std::to_string(i) + "]", amqp.addresses[i],
                      kKnownAddresses);
  }
}

void readHttp(Reader& reader, const YAML::Node& node, adapters::http::ServerOptions& http) {
  const std::string path = "http";
  if (!reader.readSection(node, path,
                          {"host", "port", "threads", "max_body_bytes", "header_timeout_ms",
                           "body_idle_timeout_ms", "max_connections"})) {
    return;
  }
  if (reader.readString(node, path, "host", http.host)) {
    checkHost(reader, path + ".host", http.host, false);
  }
  reader.readInteger(node, path, "port", kPort, http.port);
  reader.readInteger(node, path, "threads", kThreads, http.threads);
  reader.readInteger(node, path, "max_body_bytes", kBytes, http.max_body_bytes);
  reader.readInteger(node, path, "header_timeout_ms", kMillis, http.header_timeout_ms);
  reader.readInteger(node, path, "body_idle_timeout_ms", kMillis, http.body_idle_timeout_ms);
  reader.readInteger(node, path, "max_connections", kConnections, http.max_connections);
}

void readLicensors(Reader& reader, const YAML::Node& node, std::vector<LicensorConfig>& out) {
  const std::string path = "licensors";
  if (!node.IsDefined() || !node.IsSequence() || node.size() == 0) {
    reader.fail(path, "needs a list of at least one licensor (code, name)");
    return;
  }
  std::set<std::string> seen;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string item = path + "[" + std::to_string(i) + "]";
    if (!reader.checkMap(node[i], item, {"code", "name"})) {
      continue;
    }
    LicensorConfig licensor;
    reader.readString(node[i], item, "code", licensor.code, true);
    reader.readString(node[i], item, "name", licensor.name, true);
    if (licensor.code == kAnyLicensor) {
      reader.fail(item + ".code", "\"*\" is reserved for systems that act for every licensor");
    } else if (!licensor.code.empty() && !seen.insert(licensor.code).second) {
      reader.fail(item + ".code", "\"" + licensor.code + "\" is listed twice");
    }
    out.push_back(std::move(licensor));
  }
}

void readSystems(Reader& reader, const YAML::Node& node, const std::vector<LicensorConfig>& known,
                 std::vector<SystemConfig>& out) {
  const std::string path = "systems";
  if (!node.IsDefined() || !node.IsSequence() || node.size() == 0) {
    reader.fail(path, "needs a list of at least one system (id, name, licensors)");
    return;
  }
  std::set<std::string> seen;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string item = path + "[" + std::to_string(i) + "]";
    if (!reader.checkMap(node[i], item, {"id", "name", "licensors"})) {
      continue;
    }
    SystemConfig system;
    reader.readString(node[i], item, "id", system.id, true);
    reader.readString(node[i], item, "name", system.name, true);
    const bool licensors_read =
        reader.readStringList(node[i], item, "licensors", system.licensors, true);
    if (!system.id.empty() && !seen.insert(system.id).second) {
      reader.fail(item + ".id", "\"" + system.id + "\" is listed twice");
    }
    if (licensors_read && system.licensors.empty()) {
      reader.fail(item + ".licensors", "needs at least one licensor code, or \"*\" for all");
    }
    for (std::size_t j = 0; j < system.licensors.size(); ++j) {
      const std::string& code = system.licensors[j];
      const bool listed = std::any_of(known.begin(), known.end(),
                                      [&](const LicensorConfig& l) { return l.code == code; });
      if (code != kAnyLicensor && !listed) {
        reader.fail(item + ".licensors[" + std::to_string(j) + "]",
                    "\"" + code + "\" is not a licensor listed under licensors");
      }
    }
    out.push_back(std::move(system));
  }
}

void readLog(Reader& reader, const YAML::Node& node, LogConfig& log) {
  const std::string path = "log";
  if (!reader.readSection(node, path, {"level", "format"})) {
    return;
  }
  reader.readString(node, path, "level", log.level);
  reader.checkOneOf(path + ".level", log.level, kLogLevels);
  std::string format = "json";
  reader.readString(node, path, "format", format);
  constexpr std::string_view kFormats[] = {"json", "text"};
  reader.checkOneOf(path + ".format", format, kFormats);
  log.format = format == "text" ? LogFormat::kText : LogFormat::kJson;
}

// The operations a serviceId may name: licgate's own SOAP operations.
constexpr std::string_view kShepOperations[] = {"GetLicence", "FindLicences", "GetChanges",
                                                "SubmitLicenceEvent"};

void readShep(Reader& reader, const YAML::Node& node, const std::string& base_dir,
              ShepConfig& shep) {
  const std::string path = "shep";
  if (!reader.readSection(
          node, path,
          {"services", "chain_ttl_ms", "async_url", "sender_id", "password", "send_attempts",
           "send_backoff_ms", "send_backoff_max_ms", "send_timeout_ms", "schema_dir"})) {
    return;
  }
  // Checked for being a directory here; whether its schemas compile is
  // found when licgate starts, which reads them.
  if (reader.readString(node, path, "schema_dir", shep.schema_dir) && !shep.schema_dir.empty()) {
    if (!base_dir.empty() && std::filesystem::path(shep.schema_dir).is_relative()) {
      shep.schema_dir =
          (std::filesystem::path(base_dir) / shep.schema_dir).lexically_normal().string();
    }
    std::error_code ignored;
    if (!std::filesystem::is_directory(shep.schema_dir, ignored)) {
      reader.fail(path + ".schema_dir", "\"" + shep.schema_dir + "\" is not a directory");
    }
  }
  reader.readInteger(node, path, "chain_ttl_ms", kLongMillis, shep.chain_ttl_ms);
  reader.readString(node, path, "sender_id", shep.sender_id);
  reader.readString(node, path, "password", shep.password);
  reader.readInteger(node, path, "send_attempts", Range{1, 100, "a number of attempts"},
                     shep.send_attempts);
  const bool backoff_read =
      reader.readInteger(node, path, "send_backoff_ms", kMillis, shep.send_backoff_ms);
  const bool backoff_max_read =
      reader.readInteger(node, path, "send_backoff_max_ms", kMillis, shep.send_backoff_max_ms);
  reader.readInteger(node, path, "send_timeout_ms", kMillis, shep.send_timeout_ms);
  std::string url;
  if (reader.readString(node, path, "async_url", url)) {
    const std::string problem =
        httpUrlProblem(url, "; give them as shep.sender_id and shep.password");
    if (url.empty() || problem.empty()) {
      shep.async_url = url;
    } else {
      reader.fail(path + ".async_url", "\"" + url + "\" " + problem);
    }
  }
  if (!shep.async_url.empty() && shep.sender_id.empty()) {
    reader.fail(path + ".sender_id",
                "is required with async_url: the gateway takes messages only from a sender it "
                "knows");
  }
  if (backoff_read && backoff_max_read && shep.send_backoff_max_ms < shep.send_backoff_ms) {
    reader.fail(path + ".send_backoff_max_ms", std::to_string(shep.send_backoff_max_ms) +
                                                   " is below send_backoff_ms (" +
                                                   std::to_string(shep.send_backoff_ms) + ")");
  }
  const YAML::Node services = node["services"];
  if (!services.IsDefined()) {
    return;
  }
  if (services.IsNull()) {
    reader.fail(path + ".services", "is empty; leave the key out to take the default (none)");
    return;
  }
  if (!services.IsMap()) {
    reader.fail(path + ".services", "needs a mapping of serviceId to operation");
    return;
  }
  std::set<std::string> seen;
  for (const auto& entry : services) {
    const std::string service = entry.first.Scalar();
    const std::string where = path + ".services." + service;
    if (service.empty()) {
      reader.fail(path + ".services", "\"\" is not a serviceId: a serviceId is never empty");
      continue;
    }
    if (!seen.insert(service).second) {
      reader.fail(where, "given twice");
      continue;
    }
    if (entry.second.IsNull() || (entry.second.IsScalar() && entry.second.Scalar().empty())) {
      reader.fail(where, "is empty; it needs the name of an operation");
      continue;
    }
    if (!entry.second.IsScalar()) {
      reader.fail(where, "needs the name of an operation");
      continue;
    }
    const std::string operation = entry.second.Scalar();
    if (std::find(std::begin(kShepOperations), std::end(kShepOperations), operation) ==
        std::end(kShepOperations)) {
      reader.fail(where, "\"" + operation +
                             "\" is not an operation of licgate's (GetLicence, FindLicences, "
                             "GetChanges, SubmitLicenceEvent)");
      continue;
    }
    shep.services.emplace(service, operation);
  }
}

// The checks of one section's values against another's, each run only when
// both values were read.
void checkAcrossSections(Reader& reader, const YAML::Node& root, const Config& config) {
  // Both listeners bind their port on start; with one port the second
  // would fail to start. Port 0 takes a free port each, so never clashes.
  const bool ports_read = !reader.refused("amqp") && !reader.refused("amqp.port") &&
                          !reader.refused("http") && !reader.refused("http.port");
  if (ports_read && config.http.port != 0 && config.http.port == config.amqp.port) {
    reader.fail("http.port", std::to_string(config.http.port) + " is also amqp.port (" +
                                 std::to_string(config.amqp.port) +
                                 "): the HTTP server and the AMQP intake need a port each");
  }

  const bool redis_read = !reader.refused("redis") && !reader.refused("redis.enabled");
  // A conformity round lives in Redis while it is open: without it no
  // query could be tracked.
  if (config.conformity.enabled() && redis_read && !config.redis.enabled) {
    reader.fail("conformity.activities",
                "need Redis, which holds the conformity queries in flight; redis.enabled is off "
                "or the redis section is missing");
  }
  for (const auto& [code, channel] : config.conformity.outcomes) {
    const bool known = std::any_of(config.licensors.begin(), config.licensors.end(),
                                   [&](const LicensorConfig& l) { return l.code == code; });
    if (!known && !reader.refused("licensors")) {
      reader.fail(childPath("conformity.outcomes", code),
                  "\"" + code + "\" is not a licensor listed under licensors");
    }
  }

  // The asynchronous channel's outbox and chains are kept in Redis: without
  // it licgate would start with async_url set and never send anything.
  if (!config.shep.async_url.empty() && redis_read && !config.redis.enabled) {
    reader.fail("shep.async_url",
                root["redis"].IsDefined()
                    ? "needs Redis, which redis.enabled turns off: the asynchronous channel's "
                      "outbox is kept there"
                    : "needs the redis section: the asynchronous channel's outbox is kept in "
                      "Redis");
  }
}

}  // namespace

Result<Config> parseConfig(std::string_view yaml_text, std::string_view origin,
                           const std::string& base_dir) {
  auto root = parseYaml(yaml_text, origin);
  if (!root.ok()) {
    return root.takeError();
  }
  Reader reader;
  Config config;
  try {
    if (reader.checkMap(*root, "",
                        {"store", "redis", "amqp", "http", "licensors", "systems", "log", "shep",
                         "conformity"})) {
      readStore(reader, (*root)["store"], base_dir, config.store);
      readRedis(reader, (*root)["redis"], config.redis);
      readAmqp(reader, (*root)["amqp"], config.amqp);
      readHttp(reader, (*root)["http"], config.http);
      readLicensors(reader, (*root)["licensors"], config.licensors);
      readSystems(reader, (*root)["systems"], config.licensors, config.systems);
      readLog(reader, (*root)["log"], config.log);
      readShep(reader, (*root)["shep"], base_dir, config.shep);
      readConformity(reader, (*root)["conformity"], base_dir, config.conformity);
      checkAcrossSections(reader, *root, config);
    }
  } catch (const YAML::Exception& e) {
    reader.fail("(document)", e.what());
  }
  LICGATE_RETURN_IF_ERROR(reader.result(origin));
  return config;
}

Result<Config> loadConfigFile(const std::string& path) {
  auto text = readTextFile(path, "configuration file");
  if (!text.ok()) {
    return text.takeError();
  }
  const std::string base_dir = std::filesystem::path(path).parent_path().string();
  return parseConfig(*text, path, base_dir.empty() ? "." : base_dir);
}

}  // namespace licgate::config
