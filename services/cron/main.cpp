// rookery-cron: scheduled jobs (retention, alert digests). All logic lives in cron_core.
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>

#include "heartbeat.hpp"
#include "rookery/log/log.hpp"

namespace {
std::atomic<bool> g_stop{false};
void RequestStop(int) {
  g_stop.store(true);
}
}  // namespace

int main() {
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
