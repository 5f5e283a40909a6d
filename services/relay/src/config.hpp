// Relay configuration: everything from ROOKERY_* variables, validated at start-up.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "rookery/db/connection.hpp"
#include "rookery/http/server.hpp"
#include "rookery/kafka/config.hpp"
#include "rookery/kafka/producer.hpp"

namespace rookery::relay {

struct RelayConfig {
  http::ServerOptions http;
  int threads = 2;
  std::size_t max_event_bytes = 1024 * 1024;           // decompressed store body / event item (Sentry: 1 MiB)
  std::size_t max_envelope_bytes = 100 * 1024 * 1024;  // decompressed envelope, attachments included
  std::size_t max_attachment_bytes = 100 * 1024 * 1024;
  std::size_t max_attachments_bytes = 100 * 1024 * 1024;
  // Brokers unreachable this long: answer 503 at once instead of queueing (delivery would time out).
  std::chrono::milliseconds broker_down_grace{5000};
  bool trust_forwarded_for = true;  // take the client IP from X-Forwarded-For
  std::chrono::milliseconds shutdown_grace{10000};
  std::chrono::seconds key_full_reload{60};  // safety net behind LISTEN/NOTIFY
  db::DatabaseConfig database;
  kafka::KafkaConfig kafka;
  kafka::ProducerOptions producer;
  std::string topic;
};

/// Throws ConfigError for unusable values.
RelayConfig RelayConfigFromEnv();

}  // namespace rookery::relay
