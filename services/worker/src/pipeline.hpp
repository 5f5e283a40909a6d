// The worker loop: consume a batch → process → one database transaction → commit offsets.
// Offsets are committed only after the database commit (at-least-once); writes are idempotent
// (exactly-once effect). Database outages are retried with backoff and never skip a batch.
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
  metrics::Family<metrics::Counter>& transitions;  // new, regression, resurfaced
  metrics::Histogram& batch_seconds;
};

class Pipeline {
 public:
  explicit Pipeline(WorkerConfig config, metrics::Registry& registry);
  /// Runs until `stop` becomes true; the batch in hand is finished and committed first.
  /// Returns the process exit code.
  int Run(const std::atomic<bool>& stop);
  const PipelineTotals& Totals() const { return totals_; }

 private:
  WorkerConfig config_;
  PipelineTotals totals_;
  RulesCache settings_;
  WorkerMetrics metrics_;
  std::atomic<std::uint64_t> offset_resets_{0};
};

}  // namespace rookery::worker
