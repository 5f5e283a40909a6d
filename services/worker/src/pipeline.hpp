// The worker loop: consume a batch → process → one database transaction → commit offsets, on two
// threads: while the writer stores batch N and commits its offsets, the consuming thread consumes
// and processes batch N+1 (and then waits: at most one batch waits for the writer). Offsets are
// committed only after the database commit, batch by batch in order (at-least-once); writes are
// idempotent (exactly-once effect). Database outages are retried with backoff and never skip a
// batch.
#pragma once

#include <atomic>
#include <cstdint>

#include "config.hpp"
#include "rookery/metrics/metrics.hpp"
#include "rules_cache.hpp"

namespace rookery::worker {

struct PipelineTotals {
  std::uint64_t batches = 0;
  std::uint64_t inserted = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t skipped = 0;
  std::uint64_t dead_lettered = 0;
};

// What /metrics shows of the worker.
struct WorkerMetrics {
  explicit WorkerMetrics(metrics::Registry& registry);
  metrics::Family<metrics::Counter>& events;  // by outcome: inserted, duplicate, skipped, dead_lettered
  metrics::Counter& batches;
  metrics::Counter& database_retries;
  metrics::Family<metrics::Counter>& transitions;        // new, regression, resurfaced
  metrics::Family<metrics::Counter>& tag_deltas_folded;  // by when: batch, timed
  metrics::Counter& tag_fold_failures;
  metrics::Family<metrics::Counter>& grouping_memo;  // by result: hit, miss
  metrics::Histogram& batch_seconds;
};

class Handover;  // pipeline.cpp: the one-batch hand-over between the two threads

class Pipeline {
 public:
  explicit Pipeline(WorkerConfig config, metrics::Registry& registry);
  /// Runs until `stop` becomes true; the batch in hand is finished and committed first.
  /// Returns the process exit code.
  int Run(const std::atomic<bool>& stop);
  const PipelineTotals& Totals() const { return totals_; }

 private:
  // The calling thread: consume, process, hand over. Returns on stop or once the writer gave up.
  void ConsumeLoop(Handover& handover, kafka::Consumer& consumer, const std::atomic<bool>& stop);
  // The writer thread: write each batch handed over, then commit its offsets.
  void WriteLoop(Handover& handover, kafka::Consumer& consumer, const std::atomic<bool>& stop);

  WorkerConfig config_;
  PipelineTotals totals_;                 // the writer's; read once Run has returned
  RulesCache settings_;                   // the consuming thread's
  grouping::GroupingMemo grouping_memo_;  // the consuming thread's
  WorkerMetrics metrics_;
  std::atomic<std::uint64_t> offset_resets_{0};
  std::atomic<std::uint64_t> prefetch_refills_{0};
};

}  // namespace rookery::worker
