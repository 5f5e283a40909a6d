// Persists a batch of processed events in one PostgreSQL transaction, idempotently: an event
// already stored (same project and event id) changes nothing, so Kafka replays never double-count.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <pqxx/connection>

#include "event_processor.hpp"

namespace rookery::worker {

struct DeadLetterRecord {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::string reason;
  std::string payload;  // scrubbed (dead_letter.hpp), never the message as it came
};

struct BatchWrite {
  std::vector<ProcessedEvent> events;
  std::vector<DeadLetterRecord> dead_letters;
  /// Fold the pending tag deltas (this batch's and any left by others) into the tag counts in the
  /// batch's own transaction, so they are exact at its commit. The pipeline clears it for a full
  /// batch: under load, deltas are folded once a second instead (FoldTagDeltas).
  bool fold_tags = true;
};

struct BatchResult {
  std::size_t inserted = 0;    // new events
  std::size_t duplicates = 0;  // already stored: replays
  std::size_t new_issues = 0;
  std::size_t regressions = 0;
  std::size_t resurfaced = 0;
  std::size_t dead_lettered = 0;
  std::size_t tag_deltas_folded = 0;  // issue_tag_deltas rows summed into issue_tag_values
  bool tag_fold_failed = false;       // the batch's fold failed: its deltas wait for the next
  bool tag_deltas_left = false;       // more were pending than one fold takes
};

/// Renders the event's row for the COPY into `events` (binary format, every column but the issue id,
/// which is known only once the batch's issues are found) into `processed.copy_row`. The pipeline
/// calls it on the consuming thread so the writer, which the database waits on, only appends the
/// issue id; WriteBatch renders rows still missing.
void RenderEventRow(ProcessedEvent& processed);

struct TagFold {
  std::size_t folded = 0;  // delta rows summed
  bool pending = false;    // some are still there (held by a merge, another fold's, or too many)
};

/// Folds the pending tag deltas into issue_tag_values, a transaction per chunk; skipped if another
/// worker is folding, which takes them too. Rows a merge holds are left for the next fold.
TagFold FoldTagDeltas(pqxx::connection& connection);

/// Prepares the statements WriteBatch uses; call once per (re)connection.
void PrepareStatements(pqxx::connection& connection);

/// One transaction for the whole batch. Throws pqxx errors: the caller retries transient ones.
/// A data error on one event (a value PostgreSQL refuses) moves that event to the dead letters
/// instead of failing the batch forever.
BatchResult WriteBatch(pqxx::connection& connection, BatchWrite& batch);

}  // namespace rookery::worker
