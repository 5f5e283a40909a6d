// rookery::kafka — the relay's producer: idempotent, acks=all, bounded queue, and a callback per
// message once the broker has acknowledged it (or definitively failed to).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "rookery/core/malloc_buffer.hpp"
#include "rookery/kafka/config.hpp"

namespace RdKafka {
class Producer;
}

namespace rookery::kafka {

struct ProducerOptions {
  std::chrono::milliseconds linger{5};                // latency every request pays before its batch ships
  std::chrono::milliseconds delivery_timeout{30000};  // after this a message fails (relay answers 503)
  int max_queued_messages = 100000;                   // beyond: Send() says kQueueFull (relay answers 503)
  int max_queued_kbytes = 256 * 1024;
  int max_message_bytes = 4 * 1024 * 1024;
  std::chrono::milliseconds probe_interval{1000};  // how often broker reachability is checked
  // Messages of one such slice of time go to one partition (the slices' partitions follow a hash
  // of the slice number, so over a few seconds every partition gets an even share); 0: by the key's
  // hash. One partition per slice makes batches of many messages instead of one message per
  // partition: fewer, larger produce requests and fetches, better compression.
  std::chrono::milliseconds partition_slice{0};
};

enum class SendStatus { kEnqueued, kQueueFull, kTooLarge, kError };

struct DeliveryReport {
  bool delivered = false;
  std::string error;  // empty when delivered
};

using Headers = std::vector<std::pair<std::string, std::string>>;
/// Runs on the producer's poll thread: keep it short and hand work to the caller's executor.
using DeliveryCallback = std::function<void(const DeliveryReport&)>;

class Producer {
 public:
  /// Throws ConfigError at start-up for settings librdkafka refuses.
  Producer(const KafkaConfig& config, const ProducerOptions& options);
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  /// Never blocks. On kEnqueued the callback runs exactly once, later; otherwise never.
  SendStatus Send(const std::string& topic, std::string_view key, std::string_view value, const Headers& headers,
                  DeliveryCallback on_delivery);
  /// The same, but on kEnqueued librdkafka owns `value` and frees it after delivery, so it is not
  /// copied; otherwise it is freed here.
  SendStatus Send(const std::string& topic, std::string_view key, MallocBuffer value, const Headers& headers,
                  DeliveryCallback on_delivery);
  /// Waits for outstanding deliveries; false if some remained after `timeout`.
  bool Flush(std::chrono::milliseconds timeout);
  /// Flushes for up to `timeout`, then fails whatever is left (each callback still runs, told
  /// the message failed) and stops the poll thread. Idempotent; the destructor calls it. Call it
  /// explicitly while the callbacks' targets are still alive. Returns true if everything was delivered.
  bool Close(std::chrono::milliseconds timeout);
  /// Messages handed to librdkafka and not yet reported.
  int OutstandingMessages() const;
  /// A fatal producer error (e.g. idempotence state lost): the relay must stop accepting.
  bool Failed() const { return fatal_.load(); }
  /// How long the brokers have been unreachable (zero while a metadata probe succeeds).
  std::chrono::milliseconds UnreachableFor() const;

 private:
  class Callbacks;
  std::int32_t PartitionFor(const std::string& topic);
  SendStatus Produce(const std::string& topic, std::string_view key, char* value, std::size_t size, int flags,
                     const Headers& headers, DeliveryCallback on_delivery);
  std::unique_ptr<Callbacks> callbacks_;  // outlives producer_: librdkafka calls into it until destroyed
  std::int64_t partition_slice_ms_;
  // Partitions per topic, from the prober's metadata round trips (partition_slice only).
  std::mutex partitions_mutex_;
  std::map<std::string, std::int32_t> partition_counts_;
  std::unique_ptr<RdKafka::Producer> producer_;
  std::atomic<bool> stop_{false};
  bool closed_ = false;
  std::atomic<bool> fatal_{false};
  std::thread poller_;
  // Unix millis of the first failed probe since the last success; 0 while reachable.
  std::atomic<std::int64_t> unreachable_since_ms_{0};
  std::thread prober_;
};

}  // namespace rookery::kafka
