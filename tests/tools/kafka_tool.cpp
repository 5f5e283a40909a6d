// rookery-kafka-tool: Kafka helper for the integration tests.
//
//   count   how many messages a topic holds (sum of high - low watermarks),
//           so tests can assert on what the relay published.
//   replay  re-produce every message currently in a topic, byte for byte
//           (key, value, headers, timestamp, partition), to prove that the
//           worker's deduplication makes redelivery harmless.
//
// Every broker interaction is bounded by --timeout-ms so a broken broker
// fails the test quickly (exit 1) instead of hanging it.

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rookery::kafka_tool {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int kDefaultTimeoutMs = 5000;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
// Short slices keep the loops responsive while the overall bound is the
// user's --timeout-ms.
constexpr int kPollSliceMs = 100;

constexpr std::string_view kUsage = R"(Usage:
  rookery-kafka-tool count  --brokers B --topic T [--timeout-ms MS]
  rookery-kafka-tool ends   --brokers B --topic T [--timeout-ms MS]
  rookery-kafka-tool replay --brokers B --topic T [--limit N] [--timeout-ms MS]
  rookery-kafka-tool produce --brokers B --topic T --key K (--value V | --value-file F) [--header NAME=VALUE]
                             [--timeout-ms MS]

count   Print the number of messages the topic holds: the sum over all
        partitions of (high watermark - low watermark).
ends    Print each partition's high watermark, one "PARTITION OFFSET" line each:
        which partitions the messages produced in between went to.
replay  Read every message currently in the topic (all partitions from the
        beginning up to the high watermark captured at start; no consumer
        group, no commits) and produce it again to the same topic and
        partition with the same key, value, headers and timestamp, using an
        idempotent producer. Prints the number of messages replayed.
        --limit N stops after N messages.
produce Produce one message (key, value and optional header as given) and
        wait for its delivery: poison messages for the worker's tests.

--timeout-ms MS bounds each broker request, and for replay also how long
consuming or flushing may go without progress (default 5000).

Exit status: 0 success, 1 Kafka failure or timeout, 2 bad arguments.
)";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct ToolError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class Command { kCount, kEnds, kReplay, kProduce };

struct Options {
  Command command = Command::kCount;
  std::string brokers;
  std::string topic;
  std::optional<std::int64_t> limit;
  std::string key;
  std::string value;
  std::optional<std::pair<std::string, std::string>> header;
  int timeout_ms = kDefaultTimeoutMs;
  bool help = false;
};

std::int64_t ParseInt(std::string_view what, std::string_view text, std::int64_t min_value) {
  std::int64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || ptr != end || value < min_value) {
    throw UsageError(std::string(what) + " must be an integer >= " + std::to_string(min_value) + ", got '" +
                     std::string(text) + "'");
  }
  return value;
}

Options ParseOptions(int argc, char** argv) {
  Options options;
  if (argc < 2) throw UsageError("missing command");
  const std::string_view command = argv[1];
  if (command == "-h" || command == "--help") {
    options.help = true;
    return options;
  }
  if (command == "ends") {
    options.command = Command::kEnds;
  } else if (command == "count") {
    options.command = Command::kCount;
  } else if (command == "replay") {
    options.command = Command::kReplay;
  } else if (command == "produce") {
    options.command = Command::kProduce;
  } else {
    throw UsageError("unknown command '" + std::string(command) + "'");
  }

  for (int i = 2; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      options.help = true;
      return options;
    }
    std::string_view name = arg;
    std::optional<std::string_view> value;
    if (const auto eq = arg.find('='); arg.starts_with("--") && eq != arg.npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    const bool producing = options.command == Command::kProduce;
    const bool known =
        name == "--brokers" || name == "--topic" || name == "--timeout-ms" ||
        (name == "--limit" && options.command == Command::kReplay) ||
        (producing && (name == "--key" || name == "--value" || name == "--value-file" || name == "--header"));
    if (!known) throw UsageError("unknown argument '" + std::string(arg) + "'");
    if (!value) {
      if (i + 1 >= argc) throw UsageError(std::string(name) + " requires a value");
      value = argv[++i];
    }
    if (name == "--brokers") {
      options.brokers = std::string(*value);
    } else if (name == "--topic") {
      options.topic = std::string(*value);
    } else if (name == "--key") {
      options.key = std::string(*value);
    } else if (name == "--value") {
      options.value = std::string(*value);
    } else if (name == "--value-file") {
      // For values larger than one command-line argument may be.
      std::ifstream file{std::string(*value), std::ios::binary};
      if (!file) throw UsageError("cannot read " + std::string(*value));
      options.value.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
    } else if (name == "--header") {
      const auto eq = value->find('=');
      if (eq == std::string_view::npos) throw UsageError("--header takes NAME=VALUE");
      options.header = std::pair{std::string(value->substr(0, eq)), std::string(value->substr(eq + 1))};
    } else if (name == "--timeout-ms") {
      options.timeout_ms = static_cast<int>(std::min<std::int64_t>(ParseInt(name, *value, 1), 3'600'000));
    } else {
      options.limit = ParseInt(name, *value, 0);
    }
  }
  if (options.brokers.empty()) throw UsageError("--brokers is required");
  if (options.topic.empty()) throw UsageError("--topic is required");
  if (options.command == Command::kProduce && options.key.empty()) throw UsageError("--key is required");
  return options;
}

