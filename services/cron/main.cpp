// rookery-cron: scheduled jobs (retention, alert digests). All logic lives in cron_core.
//   rookery-cron                   run the schedule until SIGTERM
//   rookery-cron run retention     one retention pass now; exit 0 when it completed (or another
//                                  process was already running it), 1 on failure
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <string_view>

#include "retention.hpp"
#include "rookery/log/log.hpp"
#include "scheduler.hpp"

namespace {
std::atomic<bool> g_stop{false};
void RequestStop(int) {
  g_stop.store(true);
}

int Usage() {
  std::cerr << "usage: rookery-cron [run retention]\n";
  return 2;
}

int RunOnce(std::string_view job) {
  if (job != "retention") return Usage();
  try {
    rookery::log::Init("cron");
    std::signal(SIGTERM, RequestStop);
    std::signal(SIGINT, RequestStop);
    auto options = rookery::cron::RetentionOptionsFromEnv();
    options.stop = &g_stop;
    auto connection = rookery::db::Connect(rookery::db::DatabaseConfigFromEnv());
    const auto report = rookery::cron::RunRetention(*connection, options);
    if (report.interrupted) {
      spdlog::error("retention interrupted by a signal; the next run continues");
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    spdlog::critical("retention failed: {}", e.what());
    return 1;
  }
}
}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string_view(argv[1]) == "run") return RunOnce(argv[2]);
  if (argc != 1) return Usage();
  try {
    rookery::log::Init("cron");
    std::signal(SIGTERM, RequestStop);
    std::signal(SIGINT, RequestStop);
    return rookery::cron::RunCron(rookery::cron::CronConfigFromEnv(), g_stop);
  } catch (const std::exception& e) {
    spdlog::critical("cron failed to start: {}", e.what());
    return 1;
  }
}
