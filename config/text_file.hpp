// Reading a whole configuration or calendar file, with the reason when it
// cannot be read. Internal to config/.
#pragma once

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "registry/result.hpp"

namespace licgate::config {

// The bytes of the file at `path`; kNotFound "<what> <path> cannot be read:
// <why>" otherwise. An ifstream opens a directory without complaint and
// reads nothing from it, which would pass for an empty document, so
// anything but a regular file is refused before it is opened.
inline registry::Result<std::string> readTextFile(const std::string& path, std::string_view what) {
  const auto refuse = [&](const std::string& why) {
    // Appended piece by piece: GCC 12 at -O3 takes "literal + string" here
    // for an overlapping copy (-Wrestrict).
    std::string message(what);
    message.append(" ").append(path).append(" cannot be read: ").append(why);
    return registry::makeError(registry::ErrorCode::kNotFound, message);
  };
  std::error_code ignored;
  const auto status = std::filesystem::status(path, ignored);
  if (std::filesystem::is_directory(status)) {
    return refuse("it is a directory");
  }
  if (std::filesystem::exists(status) && !std::filesystem::is_regular_file(status)) {
    return refuse("it is not a regular file");
  }
  errno = 0;
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    std::string why = errno != 0 ? std::strerror(errno) : "it cannot be opened";
    why[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(why[0])));
    return refuse(why);
  }
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

}  // namespace licgate::config