// --- RAII for librdkafka handles -------------------------------------------

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const {
    // A producer that gave up (timeout) still holds messages; drop them so
    // destroy does not wait on a dead broker.
    if (rd_kafka_type(rk) == RD_KAFKA_PRODUCER) {
      rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    }
    rd_kafka_destroy(rk);
  }
};
struct ConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
struct TopicDeleter {
  void operator()(rd_kafka_topic_t* rkt) const { rd_kafka_topic_destroy(rkt); }
};
struct MetadataDeleter {
  void operator()(const rd_kafka_metadata_t* md) const { rd_kafka_metadata_destroy(md); }
};
struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const { rd_kafka_topic_partition_list_destroy(list); }
};
struct MessageDeleter {
  void operator()(rd_kafka_message_t* msg) const { rd_kafka_message_destroy(msg); }
};
struct HeadersDeleter {
  void operator()(rd_kafka_headers_t* hdrs) const { rd_kafka_headers_destroy(hdrs); }
};
struct QueueDeleter {
  void operator()(rd_kafka_queue_t* queue) const { rd_kafka_queue_destroy(queue); }
};
struct ErrorDeleter {
  void operator()(rd_kafka_error_t* error) const { rd_kafka_error_destroy(error); }
};

using KafkaPtr = std::unique_ptr<rd_kafka_t, KafkaDeleter>;
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;
using TopicPtr = std::unique_ptr<rd_kafka_topic_t, TopicDeleter>;
using MetadataPtr = std::unique_ptr<const rd_kafka_metadata_t, MetadataDeleter>;
using PartitionListPtr = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;
using MessagePtr = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;
using HeadersPtr = std::unique_ptr<rd_kafka_headers_t, HeadersDeleter>;
using QueuePtr = std::unique_ptr<rd_kafka_queue_t, QueueDeleter>;
using ErrorPtr = std::unique_ptr<rd_kafka_error_t, ErrorDeleter>;

