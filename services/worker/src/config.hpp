// Worker configuration from ROOKERY_* variables.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "rookery/db/connection.hpp"
#include "rookery/http/server.hpp"
#include "rookery/kafka/config.hpp"
#include "rookery/kafka/consumer.hpp"

namespace rookery::worker {

struct WorkerConfig {
  db::DatabaseConfig database;
  kafka::KafkaConfig kafka;
  kafka::ConsumerOptions consumer;
  std::string topic;
  std::size_t batch_size = 1000;              // messages per database transaction, at most
  std::chrono::milliseconds batch_wait{100};  // how long a batch may wait to fill
  std::chrono::milliseconds max_db_backoff{5000};
  std::chrono::milliseconds tag_fold_interval{1000};  // under load, how often tag deltas are folded
  /// Test hook (ROOKERY_WORKER_TEST_KILL_AFTER_DB_COMMIT): the worker SIGKILLs itself after this
  /// many batches are committed to the database and before their offsets are, the crash that
  /// at-least-once delivery must survive without counting twice. 0: never.
  std::uint64_t kill_after_db_commits = 0;
  http::ServerOptions http;  // /healthz and /metrics; port 0: any free port
};

WorkerConfig WorkerConfigFromEnv();

}  // namespace rookery::worker
