#include "config.hpp"

#include "rookery/core/env.hpp"

namespace rookery::worker {

WorkerConfig WorkerConfigFromEnv() {
  WorkerConfig config;
  config.database = db::DatabaseConfigFromEnv();
  config.kafka = kafka::KafkaConfigFromEnv();
  // librdkafka prefetches up to 64 MB per consumer by default, about 10,000 events of 2-8 KB held
  // in memory ahead of the worker. The consumer wakes the fetchers as soon as half of the queue is
  // used up (kafka::ConsumerOptions::refill_prefetch), so 8 MB (~1,400 events, a few batches) keeps
  // the worker fed; without that wake it needed a second's worth, 32 MB. Operators may override.
  config.kafka.params.try_emplace("queued.max.messages.kbytes", "8192");
  // One fetch response may overshoot that queue, and its limit counts compressed bytes: the
  // relay's lz4 shrinks events ~4x, so 2 MB of response is ~8 MB of events. Larger (librdkafka's
  // default is 50 MB) let a worker's first fetches bring in ~40 MB at once. A single message
  // larger than this is still returned.
  config.kafka.params.try_emplace("fetch.max.bytes", "2097152");
  config.topic = kafka::RawEventsTopicFromEnv();
  config.consumer.group_id = EnvString("ROOKERY_WORKER_GROUP", "rookery-worker");
  config.batch_size = static_cast<std::size_t>(EnvInt("ROOKERY_WORKER_BATCH_SIZE", 1000, 1, 100000));
  config.batch_wait = std::chrono::milliseconds(EnvInt("ROOKERY_WORKER_BATCH_WAIT_MS", 100, 1, 60000));
  config.tag_fold_interval = std::chrono::milliseconds(EnvInt("ROOKERY_WORKER_TAG_FOLD_MS", 1000, 10, 60000));
  config.kill_after_db_commits =
      static_cast<std::uint64_t>(EnvInt("ROOKERY_WORKER_TEST_KILL_AFTER_DB_COMMIT", 0, 0, 1000000));
  config.http.address = EnvString("ROOKERY_WORKER_BIND", "0.0.0.0");
  config.http.port = static_cast<std::uint16_t>(EnvInt("ROOKERY_WORKER_PORT", 9101, 0, 65535));
  config.http.max_body_bytes = 4096;  // it only answers GETs
  return config;
}

}  // namespace rookery::worker