void SetConf(rd_kafka_conf_t* conf, const char* name, const std::string& value) {
  char errstr[512];
  if (rd_kafka_conf_set(conf, name, value.c_str(), errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
    throw ToolError(std::string("config ") + name + ": " + errstr);
  }
}

KafkaPtr MakeClient(rd_kafka_type_t type, const Options& options,
                    const std::vector<std::pair<const char*, std::string>>& extra, void* opaque = nullptr,
                    void (*dr_msg_cb)(rd_kafka_t*, const rd_kafka_message_t*, void*) = nullptr) {
  ConfPtr conf(rd_kafka_conf_new());
  SetConf(conf.get(), "bootstrap.servers", options.brokers);
  SetConf(conf.get(), "client.id", "rookery-kafka-tool");
  SetConf(conf.get(), "socket.timeout.ms", std::to_string(options.timeout_ms));
  for (const auto& [name, value] : extra) SetConf(conf.get(), name, value);
  if (dr_msg_cb != nullptr) rd_kafka_conf_set_dr_msg_cb(conf.get(), dr_msg_cb);
  rd_kafka_conf_set_opaque(conf.get(), opaque);
  char errstr[512];
  KafkaPtr rk(rd_kafka_new(type, conf.get(), errstr, sizeof(errstr)));
  if (!rk) throw ToolError(std::string("rd_kafka_new: ") + errstr);
  static_cast<void>(conf.release());  // rk owns it now
  return rk;
}

// --- Topic inspection ----------------------------------------------------------

struct PartitionRange {
  std::int32_t partition = 0;
  std::int64_t low = 0;
  std::int64_t high = 0;
};

bool IsRetriable(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE || err == RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION ||
         err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT;
}

std::vector<std::int32_t> FetchPartitions(rd_kafka_t* rk, const Options& options) {
  // Ask for ALL topics and look ours up: a request naming the topic makes
  // the dev broker (librdkafka mock) auto-create it with 4 partitions,
  // ignoring allow.auto.create.topics, so a typo would "succeed" with 0.
  const auto deadline = Clock::now() + milliseconds(options.timeout_ms);
  for (;;) {
    const auto remaining = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    const rd_kafka_metadata_t* raw = nullptr;
    const rd_kafka_resp_err_t err = rd_kafka_metadata(rk, /*all_topics=*/1, nullptr, &raw,
                                                      static_cast<int>(std::max<std::int64_t>(remaining.count(), 1)));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw ToolError("metadata from " + options.brokers + ": " + rd_kafka_err2str(err));
    }
    const MetadataPtr md(raw);
    const rd_kafka_metadata_topic_t* topic = nullptr;
    for (int i = 0; i < md->topic_cnt; ++i) {
      if (options.topic == md->topics[i].topic) topic = &md->topics[i];
    }
    if (topic == nullptr) {
      throw ToolError("topic " + options.topic + " does not exist on " + options.brokers);
    }
    if (topic->err == RD_KAFKA_RESP_ERR_NO_ERROR && topic->partition_cnt > 0) {
      std::vector<std::int32_t> partitions;
      partitions.reserve(static_cast<std::size_t>(topic->partition_cnt));
      for (int i = 0; i < topic->partition_cnt; ++i) {
        partitions.push_back(topic->partitions[i].id);
      }
      std::sort(partitions.begin(), partitions.end());
      return partitions;
    }
    // A fresh topic can briefly report LEADER_NOT_AVAILABLE; retry within
    // the same budget rather than fail a test on that race.
    if (!IsRetriable(topic->err) || Clock::now() >= deadline) {
      throw ToolError("topic " + options.topic + ": " +
                      (topic->err != RD_KAFKA_RESP_ERR_NO_ERROR ? rd_kafka_err2str(topic->err) : "no partitions"));
    }
    rd_kafka_poll(rk, kPollSliceMs);
  }
}

std::vector<PartitionRange> FetchRanges(rd_kafka_t* rk, const Options& options) {
  std::vector<PartitionRange> ranges;
  for (const std::int32_t partition : FetchPartitions(rk, options)) {
    PartitionRange range{.partition = partition};
    const rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(rk, options.topic.c_str(), partition, &range.low,
                                                                     &range.high, options.timeout_ms);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw ToolError("watermarks for " + options.topic + " [" + std::to_string(partition) +
                      "]: " + rd_kafka_err2str(err));
    }
    ranges.push_back(range);
  }
  return ranges;
}

int RunCount(const Options& options) {
  // A consumer-type handle only because it never starts producer machinery
  // (idempotence PID etc.); it never subscribes, assigns or commits.
  KafkaPtr rk = MakeClient(RD_KAFKA_CONSUMER, options, {});
  std::int64_t total = 0;
  for (const auto& range : FetchRanges(rk.get(), options)) {
    total += range.high - range.low;
  }
  std::cout << total << std::endl;
  return 0;
}

int RunEnds(const Options& options) {
  KafkaPtr rk = MakeClient(RD_KAFKA_CONSUMER, options, {});
  for (const auto& range : FetchRanges(rk.get(), options)) {
    std::cout << range.partition << ' ' << range.high << '\n';
  }
  std::cout << std::flush;
  return 0;
}

