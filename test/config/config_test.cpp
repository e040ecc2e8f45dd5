// Tests of the configuration loader: the example file, and one test per
// kind of problem check-config reports.
#include "config/config.hpp"
#include "test/config/config_samples.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace licgate::config {
namespace {

using registry::ErrorCode;

using samples::kMinimal;

registry::Result<Config> parse(const std::string& text) {
  return parseConfig(text, "test.yaml", "/etc/licgate");
}

// `text` with its first `from` replaced by `to`.
std::string replaced(std::string text, const std::string& from, const std::string& to) {
  text.replace(text.find(from), from.size(), to);
  return text;
}

TEST(ConfigLoader, ReadsTheExampleFile) {
  const std::string path = std::string(LICGATE_SOURCE_DIR) + "/config/licgate.example.yaml";

  auto config = loadConfigFile(path);

  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->amqp.port, 5672);
  EXPECT_EQ(config->amqp.addresses, std::vector<std::string>{"licences/events"});
  EXPECT_TRUE(config->redis.enabled);
  EXPECT_EQ(config->redis.options.key_prefix, "licgate:");
  EXPECT_EQ(config->licensors.size(), 2u);
  EXPECT_EQ(config->licensors[0].name, "Energetický regulační úřad");
  EXPECT_EQ(config->log.format, LogFormat::kJson);
  EXPECT_TRUE(config->store.path.ends_with("/var/licgate.db"));
}

TEST(ConfigLoader, AppliesDefaultsToAbsentSections) {
  auto config = parse(kMinimal);

  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_FALSE(config->redis.enabled);
  EXPECT_TRUE(config->store.synchronous_full);
  EXPECT_EQ(config->http.threads, 2);
  EXPECT_EQ(config->log.level, "info");
}

TEST(ConfigLoader, ResolvesRelativeStorePathAgainstBaseDir) {
  std::string text = kMinimal;
  text.replace(text.find("/tmp/register.db"), 16, "data/register.db");

  auto config = parse(text);

  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->store.path, "/etc/licgate/data/register.db");
}

TEST(ConfigLoader, RejectsPortOutOfRange) {
  auto config = parse(kMinimal + "amqp:\n  port: 70000\n");

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().code, ErrorCode::kInvalidField);
  EXPECT_EQ(config.error().message, "test.yaml: amqp.port: 70000 is not a port (0..65535)");
}

TEST(ConfigLoader, RejectsInFlightLimitBelowOneWindow) {
  auto config = parse(kMinimal + "amqp:\n  credit_window: 500\n  max_in_flight: 100\n");

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message,
            "test.yaml: amqp.max_in_flight: 100 is less than credit_window (500): no link could "
            "be given its window");
}

TEST(ConfigLoader, DoesNotCompareARefusedCreditWindow) {
  auto config = parse(kMinimal + "amqp:\n  credit_window: 0\n  max_in_flight: 10\n");

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message,
            "test.yaml: amqp.credit_window: 0 is not a credit window (1..100000)");
}

TEST(ConfigLoader, ComparesTheInFlightLimitWithTheDefaultWindowWhenNoneIsGiven) {
  auto config = parse(kMinimal + "amqp:\n  max_in_flight: 10\n");

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message,
            "test.yaml: amqp.max_in_flight: 10 is less than credit_window (500): no link could "
            "be given its window");
}

TEST(ConfigLoader, ReportsABadListItemWithoutFollowOnProblems) {
  std::string text = kMinimal;
  text.replace(text.find("[CZ-ERU]"), 8, "[{code: CZ-ERU}]");

  auto config = parse(text);

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message, "test.yaml: systems[0].licensors[0]: a mapping is not a text");
}

TEST(ConfigLoader, ReportsBadListItemsAtTheirPositions) {
  auto config = parse(kMinimal + "amqp:\n  addresses: [\"\", queries/out, []]\n");

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message,
            "test.yaml: amqp.addresses[0]: is empty\n"
            "test.yaml: amqp.addresses[2]: a list is not a text");
}

