#include "rookery/kafka/producer.hpp"

#include <librdkafka/rdkafkacpp.h>
#include <spdlog/spdlog.h>

#include "rookery/core/env.hpp"
#include "rookery/core/time.hpp"

namespace rookery::kafka {

class Producer::Callbacks : public RdKafka::DeliveryReportCb, public RdKafka::EventCb {
 public:
  explicit Callbacks(std::atomic<bool>& fatal) : fatal_(fatal) {}

  void dr_cb(RdKafka::Message& message) override {
    std::unique_ptr<DeliveryCallback> callback(static_cast<DeliveryCallback*>(message.msg_opaque()));
    if (!callback) return;
    DeliveryReport report;
    report.delivered = message.err() == RdKafka::ERR_NO_ERROR;
    if (!report.delivered) report.error = message.errstr();
    (*callback)(report);
  }

  void event_cb(RdKafka::Event& event) override {
    switch (event.type()) {
      case RdKafka::Event::EVENT_ERROR:
        if (event.fatal()) {
          fatal_.store(true);
          spdlog::critical("kafka producer fatal error: {}", event.str());
        } else {
          spdlog::warn("kafka producer: {}", event.str());
        }
        break;
      case RdKafka::Event::EVENT_LOG: spdlog::debug("librdkafka {}: {}", event.fac(), event.str()); break;
      default: break;
    }
  }

