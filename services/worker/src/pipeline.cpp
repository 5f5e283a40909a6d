#include "pipeline.hpp"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <csignal>
#include <exception>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <thread>

#include "event_processor.hpp"
#include "event_store.hpp"
#include "rookery/kafka/consumer.hpp"
#include "rookery/protocol/raw_event.hpp"

namespace rookery::worker {
namespace {

void SleepUnlessStopped(std::chrono::milliseconds duration, const std::atomic<bool>& stop) {
  const auto until = std::chrono::steady_clock::now() + duration;
  while (!stop.load() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// A consumed batch, processed and ready for its transaction. It keeps the offsets to commit, not the
// Kafka messages: a message keeps alive the whole fetch response it came in, so messages held
// through a write (and, with the hand-over, through the next batch's processing too) kept several
// responses in memory at once.
struct PendingBatch {
  std::size_t messages = 0;
  kafka::NextOffsets offsets;
  BatchWrite write;
  std::uint64_t skipped = 0;
  std::chrono::steady_clock::time_point consumed;
};

BatchWrite ProcessBatch(const std::vector<kafka::Record>& records, const SettingsLookup& settings,
                        grouping::GroupingMemo& memo, std::uint64_t& skipped) {
  BatchWrite batch;
  for (const auto& record : records) {
    const auto contract = record.Header(std::string(protocol::kContractHeader));
    ProcessResult result = ProcessRecord(record.Value(), contract.value_or(""), settings, &memo);
    if (auto* processed = std::get_if<ProcessedEvent>(&result)) {
      processed->topic = record.Topic();
      processed->partition = record.Partition();
      processed->offset = record.Offset();
      RenderEventRow(*processed);
      batch.events.push_back(std::move(*processed));
    } else if (auto* skip = std::get_if<Skipped>(&result)) {
      ++skipped;
      spdlog::debug("skipped {}[{}]@{}: {}", record.Topic(), record.Partition(), record.Offset(), skip->reason);
    } else {
      auto& dead = std::get<DeadLetter>(result);
      spdlog::warn("dead-lettering {}[{}]@{}: {}", record.Topic(), record.Partition(), record.Offset(), dead.reason);
      // The scrubbed payload ProcessRecord made, never record.Value(): the message may hold secrets.
      batch.dead_letters.push_back(DeadLetterRecord{record.Topic(), record.Partition(), record.Offset(),
                                                    std::move(dead.reason), std::move(dead.payload)});
    }
  }
  return batch;
}

}  // namespace

// The hand-over from the consuming thread to the writer. Put returns only once the writer has
// taken the batch, so at most one processed batch waits (bounded memory, and a slow database holds
// consumption back). The writer takes batches in the order they were put, which is the order
// their offsets are committed in.
class Handover {
 public:
  /// Waits until the writer takes `batch`. False if the writer gave up (stopped while the database
  /// was failing): the batch must then not be written, or its offsets would skip the one before.
  bool Put(PendingBatch batch) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return !waiting_ || gave_up_; });
    if (gave_up_) return false;
    waiting_ = std::move(batch);
    changed_.notify_all();
    changed_.wait(lock, [this] { return !waiting_ || gave_up_; });
    return !gave_up_;
  }

  /// The next batch, or nothing once the consuming thread has finished or `timeout` has passed
  /// (then `finished` tells which).
  std::optional<PendingBatch> Take(std::chrono::milliseconds timeout, bool& finished) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [this] { return waiting_ || finished_; });
    finished = finished_ && !waiting_;
    if (!waiting_) return std::nullopt;
    std::optional<PendingBatch> batch = std::move(waiting_);
    waiting_.reset();
    busy_ = true;
    changed_.notify_all();
    return batch;
  }

  /// The writer has committed (or abandoned) the batch it took.
  void Done() {
    const std::lock_guard lock(mutex_);
    busy_ = false;
    changed_.notify_all();
  }

  /// Waits until no batch is being written, e.g. before the partitions it came from are revoked.
  void WaitIdle() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return (!busy_ && !waiting_) || gave_up_; });
  }

  void Finish() {
    const std::lock_guard lock(mutex_);
    finished_ = true;
    changed_.notify_all();
  }

  void GiveUp() {
    const std::lock_guard lock(mutex_);
    gave_up_ = true;
    busy_ = false;
    waiting_.reset();
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::optional<PendingBatch> waiting_;
  bool busy_ = false;
  bool finished_ = false;
  bool gave_up_ = false;
};

