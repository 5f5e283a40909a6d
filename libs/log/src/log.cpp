#include "rookery/log/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>

#include "rookery/core/env.hpp"

namespace rookery::log {

void Init(const std::string& service, bool to_stderr) {
  const std::string level_name = EnvString("ROOKERY_LOG_LEVEL", "info");
  const auto level = spdlog::level::from_str(level_name);
  if (level == spdlog::level::off && level_name != "off") {
    throw ConfigError("ROOKERY_LOG_LEVEL: unknown level '" + level_name + "'");
  }
  auto logger = to_stderr ? spdlog::stderr_logger_mt(service) : spdlog::stdout_logger_mt(service);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ [%n] %v", spdlog::pattern_time_type::utc);
  logger->set_level(level);
  // Log lines must reach `docker logs` and the dev stack's files promptly, not when a buffer fills.
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

}  // namespace rookery::log