 private:
  std::atomic<bool>& fatal_;
};

namespace {

// splitmix64's finalizer: consecutive slices land on unrelated partitions, so a consumer that owns
// one range of partitions gets data as often as one that owns another.
std::uint64_t Mix(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

Producer::Producer(const KafkaConfig& config, const ProducerOptions& options)
    : callbacks_(std::make_unique<Callbacks>(fatal_)), partition_slice_ms_(options.partition_slice.count()) {
  auto conf = internal::BuildConf(
      {
          // Exactly-once, in-order delivery per partition; implies acks=all and unlimited retries.
          {"enable.idempotence", "true"},
          {"acks", "all"},
          {"linger.ms", std::to_string(options.linger.count())},
          {"message.timeout.ms", std::to_string(options.delivery_timeout.count())},
          // An in-flight request may not outlive the delivery timeout, or a dead broker holds the
          // answer (and the SDK) for the default 30 s regardless.
          {"request.timeout.ms", std::to_string(std::max<std::int64_t>(1000, options.delivery_timeout.count() / 2))},
          {"queue.buffering.max.messages", std::to_string(options.max_queued_messages)},
          {"queue.buffering.max.kbytes", std::to_string(options.max_queued_kbytes)},
          {"message.max.bytes", std::to_string(options.max_message_bytes)},
          {"compression.type", "lz4"},
          {"socket.timeout.ms", "10000"},
      },
      config);
  std::string error;
  if (conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(callbacks_.get()), error) != RdKafka::Conf::CONF_OK ||
      conf->set("event_cb", static_cast<RdKafka::EventCb*>(callbacks_.get()), error) != RdKafka::Conf::CONF_OK) {
    throw ConfigError("kafka producer callbacks: " + error);
  }
  producer_.reset(RdKafka::Producer::create(conf.get(), error));
  if (!producer_) {
    throw ConfigError("kafka producer: " + error);
  }
  // Delivery reports are only served from poll(); a dedicated thread keeps them off I/O threads.
  poller_ = std::thread([this] {
    while (!stop_.load()) {
      producer_->poll(50);
    }
  });
  // A metadata round trip tells whether any broker answers, independently of traffic, so the
  // relay can refuse quickly (503) instead of queueing events a dead cluster will never take.
  prober_ = std::thread([this, interval = options.probe_interval] {
    while (!stop_.load()) {
      RdKafka::Metadata* metadata = nullptr;
      const auto timeout = static_cast<int>(std::max<std::int64_t>(interval.count(), 500));
      const RdKafka::ErrorCode rc = producer_->metadata(false, nullptr, &metadata, timeout);
      const std::unique_ptr<RdKafka::Metadata> owned(metadata);
      if (rc == RdKafka::ERR_NO_ERROR) {
        if (unreachable_since_ms_.exchange(0) != 0) spdlog::info("kafka brokers reachable again");
        std::lock_guard lock(partitions_mutex_);
        for (const RdKafka::TopicMetadata* topic : *owned->topics()) {
          if (topic->err() == RdKafka::ERR_NO_ERROR && !topic->partitions()->empty()) {
            partition_counts_[topic->topic()] = static_cast<std::int32_t>(topic->partitions()->size());
          }
        }
      } else {
        std::int64_t expected = 0;
        if (unreachable_since_ms_.compare_exchange_strong(expected, NowMillis())) {
          spdlog::warn("kafka brokers unreachable: {}", RdKafka::err2str(rc));
        }
      }
      const auto until = std::chrono::steady_clock::now() + interval;
      while (!stop_.load() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
  });
}

std::int32_t Producer::PartitionFor(const std::string& topic) {
  if (partition_slice_ms_ <= 0) return RdKafka::Topic::PARTITION_UA;
  std::int32_t count = 0;
  {
    std::lock_guard lock(partitions_mutex_);
    if (const auto it = partition_counts_.find(topic); it != partition_counts_.end()) count = it->second;
  }
  // Until the first metadata round trip has seen the topic: by the key, as librdkafka does.
  if (count <= 0) return RdKafka::Topic::PARTITION_UA;
  const auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count();
  return static_cast<std::int32_t>(Mix(static_cast<std::uint64_t>(now_ms / partition_slice_ms_)) %
                                   static_cast<std::uint64_t>(count));
}

std::chrono::milliseconds Producer::UnreachableFor() const {
  const std::int64_t since = unreachable_since_ms_.load();
  return std::chrono::milliseconds(since == 0 ? 0 : std::max<std::int64_t>(NowMillis() - since, 1));
}

Producer::~Producer() {
  Close(std::chrono::seconds(5));
}

bool Producer::Close(std::chrono::milliseconds timeout) {
  if (closed_) return true;
  closed_ = true;
  const bool flushed = Flush(timeout);
  stop_.store(true);
  poller_.join();
  prober_.join();
  // Any message still queued is purged and its callback told it failed, so no caller waits forever.
  producer_->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT);
  producer_->poll(0);
  return flushed;
}

SendStatus Producer::Send(const std::string& topic, std::string_view key, std::string_view value,
                          const Headers& headers, DeliveryCallback on_delivery) {
  return Produce(topic, key, const_cast<char*>(value.data()), value.size(), RdKafka::Producer::RK_MSG_COPY, headers,
                 std::move(on_delivery));
}

SendStatus Producer::Send(const std::string& topic, std::string_view key, MallocBuffer value, const Headers& headers,
                          DeliveryCallback on_delivery) {
  const SendStatus status =
      Produce(topic, key, value.Data(), value.Size(), RdKafka::Producer::RK_MSG_FREE, headers, std::move(on_delivery));
  if (status == SendStatus::kEnqueued) value.Release();  // librdkafka frees it now
  return status;
}

SendStatus Producer::Produce(const std::string& topic, std::string_view key, char* value, std::size_t size, int flags,
                             const Headers& headers, DeliveryCallback on_delivery) {
  std::unique_ptr<RdKafka::Headers> kafka_headers(RdKafka::Headers::create());
  for (const auto& [name, header_value] : headers) {
    kafka_headers->add(name, header_value);
  }
  auto callback = std::make_unique<DeliveryCallback>(std::move(on_delivery));
  const RdKafka::ErrorCode rc = producer_->produce(topic, PartitionFor(topic), flags, value, size, key.data(),
                                                   key.size(), 0, kafka_headers.get(), callback.get());
  if (rc == RdKafka::ERR_NO_ERROR) {
    // librdkafka owns the headers and will hand the callback back in dr_cb.
    kafka_headers.release();
    callback.release();
    return SendStatus::kEnqueued;
  }
  if (rc == RdKafka::ERR__QUEUE_FULL) return SendStatus::kQueueFull;
  if (rc == RdKafka::ERR_MSG_SIZE_TOO_LARGE) return SendStatus::kTooLarge;
  spdlog::warn("kafka produce to {} failed: {}", topic, RdKafka::err2str(rc));
  return SendStatus::kError;
}

bool Producer::Flush(std::chrono::milliseconds timeout) {
  return producer_->flush(static_cast<int>(timeout.count())) == RdKafka::ERR_NO_ERROR;
}

int Producer::OutstandingMessages() const {
  return producer_->outq_len();
}

}  // namespace rookery::kafka
