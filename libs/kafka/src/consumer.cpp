#include "rookery/kafka/consumer.hpp"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "rookery/core/env.hpp"

namespace rookery::kafka {

Record::Record(std::unique_ptr<RdKafka::Message> message)
    : message_(std::move(message)), topic_(message_->topic_name()) {}
Record::~Record() = default;
Record::Record(Record&&) noexcept = default;
Record& Record::operator=(Record&&) noexcept = default;

std::string_view Record::Key() const {
  const std::string* key = message_->key();
  return key ? std::string_view(*key) : std::string_view();
}
std::string_view Record::Value() const {
  return {static_cast<const char*>(message_->payload()), message_->len()};
}
std::optional<std::string> Record::Header(const std::string& name) const {
  RdKafka::Headers* headers = message_->headers();
  if (headers == nullptr) return std::nullopt;
  RdKafka::Headers::Header last = headers->get_last(name);
  if (last.err() != RdKafka::ERR_NO_ERROR || last.value() == nullptr) return std::nullopt;
  return std::string(static_cast<const char*>(last.value()), last.value_size());
}
const std::string& Record::Topic() const {
  return topic_;
}
std::int32_t Record::Partition() const {
  return message_->partition();
}
std::int64_t Record::Offset() const {
  return message_->offset();
}

bool IsOffsetResetLoss(std::string_view facility, std::string_view message) {
  return facility == "OFFSET" && message.find("offset reset") != std::string_view::npos &&
         message.find("no previously committed offset") == std::string_view::npos;
}

// librdkafka 2.0 stops fetching once its prefetch queue holds queued.max.messages.kbytes, and
// looks again only when the leaders' broker threads next wake up: on a response, on a request
// queued for them, or after a second (hard-coded until fetch.queue.backoff.ms in 2.2). A worker
// drains a few MB well within that second and then sat idle, so the queue had to hold a whole
// second of events: 32 MB, most of a worker's RSS. Once the queue has been seen near its limit
// and has drained below half, the refiller queues a request on those threads (a ListOffsets of
// the assignment, one per leader, which changes nothing) so that they fetch again at once.
class Consumer::PrefetchRefiller {
 public:
  PrefetchRefiller(rd_kafka_t* handle, std::int64_t limit_bytes, std::atomic<std::uint64_t>& refills)
      : handle_(handle), queue_(rd_kafka_queue_get_consumer(handle)), limit_bytes_(limit_bytes), refills_(refills) {
    thread_ = std::thread([this] { Run(); });
  }
  ~PrefetchRefiller() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wanted_changed_.notify_one();
    thread_.join();
    if (assignment_ != nullptr) rd_kafka_topic_partition_list_destroy(assignment_);
    rd_kafka_queue_destroy(queue_);
  }
  PrefetchRefiller(const PrefetchRefiller&) = delete;
  PrefetchRefiller& operator=(const PrefetchRefiller&) = delete;

  /// On the consuming thread, after each message taken from the queue.
  void Consumed(std::size_t message_bytes) {
    // The queue is counted in messages: their mean size turns that into bytes.
    mean_bytes_ += (static_cast<double>(message_bytes) - mean_bytes_) / (mean_bytes_ == 0 ? 1 : 64);
    const double queued = static_cast<double>(rd_kafka_queue_length(queue_)) * mean_bytes_;
    if (queued >= static_cast<double>(limit_bytes_) * 3 / 4) {
      seen_full_ = true;
    } else if (seen_full_ && queued < static_cast<double>(limit_bytes_) / 2) {
      seen_full_ = false;
      {
        std::lock_guard lock(mutex_);
        wanted_ = true;
      }
      wanted_changed_.notify_one();
    }
  }