TEST(ConfigLoader, RefusesAKeyGivenEmptyNamingItsDefault) {
  struct Case {
    std::string text;
    std::string message;
  };
  const std::string store = "  path: /tmp/register.db\n";
  const std::vector<Case> cases{
      {kMinimal + "http:\n  port:\n",
       "http.port: is empty; leave the key out to take the default (8080)"},
      {kMinimal + "http:\n  port: ~\n",
       "http.port: is empty; leave the key out to take the default (8080)"},
      {kMinimal + "amqp:\n  max_batch: null\n",
       "amqp.max_batch: is empty; leave the key out to take the default (256)"},
      {kMinimal + "shep:\n  send_attempts:\n",
       "shep.send_attempts: is empty; leave the key out to take the default (8)"},
      {kMinimal + "shep:\n  async_url:\n",
       "shep.async_url: is empty; leave the key out to take the default (none)"},
      {replaced(kMinimal, store, store + "  synchronous:\n"),
       "store.synchronous: is empty; leave the key out to take the default (\"full\")"},
      {kMinimal + "log:\n  level:\n",
       "log.level: is empty; leave the key out to take the default (\"info\")"},
      {kMinimal + "redis:\n  key_prefix: \"\"\n",
       "redis.key_prefix: is empty; leave the key out to take the default (\"licgate:\")"},
      {kMinimal + "redis:\n  enabled:\n",
       "redis.enabled: is empty; leave the key out to take the default (true)"},
      {kMinimal + "amqp:\n  addresses:\n",
       "amqp.addresses: is empty; leave the key out to take the default ([licences/events])"},
      {kMinimal + "shep:\n  services:\n",
       "shep.services: is empty; leave the key out to take the default (none)"},
  };
  for (const Case& each : cases) {
    auto config = parse(each.text);

    ASSERT_FALSE(config.ok()) << each.text;
    EXPECT_EQ(config.error().message, "test.yaml: " + each.message);
  }
}

TEST(ConfigLoader, RefusesARequiredKeyGivenEmpty) {
  struct Case {
    std::string text;
    std::string message;
  };
  const std::vector<Case> cases{
      {replaced(kMinimal, "path: /tmp/register.db", "path:"),
       "store.path: is empty; it is required"},
      {replaced(kMinimal, "name: ERU\n", "name: \"\"\n"),
       "licensors[0].name: is empty; it is required"},
      {replaced(kMinimal, "licensors: [CZ-ERU]", "licensors:"),
       "systems[0].licensors: is empty; it is required"},
      {kMinimal + "shep:\n  services:\n    LICGATE_GET_LICENCE:\n",
       "shep.services.LICGATE_GET_LICENCE: is empty; it needs the name of an operation"},
  };
  for (const Case& each : cases) {
    auto config = parse(each.text);

    ASSERT_FALSE(config.ok()) << each.text;
    EXPECT_EQ(config.error().message, "test.yaml: " + each.message);
  }
}

TEST(ConfigLoader, RefusesASectionGivenEmpty) {
  struct Case {
    std::string text;
    std::string message;
  };
  const std::vector<Case> cases{
      {kMinimal + "http:\n", "http: is empty; leave the section out to take its defaults"},
      {kMinimal + "amqp: ~\n", "amqp: is empty; leave the section out to take its defaults"},
      {kMinimal + "log:\n", "log: is empty; leave the section out to take its defaults"},
      {kMinimal + "shep:\n", "shep: is empty; leave the section out to take its defaults"},
      {replaced(kMinimal, "  path: /tmp/register.db\n", ""),
       "store: is empty; it is required (at least store.path)"},
  };
  for (const Case& each : cases) {
    auto config = parse(each.text);

    ASSERT_FALSE(config.ok()) << each.text;
    EXPECT_EQ(config.error().message, "test.yaml: " + each.message);
  }
}

TEST(ConfigLoader, AcceptsAddressesAndHostNamesAsHosts) {
  auto config = parse(kMinimal +
                      "amqp:\n  host: broker-1.licences.example\nredis:\n  host: localhost\n"
                      "http:\n  host: \"::1\"\n");

  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->amqp.host, "broker-1.licences.example");
  EXPECT_EQ(config->redis.options.host, "localhost");
  EXPECT_EQ(config->http.host, "::1");
}

