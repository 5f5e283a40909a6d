#include "config.hpp"

#include <thread>

#include "http_status.hpp"
#include "rookery/core/env.hpp"

namespace rookery::relay {

RelayConfig RelayConfigFromEnv() {
  RelayConfig config;
  config.http.address = EnvString("ROOKERY_RELAY_BIND", "0.0.0.0");
  config.http.port = static_cast<std::uint16_t>(EnvInt("ROOKERY_RELAY_PORT", 3000, 0, 65535));
  config.http.max_body_bytes =
      static_cast<std::size_t>(EnvInt("ROOKERY_RELAY_MAX_BODY_BYTES", 20 * 1024 * 1024, 1024, 1LL << 31));
  config.http.read_timeout = std::chrono::milliseconds(EnvInt("ROOKERY_RELAY_READ_TIMEOUT_MS", 30000, 100, 600000));
  config.http.idle_timeout = std::chrono::milliseconds(EnvInt("ROOKERY_RELAY_IDLE_TIMEOUT_MS", 60000, 100, 3600000));
  config.http.decorate_own_errors = [](http::Response& response, std::string_view detail, std::string_view) {
    response.set("X-Sentry-Error", detail);
    AddCorsHeaders(response);
  };
  config.http.max_connections_per_ip =
      static_cast<std::size_t>(EnvInt("ROOKERY_RELAY_MAX_CONNECTIONS_PER_IP", 512, 0, 1000000));
  config.http.max_requests_per_second_per_ip =
      static_cast<std::size_t>(EnvInt("ROOKERY_RELAY_MAX_REQUESTS_PER_SECOND_PER_IP", 2000, 0, 10000000));
  config.http.max_connections = static_cast<std::size_t>(EnvInt("ROOKERY_RELAY_MAX_CONNECTIONS", 10000, 1, 1000000));
  const auto cores = static_cast<std::int64_t>(std::max(1u, std::thread::hardware_concurrency()));
  config.threads = static_cast<int>(EnvInt("ROOKERY_RELAY_THREADS", cores, 1, 256));
  config.max_event_bytes =
      static_cast<std::size_t>(EnvInt("ROOKERY_MAX_EVENT_BYTES", 1024 * 1024, 1024, 64 * 1024 * 1024));
  config.max_envelope_bytes =
      static_cast<std::size_t>(EnvInt("ROOKERY_MAX_ENVELOPE_BYTES", 100 * 1024 * 1024, 1024, 1LL << 31));
  config.max_attachment_bytes =
      static_cast<std::size_t>(EnvInt("ROOKERY_MAX_ATTACHMENT_BYTES", 100 * 1024 * 1024, 0, 1LL << 31));
  config.max_attachments_bytes =
      static_cast<std::size_t>(EnvInt("ROOKERY_MAX_ATTACHMENTS_BYTES", 100 * 1024 * 1024, 0, 1LL << 31));
  config.broker_down_grace = std::chrono::milliseconds(EnvInt("ROOKERY_RELAY_BROKER_DOWN_GRACE_MS", 5000, 0, 600000));
  config.trust_forwarded_for = EnvInt("ROOKERY_RELAY_TRUST_FORWARDED_FOR", 1, 0, 1) == 1;
  config.shutdown_grace = std::chrono::milliseconds(EnvInt("ROOKERY_SHUTDOWN_GRACE_MS", 10000, 0, 600000));
  config.key_full_reload = std::chrono::seconds(EnvInt("ROOKERY_RELAY_KEY_RELOAD_SECONDS", 60, 1, 86400));
  config.database = db::DatabaseConfigFromEnv();
  config.kafka = kafka::KafkaConfigFromEnv();
  config.topic = kafka::RawEventsTopicFromEnv();
  config.producer.linger = std::chrono::milliseconds(EnvInt("ROOKERY_KAFKA_LINGER_MS", 5, 0, 10000));
  config.producer.partition_slice = std::chrono::milliseconds(EnvInt("ROOKERY_KAFKA_PARTITION_SLICE_MS", 5, 0, 10000));
  config.producer.delivery_timeout =
      std::chrono::milliseconds(EnvInt("ROOKERY_KAFKA_DELIVERY_TIMEOUT_MS", 30000, 1000, 600000));
  config.producer.max_queued_messages =
      static_cast<int>(EnvInt("ROOKERY_KAFKA_MAX_QUEUED_MESSAGES", 100000, 1, 10000000));
  // A Kafka message holds at most one store body, or an envelope's forwarded items (event,
  // security, user_report: each capped at max_event_bytes), plus the contract's few fields.
  config.producer.max_message_bytes = static_cast<int>(3 * config.max_event_bytes + 64 * 1024);
  return config;
}

}  // namespace rookery::relay
