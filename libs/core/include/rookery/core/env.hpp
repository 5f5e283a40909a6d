// rookery::core — configuration from ROOKERY_* environment variables (read at start-up only).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace rookery {

/// Thrown at start-up when a variable holds a value that cannot be used; services exit non-zero.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string EnvString(const char* name, std::string_view fallback);
/// Integer in [min, max]; throws ConfigError for text that is not one.
std::int64_t EnvInt(const char* name, std::int64_t fallback, std::int64_t min, std::int64_t max);
/// Throws ConfigError when the variable is unset or empty.
std::string EnvRequired(const char* name);

}  // namespace rookery
