// Schema validation by xmllint (libxml2), a validator independent of
// licgate's own reader, for the tests that promise every written document
// validates against its schema in mapping/schema/.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace licgate::mapping {

struct XsdValidation {
  int exit_code;
  std::string output;
};

// A scratch directory removed at the end of the test.
class XsdScratchDir {
 public:
  XsdScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "licgate-xsd-XXXXXX").string();
    if (const char* made = mkdtemp(pattern.data())) {
      path_ = made;
    }
  }
  ~XsdScratchDir() {
    std::error_code ignored;
    if (!path_.empty()) {
      std::filesystem::remove_all(path_, ignored);
    }
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Runs an xmllint command line and returns its exit code and output.
inline XsdValidation runXmllint(std::string command) {
  command += " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return {-1, "cannot run xmllint"};
  }
  std::string output;
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) {
    output.append(buffer, n);
  }
  int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

// Runs xmllint --schema over the documents (one process for all of them),
// against `schema` in mapping/schema/.
inline XsdValidation validateWithXmllint(const std::vector<std::string>& documents,
                                         const std::string& schema = "licence-event.xsd") {
  XsdScratchDir scratch;
  std::string command = "xmllint --noout --schema '" LICGATE_SCHEMA_DIR "/" + schema + "'";
  for (std::size_t i = 0; i < documents.size(); ++i) {
    auto file = scratch.path() / ("event-" + std::to_string(i) + ".xml");
    std::ofstream(file, std::ios::binary) << documents[i];
    command += " '" + file.string() + "'";
  }
  return runXmllint(command);
}

}  // namespace licgate::mapping
