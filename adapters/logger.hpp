// The named spdlog logger of each adapter ("amqp", "redis", "http").
//
// The program may register these loggers with its own sinks (JSON lines)
// before it makes the adapters; when it has not, the adapter clones the
// default logger under that name, so tests and tools still log somewhere.
#pragma once

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace licgate::adapters {

std::shared_ptr<spdlog::logger> getLogger(const std::string& name);

}  // namespace licgate::adapters
