// The body simulator's configuration (gateway/body_simulator.hpp), read
// with the same strict reader as licgate's own (config/yaml_reader.hpp).
#include <charconv>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "config/host_check.hpp"
#include "config/yaml_reader.hpp"
#include "gateway/amqp_sender.hpp"
#include "gateway/body_simulator.hpp"

namespace licgate::gateway {

namespace {

using config::Reader;
using registry::ErrorCode;
using registry::makeError;

constexpr config::Range kMilliseconds{0, 86'400'000, "a number of milliseconds"};

// "HOST:PORT" into the channel; the port may be 0 (any free port).
bool readListen(Reader& reader, const YAML::Node& map, const std::string& path,
                SimChannel& channel) {
  std::string listen;
  if (!reader.readString(map, path, "listen", listen, true)) {
    return false;
  }
  const auto colon = listen.rfind(':');
  int port = -1;
  if (colon != std::string::npos) {
    const char* begin = listen.data() + colon + 1;
    const char* end = listen.data() + listen.size();
    auto [stop, ec] = std::from_chars(begin, end, port);
    if (ec != std::errc() || stop != end) {
      port = -1;
    }
  }
  if (colon == std::string::npos || colon == 0 || port < 0 || port > 65535) {
    reader.fail(config::childPath(path, "listen"),
                "\"" + listen + "\" is not HOST:PORT (a port of 0..65535; 0: any free port)");
    return false;
  }
  channel.host = listen.substr(0, colon);
  channel.port = port;
  return true;
}

// `channel: {amqp_address: A}`, `{amqp_peer: {listen, address}}` or
// `{soap: {listen}}`: exactly one of them.
void readChannel(Reader& reader, const YAML::Node& map, const std::string& owner,
                 SimChannel& channel) {
  const std::string path = config::childPath(owner, "channel");
  const YAML::Node node = map["channel"];
  if (!node.IsDefined()) {
    reader.fail(path, "is required");
    return;
  }
  if (!reader.checkMap(node, path, {"amqp_address", "amqp_peer", "soap"})) {
    return;
  }
  if (node.size() != 1) {
    reader.fail(path, "must give exactly one of amqp_address, amqp_peer, soap");
    return;
  }
  if (node["amqp_address"].IsDefined()) {
    channel.kind = SimChannel::Kind::kAmqpAddress;
    reader.readString(node, path, "amqp_address", channel.address, true);
    return;
  }
  if (node["amqp_peer"].IsDefined()) {
    const std::string peer = config::childPath(path, "amqp_peer");
    channel.kind = SimChannel::Kind::kAmqpPeer;
    if (reader.checkMap(node["amqp_peer"], peer, {"listen", "address"})) {
      readListen(reader, node["amqp_peer"], peer, channel);
      reader.readString(node["amqp_peer"], peer, "address", channel.address, true);
    }
    return;
  }
  const std::string soap = config::childPath(path, "soap");
  channel.kind = SimChannel::Kind::kSoap;
  if (reader.checkMap(node["soap"], soap, {"listen"})) {
    readListen(reader, node["soap"], soap, channel);
  }
}

bool readVerdict(Reader& reader, const YAML::Node& node, const std::string& where,
                 registry::Verdict& out) {
  if (!node.IsScalar()) {
    reader.fail(where, config::describe(node) + " is not a verdict");
    return false;
  }
  auto verdict = registry::verdictFromName(node.Scalar());
  if (!verdict) {
    reader.fail(where, "\"" + node.Scalar() + "\" is not one of conforms, does-not-conform");
    return false;
  }
  out = *verdict;
  return true;
}

void readVerdicts(Reader& reader, const YAML::Node& map, const std::string& path, SimBody& body) {
  const std::string where = config::childPath(path, "verdicts");
  const YAML::Node node = map["verdicts"];
  if (!node.IsDefined()) {
    return;
  }
  if (!node.IsMap()) {
    reader.fail(where, config::describe(node) + " is not a mapping");
    return;
  }
  for (const auto& entry : node) {
    const std::string application = entry.first.Scalar();
    registry::Verdict verdict{};
    if (readVerdict(reader, entry.second, config::childPath(where, application), verdict) &&
        !body.verdicts.emplace(application, verdict).second) {
      reader.fail(config::childPath(where, application), "given twice");
    }
  }
}

SimBody readBody(Reader& reader, const YAML::Node& node, const std::string& path) {
  SimBody body;
  if (!reader.checkMap(node, path,
                       {"id", "channel", "verdict", "verdicts", "reasons", "signer", "delay_ms",
                        "down_for_ms", "silent", "answer_over"})) {
    return body;
  }
  reader.readString(node, path, "id", body.id, true);
  readChannel(reader, node, path, body.channel);
  if (node["verdict"].IsDefined()) {
    readVerdict(reader, node["verdict"], config::childPath(path, "verdict"), body.verdict);
  }
  readVerdicts(reader, node, path, body);
  body.reasons = {"checked by the " + body.id + " body"};
  reader.readStringList(node, path, "reasons", body.reasons);
  body.signer = "Inspector of " + body.id;
  reader.readString(node, path, "signer", body.signer);
  reader.readInteger(node, path, "delay_ms", kMilliseconds, body.delay_ms);
  reader.readInteger(node, path, "down_for_ms", kMilliseconds, body.down_for_ms);
  reader.readBool(node, path, "silent", body.silent);
  body.answer_over_soap = body.channel.kind == SimChannel::Kind::kSoap;
  std::string answer_over;
  if (reader.readString(node, path, "answer_over", answer_over) && !answer_over.empty()) {
    static constexpr std::string_view kWays[] = {"amqp", "soap"};
    if (reader.checkOneOf(config::childPath(path, "answer_over"), answer_over, kWays)) {
      body.answer_over_soap = answer_over == "soap";
    }
  }
  return body;
}

SimLicensor readLicensor(Reader& reader, const YAML::Node& node, const std::string& path) {
  SimLicensor licensor;
  if (!reader.checkMap(node, path, {"code", "channel"})) {
    return licensor;
  }
  reader.readString(node, path, "code", licensor.code, true);
  readChannel(reader, node, path, licensor.channel);
  return licensor;
}

// A list section whose items are read by `read_item`.
template <typename Item, typename ReadItem>
void readList(Reader& reader, const YAML::Node& root, std::string_view key, std::vector<Item>& out,
              ReadItem read_item) {
  const YAML::Node node = root[std::string(key)];
  if (!node.IsDefined()) {
    return;
  }
  if (!node.IsSequence()) {
    reader.fail(std::string(key), config::describe(node) + " is not a list");
    return;
  }
  for (std::size_t i = 0; i < node.size(); ++i) {
    out.push_back(read_item(reader, node[i], std::string(key) + "[" + std::to_string(i) + "]"));
  }
}

void readLicgate(Reader& reader, const YAML::Node& root, SimConfig& config) {
  const YAML::Node node = root["licgate"];
  if (!reader.readSection(node, "licgate", {"amqp_url", "soap_url"})) {
    return;
  }
  std::string amqp_url;
  if (reader.readString(node, "licgate", "amqp_url", amqp_url) && !amqp_url.empty()) {
    SendOptions parsed;
    if (auto status = parseAmqpUrl(amqp_url, parsed); !status.ok()) {
      reader.fail("licgate.amqp_url", status.error().message);
    } else {
      config.amqp_host = parsed.host;
      config.amqp_port = parsed.port;
    }
  }
  if (reader.readString(node, "licgate", "soap_url", config.soap_url)) {
    const std::string problem =
        config::httpUrlProblem(config.soap_url, ", which the simulator does not send");
    if (!problem.empty()) {
      reader.fail("licgate.soap_url", "\"" + config.soap_url + "\" " + problem);
    }
  }
}

void checkUnique(Reader& reader, const SimConfig& config) {
  std::set<std::string> ids;
  for (std::size_t i = 0; i < config.bodies.size(); ++i) {
    if (!config.bodies[i].id.empty() && !ids.insert(config.bodies[i].id).second) {
      reader.fail("bodies[" + std::to_string(i) + "].id",
                  "\"" + config.bodies[i].id + "\" is given to another body already");
    }
  }
  std::set<std::string> codes;
  for (std::size_t i = 0; i < config.licensors.size(); ++i) {
    if (!config.licensors[i].code.empty() && !codes.insert(config.licensors[i].code).second) {
      reader.fail("licensors[" + std::to_string(i) + "].code",
                  "\"" + config.licensors[i].code + "\" is given to another licensor already");
    }
  }
}

}  // namespace

registry::Result<SimConfig> readSimConfig(const std::string& yaml_text, const std::string& origin) {
  auto root = config::parseYaml(yaml_text, origin);
  if (!root.ok()) {
    return root.error();
  }
  Reader reader;
  SimConfig config;
  if (reader.checkMap(*root, "", {"licgate", "bodies", "licensors", "stats_file"})) {
    readLicgate(reader, *root, config);
    readList(reader, *root, "bodies", config.bodies, readBody);
    readList(reader, *root, "licensors", config.licensors, readLicensor);
    reader.readString(*root, "", "stats_file", config.stats_file);
    checkUnique(reader, config);
  }
  LICGATE_RETURN_IF_ERROR(reader.result(origin));
  return config;
}

registry::Result<SimConfig> loadSimConfigFile(const std::string& path) {
  std::error_code ignored;
  if (!std::filesystem::is_regular_file(path, ignored)) {
    return makeError(ErrorCode::kNotFound, "configuration file " + path + " cannot be read");
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return makeError(ErrorCode::kNotFound, "configuration file " + path + " cannot be read");
  }
  std::ostringstream text;
  text << file.rdbuf();
  return readSimConfig(text.str(), path);
}

}  // namespace licgate::gateway
