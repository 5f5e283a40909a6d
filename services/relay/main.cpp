// rookery-relay: the HTTP ingest door for Sentry SDKs. All logic lives in relay_core.
#include <spdlog/spdlog.h>

#include "app.hpp"
#include "config.hpp"
#include "rookery/log/log.hpp"

int main() {
  try {
    rookery::log::Init("relay");
    const auto config = rookery::relay::RelayConfigFromEnv();
    return rookery::relay::RunRelay(config);
  } catch (const std::exception& e) {
    spdlog::critical("relay failed to start: {}", e.what());
    return 1;
  }
}