TEST(ConfigLoader, RejectsHostThatIsNeitherAnAddressNorAHostName) {
  auto config = parse(kMinimal + "amqp:\n  host: \"not a host!\"\nredis:\n  host: -redis\n");

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message,
            "test.yaml: redis.host: \"-redis\" is not an IPv4 or IPv6 address or a host name\n"
            "test.yaml: amqp.host: \"not a host!\" is not an IPv4 or IPv6 address or a host "
            "name");
}

TEST(ConfigLoader, RejectsHostNameLabelLongerThanSixtyThreeCharacters) {
  auto config = parse(kMinimal + "redis:\n  host: " + std::string(64, 'a') + ".example\n");

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message, "test.yaml: redis.host: \"" + std::string(64, 'a') +
                                        ".example\" is not an IPv4 or IPv6 address or a host name");
}

TEST(ConfigLoader, RejectsMistypedAddressAsHost) {
  auto config = parse(kMinimal + "amqp:\n  host: 10.0.0.256\n");

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message,
            "test.yaml: amqp.host: \"10.0.0.256\" is not an IPv4 or IPv6 address or a host name");
}

TEST(ConfigLoader, RejectsHttpHostThatIsNotAnAddress) {
  auto config = parse(kMinimal + "http:\n  host: \"not a host!\"\n");

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message,
            "test.yaml: http.host: \"not a host!\" is not an IPv4 or IPv6 address (the HTTP "
            "server does not resolve host names)");
}

TEST(ConfigLoader, RejectsHostNameForTheHttpServer) {
  auto config = parse(kMinimal + "http:\n  host: localhost\n");

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message,
            "test.yaml: http.host: \"localhost\" is not an IPv4 or IPv6 address (the HTTP "
            "server does not resolve host names)");
}

TEST(ConfigLoader, RejectsTextWhereANumberIsExpected) {
  auto config = parse(kMinimal + "http:\n  threads: many\n");

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message,
            "test.yaml: http.threads: \"many\" is not a number of threads (1..64)");
}

TEST(ConfigLoader, ReadsTheHttpServersLimits) {
  auto config = parse(kMinimal +
                      "http:\n  header_timeout_ms: 2500\n  body_idle_timeout_ms: 7000\n"
                      "  max_connections: 64\n");

  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->http.header_timeout_ms, 2500);
  EXPECT_EQ(config->http.body_idle_timeout_ms, 7000);
  EXPECT_EQ(config->http.max_connections, 64);
}

TEST(ConfigLoader, RejectsAConnectionLimitOfZero) {
  auto config = parse(kMinimal + "http:\n  max_connections: 0\n");

  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("http.max_connections: 0"), std::string::npos)
      << config.error().message;
}

TEST(ConfigLoader, ReadsTheServiceIdsOfTheGovernmentGateway) {
  auto config = parse(kMinimal +
                      "shep:\n  services:\n    LICGATE_GET_LICENCE: GetLicence\n"
                      "    LICGATE_CHANGES: GetChanges\n");

  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->shep.services.size(), 2u);
  EXPECT_EQ(config->shep.services.at("LICGATE_CHANGES"), "GetChanges");
  EXPECT_EQ(config->shep.chain_ttl_ms, 30LL * 86'400'000);
}

TEST(ConfigLoader, ReadsAndBoundsTheChainsLifetime) {
  auto config = parse(kMinimal + "shep:\n  chain_ttl_ms: 3600000\n");
  auto zero = parse(kMinimal + "shep:\n  chain_ttl_ms: 0\n");

  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->shep.chain_ttl_ms, 3'600'000);
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.error().message.find("shep.chain_ttl_ms"), std::string::npos)
      << zero.error().message;
}

