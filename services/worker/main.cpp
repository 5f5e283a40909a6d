// rookery-worker: a consumer-group member that turns raw events into issues. Run more processes
// to scale; all logic lives in worker_core.
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>

#include "config.hpp"
#include "pipeline.hpp"
#include "rookery/log/log.hpp"

namespace {
std::atomic<bool> g_stop{false};
void RequestStop(int) {
  g_stop.store(true);
}
}  // namespace

int main() {
  try {
    rookery::log::Init("worker");
    std::signal(SIGTERM, RequestStop);
    std::signal(SIGINT, RequestStop);
    rookery::worker::Pipeline pipeline(rookery::worker::WorkerConfigFromEnv());
    return pipeline.Run(g_stop);
  } catch (const std::exception& e) {
    spdlog::critical("worker failed: {}", e.what());
    return 1;
  }
}
