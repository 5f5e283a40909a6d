// rookery::core — wall-clock helpers in milliseconds since the Unix epoch (UTC).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rookery {

std::int64_t NowMillis();
/// "2024-05-01T12:34:56.789Z"
std::string FormatIso8601Millis(std::int64_t unix_millis);
/// RFC 3339 / ISO 8601 as SDKs send it: with or without fraction and zone ('Z' or ±hh:mm); a missing
/// zone means UTC (Sentry's rule).
std::optional<std::int64_t> ParseIso8601Millis(std::string_view text);

}  // namespace rookery
