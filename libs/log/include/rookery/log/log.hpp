// rookery::log — every service logs to stdout through spdlog, one named logger per service.
// Payload bodies and secrets (keys, tokens, passwords) are never logged.
#pragma once

#include <spdlog/spdlog.h>

#include <string>

namespace rookery::log {

/// Installs a stdout logger named `service` as the default; level from ROOKERY_LOG_LEVEL
/// (trace, debug, info, warn, error; default info). Throws ConfigError on an unknown level.
/// Command-line tools pass `to_stderr` so their stdout stays machine-readable.
void Init(const std::string& service, bool to_stderr = false);

}  // namespace rookery::log
