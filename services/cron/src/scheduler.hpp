// cron's scheduler: a heartbeat proving the database is reachable, retention (retention.hpp)
// every interval, and alerts (alerts.hpp) every poll by the one replica that holds the alert
// leader lock; plus /healthz and /metrics over HTTP.
#pragma once

#include <atomic>
#include <chrono>

#include "alerts.hpp"
#include "retention.hpp"
#include "rookery/db/connection.hpp"
#include "rookery/http/server.hpp"

namespace rookery::cron {

struct CronConfig {
  db::DatabaseConfig database;
  http::ServerOptions http;  // port 0 (tests): any free port
  std::chrono::seconds heartbeat_interval{60};
  std::chrono::seconds retention_interval{3600};  // first run right after start
  RetentionOptions retention;
  AlertConfig alerts;
  std::chrono::milliseconds alert_poll{1000};
  std::chrono::seconds leader_retry{5};  // how often a standby replica asks for the leader lock
};

CronConfig CronConfigFromEnv();

/// Runs the schedule until `stop`; returns the exit code.
int RunCron(const CronConfig& config, const std::atomic<bool>& stop);

}  // namespace rookery::cron
