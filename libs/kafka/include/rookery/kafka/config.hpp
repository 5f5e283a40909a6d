// rookery::kafka — broker settings shared by producer and consumer.
#pragma once

#include <map>
#include <memory>
#include <string>

namespace RdKafka {
class Conf;
}

namespace rookery::kafka {

struct KafkaConfig {
  std::string brokers;  // bootstrap list, "host:port,host:port"
  /// Pass-through librdkafka properties (e.g. from ROOKERY_KAFKA_PARAM_SECURITY_PROTOCOL=ssl →
  /// security.protocol=ssl), applied after Rookery's own defaults so operators can override them.
  std::map<std::string, std::string> params;
};

/// ROOKERY_KAFKA_BROKERS (default localhost:9092) and every ROOKERY_KAFKA_PARAM_<NAME>, where
/// <NAME> maps to a librdkafka property by lower-casing and turning '_' into '.'.
KafkaConfig KafkaConfigFromEnv();

/// The raw-events topic (ROOKERY_KAFKA_TOPIC, default "rookery.raw-events").
std::string RawEventsTopicFromEnv();

namespace internal {
/// Builds a global conf; throws std::runtime_error naming the property librdkafka refused.
std::unique_ptr<RdKafka::Conf> BuildConf(const std::map<std::string, std::string>& defaults, const KafkaConfig& config);
}  // namespace internal

}  // namespace rookery::kafka
