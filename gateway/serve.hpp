// `licgate serve`: runs the register's intake and API until told to stop.
#pragma once

#include <string>

#include "config/config.hpp"

namespace licgate::gateway {

struct ServeOptions {
  // When set, {"amqp":N,"http":M} is written here once both listeners are
  // bound, so that a caller who configured port 0 learns the ports.
  std::string ports_file;
};

// Opens the store, Redis, the AMQP intake and the HTTP server, logs the
// bound addresses, and blocks until SIGINT or SIGTERM; then stops the
// intake (unsettled deliveries are released for their senders to send
// again), the HTTP server and the store. Call setupLogging first. Returns
// the process exit code: 0 after a clean stop, 1 when something could not
// be opened or bound.
int runServe(const config::Config& config, const ServeOptions& options);

}  // namespace licgate::gateway