  void Assigned(const std::vector<RdKafka::TopicPartition*>& partitions) {
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size()));
    for (const RdKafka::TopicPartition* partition : partitions) {
      // Asking for the latest offset: the answer is not used, only the request's delivery.
      rd_kafka_topic_partition_list_add(list, partition->topic().c_str(), partition->partition())->offset =
          RD_KAFKA_OFFSET_END;
    }
    std::lock_guard lock(mutex_);
    if (assignment_ != nullptr) rd_kafka_topic_partition_list_destroy(assignment_);
    assignment_ = list;
  }

  void Revoked() {
    std::lock_guard lock(mutex_);
    if (assignment_ != nullptr) rd_kafka_topic_partition_list_destroy(assignment_);
    assignment_ = nullptr;
    seen_full_ = false;
  }

 private:
  void Run() {
    std::unique_lock lock(mutex_);
    while (true) {
      wanted_changed_.wait(lock, [this] { return wanted_ || stop_; });
      if (stop_) return;
      wanted_ = false;
      if (assignment_ == nullptr) continue;
      rd_kafka_topic_partition_list_t* partitions = rd_kafka_topic_partition_list_copy(assignment_);
      lock.unlock();
      if (const rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(handle_, partitions, kRequestTimeoutMs)) {
        // Harmless: the broker threads still wake up on their own within a second.
        spdlog::debug("kafka: prefetch refill request failed: {}", rd_kafka_err2str(err));
      }
      rd_kafka_topic_partition_list_destroy(partitions);
      refills_.fetch_add(1);
      lock.lock();
    }
  }

  static constexpr int kRequestTimeoutMs = 1000;
  rd_kafka_t* handle_;
  rd_kafka_queue_t* queue_;
  const std::int64_t limit_bytes_;
  // Consuming thread only.
  double mean_bytes_ = 0;
  bool seen_full_ = false;
  std::mutex mutex_;
  std::condition_variable wanted_changed_;
  bool wanted_ = false;
  bool stop_ = false;
  rd_kafka_topic_partition_list_t* assignment_ = nullptr;
  std::atomic<std::uint64_t>& refills_;
  std::thread thread_;
};

class Consumer::Callbacks : public RdKafka::RebalanceCb, public RdKafka::EventCb {
 public:
  explicit Callbacks(std::function<void()> before_revoke) : before_revoke_(std::move(before_revoke)) {}

  std::atomic<std::uint64_t> offset_resets{0};
  std::atomic<std::uint64_t> prefetch_refills{0};  // outlives the refiller, for the final count
  PrefetchRefiller* refiller = nullptr;

  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      spdlog::info("kafka: assigned {} partitions", partitions.size());
      consumer->assign(partitions);
      if (refiller != nullptr) refiller->Assigned(partitions);
    } else if (err == RdKafka::ERR__REVOKE_PARTITIONS) {
      spdlog::info("kafka: revoked {} partitions{}", partitions.size(),
                   consumer->assignment_lost() ? " (assignment lost)" : "");
      if (before_revoke_) before_revoke_();
      if (refiller != nullptr) refiller->Revoked();
      consumer->unassign();
    } else {
      spdlog::warn("kafka rebalance error: {}", RdKafka::err2str(err));
      if (refiller != nullptr) refiller->Revoked();
      consumer->unassign();
    }
  }

  // May run on librdkafka's threads.
  void event_cb(RdKafka::Event& event) override {
    if (event.type() == RdKafka::Event::EVENT_LOG && IsOffsetResetLoss(event.fac(), event.str())) {
      offset_resets.fetch_add(1);
      spdlog::error("kafka: messages lost to an offset reset: {}", event.str());
      return;
    }
    if (event.type() == RdKafka::Event::EVENT_ERROR) {
      if (event.fatal()) {
        spdlog::critical("kafka consumer fatal error: {}", event.str());
      } else {
        spdlog::warn("kafka consumer: {}", event.str());
      }
    }
  }

 private:
  std::function<void()> before_revoke_;
};

