#include "pipeline.hpp"

#include <spdlog/spdlog.h>

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

BatchWrite ProcessBatch(const std::vector<kafka::Record>& records, const SettingsLookup& settings,
                        std::uint64_t& skipped) {
  BatchWrite batch;
  for (const auto& record : records) {
    const auto contract = record.Header(std::string(protocol::kContractHeader));
    ProcessResult result = ProcessRecord(record.Value(), contract.value_or(""), settings);
    if (auto* processed = std::get_if<ProcessedEvent>(&result)) {
      processed->topic = record.Topic();
      processed->partition = record.Partition();
      processed->offset = record.Offset();
      batch.events.push_back(std::move(*processed));
    } else if (auto* skip = std::get_if<Skipped>(&result)) {
      ++skipped;
      spdlog::debug("skipped {}[{}]@{}: {}", record.Topic(), record.Partition(), record.Offset(), skip->reason);
    } else {
      const auto& dead = std::get<DeadLetter>(result);
      spdlog::warn("dead-lettering {}[{}]@{}: {}", record.Topic(), record.Partition(), record.Offset(), dead.reason);
      batch.dead_letters.push_back(DeadLetterRecord{record.Topic(), record.Partition(), record.Offset(), dead.reason,
                                                    std::string(record.Value())});
    }
  }
  return batch;
}

}  // namespace

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
      batch_seconds(
          registry.AddHistogram("rookery_worker_batch_seconds", "Processing and writing one batch").With({})) {}

Pipeline::Pipeline(WorkerConfig config, metrics::Registry& registry) : config_(std::move(config)), metrics_(registry) {
  // Resets are data the group never saw (the broker dropped it before it was consumed): loss.
  registry.AddGauge("rookery_worker_offset_resets", "Partition offset resets since start (events lost)",
                    [this] { return static_cast<double>(offset_resets_.load()); });
}

int Pipeline::Run(const std::atomic<bool>& stop) {
  kafka::Consumer consumer(config_.kafka, config_.consumer, {config_.topic});

  std::unique_ptr<pqxx::connection> connection;
  spdlog::info("worker consuming {} as group {} (batches of up to {} / {} ms)", config_.topic,
               config_.consumer.group_id, config_.batch_size, config_.batch_wait.count());

  while (!stop.load()) {
    std::vector<kafka::Record> records = consumer.ConsumeBatch(config_.batch_size, config_.batch_wait);
    offset_resets_.store(consumer.Stats().offset_resets);
    if (records.empty()) continue;

    // Retry until the batch is durable. A stop request still lets the batch in hand be written
    // once; only a failing database makes it leave without committing offsets, and then the next
    // worker gets the batch again and the idempotent writes absorb the replay.
    const auto batch_started = std::chrono::steady_clock::now();
    auto backoff = std::chrono::milliseconds(100);
    bool written = false;
    BatchResult result;
    for (bool first_attempt = true; !written && (first_attempt || !stop.load()); first_attempt = false) {
      try {
        if (!connection || !connection->is_open()) {
          connection = db::Connect(config_.database);
          PrepareStatements(*connection);
        }
        // Processed inside the retry: processing needs the projects' settings from the database.
        std::uint64_t skipped = 0;
        const SettingsLookup settings = [this, &connection](std::int64_t project_id) -> const ProjectSettings& {
          return settings_.Get(*connection, project_id);
        };
        BatchWrite batch = ProcessBatch(records, settings, skipped);
        result = WriteBatch(*connection, batch);
        totals_.skipped += skipped;
        metrics_.events.With({"skipped"}).Inc(skipped);
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
    if (!written) break;

    consumer.Commit(records);
    metrics_.batch_seconds.Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - batch_started).count());
    metrics_.batches.Inc();
    metrics_.events.With({"inserted"}).Inc(result.inserted);
    metrics_.events.With({"duplicate"}).Inc(result.duplicates);
    metrics_.events.With({"dead_lettered"}).Inc(result.dead_lettered);
    metrics_.transitions.With({"new"}).Inc(result.new_issues);
    metrics_.transitions.With({"regression"}).Inc(result.regressions);
    metrics_.transitions.With({"resurfaced"}).Inc(result.resurfaced);
    ++totals_.batches;
    totals_.inserted += result.inserted;
    totals_.duplicates += result.duplicates;
    totals_.dead_lettered += result.dead_lettered;
    spdlog::info("batch committed: messages={} inserted={} duplicates={} new_issues={} dead_lettered={}",
                 records.size(), result.inserted, result.duplicates, result.new_issues, result.dead_lettered);
  }
  consumer.Close();
  spdlog::info("worker stopped: batches={} inserted={} duplicates={} skipped={} dead_lettered={} offset_resets={}",
               totals_.batches, totals_.inserted, totals_.duplicates, totals_.skipped, totals_.dead_lettered,
               consumer.Stats().offset_resets);
  return 0;
}

}  // namespace rookery::worker
