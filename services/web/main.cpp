// rookery-web: the REST API (and, later, the web UI). All logic lives in web_core.
#include <spdlog/spdlog.h>

#include "app.hpp"
#include "config.hpp"
#include "rookery/log/log.hpp"

int main() {
  try {
    rookery::log::Init("web");
    const auto config = rookery::web::WebConfigFromEnv();
    return rookery::web::RunWeb(config);
  } catch (const std::exception& e) {
    spdlog::critical("web failed to start: {}", e.what());
    return 1;
  }
}