WorkerMetrics::WorkerMetrics(metrics::Registry& registry)
    : events(registry.AddCounter("rookery_worker_events_total",
                                 "Raw events handled, by outcome (dead_lettered: stored in dead_letters with "
                                 "the reason)",
                                 {"outcome"})),
      batches(registry.AddCounter("rookery_worker_batches_total", "Batches committed").With({})),
      database_retries(
          registry.AddCounter("rookery_worker_database_retries_total", "Batch writes retried after an error").With({})),
      transitions(registry.AddCounter("rookery_worker_issue_transitions_total",
                                      "Issues created, regressed or re-surfaced", {"kind"})),
      tag_deltas_folded(registry.AddCounter("rookery_worker_tag_deltas_folded_total",
                                            "Per-issue tag count rows summed into the issues' tag values, by "
                                            "when (batch: in a batch's transaction; timed: after full batches)",
                                            {"when"})),
      tag_fold_failures(
          registry.AddCounter("rookery_worker_tag_fold_failures_total", "Tag folds that failed (retried later)")
              .With({})),
      grouping_memo(registry.AddCounter("rookery_worker_grouping_memo_total",
                                        "Events grouped, by whether the result came from the grouping memo (hit) "
                                        "or was computed (miss)",
                                        {"result"})),
      batch_seconds(registry
                        .AddHistogram("rookery_worker_batch_seconds",
                                      "From consuming a batch to committing its offsets (processing, waiting for "
                                      "the writer, writing)")
                        .With({})) {}

Pipeline::Pipeline(WorkerConfig config, metrics::Registry& registry) : config_(std::move(config)), metrics_(registry) {
  // Resets are data the group never saw (the broker dropped it before it was consumed): loss.
  registry.AddGauge("rookery_worker_offset_resets", "Partition offset resets since start (events lost)",
                    [this] { return static_cast<double>(offset_resets_.load()); });
  registry.AddGauge("rookery_worker_prefetch_refills",
                    "Times the Kafka fetchers were woken to refill a drained prefetch queue, since start",
                    [this] { return static_cast<double>(prefetch_refills_.load()); });
}

int Pipeline::Run(const std::atomic<bool>& stop) {
  Handover handover;
  kafka::ConsumerOptions consumer_options = config_.consumer;
  // A rebalance waits for the batch being written to commit, so the partitions' next owner does
  // not replay it (a replay would be harmless, only wasted work).
  consumer_options.before_revoke = [&handover] { handover.WaitIdle(); };
  kafka::Consumer consumer(config_.kafka, consumer_options, {config_.topic});
  spdlog::info("worker consuming {} as group {} (batches of up to {} / {} ms)", config_.topic,
               config_.consumer.group_id, config_.batch_size, config_.batch_wait.count());

  std::exception_ptr writer_failure;
  std::thread writer([&] {
    try {
      WriteLoop(handover, consumer, stop);
    } catch (...) {
      writer_failure = std::current_exception();
      handover.GiveUp();
    }
  });
  try {
    ConsumeLoop(handover, consumer, stop);
  } catch (...) {
    // Let the writer finish what it holds before the exception leaves (a thread still joinable
    // would terminate the process); nothing after the failed batch is committed.
    handover.Finish();
    writer.join();
    throw;
  }
  handover.Finish();
  writer.join();
  if (writer_failure) std::rethrow_exception(writer_failure);

  consumer.Close();
  const kafka::ConsumeStats consume_stats = consumer.Stats();
  spdlog::info(
      "worker stopped: batches={} inserted={} duplicates={} skipped={} dead_lettered={} offset_resets={} "
      "prefetch_refills={} grouping_memo_hits={} grouping_memo_misses={}",
      totals_.batches, totals_.inserted, totals_.duplicates, totals_.skipped, totals_.dead_lettered,
      consume_stats.offset_resets, consume_stats.prefetch_refills, grouping_memo_.Hits(), grouping_memo_.Misses());
  return 0;
}

