// The relay process: key cache + loader, Kafka producer, HTTP server, and an orderly shutdown
// (stop accepting, finish in-flight requests, flush the producer).
#pragma once

#include "config.hpp"

namespace rookery::relay {

/// Runs until SIGTERM/SIGINT; returns the process exit code.
int RunRelay(const RelayConfig& config);

}  // namespace rookery::relay