TEST(ConfigLoader, ReadsWhereAndAsWhomLicgateSendsOnTheAsynchronousChannel) {
  auto config = parse(kMinimal +
                      "redis:\n"
                      "shep:\n  async_url: http://10.0.0.5:8080/bip-async\n"
                      "  sender_id: LICGATE\n  password: secret\n  send_attempts: 5\n"
                      "  send_backoff_ms: 200\n  send_backoff_max_ms: 5000\n"
                      "  send_timeout_ms: 3000\n");

  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->shep.async_url, "http://10.0.0.5:8080/bip-async");
  EXPECT_EQ(config->shep.sender_id, "LICGATE");
  EXPECT_EQ(config->shep.password, "secret");
  EXPECT_EQ(config->shep.send_attempts, 5);
  EXPECT_EQ(config->shep.send_backoff_ms, 200);
  EXPECT_EQ(config->shep.send_backoff_max_ms, 5000);
  EXPECT_EQ(config->shep.send_timeout_ms, 3000);
}

TEST(ConfigLoader, RefusesAnAsynchronousChannelWithoutItsSenderOrWithABadUrl) {
  struct Case {
    std::string shep;
    std::string message_part;
  };
  const std::vector<Case> cases{
      {"  async_url: http://10.0.0.5/bip\n", "shep.sender_id: is required with async_url"},
      {"  async_url: ftp://10.0.0.5/bip\n  sender_id: L\n",
       "shep.async_url: \"ftp://10.0.0.5/bip\" is not an http:// or https:// URL"},
      {"  send_backoff_ms: 5000\n  send_backoff_max_ms: 100\n",
       "shep.send_backoff_max_ms: 100 is below send_backoff_ms (5000)"},
      {"  send_attempts: 0\n", "shep.send_attempts"},
  };
  for (const Case& each : cases) {
    auto config = parse(kMinimal + "shep:\n" + each.shep);

    ASSERT_FALSE(config.ok()) << each.shep;
    EXPECT_NE(config.error().message.find(each.message_part), std::string::npos)
        << config.error().message;
  }
}

TEST(ConfigLoader, RefusesAnAsynchronousChannelUrlThatIsMalformed) {
  struct Case {
    std::string url;
    std::string message;
  };
  const std::vector<Case> cases{
      {"http://", "\"http://\" has no host"},
      {"https:///bip", "\"https:///bip\" has no host"},
      {"http://:8080/bip", "\"http://:8080/bip\" has no host"},
      {"http://127.0.0.1:99999/x",
       "\"http://127.0.0.1:99999/x\" has port \"99999\", which is not a port (1..65535)"},
      {"http://127.0.0.1:0/x",
       "\"http://127.0.0.1:0/x\" has port \"0\", which is not a port (1..65535)"},
      {"http://127.0.0.1:/x",
       "\"http://127.0.0.1:/x\" has port \"\", which is not a port (1..65535)"},
      {"\"http://gw.example/bip async\"",
       "\"http://gw.example/bip async\" contains a space or a control character"},
      {"\"http://gw.example/\\tbip\"",
       "\"http://gw.example/\tbip\" contains a space or a control character"},
      {"http://-gw/bip",
       "\"http://-gw/bip\" has host \"-gw\", which is not an IPv4 address, a host name or an IPv6 "
       "address in brackets"},
      {"http://[10.0.0.5]/bip",
       "\"http://[10.0.0.5]/bip\" has a host in brackets that is not an IPv6 address"},
      {"http://L:secret@gw.example/bip",
       "\"http://L:secret@gw.example/bip\" carries credentials; give them as shep.sender_id and "
       "shep.password"},
  };
  for (const Case& each : cases) {
    auto config =
        parse(kMinimal + "redis:\nshep:\n  sender_id: L\n  async_url: " + each.url + "\n");

    ASSERT_FALSE(config.ok()) << each.url;
    EXPECT_EQ(config.error().message, "test.yaml: shep.async_url: " + each.message);
  }
}

TEST(ConfigLoader, AcceptsAsynchronousChannelUrlsWithAHost) {
  const std::vector<std::string> urls{"https://gw.example:8443/bip-async", "http://[::1]:8080/x",
                                      "http://10.0.0.5", "http://gw.example?x=1"};
  for (const std::string& url : urls) {
    auto config = parse(kMinimal + "redis:\nshep:\n  sender_id: L\n  async_url: " + url + "\n");

    ASSERT_TRUE(config.ok()) << config.error().message;
    EXPECT_EQ(config->shep.async_url, url);
  }
}