void Pipeline::ConsumeLoop(Handover& handover, kafka::Consumer& consumer, const std::atomic<bool>& stop) {
  // Its own connection: the writer's is inside a transaction while this thread processes.
  std::unique_ptr<pqxx::connection> connection;
  while (!stop.load()) {
    std::vector<kafka::Record> records = consumer.ConsumeBatch(config_.batch_size, config_.batch_wait);
    const kafka::ConsumeStats consume_stats = consumer.Stats();
    offset_resets_.store(consume_stats.offset_resets);
    prefetch_refills_.store(consume_stats.prefetch_refills);
    if (records.empty()) continue;
    PendingBatch pending;
    pending.consumed = std::chrono::steady_clock::now();
    pending.messages = records.size();
    pending.offsets = kafka::NextOffsetsOf(records);

    // Processing reads the projects' settings from the database; a failure there is retried like a
    // write, and only a stop request during an outage leaves the batch unwritten (uncommitted, so
    // the group delivers it again).
    auto backoff = std::chrono::milliseconds(100);
    bool processed = false;
    for (bool first_attempt = true; !processed && (first_attempt || !stop.load()); first_attempt = false) {
      try {
        if (!connection || !connection->is_open()) connection = db::Connect(config_.database);
        const SettingsLookup settings = [this, &connection](std::int64_t project_id) -> const ProjectSettings& {
          return settings_.Get(*connection, project_id);
        };
        pending.skipped = 0;
        const std::uint64_t hits = grouping_memo_.Hits();
        const std::uint64_t misses = grouping_memo_.Misses();
        pending.write = ProcessBatch(records, settings, grouping_memo_, pending.skipped);
        metrics_.grouping_memo.With({"hit"}).Inc(grouping_memo_.Hits() - hits);
        metrics_.grouping_memo.With({"miss"}).Inc(grouping_memo_.Misses() - misses);
        // A full batch means a backlog: its tag deltas wait for the next timed fold, which sums
        // many batches' (see FoldTagDeltas). Otherwise the batch folds them itself.
        pending.write.fold_tags = records.size() < config_.batch_size;
        processed = true;
      } catch (const std::exception& e) {
        spdlog::warn("reading project settings failed ({}); retrying in {} ms", e.what(), backoff.count());
        metrics_.database_retries.Inc();
        connection.reset();
        SleepUnlessStopped(backoff, stop);
        backoff = std::min(backoff * 2, config_.max_db_backoff);
      }
    }
    records.clear();  // everything the write needs was copied out
    if (!processed || !handover.Put(std::move(pending))) break;
  }
}

