// `licgate play-bodies`: a program that plays the other side of the
// conformity flow (docs/conformity.md, docs/body-simulator.md): interested
// bodies that take licgate's queries and answer conclusions, and licensors'
// outcome receivers that count the outcomes licgate sends. The demo, the
// tests and the benchmark run it against a real licgate.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "registry/conformity.hpp"
#include "registry/result.hpp"

namespace licgate::gateway {

// Where a body takes its queries, or a licensor its outcomes.
struct SimChannel {
  enum class Kind : std::uint8_t { kAmqpAddress, kAmqpPeer, kSoap };
  Kind kind = Kind::kAmqpAddress;
  std::string address;  // kAmqpAddress: on licgate's listener; kAmqpPeer: the link's target
  std::string host;     // kAmqpPeer, kSoap: where the simulator listens
  int port = 0;         // 0: any free port (see the ports file)
};

struct SimBody {
  std::string id;
  SimChannel channel;
  registry::Verdict verdict = registry::Verdict::kConforms;
  std::map<std::string, registry::Verdict> verdicts;  // by application id
  std::vector<std::string> reasons;
  std::string signer;
  int delay_ms = 0;
  int down_for_ms = 0;
  bool silent = false;
  bool answer_over_soap = false;
};

struct SimLicensor {
  std::string code;
  SimChannel channel;
};

struct SimConfig {
  std::string amqp_host = "127.0.0.1";  // licgate's AMQP listener
  int amqp_port = 5672;
  std::string soap_url = "http://127.0.0.1:8080/soap/v1";  // licgate's SOAP endpoint
  std::vector<SimBody> bodies;
  std::vector<SimLicensor> licensors;
  std::string stats_file;  // empty: none
};

// Reads the simulator's YAML configuration. Strict: an unknown or repeated
// key, a value of the wrong type, a duplicate body id or licensor code, a
// channel with not exactly one kind is a problem; every problem names its
// key path. kMalformed when the text is not YAML; kInvalidField listing the
// problems; kNotFound when the file cannot be read.
registry::Result<SimConfig> readSimConfig(const std::string& yaml_text, const std::string& origin);
registry::Result<SimConfig> loadSimConfigFile(const std::string& path);

// Runs the simulator until SIGINT or SIGTERM, then prints its counters as
// one JSON line on stdout. Writes the bound ports to `ports_file` (when not
// empty) once everything listens. Returns the exit code: 0 after a signal,
// 1 when a listener cannot be bound or the ports file cannot be written.
// Blocks the calling thread; SIGINT and SIGTERM must not be blocked
// elsewhere.
int runPlayBodies(const SimConfig& config, const std::string& ports_file);

}  // namespace licgate::gateway
