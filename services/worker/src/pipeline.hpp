// The worker loop: consume a batch → process → one database transaction → commit offsets.
// Offsets are committed only after the database commit (at-least-once); writes are idempotent
// (exactly-once effect). Database outages are retried with backoff and never skip a batch.
#pragma once

#include <atomic>
#include <cstdint>

#include "config.hpp"
#include "rules_cache.hpp"

namespace rookery::worker {

struct PipelineTotals {
  std::uint64_t batches = 0;
  std::uint64_t inserted = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t skipped = 0;
  std::uint64_t dead_lettered = 0;
};

class Pipeline {
 public:
  explicit Pipeline(WorkerConfig config);
  /// Runs until `stop` becomes true; the batch in hand is finished and committed first.
  /// Returns the process exit code.
  int Run(const std::atomic<bool>& stop);
  const PipelineTotals& Totals() const { return totals_; }

 private:
  WorkerConfig config_;
  PipelineTotals totals_;
  RulesCache settings_;
};

}  // namespace rookery::worker
