#include "rookery/core/env.hpp"

#include <charconv>
#include <cstdlib>

namespace rookery {

std::string EnvString(const char* name, std::string_view fallback) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    return std::string(fallback);
  }
  return value;
}

std::int64_t EnvInt(const char* name, std::int64_t fallback, std::int64_t min, std::int64_t max) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    return fallback;
  }
  std::string_view text(value);
  std::int64_t parsed = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
  if (ec != std::errc() || end != text.data() + text.size() || parsed < min || parsed > max) {
    throw ConfigError(std::string(name) + " must be an integer between " + std::to_string(min) + " and " +
                      std::to_string(max) + ", got '" + std::string(text) + "'");
  }
  return parsed;
}

std::string EnvRequired(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    throw ConfigError(std::string(name) + " must be set");
  }
  return value;
}

}  // namespace rookery
