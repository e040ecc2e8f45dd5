// The intake with a second, independent client: Qpid Proton's Python
// binding (python_client.py), run as its own process.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "adapters/amqp/intake_server.hpp"

namespace licgate::adapters::amqp {
namespace {

bool pythonProtonAvailable() {
  return std::system("/usr/bin/python3 -c 'import proton' >/dev/null 2>&1") == 0;
}

std::string runPythonClient(int port) {
  std::string command = std::string("timeout 30 /usr/bin/python3 ") + LICGATE_SOURCE_DIR +
                        "/test/adapters/amqp/python_client.py " + std::to_string(port) +
                        " py-ok py-bad 2>&1";
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  std::array<char, 512> chunk{};
  while (pipe != nullptr && std::fgets(chunk.data(), chunk.size(), pipe) != nullptr) {
    output += chunk.data();
  }
  if (pipe != nullptr) {
    ::pclose(pipe);
  }
  return output;
}

TEST(IntakeWithPythonClient, SeesOutcomesConditionsAndOutcomeMessages) {
  if (!pythonProtonAvailable()) {
    GTEST_SKIP() << "/usr/bin/python3 with the proton module is not installed";
  }
  IntakeOptions options;
  options.port = 0;
  auto server = makeIntakeServer(options, [](const std::vector<Delivery>& batch) {
    std::vector<Verdict> verdicts;
    for (const Delivery& delivery : batch) {
      Verdict verdict;
      verdict.outcome = "applied";
      if (delivery.message_id == "py-bad") {
        verdict.settle = Settle::kReject;
        verdict.condition = "amqp:invalid-field";
        verdict.description = "holder BIN 123 has a wrong check digit";
        verdict.outcome = "rejected";
        verdict.error_code = "invalid-field";
      }
      verdicts.push_back(verdict);
    }
    return verdicts;
  });
  ASSERT_TRUE(server->start().ok());

  std::string output = runPythonClient(server->boundPort());
  server->stop();

  EXPECT_NE(output.find("settled py-ok accepted - -\n"), std::string::npos) << output;
  EXPECT_NE(output.find("settled py-bad rejected amqp:invalid-field holder BIN 123 has a wrong "
                        "check digit\n"),
            std::string::npos)
      << output;
  EXPECT_NE(output.find("reply py-ok applied -\n"), std::string::npos) << output;
  EXPECT_NE(output.find("reply py-bad rejected invalid-field\n"), std::string::npos) << output;
}

}  // namespace
}  // namespace licgate::adapters::amqp
