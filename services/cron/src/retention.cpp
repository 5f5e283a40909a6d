#include "retention.hpp"

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <pqxx/pqxx>

#include "rookery/core/env.hpp"

namespace rookery::cron {
namespace {

// Distinct from the migrations lock (libs/db/src/migrations.cpp): retention may run while another
// process migrates, but two cron replicas must not both walk the same partitions and batches.
constexpr long long kRetentionLockKey = 0x526f6f6b526574;  // "RookRet"

// Dropping a partition briefly takes an exclusive lock on `events`; waiting longer than this
// would stall the worker's inserts and the API's reads queued behind it, so give up and retry
// at the next run instead.
constexpr const char* kDropLockTimeout = "5s";

constexpr const char* kTryLock = "retention_try_lock";
constexpr const char* kUnlock = "retention_unlock";
constexpr const char* kEnsurePartition = "retention_ensure_partition";
constexpr const char* kLongestRetention = "retention_longest";
constexpr const char* kProjects = "retention_projects";
constexpr const char* kPartitions = "retention_partitions";
constexpr const char* kDeleteEvents = "retention_delete_events";
constexpr const char* kDeleteHourlyCounts = "retention_delete_hourly_counts";
constexpr const char* kDeleteIssues = "retention_delete_issues";
constexpr const char* kDeleteDeadLetters = "retention_delete_dead_letters";

void PrepareStatements(pqxx::connection& connection) {
  connection.prepare(kTryLock, "SELECT pg_try_advisory_lock($1)");
  connection.prepare(kUnlock, "SELECT pg_advisory_unlock($1)");
  connection.prepare(kEnsurePartition, "SELECT rookery_ensure_events_partition($1::date)");
  connection.prepare(kLongestRetention,
                     "SELECT max(coalesce(p.retention_days, o.retention_days)) FROM projects p "
                     "JOIN organizations o ON o.id = p.organization_id");
  connection.prepare(kProjects,
                     "SELECT p.id, coalesce(p.retention_days, o.retention_days) FROM projects p "
                     "JOIN organizations o ON o.id = p.organization_id ORDER BY p.id");
  // Attached partitions only: a partition named like ours but hanging elsewhere is not ours to drop.
  connection.prepare(kPartitions,
                     "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                     "WHERE i.inhparent = to_regclass('events') ORDER BY c.relname");
  // One day (so one partition) per statement, walking the primary key from a cursor: each batch
  // costs its own rows, not a rescan of the rows deleted before it. The outer `day = $2` prunes
  // the DELETE to that day's partition, where the subquery's ctids belong.
  connection.prepare(kDeleteEvents,
                     "DELETE FROM events WHERE project_id = $1 AND day = $2::date AND ctid = ANY(ARRAY("
                     "SELECT ctid FROM events WHERE project_id = $1 AND day = $2::date AND event_id > $3::uuid "
                     "ORDER BY event_id LIMIT $4)) RETURNING event_id::text");
  connection.prepare(kDeleteHourlyCounts,
                     "DELETE FROM issue_hourly_counts WHERE ctid = ANY(ARRAY("
                     "SELECT ctid FROM issue_hourly_counts WHERE project_id = $1 AND hour < $2::timestamptz "
                     "LIMIT $3))");
  // On an issue a worker updated meanwhile, PostgreSQL re-checks `last_seen` against the new row
  // version: an issue that just received an event survives.
  connection.prepare(kDeleteIssues,
                     "DELETE FROM issues WHERE ctid = ANY(ARRAY("
                     "SELECT ctid FROM issues WHERE project_id = $1 AND last_seen < $2::timestamptz "
                     "ORDER BY last_seen LIMIT $3)) AND last_seen < $2::timestamptz");
  connection.prepare(kDeleteDeadLetters,
                     "DELETE FROM dead_letters WHERE id IN ("
                     "SELECT id FROM dead_letters WHERE created_at < $1::timestamptz ORDER BY id LIMIT $2)");
}

std::string Midnight(std::chrono::sys_days day) {
  return IsoDay(day) + "T00:00:00Z";
}

bool Stopping(const RetentionOptions& options) {
  return options.stop != nullptr && options.stop->load();
}

// Repeats a bounded DELETE, one transaction per batch, until a batch comes back short.
template <class... Args>
std::int64_t DeleteInBatches(pqxx::connection& connection, const RetentionOptions& options, RetentionReport& report,
                             const char* statement, std::int64_t limit, const Args&... args) {
  std::int64_t total = 0;
  while (true) {
    if (Stopping(options)) {
      report.interrupted = true;
      return total;
    }
    pqxx::work tx(connection);
    const auto deleted = static_cast<std::int64_t>(tx.exec_prepared(statement, args..., limit).affected_rows());
    tx.commit();
    total += deleted;
    if (deleted < limit) return total;
  }
}

// Holds the session-level advisory lock for one pass; a broken connection releases it anyway.
class RetentionLock {
 public:
  explicit RetentionLock(pqxx::connection& connection) : connection_(connection) {
    pqxx::nontransaction tx(connection_);
    held_ = tx.exec_prepared1(kTryLock, kRetentionLockKey)[0].as<bool>();
  }
  ~RetentionLock() {
    if (!held_) return;
    try {
      pqxx::nontransaction tx(connection_);
      tx.exec_prepared(kUnlock, kRetentionLockKey);
    } catch (const std::exception& e) {
      spdlog::warn("retention: could not release the retention lock ({}); it goes with the session", e.what());
    }
  }
  RetentionLock(const RetentionLock&) = delete;
  RetentionLock& operator=(const RetentionLock&) = delete;

  bool Held() const { return held_; }

 private:
  pqxx::connection& connection_;
  bool held_ = false;
};

void EnsurePartitions(pqxx::connection& connection, std::chrono::sys_days today, RetentionReport& report) {
  for (const auto day : {today, today + std::chrono::days(1)}) {
    pqxx::nontransaction tx(connection);
    if (tx.exec_prepared1(kEnsurePartition, IsoDay(day))[0].as<bool>()) {
      ++report.partitions_created;
      spdlog::info("retention: created events partition {}", EventsPartitionName(day));
    }
  }
}

struct Partition {
  std::string name;
  std::chrono::sys_days day;
};

// The attached partitions named events_YYYYMMDD, by day. Anything else attached is left alone.
std::vector<Partition> DayPartitions(pqxx::connection& connection) {
  std::vector<Partition> partitions;
  pqxx::nontransaction tx(connection);
  for (const auto& row : tx.exec_prepared(kPartitions)) {
    std::string name = row[0].as<std::string>();
    if (const auto day = EventsPartitionDay(name)) partitions.push_back(Partition{std::move(name), *day});
  }
  return partitions;
}

void DropExpiredPartitions(pqxx::connection& connection, std::chrono::sys_days cutoff, const RetentionOptions& options,
                           RetentionReport& report) {
  std::vector<std::string> expired;
  for (auto& partition : DayPartitions(connection)) {
    if (partition.day < cutoff) expired.push_back(std::move(partition.name));
  }
  for (const auto& name : expired) {
    if (Stopping(options)) {
      report.interrupted = true;
      return;
    }
    try {
      pqxx::work tx(connection);
      tx.exec(std::string("SET LOCAL lock_timeout = '") + kDropLockTimeout + "'");
      // An identifier cannot be a parameter; `name` matched events_YYYYMMDD and is quoted anyway.
      tx.exec("DROP TABLE " + tx.quote_name(name));
      tx.commit();
      ++report.partitions_dropped;
      report.dropped_partitions.push_back(name);
      spdlog::info("retention: dropped events partition {}", name);
    } catch (const pqxx::sql_error& e) {
      ++report.partitions_failed;
      spdlog::warn("retention: could not drop events partition {} (retried next run): {}", name, e.what());
    }
  }
}

// One project's events of the days before `cutoff`, day by day, in batches along the key.
std::int64_t DeleteExpiredEvents(pqxx::connection& connection, const std::vector<Partition>& partitions,
                                 std::int64_t project_id, std::chrono::sys_days cutoff, const RetentionOptions& options,
                                 RetentionReport& report) {
  std::int64_t total = 0;
  for (const auto& partition : partitions) {
    if (partition.day >= cutoff) continue;
    const std::string day = IsoDay(partition.day);
    std::string after = "00000000-0000-0000-0000-000000000000";
    while (true) {
      if (Stopping(options)) {
        report.interrupted = true;
        return total;
      }
      pqxx::work tx(connection);
      const auto deleted = tx.exec_prepared(kDeleteEvents, project_id, day, after, options.batch_size);
      tx.commit();
      total += static_cast<std::int64_t>(deleted.size());
      if (static_cast<std::int64_t>(deleted.size()) < options.batch_size) break;
      // Canonical UUID text sorts as PostgreSQL orders uuids (byte by byte).
      for (const auto& row : deleted) after = std::max(after, row[0].as<std::string>());
    }
  }
  return total;
}

}  // namespace

RetentionOptions RetentionOptionsFromEnv() {
  RetentionOptions options;
  options.batch_size = EnvInt("ROOKERY_CRON_RETENTION_BATCH_SIZE", 5000, 1, 1000000);
  options.issue_batch_size = std::max<std::int64_t>(1, options.batch_size / 10);
  return options;
}

std::string IsoDay(std::chrono::sys_days day) {
  const std::chrono::year_month_day date{day};
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                     static_cast<unsigned>(date.day()));
}

std::string EventsPartitionName(std::chrono::sys_days day) {
  std::string name = "events_" + IsoDay(day);
  name.erase(std::remove(name.begin() + 7, name.end(), '-'), name.end());
  return name;
}

std::optional<std::chrono::sys_days> EventsPartitionDay(std::string_view name) {
  constexpr std::string_view kPrefix = "events_";
  if (name.size() != kPrefix.size() + 8 || name.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  const std::string_view digits = name.substr(kPrefix.size());
  for (char c : digits) {
    if (std::isdigit(static_cast<unsigned char>(c)) == 0) return std::nullopt;
  }
  const auto number = [&](std::size_t from, std::size_t count) {
    int value = 0;
    for (char c : digits.substr(from, count)) value = value * 10 + (c - '0');
    return value;
  };
  const std::chrono::year_month_day date{std::chrono::year(number(0, 4)),
                                         std::chrono::month(static_cast<unsigned>(number(4, 2))),
                                         std::chrono::day(static_cast<unsigned>(number(6, 2)))};
  if (!date.ok()) return std::nullopt;
  return std::chrono::sys_days(date);
}

std::chrono::sys_days RetentionCutoff(std::chrono::system_clock::time_point now, int retention_days) {
  return std::chrono::floor<std::chrono::days>(now) - std::chrono::days(retention_days);
}

std::string DescribeReport(const RetentionReport& report) {
  if (report.skipped) return "retention skipped: another process holds the retention lock";
  return fmt::format(
      "retention {}: longest retention {} days; partitions created={} dropped={}{}{} events_deleted={} "
      "issues_deleted={} hourly_counts_deleted={} dead_letters_deleted={}",
      report.interrupted ? "interrupted" : "done", report.longest_retention_days, report.partitions_created,
      report.partitions_dropped,
      report.dropped_partitions.empty() ? "" : fmt::format(" ({})", fmt::join(report.dropped_partitions, ", ")),
      report.partitions_failed > 0 ? fmt::format(" failed={}", report.partitions_failed) : "", report.events_deleted,
      report.issues_deleted, report.hourly_counts_deleted, report.dead_letters_deleted);
}

RetentionReport RunRetention(pqxx::connection& connection, const RetentionOptions& options) {
  PrepareStatements(connection);
  RetentionReport report;
  const RetentionLock lock(connection);
  if (!lock.Held()) {
    report.skipped = true;
    spdlog::info("{}", DescribeReport(report));
    return report;
  }
  const auto now = options.now.value_or(std::chrono::system_clock::now());
  EnsurePartitions(connection, std::chrono::floor<std::chrono::days>(now), report);

  {
    pqxx::nontransaction tx(connection);
    const auto longest = tx.exec_prepared1(kLongestRetention)[0];
    report.longest_retention_days = longest.is_null() ? kDefaultRetentionDays : longest.as<int>();
  }
  const auto longest_cutoff = RetentionCutoff(now, report.longest_retention_days);
  DropExpiredPartitions(connection, longest_cutoff, options, report);

  const std::vector<Partition> partitions = DayPartitions(connection);
  std::vector<std::pair<std::int64_t, int>> projects;
  {
    pqxx::nontransaction tx(connection);
    for (const auto& row : tx.exec_prepared(kProjects))
      projects.emplace_back(row[0].as<std::int64_t>(), row[1].as<int>());
  }
  for (const auto& [project_id, retention_days] : projects) {
    if (report.interrupted) break;
    const auto cutoff = RetentionCutoff(now, retention_days);
    const std::string cutoff_time = Midnight(cutoff);
    std::int64_t events = 0;
    // Projects keeping the longest retention lost their expired events with the partitions.
    if (retention_days < report.longest_retention_days) {
      events = DeleteExpiredEvents(connection, partitions, project_id, cutoff, options, report);
    }
    const std::int64_t hourly_counts =
        DeleteInBatches(connection, options, report, kDeleteHourlyCounts, options.batch_size, project_id, cutoff_time);
    // After the events: an issue last seen before the cutoff has no event left on a kept day.
    const std::int64_t issues =
        DeleteInBatches(connection, options, report, kDeleteIssues, options.issue_batch_size, project_id, cutoff_time);
    report.events_deleted += events;
    report.hourly_counts_deleted += hourly_counts;
    report.issues_deleted += issues;
    if (events + hourly_counts + issues > 0) {
      spdlog::info("retention: project {} ({} days, before {}): deleted events={} issues={} hourly_counts={}",
                   project_id, retention_days, IsoDay(cutoff), events, issues, hourly_counts);
    }
  }

  if (!report.interrupted) {
    report.dead_letters_deleted =
        DeleteInBatches(connection, options, report, kDeleteDeadLetters, options.batch_size, Midnight(longest_cutoff));
  }
  spdlog::info("{}", DescribeReport(report));
  return report;
}

}  // namespace rookery::cron
