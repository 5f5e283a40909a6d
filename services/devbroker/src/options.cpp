#include "options.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rookery::devbroker {

const std::string_view kUsage = R"(Usage: rookery-devbroker [options]

In-memory Kafka broker (librdkafka mock cluster) for DEVELOPMENT AND TESTS ONLY.
Nothing is persisted; each partition retains only ~5 MB, older data is dropped.

Options:
  --brokers N            number of mock brokers (default 1)
                         env ROOKERY_DEVBROKER_BROKERS
  --partitions N         partitions per topic (default 64)
                         env ROOKERY_DEVBROKER_PARTITIONS
  --topic NAME           topic to create; repeatable (default rookery.raw-events)
                         env ROOKERY_KAFKA_TOPIC (comma-separated list)
  --bootstrap-file PATH  write the bootstrap address list here (atomically)
                         and remove it on shutdown
                         env ROOKERY_DEVBROKER_BOOTSTRAP_FILE
  -h, --help             show this help

Command-line flags take precedence over environment variables.
The bootstrap list (host:port,...) is also printed to stdout as a bare line.

Signals:
  SIGTERM, SIGINT  shut down, remove the bootstrap file, exit 0
  SIGUSR1          take all brokers down (fault injection)
  SIGUSR2          bring all brokers back up

Exit status: 0 on clean shutdown, 1 on runtime failure, 2 on bad arguments.
)";

namespace {

int ParseCount(std::string_view what, std::string_view text, int max_value) {
  int value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || ptr != end || value < 1 || value > max_value) {
    throw UsageError(std::string(what) + " must be an integer in [1, " + std::to_string(max_value) + "], got '" +
                     std::string(text) + "'");
  }
  return value;
}

void ValidateTopic(const std::string& topic) {
  // Same charset/length rule as Kafka itself, so a name that works here also
  // works against a real cluster.
  const bool valid_chars = std::all_of(topic.begin(), topic.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
  if (topic.empty() || topic.size() > 249 || !valid_chars || topic == "." || topic == "..") {
    throw UsageError("invalid topic name '" + topic + "'");
  }
}

std::vector<std::string> SplitCommaList(std::string_view text) {
  std::vector<std::string> items;
  while (!text.empty()) {
    const auto comma = text.find(',');
    auto item = text.substr(0, comma);
    if (!item.empty()) items.emplace_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return items;
}

std::optional<std::string_view> GetEnv(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string_view(value);
}

}  // namespace

Options ParseOptions(int argc, char** argv) {
  Options options;
  // Environment first, so that flags parsed afterwards override it.
  if (auto env = GetEnv("ROOKERY_DEVBROKER_BROKERS")) {
    options.brokers = ParseCount("ROOKERY_DEVBROKER_BROKERS", *env, kMaxBrokers);
  }
  if (auto env = GetEnv("ROOKERY_DEVBROKER_PARTITIONS")) {
    options.partitions = ParseCount("ROOKERY_DEVBROKER_PARTITIONS", *env, kMaxPartitions);
  }
  if (auto env = GetEnv("ROOKERY_DEVBROKER_BOOTSTRAP_FILE")) {
    options.bootstrap_file = std::string(*env);
  }
  std::vector<std::string> env_topics;
  if (auto env = GetEnv("ROOKERY_KAFKA_TOPIC")) env_topics = SplitCommaList(*env);

  std::vector<std::string> flag_topics;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      options.help = true;
      return options;
    }
    // Accept both "--flag value" and "--flag=value".
    std::string_view name = arg;
    std::optional<std::string_view> value;
    if (const auto eq = arg.find('='); arg.starts_with("--") && eq != arg.npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    const bool known = name == "--brokers" || name == "--partitions" || name == "--topic" || name == "--bootstrap-file";
    if (!known) throw UsageError("unknown argument '" + std::string(arg) + "'");
    if (!value) {
      if (i + 1 >= argc) {
        throw UsageError(std::string(name) + " requires a value");
      }
      value = argv[++i];
    }
    if (name == "--brokers") {
      options.brokers = ParseCount(name, *value, kMaxBrokers);
    } else if (name == "--partitions") {
      options.partitions = ParseCount(name, *value, kMaxPartitions);
    } else if (name == "--topic") {
      flag_topics.emplace_back(*value);
    } else {
      if (value->empty()) throw UsageError("--bootstrap-file must not be empty");
      options.bootstrap_file = std::string(*value);
    }
  }

  options.topics = !flag_topics.empty()  ? std::move(flag_topics)
                   : !env_topics.empty() ? std::move(env_topics)
                                         : std::vector<std::string>{std::string(kDefaultTopic)};
  for (const auto& topic : options.topics) ValidateTopic(topic);
  std::sort(options.topics.begin(), options.topics.end());
  options.topics.erase(std::unique(options.topics.begin(), options.topics.end()), options.topics.end());
  return options;
}

}  // namespace rookery::devbroker
