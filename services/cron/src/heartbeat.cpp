#include "heartbeat.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <pqxx/pqxx>
#include <thread>

#include "rookery/core/env.hpp"
#include "rookery/db/migrations.hpp"

namespace rookery::cron {

CronConfig CronConfigFromEnv() {
  CronConfig config;
  config.database = db::DatabaseConfigFromEnv();
  config.heartbeat_interval = std::chrono::seconds(EnvInt("ROOKERY_CRON_HEARTBEAT_SECONDS", 60, 1, 86400));
  config.retention_interval = std::chrono::seconds(EnvInt("ROOKERY_CRON_RETENTION_INTERVAL_SECONDS", 3600, 1, 604800));
  config.retention = RetentionOptionsFromEnv();
  return config;
}

namespace {

// A failed pass (database down, schema not migrated yet) is retried sooner than the interval.
constexpr std::chrono::seconds kRetentionRetry{60};

// A connection of its own per pass: the advisory lock and prepared statements live with it, and
// the heartbeat's connection stays free.
bool RunScheduledRetention(const CronConfig& config, const std::atomic<bool>& stop) {
  try {
    auto connection = db::Connect(config.database);
    RetentionOptions options = config.retention;
    options.stop = &stop;
    RunRetention(*connection, options);
    return true;
  } catch (const std::exception& e) {
    spdlog::warn("retention failed (retried in {} s): {}", kRetentionRetry.count(), e.what());
    return false;
  }
}

}  // namespace

int RunCron(const CronConfig& config, const std::atomic<bool>& stop) {
  spdlog::info("cron started; heartbeat every {} s, retention every {} s", config.heartbeat_interval.count(),
               config.retention_interval.count());
  std::unique_ptr<pqxx::connection> connection;
  auto next = std::chrono::steady_clock::now();
  auto next_retention = next;
  while (!stop.load()) {
    if (std::chrono::steady_clock::now() >= next) {
      try {
        if (!connection || !connection->is_open()) connection = db::Connect(config.database);
        spdlog::info("heartbeat: database reachable, schema version {}", db::SchemaVersion(*connection));
      } catch (const std::exception& e) {
        connection.reset();
        spdlog::warn("heartbeat: database unreachable: {}", e.what());
      }
      next += config.heartbeat_interval;
    }
    if (!stop.load() && std::chrono::steady_clock::now() >= next_retention) {
      const bool done = RunScheduledRetention(config, stop);
      next_retention = std::chrono::steady_clock::now() +
                       (done ? config.retention_interval : std::min(config.retention_interval, kRetentionRetry));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  spdlog::info("cron stopped");
  return 0;
}

}  // namespace rookery::cron
