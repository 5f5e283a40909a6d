#include "rookery/kafka/config.hpp"

#include <librdkafka/rdkafkacpp.h>

#include <algorithm>
#include <stdexcept>

#include "rookery/core/env.hpp"

extern char** environ;

namespace rookery::kafka {

KafkaConfig KafkaConfigFromEnv() {
  KafkaConfig config;
  config.brokers = EnvString("ROOKERY_KAFKA_BROKERS", "localhost:9092");
  constexpr std::string_view kPrefix = "ROOKERY_KAFKA_PARAM_";
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    if (text.substr(0, kPrefix.size()) != kPrefix) continue;
    const std::size_t eq = text.find('=');
    if (eq == std::string_view::npos) continue;
    std::string name(text.substr(kPrefix.size(), eq - kPrefix.size()));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return c == '_' ? '.' : static_cast<char>(std::tolower(c)); });
    config.params[name] = std::string(text.substr(eq + 1));
  }
  return config;
}

std::string RawEventsTopicFromEnv() {
  return EnvString("ROOKERY_KAFKA_TOPIC", "rookery.raw-events");
}

namespace internal {

std::unique_ptr<RdKafka::Conf> BuildConf(const std::map<std::string, std::string>& defaults,
                                         const KafkaConfig& config) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string error;
  auto set = [&](const std::string& name, const std::string& value) {
    if (conf->set(name, value, error) != RdKafka::Conf::CONF_OK) {
      // The value is not echoed: properties such as sasl.password are secrets.
      throw ConfigError("kafka property '" + name + "' rejected: " + error);
    }
  };
  set("bootstrap.servers", config.brokers);
  for (const auto& [name, value] : defaults) set(name, value);
  for (const auto& [name, value] : config.params) set(name, value);
  return conf;
}

}  // namespace internal
}  // namespace rookery::kafka
