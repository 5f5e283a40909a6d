// rookery-devbroker's command line: flags and ROOKERY_DEVBROKER_* variables (flags win).
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace rookery::devbroker {

constexpr int kDefaultBrokers = 1;
constexpr int kDefaultPartitions = 64;
constexpr int kMaxReplicationFactor = 3;
// Upper bounds only guard against typos (e.g. 6400 instead of 64); the mock
// allocates per-partition state eagerly.
constexpr int kMaxBrokers = 16;
constexpr int kMaxPartitions = 4096;
constexpr std::string_view kDefaultTopic = "rookery.raw-events";
constexpr int kExitUsage = 2;

extern const std::string_view kUsage;

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Options {
  int brokers = kDefaultBrokers;
  int partitions = kDefaultPartitions;
  std::vector<std::string> topics;
  std::string bootstrap_file;
  bool help = false;
};

/// Throws UsageError for anything it cannot use.
Options ParseOptions(int argc, char** argv);

}  // namespace rookery::devbroker