TEST(ConfigLoader, RefusesAnAsynchronousChannelWithoutRedis) {
  const std::string shep = "shep:\n  sender_id: L\n  async_url: http://10.0.0.5/bip\n";

  auto without = parse(kMinimal + shep);
  auto disabled = parse(kMinimal + "redis:\n  enabled: false\n" + shep);

  ASSERT_FALSE(without.ok());
  EXPECT_EQ(without.error().message,
            "test.yaml: shep.async_url: needs the redis section: the asynchronous channel's "
            "outbox is kept in Redis");
  ASSERT_FALSE(disabled.ok());
  EXPECT_EQ(disabled.error().message,
            "test.yaml: shep.async_url: needs Redis, which redis.enabled turns off: the "
            "asynchronous channel's outbox is kept there");
}

TEST(ConfigLoader, RefusesAnEmptyServiceId) {
  auto config = parse(kMinimal + "shep:\n  services:\n    \"\": GetLicence\n");

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message,
            "test.yaml: shep.services: \"\" is not a serviceId: a serviceId is never empty");
}

TEST(ConfigLoader, RefusesOnePortForBothListeners) {
  auto config = parse(kMinimal + "amqp:\n  port: 9000\nhttp:\n  port: 9000\n");

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message,
            "test.yaml: http.port: 9000 is also amqp.port (9000): the HTTP server and the AMQP "
            "intake need a port each");
}

TEST(ConfigLoader, LetsBothListenersTakeAnyFreePort) {
  auto config = parse(kMinimal + "amqp:\n  port: 0\nhttp:\n  port: 0\n");

  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->http.port, 0);
}

TEST(ConfigLoader, ResolvesTheGatewaysSchemaDirectoryAndRefusesOneThatIsNot) {
  const std::string tmp = std::filesystem::temp_directory_path().string();
  auto absolute = parse(kMinimal + "shep:\n  schema_dir: " + tmp + "\n");
  auto relative = parseConfig(kMinimal + "shep:\n  schema_dir: .\n", "test.yaml", tmp);
  auto missing = parse(kMinimal + "shep:\n  schema_dir: no-such-dir\n");

  ASSERT_TRUE(absolute.ok()) << absolute.error().message;
  EXPECT_EQ(absolute->shep.schema_dir, tmp);
  ASSERT_TRUE(relative.ok()) << relative.error().message;
  EXPECT_EQ(std::filesystem::path(relative->shep.schema_dir), std::filesystem::path(tmp) / "");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find(
                "shep.schema_dir: \"/etc/licgate/no-such-dir\" is not a directory"),
            std::string::npos)
      << missing.error().message;
}

TEST(ConfigLoader, RejectsAServiceIdOfAnUnknownOperation) {
  auto config = parse(kMinimal + "shep:\n  services:\n    TAX_1: DeleteLicence\n");

  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find(
                "shep.services.TAX_1: \"DeleteLicence\" is not an operation of licgate's"),
            std::string::npos)
      << config.error().message;
}

TEST(ConfigLoader, RejectsUnknownKey) {
  auto config = parse(kMinimal + "http:\n  prot: 8080\n");

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message,
            "test.yaml: http.prot: unknown key (known: host, port, threads, max_body_bytes, "
            "header_timeout_ms, body_idle_timeout_ms, max_connections)");
}

TEST(ConfigLoader, RejectsUnknownTopLevelSection) {
  auto config = parse(kMinimal + "soap:\n  port: 1\n");

  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("test.yaml: soap: unknown key"), std::string::npos);
}

TEST(ConfigLoader, ReportsEveryProblemOnItsOwnLine) {
  auto config = parse(kMinimal + "amqp:\n  port: -1\nlog:\n  format: xml\n");

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message,
            "test.yaml: amqp.port: -1 is not a port (0..65535)\n"
            "test.yaml: log.format: \"xml\" is not one of json, text");
}

TEST(ConfigLoader, RejectsKeyGivenTwice) {
  std::string text = kMinimal;
  text.replace(text.find("  path: /tmp/register.db"), 24,
               "  path: /tmp/register.db\n  path: /tmp/other.db");

  auto config = parse(text);

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message, "test.yaml: store.path: given twice");
}

