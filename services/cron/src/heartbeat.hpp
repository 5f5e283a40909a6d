// cron's scheduler loop. For now it has one job: prove the database is reachable, and say so.
// Retention and alert digests arrive with the cron issue.
#pragma once

#include <atomic>
#include <chrono>

#include "rookery/db/connection.hpp"

namespace rookery::cron {

struct CronConfig {
  db::DatabaseConfig database;
  std::chrono::seconds heartbeat_interval{60};
};

CronConfig CronConfigFromEnv();

/// Logs a heartbeat (with database reachability) every interval until `stop`; returns the exit code.
int RunCron(const CronConfig& config, const std::atomic<bool>& stop);

}  // namespace rookery::cron
