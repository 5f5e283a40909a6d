#include "rookery/kafka/consumer.hpp"

#include <librdkafka/rdkafkacpp.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <map>

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

class Consumer::Callbacks : public RdKafka::RebalanceCb, public RdKafka::EventCb {
 public:
  explicit Callbacks(std::function<void()> before_revoke) : before_revoke_(std::move(before_revoke)) {}

  std::atomic<std::uint64_t> offset_resets{0};

  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      spdlog::info("kafka: assigned {} partitions", partitions.size());
      consumer->assign(partitions);
    } else if (err == RdKafka::ERR__REVOKE_PARTITIONS) {
      spdlog::info("kafka: revoked {} partitions{}", partitions.size(),
                   consumer->assignment_lost() ? " (assignment lost)" : "");
      if (before_revoke_) before_revoke_();
      consumer->unassign();
    } else {
      spdlog::warn("kafka rebalance error: {}", RdKafka::err2str(err));
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
  consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), error));
  if (!consumer_) {
    throw ConfigError("kafka consumer: " + error);
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
      case RdKafka::ERR_NO_ERROR: records.emplace_back(std::move(message)); break;
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
  return ConsumeStats{callbacks_->offset_resets.load()};
}

void Consumer::Close() {
  if (closed_ || !consumer_) return;
  closed_ = true;
  consumer_->close();
}

}  // namespace rookery::kafka