TEST(ConfigLoader, RejectsSectionGivenTwice) {
  auto config = parse(kMinimal + "store:\n  path: /tmp/other.db\n");

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message, "test.yaml: store: given twice");
}

TEST(ConfigLoader, RejectsKeyGivenTwiceInAListItem) {
  std::string text = kMinimal;
  text.replace(text.find("    name: ERU\n"), 14, "    name: ERU\n    name: Other\n");

  auto config = parse(text);

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message, "test.yaml: licensors[0].name: given twice");
}

TEST(ConfigLoader, ReportsUnknownKeyOnceWhenGivenTwice) {
  auto config = parse(kMinimal + "http:\n  prot: 1\n  prot: 2\n");

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message,
            "test.yaml: http.prot: unknown key (known: host, port, threads, max_body_bytes, "
            "header_timeout_ms, body_idle_timeout_ms, max_connections)\n"
            "test.yaml: http.prot: given twice");
}

TEST(ConfigLoader, RejectsTextThatIsNotYaml) {
  auto config = parse("store: [unclosed\n");

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().code, ErrorCode::kMalformed);
  EXPECT_TRUE(config.error().message.starts_with("test.yaml:2:")) << config.error().message;
}

TEST(ConfigLoader, RequiresStorePath) {
  std::string text = kMinimal;
  text.replace(text.find("  path: /tmp/register.db"), 24, "  synchronous: normal");

  auto config = parse(text);

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message, "test.yaml: store.path: is required");
}

TEST(ConfigLoader, RejectsUnknownSynchronousMode) {
  std::string text = kMinimal;
  text.replace(text.find("  path: /tmp/register.db"), 24,
               "  path: /tmp/register.db\n  synchronous: off");

  auto config = parse(text);

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message,
            "test.yaml: store.synchronous: \"off\" is not one of full, normal");
}

TEST(ConfigLoader, RejectsCountryInCyrillicLetters) {
  std::string text = kMinimal;
  text.replace(text.find("  path: /tmp/register.db"), 24,
               "  path: /tmp/register.db\n  country: \"КZ\"");

  auto config = parse(text);

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message,
            "test.yaml: store.country: \"КZ\" is not an ISO 3166-1 alpha-2 code in Latin "
            "capitals");
}

TEST(ConfigLoader, RejectsSystemActingForUnlistedLicensor) {
  std::string text = kMinimal;
  text.replace(text.find("[CZ-ERU]"), 8, "[CZ-ERU, KZ-MIIR]");

  auto config = parse(text);

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message,
            "test.yaml: systems[0].licensors[1]: \"KZ-MIIR\" is not a licensor listed under "
            "licensors");
}

TEST(ConfigLoader, RejectsSystemListedTwice) {
  auto config = parse(kMinimal + "  - id: eru-export\n    name: again\n    licensors: [\"*\"]\n");

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message, "test.yaml: systems[1].id: \"eru-export\" is listed twice");
}

TEST(ConfigLoader, RequiresAtLeastOneSystem) {
  std::string text = kMinimal.substr(0, kMinimal.find("systems:"));

  auto config = parse(text);

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message,
            "test.yaml: systems: needs a list of at least one system (id, name, licensors)");
}

TEST(ConfigLoader, RejectsAddressNoFlowServes) {
  auto config = parse(kMinimal + "amqp:\n  addresses: [licences/events, queries/out]\n");

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message,
            "test.yaml: amqp.addresses[1]: \"queries/out\" is not one of licences/events");
}

TEST(ConfigLoader, RejectsTextWhereAListIsExpected) {
  auto config = parse(kMinimal + "amqp:\n  addresses: licences/events\n");

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message, "test.yaml: amqp.addresses: \"licences/events\" is not a list");
}

TEST(ConfigLoader, RejectsTextWhereAListOfLicensorsIsExpected) {
  std::string text = kMinimal;
  text.replace(text.find("[CZ-ERU]"), 8, "CZ-ERU");

  auto config = parse(text);

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message, "test.yaml: systems[0].licensors: \"CZ-ERU\" is not a list");
}

