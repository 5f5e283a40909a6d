// Retention: events are kept per project for its retention days (the organization's unless the
// project sets its own), then removed, and with them the issues whose last event has expired.
//
// Whole day partitions older than the longest retention are dropped, which gives the disk back at
// once; the rows of projects with a shorter retention are deleted in bounded batches, each in a
// transaction of its own, so no statement holds locks or bloats WAL for long. Retention is
// day-granular: on day D a project with R days keeps the events of days D - R through D.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <pqxx/connection>

namespace rookery::cron {

/// The retention of organizations created without one (the schema's default).
constexpr int kDefaultRetentionDays = 90;

struct RetentionOptions {
  /// Rows per transaction for the bounded deletes (events, hourly counts, dead letters).
  std::int64_t batch_size = 5000;
  /// Issues per transaction: each one cascades into its hashes, users, tag values and counts.
  std::int64_t issue_batch_size = 500;
  /// The clock; unset means the system clock.
  std::optional<std::chrono::system_clock::time_point> now;
  /// Checked between batches: a stopping cron leaves the rest for its next run.
  const std::atomic<bool>* stop = nullptr;
};

/// ROOKERY_CRON_RETENTION_BATCH_SIZE (rows per transaction, default 5000).
RetentionOptions RetentionOptionsFromEnv();

struct RetentionReport {
  bool skipped = false;      // another process held the retention lock
  bool interrupted = false;  // stopped between batches; the next run continues
  int longest_retention_days = 0;
  std::int64_t partitions_created = 0;
  std::int64_t partitions_dropped = 0;
  std::int64_t events_deleted = 0;  // by batched deletes; dropped partitions are not counted row by row
  std::int64_t issues_deleted = 0;
  std::int64_t hourly_counts_deleted = 0;
  std::int64_t dead_letters_deleted = 0;
  std::int64_t partitions_failed = 0;  // could not be dropped this time (lock wait ran out); retried next run
  std::vector<std::string> dropped_partitions;

  bool RemovedAnything() const {
    return partitions_dropped + events_deleted + issues_deleted + hourly_counts_deleted + dead_letters_deleted > 0;
  }
};

/// Runs one retention pass. Returns with `skipped` set when another process holds the retention
/// lock. Throws on database errors; whatever committed before stays done.
RetentionReport RunRetention(pqxx::connection& connection, const RetentionOptions& options);

/// The summary line logged after a pass (also what `rookery-cron run retention` prints).
std::string DescribeReport(const RetentionReport& report);

// Pure helpers, exposed for tests.

/// "events_20240501" for 2024-05-01.
std::string EventsPartitionName(std::chrono::sys_days day);
/// The day of a partition named "events_YYYYMMDD" holding a valid date; nullopt for any other name.
std::optional<std::chrono::sys_days> EventsPartitionDay(std::string_view name);
/// The first day kept: data of earlier (UTC) days has expired.
std::chrono::sys_days RetentionCutoff(std::chrono::system_clock::time_point now, int retention_days);
/// "2024-05-01"
std::string IsoDay(std::chrono::sys_days day);

}  // namespace rookery::cron