Consumer::Consumer(const KafkaConfig& config, const ConsumerOptions& options, const std::vector<std::string>& topics)
    : callbacks_(std::make_unique<Callbacks>(options.before_revoke)) {
  auto conf = internal::BuildConf(
      {
          {"group.id", options.group_id},
          // Offsets are committed by hand, after the database commit: at-least-once.
          {"enable.auto.commit", "false"},
          {"enable.auto.offset.store", "false"},
          {"auto.offset.reset", "earliest"},
          {"enable.partition.eof", "false"},
          {"max.poll.interval.ms", std::to_string(options.max_poll_interval.count())},
          {"session.timeout.ms", std::to_string(options.session_timeout.count())},
          {"socket.timeout.ms", "10000"},
      },
      config);
  std::string error;
  if (conf->set("rebalance_cb", static_cast<RdKafka::RebalanceCb*>(callbacks_.get()), error) !=
          RdKafka::Conf::CONF_OK ||
      conf->set("event_cb", static_cast<RdKafka::EventCb*>(callbacks_.get()), error) != RdKafka::Conf::CONF_OK) {
    throw ConfigError("kafka consumer callbacks: " + error);
  }
  std::string queue_kbytes;
  conf->get("queued.max.messages.kbytes", queue_kbytes);
  consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), error));
  if (!consumer_) {
    throw ConfigError("kafka consumer: " + error);
  }
  if (options.refill_prefetch) {
    refiller_ = std::make_unique<PrefetchRefiller>(consumer_->c_ptr(), std::stoll(queue_kbytes) * 1024,
                                                   callbacks_->prefetch_refills);
    callbacks_->refiller = refiller_.get();
  }
  if (auto rc = consumer_->subscribe(topics); rc != RdKafka::ERR_NO_ERROR) {
    throw ConfigError("kafka subscribe: " + RdKafka::err2str(rc));
  }
}

Consumer::~Consumer() {
  Close();
}

std::vector<Record> Consumer::ConsumeBatch(std::size_t max_records, std::chrono::milliseconds max_wait) {
  std::vector<Record> records;
  const auto deadline = std::chrono::steady_clock::now() + max_wait;
  while (records.size() < max_records) {
    const auto remaining =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (remaining.count() <= 0) break;
    std::unique_ptr<RdKafka::Message> message(consumer_->consume(static_cast<int>(remaining.count())));
    if (!message) break;
    switch (message->err()) {
      case RdKafka::ERR_NO_ERROR:
        if (refiller_) refiller_->Consumed(message->len());
        records.emplace_back(std::move(message));
        break;
      case RdKafka::ERR__TIMED_OUT: return records;
      case RdKafka::ERR__AUTO_OFFSET_RESET:
        callbacks_->offset_resets.fetch_add(1);
        spdlog::error("kafka: offset reset on {}[{}]: messages were lost before this worker read them: {}",
                      message->topic_name(), message->partition(), message->errstr());
        break;
      default: spdlog::warn("kafka consume: {}", message->errstr()); return records;
    }
  }
  return records;
}

NextOffsets NextOffsetsOf(const std::vector<Record>& records) {
  NextOffsets next_offsets;
  for (const auto& record : records) {
    auto& next = next_offsets[{record.Topic(), record.Partition()}];
    next = std::max(next, record.Offset() + 1);
  }
  return next_offsets;
}

bool Consumer::Commit(const std::vector<Record>& records) {
  return Commit(NextOffsetsOf(records));
}

bool Consumer::Commit(const NextOffsets& next_offsets) {
  std::vector<RdKafka::TopicPartition*> partitions;
  for (const auto& [where, offset] : next_offsets) {
    partitions.push_back(RdKafka::TopicPartition::create(where.first, where.second, offset));
  }
  const RdKafka::ErrorCode rc = consumer_->commitSync(partitions);
  RdKafka::TopicPartition::destroy(partitions);
  if (rc != RdKafka::ERR_NO_ERROR) {
    spdlog::warn("kafka commit failed ({}): the batch will be redelivered and deduplicated", RdKafka::err2str(rc));
    return false;
  }
  return true;
}

ConsumeStats Consumer::Stats() const {
  return ConsumeStats{callbacks_->offset_resets.load(), callbacks_->prefetch_refills.load()};
}

void Consumer::Close() {
  if (closed_ || !consumer_) return;
  closed_ = true;
  // No refill request may race the group leave (the callbacks stop using it: nothing is assigned).
  callbacks_->refiller = nullptr;
  refiller_.reset();
  consumer_->close();
}

}  // namespace rookery::kafka
