// The consumer against librdkafka's mock cluster, in this process: a prefetch queue much smaller
// than the backlog must keep up, because the consumer wakes the fetchers when it has drained.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "rookery/kafka/consumer.hpp"

namespace {

constexpr int kPartitions = 8;
constexpr int kMessages = 640;
constexpr std::size_t kMessageBytes = 20 * 1024;  // 12.5 MB in all, ~12 times the 1 MB queue

struct HandleDeleter {
  void operator()(rd_kafka_t* handle) const { rd_kafka_destroy(handle); }
};
using Handle = std::unique_ptr<rd_kafka_t, HandleDeleter>;

// A producer whose mock cluster (owned by the handle) holds `topic` with kMessages messages spread
// evenly over kPartitions.
Handle ProducerWithBacklog(const std::string& topic) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char error[256];
  REQUIRE(rd_kafka_conf_set(conf, "test.mock.num.brokers", "1", error, sizeof error) == RD_KAFKA_CONF_OK);
  Handle producer(rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error));
  REQUIRE(producer);
  REQUIRE(rd_kafka_mock_topic_create(rd_kafka_handle_mock_cluster(producer.get()), topic.c_str(), kPartitions, 1) ==
          RD_KAFKA_RESP_ERR_NO_ERROR);
  const std::string value(kMessageBytes, 'x');
  for (int i = 0; i < kMessages; ++i) {
    const rd_kafka_resp_err_t err =
        rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(i % kPartitions),
                          RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    REQUIRE(err == RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  REQUIRE(rd_kafka_flush(producer.get(), 10000) == RD_KAFKA_RESP_ERR_NO_ERROR);
  return producer;
}

struct Drained {
  int records = 0;
  double seconds = 0;
  std::uint64_t refills = 0;
};

// Consumes the whole backlog through a 1 MB prefetch queue, as a worker does: batches of 50.
Drained Drain(const std::string& bootstraps, const std::string& topic, bool refill_prefetch) {
  rookery::kafka::KafkaConfig config;
  config.brokers = bootstraps;
  config.params = {{"queued.max.messages.kbytes", "1024"}, {"max.partition.fetch.bytes", "65536"}};
  rookery::kafka::ConsumerOptions options;
  options.group_id = std::string("prefetch-") + (refill_prefetch ? "refill" : "plain");
  options.refill_prefetch = refill_prefetch;
  rookery::kafka::Consumer consumer(config, options, {topic});

  Drained drained;
  // The clock starts at the first record: joining the group is not what is measured.
  std::chrono::steady_clock::time_point first;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (drained.records < kMessages && std::chrono::steady_clock::now() < give_up) {
    const auto records = consumer.ConsumeBatch(50, std::chrono::milliseconds(100));
    if (!records.empty() && drained.records == 0) first = std::chrono::steady_clock::now();
    drained.records += static_cast<int>(records.size());
  }
  drained.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - first).count();
  drained.refills = consumer.Stats().prefetch_refills;
  consumer.Close();
  return drained;
}

}  // namespace

TEST_CASE("a small prefetch queue is refilled as soon as it drains, not a second later", "[integration][kafka]") {
  const std::string topic = "prefetch-refill";
  const Handle producer = ProducerWithBacklog(topic);
  const std::string bootstraps = rd_kafka_mock_cluster_bootstraps(rd_kafka_handle_mock_cluster(producer.get()));

  // librdkafka alone: the fetchers stop at the 1 MB queue and look again up to a second later,
  // so 12.5 MB take several seconds. This is what the refill is for, shown in the same process.
  const Drained plain = Drain(bootstraps, topic, false);
  REQUIRE(plain.records == kMessages);
  CHECK(plain.refills == 0);

  const Drained refilled = Drain(bootstraps, topic, true);
  REQUIRE(refilled.records == kMessages);
  CHECK(refilled.refills > 0);
  INFO("plain " << plain.seconds << " s, refilled " << refilled.seconds << " s over " << refilled.refills
                << " refills");
  // Both read the same messages from the same cluster; only the wake-ups differ. The margin is
  // wide (several seconds against a fraction of one) so that a slow machine cannot flip it.
  CHECK(plain.seconds > 3.0);
  CHECK(refilled.seconds * 3 < plain.seconds);
}
