// rookery-worker: a consumer-group member that turns raw events into issues. Run more processes
// to scale; all logic lives in worker_core.
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>

#include "config.hpp"
#include "pipeline.hpp"
#include "rookery/http/side_server.hpp"
#include "rookery/log/log.hpp"
#include "rookery/metrics/metrics.hpp"

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
    const auto config = rookery::worker::WorkerConfigFromEnv();
    rookery::metrics::Registry registry;
    rookery::worker::Pipeline pipeline(config, registry);
    // After the pipeline, so it stops answering before the pipeline it reports on is gone.
    rookery::http::SideServer side_server(
        config.http, [] { return std::string(R"({"status":"ok"})"); }, [&registry] { return registry.Render(); });
    spdlog::info("worker /healthz and /metrics on {}:{}", config.http.address, side_server.Port());
    return pipeline.Run(g_stop);
  } catch (const std::exception& e) {
    spdlog::critical("worker failed: {}", e.what());
    return 1;
  }
}