void Pipeline::WriteLoop(Handover& handover, kafka::Consumer& consumer, const std::atomic<bool>& stop) {
  std::unique_ptr<pqxx::connection> connection;
  const auto open = [&]() -> pqxx::connection& {
    if (!connection || !connection->is_open()) {
      connection = db::Connect(config_.database);
      PrepareStatements(*connection);
    }
    return *connection;
  };
  // After any batch, the pending tag deltas (left by full batches, skipped because a merge held
  // them, or a failed fold's) are folded once a fold interval has passed since the last fold, and
  // when the worker goes idle or stops, so none wait much longer than that. True at start: a
  // worker killed between a full batch and its fold leaves deltas nothing else would fold on a
  // quiet installation.
  bool unfolded = true;
  auto last_fold = std::chrono::steady_clock::now();
  const auto fold = [&] {
    try {
      const TagFold result = FoldTagDeltas(open());
      metrics_.tag_deltas_folded.With({"timed"}).Inc(result.folded);
      unfolded = result.pending;
    } catch (const std::exception& e) {
      // The deltas stay in their table: the next fold, this worker's or another's, takes them.
      spdlog::warn("folding tag deltas failed ({}); retrying with the next batch", e.what());
      metrics_.tag_fold_failures.Inc();
      connection.reset();
    }
    last_fold = std::chrono::steady_clock::now();
  };
  while (true) {
    bool finished = false;
    std::optional<PendingBatch> pending = handover.Take(config_.tag_fold_interval, finished);
    if (!pending) {
      if (unfolded) fold();
      if (finished) return;
      continue;
    }
    // Retry until the batch is durable. A stop request still lets the batch be written once; only
    // a failing database makes the writer leave without committing offsets (and without writing
    // the batches after it), and then the group delivers them again and the idempotent writes
    // absorb the replay.
    auto backoff = std::chrono::milliseconds(100);
    bool written = false;
    BatchResult result;
    for (bool first_attempt = true; !written && (first_attempt || !stop.load()); first_attempt = false) {
      try {
        result = WriteBatch(open(), pending->write);
        written = true;
      } catch (const pqxx::in_doubt_error& e) {
        // The commit may or may not have happened; replaying is safe either way.
        spdlog::warn("database commit in doubt ({}); retrying the batch", e.what());
        connection.reset();
      } catch (const std::exception& e) {
        spdlog::warn("database write failed ({}); retrying in {} ms", e.what(), backoff.count());
        metrics_.database_retries.Inc();
        connection.reset();
        SleepUnlessStopped(backoff, stop);
        backoff = std::min(backoff * 2, config_.max_db_backoff);
      }
    }
    if (!written) {
      handover.GiveUp();
      return;
    }

    if (config_.kill_after_db_commits > 0 && totals_.batches + 1 == config_.kill_after_db_commits) {
      spdlog::warn(
          "test hook: killing the worker after the database commit of a batch of {} events, before its "
          "offsets are committed",
          result.inserted + result.duplicates);
      std::raise(SIGKILL);
    }
    consumer.Commit(pending->offsets);
    handover.Done();
    // A batch that folded may still have left rows (held by a merge, or more than one chunk):
    // the next timed fold, within a fold interval, looks.
    if (pending->write.fold_tags && !result.tag_fold_failed && !result.tag_deltas_left) {
      last_fold = std::chrono::steady_clock::now();
    }
    unfolded = true;
    if (result.tag_fold_failed) metrics_.tag_fold_failures.Inc();
    metrics_.tag_deltas_folded.With({"batch"}).Inc(result.tag_deltas_folded);
    if (unfolded && std::chrono::steady_clock::now() - last_fold >= config_.tag_fold_interval) fold();
    metrics_.batch_seconds.Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - pending->consumed).count());
    metrics_.batches.Inc();
    metrics_.events.With({"inserted"}).Inc(result.inserted);
    metrics_.events.With({"duplicate"}).Inc(result.duplicates);
    metrics_.events.With({"skipped"}).Inc(pending->skipped);
    metrics_.events.With({"dead_lettered"}).Inc(result.dead_lettered);
    metrics_.transitions.With({"new"}).Inc(result.new_issues);
    metrics_.transitions.With({"regression"}).Inc(result.regressions);
    metrics_.transitions.With({"resurfaced"}).Inc(result.resurfaced);
    ++totals_.batches;
    totals_.inserted += result.inserted;
    totals_.duplicates += result.duplicates;
    totals_.skipped += pending->skipped;
    totals_.dead_lettered += result.dead_lettered;
    spdlog::info("batch committed: messages={} inserted={} duplicates={} new_issues={} dead_lettered={}",
                 pending->messages, result.inserted, result.duplicates, result.new_issues, result.dead_lettered);
  }
}

}  // namespace rookery::worker
