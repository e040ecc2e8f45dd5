// The licgate program:
//   licgate serve --config FILE [--ports-file F]   run the register's gateway
//   licgate check-config FILE                      check a configuration
//   licgate send --system SYS --format FMT FILE... send records as AMQP messages
//   licgate play-bodies --config FILE [--ports-file F] play interested bodies
#include <sysexits.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "config/config.hpp"
#include "gateway/body_simulator.hpp"
#include "gateway/logging.hpp"
#include "gateway/send_command.hpp"
#include "gateway/serve.hpp"

namespace {

using licgate::config::Config;

constexpr const char* kVersion = "0.1.0";

// The exit code of every usage error, whatever the command: an unknown
// option, a required one missing or empty, a value out of range or not in
// its form. sysexits.h's EX_USAGE (64) is apart from the small codes each
// command gives its own outcomes (2 is a file that cannot be read, say).
constexpr int kUsageError = EX_USAGE;

// Refuses an empty value. A required option given as "" counts as given,
// and `--system ""` would be sent and dead-lettered by licgate for a reason
// the sender could have been told at once.
const CLI::Validator kNotEmpty(
    [](std::string& value) { return value.empty() ? std::string("is empty") : std::string(); }, "",
    "NOT_EMPTY");

int serve(const std::string& config_path, const std::string& ports_file) {
  auto config = licgate::config::loadConfigFile(config_path);
  if (!config.ok()) {
    std::cerr << "licgate: " << config.error().message << '\n';
    return 2;
  }
  licgate::gateway::setupLogging(config->log);
  licgate::gateway::getLogger("gateway")->info("licgate {} starting with {}", kVersion,
                                               config_path);
  return licgate::gateway::runServe(*config, {ports_file});
}

int checkConfig(const std::string& config_path) {
  auto config = licgate::config::loadConfigFile(config_path);
  if (!config.ok()) {
    std::cerr << config.error().message << '\n';
    return 1;
  }
  const Config& c = *config;
  std::cout << config_path << ": valid\n"
            << "  store: " << c.store.path << '\n'
            << "  amqp: " << c.amqp.host << ':' << c.amqp.port << '\n'
            << "  http: " << c.http.host << ':' << c.http.port << '\n'
            << "  redis: "
            << (c.redis.enabled ? c.redis.options.host + ":" + std::to_string(c.redis.options.port)
                                : std::string("disabled"))
            << '\n'
            << "  licensors: " << c.licensors.size() << ", systems: " << c.systems.size() << '\n'
            << "  conformity: "
            << (c.conformity.enabled()
                    ? std::to_string(c.conformity.activities.size()) + " activities, " +
                          std::to_string(c.conformity.bodies.size()) + " bodies, " +
                          std::to_string(c.conformity.outcomes.size()) + " outcome channels"
                    : std::string("off"))
            << '\n';
  return 0;
}

// What `licgate send` is given on the command line.
struct SendArguments {
  licgate::gateway::SendCommand command;
  std::string url = "amqp://127.0.0.1:5672";
  std::string format;
  int timeout_s = 60;
  bool no_replies = false;
};

CLI::App* addSendCommand(CLI::App& app, SendArguments& args) {
  auto* send = app.add_subcommand("send", "Send the records of files as AMQP messages");
  auto& options = args.command.options;
  send->add_option("--url", args.url, "licgate's AMQP listener, amqp://HOST:PORT")
      ->capture_default_str()
      ->check(kNotEmpty);
  send->add_option("--address", options.address, "Target address")
      ->capture_default_str()
      ->check(kNotEmpty);
  send->add_option("--system", options.system, "The sending system's id")
      ->required()
      ->check(kNotEmpty);
  send->add_option("--format", args.format,
                   "eru-xml, eru-holders-csv, eru-establishments-csv, xml or json")
      ->required()
      ->check(kNotEmpty);
  send->add_option("--window", options.window, "Most deliveries unsettled at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  send->add_option("--max-attempts", options.max_attempts,
                   "Sends of a message that is released each time")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  send->add_option("--timeout", args.timeout_s, "Seconds without progress before giving up")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  send->add_flag("--no-replies", args.no_replies, "Do not ask for outcome messages");
  send->add_option("FILE", args.command.files, "Files to send")->required()->check(kNotEmpty);
  return send;
}

int send(SendArguments& args) {
  auto& command = args.command;
  if (auto parsed = licgate::gateway::parseAmqpUrl(args.url, command.options); !parsed.ok()) {
    std::cerr << "send: " << parsed.error().message << '\n';
    return kUsageError;
  }
  auto source_format = licgate::gateway::parseSourceFormat(args.format);
  if (!source_format.ok()) {
    std::cerr << "send: " << source_format.error().message << '\n';
    return kUsageError;
  }
  command.format = *source_format;
  command.options.idle_timeout = std::chrono::seconds(args.timeout_s);
  command.options.want_replies = !args.no_replies;
  return licgate::gateway::runSend(command, std::cout, std::cerr);
}

int playBodies(const std::string& config_path, const std::string& ports_file) {
  auto config = licgate::gateway::loadSimConfigFile(config_path);
  if (!config.ok()) {
    std::cerr << "play-bodies: " << config.error().message << '\n';
    return 2;
  }
  // On stderr, so that stdout carries only the counters printed at the end.
  licgate::gateway::setupLogging({"info", licgate::config::LogFormat::kText});
  return licgate::gateway::runPlayBodies(*config, ports_file);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"licgate: the integration gateway of the state register of licences"};
  app.set_version_flag("--version", kVersion);
  app.require_subcommand(1);

  std::string config_path;
  std::string ports_file;
  auto* serve_command = app.add_subcommand("serve", "Run the AMQP intake and the HTTP API");
  serve_command->add_option("--config", config_path, "Configuration file (YAML)")
      ->required()
      ->check(kNotEmpty);
  serve_command
      ->add_option("--ports-file", ports_file,
                   "Write {\"amqp\":N,\"http\":M} here once the listeners are bound")
      ->check(kNotEmpty);

  std::string check_path;
  auto* check_command = app.add_subcommand("check-config", "Check a configuration file");
  check_command->add_option("FILE", check_path, "Configuration file (YAML)")
      ->required()
      ->check(kNotEmpty);

  SendArguments send_args;
  addSendCommand(app, send_args);

  std::string bodies_config;
  std::string bodies_ports;
  auto* bodies_command = app.add_subcommand(
      "play-bodies", "Play interested bodies and licensors' outcome receivers (conformity)");
  bodies_command->add_option("--config", bodies_config, "Simulator configuration (YAML)")
      ->required()
      ->check(kNotEmpty);
  bodies_command
      ->add_option("--ports-file", bodies_ports,
                   "Write the bound listen ports here as JSON once everything listens")
      ->check(kNotEmpty);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version arrive here too, and end with 0; every other
    // parse error is a usage error, whichever code CLI11 gives it.
    return app.exit(e) == 0 ? 0 : kUsageError;
  }

  // Exceptions end the program here, at its edge, with their message; the
  // handlers inside catch their own.
  try {
    if (serve_command->parsed()) {
      return serve(config_path, ports_file);
    }
    if (check_command->parsed()) {
      return checkConfig(check_path);
    }
    if (bodies_command->parsed()) {
      return playBodies(bodies_config, bodies_ports);
    }
    return send(send_args);
  } catch (const std::exception& e) {
    std::cerr << "licgate: " << e.what() << '\n';
    return 1;
  }
}
