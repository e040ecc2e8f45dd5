// Logging set-up of the licgate program: every layer's named spdlog logger
// ("gateway", "intake", "amqp", "redis", "http", ...) writes to stderr, as one
// JSON object per line for collectors or as plain text for a terminal.
//
// Levels (docs/configuration.md): info is the process lifecycle only
// (started, listening, stopped); debug is each connection and message; warn
// is degraded but serving, always with a metric; error is a unit of work
// failed for good.
#pragma once

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

#include "config/config.hpp"

namespace licgate::gateway {

// Replaces the default logger and the layers' loggers with ones writing to
// stderr in `log.format` at `log.level`. Call once at start-up, before the
// adapters are made, so that they pick up these loggers.
void setupLogging(const config::LogConfig& log);

// The logger named `name`, made from the default logger when missing.
std::shared_ptr<spdlog::logger> getLogger(const std::string& name);

}  // namespace licgate::gateway
