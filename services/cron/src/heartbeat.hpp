// cron's scheduler loop: a heartbeat that proves the database is reachable and says so, and
// retention (retention.hpp) every interval. Alert digests arrive with the cron issue.
#pragma once

#include <atomic>
#include <chrono>

#include "retention.hpp"
#include "rookery/db/connection.hpp"

namespace rookery::cron {

struct CronConfig {
  db::DatabaseConfig database;
  std::chrono::seconds heartbeat_interval{60};
  std::chrono::seconds retention_interval{3600};  // first run right after start
  RetentionOptions retention;
};

CronConfig CronConfigFromEnv();

/// Logs a heartbeat (with database reachability) every interval until `stop`; returns the exit code.
int RunCron(const CronConfig& config, const std::atomic<bool>& stop);

}  // namespace rookery::cron
