#include "heartbeat.hpp"

#include <spdlog/spdlog.h>

#include <pqxx/pqxx>
#include <thread>

#include "rookery/core/env.hpp"
#include "rookery/db/migrations.hpp"

namespace rookery::cron {

CronConfig CronConfigFromEnv() {
  CronConfig config;
  config.database = db::DatabaseConfigFromEnv();
  config.heartbeat_interval = std::chrono::seconds(EnvInt("ROOKERY_CRON_HEARTBEAT_SECONDS", 60, 1, 86400));
  return config;
}

int RunCron(const CronConfig& config, const std::atomic<bool>& stop) {
  spdlog::info("cron started; heartbeat every {} s", config.heartbeat_interval.count());
  std::unique_ptr<pqxx::connection> connection;
  auto next = std::chrono::steady_clock::now();
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
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  spdlog::info("cron stopped");
  return 0;
}

}  // namespace rookery::cron
