// rookery::kafka — a consumer-group member for at-least-once processing: the caller consumes a
// batch, makes its effects durable, and only then commits the batch's offsets.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rookery/kafka/config.hpp"

namespace RdKafka {
class KafkaConsumer;
class Message;
}  // namespace RdKafka

namespace rookery::kafka {

struct ConsumerOptions {
  std::string group_id = "rookery-worker";
  /// Longest a batch may take (including database retries) before the group evicts this member.
  std::chrono::milliseconds max_poll_interval{300000};
  std::chrono::milliseconds session_timeout{10000};
  /// Runs on the consuming thread (inside ConsumeBatch or Close) before partitions are revoked: a
  /// caller that writes batches on another thread waits there for the batch in flight to commit
  /// its offsets, so the partitions' next owner starts after it instead of replaying it.
  std::function<void()> before_revoke;
  /// Wake librdkafka's fetchers as soon as the prefetch queue has drained below half, instead of
  /// within the second librdkafka 2.0 may otherwise leave them idle (see consumer.cpp). Off only
  /// to show the difference in a test.
  bool refill_prefetch = true;
};

/// One consumed record. Owns the underlying librdkafka message.
class Record {
 public:
  explicit Record(std::unique_ptr<RdKafka::Message> message);
  ~Record();
  Record(Record&&) noexcept;
  Record& operator=(Record&&) noexcept;

  std::string_view Key() const;
  std::string_view Value() const;
  std::optional<std::string> Header(const std::string& name) const;
  const std::string& Topic() const;
  std::int32_t Partition() const;
  std::int64_t Offset() const;

 private:
  std::unique_ptr<RdKafka::Message> message_;
  std::string topic_;
};

/// Where a batch leaves each of its partitions: its last offset + 1, by (topic, partition).
using NextOffsets = std::map<std::pair<std::string, std::int32_t>, std::int64_t>;
NextOffsets NextOffsetsOf(const std::vector<Record>& records);

struct ConsumeStats {
  std::uint64_t offset_resets = 0;     // partitions whose position was reset: data the group never saw
  std::uint64_t prefetch_refills = 0;  // times the fetchers were woken to refill a drained prefetch queue
};

/// True for librdkafka's log line announcing that a partition's fetch position was reset because
/// the broker no longer holds it (retention, or the dev broker's 5 MB per partition): the
/// messages in between were never consumed. A new group starting from "no previously committed
/// offset" is not a loss.
bool IsOffsetResetLoss(std::string_view facility, std::string_view message);

class Consumer {
 public:
  /// Subscribes to `topics`; throws ConfigError for refused settings.
  Consumer(const KafkaConfig& config, const ConsumerOptions& options, const std::vector<std::string>& topics);
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  /// Up to `max_records`, waiting at most `max_wait` in total. Rebalances happen inside this call
  /// (see ConsumerOptions::before_revoke).
  std::vector<Record> ConsumeBatch(std::size_t max_records, std::chrono::milliseconds max_wait);
  /// Synchronously commits last offset + 1 for every partition in `records`; may be called from
  /// another thread than ConsumeBatch (librdkafka is thread-safe). False on failure
  /// (e.g. the partitions were revoked): the records will be redelivered, which idempotent writes absorb.
  bool Commit(const std::vector<Record>& records);
  /// The same from offsets kept instead of the records, so a caller can release the messages (and
  /// the fetched buffers they keep alive) before its batch is durable.
  bool Commit(const NextOffsets& offsets);
  /// Leaves the group cleanly (final revoke), so its partitions move at once.
  void Close();

  ConsumeStats Stats() const;

 private:
  class Callbacks;
  class PrefetchRefiller;
  std::unique_ptr<Callbacks> callbacks_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::unique_ptr<PrefetchRefiller> refiller_;  // before consumer_ is destroyed: it holds its queue
  bool closed_ = false;
};

}  // namespace rookery::kafka
