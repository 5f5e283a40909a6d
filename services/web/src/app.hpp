#pragma once

#include "config.hpp"

namespace rookery::web {

/// Serves the API until SIGTERM/SIGINT; returns the process exit code.
int RunWeb(const WebConfig& config);

}  // namespace rookery::web
