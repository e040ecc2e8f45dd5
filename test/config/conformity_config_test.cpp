// Tests of the configuration's conformity section: the interested bodies,
// their channels and deadlines, the activities that need them and the
// working-day calendar, with one test per kind of problem.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "config/config.hpp"
#include "test/config/config_samples.hpp"

namespace licgate::config {
namespace {

using samples::kMinimal;

const std::string kSourceDir = LICGATE_SOURCE_DIR;

// The configuration with Redis (which the flow needs) and `conformity`
// appended, read as if from a file in the source tree's config/ directory
// (so that calendar-kz.yaml is found).
registry::Result<Config> parse(const std::string& conformity) {
  return parseConfig(kMinimal + "redis: {host: 127.0.0.1, port: 6379}\nconformity:\n" + conformity,
                     "test.yaml", kSourceDir + "/config");
}

// The one body section around `body_keys` (indented for a list item).
std::string oneBody(const std::string& body_keys) {
  return "  bodies:\n    - id: sanitary\n      name: Sanitary\n" + body_keys;
}

const std::string kAmqpChannel = "      channel: {amqp_address: conformity/sanitary}\n";

TEST(ConformityConfig, ReadsEveryKeyOfAFullSection) {
  auto config = parse(R"(
  calendar: calendar-kz.yaml
  bodies:
    - id: sanitary
      name: Sanitary and epidemiological control
      channel: {amqp_address: conformity/sanitary}
      deadline_working_days: 15
      on_silence: expire
      retry: {initial_ms: 500, max_ms: 30000, attempts: 7}
    - id: fire
      name: Fire safety
      channel:
        amqp_peer: {url: "amqp://mchs.example.kz:5672", address: queries/licgate}
    - id: ecology
      name: Ecology
      channel: {soap_url: "https://eco.example.kz/conformity"}
    - id: police
      name: Police
      channel: {amqp_address: conformity/police}
      deadline_seconds: 30
  activities:
    "05.1": [sanitary, fire]
    "12.3": [ecology]
  outcomes:
    CZ-ERU: {soap_url: "https://eru.example.cz/outcomes"}
  utc_offset: "-03:30"
  send_timeout_ms: 2500
  keep_delivered_days: 30
)");

  ASSERT_TRUE(config.ok()) << config.error().message;
  const ConformityConfig& conformity = config->conformity;
  EXPECT_EQ(conformity.calendar, kSourceDir + "/config/calendar-kz.yaml");
  EXPECT_EQ(conformity.calendar_data.weekend.size(), 2u);
  EXPECT_FALSE(conformity.calendar_data.holidays.empty());
  ASSERT_EQ(conformity.bodies.size(), 4u);

  const BodyConfig& sanitary = conformity.bodies[0];
  EXPECT_EQ(sanitary.id, "sanitary");
  EXPECT_EQ(sanitary.name, "Sanitary and epidemiological control");
  EXPECT_EQ(sanitary.channel.kind, BodyChannelKind::kAmqpAddress);
  EXPECT_EQ(sanitary.channel.address, "conformity/sanitary");
  EXPECT_EQ(sanitary.deadline_working_days, 15);
  EXPECT_EQ(sanitary.deadline_seconds, 0);
  EXPECT_EQ(sanitary.on_silence, SilenceRule::kExpire);
  EXPECT_EQ(sanitary.retry.initial_ms, 500);
  EXPECT_EQ(sanitary.retry.max_ms, 30000);
  EXPECT_EQ(sanitary.retry.attempts, 7);

  const BodyConfig& fire = conformity.bodies[1];
  EXPECT_EQ(fire.channel.kind, BodyChannelKind::kAmqpPeer);
  EXPECT_EQ(fire.channel.peer_url, "amqp://mchs.example.kz:5672");
  EXPECT_EQ(fire.channel.address, "queries/licgate");

  const BodyConfig& ecology = conformity.bodies[2];
  EXPECT_EQ(ecology.channel.kind, BodyChannelKind::kSoap);
  EXPECT_EQ(ecology.channel.soap_url, "https://eco.example.kz/conformity");

  EXPECT_EQ(conformity.bodies[3].deadline_seconds, 30);
  ASSERT_EQ(conformity.outcomes.size(), 1u);
  EXPECT_EQ(conformity.outcomes.at("CZ-ERU").kind, BodyChannelKind::kSoap);
  EXPECT_EQ(conformity.outcomes.at("CZ-ERU").soap_url, "https://eru.example.cz/outcomes");
  EXPECT_EQ(conformity.utc_offset_minutes, -210);
  EXPECT_EQ(conformity.send_timeout_ms, 2500);
  EXPECT_EQ(conformity.keep_delivered_days, 30);
  EXPECT_TRUE(conformity.enabled());

  ASSERT_EQ(conformity.activities.size(), 2u);
  EXPECT_EQ(conformity.activities.at("05.1"), (std::vector<std::string>{"sanitary", "fire"}));
  EXPECT_EQ(conformity.activities.at("12.3"), std::vector<std::string>{"ecology"});
  EXPECT_EQ(conformity.findBody("fire"), &conformity.bodies[1]);
  EXPECT_EQ(conformity.findBody("customs"), nullptr);
}

TEST(ConformityConfig, AppliesDefaults) {
  auto config = parse(oneBody(kAmqpChannel));

  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_TRUE(config->conformity.calendar.empty());
  EXPECT_TRUE(config->conformity.activities.empty());
  ASSERT_EQ(config->conformity.bodies.size(), 1u);
  const BodyConfig& body = config->conformity.bodies[0];
  EXPECT_EQ(body.deadline_working_days, 10);
  EXPECT_EQ(body.on_silence, SilenceRule::kConsent);
  EXPECT_EQ(body.retry.initial_ms, 1000);
  EXPECT_EQ(body.retry.max_ms, 60000);
  EXPECT_EQ(body.retry.attempts, 20);
  EXPECT_EQ(body.deadline_seconds, 0);
  EXPECT_EQ(config->conformity.utc_offset_minutes, 300);
  EXPECT_EQ(config->conformity.send_timeout_ms, 10000);
  EXPECT_EQ(config->conformity.keep_delivered_days, 90);
  EXPECT_FALSE(config->conformity.enabled());
}

TEST(ConformityConfig, LeavesTheSectionEmptyWhenAbsent) {
  auto config = parseConfig(kMinimal, "test.yaml", "/etc/licgate");

  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_TRUE(config->conformity.bodies.empty());
  EXPECT_TRUE(config->conformity.calendar.empty());
}

struct BadSection {
  std::string conformity;
  std::string message;
};

class ConformityConfigProblem : public testing::TestWithParam<BadSection> {};

TEST_P(ConformityConfigProblem, IsReportedWithItsPathAndValue) {
  auto config = parse(GetParam().conformity);

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().code, registry::ErrorCode::kInvalidField);
  EXPECT_EQ(config.error().message, GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    EachKind, ConformityConfigProblem,
    testing::Values(
        BadSection{oneBody(kAmqpChannel) + "    - id: sanitary\n      name: Again\n" +
                       "      channel: {amqp_address: conformity/again}\n",
                   "test.yaml: conformity.bodies[1].id: \"sanitary\" is listed twice"},
        BadSection{oneBody("      channel: {amqp_address: a, soap_url: \"http://x.example\"}\n"),
                   "test.yaml: conformity.bodies[0].channel: gives amqp_address and soap_url; a "
                   "channel is exactly one of them"},
        BadSection{oneBody(""),
                   "test.yaml: conformity.bodies[0].channel: is required (one of amqp_address, "
                   "amqp_peer, soap_url)"},
        BadSection{oneBody("      channel: {}\n"),
                   "test.yaml: conformity.bodies[0].channel: needs one of amqp_address, "
                   "amqp_peer, soap_url"},
        BadSection{oneBody("      channel: {soap_url: \"ftp://eco.example.kz/q\"}\n"),
                   "test.yaml: conformity.bodies[0].channel.soap_url: \"ftp://eco.example.kz/q\" "
                   "is not an http:// or https:// URL"},
        BadSection{oneBody("      channel: {soap_url: \"https:///q\"}\n"),
                   "test.yaml: conformity.bodies[0].channel.soap_url: \"https:///q\" has no host"},
        BadSection{
            oneBody("      channel:\n        amqp_peer: {url: \"http://mchs.example.kz:5672\","
                    " address: q}\n"),
            "test.yaml: conformity.bodies[0].channel.amqp_peer.url: "
            "\"http://mchs.example.kz:5672\" is not an amqp://host:port URL"},
        BadSection{oneBody("      channel:\n        amqp_peer: {url: \"amqp://mchs.example.kz\","
                           " address: q}\n"),
                   "test.yaml: conformity.bodies[0].channel.amqp_peer.url: "
                   "\"amqp://mchs.example.kz\" has no port (amqp://host:port)"},
        BadSection{
            oneBody("      channel:\n        amqp_peer: {url: \"amqp://mchs.example.kz:5672\"}\n"),
            "test.yaml: conformity.bodies[0].channel.amqp_peer.address: is required"},
        BadSection{oneBody(kAmqpChannel + "      deadline_working_days: 0\n"),
                   "test.yaml: conformity.bodies[0].deadline_working_days: 0 is not a number of "
                   "working days (1..365)"},
        BadSection{oneBody(kAmqpChannel + "      on_silence: wait\n"),
                   "test.yaml: conformity.bodies[0].on_silence: \"wait\" is not one of consent, "
                   "expire"},
        BadSection{oneBody(kAmqpChannel + "      retry: {initial_ms: 5000, max_ms: 1000}\n"),
                   "test.yaml: conformity.bodies[0].retry.max_ms: 1000 is below initial_ms "
                   "(5000)"},
        BadSection{oneBody(kAmqpChannel + "      retry: {attempts: 0}\n"),
                   "test.yaml: conformity.bodies[0].retry.attempts: 0 is not a number of "
                   "attempts (1..1000)"},
        BadSection{"  calendar: calendar-kz.yaml\n" + oneBody(kAmqpChannel) +
                       "  activities:\n    \"05.1\": [sanitary, fire]\n",
                   "test.yaml: conformity.activities.05.1[1]: \"fire\" is not a body listed "
                   "under conformity.bodies"},
        BadSection{"  calendar: calendar-kz.yaml\n" + oneBody(kAmqpChannel) +
                       "  activities:\n    \"05.1\": []\n",
                   "test.yaml: conformity.activities.05.1: needs at least one body id; leave out "
                   "an activity no body is asked on"},
        BadSection{oneBody(kAmqpChannel + "      deadline_working_days: 3\n" +
                           "      deadline_seconds: 60\n"),
                   "test.yaml: conformity.bodies[0]: gives deadline_working_days and "
                   "deadline_seconds; a body has one deadline"},
        BadSection{oneBody(kAmqpChannel) + "  activities:\n    \"05.1\": [sanitary]\n",
                   "test.yaml: conformity.calendar: is required when activities are listed: "
                   "deadlines are counted in working days (config/calendar-kz.yaml is "
                   "Kazakhstan's)"},
        BadSection{"  keep_delivered_days: -1\n",
                   "test.yaml: conformity.keep_delivered_days: -1 is not a number of days "
                   "(0..36500)"},
        BadSection{"  utc_offset: \"+5\"\n",
                   "test.yaml: conformity.utc_offset: \"+5\" is not an offset from UTC such as "
                   "\"+05:00\" (-14:00..+14:00)"},
        BadSection{"  bodies:\n    - id: \" sanitary\"\n      name: Sanitary\n" + kAmqpChannel,
                   "test.yaml: conformity.bodies[0].id: \" sanitary\" starts or ends with a "
                   "space (a conclusion naming it would be refused)"},
        BadSection{
            "  bodies:\n    - id: " + std::string(129, 's') + "\n      name: S\n" + kAmqpChannel,
            "test.yaml: conformity.bodies[0].id: is longer than 128 characters (129) (a "
            "conclusion naming it would be refused)"},
        BadSection{oneBody(kAmqpChannel) + "  calendar: calendar-kz.yaml\n  activities:\n    \"" +
                       std::string(65, '1') + "\": [sanitary]\n",
                   "test.yaml: conformity.activities." + std::string(65, '1') +
                       ": is longer than 64 characters (65) (a request naming it would be "
                       "refused)"},
        BadSection{"  bodies:\n    - {id: a, name: A, channel: {}}\n"
                   "    - {id: b, name: B, channel: {}}\n",
                   "test.yaml: conformity.bodies[0].channel: needs one of amqp_address, "
                   "amqp_peer, soap_url\ntest.yaml: conformity.bodies[1].channel: needs one of "
                   "amqp_address, amqp_peer, soap_url"},
        BadSection{oneBody(kAmqpChannel + "      deadline_working_days: true\n"
                                          "      deadline_seconds: 30\n"),
                   "test.yaml: conformity.bodies[0].deadline_working_days: \"true\" is not a "
                   "number of working days (1..365)"},
        BadSection{"  utc_offset: \"+14:59\"\n",
                   "test.yaml: conformity.utc_offset: \"+14:59\" is not an offset from UTC "
                   "such as \"+05:00\" (-14:00..+14:00)"},
        BadSection{"  utc_offset: \"+15:00\"\n",
                   "test.yaml: conformity.utc_offset: \"+15:00\" is not an offset from UTC "
                   "such as \"+05:00\" (-14:00..+14:00)"},
        BadSection{oneBody(kAmqpChannel) + "    - id: fire\n      name: Fire\n" + kAmqpChannel,
                   "test.yaml: conformity.bodies[1].channel: is the channel of "
                   "conformity.bodies[0].channel too: each body and each licensor needs a "
                   "channel of its own"},
        BadSection{oneBody(kAmqpChannel) + "  outcomes:\n    CZ-ERU: {amqp_address: "
                                           "conformity/sanitary}\n",
                   "test.yaml: conformity.outcomes.CZ-ERU: is the channel of "
                   "conformity.bodies[0].channel too: each body and each licensor needs a "
                   "channel of its own"},
        BadSection{oneBody("      channel: {amqp_address: conformity/conclusions}\n"),
                   "test.yaml: conformity.bodies[0].channel: \"conformity/conclusions\" is an "
                   "address licgate takes deliveries on, not one it sends on"},
        BadSection{oneBody("      channel: {amqp_address: \"conformity/sani tary\"}\n"),
                   "test.yaml: conformity.bodies[0].channel: \"conformity/sani tary\" has a "
                   "space: an AMQP address has none"},
        BadSection{"  outcomes:\n    KZ-MINING: {amqp_address: outcomes/mining}\n",
                   "test.yaml: conformity.outcomes.KZ-MINING: \"KZ-MINING\" is not a licensor "
                   "listed under licensors"},
        BadSection{"  outcomes:\n    CZ-ERU: {}\n",
                   "test.yaml: conformity.outcomes.CZ-ERU: needs one of amqp_address, "
                   "amqp_peer, soap_url"},
        BadSection{"  calendar: missing-calendar.yaml\n",
                   "test.yaml: conformity.calendar: calendar file " + kSourceDir +
                       "/config/missing-calendar.yaml cannot be read: no such file or "
                       "directory"}));

TEST(ConformityConfig, ReportsTheProblemsOfAnInvalidCalendarFileAtItsKey) {
  const auto dir = std::filesystem::temp_directory_path() / "licgate-conformity-config-test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "calendar.yaml") << "weekend: [saturday, funday]\nholidays: []\n";

  auto config =
      parseConfig(kMinimal + "conformity:\n  calendar: calendar.yaml\n", "test.yaml", dir.string());

  ASSERT_FALSE(config.ok());
  const std::string file = (dir / "calendar.yaml").string();
  EXPECT_EQ(config.error().message, "test.yaml: conformity.calendar: " + file +
                                        ": weekend[1]: \"funday\" is not one of sunday, monday, "
                                        "tuesday, wednesday, thursday, friday, saturday");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace licgate::config

namespace licgate::config {
namespace {

TEST(ConformityConfig, NeedsRedisWhenActivitiesAreListed) {
  auto config = parseConfig(kMinimal + "conformity:\n  calendar: calendar-kz.yaml\n" +
                                oneBody(kAmqpChannel) + "  activities:\n    \"05.1\": [sanitary]\n",
                            "test.yaml", kSourceDir + "/config");

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message,
            "test.yaml: conformity.activities: need Redis, which holds the conformity queries in "
            "flight; redis.enabled is off or the redis section is missing");
}

}  // namespace
}  // namespace licgate::config