// --- Replay ------------------------------------------------------------------

struct DeliveryStats {
  std::int64_t delivered = 0;
  std::int64_t failed = 0;
  std::string first_error;
};

// Runs on the thread calling rd_kafka_poll/flush, i.e. ours: no locking.
void OnDelivery(rd_kafka_t* /*rk*/, const rd_kafka_message_t* msg, void* opaque) {
  auto* stats = static_cast<DeliveryStats*>(opaque);
  if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++stats->delivered;
    return;
  }
  if (stats->failed++ == 0) stats->first_error = rd_kafka_err2str(msg->err);
}

void ProduceCopy(rd_kafka_t* producer, const std::string& topic, const rd_kafka_message_t& msg, int timeout_ms) {
  HeadersPtr headers;
  rd_kafka_headers_t* source_headers = nullptr;
  if (rd_kafka_message_headers(&msg, &source_headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    headers.reset(rd_kafka_headers_copy(source_headers));
  }
  rd_kafka_timestamp_type_t ts_type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
  const std::int64_t timestamp = rd_kafka_message_timestamp(&msg, &ts_type);

  std::vector<rd_kafka_vu_t> vus;
  auto add = [&vus](rd_kafka_vtype_t vtype) -> rd_kafka_vu_t& {
    rd_kafka_vu_t& vu = vus.emplace_back();
    vu.vtype = vtype;
    return vu;
  };
  add(RD_KAFKA_VTYPE_TOPIC).u.cstr = topic.c_str();
  // Same partition as the original, independent of the partitioner the
  // original producer used, so the duplicate lands where a redelivery would.
  add(RD_KAFKA_VTYPE_PARTITION).u.i32 = msg.partition;
  add(RD_KAFKA_VTYPE_MSGFLAGS).u.i = RD_KAFKA_MSG_F_COPY;
  auto& value = add(RD_KAFKA_VTYPE_VALUE);
  value.u.mem.ptr = msg.payload;
  value.u.mem.size = msg.len;
  auto& key = add(RD_KAFKA_VTYPE_KEY);
  key.u.mem.ptr = msg.key;
  key.u.mem.size = msg.key_len;
  if (ts_type == RD_KAFKA_TIMESTAMP_CREATE_TIME) {
    add(RD_KAFKA_VTYPE_TIMESTAMP).u.i64 = timestamp;
  }
  if (headers) add(RD_KAFKA_VTYPE_HEADERS).u.headers = headers.get();

  const auto deadline = Clock::now() + milliseconds(timeout_ms);
  for (;;) {
    ErrorPtr error(rd_kafka_produceva(producer, vus.data(), vus.size()));
    if (!error) {
      static_cast<void>(headers.release());  // the message owns them now
      return;
    }
    if (rd_kafka_error_code(error.get()) != RD_KAFKA_RESP_ERR__QUEUE_FULL || Clock::now() >= deadline) {
      throw ToolError(std::string("produce: ") + rd_kafka_error_string(error.get()));
    }
    rd_kafka_poll(producer, kPollSliceMs);
  }
}

void FlushProducer(rd_kafka_t* producer, int timeout_ms) {
  // Bounded by lack of progress rather than total time, so a big replay is
  // not cut off while a stuck broker still fails within timeout_ms.
  int last_outstanding = rd_kafka_outq_len(producer);
  auto last_progress = Clock::now();
  while (rd_kafka_outq_len(producer) > 0) {
    rd_kafka_flush(producer, kPollSliceMs);
    const int outstanding = rd_kafka_outq_len(producer);
    if (outstanding < last_outstanding) {
      last_outstanding = outstanding;
      last_progress = Clock::now();
    } else if (Clock::now() - last_progress > milliseconds(timeout_ms)) {
      throw ToolError("flush: " + std::to_string(outstanding) + " message(s) still undelivered after " +
                      std::to_string(timeout_ms) + " ms without progress");
    }
  }
}

// Without this the producer learns the topic's partitions only from its
// periodic (1 s) topic scan, because we produce to explicit partitions; that
// alone would add a second to every replay.
void WarmUpProducer(rd_kafka_t* producer, const Options& options) {
  const TopicPtr rkt(rd_kafka_topic_new(producer, options.topic.c_str(), nullptr));
  if (!rkt) {
    throw ToolError("topic " + options.topic + ": " + rd_kafka_err2str(rd_kafka_last_error()));
  }
  const rd_kafka_metadata_t* raw = nullptr;
  const rd_kafka_resp_err_t err = rd_kafka_metadata(producer, 0, rkt.get(), &raw, options.timeout_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw ToolError(std::string("producer metadata: ") + rd_kafka_err2str(err));
  }
  rd_kafka_metadata_destroy(raw);
}

// Partition fetchers of the simple (group-less) consumer API. Replay must
// not be a group member: no coordinator, no rebalance of the real consumers,
// no committed offsets. Stops whatever is still running on destruction,
// which librdkafka requires before the queue and topic go away.
class PartitionFetches {
 public:
  PartitionFetches(rd_kafka_topic_t* rkt, rd_kafka_queue_t* queue) : rkt_(rkt), queue_(queue) {}
  PartitionFetches(const PartitionFetches&) = delete;
  PartitionFetches& operator=(const PartitionFetches&) = delete;
  ~PartitionFetches() {
    for (const std::int32_t partition : running_) rd_kafka_consume_stop(rkt_, partition);
  }

  void Start(std::int32_t partition, std::int64_t offset) {
    if (rd_kafka_consume_start_queue(rkt_, partition, offset, queue_) != 0) {
      throw ToolError("start fetching partition " + std::to_string(partition) + ": " +
                      rd_kafka_err2str(rd_kafka_last_error()));
    }
    running_.push_back(partition);
  }

  void Stop(std::int32_t partition) {
    const auto it = std::find(running_.begin(), running_.end(), partition);
    if (it == running_.end()) return;
    running_.erase(it);
    rd_kafka_consume_stop(rkt_, partition);
  }

 private:
  rd_kafka_topic_t* rkt_;
  rd_kafka_queue_t* queue_;
  std::vector<std::int32_t> running_;
};

int RunReplay(const Options& options) {
  KafkaPtr consumer = MakeClient(RD_KAFKA_CONSUMER, options,
                                 {{"enable.auto.commit", "false"},
                                  // If retention drops the head while we read, continue from the new head.
                                  {"auto.offset.reset", "earliest"},
                                  // EOF tells us a partition is exhausted even when its last offsets are
                                  // transaction markers that are never delivered as messages.
                                  {"enable.partition.eof", "true"}});

  // Snapshot first: what we produce lands behind these high watermarks and
  // must not be replayed again.
  std::map<std::int32_t, PartitionRange> pending;
  for (const auto& range : FetchRanges(consumer.get(), options)) {
    if (range.high > range.low) pending.emplace(range.partition, range);
  }
  if (options.limit && *options.limit == 0) pending.clear();
  if (pending.empty()) {
    std::cout << 0 << std::endl;
    return 0;
  }

  DeliveryStats stats;
  KafkaPtr producer =
      MakeClient(RD_KAFKA_PRODUCER, options, {{"enable.idempotence", "true"}, {"acks", "all"}}, &stats, OnDelivery);
  WarmUpProducer(producer.get(), options);

  const TopicPtr rkt(rd_kafka_topic_new(consumer.get(), options.topic.c_str(), nullptr));
  if (!rkt) {
    throw ToolError("topic " + options.topic + ": " + rd_kafka_err2str(rd_kafka_last_error()));
  }
  const QueuePtr queue(rd_kafka_queue_new(consumer.get()));
  PartitionFetches fetches(rkt.get(), queue.get());
  for (const auto& [partition, range] : pending) fetches.Start(partition, range.low);

  auto finish_partition = [&](std::int32_t partition) {
    // Stop fetching what we are producing into this partition; messages
    // already queued are skipped because the partition is no longer pending.
    if (pending.erase(partition) != 0) fetches.Stop(partition);
  };

  std::int64_t produced = 0;
  auto last_progress = Clock::now();
  while (!pending.empty() && (!options.limit || produced < *options.limit)) {
    rd_kafka_poll(producer.get(), 0);
    MessagePtr msg(rd_kafka_consume_queue(queue.get(), kPollSliceMs));
    if (!msg) {
      if (Clock::now() - last_progress > milliseconds(options.timeout_ms)) {
        throw ToolError("replay: no progress for " + std::to_string(options.timeout_ms) + " ms with " +
                        std::to_string(pending.size()) + " partition(s) unfinished");
      }
      continue;
    }
    const auto it = pending.find(msg->partition);
    if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (it != pending.end() && msg->offset >= it->second.high) {
        finish_partition(msg->partition);
        last_progress = Clock::now();
      }
      continue;
    }
    if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (msg->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || msg->err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION) {
        throw ToolError(std::string("replay: ") + rd_kafka_message_errstr(msg.get()));
      }
      // Mostly transient (broker reconnects); the no-progress timeout
      // decides when to give up.
      std::cerr << "rookery-kafka-tool: consumer: " << rd_kafka_message_errstr(msg.get()) << std::endl;
      continue;
    }
    if (it == pending.end()) continue;  // stopped partition, stale fetch
    if (msg->offset >= it->second.high) {
      // Beyond the snapshot (our own copies or new traffic): done, even if
      // the last snapshot offsets were transaction markers.
      finish_partition(msg->partition);
      continue;
    }
    ProduceCopy(producer.get(), options.topic, *msg, options.timeout_ms);
    ++produced;
    last_progress = Clock::now();
    if (msg->offset + 1 >= it->second.high) finish_partition(msg->partition);
  }

  FlushProducer(producer.get(), options.timeout_ms);
  if (stats.failed > 0) {
    throw ToolError("replay: " + std::to_string(stats.failed) +
                    " message(s) failed delivery, first error: " + stats.first_error);
  }
  if (stats.delivered != produced) {
    throw ToolError("replay: produced " + std::to_string(produced) + " but only " + std::to_string(stats.delivered) +
                    " delivered");
  }
  std::cout << produced << std::endl;
  return 0;
}

