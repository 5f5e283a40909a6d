#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "rookery/core/env.hpp"
#include "scheduler.hpp"

using namespace rookery::cron;

TEST_CASE("cron configuration", "[unit][cron]") {
  ::setenv("ROOKERY_CRON_HEARTBEAT_SECONDS", "5", 1);
  CHECK(CronConfigFromEnv().heartbeat_interval == std::chrono::seconds(5));
  ::setenv("ROOKERY_CRON_HEARTBEAT_SECONDS", "0", 1);
  CHECK_THROWS_AS(CronConfigFromEnv(), rookery::ConfigError);
  ::unsetenv("ROOKERY_CRON_HEARTBEAT_SECONDS");
  CHECK(CronConfigFromEnv().heartbeat_interval == std::chrono::seconds(60));
}

TEST_CASE("cron stops promptly when asked, even with no database", "[unit][cron]") {
  CronConfig config;
  config.database.url = "postgresql://nobody@127.0.0.1:1/none";  // nothing listens on port 1
  config.database.connect_timeout = std::chrono::seconds(1);
  std::atomic<bool> stop{false};
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    stop.store(true);
  });
  const auto started = std::chrono::steady_clock::now();
  CHECK(RunCron(config, stop) == 0);
  stopper.join();
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(3));
}
