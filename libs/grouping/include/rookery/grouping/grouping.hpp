// rookery::grouping — from a normalized event to the hashes that name its issue.
//
// INTERIM (walking skeleton): the hash is md5 over the exception chain's types and values, else
// over the log message, else over the title. This is honest but not Sentry's algorithm: the same
// error with a different value (an id in the message) lands in a different issue. The
// Sentry-compatible `newstyle:2023-01-11` config replaces it in the worker issue; events keep
// every hash they were given, so issues survive the switch through the hashes table.
#pragma once

#include <string>
#include <vector>

#include "rookery/normalize/event.hpp"

namespace rookery::grouping {

inline constexpr const char* kInterimConfig = "rookery:interim-1";

struct GroupingResult {
  std::string config;               // which algorithm produced the hashes
  std::vector<std::string> hashes;  // 32 lowercase hex each; the first is the primary hash
  std::string contributing;         // what the hash covers, human readable (for /hashes/ later)
};

GroupingResult ComputeInterimGrouping(const normalize::Event& event);

}  // namespace rookery::grouping