int RunProduce(const Options& options) {
  DeliveryStats stats;
  KafkaPtr producer =
      MakeClient(RD_KAFKA_PRODUCER, options, {{"enable.idempotence", "true"}, {"acks", "all"}}, &stats, OnDelivery);
  rd_kafka_headers_t* headers = rd_kafka_headers_new(1);
  if (options.header) {
    rd_kafka_header_add(headers, options.header->first.data(), static_cast<ssize_t>(options.header->first.size()),
                        options.header->second.data(), static_cast<ssize_t>(options.header->second.size()));
  }
  const rd_kafka_resp_err_t err = rd_kafka_producev(
      producer.get(), RD_KAFKA_V_TOPIC(options.topic.c_str()), RD_KAFKA_V_KEY(options.key.data(), options.key.size()),
      RD_KAFKA_V_VALUE(const_cast<char*>(options.value.data()), options.value.size()),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_headers_destroy(headers);  // owned by the message only when produce succeeds
    throw ToolError(std::string("produce: ") + rd_kafka_err2str(err));
  }
  FlushProducer(producer.get(), options.timeout_ms);
  if (stats.failed > 0 || stats.delivered != 1) throw ToolError("produce: not delivered: " + stats.first_error);
  std::cout << 1 << std::endl;
  return 0;
}

}  // namespace
}  // namespace rookery::kafka_tool

int main(int argc, char** argv) {
  namespace tool = rookery::kafka_tool;
  tool::Options options;
  try {
    options = tool::ParseOptions(argc, argv);
  } catch (const tool::UsageError& e) {
    std::cerr << "rookery-kafka-tool: " << e.what() << "\n"
              << "Try 'rookery-kafka-tool --help'.\n";
    return tool::kExitUsage;
  }
  if (options.help) {
    std::cout << tool::kUsage;
    return 0;
  }
  try {
    switch (options.command) {
      case tool::Command::kCount: return tool::RunCount(options);
      case tool::Command::kEnds: return tool::RunEnds(options);
      case tool::Command::kReplay: return tool::RunReplay(options);
      case tool::Command::kProduce: return tool::RunProduce(options);
    }
    return tool::kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "rookery-kafka-tool: " << e.what() << std::endl;
    return tool::kExitFailure;
  }
}
