#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>

#include "retention.hpp"
#include "rookery/core/env.hpp"
#include "scheduler.hpp"

using namespace rookery::cron;
using namespace std::chrono;

TEST_CASE("events partition names round-trip their day", "[unit][cron][retention]") {
  const sys_days day = year(2024) / February / 29;
  CHECK(EventsPartitionName(day) == "events_20240229");
  CHECK(IsoDay(day) == "2024-02-29");
  CHECK(EventsPartitionDay("events_20240229") == day);
  CHECK(EventsPartitionName(sys_days(year(1999) / December / 31)) == "events_19991231");
}

TEST_CASE("only well-formed partition names of real days are recognised", "[unit][cron][retention]") {
  // Anything else attached to `events` (or a hand-made table) must never be dropped by name.
  CHECK_FALSE(EventsPartitionDay("events_20230229").has_value());  // not a leap year
  CHECK_FALSE(EventsPartitionDay("events_20241301").has_value());
  CHECK_FALSE(EventsPartitionDay("events_20240100").has_value());
  CHECK_FALSE(EventsPartitionDay("events_2024011").has_value());
  CHECK_FALSE(EventsPartitionDay("events_202401011").has_value());
  CHECK_FALSE(EventsPartitionDay("events_2024-1-01").has_value());
  CHECK_FALSE(EventsPartitionDay("events_default").has_value());
  CHECK_FALSE(EventsPartitionDay("events_unpartitioned").has_value());
  CHECK_FALSE(EventsPartitionDay("xevents_20240101").has_value());
  CHECK_FALSE(EventsPartitionDay("").has_value());
}

TEST_CASE("the retention cutoff is the first UTC day kept", "[unit][cron][retention]") {
  // 2024-03-10T23:59:59Z with 7 days: 2024-03-03 is kept whole, 2024-03-02 has expired.
  const auto late = sys_days(year(2024) / March / 10) + hours(23) + minutes(59) + seconds(59);
  CHECK(RetentionCutoff(late, 7) == sys_days(year(2024) / March / 3));
  const auto midnight = sys_days(year(2024) / March / 10);
  CHECK(RetentionCutoff(midnight, 7) == sys_days(year(2024) / March / 3));
  CHECK(RetentionCutoff(midnight, 90) == sys_days(year(2023) / December / 11));
}

TEST_CASE("retention batch size from the environment", "[unit][cron][retention]") {
  ::unsetenv("ROOKERY_CRON_RETENTION_BATCH_SIZE");
  CHECK(RetentionOptionsFromEnv().batch_size == 5000);
  CHECK(RetentionOptionsFromEnv().issue_batch_size == 500);
  ::setenv("ROOKERY_CRON_RETENTION_BATCH_SIZE", "7", 1);
  CHECK(RetentionOptionsFromEnv().batch_size == 7);
  CHECK(RetentionOptionsFromEnv().issue_batch_size == 1);
  ::setenv("ROOKERY_CRON_RETENTION_BATCH_SIZE", "0", 1);
  CHECK_THROWS_AS(RetentionOptionsFromEnv(), rookery::ConfigError);
  ::unsetenv("ROOKERY_CRON_RETENTION_BATCH_SIZE");
}

TEST_CASE("retention interval from the environment", "[unit][cron][retention]") {
  ::unsetenv("ROOKERY_CRON_RETENTION_INTERVAL_SECONDS");
  CHECK(CronConfigFromEnv().retention_interval == hours(1));
  ::setenv("ROOKERY_CRON_RETENTION_INTERVAL_SECONDS", "90", 1);
  CHECK(CronConfigFromEnv().retention_interval == seconds(90));
  ::setenv("ROOKERY_CRON_RETENTION_INTERVAL_SECONDS", "0", 1);
  CHECK_THROWS_AS(CronConfigFromEnv(), rookery::ConfigError);
  ::unsetenv("ROOKERY_CRON_RETENTION_INTERVAL_SECONDS");
}

TEST_CASE("the report says what was removed", "[unit][cron][retention]") {
  RetentionReport report;
  report.longest_retention_days = 90;
  report.partitions_dropped = 2;
  report.dropped_partitions = {"events_20240101", "events_20240102"};
  report.events_deleted = 12;
  CHECK(report.RemovedAnything());
  CHECK(DescribeReport(report) ==
        "retention done: longest retention 90 days; partitions created=0 dropped=2 (events_20240101, "
        "events_20240102) events_deleted=12 issues_deleted=0 hourly_counts_deleted=0 dead_letters_deleted=0");
  CHECK_FALSE(RetentionReport{}.RemovedAnything());
  RetentionReport skipped;
  skipped.skipped = true;
  CHECK(DescribeReport(skipped).find("another process") != std::string::npos);
}
