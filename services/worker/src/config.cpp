#include "config.hpp"

#include "rookery/core/env.hpp"

namespace rookery::worker {

WorkerConfig WorkerConfigFromEnv() {
  WorkerConfig config;
  config.database = db::DatabaseConfigFromEnv();
  config.kafka = kafka::KafkaConfigFromEnv();
  // librdkafka prefetches up to 64 MB per consumer by default: with 2-8 KB events that is a
  // backlog of ~10,000 messages held in memory, more than the worker's own batch, and it doubled
  // peak RSS in bench/worker. 32 MB still keeps several batches ahead. Operators may override.
  config.kafka.params.try_emplace("queued.max.messages.kbytes", "32768");
  // On top of that queue, one fetch response may be in flight, 50 MB by default: bounded to 16 MB
  // (still ~2,700 events of 6 KB; a larger single message is returned anyway) so that the queue
  // and the response together stay well under the 150 MB a worker is allowed.
  config.kafka.params.try_emplace("fetch.max.bytes", "16777216");
  config.topic = kafka::RawEventsTopicFromEnv();
  config.consumer.group_id = EnvString("ROOKERY_WORKER_GROUP", "rookery-worker");
  config.batch_size = static_cast<std::size_t>(EnvInt("ROOKERY_WORKER_BATCH_SIZE", 500, 1, 100000));
  config.batch_wait = std::chrono::milliseconds(EnvInt("ROOKERY_WORKER_BATCH_WAIT_MS", 100, 1, 60000));
  config.tag_fold_interval = std::chrono::milliseconds(EnvInt("ROOKERY_WORKER_TAG_FOLD_MS", 1000, 10, 60000));
  config.http.address = EnvString("ROOKERY_WORKER_BIND", "0.0.0.0");
  config.http.port = static_cast<std::uint16_t>(EnvInt("ROOKERY_WORKER_PORT", 9101, 0, 65535));
  config.http.max_body_bytes = 4096;  // it only answers GETs
  return config;
}

}  // namespace rookery::worker