TEST(ConfigLoader, RejectsFlagThatIsNotBoolean) {
  auto config = parse(kMinimal + "redis:\n  enabled: perhaps\n");

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message, "test.yaml: redis.enabled: \"perhaps\" is not true or false");
}

TEST(ConfigLoader, RefusesAQuotedFlag) {
  auto double_quoted = parse(kMinimal + "redis:\n  enabled: \"false\"\n");
  auto single_quoted = parse(kMinimal + "redis:\n  enabled: 'true'\n");

  ASSERT_FALSE(double_quoted.ok());
  EXPECT_EQ(double_quoted.error().message,
            "test.yaml: redis.enabled: \"false\" is quoted, so a text, not true or false; write "
            "it unquoted");
  ASSERT_FALSE(single_quoted.ok());
  EXPECT_EQ(single_quoted.error().message,
            "test.yaml: redis.enabled: \"true\" is quoted, so a text, not true or false; write "
            "it unquoted");
}

TEST(ConfigLoader, ReadsAnUnquotedFlag) {
  auto config = parse(kMinimal + "redis:\n  enabled: false\n");

  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_FALSE(config->redis.enabled);
}

TEST(ConfigLoader, RefusesABackoffCeilingBelowTheBackoffQuotingBoth) {
  auto config = parse(kMinimal + "shep:\n  send_backoff_ms: 5000\n  send_backoff_max_ms: 100\n");

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message,
            "test.yaml: shep.send_backoff_max_ms: 100 is below send_backoff_ms (5000)");
}

TEST(ConfigLoader, EnablesRedisWhenItsSectionIsPresent) {
  auto config = parse(kMinimal + "redis:\n  port: 6380\n");

  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_TRUE(config->redis.enabled);
  EXPECT_EQ(config->redis.options.port, 6380);
}

TEST(ConfigLoader, EnablesRedisWithItsDefaultsWhenItsSectionIsEmpty) {
  auto config = parse(kMinimal + "redis:\n");

  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_TRUE(config->redis.enabled);
  EXPECT_EQ(config->redis.options.host, "127.0.0.1");
  EXPECT_EQ(config->redis.options.port, 6379);
}

TEST(ConfigLoader, RejectsSectionThatIsNotAMapping) {
  auto config = parse(kMinimal + "http: 8080\n");

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message, "test.yaml: http: 8080 is not a mapping");
}

TEST(ConfigLoader, ReportsUnreadableFile) {
  auto config = loadConfigFile("/nonexistent/licgate.yaml");

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(config.error().message,
            "configuration file /nonexistent/licgate.yaml cannot be read: no such file or "
            "directory");
}

TEST(ConfigLoader, RefusesADirectory) {
  const std::string path = std::string(LICGATE_SOURCE_DIR) + "/config";

  auto config = loadConfigFile(path);

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(config.error().message,
            "configuration file " + path + " cannot be read: it is a directory");
}

TEST(ConfigLoader, RefusesAFileThatIsNotARegularFile) {
  auto config = loadConfigFile("/dev/null");

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(config.error().message,
            "configuration file /dev/null cannot be read: it is not a regular file");
}

TEST(SystemConfig, WildcardActsForEveryLicensor) {
  SystemConfig system{"portal", "Portal", {"*"}};

  EXPECT_TRUE(system.mayActFor("CZ-ERU"));
  EXPECT_TRUE(system.mayActFor("KZ-MIIR"));
}

TEST(SystemConfig, ListedLicensorsOnly) {
  SystemConfig system{"eru-export", "ERU", {"CZ-ERU"}};

  EXPECT_TRUE(system.mayActFor("CZ-ERU"));
  EXPECT_FALSE(system.mayActFor("KZ-MIIR"));
}

TEST(Config, FindsSystemById) {
  Config config;
  config.systems = {{"a", "A", {"*"}}, {"b", "B", {"*"}}};

  EXPECT_EQ(config.findSystem("b"), &config.systems[1]);
  EXPECT_EQ(config.findSystem("c"), nullptr);
}

}  // namespace
}  // namespace licgate::config
