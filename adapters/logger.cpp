// The adapters' named loggers.
#include "adapters/logger.hpp"

#include <spdlog/spdlog.h>

namespace licgate::adapters {

std::shared_ptr<spdlog::logger> getLogger(const std::string& name) {
  if (auto existing = spdlog::get(name)) {
    return existing;
  }
  auto made = spdlog::default_logger()->clone(name);
  try {
    spdlog::register_logger(made);
  } catch (const spdlog::spdlog_ex&) {
    // Another thread registered the same name first: use that one.
    if (auto existing = spdlog::get(name)) {
      return existing;
    }
  }
  return made;
}

}  // namespace licgate::adapters
